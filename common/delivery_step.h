// The steps of installing a delivered certificate on an agent's target, and
// their stable names: what the agent journals on disk (state_files.h), sends
// in a DeliveryResult or LocalFailure (agent.proto's failed_step), and what
// the coordinator records and operators read in `last_error` ("reload:
// nginx -s reload exited with status 1 ..."). The names never change:
// journals and stores written by earlier releases hold them.
//
//   InstallOutcome outcome{.failed_step = DeliveryStep::kReload, ...};
//   proto.set_failed_step(std::string(DeliveryStepName(outcome.failed_step)));
//   std::optional<DeliveryStep> step = ParseDeliveryStep(proto.failed_step());
#ifndef CERTFLEET_COMMON_DELIVERY_STEP_H_
#define CERTFLEET_COMMON_DELIVERY_STEP_H_

#include <optional>
#include <ostream>

#include "absl/strings/string_view.h"

namespace certfleet {

enum class DeliveryStep {
  kVerify,  // the bundle was refused before anything was written
  kWrite,   // writing the new version's files
  kSwap,    // pointing the target at the new version
  kReload,  // reloading the service
  kHealth,  // the health checks of the served certificate
  // A rollback that an agent of an earlier release began, which did not
  // journal the step that failed.
  kUnknown,
};

// "verify", "write", "swap", "reload", "health", "unknown".
absl::string_view DeliveryStepName(DeliveryStep step);

// The step named `name`; nullopt for anything else ("" included).
std::optional<DeliveryStep> ParseDeliveryStep(absl::string_view name);

// Its name, for test output and logs; "(none)" for an empty optional (an
// install that did not fail).
std::ostream& operator<<(std::ostream& os, DeliveryStep step);
std::ostream& operator<<(std::ostream& os,
                         const std::optional<DeliveryStep>& step);

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_DELIVERY_STEP_H_
