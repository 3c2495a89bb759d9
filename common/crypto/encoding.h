// Byte encodings and primitive hashes used across the crypto and ACME code:
// base64url for JWS (RFC 7515 §2), standard base64 for PEM-ish payloads, hex,
// SHA-256, HMAC-SHA-256 (ACME external account binding, RFC 8555 §7.3.4) and
// the CSPRNG.
//
//   std::string sig_b64 = Base64UrlEncode(signature);
//   ASSIGN_OR_RETURN(std::string mac_key, Base64UrlDecode(eab_hmac_key));
//   std::string tag = HmacSha256(mac_key, signing_input);
#ifndef CERTFLEET_COMMON_CRYPTO_ENCODING_H_
#define CERTFLEET_COMMON_CRYPTO_ENCODING_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certfleet::crypto {

// RFC 4648 §5 alphabet ('-', '_'), no padding, as JWS requires (RFC 7515 §2).
std::string Base64UrlEncode(absl::string_view data);

// Decodes base64url with or without trailing '=' padding. Rejects the
// standard alphabet's '+' and '/', whitespace and misplaced padding with
// kInvalidArgument naming the offending offset.
absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text);

// RFC 4648 §4 standard alphabet with '=' padding, no line breaks.
std::string Base64Encode(absl::string_view data);

// Decodes standard base64; ASCII whitespace (including newlines) anywhere is
// ignored and padding is optional. kInvalidArgument on any other character.
absl::StatusOr<std::string> Base64Decode(absl::string_view text);

// Lower-case hexadecimal, two digits per byte.
std::string HexEncode(absl::string_view bytes);

// SHA-256 of `data`: 32 raw bytes.
std::string Sha256(absl::string_view data);

// HMAC-SHA-256 of `data` under `key`: 32 raw bytes.
std::string HmacSha256(absl::string_view key, absl::string_view data);

// `n` bytes from OpenSSL's CSPRNG (RAND_bytes). Aborts the process if the
// generator fails: continuing with predictable bytes would be worse.
std::string RandomBytes(size_t n);

}  // namespace certfleet::crypto

#endif  // CERTFLEET_COMMON_CRYPTO_ENCODING_H_
