// Early-return helpers for absl::Status and absl::StatusOr.
//
// abseil 20220623 ships no status macros, so these are ours:
//
//   absl::Status Load() {
//     RETURN_IF_ERROR(Open());
//     ASSIGN_OR_RETURN(std::string text, ReadAll());
//     ...
//   }
#ifndef CERTFLEET_COMMON_STATUS_MACROS_H_
#define CERTFLEET_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"

#define CF_STATUS_CONCAT_INNER_(a, b) a##b
#define CF_STATUS_CONCAT_(a, b) CF_STATUS_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)                         \
  do {                                                \
    const ::absl::Status cf_status_ =                 \
        ::certfleet::internal_status::AsStatus(expr); \
    if (!cf_status_.ok()) return cf_status_;          \
  } while (0)

// Evaluates `rexpr` (a StatusOr<T>); on error returns its status, otherwise
// moves the value into `lhs`, which may be a declaration.
#define ASSIGN_OR_RETURN(lhs, rexpr)                                        \
  CF_ASSIGN_OR_RETURN_IMPL_(CF_STATUS_CONCAT_(cf_statusor_, __LINE__), lhs, \
                            rexpr)

#define CF_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  if (!statusor.ok()) return statusor.status();         \
  lhs = std::move(statusor).value()

namespace certfleet::internal_status {
inline const absl::Status& AsStatus(const absl::Status& s) { return s; }
template <typename T>
inline absl::Status AsStatus(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace certfleet::internal_status

namespace certfleet {

// Returns `status` with its message replaced by `message`, keeping its code
// and every payload: payloads carry what callers decide on (the CA's
// Retry-After, acme/problem.h), so a status rewritten for context must not
// drop them on its way up.
inline absl::Status WithMessage(const absl::Status& status,
                                absl::string_view message) {
  if (status.ok()) return status;
  absl::Status out(status.code(), message);
  status.ForEachPayload(
      [&out](absl::string_view type_url, const absl::Cord& payload) {
        out.SetPayload(type_url, payload);
      });
  return out;
}

// Returns `status` with `prefix: ` prepended to its message, keeping the code
// and the payloads. Used to add context ("issuer pebble: ...") as an error
// travels upward.
inline absl::Status Annotate(const absl::Status& status,
                             absl::string_view prefix) {
  if (status.ok()) return status;
  std::string message(prefix);
  message.append(": ");
  message.append(status.message().data(), status.message().size());
  return WithMessage(status, message);
}

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_STATUS_MACROS_H_
