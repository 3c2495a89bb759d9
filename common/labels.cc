#include "common/labels.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace certfleet::labels {
namespace {

constexpr size_t kMaxLabelLength = 63;

bool ValidLabelPart(absl::string_view text, bool allow_slash) {
  if (text.empty() || text.size() > kMaxLabelLength ||
      !absl::ascii_isalnum(text.front())) {
    return false;
  }
  for (char c : text) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-' &&
        !(allow_slash && c == '/')) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status CheckLabel(absl::string_view key, absl::string_view value) {
  if (!ValidLabelPart(key, /*allow_slash=*/true)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "label key \"", key,
        "\" is not valid (1-63 letters, digits, \".\", \"_\", \"-\" and "
        "\"/\", starting with a letter or digit)"));
  }
  if (!ValidLabelPart(value, /*allow_slash=*/false)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "label ", key, ": value \"", value,
        "\" is not valid (1-63 letters, digits, \".\", \"_\" and \"-\", "
        "starting with a letter or digit)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Labels> ParseLabelList(absl::string_view text) {
  Labels out;
  if (absl::StripAsciiWhitespace(text).empty()) return out;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    item = absl::StripAsciiWhitespace(item);
    const size_t eq = item.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", item, "\" is not a label (write key=value)"));
    }
    const std::string key(absl::StripAsciiWhitespace(item.substr(0, eq)));
    const std::string value(absl::StripAsciiWhitespace(item.substr(eq + 1)));
    if (absl::Status s = CheckLabel(key, value); !s.ok()) return s;
    if (!out.emplace(key, value).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("label ", key, " is given twice"));
    }
  }
  return out;
}

std::string FormatLabels(const Labels& labels) {
  return absl::StrJoin(labels, ",", absl::PairFormatter("="));
}

bool LabelsMatch(const Labels& selector, const Labels& labels) {
  for (const auto& [key, value] : selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace certfleet::labels
