// How certfleet writes a time for people and for scripts: RFC 3339 in UTC,
// whole seconds, "Z" ("2026-01-02T03:04:05Z") — in error messages, audit
// details, tables and JSON output alike. Reading a time back is
// absl::ParseTime(absl::RFC3339_full, ...), which accepts this and more.
//
//   absl::StrCat("token expired at ", FormatRfc3339(expires_at));
#ifndef CERTFLEET_COMMON_RFC3339_H_
#define CERTFLEET_COMMON_RFC3339_H_

#include <string>

#include "absl/time/time.h"

namespace certfleet {

// "2026-01-02T03:04:05Z" (fractions of a second dropped);
// "infinite-past" / "infinite-future" for the infinite times, as
// absl::FormatTime writes them.
std::string FormatRfc3339(absl::Time t);

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_RFC3339_H_
