// Enrollment: a fresh identity key, a CSR, and a bootstrap token exchanged
// for an identity certificate (Enrollment.Enroll) over TLS that trusts the
// coordinator's CA from the agent's configuration. Coordinators are tried
// in turn.
//
//   ASSIGN_OR_RETURN(Identity id, Enroll({.coordinators = cfg.coordinators,
//       .coordinator_ca_pem = ca, .token = token, .hostname = host}));
//   RETURN_IF_ERROR(IdentityStore(cfg.identity_dir, fs).Save(id));
#ifndef CERTFLEET_AGENT_CLIENT_ENROLL_H_
#define CERTFLEET_AGENT_CLIENT_ENROLL_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/client/identity.h"

namespace certfleet::agent {

struct EnrollOptions {
  std::vector<std::string> coordinators;  // "host:port"
  std::string coordinator_ca_pem;
  std::string token;
  std::string hostname;
  std::map<std::string, std::string> labels;
  absl::Duration timeout = absl::Seconds(30);
};

absl::StatusOr<Identity> Enroll(const EnrollOptions& options);

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_CLIENT_ENROLL_H_
