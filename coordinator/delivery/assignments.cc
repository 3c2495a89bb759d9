#include "coordinator/delivery/assignments.h"

#include <set>

#include "common/labels.h"

namespace certfleet::delivery {

Assignments::Assignments(const std::vector<config::CertificateConfig>& certs) {
  for (const config::CertificateConfig& cert : certs) {
    for (const config::TargetSelector& selector : cert.targets) {
      rules_[selector.target].push_back(Rule{
          .certificate = cert.name, .agent_labels = selector.agent_labels});
    }
  }
}

const std::string* Assignments::CertificateFor(
    const std::map<std::string, std::string>& labels,
    const std::string& target) const {
  auto it = rules_.find(target);
  if (it == rules_.end()) return nullptr;
  for (const Rule& rule : it->second) {
    if (labels::LabelsMatch(rule.agent_labels, labels)) {
      return &rule.certificate;
    }
  }
  return nullptr;
}

std::vector<Assignments::Assignment> Assignments::For(
    const std::map<std::string, std::string>& labels,
    const std::vector<std::string>& agent_targets) const {
  std::vector<Assignment> out;
  std::set<std::string> seen;
  for (const std::string& target : agent_targets) {
    if (!seen.insert(target).second) continue;
    if (const std::string* cert = CertificateFor(labels, target)) {
      out.push_back(Assignment{.target = target, .certificate = *cert});
    }
  }
  return out;
}

bool Assignments::Selects(const std::string& certificate,
                          const std::map<std::string, std::string>& labels,
                          const std::string& target) const {
  const std::string* cert = CertificateFor(labels, target);
  return cert != nullptr && *cert == certificate;
}

}  // namespace certfleet::delivery
