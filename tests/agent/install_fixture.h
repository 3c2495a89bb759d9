// The fixture shared by the install, rollback and recovery tests: one target
// "www" (every file format) in a temporary directory, fake runner, health
// checker and clock, a metrics registry, and helpers to look at the disk.
#ifndef CERTFLEET_TESTS_AGENT_INSTALL_FIXTURE_H_
#define CERTFLEET_TESTS_AGENT_INSTALL_FIXTURE_H_

#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "agent/install/state_files.h"
#include "agent/install/target_manager.h"
#include "common/metrics/registry.h"
#include "gtest/gtest.h"
#include "tests/agent/agent_fakes.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::agent {
// Readable failures of EXPECT_EQ on journals.
void PrintTo(const Journal& journal, std::ostream* os);
void PrintTo(const LocalFailure& failure, std::ostream* os);
}  // namespace certfleet::agent

namespace certfleet::agent::testing {

class InstallFixture : public ::testing::Test {
 protected:
  InstallFixture();

  // The shared test CA (created once: key generation is slow).
  static const crypto::testing::TestCa& Ca();
  // Another CA, for chains that do not verify.
  static const crypto::testing::TestCa& OtherCa();

  // A bundle for target www: version "www/<n>", serial `serial`.
  Bundle WwwBundle(int n, const std::string& serial,
                   crypto::testing::LeafOptions options = {}) const;

  // A manager over `config_` (aborts the test on error).
  std::unique_ptr<TargetManager> NewManager();

  const TargetSpec& www() const { return config_.targets[0]; }
  std::string Dir() const { return config_.targets[0].directory; }
  std::string Path(const std::string& rel) const { return Dir() + "/" + rel; }
  // readlink of Path(rel); "" when it is not a symlink.
  std::string LinkTarget(const std::string& rel) const;
  // What `current` points at ("" = nothing).
  std::string Current() const;
  Journal ReadJournalOrDie();
  // The version directories, sorted.
  std::vector<std::string> Versions() const;
  // Every path under the target directory (relative), for "nothing was
  // touched" checks.
  std::set<std::string> Tree() const;
  // The serial of the certificate behind the stable cert.pem, after
  // checking that key.pem matches it ("" when they cannot be read).
  std::string ServedSerialWithMatchingKey() const;
  // The value of the series `series` ("name{labels}") in the registry's
  // rendering; -1 when absent.
  double Metric(const std::string& series) const;

  ::certfleet::testing::TempDir tmp_{"agent"};
  std::string password_file_;
  AgentConfig config_;
  FakeProcessRunner runner_;
  FakeHealthChecker checker_;
  ::certfleet::testing::FakeClock clock_;
  metrics::Registry registry_;
};

}  // namespace certfleet::agent::testing

#endif  // CERTFLEET_TESTS_AGENT_INSTALL_FIXTURE_H_
