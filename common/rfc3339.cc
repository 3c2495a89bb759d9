#include "common/rfc3339.h"

namespace certfleet {

std::string FormatRfc3339(absl::Time t) {
  // Not absl::RFC3339_sec: in UTC it writes "+00:00" where we write "Z".
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace certfleet
