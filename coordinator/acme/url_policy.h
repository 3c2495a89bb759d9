// Where the ACME client may send requests. A CA hands the client URLs —
// directory entries, Location headers, an order's authorizations, finalize
// and certificate URLs, challenge URLs, Link headers — and the client signs
// a request to each. A compromised or malicious CA (or one answering in its
// place) could point them at anything the coordinator can reach: a cloud
// metadata service, an internal admin port, a plain-http endpoint. So every
// request must go over https to the directory's own host, or to a host the
// issuer's configuration lists (allowed_hosts) for a CA that spreads its
// API over several. A directory on http://127.0.0.1 (a CA under test) may
// also be answered on http on its host.
//
//   ASSIGN_OR_RETURN(UrlPolicy policy,
//       UrlPolicy::Create("https://acme.example/dir", {"cdn.acme.example"}));
//   RETURN_IF_ERROR(policy.Check(order.finalize));
#ifndef CERTFLEET_COORDINATOR_ACME_URL_POLICY_H_
#define CERTFLEET_COORDINATOR_ACME_URL_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certfleet::acme {

// The scheme and host of an absolute http(s) URL, lower-cased; an IPv6
// host without its brackets.
struct UrlOrigin {
  std::string scheme;  // "https" or "http"
  std::string host;
};

// kInvalidArgument (naming the URL) for anything but an http:// or
// https:// URL with a host; also for user information ("user@host"),
// white space, control characters or a backslash in it, which parsers read
// differently.
absl::StatusOr<UrlOrigin> ParseUrlOrigin(absl::string_view url);

class UrlPolicy {
 public:
  // `allowed_hosts`: host names or IP addresses (IPv6 with or without
  // brackets), compared without case. kInvalidArgument when the directory
  // URL does not parse.
  static absl::StatusOr<UrlPolicy> Create(
      absl::string_view directory_url,
      const std::vector<std::string>& allowed_hosts);

  // OK for an https URL on the directory's host or an allowed host (and an
  // http one there when the directory itself is http). kFailedPrecondition
  // otherwise, naming the URL, the directory's host and the allowed hosts.
  absl::Status Check(absl::string_view url) const;

  const std::string& directory_host() const { return directory_.host; }

 private:
  UrlOrigin directory_;
  std::vector<std::string> allowed_hosts_;
};

}  // namespace certfleet::acme

#endif  // CERTFLEET_COORDINATOR_ACME_URL_POLICY_H_
