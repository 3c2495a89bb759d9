// Dns01Solver and ZoneFinder end to end against BIND9.
#include "coordinator/dns/ldns_resolver.h"
#include "coordinator/dns/providers/rfc2136_provider.h"
#include "coordinator/dns/solver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dns/bind_test_env.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::dns {
namespace {

using ::certfleet::dns::testing::ProviderOptions;
using ::certfleet::dns::testing::TxtAt;
using ::certfleet::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

Context Ctx() {
  return Context().WithDeadline(absl::Now() + absl::Seconds(20));
}

class SolverIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bind = testing::SharedBind();
    ASSERT_THAT(bind, IsOk());
    bind_ = *bind;
    auto main = Rfc2136Provider::Create(
        "lab-bind", ProviderOptions(*bind_, bind_->keys()[0]));
    auto validation = Rfc2136Provider::Create(
        "validation-bind", ProviderOptions(*bind_, bind_->keys()[2]));
    ASSERT_THAT(main, IsOk());
    ASSERT_THAT(validation, IsOk());
    solver_ = std::make_unique<Dns01Solver>(
        std::vector<ProviderBinding>{
            {std::move(*main), {"example.test", "stale.test"}},
            {std::move(*validation), {"validation.test"}}},
        resolver_,
        SolverOptions{.resolvers = {bind_->address()},
                      .nameserver_port = bind_->port(),
                      .propagation_interval = absl::Milliseconds(200),
                      .propagation_timeout = absl::Seconds(5)},
        clock_, &authoritative_);
  }

  harness::BindServer* bind_ = nullptr;
  SystemClock clock_;
  LdnsResolver resolver_;
  LdnsResolver authoritative_{{.recursion_desired = false}};
  std::unique_ptr<Dns01Solver> solver_;
};

TEST_F(SolverIntegrationTest, CnameDelegationRoutesToTheValidationZone) {
  auto plan = solver_->Plan(
      {{Dns01Solver::ChallengeFqdn("delegated.example.test"), "delegated-v"}},
      Ctx());
  ASSERT_THAT(plan, IsOk());
  EXPECT_THAT(
      *plan, ElementsAre(PlannedRecord{
                 "validation-bind", "validation.test.",
                 "_acme-challenge.delegated.validation.test.", "delegated-v"}));
  ASSERT_THAT(solver_->Present(*plan, Ctx()), IsOk());
  ASSERT_THAT(solver_->WaitForPropagation(*plan, Ctx()), IsOk());
  EXPECT_THAT(TxtAt(*bind_, "_acme-challenge.delegated.validation.test."),
              ElementsAre("delegated-v"));
  ASSERT_THAT(solver_->CleanUp(*plan, Ctx()), IsOk());
  EXPECT_THAT(TxtAt(*bind_, "_acme-challenge.delegated.validation.test."),
              IsEmpty());
}

TEST_F(SolverIntegrationTest, FindZoneWalksDeepNamesWithOneQuery) {
  ZoneFinder& finder = solver_->zone_finder();
  auto deep = finder.FindZone("_acme-challenge.a.b.c.d.example.test.", Ctx());
  ASSERT_THAT(deep, IsOk());
  EXPECT_EQ(*deep, "example.test.");
  EXPECT_EQ(finder.soa_queries(), 1);  // NXDOMAIN carries the zone's SOA
  auto apex = finder.FindZone("validation.test.", Ctx());
  ASSERT_THAT(apex, IsOk());
  EXPECT_EQ(*apex, "validation.test.");
  // A name with data (www A) answers NODATA with the SOA too.
  auto www = finder.FindZone("www.example.test.", Ctx());
  ASSERT_THAT(www, IsOk());
  EXPECT_EQ(*www, "example.test.");
}

TEST_F(SolverIntegrationTest, WildcardAndApexShareANameAndCleanUpSeparately) {
  auto plan =
      solver_->Plan({{Dns01Solver::ChallengeFqdn("*.example.test"), "wild"},
                     {Dns01Solver::ChallengeFqdn("example.test"), "apex"}},
                    Ctx());
  ASSERT_THAT(plan, IsOk());
  ASSERT_EQ(plan->size(), 2u);
  ASSERT_THAT(solver_->Present(*plan, Ctx()), IsOk());
  auto waited = solver_->WaitForPropagation(*plan, Ctx());
  ASSERT_THAT(waited, IsOk());
  EXPECT_THAT(TxtAt(*bind_, "_acme-challenge.example.test."),
              ElementsAre("apex", "wild"));
  ASSERT_THAT(solver_->CleanUp({(*plan)[0]}, Ctx()), IsOk());
  EXPECT_THAT(TxtAt(*bind_, "_acme-challenge.example.test."),
              ElementsAre("apex"));
  ASSERT_THAT(solver_->CleanUp({(*plan)[1]}, Ctx()), IsOk());
  EXPECT_THAT(TxtAt(*bind_, "_acme-challenge.example.test."), IsEmpty());
}

}  // namespace
}  // namespace certfleet::dns
