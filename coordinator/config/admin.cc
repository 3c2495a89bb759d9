// The admin API section (declared in sections.h):
//
//   admin:
//     listen: 127.0.0.1:7444
//     server_names: [coordinator.example.test]
#include "absl/strings/str_cat.h"
#include "common/yaml/addresses.h"
#include "coordinator/config/sections.h"

namespace certfleet::config::internal {

void ParseAdmin(ParseContext& ctx, const Field& field, AdminConfig* out) {
  Reader& r = ctx.reader;
  const Mapping m = r.Map(field, {"listen", "server_names"});
  const Field listen = m.Get("listen");
  std::string text;
  std::optional<IpPort> endpoint;
  if (r.String(listen, &text) && !text.empty()) {
    absl::StatusOr<IpPort> parsed = ParseIpPort(text, std::nullopt);
    if (parsed.ok()) {
      endpoint = *parsed;
      out->listen = parsed->ToString();
    } else {
      r.Error(listen, parsed.status().message());
    }
  }
  const Field names = m.Get("server_names");
  if (names.present()) {
    if (text.empty()) {
      r.Error(names,
              "set admin.listen too: without it there is no admin API to "
              "name");
    }
    ParseServerNames(ctx, names, "certfleetctl", &out->server_names);
  } else if (endpoint.has_value()) {
    if (IsWildcardIp(endpoint->ip)) {
      r.Error(names,
              absl::StrCat("required when listen is a wildcard address (",
                           endpoint->ip,
                           "): list the IP addresses or DNS names "
                           "certfleetctl dials"));
    } else {
      out->server_names.push_back(endpoint->ip);
    }
  }
}

}  // namespace certfleet::config::internal
