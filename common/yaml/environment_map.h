// The environment a configuration hands to a program the daemons run (an
// exec DNS hook, a reload command, a command health check): a mapping of
// variable names to strings. Programs get nothing else of the daemon's
// environment but PATH and the locale (common/process_runner.h), so this is
// how an operator passes a secret on, by name:
//
//   env: {API_TOKEN: "${DNS_TOKEN}", ZONE_ID: "Z123"}
//
//   std::vector<std::pair<std::string, std::string>> env;
//   ReadEnvironment(reader, m.Get("env"), &env);
#ifndef CERTFLEET_COMMON_YAML_ENVIRONMENT_MAP_H_
#define CERTFLEET_COMMON_YAML_ENVIRONMENT_MAP_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/yaml/yaml_reader.h"

namespace certfleet::yaml {

// Letters, digits and "_", not starting with a digit (POSIX's portable
// names, which every shell can read back).
bool IsEnvironmentName(absl::string_view name);

// Appends each `NAME: value` of the mapping at `field` to `out`, in the
// file's order; a null value sets the variable to "". Reports a field that
// is not a mapping, an invalid name, a name given twice, a value that is not
// a string, and one holding a NUL byte (it would end the variable early).
// Returns false when anything was reported; absent = nothing to read, true.
bool ReadEnvironment(Reader& r, const Field& field,
                     std::vector<std::pair<std::string, std::string>>* out);

}  // namespace certfleet::yaml

#endif  // CERTFLEET_COMMON_YAML_ENVIRONMENT_MAP_H_
