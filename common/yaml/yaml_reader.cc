#include "common/yaml/yaml_reader.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/yaml/duration.h"
#include "common/yaml/env_expand.h"

namespace certfleet::yaml {
namespace {

constexpr int kMaxSuggestionDistance = 2;

std::string JoinPath(absl::string_view parent, absl::string_view key) {
  if (parent.empty()) return std::string(key);
  return absl::StrCat(parent, ".", key);
}

// A null value has no useful position of its own (yaml-cpp points at the
// next token), so such a field points at `fallback`.
YAML::Mark MarkFor(const YAML::Node& value, const YAML::Mark& fallback) {
  if (!value.IsDefined() || value.IsNull() || value.Mark().is_null()) {
    return fallback;
  }
  return value.Mark();
}

}  // namespace

const char* DescribeNodeType(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  return "a scalar";
}

int EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diagonal = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

Field Mapping::Get(absl::string_view key) const {
  Field f;
  f.path = JoinPath(self_.path, key);
  f.mark = self_.mark;
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    f.node.reset(it->second.second);
    f.mark = MarkFor(f.node, it->second.first.Mark());
  } else {
    f.node.reset(YAML::Node(YAML::NodeType::Undefined));
  }
  return f;
}

Field Reader::Root(const YAML::Node& node) {
  Field f;
  f.node.reset(node);
  f.mark = node.Mark();
  return f;
}

void Reader::Error(const Field& field, absl::string_view message) {
  diags_.Add(field.mark, field.path, message);
}

Mapping Reader::Map(const Field& field, absl::Span<const char* const> known) {
  Mapping m;
  m.self_.node.reset(field.node);
  m.self_.path = field.path;
  m.self_.mark = field.mark;
  if (!field.present()) return m;
  if (!field.node.IsMap()) {
    Error(field, absl::StrCat("expected a mapping, got ",
                              DescribeNodeType(field.node)));
    return m;
  }
  for (auto it = field.node.begin(); it != field.node.end(); ++it) {
    const YAML::Node key_node = it->first;
    if (!key_node.IsScalar()) {
      diags_.Add(key_node.Mark(), field.path,
                 absl::StrCat("expected a field name, got ",
                              DescribeNodeType(key_node)));
      continue;
    }
    const std::string key = key_node.Scalar();
    const std::string path = JoinPath(field.path, key);
    if (std::find_if(known.begin(), known.end(),
                     [&](const char* k) { return key == k; }) == known.end()) {
      const char* best = nullptr;
      int best_distance = kMaxSuggestionDistance + 1;
      for (const char* k : known) {
        const int d = EditDistance(key, k);
        if (d < best_distance) {
          best = k;
          best_distance = d;
        }
      }
      if (best != nullptr) {
        diags_.Add(key_node.Mark(), path,
                   absl::StrCat("unknown field \"", key, "\"; did you mean \"",
                                best, "\"?"));
      } else {
        diags_.Add(
            key_node.Mark(), path,
            absl::StrCat("unknown field \"", key, "\" (expected one of: ",
                         absl::StrJoin(known, ", "), ")"));
      }
      continue;
    }
    auto [pos, inserted] =
        m.entries_.emplace(key, std::make_pair(key_node, it->second));
    if (!inserted) {
      diags_.Add(key_node.Mark(), path,
                 absl::StrCat("field given twice (first at line ",
                              pos->second.first.Mark().line + 1, ")"));
    }
  }
  return m;
}

std::vector<Field> Reader::List(const Field& field) {
  std::vector<Field> out;
  if (!field.present()) return out;
  if (!field.node.IsSequence()) {
    Error(field,
          absl::StrCat("expected a list, got ", DescribeNodeType(field.node)));
    return out;
  }
  for (size_t i = 0; i < field.node.size(); ++i) {
    Field f;
    // reset(), not operator=: yaml-cpp's assignment rewrites the node the
    // left side already refers to.
    f.node.reset(field.node[i]);
    f.path = absl::StrCat(field.path, "[", i, "]");
    f.mark = MarkFor(f.node, field.mark);
    out.push_back(std::move(f));
  }
  return out;
}

bool Reader::Required(const Field& field) {
  if (field.present()) return true;
  Error(field, "required field is missing");
  return false;
}

std::optional<std::string> Reader::Scalar(const Field& field,
                                          absl::string_view expected) {
  if (!field.present()) return std::nullopt;
  if (!field.node.IsScalar()) {
    Error(field, absl::StrCat("expected ", expected, ", got ",
                              DescribeNodeType(field.node)));
    return std::nullopt;
  }
  absl::StatusOr<std::string> expanded =
      ExpandVariables(field.node.Scalar(), getenv_);
  if (!expanded.ok()) {
    Error(field, expanded.status().message());
    return std::nullopt;
  }
  return *std::move(expanded);
}

bool Reader::String(const Field& field, std::string* out) {
  std::optional<std::string> text = Scalar(field);
  if (!text.has_value()) return false;
  *out = *std::move(text);
  return true;
}

bool Reader::Int(const Field& field, int min, int max, int* out) {
  std::optional<std::string> text = Scalar(field, "an integer");
  if (!text.has_value()) return false;
  int64_t value = 0;
  if (!absl::SimpleAtoi(*text, &value)) {
    Error(field, absl::StrCat("expected an integer, got \"", *text, "\""));
    return false;
  }
  if (value < min || value > max) {
    Error(field, max == INT_MAX
                     ? absl::StrCat("must be at least ", min, ", got ", value)
                     : absl::StrCat("must be from ", min, " to ", max, ", got ",
                                    value));
    return false;
  }
  *out = static_cast<int>(value);
  return true;
}

bool Reader::PositiveDouble(const Field& field, double* out) {
  std::optional<std::string> text = Scalar(field, "a number");
  if (!text.has_value()) return false;
  double value = 0;
  if (!absl::SimpleAtod(*text, &value) || !std::isfinite(value)) {
    Error(field, absl::StrCat("expected a number, got \"", *text, "\""));
    return false;
  }
  if (value <= 0) {
    Error(field, absl::StrCat("must be greater than 0, got ", *text));
    return false;
  }
  *out = value;
  return true;
}

bool Reader::Bool(const Field& field, bool* out) {
  std::optional<std::string> text = Scalar(field, "true or false");
  if (!text.has_value()) return false;
  const std::string lower = absl::AsciiStrToLower(*text);
  if (lower != "true" && lower != "false") {
    Error(field, absl::StrCat("expected true or false, got \"", *text, "\""));
    return false;
  }
  *out = lower == "true";
  return true;
}

bool Reader::PositiveDuration(const Field& field, absl::Duration* out) {
  return BoundedDuration(field, /*zero_allowed=*/false, out);
}

bool Reader::NonNegativeDuration(const Field& field, absl::Duration* out) {
  return BoundedDuration(field, /*zero_allowed=*/true, out);
}

bool Reader::BoundedDuration(const Field& field, bool zero_allowed,
                             absl::Duration* out) {
  std::optional<std::string> text = Scalar(field, "a duration");
  if (!text.has_value()) return false;
  absl::StatusOr<absl::Duration> d = ParseConfigDuration(*text);
  if (!d.ok()) {
    Error(field, d.status().message());
    return false;
  }
  if (zero_allowed && *d < absl::ZeroDuration()) {
    Error(field, absl::StrCat("must not be negative, got \"", *text, "\""));
    return false;
  }
  if (!zero_allowed && *d <= absl::ZeroDuration()) {
    Error(field, absl::StrCat("must be positive, got \"", *text, "\""));
    return false;
  }
  *out = *d;
  return true;
}

std::vector<std::pair<Field, std::string>> Reader::Strings(const Field& field) {
  std::vector<std::pair<Field, std::string>> out;
  for (Field& element : List(field)) {
    if (!element.present()) {
      Error(element, "empty list element");
      continue;
    }
    std::optional<std::string> text = Scalar(element);
    if (text.has_value())
      out.emplace_back(std::move(element), *std::move(text));
  }
  return out;
}

}  // namespace certfleet::yaml
