// What an install takes and gives back: the bundle a coordinator delivers
// for one target, the outcome of installing it, and what a target serves.
//
//   Bundle bundle{.target = "www", .version_id = "www/7", .leaf_pem = leaf,
//                 .chain_pem = chain, .key_pem = key};
//   InstallOutcome outcome = manager.Install(bundle, ctx);
//   if (!outcome.ok) Report(outcome.failed_step, outcome.error);
#ifndef CERTFLEET_AGENT_INSTALL_BUNDLE_H_
#define CERTFLEET_AGENT_INSTALL_BUNDLE_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "common/delivery_step.h"

namespace certfleet::agent {

// One version of a certificate, for one target.
struct Bundle {
  // Target name from the agent's configuration.
  std::string target;
  // Opaque, stable id of the version ("<certificate>/<n>"). Only ever used
  // in a sanitized form on disk.
  std::string version_id;
  // The certificate's name at the coordinator (for logs and the inventory).
  std::string certificate;
  std::string leaf_pem;
  // Intermediates, the leaf's issuer first.
  std::string chain_pem;
  // The private key, PEM (PKCS#8, SEC1 or PKCS#1; written as PKCS#8).
  std::string key_pem;
  // As the coordinator states it; the certificate's own notAfter is what
  // counts.
  absl::Time not_after = absl::InfinitePast();
};

// The result of TargetManager::Install.
struct InstallOutcome {
  bool ok = false;
  // When not ok: kVerify, kWrite, kSwap, kReload or kHealth.
  std::optional<DeliveryStep> failed_step;
  // What went wrong: the check that refused the bundle, the file that could
  // not be written, how the reload ended with an excerpt of its stderr, the
  // health check's answer; plus what the rollback did.
  std::string error;
  // The previous version is in place again after a failure (false when
  // nothing had been touched, or there was no previous version).
  bool rolled_back = false;
};

// An install that failed on the host with no delivery to answer: one that
// a killed agent left half done and its recovery rolled back (the delivery
// that started it never got a result). Reported in every inventory until a
// later install of the target succeeds, so the coordinator records the
// version as failed on this host and does not send it again.
struct LocalFailure {
  // The coordinator's version id ("<certificate>/<n>").
  std::string version_id;
  // kSwap, kReload or kHealth (kUnknown for a rollback an agent of an
  // earlier release began), and what went wrong (with what the rollback
  // did).
  DeliveryStep failed_step = DeliveryStep::kUnknown;
  std::string error;
  // The previous version is in place again.
  bool rolled_back = false;

  bool operator==(const LocalFailure&) const = default;
};

// What a target serves, for the inventory sent to the coordinator.
struct TargetStatus {
  std::string name;
  // "" when nothing is installed.
  std::string version_id;
  // Lower-case hex serial of the served leaf.
  std::string serial;
  absl::Time not_after = absl::InfinitePast();
  // The result of the last health check ("not checked yet" after a start).
  bool healthy = false;
  std::string health_detail;
  // See LocalFailure; nullopt when there is none.
  std::optional<LocalFailure> last_failure;
  // Why the agent distrusts or cannot use the target's directory: it is
  // refused (a link, another owner, writable by others, on the way to it),
  // or its journal failed validation and was moved aside. "" when none.
  std::string state_problem;
};

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_INSTALL_BUNDLE_H_
