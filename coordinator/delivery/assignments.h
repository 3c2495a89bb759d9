// Which certificate each agent target receives, from the certificates'
// `targets` selectors in the coordinator's configuration: a selector picks
// every agent carrying all of its labels (none = every agent) that
// declares a target of that name in its own configuration.
//
// Loading the configuration refuses two certificates whose selectors can
// both pick the same target in the obvious ways (identical, or one a subset
// of the other); in any remaining overlap the certificate listed first wins,
// consistently in For and Selects.
//
//   Assignments assignments(config.certificates);
//   for (const Assignment& a : assignments.For(agent.labels, {"nginx"})) {
//     // deliver the current version of a.certificate to target a.target
//   }
#ifndef CERTFLEET_COORDINATOR_DELIVERY_ASSIGNMENTS_H_
#define CERTFLEET_COORDINATOR_DELIVERY_ASSIGNMENTS_H_

#include <map>
#include <string>
#include <vector>

#include "coordinator/config/config.h"

namespace certfleet::delivery {

class Assignments {
 public:
  explicit Assignments(const std::vector<config::CertificateConfig>& certs);

  struct Assignment {
    std::string target;       // the agent's target name
    std::string certificate;  // the certificate's name

    bool operator==(const Assignment&) const = default;
  };

  // What an agent with `labels` should serve on each of `agent_targets`
  // (the target names it reported), in the order reported; a target no
  // certificate selects is left out, and so is a repeated name.
  std::vector<Assignment> For(
      const std::map<std::string, std::string>& labels,
      const std::vector<std::string>& agent_targets) const;

  // True when `certificate` is what an agent with `labels` gets on
  // `target` — for finding the agents to notify when a certificate has a new
  // version.
  bool Selects(const std::string& certificate,
               const std::map<std::string, std::string>& labels,
               const std::string& target) const;

 private:
  // The certificate an agent with `labels` gets on `target`; nullptr when
  // none.
  const std::string* CertificateFor(
      const std::map<std::string, std::string>& labels,
      const std::string& target) const;

  struct Rule {
    std::string certificate;
    std::map<std::string, std::string> agent_labels;
  };
  // target name → selectors in configuration order.
  std::map<std::string, std::vector<Rule>> rules_;
};

}  // namespace certfleet::delivery

#endif  // CERTFLEET_COORDINATOR_DELIVERY_ASSIGNMENTS_H_
