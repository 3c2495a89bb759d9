#include "common/yaml/shared_fields.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/names.h"

namespace certfleet::yaml {

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  absl::string_view rel = path;
  while (absl::StartsWith(rel, "./")) rel.remove_prefix(2);
  if (base_dir.back() == '/') return absl::StrCat(base_dir, rel);
  return absl::StrCat(base_dir, "/", rel);
}

bool ReadPath(Reader& reader, const Field& field, const std::string& base_dir,
              bool required, std::string* out) {
  if (required && !reader.Required(field)) return false;
  std::string path;
  if (!reader.String(field, &path)) return false;
  if (path.empty()) {
    if (required) reader.Error(field, "must not be empty");
    return false;
  }
  *out = ResolvePath(base_dir, path);
  return true;
}

bool ReadObjectName(Reader& reader, const Field& field, absl::string_view what,
                    std::string* out) {
  if (!reader.Required(field)) return false;
  std::string name;
  if (!reader.String(field, &name)) return false;
  if (!IsObjectName(name)) {
    reader.Error(field, absl::StrCat("\"", name, "\" is not a valid ", what,
                                     " (", kObjectNameGrammar, ")"));
    return false;
  }
  *out = std::move(name);
  return true;
}

}  // namespace certfleet::yaml
