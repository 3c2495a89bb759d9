// ACME resources (RFC 8555 §7.1) as plain structs, and their parsers.
// Parsers are lenient about members they don't need and strict about the
// ones they do: a missing "finalize" URL is an error naming the resource,
// and so is a "status" missing (but an account's) or not one of RFC 8555
// §7.1.6's (kUnavailable "CA sent an order with unknown status \"x\" at
// <url>").
#ifndef CERTFLEET_COORDINATOR_ACME_RESOURCES_H_
#define CERTFLEET_COORDINATOR_ACME_RESOURCES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coordinator/acme/acme_status.h"
#include "coordinator/acme/problem.h"

namespace certfleet::acme {

// §7.1.1 (plus renewalInfo from RFC 9773 §4).
struct Directory {
  std::string new_nonce;
  std::string new_account;
  std::string new_order;
  std::string revoke_cert;
  std::string key_change;
  std::string renewal_info;  // "" when the CA has no ARI
  std::string terms_of_service;
  bool external_account_required = false;
  std::vector<std::string> profiles;  // names offered in meta.profiles
};

// §7.1.2
struct Account {
  std::string url;
  // valid, deactivated, revoked; none when the CA sent no account object
  // (some answer an existing-account lookup with an empty body).
  std::optional<AcmeStatus> status;
  std::vector<std::string> contacts;
  std::string orders_url;
};

struct Identifier {
  std::string type = "dns";
  std::string value;
};

// §7.1.5 / §8
struct Challenge {
  std::string type;  // "dns-01", "http-01", …
  std::string url;
  std::string token;
  AcmeStatus status = AcmeStatus::kPending;  // pending, processing, valid,
                                             // invalid
  std::optional<Problem> error;
};

// §7.1.4
struct Authorization {
  std::string url;
  Identifier identifier;
  // pending, valid, invalid, deactivated, expired, revoked
  AcmeStatus status = AcmeStatus::kPending;
  absl::Time expires = absl::InfinitePast();
  bool wildcard = false;
  std::vector<Challenge> challenges;

  const Challenge* Find(const std::string& type) const;
};

// §7.1.3
struct Order {
  std::string url;
  // pending, ready, processing, valid, invalid (Pebble: also deactivated)
  AcmeStatus status = AcmeStatus::kPending;
  absl::Time expires = absl::InfinitePast();
  std::vector<Identifier> identifiers;
  std::vector<std::string> authorizations;
  std::string finalize;
  std::string certificate;  // set once valid
  std::optional<Problem> error;
  std::string replaces;
  std::string profile;
  // From the response's Retry-After header, when present (§7.4).
  std::optional<absl::Time> retry_after;
};

// RFC 9773 §4.2
struct RenewalInfo {
  absl::Time window_start;
  absl::Time window_end;
  std::string explanation_url;
  std::optional<absl::Time> retry_after;
};

absl::StatusOr<Directory> ParseDirectory(const std::string& body);
absl::StatusOr<Account> ParseAccount(const std::string& body,
                                     const std::string& url);
absl::StatusOr<Order> ParseOrder(const std::string& body,
                                 const std::string& url);
absl::StatusOr<Authorization> ParseAuthorization(const std::string& body,
                                                 const std::string& url);
absl::StatusOr<Challenge> ParseChallenge(const std::string& body);
absl::StatusOr<RenewalInfo> ParseRenewalInfo(const std::string& body);
// §7.1.2.1: {"orders": ["url", ...]}.
absl::StatusOr<std::vector<std::string>> ParseOrderList(
    const std::string& body);

// The targets of Link headers with the given relation (RFC 8288), e.g.
// rel="alternate" for alternate certificate chains (§7.4.2). Relative
// targets are not resolved (ACME servers send absolute URLs).
std::vector<std::string> LinkTargets(const std::vector<std::string>& headers,
                                     const std::string& rel);

}  // namespace certfleet::acme

#endif  // CERTFLEET_COORDINATOR_ACME_RESOURCES_H_
