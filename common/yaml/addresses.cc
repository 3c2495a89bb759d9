#include "common/yaml/addresses.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace certfleet::yaml {
namespace {

bool IsIpv4(const std::string& s) {
  in_addr a;
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool IsIpv6(const std::string& s) {
  in6_addr a;
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

absl::Status BadEndpoint(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("\"", text, "\" is not an IP address and port: ", why));
}

// 1..65535 or nullopt.
std::optional<int> ParsePort(absl::string_view text) {
  int port = 0;
  if (text.empty() || text.size() > 5) return std::nullopt;
  for (char c : text) {
    if (!absl::ascii_isdigit(c)) return std::nullopt;
  }
  if (!absl::SimpleAtoi(text, &port) || port < 1 || port > 65535) {
    return std::nullopt;
  }
  return port;
}

}  // namespace

std::string IpPort::ToString() const {
  return is_v6 ? absl::StrCat("[", ip, "]:", port)
               : absl::StrCat(ip, ":", port);
}

absl::StatusOr<IpPort> ParseIpPort(absl::string_view text,
                                   std::optional<int> default_port) {
  if (text.empty()) return BadEndpoint(text, "it is empty");
  std::string host;
  absl::string_view port_text;
  bool has_port = false;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) {
      return BadEndpoint(text, "\"[\" without \"]\"");
    }
    host = std::string(text.substr(1, close - 1));
    absl::string_view after = text.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadEndpoint(text, "junk after \"]\"");
      port_text = after.substr(1);
      has_port = true;
    }
    if (!IsIpv6(host)) return BadEndpoint(text, "not an IPv6 address in []");
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    // A bare IPv6 address cannot carry a port.
    host = std::string(text);
    if (!IsIpv6(host)) return BadEndpoint(text, "not an IP address");
  } else {
    const size_t colon = text.find(':');
    host = std::string(text.substr(0, colon));
    if (colon != absl::string_view::npos) {
      port_text = text.substr(colon + 1);
      has_port = true;
    }
    if (!IsIpv4(host)) {
      return BadEndpoint(text,
                         "host names are not resolved, use an IP address");
    }
  }
  IpPort out;
  out.ip = host;
  out.is_v6 = IsIpv6(host);
  if (has_port) {
    std::optional<int> port = ParsePort(port_text);
    if (!port.has_value()) {
      return BadEndpoint(text, "the port must be a number from 1 to 65535");
    }
    out.port = *port;
  } else if (default_port.has_value()) {
    out.port = *default_port;
  } else {
    return BadEndpoint(text, "the port is missing");
  }
  return out;
}

absl::StatusOr<std::string> ParseHostPort(absl::string_view text) {
  if (absl::StatusOr<IpPort> ip = ParseIpPort(text, std::nullopt); ip.ok()) {
    return ip->ToString();
  }
  const size_t colon = text.rfind(':');
  int port = 0;
  const std::string host =
      absl::AsciiStrToLower(text.substr(0, std::min(colon, text.size())));
  bool ok = colon != absl::string_view::npos && colon > 0 &&
            absl::SimpleAtoi(text.substr(colon + 1), &port) && port >= 1 &&
            port <= 65535;
  for (char c : host) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '.') ok = false;
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text,
        "\" is not host:port (a DNS name or IP address, and a port from 1 "
        "to 65535)"));
  }
  return absl::StrCat(host, ":", port);
}

absl::Status CheckDirectoryUrl(absl::string_view url) {
  const std::string lower = absl::AsciiStrToLower(url);
  bool https = false;
  absl::string_view rest;
  if (absl::StartsWith(lower, "https://")) {
    https = true;
    rest = url.substr(8);
  } else if (absl::StartsWith(lower, "http://")) {
    rest = url.substr(7);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", url, "\" is not an https:// URL"));
  }
  for (char c : url) {
    if (absl::ascii_isspace(c) || absl::ascii_iscntrl(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", url, "\" contains white space"));
    }
  }
  const size_t end = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, end);
  if (authority.find('@') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", url, "\" contains a user name; ACME needs none"));
  }
  absl::string_view host = authority;
  absl::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", url, "\" has \"[\" without \"]\""));
    }
    host = authority.substr(0, close + 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return absl::InvalidArgumentError(
            absl::StrCat("\"", url, "\" has junk after \"]\""));
      }
      port = after.substr(1);
      if (port.empty()) port = "x";  // "[::1]:" has an empty, invalid port
    }
  } else if (const size_t colon = authority.find(':');
             colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) port = "x";
  }
  if (host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", url, "\" has no host"));
  }
  if (!port.empty() && !ParsePort(port).has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", url, "\" has an invalid port (a number from 1 to 65535)"));
  }
  const std::string host_lower = absl::AsciiStrToLower(host);
  if (!https && host_lower != "127.0.0.1" && host_lower != "localhost" &&
      host_lower != "[::1]") {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", url,
        "\" must use https:// (http:// is allowed only for 127.0.0.1, "
        "localhost and [::1])"));
  }
  return absl::OkStatus();
}

}  // namespace certfleet::yaml
