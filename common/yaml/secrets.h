// Files holding secrets (TSIG secrets, EAB MAC keys, the key-encryption key)
// must be private to their owner: a file that group or others can read or
// write could leak or be replaced, so certfleet refuses it rather than warn.
//
//   RETURN_IF_ERROR(CheckPrivateFile(fs, "/etc/certfleet/kek"));
//   ASSIGN_OR_RETURN(std::string secret, ReadSecretFile(fs, path));
#ifndef CERTFLEET_COMMON_YAML_SECRETS_H_
#define CERTFLEET_COMMON_YAML_SECRETS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/filesystem.h"

namespace certfleet::yaml {

// kNotFound when `path` does not exist; kFailedPrecondition when it is a
// directory; kPermissionDenied when any group/other permission bit is set
// (the message shows the mode and the chmod that fixes it).
absl::Status CheckPrivateFile(Filesystem& fs, const std::string& path);

// CheckPrivateFile, then the contents with surrounding white space removed.
// A BIND key file (`key "x" { algorithm ...; secret "..."; };`, as written
// by tsig-keygen) yields the quoted secret. kInvalidArgument when empty.
absl::StatusOr<std::string> ReadSecretFile(Filesystem& fs,
                                           const std::string& path);

}  // namespace certfleet::yaml

#endif  // CERTFLEET_COMMON_YAML_SECRETS_H_
