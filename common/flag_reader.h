// Walking a command line of "--flag value" and "--flag=value" arguments:
// the one flag reader of all three binaries (certfleet-coordinator and its
// subcommands, certfleet-agent, certfleetctl). The flags they share are read
// by common/standard_flags.h.
//
//   FlagReader flags(args, /*first=*/1);
//   while (flags.Next()) {
//     if (flags.flag() == "--name") {
//       ASSIGN_OR_RETURN(out.name, flags.Value());
//     } else {
//       return flags.Unknown("admin-identity create");
//     }
//   }
#ifndef CERTFLEET_COMMON_FLAG_READER_H_
#define CERTFLEET_COMMON_FLAG_READER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certfleet {

class FlagReader {
 public:
  // Reads `args` from index `first`; `args` must outlive the reader.
  FlagReader(const std::vector<std::string>& args, size_t first = 0)
      : args_(args), next_(first) {}

  // Moves to the next argument; false at the end.
  bool Next();
  // The current argument without an "=value" part ("--ttl" for "--ttl=1h").
  const std::string& flag() const { return flag_; }
  // The current argument as given.
  const std::string& arg() const { return args_[current_]; }
  // The flag's value: after "=", or the next argument (consumed).
  // kInvalidArgument "<flag> needs a value" when there is none.
  absl::StatusOr<std::string> Value();
  // kInvalidArgument "<who>: unknown argument "<arg>"".
  absl::Status Unknown(absl::string_view who) const;

 private:
  const std::vector<std::string>& args_;
  size_t next_;
  size_t current_ = 0;
  std::string flag_;
  std::optional<std::string> inline_value_;
};

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_FLAG_READER_H_
