// Which certificate each agent target receives: label selectors, the empty
// selector, target names, order, and first-wins in an overlap.
#include "coordinator/delivery/assignments.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"

namespace certfleet::delivery {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Assignment = Assignments::Assignment;

config::CertificateConfig Cert(const std::string& name,
                               std::vector<config::TargetSelector> targets) {
  config::CertificateConfig cert;
  cert.name = name;
  cert.targets = std::move(targets);
  return cert;
}

// The shipped example's shape, plus a catch-all and an unassigned one.
const Assignments kAssignments({
    Cert("wildcard-example",
         {{.agent_labels = {{"role", "web"}}, .target = "nginx"}}),
    Cert("api-example",
         {{.agent_labels = {{"role", "api"}, {"env", "prod"}},
           .target = "haproxy"},
          {.agent_labels = {{"role", "api"}}, .target = "envoy"}}),
    Cert("internal", {{.agent_labels = {}, .target = "metrics"}}),
    Cert("unassigned", {}),
});

TEST(AssignmentsTest, MatchingLabelsGetTheCertificate) {
  EXPECT_THAT(
      kAssignments.For({{"role", "web"}, {"pool", "edge-eu"}}, {"nginx"}),
      ElementsAre(Assignment{"nginx", "wildcard-example"}));
  EXPECT_TRUE(
      kAssignments.Selects("wildcard-example", {{"role", "web"}}, "nginx"));
}

TEST(AssignmentsTest, LabelsThatDoNotMatchGetNothing) {
  EXPECT_THAT(kAssignments.For({{"role", "db"}}, {"nginx", "haproxy"}),
              IsEmpty());
  EXPECT_THAT(kAssignments.For({}, {"nginx"}), IsEmpty());
  // Every label of the selector is needed.
  EXPECT_THAT(
      kAssignments.For({{"role", "api"}, {"env", "staging"}}, {"haproxy"}),
      IsEmpty());
  EXPECT_FALSE(
      kAssignments.Selects("wildcard-example", {{"role", "db"}}, "nginx"));
  EXPECT_FALSE(kAssignments.Selects(
      "api-example", {{"role", "api"}, {"env", "staging"}}, "haproxy"));
}

TEST(AssignmentsTest, EmptySelectorMatchesEveryAgent) {
  EXPECT_THAT(kAssignments.For({}, {"metrics"}),
              ElementsAre(Assignment{"metrics", "internal"}));
  EXPECT_THAT(kAssignments.For({{"role", "web"}}, {"metrics"}),
              ElementsAre(Assignment{"metrics", "internal"}));
  EXPECT_TRUE(kAssignments.Selects("internal", {{"any", "thing"}}, "metrics"));
}

TEST(AssignmentsTest, TargetNameMismatchGetsNothing) {
  // Right labels, but the agent has no target of that name.
  EXPECT_THAT(kAssignments.For({{"role", "web"}}, {"apache", "NGINX"}),
              IsEmpty());
  EXPECT_FALSE(
      kAssignments.Selects("wildcard-example", {{"role", "web"}}, "apache"));
  EXPECT_FALSE(kAssignments.Selects("unassigned", {}, "nginx"));
}

TEST(AssignmentsTest, InTheOrderReportedWithoutRepeats) {
  EXPECT_THAT(
      kAssignments.For({{"role", "api"}, {"env", "prod"}},
                       {"envoy", "unknown", "metrics", "haproxy", "envoy"}),
      ElementsAre(Assignment{"envoy", "api-example"},
                  Assignment{"metrics", "internal"},
                  Assignment{"haproxy", "api-example"}));
}

TEST(AssignmentsTest, InAnOverlapTheFirstCertificateWins) {
  // Loading refuses identical and subset selectors; this overlap (an agent
  // with both labels) is allowed and resolved by file order.
  const Assignments overlap({
      Cert("first", {{.agent_labels = {{"role", "web"}}, .target = "nginx"}}),
      Cert("second", {{.agent_labels = {{"env", "prod"}}, .target = "nginx"}}),
  });
  const std::map<std::string, std::string> both = {{"role", "web"},
                                                   {"env", "prod"}};
  EXPECT_THAT(overlap.For(both, {"nginx"}),
              ElementsAre(Assignment{"nginx", "first"}));
  EXPECT_TRUE(overlap.Selects("first", both, "nginx"));
  EXPECT_FALSE(overlap.Selects("second", both, "nginx"));
  EXPECT_TRUE(overlap.Selects("second", {{"env", "prod"}}, "nginx"));
}

}  // namespace
}  // namespace certfleet::delivery
