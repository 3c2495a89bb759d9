// The agent's PKCS#12 files, opened by the real openssl(1) the way a Java or
// Windows-style service would load them: with the password file the target
// names it opens and holds the new leaf (alone as the client certificate),
// its chain and the matching key; with another password it does not open.
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crypto/certificate.h"
#include "common/crypto/private_key.h"
#include "common/crypto/verify.h"
#include "common/process_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent_web/agent_web_support.h"
#include "tests/harness/server_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::agent::web_testing {
namespace {

using ::certfleet::testing::TempDir;
using ::certfleet::testing::WriteFileOrDie;
using ::testing::HasSubstr;
using ::testing::Not;

class Pkcs12TargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Only its first line is the password (a trailing newline is usual).
    WriteFileOrDie(tmp_.File("p12.pass"), "correct horse battery\n", 0600);
    WriteFileOrDie(tmp_.File("wrong.pass"), "correct horse\n", 0600);
    absl::StatusOr<AgentConfig> config = ParseConfig(
        AgentYaml(tmp_.path(),
                  absl::StrCat("targets:\n"
                               "  - name: keystore\n"
                               "    directory: ",
                               YamlString(Dir()),
                               "\n"
                               "    require_names: [\"www.example.test\"]\n"
                               "    files:\n"
                               "      - path: www.p12\n"
                               "        format: pkcs12\n"
                               "        password_file: p12.pass\n"
                               "    grace: 0s\n")),
        tmp_.path());
    ASSERT_OK(config.status());
    config_ = *std::move(config);
    ASSERT_EQ(config_.targets.size(), 1u);
    // Resolved against agent.yaml's directory.
    ASSERT_EQ(config_.targets[0].files[0].password_file, tmp_.File("p12.pass"));
    ASSERT_OK(agent_.Start(config_));
    absl::StatusOr<std::string> openssl = harness::FindProgram("openssl");
    ASSERT_OK(openssl.status());
    openssl_ = *openssl;
  }

  std::string Dir() const { return tmp_.File("keystore"); }
  std::string P12() const { return Dir() + "/www.p12"; }

  // `openssl pkcs12 -in www.p12 -passin file:PASSWORD_FILE ARGS...` through
  // the agent's own process runner.
  ProcessResult OpenP12(const std::string& password_file,
                        const std::vector<std::string>& args) {
    std::vector<std::string> argv = {
        openssl_, "pkcs12", "-in", P12(), "-passin", "file:" + password_file};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<ProcessResult> result = agent_.runner.Run(
        {.argv = argv, .timeout = absl::Seconds(20)}, Deadline());
    EXPECT_OK(result.status());
    return result.value_or(ProcessResult{});
  }

  TempDir tmp_{"agent-web-p12"};
  AgentConfig config_;
  RealAgent agent_;
  std::string openssl_;
};

TEST_F(Pkcs12TargetTest, OpensWithThePasswordFileAndHoldsTheNewCertificate) {
  const Bundle first = NextBundle("keystore");
  InstallOutcome outcome = agent_.manager->Install(first, Deadline());
  ASSERT_TRUE(outcome.ok) << Describe(outcome);
  const Bundle next = NextBundle("keystore");
  outcome = agent_.manager->Install(next, Deadline());
  ASSERT_TRUE(outcome.ok) << Describe(outcome);

  // -clcerts: only the certificate that goes with the key.
  const ProcessResult leaf_out =
      OpenP12(tmp_.File("p12.pass"), {"-nokeys", "-clcerts"});
  ASSERT_TRUE(leaf_out.success())
      << leaf_out.Describe() << ": " << leaf_out.StderrExcerpt();
  absl::StatusOr<std::vector<crypto::Certificate>> leaf =
      crypto::Certificate::ParsePemChain(leaf_out.stdout_data);
  ASSERT_OK(leaf.status());
  ASSERT_EQ(leaf->size(), 1u);
  EXPECT_EQ(leaf->front().SerialHex(), Serial(next));

  const ProcessResult ca_out =
      OpenP12(tmp_.File("p12.pass"), {"-nokeys", "-cacerts"});
  ASSERT_TRUE(ca_out.success()) << ca_out.StderrExcerpt();
  absl::StatusOr<std::vector<crypto::Certificate>> chain =
      crypto::Certificate::ParsePemChain(ca_out.stdout_data);
  ASSERT_OK(chain.status());
  ASSERT_EQ(chain->size(), 1u);
  EXPECT_EQ(chain->front().ToDer(), Ca().intermediate().ToDer());

  // -nodes: the key unencrypted on stdout; it must be the leaf's.
  const ProcessResult key_out =
      OpenP12(tmp_.File("p12.pass"), {"-nocerts", "-nodes"});
  ASSERT_TRUE(key_out.success()) << key_out.StderrExcerpt();
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::PrivateKey::FromPem(key_out.stdout_data);
  ASSERT_OK(key.status());
  EXPECT_OK(crypto::CheckKeyMatches(*key, leaf->front()));

  EXPECT_EQ(ReadLink(P12()), "current/www.p12");
  struct stat st;
  ASSERT_EQ(stat(P12().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(Pkcs12TargetTest, AnotherPasswordDoesNotOpenIt) {
  const Bundle bundle = NextBundle("keystore");
  const InstallOutcome outcome = agent_.manager->Install(bundle, Deadline());
  ASSERT_TRUE(outcome.ok) << Describe(outcome);

  const ProcessResult wrong =
      OpenP12(tmp_.File("wrong.pass"), {"-nokeys", "-clcerts"});

  EXPECT_FALSE(wrong.success());
  EXPECT_EQ(wrong.exit_code, 1);
  // OpenSSL 3.0: "Mac verify error: invalid password?"
  EXPECT_THAT(wrong.stderr_data, HasSubstr("Mac verify error"));
  EXPECT_THAT(wrong.stdout_data, Not(HasSubstr("BEGIN CERTIFICATE")));
  // The right one still opens the same file.
  EXPECT_TRUE(OpenP12(tmp_.File("p12.pass"), {"-nokeys"}).success());
}

}  // namespace
}  // namespace certfleet::agent::web_testing
