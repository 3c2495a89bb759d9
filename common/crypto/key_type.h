// Key algorithms a certificate or an ACME account can use.
#ifndef CERTFLEET_COMMON_CRYPTO_KEY_TYPE_H_
#define CERTFLEET_COMMON_CRYPTO_KEY_TYPE_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace certfleet::crypto {

enum class KeyType { kEc256, kEc384, kRsa2048, kRsa3072, kRsa4096 };

// "ec256", "ec384", "rsa2048", "rsa3072", "rsa4096".
inline const char* KeyTypeName(KeyType t) {
  switch (t) {
    case KeyType::kEc256:
      return "ec256";
    case KeyType::kEc384:
      return "ec384";
    case KeyType::kRsa2048:
      return "rsa2048";
    case KeyType::kRsa3072:
      return "rsa3072";
    case KeyType::kRsa4096:
      return "rsa4096";
  }
  return "unknown";
}

inline std::optional<KeyType> ParseKeyType(absl::string_view s) {
  for (KeyType t : {KeyType::kEc256, KeyType::kEc384, KeyType::kRsa2048,
                    KeyType::kRsa3072, KeyType::kRsa4096}) {
    if (s == KeyTypeName(t)) return t;
  }
  return std::nullopt;
}

// For error messages: "ec256, ec384, rsa2048, rsa3072, rsa4096".
inline const char* KeyTypeChoices() {
  return "ec256, ec384, rsa2048, rsa3072, rsa4096";
}

inline bool IsEc(KeyType t) {
  return t == KeyType::kEc256 || t == KeyType::kEc384;
}

}  // namespace certfleet::crypto

#endif  // CERTFLEET_COMMON_CRYPTO_KEY_TYPE_H_
