#include "bench/proc_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "bench/measured_process.h"

namespace certfleet::bench {
namespace {

// "Key:   123 kB" lines of a /proc status file.
std::map<std::string, std::string> ReadStatus(const std::string& path) {
  std::map<std::string, std::string> fields;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    fields[line.substr(0, colon)] = std::string(
        absl::StripAsciiWhitespace(absl::string_view(line).substr(colon + 1)));
  }
  return fields;
}

long Number(const std::map<std::string, std::string>& fields,
            const std::string& key) {
  auto it = fields.find(key);
  if (it == fields.end()) return 0;
  absl::string_view v = it->second;
  absl::ConsumeSuffix(&v, " kB");
  long n = 0;
  return absl::SimpleAtoi(v, &n) ? n : 0;
}

}  // namespace

absl::StatusOr<ProcSample> SampleProcess(pid_t pid) {
  if (pid == 0) pid = getpid();
  const std::string dir = absl::StrCat("/proc/", pid);
  const std::map<std::string, std::string> status = ReadStatus(dir + "/status");
  if (status.empty()) {
    return absl::NotFoundError(absl::StrCat("process ", pid, " is gone"));
  }
  ProcSample s;
  s.rss_kb = Number(status, "VmRSS");
  s.hwm_kb = Number(status, "VmHWM");
  s.rss_anon_kb = Number(status, "RssAnon");
  s.rss_file_kb = Number(status, "RssFile");
  s.threads = Number(status, "Threads");
  s.pss_kb = Number(ReadStatus(dir + "/smaps_rollup"), "Pss");
  absl::StatusOr<double> cpu = ProcessCpuMs(pid);
  if (!cpu.ok()) return cpu.status();
  s.cpu_ms = *cpu;
  if (DIR* tasks = opendir((dir + "/task").c_str())) {
    while (dirent* e = readdir(tasks)) {
      long tid = 0;
      if (!absl::SimpleAtoi(e->d_name, &tid)) continue;
      const std::map<std::string, std::string> t =
          ReadStatus(absl::StrCat(dir, "/task/", tid, "/status"));
      if (t.empty()) continue;  // the thread just ended
      ThreadSample ts{
          .tid = static_cast<pid_t>(tid),
          .comm = t.count("Name") ? t.at("Name") : "?",
          .voluntary_switches = Number(t, "voluntary_ctxt_switches"),
          .involuntary_switches = Number(t, "nonvoluntary_ctxt_switches")};
      s.voluntary_switches += ts.voluntary_switches;
      s.involuntary_switches += ts.involuntary_switches;
      s.per_thread.push_back(std::move(ts));
    }
    closedir(tasks);
  }
  return s;
}

std::string WakeupsByThread(const ProcSample& before, const ProcSample& after) {
  std::vector<std::pair<long, std::string>> rows;
  for (const ThreadSample& t : after.per_thread) {
    long base = 0;
    for (const ThreadSample& b : before.per_thread) {
      if (b.tid == t.tid) base = b.voluntary_switches;
    }
    const long delta = t.voluntary_switches - base;
    if (delta > 0) {
      rows.push_back({delta, absl::StrCat(t.comm, "(", t.tid, ")=", delta)});
    }
  }
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> parts;
  for (auto& [n, text] : rows) parts.push_back(std::move(text));
  return parts.empty() ? "none" : absl::StrJoin(parts, " ");
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return absl::StrCat(a, " ", b, " ", c);
}

long RaiseFileLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return -1;
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  getrlimit(RLIMIT_NOFILE, &lim);
  return static_cast<long>(lim.rlim_cur);
}

}  // namespace certfleet::bench
