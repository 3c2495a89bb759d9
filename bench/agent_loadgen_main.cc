// certfleet-bench-agent-loadgen: the simulated agents of the fan-out
// benchmark (bench/sim_agents.h) in their own process, so that the
// benchmark process's memory is the coordinator's alone. Started by
// certfleet-bench-agents; runs until SIGTERM or SIGINT, then prints what it
// did and exits.
//
//   certfleet-bench-agent-loadgen --address 127.0.0.1:PORT --ca CA.pem
//       --identities IDS.pem [--max-connecting 256] [--reconnect]
//
// Output (stdout): "connected N in S s (rss K kB)" once every stream has its
// Welcome, "results_sent R ended E" at exit. With --reconnect the agents
// reconnect as certfleet-agent does when their stream ends (sim_agents.h),
// and every 100 ms a line
//   status now_us=T connected=C attempts=A ended=E gave_up=G all_us=F
//          results=R last_result_us=L
// (one line) says how many agents hold a welcomed stream, the streams
// tried, ended and given up (no Welcome in time, or silent) so far, when
// (Unix microseconds) every agent last held one (0: never), how many
// bundles were answered with an ok result and when the last was (0:
// never). Exit status: 0 after
// a signal, 1 when the streams cannot be opened, 2 on a usage error.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/proc_stats.h"
#include "bench/sim_agents.h"

namespace certfleet::bench {
namespace {

constexpr char kUsage[] =
    "usage: certfleet-bench-agent-loadgen --address HOST:PORT --ca FILE\n"
    "         --identities FILE [--max-connecting N] [--reconnect]\n";

long long UnixMicrosOrZero(absl::Time t) {
  return t == absl::InfinitePast()
             ? 0LL
             : static_cast<long long>(absl::ToUnixMicros(t));
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Main(int argc, char** argv) {
  std::string address, ca_path, ids_path;
  int max_connecting = 256;
  bool reconnect = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--reconnect") {
      reconnect = true;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "%s needs a value\n%s", arg.c_str(), kUsage);
      return 2;
    }
    const std::string value = argv[++i];
    if (arg == "--address") {
      address = value;
    } else if (arg == "--ca") {
      ca_path = value;
    } else if (arg == "--identities") {
      ids_path = value;
    } else if (arg == "--max-connecting") {
      if (!absl::SimpleAtoi(value, &max_connecting) || max_connecting < 1) {
        fprintf(stderr, "--max-connecting: \"%s\" is not a positive integer\n",
                value.c_str());
        return 2;
      }
    } else {
      fprintf(stderr, "unknown argument \"%s\"\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (address.empty() || ca_path.empty() || ids_path.empty()) {
    fprintf(stderr, "%s", kUsage);
    return 2;
  }
  // Block the stop signals before gRPC starts its threads, so that only
  // sigwait below sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  const long nofile = RaiseFileLimit();

  absl::StatusOr<std::vector<SimIdentity>> ids =
      ParseIdentities(ReadAll(ids_path));
  if (!ids.ok()) {
    fprintf(stderr, "%s: %s\n", ids_path.c_str(),
            std::string(ids.status().message()).c_str());
    return 1;
  }
  const size_t n = ids->size();
  if (static_cast<long>(n) + 64 > nofile) {
    fprintf(stderr, "%zu streams need more file descriptors than %ld\n", n,
            nofile);
    return 1;
  }
  // Owned until exit: the process ends with _exit, not by unwinding gRPC.
  auto* pool = new SimAgentPool({.address = address,
                                 .ca_pem = ReadAll(ca_path),
                                 .identities = *std::move(ids),
                                 .max_connecting = max_connecting,
                                 .reconnect = reconnect});
  const absl::Time start = absl::Now();
  pool->Start();
  if (reconnect) {
    // Status lines until the process exits (it ends with _exit).
    std::thread([pool] {
      while (true) {
        const absl::Time all = pool->all_connected_at();
        printf(
            "status now_us=%lld connected=%zu attempts=%zu ended=%zu "
            "gave_up=%zu all_us=%lld results=%zu last_result_us=%lld\n",
            static_cast<long long>(absl::ToUnixMicros(absl::Now())),
            pool->connected(), pool->attempts(), pool->ended(), pool->gave_up(),
            UnixMicrosOrZero(all), pool->results_sent(),
            UnixMicrosOrZero(pool->last_result_at()));
        fflush(stdout);
        absl::SleepFor(absl::Milliseconds(100));
      }
    }).detach();
  }
  if (absl::Status s = pool->WaitConnected(absl::Minutes(15)); !s.ok()) {
    fprintf(stderr, "%s\n", s.ToString().c_str());
    fflush(stderr);
    _exit(1);
  }
  absl::StatusOr<ProcSample> self = SampleProcess(0);
  printf("connected %zu in %.2f s (rss %ld kB)\n", n,
         absl::ToDoubleSeconds(absl::Now() - start),
         self.ok() ? self->rss_kb : -1L);
  fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  printf("results_sent %zu ended %zu\n", pool->results_sent(), pool->ended());
  fflush(stdout);
  _exit(0);
}

}  // namespace
}  // namespace certfleet::bench

int main(int argc, char** argv) { return certfleet::bench::Main(argc, argv); }
