// certfleet-bench-agents: the agent benchmarks (bench/agent_scenarios.h) —
// one idle certfleet-agent's footprint, fan-out of a new version to N = 200
// real agents and to N = 5,000 simulated ones, and the coordinator's memory
// per connected agent — with a summary table against the targets.
//
//   certfleet-bench-agents [--agent PATH] [--loadgen PATH]
//       [--idle-seconds 60] [--real 200] [--sim 5000] [--rounds 3]
//       [--no-health] [--agent-env NAME=VALUE]... [--keep]
//
// --idle-seconds 0, --real 0 or --sim 0 skips that scenario. Each scenario
// runs in a fresh child process of this binary (--only footprint|real|sim
// --result-file F), so one scenario's heap does not blur the next one's
// memory figures. Prints each scenario's figures as it goes, then the
// summary, then one JSON line with every figure. Exit status: 0 when every
// scenario ran (targets missed are reported, not failed), 1 when one
// failed, 2 on a usage error.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "bench/agent_scenarios.h"
#include "bench/child_process.h"
#include "bench/measured_process.h"
#include "bench/proc_stats.h"
#include "common/log.h"
#include "nlohmann/json.hpp"

namespace certfleet::bench {
namespace {

constexpr char kUsage[] =
    "usage: certfleet-bench-agents [--agent PATH] [--loadgen PATH]\n"
    "         [--idle-seconds 60] [--real 200] [--sim 5000] [--rounds 3]\n"
    "         [--no-health] [--agent-env NAME=VALUE]... [--keep]\n";

struct Args {
  ScenarioOptions options;
  int idle_seconds = 60;
  int real = 200;
  int sim = 5000;
  std::string only;         // internal: run one scenario here
  std::string result_file;  // internal: where --only writes its JSON
  std::vector<std::string> passthrough;  // for the children
};

std::string SelfDir() {
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) return ".";
  const std::string path(self, static_cast<size_t>(len));
  return path.substr(0, path.rfind('/'));
}

bool ParseArgs(int argc, char** argv, Args& a, std::string& error) {
  const std::string dir = SelfDir();
  a.options.agent_binary =
      dir.substr(0, dir.rfind('/')) + "/agent/certfleet-agent";
  a.options.loadgen_binary = dir + "/certfleet-bench-agent-loadgen";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        error = absl::StrCat(arg, " needs a value");
        return "";
      }
      return argv[++i];
    };
    auto number = [&](int& out, int min) {
      const std::string v = value();
      if (!error.empty()) return;
      if (!absl::SimpleAtoi(v, &out) || out < min) {
        error = absl::StrCat(arg, ": \"", v, "\" is not an integer >= ", min);
      }
    };
    const size_t before = static_cast<size_t>(i);
    if (arg == "--agent") {
      a.options.agent_binary = value();
    } else if (arg == "--loadgen") {
      a.options.loadgen_binary = value();
    } else if (arg == "--idle-seconds") {
      number(a.idle_seconds, 0);
    } else if (arg == "--real") {
      number(a.real, 0);
    } else if (arg == "--sim") {
      number(a.sim, 0);
    } else if (arg == "--rounds") {
      number(a.options.rounds, 1);
    } else if (arg == "--no-health") {
      a.options.health_check = false;
    } else if (arg == "--agent-env") {
      const std::string v = value();
      const size_t eq = v.find('=');
      if (eq == std::string::npos || eq == 0) {
        error = absl::StrCat("--agent-env: \"", v, "\" is not NAME=VALUE");
      } else {
        a.options.agent_env.push_back({v.substr(0, eq), v.substr(eq + 1)});
      }
    } else if (arg == "--keep") {
      a.options.keep = true;
    } else if (arg == "--only") {
      a.only = value();
      continue;
    } else if (arg == "--result-file") {
      a.result_file = value();
      continue;
    } else {
      error = absl::StrCat("unknown argument \"", arg, "\"");
    }
    if (!error.empty()) return false;
    for (size_t k = before; k <= static_cast<size_t>(i); ++k) {
      a.passthrough.push_back(argv[k]);
    }
  }
  a.options.idle = absl::Seconds(a.idle_seconds);
  if (!a.only.empty() && a.only != "footprint" && a.only != "real" &&
      a.only != "sim") {
    error = absl::StrCat("--only: \"", a.only,
                         "\" is not one of footprint, real, sim");
  }
  return error.empty();
}

nlohmann::json ToJson(const FootprintResult& r) {
  return {{"idle_s", r.idle_s},
          {"rss_kb", r.rss_kb},
          {"hwm_kb", r.hwm_kb},
          {"anon_kb", r.anon_kb},
          {"file_kb", r.file_kb},
          {"pss_kb", r.pss_kb},
          {"threads", r.threads},
          {"cpu_ms", r.cpu_ms},
          {"voluntary_switches", r.voluntary_switches},
          {"involuntary_switches", r.involuntary_switches},
          {"wakeups_by_thread", r.wakeups_by_thread}};
}

nlohmann::json ToJson(const FanoutResult& r) {
  return {{"simulated", r.simulated},
          {"agents", r.agents},
          {"connect_s", r.connect_s},
          {"round_s", r.round_s},
          {"median_s", Median(r.round_s)},
          {"round_cpu_ms", r.round_cpu_ms},
          {"coordinator_threads", r.coordinator_threads},
          {"rss0_kb", r.rss0_kb},
          {"rssn_kb", r.rssn_kb},
          {"rss0_trim_kb", r.rss0_trim_kb},
          {"rssn_trim_kb", r.rssn_trim_kb},
          {"kb_per_agent", r.kb_per_agent},
          {"kb_per_agent_trim", r.kb_per_agent_trim},
          {"agents_rss_kb", r.agents_rss_kb},
          {"failed", r.failed}};
}

// "/proc/loadavg"'s first three fields: other work on the machine skews
// the timings, so each scenario prints it.
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return absl::StrCat(one, " ", five, " ", fifteen);
}

// Runs one scenario in this process; writes its JSON to `result_file`.
int RunOne(const Args& a) {
  const std::string load_before = LoadAverage();
  SetLogLevel(LogLevel::kWarning);  // the hub logs a line per delivery
  RaiseFileLimit();
  nlohmann::json out;
  absl::Status status;
  if (a.only == "footprint") {
    printf("== Agent footprint: one certfleet-agent, idle %d s ==\n",
           a.idle_seconds);
    absl::StatusOr<FootprintResult> r = RunFootprint(a.options);
    status = r.status();
    if (r.ok()) out = ToJson(*r);
  } else {
    const bool sim = a.only == "sim";
    ScenarioOptions o = a.options;
    o.agents = sim ? a.sim : a.real;
    printf("== Fan-out: %d %s agents, %d rounds ==\n", o.agents,
           sim ? "simulated" : "real certfleet-agent", o.rounds);
    fflush(stdout);
    absl::StatusOr<FanoutResult> r = RunFanout(o, sim);
    status = r.status();
    if (r.ok()) out = ToJson(*r);
  }
  if (!status.ok()) {
    fprintf(stderr, "%s: %s\n", a.only.c_str(), status.ToString().c_str());
    return 1;
  }
  out["load_before"] = load_before;
  out["load_after"] = LoadAverage();
  printf("  load average: %s before, %s after\n", load_before.c_str(),
         out["load_after"].get<std::string>().c_str());
  fflush(stdout);
  if (!a.result_file.empty()) std::ofstream(a.result_file) << out.dump();
  return 0;
}

std::string Verdict(double value, double target) {
  return value <= target ? "met" : "MISSED";
}

void PrintSummary(const nlohmann::json& all) {
  printf("\n== Summary ==\n%-34s %-32s %-22s %s\n", "scenario", "figure",
         "value", "target");
  if (all.contains("footprint")) {
    const nlohmann::json& f = all["footprint"];
    const double rss = f["rss_kb"].get<double>() / 1024;
    const double hwm = f["hwm_kb"].get<double>() / 1024;
    printf("%-34s %-32s %-22s %s\n",
           absl::StrCat("agent footprint (idle ", f["idle_s"].get<int>(), " s)")
               .c_str(),
           "VmRSS / VmHWM", absl::StrFormat("%.1f / %.1f MB", rss, hwm).c_str(),
           absl::StrCat("<= 24 MB: ", Verdict(hwm, kTargetAgentRssMb)).c_str());
    printf("%-34s %-32s %-22s\n", "", "private (RssAnon) / PSS",
           absl::StrFormat("%.1f / %.1f MB", f["anon_kb"].get<double>() / 1024,
                           f["pss_kb"].get<double>() / 1024)
               .c_str());
    printf("%-34s %-32s %-22s\n", "", "CPU over the window",
           absl::StrFormat("%.3f s", f["cpu_ms"].get<double>() / 1000).c_str());
    printf("%-34s %-32s %-22s\n", "", "wake-ups (voluntary switches)",
           absl::StrCat(f["voluntary_switches"].get<long>()).c_str());
    printf("%-34s %-32s %s → %s\n", "", "load average",
           f.value("load_before", "").c_str(),
           f.value("load_after", "").c_str());
  }
  for (const char* key : {"real", "sim"}) {
    if (!all.contains(key)) continue;
    const nlohmann::json& r = all[key];
    const bool sim = r["simulated"].get<bool>();
    const double target = sim ? kTargetSimFanoutS : kTargetRealFanoutS;
    const double median = r["median_s"].get<double>();
    std::string rounds;
    for (double s : r["round_s"]) {
      absl::StrAppend(&rounds, rounds.empty() ? "" : " ",
                      absl::StrFormat("%.2f", s));
    }
    const std::string name = absl::StrCat(
        "fan-out ", sim ? "simulated" : "real", " N=", r["agents"].get<int>());
    printf("%-34s %-32s %-22s %s\n", name.c_str(),
           "new version -> all ok, median",
           absl::StrFormat("%.3f s", median).c_str(),
           absl::StrFormat("<= %.0f s: %s", target, Verdict(median, target))
               .c_str());
    printf("%-34s %-32s %-22s\n", "", "rounds (s)", rounds.c_str());
    printf(
        "%-34s %-32s %-22s %s\n", "", "coordinator RSS per agent",
        absl::StrFormat("%.1f kB (trim %.1f)", r["kb_per_agent"].get<double>(),
                        r["kb_per_agent_trim"].get<double>())
            .c_str(),
        absl::StrCat("<= 64 KB: ", Verdict(r["kb_per_agent"].get<double>(),
                                           kTargetKbPerAgent))
            .c_str());
    printf("%-34s %-32s %-22s\n", "", "connect + first install",
           absl::StrFormat("%.1f s", r["connect_s"].get<double>()).c_str());
    printf("%-34s %-32s %-22s\n", "", "rejected deliveries",
           absl::StrCat(r["failed"].get<long>()).c_str());
    printf("%-34s %-32s %-22s\n", "",
           sim ? "load generator RSS" : "agent RSS, mean per process",
           absl::StrFormat("%.1f MB", r["agents_rss_kb"].get<double>() / 1024 /
                                          (sim ? 1 : r["agents"].get<int>()))
               .c_str());
    printf("%-34s %-32s %s → %s\n", "", "load average",
           r.value("load_before", "").c_str(),
           r.value("load_after", "").c_str());
  }
}

int Main(int argc, char** argv) {
  Args a;
  std::string error;
  if (!ParseArgs(argc, argv, a, error)) {
    fprintf(stderr, "certfleet-bench-agents: %s\n%s", error.c_str(), kUsage);
    return 2;
  }
  InstallInterruptHandler();
  if (!a.only.empty()) return RunOne(a);

  std::vector<std::string> scenarios;
  if (a.idle_seconds > 0) scenarios.push_back("footprint");
  if (a.real > 0) scenarios.push_back("real");
  if (a.sim > 0) scenarios.push_back("sim");
  char exe[4096];
  const ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (len <= 0) return 1;
  const std::string self(exe, static_cast<size_t>(len));
  const std::string result_file =
      absl::StrCat("/tmp/certfleet-bench-agents-", getpid(), ".json");
  nlohmann::json all;
  int rc = 0;
  for (const std::string& s : scenarios) {
    if (Interrupted()) return 1;
    std::vector<std::string> argv_child = {self};
    argv_child.insert(argv_child.end(), a.passthrough.begin(),
                      a.passthrough.end());
    argv_child.insert(argv_child.end(),
                      {"--only", s, "--result-file", result_file});
    unlink(result_file.c_str());
    absl::StatusOr<pid_t> pid = SpawnChild({.argv = argv_child});
    if (!pid.ok()) {
      fprintf(stderr, "%s\n", pid.status().ToString().c_str());
      return 1;
    }
    absl::StatusOr<int> exit_code = WaitChild(*pid, absl::Hours(2));
    std::ifstream in(result_file);
    std::stringstream text;
    text << in.rdbuf();
    if (!exit_code.ok() || *exit_code != 0 || text.str().empty()) {
      fprintf(stderr, "scenario %s failed\n", s.c_str());
      rc = 1;
      continue;
    }
    all[s] = nlohmann::json::parse(text.str());
  }
  unlink(result_file.c_str());
  PrintSummary(all);
  printf("%s\n", all.dump().c_str());
  return rc;
}

}  // namespace
}  // namespace certfleet::bench

int main(int argc, char** argv) {
  // As certfleet-coordinator does: the in-process coordinator is measured
  // without abseil's lock-order checking.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return certfleet::bench::Main(argc, argv);
}
