#include "coordinator/config/dns_names.h"

#include <arpa/inet.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace certfleet::config {
namespace {

constexpr size_t kMaxNameLength = 253;  // RFC 1035 §2.3.4, without the dot
constexpr size_t kMaxLabelLength = 63;

absl::Status Invalid(absl::string_view name, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("\"", name, "\" is not a valid DNS name: ", why));
}

// Checks the labels of `name` (no trailing dot, no wildcard).
absl::Status CheckLabels(absl::string_view shown, absl::string_view name,
                         bool allow_underscore) {
  if (name.size() > kMaxNameLength) {
    return Invalid(shown,
                   absl::StrCat("longer than ", kMaxNameLength, " characters"));
  }
  for (absl::string_view label : absl::StrSplit(name, '.')) {
    if (label.empty()) return Invalid(shown, "empty label");
    if (label.size() > kMaxLabelLength) {
      return Invalid(shown,
                     absl::StrCat("label \"", label, "\" is longer than ",
                                  kMaxLabelLength, " characters"));
    }
    if (label.front() == '-' || label.back() == '-') {
      return Invalid(shown, absl::StrCat("label \"", label,
                                         "\" starts or ends with \"-\""));
    }
    for (char c : label) {
      if (absl::ascii_isalnum(c) || c == '-') continue;
      if (c == '_' && allow_underscore) continue;
      if (c == '*') {
        return Invalid(shown,
                       "\"*\" is allowed only as the whole leftmost label");
      }
      return Invalid(
          shown,
          absl::StrCat("label \"", label, "\" contains \"", std::string(1, c),
                       "\" (only letters, digits and \"-\")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> NormalizeCertificateName(absl::string_view name) {
  if (name.empty()) return Invalid(name, "empty");
  std::string lower = absl::AsciiStrToLower(name);
  if (lower.back() == '.') lower.pop_back();
  in_addr v4;
  if (inet_pton(AF_INET, lower.c_str(), &v4) == 1 ||
      lower.find(':') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", name, "\" is an IP address; DNS-01 validates DNS names only"));
  }
  absl::string_view rest = lower;
  if (absl::StartsWith(rest, "*.")) rest.remove_prefix(2);
  if (rest.empty() || rest == "*") {
    return Invalid(name, "nothing after the wildcard");
  }
  absl::Status labels = CheckLabels(name, rest, /*allow_underscore=*/false);
  if (!labels.ok()) return labels;
  return lower;
}

absl::StatusOr<std::string> NormalizeZone(absl::string_view zone) {
  std::string lower = absl::AsciiStrToLower(zone);
  if (!lower.empty() && lower.back() == '.') lower.pop_back();
  if (lower.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", zone, "\" is the root zone; name the zone itself"));
  }
  absl::Status labels = CheckLabels(zone, lower, /*allow_underscore=*/true);
  if (!labels.ok()) return labels;
  lower.push_back('.');
  return lower;
}

bool IsInZone(absl::string_view name, absl::string_view zone) {
  if (absl::StartsWith(name, "*.")) name.remove_prefix(2);
  if (absl::EndsWith(zone, ".")) zone.remove_suffix(1);
  if (name == zone) return true;
  return name.size() > zone.size() && absl::EndsWith(name, zone) &&
         name[name.size() - zone.size() - 1] == '.';
}

}  // namespace certfleet::config
