#include "common/yaml/env_expand.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace certfleet::yaml {
namespace {

bool IsVariableName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name.front())) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> ExpandVariables(
    absl::string_view text,
    const std::function<std::optional<std::string>(const std::string&)>&
        getenv) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$' || i + 1 == text.size()) {
      out.push_back(c);
      ++i;
      continue;
    }
    const char next = text[i + 1];
    if (next == '$') {
      out.push_back('$');
      i += 2;
      continue;
    }
    if (next != '{') {
      out.push_back(c);
      ++i;
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"${\" without a closing \"}\" (write \"$$\" for a literal \"$\")"));
    }
    const std::string name(text.substr(i + 2, close - i - 2));
    if (!IsVariableName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"${", name,
                       "}\" is not a variable reference (names are letters, "
                       "digits and _; write \"$$\" for a literal \"$\")"));
    }
    std::optional<std::string> value = getenv ? getenv(name) : std::nullopt;
    if (!value.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable ", name, " is not set"));
    }
    out.append(*value);
    i = close + 1;
  }
  return out;
}

}  // namespace certfleet::yaml
