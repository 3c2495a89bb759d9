#include "agent/client/coordinator_rotation.h"

#include <utility>

namespace certfleet::agent {

CoordinatorRotation::CoordinatorRotation(std::vector<std::string> addresses)
    : addresses_(std::move(addresses)) {}

const std::string& CoordinatorRotation::Next() {
  for (size_t i = 0; i < addresses_.size(); ++i) {
    const std::string& a = addresses_[next_++ % addresses_.size()];
    if (!silent_.contains(a)) return a;
  }
  // Every one is silent: in turn, as without marks.
  return addresses_[next_++ % addresses_.size()];
}

void CoordinatorRotation::MarkSilent(const std::string& address) {
  silent_.insert(address);
}

void CoordinatorRotation::MarkHeard(const std::string& address) {
  silent_.erase(address);
}

bool CoordinatorRotation::silent(const std::string& address) const {
  return silent_.contains(address);
}

}  // namespace certfleet::agent
