#include "coordinator/store/store_errors.h"

#include "absl/strings/str_cat.h"

namespace certfleet::store {

absl::Status TokenAlreadyUsed(const std::string& id, const std::string& used_by,
                              absl::Time used_at) {
  return absl::FailedPreconditionError(absl::StrCat(
      "store: token ", id, " was already used by ", used_by, " at ",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", used_at, absl::UTCTimeZone())));
}

absl::Status ConsumeTokenNotFound(const std::string& id) {
  return absl::NotFoundError(
      absl::StrCat("store: consume token ", id, ": no such token"));
}

absl::Status CheckConsumeTime(const std::string& id, absl::Time now) {
  if (now == absl::InfinitePast() || now == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "store: consume token ", id, ": the time of use must be finite"));
  }
  return absl::OkStatus();
}

}  // namespace certfleet::store
