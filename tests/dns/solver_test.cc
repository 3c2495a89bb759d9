#include "coordinator/dns/solver.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dns/fakes.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::dns {
namespace {

using ::certfleet::testing::FakeClock;
using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using FakeDns = ::certfleet::dns::testing::FakeDnsResolver;
using FakeProvider = ::certfleet::dns::testing::FakeDnsProvider;

constexpr char kResolver[] = "127.0.0.1:5300";

class SolverTest : public ::testing::Test {
 protected:
  SolverTest()
      : dns_(&clock_),
        main_(std::make_shared<FakeProvider>("main", &dns_)),
        validation_(std::make_shared<FakeProvider>("validation", &dns_)),
        sub_(std::make_shared<FakeProvider>("sub", &dns_)) {
    for (const char* zone : {"example.test.", "sub.example.test.",
                             "validation.test.", "unserved.test."}) {
      dns_.AddZone(zone);
      dns_.AddRecord(FakeDns::Ns(zone, std::string("ns1.") + zone));
      dns_.AddRecord(FakeDns::A(std::string("ns1.") + zone, "127.0.0.1"));
    }
    dns_.AddRecord(
        FakeDns::Cname("_acme-challenge.delegated.example.test.",
                       "_acme-challenge.delegated.validation.test."));
    solver_ = std::make_unique<Dns01Solver>(
        std::vector<ProviderBinding>{{main_, {"example.test"}},
                                     {validation_, {"validation.test"}},
                                     {sub_, {"sub.example.test"}}},
        dns_,
        SolverOptions{.resolvers = {kResolver},
                      .propagation_interval = absl::Seconds(1),
                      .propagation_timeout = absl::Seconds(5)},
        clock_);
  }

  FakeClock clock_;
  FakeDns dns_;
  std::shared_ptr<FakeProvider> main_, validation_, sub_;
  std::unique_ptr<Dns01Solver> solver_;
  Context ctx_;
};

TEST_F(SolverTest, ChallengeFqdnStripsTheWildcard) {
  EXPECT_EQ(Dns01Solver::ChallengeFqdn("*.Example.test"),
            "_acme-challenge.example.test.");
  EXPECT_EQ(Dns01Solver::ChallengeFqdn("example.test"),
            "_acme-challenge.example.test.");
  EXPECT_EQ(Dns01Solver::ChallengeFqdn("www.example.test."),
            "_acme-challenge.www.example.test.");
}

TEST_F(SolverTest, PlanRoutesByZoneWithTheLongestMatch) {
  auto plan =
      solver_->Plan({{Dns01Solver::ChallengeFqdn("*.example.test"), "w"},
                     {Dns01Solver::ChallengeFqdn("example.test"), "a"},
                     {Dns01Solver::ChallengeFqdn("www.sub.example.test"), "s"}},
                    ctx_);
  ASSERT_THAT(plan, IsOk());
  EXPECT_THAT(
      *plan,
      ElementsAre(PlannedRecord{"main", "example.test.",
                                "_acme-challenge.example.test.", "w"},
                  PlannedRecord{"main", "example.test.",
                                "_acme-challenge.example.test.", "a"},
                  PlannedRecord{"sub", "sub.example.test.",
                                "_acme-challenge.www.sub.example.test.", "s"}));
}

TEST_F(SolverTest, PlanFollowsCnameDelegationToTheValidationZone) {
  auto plan = solver_->Plan(
      {{Dns01Solver::ChallengeFqdn("delegated.example.test"), "d"}}, ctx_);
  ASSERT_THAT(plan, IsOk());
  EXPECT_THAT(*plan, ElementsAre(PlannedRecord{
                         "validation", "validation.test.",
                         "_acme-challenge.delegated.validation.test.", "d"}));
}

TEST_F(SolverTest, PlanWithoutCnameFollowingKeepsTheName) {
  Dns01Solver solver({{main_, {"example.test"}}}, dns_,
                     {.resolvers = {kResolver}, .follow_cname = false}, clock_);
  auto plan = solver.Plan(
      {{Dns01Solver::ChallengeFqdn("delegated.example.test"), "d"}}, ctx_);
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ((*plan)[0].fqdn, "_acme-challenge.delegated.example.test.");
  EXPECT_EQ((*plan)[0].provider, "main");
}

TEST_F(SolverTest, NameNoProviderServesIsAFailedPrecondition) {
  EXPECT_THAT(
      solver_->Plan({{"_acme-challenge.www.unserved.test.", "v"}}, ctx_),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("no DNS provider serves "
                               "_acme-challenge.www.unserved.test. (zone "
                               "unserved.test.)"),
                     HasSubstr("configured zones: example.test. (main), "
                               "validation.test. (validation), "
                               "sub.example.test. (sub)"))));
}

TEST_F(SolverTest, CnameLoopFailsThePlan) {
  dns_.AddRecord(FakeDns::Cname("_acme-challenge.loop.example.test.",
                                "loop2.example.test."));
  dns_.AddRecord(FakeDns::Cname("loop2.example.test.",
                                "_acme-challenge.loop.example.test."));
  EXPECT_THAT(
      solver_->Plan({{"_acme-challenge.loop.example.test.", "v"}}, ctx_),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CNAME loop")));
}

TEST_F(SolverTest, PresentMakesOneCallPerProviderAndZone) {
  auto plan = solver_->Plan({{"_acme-challenge.example.test.", "w"},
                             {"_acme-challenge.example.test.", "a"},
                             {"_acme-challenge.www.example.test.", "b"},
                             {"_acme-challenge.delegated.example.test.", "d"}},
                            ctx_);
  ASSERT_THAT(plan, IsOk());
  ASSERT_THAT(solver_->Present(*plan, ctx_), IsOk());
  ASSERT_EQ(main_->calls().size(), 1u);
  EXPECT_EQ(main_->calls()[0].zone, "example.test.");
  EXPECT_EQ(main_->calls()[0].records.size(), 3u);
  ASSERT_EQ(validation_->calls().size(), 1u);
  EXPECT_EQ(validation_->calls()[0].records.size(), 1u);
  EXPECT_TRUE(sub_->calls().empty());

  auto waited = solver_->WaitForPropagation(*plan, ctx_);
  ASSERT_THAT(waited, IsOk());
  EXPECT_EQ(*waited, absl::ZeroDuration());
}

TEST_F(SolverTest, CleanUpAttemptsEveryGroupWhenOneFails) {
  auto plan = solver_->Plan({{"_acme-challenge.example.test.", "a"},
                             {"_acme-challenge.delegated.example.test.", "d"},
                             {"_acme-challenge.x.sub.example.test.", "s"}},
                            ctx_);
  ASSERT_THAT(plan, IsOk());
  ASSERT_THAT(solver_->Present(*plan, ctx_), IsOk());
  validation_->SetCleanUpError(absl::UnavailableError("api down"));

  EXPECT_THAT(
      solver_->CleanUp(*plan, ctx_),
      StatusIs(absl::StatusCode::kUnavailable,
               AllOf(HasSubstr("failed for 1 of 3 record groups"),
                     HasSubstr("provider \"validation\" zone "
                               "validation.test. (1 records): api down"),
                     Not(HasSubstr("provider \"main\"")))));
  EXPECT_THAT(main_->records(), IsEmpty());
  EXPECT_THAT(sub_->records(), IsEmpty());
  EXPECT_EQ(validation_->records().size(), 1u);
  EXPECT_EQ(main_->calls().back().action, "cleanup");
  EXPECT_EQ(sub_->calls().back().action, "cleanup");
}

TEST_F(SolverTest, PresentFailureNamesTheGroupAndKeepsTheCode) {
  main_->SetPresentError(absl::PermissionDeniedError("BADSIG"));
  auto plan = solver_->Plan({{"_acme-challenge.example.test.", "a"}}, ctx_);
  ASSERT_THAT(plan, IsOk());
  EXPECT_THAT(solver_->Present(*plan, ctx_),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("provider \"main\" zone example.test. (1 "
                                 "records): BADSIG")));
}

TEST_F(SolverTest, PropagationTimeoutComesThrough) {
  auto plan = solver_->Plan({{"_acme-challenge.example.test.", "a"}}, ctx_);
  ASSERT_THAT(plan, IsOk());
  // Not presented: the servers never show it.
  EXPECT_THAT(solver_->WaitForPropagation(*plan, ctx_),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("DNS propagation timed out after 5s")));
}

TEST_F(SolverTest, UnknownProviderInPersistedRecordsIsReported) {
  EXPECT_EQ(solver_->FindProvider("main"), main_);
  EXPECT_EQ(solver_->FindProvider("gone"), nullptr);
  EXPECT_THAT(solver_->CleanUp({{"gone", "example.test.",
                                 "_acme-challenge.example.test.", "v"}},
                               ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("DNS provider \"gone\" is not configured")));
}

}  // namespace
}  // namespace certfleet::dns
