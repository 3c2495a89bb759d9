// Bootstrap tokens: how an operator lets a new host enroll as an agent.
// A token is single-use, expires, carries the labels the agent will have,
// and is stored only as a hash of its secret, so neither a copy of the
// database nor a log line can enroll anyone.
//
// Format: "cft1.<id>.<secret>" — id: 16 lower-case hex characters (the
// store key; safe to log); secret: base64url of 32 random bytes.
//
//   BootstrapTokens tokens(store, clock);
//   ASSIGN_OR_RETURN(std::string token,
//                    tokens.Create({{"role", "web"}}, absl::Hours(1), "rack
//                    7"));
//   ...
//   ASSIGN_OR_RETURN(store::TokenRecord used, tokens.Redeem(token, agent_id));
#ifndef CERTFLEET_COORDINATOR_IDENTITY_TOKENS_H_
#define CERTFLEET_COORDINATOR_IDENTITY_TOKENS_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "coordinator/store/store.h"

namespace certfleet::identity {

class BootstrapTokens {
 public:
  BootstrapTokens(store::Store& store, Clock& clock)
      : store_(store), clock_(clock) {}

  // The two parts of a well-formed token.
  struct Parsed {
    std::string id;
    std::string secret;  // the 32 raw bytes
  };
  // kInvalidArgument "malformed bootstrap token ..." (never quoting the
  // secret) unless `token` has the format above.
  static absl::StatusOr<Parsed> Parse(absl::string_view token);

  // A new token valid for `ttl`, granting `labels` (each checked with
  // labels::CheckLabel). Only SHA-256(secret) is stored. kInvalidArgument
  // for a non-positive ttl or an invalid label; the store's errors.
  absl::StatusOr<std::string> Create(
      const std::map<std::string, std::string>& labels, absl::Duration ttl,
      const std::string& description);

  // A token valid for `ttl` that re-enrolls the existing agent `agent_id`
  // (TokenRecord::for_agent; EnrollmentService::Enroll): it keeps its id,
  // labels (recorded in the token as they are now) and history and gets a
  // new identity. kInvalidArgument for a non-positive ttl; kNotFound "no
  // agent <id>"; kFailedPrecondition for a removed agent (never
  // re-enrolled); the store's errors.
  absl::StatusOr<std::string> CreateForAgent(const std::string& agent_id,
                                             absl::Duration ttl,
                                             const std::string& description);

  // Authenticates `token` without using it up: its record when it is known,
  // its secret matches (compared in constant time), it has not expired and
  // is unused. Errors, all kPermissionDenied except a malformed token
  // (kInvalidArgument):
  //   "unknown bootstrap token"  (no such id, or a wrong secret: not said
  //                               which)
  //   "bootstrap token <id> expired at <time>"
  //   "bootstrap token <id> was already used"
  absl::StatusOr<store::TokenRecord> Check(absl::string_view token);

  // Check, then marks the token used by `agent_id` with the store's
  // compare-and-set, so of two agents racing with one token exactly one
  // succeeds; the other gets "bootstrap token <id> was already used".
  // Returns the record as stored after use.
  absl::StatusOr<store::TokenRecord> Redeem(absl::string_view token,
                                            const std::string& agent_id);

 private:
  // Stores a new token (labels already checked) and returns it as text.
  absl::StatusOr<std::string> Make(
      const std::map<std::string, std::string>& labels, absl::Duration ttl,
      const std::string& description, const std::string& for_agent);

  store::Store& store_;
  Clock& clock_;
};

}  // namespace certfleet::identity

#endif  // CERTFLEET_COORDINATOR_IDENTITY_TOKENS_H_
