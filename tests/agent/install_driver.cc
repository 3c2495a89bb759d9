// A stand-in for the agent, for the crash test: loads an agent config,
// recovers every target, then installs bundles read from directories in a
// loop (A, B, A, B, ... into each target, one thread per target) until it is
// killed or has done --count installs per target.
//
//   install_driver --config agent.yaml --bundle dir/A --bundle dir/B
//   install_driver --config agent.yaml --recover-only
//
// A bundle directory holds version_id, leaf.pem, chain.pem and key.pem.
// After recovery, prints "last_failure TARGET VERSION STEP rolled_back|
// not_rolled_back" for each target whose last failed install no delivery
// answered, then "ready" on stdout. Exit status: 0 done,
// 1 failure, 2 bad configuration or arguments.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "agent/config/agent_config.h"
#include "agent/install/health_checker.h"
#include "agent/install/target_manager.h"
#include "common/clock.h"
#include "common/filesystem.h"
#include "common/process_runner.h"

namespace certfleet::agent {
namespace {

struct Args {
  std::string config;
  std::vector<std::string> bundles;
  std::string target;  // "" = every target
  int count = 0;       // installs per target; 0 = forever
  bool recover_only = false;
};

bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--config" && has_value) {
      args->config = argv[++i];
    } else if (a == "--bundle" && has_value) {
      args->bundles.push_back(argv[++i]);
    } else if (a == "--target" && has_value) {
      args->target = argv[++i];
    } else if (a == "--count" && has_value) {
      if (!absl::SimpleAtoi(argv[++i], &args->count)) return false;
    } else if (a == "--recover-only") {
      args->recover_only = true;
    } else {
      return false;
    }
  }
  return !args->config.empty() &&
         (args->recover_only || !args->bundles.empty());
}

absl::StatusOr<Bundle> ReadBundle(Filesystem& fs, const std::string& dir) {
  Bundle b;
  absl::StatusOr<std::string> id = fs.ReadFile(dir + "/version_id");
  if (!id.ok()) return id.status();
  b.version_id = std::string(absl::StripAsciiWhitespace(*id));
  for (auto [file, out] : {std::pair{"/leaf.pem", &b.leaf_pem},
                           std::pair{"/chain.pem", &b.chain_pem},
                           std::pair{"/key.pem", &b.key_pem}}) {
    absl::StatusOr<std::string> text = fs.ReadFile(dir + file);
    if (!text.ok()) return text.status();
    *out = *std::move(text);
  }
  return b;
}

int Main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    std::cerr << "usage: install_driver --config FILE (--recover-only | "
                 "--bundle DIR... [--target NAME] [--count N])\n";
    return 2;
  }
  LocalFilesystem fs;
  absl::StatusOr<AgentConfig> config = LoadAgentConfig(args.config, fs);
  if (!config.ok()) {
    std::cerr << config.status().message() << "\n";
    return 2;
  }
  std::vector<Bundle> bundles;
  for (const std::string& dir : args.bundles) {
    absl::StatusOr<Bundle> b = ReadBundle(fs, dir);
    if (!b.ok()) {
      std::cerr << dir << ": " << b.status() << "\n";
      return 2;
    }
    bundles.push_back(*std::move(b));
  }
  SubprocessRunner runner;
  SystemClock clock;
  RealHealthChecker checker(runner);
  absl::StatusOr<std::unique_ptr<TargetManager>> manager =
      TargetManager::Create(*config, runner, clock, checker, nullptr);
  if (!manager.ok()) {
    std::cerr << manager.status() << "\n";
    return 1;
  }
  const absl::Status recovered = (*manager)->Recover(Context::Background());
  if (!recovered.ok()) {
    std::cerr << recovered << "\n";
    return 1;
  }
  // What the agent would report for installs no delivery waits for.
  for (const TargetStatus& t : (*manager)->Inventory()) {
    if (!t.last_failure.has_value()) continue;
    std::cout << "last_failure " << t.name << " " << t.last_failure->version_id
              << " " << t.last_failure->failed_step << " "
              << (t.last_failure->rolled_back ? "rolled_back"
                                              : "not_rolled_back")
              << "\n";
  }
  std::cout << "ready" << std::endl;
  if (args.recover_only) return 0;

  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (const std::string& name : (*manager)->TargetNames()) {
    if (!args.target.empty() && name != args.target) continue;
    threads.emplace_back([&, name] {
      for (int i = 0; args.count == 0 || i < args.count; ++i) {
        Bundle b = bundles[static_cast<size_t>(i) % bundles.size()];
        b.target = name;
        const InstallOutcome outcome =
            (*manager)->Install(b, Context::Background());
        if (!outcome.ok) {
          std::cerr << name << " " << b.version_id << ": "
                    << outcome.failed_step << ": " << outcome.error << "\n";
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace certfleet::agent

int main(int argc, char** argv) { return certfleet::agent::Main(argc, argv); }
