// Network addresses in the configuration: "ip:port" endpoints (resolvers, the
// RFC 2136 server, the metrics listener) and ACME directory URLs.
//
// Endpoints are IP literals on purpose: certfleet never asks the system
// resolver, so a host name here would have nobody to resolve it.
//
//   absl::StatusOr<IpPort> r = ParseIpPort("127.0.0.1", /*default_port=*/53);
//   r->ToString();  // "127.0.0.1:53"
//   RETURN_IF_ERROR(CheckDirectoryUrl("https://acme.example/directory"));
#ifndef CERTFLEET_COMMON_YAML_ADDRESSES_H_
#define CERTFLEET_COMMON_YAML_ADDRESSES_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certfleet::yaml {

struct IpPort {
  std::string ip;  // as written, without brackets: "127.0.0.1", "::1"
  int port = 0;    // 1..65535
  bool is_v6 = false;

  // "127.0.0.1:53" or "[::1]:53".
  std::string ToString() const;
};

// Accepts "ip:port", "[v6]:port", and (when `default_port` is set) "ip",
// "v6" and "[v6]". kInvalidArgument with the reason otherwise.
absl::StatusOr<IpPort> ParseIpPort(absl::string_view text,
                                   std::optional<int> default_port);

// "host:port" where host is a DNS name or an IP literal ("[v6]:port"): a
// peer dialled through gRPC (coordinators, etcd members), whose name gRPC
// resolves. The normalized text (lower-case name); kInvalidArgument with
// the reason otherwise.
absl::StatusOr<std::string> ParseHostPort(absl::string_view text);

// An ACME directory URL must be https://, except http:// to 127.0.0.1,
// localhost or [::1] (a CA under test on this machine). kInvalidArgument
// naming the problem otherwise.
absl::Status CheckDirectoryUrl(absl::string_view url);

}  // namespace certfleet::yaml

#endif  // CERTFLEET_COMMON_YAML_ADDRESSES_H_
