// ${VAR} substitution in configuration values, so one file serves several
// hosts and secrets can stay out of it:
//
//   directory: https://127.0.0.1:${CERTFLEET_LAB_ACME_PORT}/dir
//
// "$$" stands for one "$"; a "$" followed by anything else is kept as it is.
// The substituted text is not expanded again.
//
//   absl::StatusOr<std::string> v = ExpandVariables("${HOME}/kek", getenv_fn);
#ifndef CERTFLEET_COMMON_YAML_ENV_EXPAND_H_
#define CERTFLEET_COMMON_YAML_ENV_EXPAND_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certfleet::yaml {

// kInvalidArgument naming the problem: an unset variable ("environment
// variable FOO is not set"), "${" without "}", or a name that is not
// [A-Za-z_][A-Za-z0-9_]*.
absl::StatusOr<std::string> ExpandVariables(
    absl::string_view text,
    const std::function<std::optional<std::string>(const std::string&)>&
        getenv);

}  // namespace certfleet::yaml

#endif  // CERTFLEET_COMMON_YAML_ENV_EXPAND_H_
