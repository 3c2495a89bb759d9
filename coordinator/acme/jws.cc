#include "coordinator/acme/jws.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto/encoding.h"
#include "common/status_macros.h"

namespace certfleet::acme {
namespace {

// Flattened serialization: {"protected":…,"payload":…,"signature":…}.
absl::StatusOr<std::string> Assemble(const crypto::PrivateKey& key,
                                     absl::string_view protected_json,
                                     absl::string_view payload) {
  const std::string protected_b64 = crypto::Base64UrlEncode(protected_json);
  const std::string payload_b64 = crypto::Base64UrlEncode(payload);
  ASSIGN_OR_RETURN(std::string signature,
                   key.SignJws(absl::StrCat(protected_b64, ".", payload_b64)));
  return absl::StrCat(R"({"protected":")", protected_b64, R"(","payload":")",
                      payload_b64, R"(","signature":")",
                      crypto::Base64UrlEncode(signature), R"("})");
}

}  // namespace

std::string JsonQuote(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

absl::StatusOr<std::string> SignRequest(const crypto::PrivateKey& key,
                                        absl::string_view kid,
                                        absl::string_view nonce,
                                        absl::string_view url,
                                        absl::string_view payload) {
  std::string header = absl::StrCat(R"({"alg":")", key.JwsAlgorithm(), "\",");
  if (kid.empty()) {
    absl::StrAppend(&header, R"("jwk":)", key.PublicJwkJson(), ",");
  } else {
    absl::StrAppend(&header, R"("kid":)", JsonQuote(kid), ",");
  }
  absl::StrAppend(&header, R"("nonce":)", JsonQuote(nonce), R"(,"url":)",
                  JsonQuote(url), "}");
  return Assemble(key, header, payload);
}

absl::StatusOr<std::string> ExternalAccountBinding(
    const crypto::PrivateKey& account_key, absl::string_view eab_kid,
    absl::string_view hmac_key_base64url, absl::string_view new_account_url) {
  ASSIGN_OR_RETURN(std::string mac_key,
                   crypto::Base64UrlDecode(hmac_key_base64url));
  if (mac_key.empty()) {
    return absl::InvalidArgumentError(
        "external account binding: empty HMAC key");
  }
  const std::string header =
      absl::StrCat(R"({"alg":"HS256","kid":)", JsonQuote(eab_kid), R"(,"url":)",
                   JsonQuote(new_account_url), "}");
  const std::string protected_b64 = crypto::Base64UrlEncode(header);
  const std::string payload_b64 =
      crypto::Base64UrlEncode(account_key.PublicJwkJson());
  const std::string mac = crypto::HmacSha256(
      mac_key, absl::StrCat(protected_b64, ".", payload_b64));
  return absl::StrCat(R"({"protected":")", protected_b64, R"(","payload":")",
                      payload_b64, R"(","signature":")",
                      crypto::Base64UrlEncode(mac), R"("})");
}

absl::StatusOr<std::string> KeyChangeInner(const crypto::PrivateKey& new_key,
                                           const crypto::PrivateKey& old_key,
                                           absl::string_view account_url,
                                           absl::string_view key_change_url) {
  const std::string header = absl::StrCat(
      R"({"alg":")", new_key.JwsAlgorithm(), R"(","jwk":)",
      new_key.PublicJwkJson(), R"(,"url":)", JsonQuote(key_change_url), "}");
  const std::string payload =
      absl::StrCat(R"({"account":)", JsonQuote(account_url), R"(,"oldKey":)",
                   old_key.PublicJwkJson(), "}");
  return Assemble(new_key, header, payload);
}

}  // namespace certfleet::acme
