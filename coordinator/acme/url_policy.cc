#include "coordinator/acme/url_policy.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace certfleet::acme {
namespace {

// "[2001:db8::1]" → "2001:db8::1"; others lower-cased as they are.
std::string NormalizeHost(absl::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return absl::AsciiStrToLower(host);
}

absl::Status BadUrl(absl::string_view url, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("\"", url, "\" is not a usable URL: ", why));
}

}  // namespace

absl::StatusOr<UrlOrigin> ParseUrlOrigin(absl::string_view url) {
  UrlOrigin origin;
  absl::string_view rest = url;
  if (absl::StartsWithIgnoreCase(rest, "https://")) {
    origin.scheme = "https";
    rest.remove_prefix(8);
  } else if (absl::StartsWithIgnoreCase(rest, "http://")) {
    origin.scheme = "http";
    rest.remove_prefix(7);
  } else {
    return BadUrl(url, "not an http:// or https:// URL");
  }
  for (char c : url) {
    if (absl::ascii_isspace(c) || absl::ascii_iscntrl(c) || c == '\\') {
      return BadUrl(url, "white space, a control character or a backslash");
    }
  }
  const absl::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != absl::string_view::npos) {
    return BadUrl(url, "user information before the host");
  }
  absl::string_view host = authority;
  absl::string_view port;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return BadUrl(url, "unclosed \"[\"");
    host = authority.substr(0, close + 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadUrl(url, "junk after \"]\"");
      port = after.substr(1);
      if (port.empty()) return BadUrl(url, "an empty port");
    }
  } else if (const size_t colon = authority.find(':');
             colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return BadUrl(url, "an empty port");
  }
  int port_number = 0;
  if (!port.empty() && (!absl::SimpleAtoi(port, &port_number) ||
                        port_number < 1 || port_number > 65535)) {
    return BadUrl(url, "a port that is not a number from 1 to 65535");
  }
  origin.host = NormalizeHost(host);
  if (origin.host.empty()) return BadUrl(url, "no host");
  return origin;
}

absl::StatusOr<UrlPolicy> UrlPolicy::Create(
    absl::string_view directory_url,
    const std::vector<std::string>& allowed_hosts) {
  UrlPolicy policy;
  absl::StatusOr<UrlOrigin> dir = ParseUrlOrigin(directory_url);
  if (!dir.ok()) return dir.status();
  policy.directory_ = *std::move(dir);
  for (const std::string& h : allowed_hosts) {
    policy.allowed_hosts_.push_back(NormalizeHost(h));
  }
  return policy;
}

absl::Status UrlPolicy::Check(absl::string_view url) const {
  absl::StatusOr<UrlOrigin> origin = ParseUrlOrigin(url);
  std::string why;
  if (!origin.ok()) {
    why = std::string(origin.status().message());
  } else if (origin->scheme != "https" && origin->scheme != directory_.scheme) {
    why = "not https";
  } else if (origin->host != directory_.host &&
             std::find(allowed_hosts_.begin(), allowed_hosts_.end(),
                       origin->host) == allowed_hosts_.end()) {
    why = absl::StrCat("host ", origin->host, " is not the directory's");
  } else {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "refusing the URL \"", url, "\" the CA gave: ", why,
      "; requests go only over https to the directory's host ", directory_.host,
      allowed_hosts_.empty()
          ? std::string(" (list other hosts of this CA in the issuer's "
                        "allowed_hosts)")
          : absl::StrCat(" or to the issuer's allowed_hosts (",
                         absl::StrJoin(allowed_hosts_, ", "), ")")));
}

}  // namespace certfleet::acme
