#include "common/crypto/encoding.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto/openssl_util.h"

namespace certfleet::crypto {
namespace {

constexpr char kStdAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Encode(absl::string_view data, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t v = p[i] << 16;
    if (rest == 2) v |= p[i + 1] << 8;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

int SextetValue(char c, bool url) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == (url ? '-' : '+')) return 62;
  if (c == (url ? '_' : '/')) return 63;
  return -1;
}

// Shared decoder: `url` selects the alphabet; `skip_space` ignores ASCII
// whitespace. Padding is optional in both, but once '=' appears only '='
// (and skipped whitespace) may follow, and never more than two.
absl::StatusOr<std::string> Decode(absl::string_view text, bool url,
                                   bool skip_space) {
  const char* name = url ? "base64url" : "base64";
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t sextets = 0;
  int padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (skip_space && IsSpace(c)) continue;
    if (c == '=') {
      ++padding;
      if (padding > 2) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "invalid %s: too much padding at offset %d", name, i));
      }
      continue;
    }
    const int v = SextetValue(c, url);
    if (v < 0 || padding > 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "invalid %s: unexpected character 0x%02x at offset %d", name,
          static_cast<unsigned char>(c), i));
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++sextets;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (sextets % 4 == 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "invalid %s: truncated input (%d symbols)", name, sextets));
  }
  if (padding > 0 && (sextets + padding) % 4 != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("invalid %s: wrong amount of padding", name));
  }
  return out;
}

}  // namespace

std::string Base64UrlEncode(absl::string_view data) {
  return Encode(data, kUrlAlphabet, /*pad=*/false);
}

absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text) {
  return Decode(text, /*url=*/true, /*skip_space=*/false);
}

std::string Base64Encode(absl::string_view data) {
  return Encode(data, kStdAlphabet, /*pad=*/true);
}

absl::StatusOr<std::string> Base64Decode(absl::string_view text) {
  return Decode(text, /*url=*/false, /*skip_space=*/true);
}

std::string HexEncode(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::string Sha256(absl::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(),
                 reinterpret_cast<unsigned char*>(out.data()), &len,
                 EVP_sha256(), nullptr) != 1 ||
      len != 32) {
    // Only an allocation failure inside OpenSSL gets here.
    fprintf(stderr, "SHA-256 failed: %s\n",
            internal::DrainOpenSslErrors().c_str());
    abort();
  }
  return out;
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  std::string out(32, '\0');
  size_t len = 0;
  // EVP_Q_mac rejects a NULL key pointer even for an empty key.
  static const char kEmpty = 0;
  const void* key_ptr = key.empty() ? &kEmpty : key.data();
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key_ptr,
                key.size(), reinterpret_cast<const unsigned char*>(data.data()),
                data.size(), reinterpret_cast<unsigned char*>(out.data()),
                out.size(), &len) == nullptr ||
      len != 32) {
    fprintf(stderr, "HMAC-SHA-256 failed: %s\n",
            internal::DrainOpenSslErrors().c_str());
    abort();
  }
  return out;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                          static_cast<int>(n)) != 1) {
    fprintf(stderr, "RAND_bytes(%zu) failed: %s\n", n,
            internal::DrainOpenSslErrors().c_str());
    abort();
  }
  return out;
}

}  // namespace certfleet::crypto
