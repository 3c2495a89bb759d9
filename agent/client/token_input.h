// Where `certfleet-agent enroll` reads its bootstrap token: a file, or
// standard input ("-"). Never from the command line: /proc/<pid>/cmdline is
// readable by every user of the host, and whoever reads the token first can
// enroll a host of their own with its labels — and receive the private keys
// those labels select.
//
//   certfleet-agent enroll --config agent.yaml --token-file /run/token
//   printf %s "$TOKEN" | certfleet-agent enroll -c agent.yaml --token-file -
//
//   ASSIGN_OR_RETURN(TokenInput in, ReadTokenInput(args.token_file));
//   for (const std::string& w : in.warnings) fprintf(stderr, "%s\n", ...);
#ifndef CERTFLEET_AGENT_CLIENT_TOKEN_INPUT_H_
#define CERTFLEET_AGENT_CLIENT_TOKEN_INPUT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace certfleet::agent {

struct TokenInput {
  std::string token;
  // Worth telling the operator (e.g. a token file others can read).
  std::vector<std::string> warnings;
};

// Tokens are short (tens of characters); more than this is not a token.
inline constexpr size_t kMaxTokenFileBytes = 4096;

// Reads the token from `path`, or from `stdin_fd` when `path` is "-": the
// whole content with surrounding white space (a trailing newline) removed.
// kInvalidArgument when it is empty, longer than kMaxTokenFileBytes, or
// holds white space or control characters inside; the file's own error
// (kNotFound, kPermissionDenied...) naming it otherwise. A regular file
// readable by group or others gets a warning.
absl::StatusOr<TokenInput> ReadTokenInput(const std::string& path,
                                          int stdin_fd = 0);

// The warning printed when the token is given as --token on the command
// line (kept so existing provisioning scripts keep working).
extern const char kTokenOnCommandLineWarning[];

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_CLIENT_TOKEN_INPUT_H_
