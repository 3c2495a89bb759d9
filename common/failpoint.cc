#include "common/failpoint.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"

namespace certfleet {
namespace {

struct Armed {
  absl::Mutex mu;
  // name → remaining hits before firing (1 = fire on the next hit).
  std::map<std::string, int> points;
};

Armed* LoadArmed() {
  const char* env = getenv("CERTFLEET_FAILPOINT");
  if (env == nullptr || *env == '\0') return nullptr;
  auto* armed = new Armed;
  for (absl::string_view item : absl::StrSplit(env, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> parts = absl::StrSplit(item, '@');
    int n = 1;
    if (!parts.second.empty() && !absl::SimpleAtoi(parts.second, &n)) n = 1;
    armed->points[parts.first] = n;
  }
  return armed;
}

}  // namespace

void Failpoint(absl::string_view name) {
  static Armed* const armed = LoadArmed();
  if (armed == nullptr) return;
  absl::MutexLock lock(&armed->mu);
  auto it = armed->points.find(std::string(name));
  if (it == armed->points.end()) return;
  if (--it->second > 0) return;
  kill(getpid(), SIGKILL);
  _exit(137);  // not reached
}

}  // namespace certfleet
