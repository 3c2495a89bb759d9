// The flags all three binaries (certfleet-coordinator, certfleet-agent,
// certfleetctl) read the same way, with the same words when they are wrong:
// -o / --output table|json and --log-level debug|info|warning|error, each
// read from a FlagReader positioned on the flag; and the command line the
// two daemons' own commands share (--config FILE, --log-level).
//
//   if (flags.flag() == "-o" || flags.flag() == "--output") {
//     ASSIGN_OR_RETURN(out.json, ReadOutputFlag(flags));
//   } else if (flags.flag() == "--log-level") {
//     RETURN_IF_ERROR(ReadLogLevelFlag(flags));
//   }
#ifndef CERTFLEET_COMMON_STANDARD_FLAGS_H_
#define CERTFLEET_COMMON_STANDARD_FLAGS_H_

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/flag_reader.h"

namespace certfleet {

// -o's value: true for "json", false for "table". kInvalidArgument
// "-o: "<value>" is not one of table, json", or Value()'s error.
absl::StatusOr<bool> ReadOutputFlag(FlagReader& flags);

// --log-level's value, applied at once (SetLogLevel), so that what the
// command logs next is at that level. kInvalidArgument "--log-level:
// "<value>" is not one of debug, info, warning, error", or Value()'s error.
absl::Status ReadLogLevelFlag(FlagReader& flags);

// The command line after the program's name for the daemons' commands
// (the coordinator's serve, check-config, status; every agent command):
// COMMAND into `command`, then --config FILE or -c FILE (for check-config
// also a bare FILE) into `config`, --log-level, and whatever `other`
// reads — it returns false for a flag it does not know. The first problem:
// kInvalidArgument "no command given", "unknown argument "<arg>"", "no
// configuration file given (--config FILE)" (but for the version
// command), or what a flag's reader said.
absl::Status ReadDaemonCommandLine(
    const std::vector<std::string>& args, std::string& command,
    std::string& config,
    absl::FunctionRef<absl::StatusOr<bool>(FlagReader&)> other);

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_STANDARD_FLAGS_H_
