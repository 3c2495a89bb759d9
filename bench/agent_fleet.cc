#include "bench/agent_fleet.h"

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bench/child_process.h"
#include "bench/measured_process.h"
#include "common/filesystem.h"

namespace certfleet::bench {
namespace {

absl::Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

AgentFleet::AgentFleet(AgentFleetOptions options)
    : options_(std::move(options)) {}

AgentFleet::~AgentFleet() { StopAll(); }

std::string AgentFleet::AgentDir(size_t index) const {
  return absl::StrCat(options_.dir, "/agent-", index);
}

absl::Status AgentFleet::WriteConfig(size_t index) {
  const std::string dir = AgentDir(index);
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat("cannot create ", dir));
  }
  std::string yaml = absl::StrCat(
      "coordinators: [\"", options_.coordinator, "\"]\n",
      "coordinator_ca: ", options_.dir, "/coordinator-ca.pem\n",
      "identity_dir: ", dir, "/identity\n", "targets:\n", "  - name: site\n",
      "    directory: ", dir, "/site\n", "    files:\n",
      "      - {path: fullchain.pem, format: fullchain}\n",
      "      - {path: privkey.pem, format: key}\n",
      "    reload: {command: [/bin/true], timeout: 10s}\n", "    grace: 0s\n");
  if (options_.health_check) {
    absl::StrAppend(&yaml,
                    "    health:\n"
                    "      - command: [/bin/true]\n"
                    "    health_timeout: 10s\n");
  }
  return WriteText(dir + "/agent.yaml", yaml);
}

absl::Status AgentFleet::Enroll(const std::vector<std::string>& tokens,
                                int parallel) {
  if (absl::Status s =
          WriteText(options_.dir + "/coordinator-ca.pem", options_.ca_pem);
      !s.ok()) {
    return s;
  }
  const size_t first = configs_.size();
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (absl::Status s = WriteConfig(first + i); !s.ok()) return s;
    configs_.push_back(AgentDir(first + i) + "/agent.yaml");
  }
  std::atomic<size_t> next{0};
  absl::Mutex mu;
  absl::Status first_error;
  auto worker = [&] {
    while (true) {
      const size_t i = next.fetch_add(1);
      if (i >= tokens.size()) return;
      const size_t index = first + i;
      const std::string dir = AgentDir(index);
      // Private to root, as enroll asks of a token file.
      if (absl::Status s = LocalFilesystem().WriteFileAtomic(dir + "/token",
                                                             tokens[i], 0600);
          !s.ok()) {
        absl::MutexLock lock(&mu);
        if (first_error.ok()) first_error = s;
        continue;
      }
      absl::StatusOr<MeasuredRun> run = RunMeasured(
          {.argv = {options_.agent_binary, "enroll", "--config",
                    configs_[index], "--token-file", dir + "/token"},
           .env = options_.env,
           .stdout_path = dir + "/enroll.out",
           .stderr_path = dir + "/enroll.err",
           .timeout = absl::Seconds(60)});
      absl::Status s = run.status();
      if (s.ok() && run->exit_code != 0) {
        s = absl::InternalError(
            absl::StrCat("agent ", index, ": enroll exited ", run->exit_code,
                         ": ", FileTail(dir + "/enroll.err", 600)));
      }
      if (!s.ok()) {
        absl::MutexLock lock(&mu);
        if (first_error.ok()) first_error = s;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, parallel); ++t) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  return first_error;
}

absl::Status AgentFleet::StartAll() {
  for (size_t i = pids_.size(); i < configs_.size(); ++i) {
    absl::StatusOr<pid_t> pid =
        SpawnChild({.argv = {options_.agent_binary, "run", "--config",
                             configs_[i], "--log-level", options_.log_level},
                    .env = options_.env,
                    .output_path = AgentDir(i) + "/agent.log"});
    if (!pid.ok()) return pid.status();
    pids_.push_back(*pid);
  }
  return absl::OkStatus();
}

int AgentFleet::StopAll() {
  const int killed = StopChildren(pids_, absl::Seconds(5));
  pids_.clear();
  return killed;
}

std::string AgentFleet::LogTail(size_t i) const {
  return FileTail(AgentDir(i) + "/agent.log", 1500);
}

}  // namespace certfleet::bench
