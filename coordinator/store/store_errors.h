// Errors that every Store backend reports with the same code and text, so
// callers (and the contract tests) can rely on them whatever the backend.
//
//   if (used) return TokenAlreadyUsed(id, token.used_by, token.used_at);
#ifndef CERTFLEET_COORDINATOR_STORE_STORE_ERRORS_H_
#define CERTFLEET_COORDINATOR_STORE_STORE_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace certfleet::store {

// kFailedPrecondition "store: token <id> was already used by <agent> at
// <UTC time as 2026-01-02T03:04:05Z>".
absl::Status TokenAlreadyUsed(const std::string& id, const std::string& used_by,
                              absl::Time used_at);

// kNotFound "store: consume token <id>: no such token".
absl::Status ConsumeTokenNotFound(const std::string& id);

// kInvalidArgument unless `now` is finite: InfinitePast marks an unused
// token, so consuming "at" it would leave the token usable.
absl::Status CheckConsumeTime(const std::string& id, absl::Time now);

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_STORE_ERRORS_H_
