#include "agent/install/version_name.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace certfleet::agent {
namespace {

bool IsLowerHex(char c) {
  return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
}

int HexValue(char c) { return absl::ascii_isdigit(c) ? c - '0' : c - 'a' + 10; }

}  // namespace

std::string VersionDirName(absl::string_view version_id) {
  std::string out;
  for (size_t i = 0; i < version_id.size(); ++i) {
    const char c = version_id[i];
    const bool literal_dot = c == '.' && !out.empty() && out.back() != '.';
    if (absl::ascii_isalnum(c) || c == '-' || literal_dot) {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "_%02x", static_cast<unsigned char>(c));
    }
  }
  return out.empty() ? "_" : out;
}

bool IsValidVersionName(absl::string_view name) {
  return VersionIdOfName(name).has_value();
}

std::optional<std::string> VersionIdOfName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxVersionNameLength ||
      name.front() == '.') {
    return std::nullopt;
  }
  if (name == "_") return std::string();
  std::string id;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '_') {
      if (i + 2 >= name.size()) return std::nullopt;
      const char hi = name[i + 1];
      const char lo = name[i + 2];
      if (!IsLowerHex(hi) || !IsLowerHex(lo)) return std::nullopt;
      const char decoded = static_cast<char>(HexValue(hi) * 16 + HexValue(lo));
      // An escape of what would have stayed literal is not what
      // VersionDirName writes: one name per id.
      if (absl::ascii_isalnum(decoded) || decoded == '-') return std::nullopt;
      if (decoded == '.' && !id.empty() && name[i - 1] != '.') {
        return std::nullopt;
      }
      id.push_back(decoded);
      i += 2;
    } else if (absl::ascii_isalnum(c) || c == '-') {
      id.push_back(c);
    } else if (c == '.') {
      if (name[i - 1] == '.') return std::nullopt;  // i > 0: no leading "."
      id.push_back(c);
    } else {
      return std::nullopt;
    }
  }
  return id;
}

}  // namespace certfleet::agent
