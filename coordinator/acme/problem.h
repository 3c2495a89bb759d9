// ACME problem documents (RFC 8555 §6.7, RFC 7807) turned into absl::Status
// values whose code decides the retry policy:
//
//   badNonce              → handled inside the client (retried at once)
//   rateLimited           → kResourceExhausted + Retry-After
//   serverInternal, 5xx   → kUnavailable (+ Retry-After when sent)
//   unauthorized          → kPermissionDenied
//   accountDoesNotExist   → kNotFound
//   alreadyRevoked        → kAlreadyExists
//   malformed, badCSR, …  → kInvalidArgument
//   rejectedIdentifier, caa, dns, connection, incorrectResponse,
//   externalAccountRequired, orderNotReady, … → kFailedPrecondition
//
// The message carries the endpoint, the HTTP status, the problem type and
// the CA's detail (and subproblems). The problem type and Retry-After travel
// as status payloads so callers can act on them:
//
//   if (auto when = RetryAfterOf(status)) state.next_attempt_at = *when;
#ifndef CERTFLEET_COORDINATOR_ACME_PROBLEM_H_
#define CERTFLEET_COORDINATOR_ACME_PROBLEM_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "coordinator/acme/http_transport.h"

namespace certfleet::acme {

inline constexpr char kErrorPrefix[] = "urn:ietf:params:acme:error:";

struct Subproblem {
  std::string type;
  std::string detail;
  std::string identifier;  // the identifier's value, if given
};

struct Problem {
  std::string type;  // full URN, e.g. urn:ietf:params:acme:error:rateLimited
  std::string detail;
  int status = 0;
  std::vector<Subproblem> subproblems;

  // The part after kErrorPrefix ("rateLimited"), or the whole type.
  std::string ShortType() const;
  // "rateLimited: too many orders [example.com: ...]".
  std::string Describe() const;
};

// Parses an application/problem+json body. Unparsable text yields a Problem
// whose detail is an excerpt of the body.
Problem ParseProblem(const std::string& body, int http_status);

// The longest wait a CA's Retry-After can impose: 24 hours. Longer values
// are taken as 24 hours. A CA's legitimate waits are shorter (Let's
// Encrypt's rate limits refill within hours, the longest in about a day and
// a half, when asking again early costs one more refusal), while a CA —
// broken, hostile, or an impostor — asking for a year would otherwise stop
// renewals until the certificate expires: a day keeps several attempts
// inside even a 6-day certificate's renewal margin. RFC 9773 §4.3.3 gives
// the same bound for ARI polling ("values over one day could be treated as
// if they were one day").
inline constexpr absl::Duration kMaxRetryAfter = absl::Hours(24);

// Parses a Retry-After header (RFC 9110 §10.2.3): delay-seconds or an
// HTTP-date, relative to `now`, at most now + kMaxRetryAfter. Nullopt when
// absent or unparsable. `*capped`, when given, says whether the header
// asked for longer.
std::optional<absl::Time> ParseRetryAfter(const std::string& value,
                                          absl::Time now,
                                          bool* capped = nullptr);

// The status for an error response from `endpoint` (e.g. "new-order").
absl::Status ProblemStatus(const std::string& endpoint,
                           const HttpResponse& response, absl::Time now);

// The Retry-After time carried by a status from ProblemStatus, if any.
std::optional<absl::Time> RetryAfterOf(const absl::Status& status);

// A refusal by one of our own client-side limits (not the CA's) carries the
// limit, described by DescribeOrderLimit, so that the wait it imposed can be
// lifted when an operator changes that limit (scheduler.h).
void SetClientLimit(absl::Status& status, absl::string_view limit);
// The limit carried by `status`; "" when the refusal was not ours.
std::string ClientLimitOf(const absl::Status& status);
// "300 new orders per 3h" (0: "unlimited new orders").
std::string DescribeOrderLimit(int max_orders, absl::Duration window);
// The ACME problem type carried by a status ("urn:…:rateLimited"), or "".
std::string ProblemTypeOf(const absl::Status& status);
// Attaches a Retry-After time to `status` (used for polling and tests).
void SetRetryAfter(absl::Status& status, absl::Time when);

}  // namespace certfleet::acme

#endif  // CERTFLEET_COORDINATOR_ACME_PROBLEM_H_
