#include "common/standard_flags.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace certfleet {

absl::StatusOr<bool> ReadOutputFlag(FlagReader& flags) {
  ASSIGN_OR_RETURN(const std::string value, flags.Value());
  if (value != "json" && value != "table") {
    return absl::InvalidArgumentError(
        absl::StrCat("-o: \"", value, "\" is not one of table, json"));
  }
  return value == "json";
}

absl::Status ReadLogLevelFlag(FlagReader& flags) {
  ASSIGN_OR_RETURN(const std::string value, flags.Value());
  LogLevel level;
  if (!ParseLogLevel(value, &level)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-level: \"", value,
                     "\" is not one of debug, info, warning, error"));
  }
  SetLogLevel(level);
  return absl::OkStatus();
}

absl::Status ReadDaemonCommandLine(
    const std::vector<std::string>& args, std::string& command,
    std::string& config,
    absl::FunctionRef<absl::StatusOr<bool>(FlagReader&)> other) {
  if (args.empty()) return absl::InvalidArgumentError("no command given");
  command = args[0];
  FlagReader flags(args, /*first=*/1);
  while (flags.Next()) {
    const std::string& flag = flags.flag();
    if (flag == "--config" || flag == "-c") {
      ASSIGN_OR_RETURN(config, flags.Value());
    } else if (flag == "--log-level") {
      RETURN_IF_ERROR(ReadLogLevelFlag(flags));
    } else if (command == "check-config" && config.empty() &&
               flags.arg()[0] != '-') {
      config = flags.arg();
    } else {
      ASSIGN_OR_RETURN(const bool known, other(flags));
      if (!known) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown argument \"", flags.arg(), "\""));
      }
    }
  }
  if (config.empty() && command != "version") {
    return absl::InvalidArgumentError(
        "no configuration file given (--config FILE)");
  }
  return absl::OkStatus();
}

}  // namespace certfleet
