// The lab of the attack tests: a real certfleet-agent process (run as root,
// as in production) connected to a FakeCoordinator, with two targets —
// "www", the one attacked, and "ok" beside it, which must keep working —
// and a hostile local user: shell commands run as `nobody:nogroup` with no
// supplementary groups (setpriv). Around the targets lie decoys the attacks
// aim at (a secret readable by root only, a decoy /etc, a victim
// directory); Snapshot() records them (type, mode, owner, content, link
// target) so that a test can show nothing outside the target changed.
//
// Layout of the temporary root (mode 0755, so `nobody` can reach what the
// test hands it):
//   agent/            the agent's config, identity and log (root, 0700)
//   ok/               target "ok"
//   secret            "TOP SECRET" (root:root 0640: nobody cannot read it)
//   decoy-etc/        passwd, shadow (0640), ssl/certs/ca.pem
//   victim/keep.txt   a directory an attacker wants removed
//
//   TEST_F(AttackTest, X) {
//     const std::string www = Foothold("www");  // owned by nobody
//     AsNobody("ln -s " + File("secret") + " " + www + "/fullchain.pem");
//     const Snapshot before = TakeSnapshot({www});
//     WriteConfig(www);
//     StartAgent();
//     ...
//   }
#ifndef CERTFLEET_TESTS_AGENT_ATTACK_ATTACK_FIXTURE_H_
#define CERTFLEET_TESTS_AGENT_ATTACK_ATTACK_FIXTURE_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/agent_attack/fake_coordinator.h"
#include "tests/harness/server_process.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::agent_attack {

// Path (relative to the lab root) → "type mode uid:gid" and the content of
// a regular file or the target of a link. Links are not followed.
using Snapshot = std::map<std::string, std::string>;

class AttackTest : public ::testing::Test {
 protected:
  static constexpr absl::Duration kWait = absl::Seconds(20);

  void SetUp() override;
  void TearDown() override;

  // <lab root>/<rel>.
  std::string File(const std::string& rel) const { return tmp_.File(rel); }

  // Runs `script` with /bin/sh as nobody:nogroup, no supplementary groups;
  // fails the test (with its stderr) when it does not exit 0.
  void AsNobody(const std::string& script);
  // Runs `script` with /bin/sh as root (planting "through another hole").
  void AsRoot(const std::string& script);

  // A directory <lab root>/<rel> made by root (mode 0755) and then given to
  // nobody:nogroup: the attacker's foothold (a misconfiguration point 2
  // refuses).
  std::string Foothold(const std::string& rel);
  // A directory <lab root>/<rel> (and its parents) made by root, mode 0755.
  std::string RootDir(const std::string& rel);

  // agent.yaml with target "www" in `www_dir` and "ok" in <lab root>/ok;
  // both want www.example.test, a fullchain.pem (fullchain) and a
  // privkey.pem (key), reload /bin/true, no health checks. `www_extra`
  // (YAML lines, indented for a target's fields) is added to "www".
  void WriteConfig(const std::string& www_dir,
                   const std::string& www_extra = "");
  // `failpoint`: CERTFLEET_FAILPOINT for the process (common/failpoint.h).
  void StartAgent(const std::string& failpoint = "");
  // SIGTERM, then waits for the agent's end.
  void StopAgent();
  // `certfleet-agent check-config` of the current config: exit status and
  // stderr + stdout.
  std::pair<int, std::string> CheckConfig();
  // The agent's log so far.
  std::string AgentLog() const;
  // The log lines at error level ("... E ...").
  std::vector<std::string> ErrorLines() const;

  // Version web/<n> of certificate "web" for `target`: www.example.test,
  // serial 5e<n as two hex digits>, from the lab's test CA.
  v1::DesiredBundle MakeBundle(const std::string& target, int n) const;
  // Sends MakeBundle(target, n) and waits for its delivery result.
  v1::DeliveryResult Deliver(const std::string& target, int n);
  // The number of inventories received so far (one per stream).
  int Inventories() const;

  // The lab tree without `skip` (absolute paths whose subtrees are left out,
  // e.g. the target itself), and without agent/ and ok/.
  Snapshot TakeSnapshot(const std::set<std::string>& skip = {}) const;
  // Every file under `dir` (not following links) whose mode has set-uid,
  // set-gid or sticky, and every file whose content is the secret's.
  std::vector<std::string> Suspicious(const std::string& dir) const;

  certfleet::testing::TempDir tmp_{"agent-attack"};
  std::unique_ptr<FakeCoordinator> coordinator_;
  std::unique_ptr<harness::ServerProcess> agent_;
  std::string config_;
};

}  // namespace certfleet::agent_attack

#endif  // CERTFLEET_TESTS_AGENT_ATTACK_ATTACK_FIXTURE_H_
