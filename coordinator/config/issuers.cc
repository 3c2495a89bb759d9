// issuers: the ACME CAs and certfleet's account with each (sections.h).
#include <arpa/inet.h>
#include <netinet/in.h>

#include <climits>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/yaml/addresses.h"
#include "common/yaml/duration.h"
#include "coordinator/config/dns_names.h"
#include "coordinator/config/sections.h"

namespace certfleet::config::internal {
namespace {

// "ops@example.test" or "mailto:ops@example.test" → "mailto:ops@example.test"
// (RFC 8555 §7.3: contacts are URLs; CAs accept mailto: only).
absl::StatusOr<std::string> NormalizeContact(absl::string_view text) {
  absl::string_view address = absl::StripAsciiWhitespace(text);
  if (absl::StartsWithIgnoreCase(address, "mailto:")) {
    address.remove_prefix(7);
  }
  const size_t at = address.find('@');
  const bool well_formed =
      at != absl::string_view::npos && at > 0 && at + 1 < address.size() &&
      address.find('@', at + 1) == absl::string_view::npos &&
      address.find_first_of(" \t,;:<>()[]\\\"") == absl::string_view::npos;
  if (!well_formed) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text, "\" is not an email address (write ops@example.com)"));
  }
  return absl::StrCat("mailto:", address);
}

// The trust bundle must exist and hold at least one PEM certificate; a
// wrong path would otherwise surface only as a TLS failure at first order.
void CheckTrustBundle(ParseContext& ctx, const Field& field,
                      const std::string& path) {
  absl::StatusOr<std::string> pem = ctx.fs.ReadFile(path);
  if (!pem.ok()) {
    ctx.reader.Error(field, absl::IsNotFound(pem.status())
                                ? absl::StrCat("\"", path, "\" does not exist")
                                : std::string(pem.status().message()));
    return;
  }
  if (!absl::StrContains(*pem, "-----BEGIN CERTIFICATE-----")) {
    ctx.reader.Error(field,
                     absl::StrCat("\"", path, "\" holds no PEM certificate"));
  }
}

void ParseEab(ParseContext& ctx, const Field& field, IssuerConfig* out) {
  Reader& r = ctx.reader;
  const Mapping m = r.Map(field, {"kid", "hmac_key", "hmac_key_file"});
  if (!field.node.IsMap()) return;  // reported by Map
  EabConfig eab;
  const Field kid = m.Get("kid");
  if (r.Required(kid) && r.String(kid, &eab.kid) && eab.kid.empty()) {
    r.Error(kid, "must not be empty");
  }
  std::optional<Field> from =
      ReadSecret(ctx, m, "hmac_key", "hmac_key_file", &eab.hmac_key);
  std::string decoded;
  if (from.has_value() &&
      (!absl::WebSafeBase64Unescape(eab.hmac_key, &decoded) ||
       decoded.empty())) {
    r.Error(*from,
            "the MAC key is not base64url (copy it exactly as the CA "
            "gave it)");
  }
  out->eab = std::move(eab);
}

void ParseLimits(ParseContext& ctx, const Field& field, IssuerConfig* out) {
  Reader& r = ctx.reader;
  const Mapping m =
      r.Map(field, {"max_concurrent_orders", "requests_per_second",
                    "new_nonce_per_second", "new_orders_per_window",
                    "new_orders_window"});
  r.Int(m.Get("max_concurrent_orders"), 1, INT_MAX,
        &out->max_concurrent_orders);
  r.PositiveDouble(m.Get("requests_per_second"), &out->requests_per_second);
  r.PositiveDouble(m.Get("new_nonce_per_second"), &out->new_nonce_per_second);
  r.Int(m.Get("new_orders_per_window"), 0, INT_MAX,
        &out->new_orders_per_window);
  r.PositiveDuration(m.Get("new_orders_window"), &out->new_orders_window);
}

// Hosts besides the directory's that the CA's URLs may name: DNS names or
// IP addresses, stored lower-case, IPv6 without brackets.
void ReadAllowedHosts(ParseContext& ctx, const Field& field,
                      IssuerConfig* out) {
  for (const auto& [element, text] : ctx.reader.Strings(field)) {
    std::string host = absl::AsciiStrToLower(text);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    unsigned char addr[sizeof(in6_addr)];
    const bool ip = inet_pton(AF_INET, host.c_str(), addr) == 1 ||
                    inet_pton(AF_INET6, host.c_str(), addr) == 1;
    if (!ip) {
      absl::StatusOr<std::string> name = NormalizeCertificateName(host);
      if (!name.ok() || absl::StartsWith(*name, "*.")) {
        ctx.reader.Error(
            element,
            absl::StrCat("\"", text,
                         "\" is not a host name or IP address (no scheme, "
                         "port, path or wildcard)"));
        continue;
      }
      host = *std::move(name);
    }
    out->allowed_hosts.push_back(std::move(host));
  }
}

void ParseIssuer(ParseContext& ctx, const Mapping& m, IssuerConfig* out) {
  Reader& r = ctx.reader;
  const Field directory = m.Get("directory");
  if (r.Required(directory) && r.String(directory, &out->directory_url)) {
    absl::Status url = CheckDirectoryUrl(out->directory_url);
    if (!url.ok()) r.Error(directory, url.message());
  }
  const Field trust_bundle = m.Get("trust_bundle");
  if (ReadPath(ctx, trust_bundle, /*required=*/false, &out->trust_bundle)) {
    CheckTrustBundle(ctx, trust_bundle, out->trust_bundle);
  }
  for (const auto& [element, text] : r.Strings(m.Get("contact"))) {
    absl::StatusOr<std::string> contact = NormalizeContact(text);
    if (contact.ok()) {
      out->contacts.push_back(*std::move(contact));
    } else {
      r.Error(element, contact.status().message());
    }
  }
  ReadKeyType(ctx, m.Get("account_key_type"), &out->account_key_type);
  const Field eab = m.Get("eab");
  if (eab.present()) ParseEab(ctx, eab, out);
  r.String(m.Get("preferred_chain"), &out->preferred_chain);
  ParseLimits(ctx, m.Get("limits"), out);
  const Field request_timeout = m.Get("request_timeout");
  const Field order_timeout = m.Get("order_timeout");
  const bool request_ok =
      r.PositiveDuration(request_timeout, &out->request_timeout) ||
      !request_timeout.present();
  const bool order_ok =
      r.PositiveDuration(order_timeout, &out->order_timeout) ||
      !order_timeout.present();
  if (request_ok && order_ok && out->order_timeout < out->request_timeout) {
    r.Error(order_timeout.present() ? order_timeout : request_timeout,
            absl::StrCat("order_timeout (",
                         FormatConfigDuration(out->order_timeout),
                         ") is shorter than request_timeout (",
                         FormatConfigDuration(out->request_timeout), ")"));
  }
  r.String(m.Get("profile"), &out->profile);
  ReadAllowedHosts(ctx, m.Get("allowed_hosts"), out);
}

}  // namespace

void ParseIssuers(ParseContext& ctx, const Field& field,
                  std::vector<IssuerConfig>* out) {
  Reader& r = ctx.reader;
  std::map<std::string, Field> first_by_name;
  for (const Field& item : r.List(field)) {
    if (!item.present()) {
      r.Error(item, "empty list element");
      continue;
    }
    const Mapping m = r.Map(
        item, {"name", "directory", "trust_bundle", "contact",
               "account_key_type", "eab", "preferred_chain", "limits",
               "request_timeout", "order_timeout", "profile", "allowed_hosts"});
    if (!item.node.IsMap()) continue;
    IssuerConfig issuer;
    const Field name = m.Get("name");
    const bool named = ReadObjectName(ctx, name, &issuer.name);
    ParseIssuer(ctx, m, &issuer);
    if (!named) continue;
    auto [first, inserted] = first_by_name.emplace(issuer.name, name);
    if (!inserted) {
      r.Error(name,
              absl::StrCat("duplicate issuer name \"", issuer.name,
                           "\" (first at ", Where(ctx, first->second), ")"));
      continue;
    }
    out->push_back(std::move(issuer));
  }
}

}  // namespace certfleet::config::internal
