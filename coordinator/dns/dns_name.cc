#include "coordinator/dns/dns_name.h"

#include <arpa/inet.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace certfleet::dns {

std::string CanonicalName(absl::string_view name) {
  std::string out = absl::AsciiStrToLower(name);
  while (!out.empty() && out.back() == '.') out.pop_back();
  out.push_back('.');
  return out;
}

bool IsInZone(absl::string_view name, absl::string_view zone) {
  if (zone == ".") return true;
  if (name.size() < zone.size()) return false;
  if (name.substr(name.size() - zone.size()) != zone) return false;
  return name.size() == zone.size() ||
         name[name.size() - zone.size() - 1] == '.';
}

std::string ParentName(absl::string_view name) {
  if (name.empty() || name == ".") return "";
  const size_t dot = name.find('.');
  if (dot == absl::string_view::npos || dot + 1 >= name.size()) return ".";
  return std::string(name.substr(dot + 1));
}

absl::StatusOr<HostPort> ParseHostPort(absl::string_view text) {
  HostPort out;
  absl::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos || close + 1 >= text.size() ||
        text[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat(
          "server address \"", text, "\" is not of the form [ipv6]:port"));
    }
    out.ip = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos || text.find(':') != colon) {
      return absl::InvalidArgumentError(absl::StrCat(
          "server address \"", text, "\" is not of the form ip:port"));
    }
    out.ip = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, out.ip.c_str(), buf) != 1 &&
      inet_pton(AF_INET6, out.ip.c_str(), buf) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "server address \"", text,
        "\" must be a numeric IP address (names would need the system "
        "resolver)"));
  }
  if (!absl::SimpleAtoi(port_text, &out.port) || out.port <= 0 ||
      out.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("server address \"", text, "\" has no valid port"));
  }
  return out;
}

std::string JoinHostPort(absl::string_view ip, int port) {
  if (ip.find(':') != absl::string_view::npos) {
    return absl::StrCat("[", ip, "]:", port);
  }
  return absl::StrCat(ip, ":", port);
}

}  // namespace certfleet::dns
