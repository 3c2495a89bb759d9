// Retrying a read-modify-write that is saved with compare-and-set: when
// another writer saved first (the store answers kAborted), the attempt
// reads what that writer saved and decides again on it — a bounded number
// of times, so two writers that keep beating each other end in an error
// rather than a loop.
//
//   RETURN_IF_ERROR(RetryCompareAndSet(
//       3,
//       [&]() -> absl::StatusOr<CasAttempt> {
//         Decide(record);
//         absl::Status saved = store.Save(record);  // kAborted: outrun
//         if (saved.code() != absl::StatusCode::kAborted) {
//           RETURN_IF_ERROR(saved);
//           return CasAttempt::kDone;
//         }
//         ASSIGN_OR_RETURN(record, store.Get(record.id));
//         return CasAttempt::kConflict;
//       },
//       [&] { return absl::AbortedError("outrun 3 times; not saved"); }));
#ifndef CERTFLEET_COMMON_CAS_RETRY_H_
#define CERTFLEET_COMMON_CAS_RETRY_H_

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace certfleet {

// What one attempt came to.
enum class CasAttempt {
  kDone,      // saved, or nothing (left) to save: stop
  kConflict,  // another writer saved first: decide again on what it saved
};

// Calls `attempt` until it returns kDone (OK) or an error (returned as it
// is), at most `max_attempts` times; after `max_attempts` conflicts in a
// row, returns what `exhausted` makes (a kAborted naming what was not
// saved: the caller may try again later).
absl::Status RetryCompareAndSet(
    int max_attempts, absl::FunctionRef<absl::StatusOr<CasAttempt>()> attempt,
    absl::FunctionRef<absl::Status()> exhausted);

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_CAS_RETRY_H_
