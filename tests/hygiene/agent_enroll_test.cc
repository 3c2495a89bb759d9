// `certfleet-agent enroll` takes the bootstrap token from a file or from
// standard input, so it never shows in /proc/<pid>/cmdline; --token still
// works but warns. The real binary against the in-process coordinator.
#include <sys/stat.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "agent/client/identity.h"
#include "common/filesystem.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agentapi/e2e_fixture.h"
#include "tests/hygiene/hygiene_support.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::hygiene {
namespace {

using ::certfleet::testing::TempDir;
using ::certfleet::testing::WriteFileOrDie;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kCommandLineWarning[] =
    "warning: --token puts the bootstrap token on the command line";

class AgentEnrollTest : public agentapi::testing::AgentApiE2eTest {
 protected:
  // A fresh agent directory with its agent.yaml; returns the config path.
  std::string NewAgent(const std::string& name) {
    const std::string dir = tmp_.File(name);
    mkdir(dir.c_str(), 0700);
    return WriteAgentYaml(dir, Address(), c_.ca->ca_pem());
  }
  std::string Token() { return c_.NewToken({{"role", "web"}}); }
  // The agent id stored in `name`'s identity, or the error.
  std::string EnrolledId(const std::string& name) {
    LocalFilesystem fs;
    agent::IdentityStore store(tmp_.File(name) + "/identity", fs);
    absl::StatusOr<agent::Identity> id = store.Load();
    return id.ok() ? id->agent_id : id.status().ToString();
  }
};

TEST_F(AgentEnrollTest, TokenFromAFile) {
  const std::string config = NewAgent("a");
  const std::string token_file = tmp_.File("a/token");
  WriteFileOrDie(token_file, Token() + "\n", 0600);
  const ProcessResult r =
      RunBinary({CERTFLEET_AGENT_BINARY, "enroll", "--config", config,
                 "--token-file", token_file});
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << ": " << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr("enrolled as agt-"));
  EXPECT_THAT(EnrolledId("a"), ::testing::StartsWith("agt-"));
  EXPECT_THAT(r.stderr_data, Not(HasSubstr("warning")));
}

TEST_F(AgentEnrollTest, TokenFromStandardInput) {
  const std::string config = NewAgent("b");
  const ProcessResult r = RunBinary({CERTFLEET_AGENT_BINARY, "enroll",
                                     "--config", config, "--token-file", "-"},
                                    Token() + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << ": " << r.stderr_data;
  EXPECT_THAT(EnrolledId("b"), ::testing::StartsWith("agt-"));
  EXPECT_THAT(r.stderr_data, Not(HasSubstr("warning")));
}

TEST_F(AgentEnrollTest, TokenOnTheCommandLineStillWorksButWarns) {
  const std::string config = NewAgent("c");
  const ProcessResult r = RunBinary({CERTFLEET_AGENT_BINARY, "enroll",
                                     "--config", config, "--token", Token()});
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << ": " << r.stderr_data;
  EXPECT_THAT(r.stderr_data, HasSubstr(kCommandLineWarning));
  EXPECT_THAT(r.stderr_data, HasSubstr("--token-file -"));
  EXPECT_THAT(EnrolledId("c"), ::testing::StartsWith("agt-"));
}

TEST_F(AgentEnrollTest, BadTokenInputsAreRefusedBeforeAnyoneIsAsked) {
  const std::string config = NewAgent("d");
  // A token file other users can read is used, with a warning.
  const std::string readable = tmp_.File("d/readable-token");
  WriteFileOrDie(readable, Token(), 0644);
  ProcessResult r = RunBinary({CERTFLEET_AGENT_BINARY, "enroll", "--config",
                               config, "--token-file", readable});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stderr_data,
              HasSubstr(absl::StrCat("warning: token file ", readable,
                                     " (mode 0644) is readable by other "
                                     "users")));

  const std::string empty = tmp_.File("d/empty");
  WriteFileOrDie(empty, "\n", 0600);
  r = RunBinary({CERTFLEET_AGENT_BINARY, "enroll", "--config", config,
                 "--token-file", empty});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.stderr_data,
              HasSubstr(absl::StrCat("token from ", empty, " is empty")));
  r = RunBinary({CERTFLEET_AGENT_BINARY, "enroll", "--config", config,
                 "--token-file", "-"},
                "two words\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.stderr_data,
              HasSubstr("token from standard input holds white space"));
  r = RunBinary({CERTFLEET_AGENT_BINARY, "enroll", "--config", config,
                 "--token-file", tmp_.File("d/missing")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.stderr_data, HasSubstr(tmp_.File("d/missing")));
  r = RunBinary({CERTFLEET_AGENT_BINARY, "enroll", "--config", config,
                 "--token", "x", "--token-file", "-"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.stderr_data, HasSubstr("give --token-file or --token"));
  r = RunBinary({CERTFLEET_AGENT_BINARY, "enroll", "--config", config});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.stderr_data, HasSubstr("enroll needs --token-file FILE"));
}

}  // namespace
}  // namespace certfleet::hygiene
