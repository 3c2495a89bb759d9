#include "common/metrics/names.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace certfleet::metrics {
namespace {

bool IsLetterOrUnderscore(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

absl::Status ValidateMetricName(absl::string_view name) {
  bool ok = !name.empty() && (IsLetterOrUnderscore(name[0]) || name[0] == ':');
  for (size_t i = 1; ok && i < name.size(); ++i) {
    const char c = name[i];
    ok = IsLetterOrUnderscore(c) || IsDigit(c) || c == ':';
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid metric name \"", name,
                     "\": must match [a-zA-Z_:][a-zA-Z0-9_:]*"));
  }
  return absl::OkStatus();
}

absl::Status ValidateLabelName(absl::string_view name) {
  bool ok = !name.empty() && IsLetterOrUnderscore(name[0]);
  for (size_t i = 1; ok && i < name.size(); ++i) {
    ok = IsLetterOrUnderscore(name[i]) || IsDigit(name[i]);
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid label name \"", name,
                     "\": must match [a-zA-Z_][a-zA-Z0-9_]*"));
  }
  if (absl::StartsWith(name, "__")) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid label name \"", name,
                     "\": names starting with \"__\" are reserved"));
  }
  return absl::OkStatus();
}

absl::Status ValidateLabelNames(absl::string_view metric,
                                const std::vector<std::string>& names) {
  absl::flat_hash_set<absl::string_view> seen;
  for (const std::string& name : names) {
    absl::Status status = ValidateLabelName(name);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric \"", metric, "\": ", status.message()));
    }
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metric \"", metric, "\": label name \"", name, "\" appears twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace certfleet::metrics
