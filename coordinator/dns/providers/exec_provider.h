// A DnsProvider that runs a configured program once per record, for DNS
// services certfleet has no native client for (the lego "exec" convention):
//
//   <argv...> present|cleanup <fqdn> <value>
//
// Its environment is built from scratch (common/process_runner.h): the
// configured `env`, CERTFLEET_ACTION, CERTFLEET_FQDN, CERTFLEET_VALUE and
// CERTFLEET_ZONE, PATH and the locale — never the coordinator's own
// variables. Exit status 0 means done.
//
//   SubprocessRunner runner;
//   ExecProvider hook("hook", {.argv = {"/usr/local/bin/dns-hook"},
//                              .timeout = absl::Seconds(30)}, runner);
//   RETURN_IF_ERROR(hook.Present("example.test.", records, ctx));
#ifndef CERTFLEET_COORDINATOR_DNS_PROVIDERS_EXEC_PROVIDER_H_
#define CERTFLEET_COORDINATOR_DNS_PROVIDERS_EXEC_PROVIDER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/process_runner.h"
#include "coordinator/dns/dns_provider.h"

namespace certfleet::dns {

struct ExecOptions {
  std::vector<std::string> argv;  // program and fixed leading arguments
  absl::Duration timeout = absl::Seconds(60);  // per run
  // The hook's variables (the CERTFLEET_* ones win over these).
  std::vector<std::pair<std::string, std::string>> env;
};

class ExecProvider : public DnsProvider {
 public:
  ExecProvider(std::string name, ExecOptions options, ProcessRunner& runner);

  const std::string& name() const override { return name_; }

  // Runs the program for each record in turn and stops at the first
  // failure: kUnavailable when it timed out (or could not be waited for),
  // kFailedPrecondition when it exited non-zero, was killed or could not be
  // started — with the command, how it ended and its stderr.
  absl::Status Present(const std::string& zone,
                       const std::vector<TxtRecord>& records,
                       const Context& ctx) override;
  // Runs every record even when one fails; the error names each failure.
  absl::Status CleanUp(const std::string& zone,
                       const std::vector<TxtRecord>& records,
                       const Context& ctx) override;

 private:
  absl::Status RunOne(const char* action, const std::string& zone,
                      const TxtRecord& record, const Context& ctx);

  const std::string name_;
  const ExecOptions options_;
  ProcessRunner& runner_;
};

}  // namespace certfleet::dns

#endif  // CERTFLEET_COORDINATOR_DNS_PROVIDERS_EXEC_PROVIDER_H_
