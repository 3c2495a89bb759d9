#include "common/yaml/environment_map.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace certfleet::yaml {

bool IsEnvironmentName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name.front())) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

bool ReadEnvironment(Reader& r, const Field& field,
                     std::vector<std::pair<std::string, std::string>>* out) {
  if (!field.present()) return true;
  if (!field.node.IsMap()) {
    r.Error(field, absl::StrCat("expected a mapping, got ",
                                DescribeNodeType(field.node)));
    return false;
  }
  bool ok = true;
  std::set<std::string> seen;
  for (auto it = field.node.begin(); it != field.node.end(); ++it) {
    const YAML::Node key = it->first;
    Field value;
    value.node.reset(it->second);
    value.path =
        absl::StrCat(field.path, ".", key.IsScalar() ? key.Scalar() : "?");
    value.mark = it->second.IsNull() ? key.Mark() : it->second.Mark();
    if (!key.IsScalar() || !IsEnvironmentName(key.Scalar())) {
      r.Error(Field{key, value.path, key.Mark()},
              "not a valid environment variable name (letters, digits and "
              "_, not starting with a digit)");
      ok = false;
      continue;
    }
    if (!seen.insert(key.Scalar()).second) {
      r.Error(Field{key, value.path, key.Mark()}, "variable given twice");
      ok = false;
      continue;
    }
    std::string text;  // a null value sets the variable to ""
    if (value.present() && !r.String(value, &text)) {
      ok = false;
      continue;
    }
    if (text.find('\0') != std::string::npos) {
      r.Error(value, "holds a NUL byte, which cannot be in a variable");
      ok = false;
      continue;
    }
    out->emplace_back(key.Scalar(), std::move(text));
  }
  return ok;
}

}  // namespace certfleet::yaml
