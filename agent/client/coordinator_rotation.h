// Which coordinator the agent dials next: each in turn, except that one
// found silent (hung: its stream went quiet, or it never answered) is not
// dialed while another has not been — a frozen replica keeps accepting TCP
// connections, and dialing it again would cost the agent another silence
// limit. A coordinator is forgiven as soon as a stream to it is heard from;
// when every one is silent, all are tried in turn.
//
//   CoordinatorRotation rotation(options.coordinators);
//   const std::string address = rotation.Next();
//   ... rotation.MarkSilent(address) / rotation.MarkHeard(address);
#ifndef CERTFLEET_AGENT_CLIENT_COORDINATOR_ROTATION_H_
#define CERTFLEET_AGENT_CLIENT_COORDINATOR_ROTATION_H_

#include <set>
#include <string>
#include <vector>

namespace certfleet::agent {

class CoordinatorRotation {
 public:
  // `addresses` must not be empty (the configuration requires one).
  explicit CoordinatorRotation(std::vector<std::string> addresses);

  const std::string& Next();
  void MarkSilent(const std::string& address);
  void MarkHeard(const std::string& address);
  bool silent(const std::string& address) const;

 private:
  const std::vector<std::string> addresses_;
  size_t next_ = 0;
  std::set<std::string> silent_;
};

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_CLIENT_COORDINATOR_ROTATION_H_
