// Shared pieces of the agent's integration tests against real web servers
// (nginx, HAProxy, openssl): bundles from a test CA valid by the real clock,
// agent.yaml text for ParseAgentConfig, and ways to look at what a target
// holds on disk and what a server serves over TLS.
//
//   ASSERT_OK_AND_ASSIGN(AgentConfig config,
//                        ParseConfig(AgentYaml(tmp.path(), targets),
//                        tmp.path()));
//   RealAgent agent;
//   ASSERT_OK(agent.Start(config));
//   Bundle b = NextBundle("www");
//   InstallOutcome outcome = agent.manager->Install(b, Deadline());
//   ASSERT_TRUE(outcome.ok) << Describe(outcome);
//   EXPECT_OK(WaitUntilServed(nginx->address(), Serial(b)));
//   ASSERT_OK_AND_ASSIGN(std::string on_disk, MatchingSerial(
//       dir + "/key.pem", dir + "/fullchain.pem"));
#ifndef CERTFLEET_TESTS_AGENT_WEB_AGENT_WEB_SUPPORT_H_
#define CERTFLEET_TESTS_AGENT_WEB_AGENT_WEB_SUPPORT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/config/agent_config.h"
#include "agent/install/bundle.h"
#include "agent/install/health_checker.h"
#include "agent/install/target_manager.h"
#include "common/clock.h"
#include "common/context.h"
#include "common/metrics/registry.h"
#include "common/process_runner.h"
#include "gtest/gtest.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::agent::web_testing {

// The name every test certificate covers and every probe sends as SNI.
inline constexpr char kServerName[] = "www.example.test";

// The agent's install side built as the agent binary builds it: real
// processes, the real clock, the real health checks, and a metrics registry
// of its own (so each test sees only its own counts).
struct RealAgent {
  // Creates the manager over `config` and recovers every target.
  absl::Status Start(const AgentConfig& config);
  // MetricValue of `registry`.
  double Metric(const std::string& series) const;
  // The inventory entry of `target`; empty (name "") when there is none.
  TargetStatus Status(const std::string& target) const;

  SubprocessRunner runner;
  SystemClock clock;
  RealHealthChecker checker{runner};
  metrics::Registry registry;
  std::unique_ptr<TargetManager> manager;
};

// The test CA shared by every test of the binary.
const crypto::testing::TestCa& Ca();

// A bundle for `target`: a fresh P-256 key and a leaf for kServerName with
// serial `serial_hex`, valid from an hour ago for 30 days by the real clock
// (the agent checks validity with SystemClock, unlike the fake-clock tests).
Bundle WwwBundle(const std::string& target, const std::string& version_id,
                 const std::string& serial_hex);

// The lower-case hex serial of `bundle`'s leaf ("" when it does not parse).
std::string Serial(const Bundle& bundle);

// What a web server is configured with before the agent's first install:
// regular files (fullchain PEM, key PEM) holding `bundle`.
void WritePlaceholders(const Bundle& bundle, const std::string& fullchain_path,
                       const std::string& key_path);
// The same for HAProxy: one combined file (leaf, chain, key).
void WriteCombinedPlaceholder(const Bundle& bundle, const std::string& path);

// A fresh WwwBundle whose version id ("<target>/<n>") and serial
// (`serial_prefix` followed by four hex digits of n) were never handed out
// before in this process, so tests can run in any order and repeat.
// `serial_prefix` is even-length hex not starting with "00" (the serial is
// then printed back exactly as built).
Bundle NextBundle(const std::string& target,
                  const std::string& serial_prefix = "1a");

// `text` as a YAML double-quoted scalar.
std::string YamlString(const std::string& text);
// `items` as a YAML flow sequence of double-quoted strings.
std::string YamlList(const std::vector<std::string>& items);

// An agent.yaml: its required top part (coordinators, coordinator_ca —
// written into `dir` —, identity_dir) followed by `targets_yaml`, which
// starts with "targets:".
std::string AgentYaml(const std::string& dir, const std::string& targets_yaml);

// ParseAgentConfig of `yaml` as if read from `dir`/agent.yaml, with the real
// filesystem and an empty environment.
absl::StatusOr<AgentConfig> ParseConfig(const std::string& yaml,
                                        const std::string& dir);

// "ok" or "failed at STEP (rolled back): ERROR", for assertion messages.
std::string Describe(const InstallOutcome& outcome);

// A context that expires after `timeout`.
Context Deadline(absl::Duration timeout = absl::Seconds(60));

// Probes `address` (SNI kServerName) until it serves `serial`, then checks
// that 5 more probes over ≈ 150 ms serve it too (nginx lets its old worker
// accept for ≈ 100 ms after a reload). kDeadlineExceeded naming the last
// serial or error seen; kFailedPrecondition when another serial comes back
// after `serial` was seen.
absl::Status WaitUntilServed(const std::string& address,
                             const std::string& serial,
                             absl::Duration timeout = absl::Seconds(5));

// The serial (lower-case hex) of the first certificate in `cert_path` after
// checking that the private key in `key_path` matches it (both may be the
// same combined file). kFailedPrecondition on a mismatch; read and parse
// errors as they come.
absl::StatusOr<std::string> MatchingSerial(const std::string& key_path,
                                           const std::string& cert_path);

// The value of `series` ("name{labels}") in `registry`'s rendering; -1 when
// absent.
double MetricValue(const metrics::Registry& registry,
                   const std::string& series);

// readlink(`path`); "" when it is not a symbolic link.
std::string ReadLink(const std::string& path);

// What a target's `current` link holds while it serves `version_id`
// (".versions/<sanitized id>").
std::string CurrentLinkFor(const std::string& version_id);

// The complete version directories of the target in `dir`, sorted.
std::vector<std::string> VersionDirs(const std::string& dir);

// A suite sharing one lab (a web server and the parsed agent.yaml) across
// its tests, each with its own RealAgent over the lab's config and a fresh
// "base" version served before it starts. `Lab` provides
//   static absl::StatusOr<std::unique_ptr<Lab>> Start();
//   AgentConfig config;
//   std::string address() const;      // the TLS listener the probe uses
// and the suite names the target its base installs go to.
template <class Lab>
class SharedLabTest : public ::testing::Test {
 protected:
  explicit SharedLabTest(std::string base_target)
      : base_target_(std::move(base_target)) {}

  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<Lab>> lab = Lab::Start();
    if (!lab.ok()) {
      SetupError() = lab.status().ToString();
      return;
    }
    lab_ = lab->release();
  }
  static void TearDownTestSuite() {
    delete lab_;
    lab_ = nullptr;
  }
  static std::string& SetupError() {
    static std::string* error = new std::string("not set up");
    return *error;
  }

  void SetUp() override {
    ASSERT_NE(lab_, nullptr) << SetupError();
    ASSERT_OK(agent_.Start(lab_->config));
  }

  std::string Address() const { return lab_->address(); }
  double Metric(const std::string& series) const {
    return agent_.Metric(series);
  }
  TargetManager& manager() { return *agent_.manager; }

  // Installs a fresh bundle into the base target and waits until the server
  // serves it: the version a failed install rolls back to.
  void InstallBase(Bundle* base) {
    *base = NextBundle(base_target_);
    const InstallOutcome outcome = manager().Install(*base, Deadline());
    ASSERT_TRUE(outcome.ok) << Describe(outcome);
    ASSERT_OK(WaitUntilServed(Address(), Serial(*base)));
  }

  static inline Lab* lab_ = nullptr;
  RealAgent agent_;

 private:
  const std::string base_target_;
};

}  // namespace certfleet::agent::web_testing

#endif  // CERTFLEET_TESTS_AGENT_WEB_AGENT_WEB_SUPPORT_H_
