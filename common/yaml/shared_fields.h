// Fields that agent.yaml and coordinator.yaml read alike: file paths,
// relative ones resolved against the configuration file's directory, and
// the names configuration gives to things (common/names.h), so that both
// files accept and refuse the same text with the same words.
//
//   std::string bundle;
//   ReadPath(reader, m.Get("trust_bundle"), "/etc/certfleet",
//            /*required=*/false, &bundle);
//   ReadObjectName(reader, m.Get("name"), "target name", &target.name);
#ifndef CERTFLEET_COMMON_YAML_SHARED_FIELDS_H_
#define CERTFLEET_COMMON_YAML_SHARED_FIELDS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "common/yaml/yaml_reader.h"

namespace certfleet::yaml {

// `path` itself when absolute (or `base_dir` is ""), else base_dir/path
// with any leading "./" dropped.
std::string ResolvePath(const std::string& base_dir, const std::string& path);

// A file path, resolved against `base_dir`. Returns true when a non-empty
// path was read; when `required`, reports a missing or empty one.
bool ReadPath(Reader& reader, const Field& field, const std::string& base_dir,
              bool required, std::string* out);

// A required name in the grammar of common/names.h; `what` names it in the
// message ("\"a b\" is not a valid target name (letters, ...)").
bool ReadObjectName(Reader& reader, const Field& field, absl::string_view what,
                    std::string* out);

}  // namespace certfleet::yaml

#endif  // CERTFLEET_COMMON_YAML_SHARED_FIELDS_H_
