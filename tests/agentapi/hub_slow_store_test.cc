// A slow store does not stall agents' streams (issue 12): with a store that
// takes 500 ms per write, 200 simulated agents (bench/sim_agents.h, each on
// its own mTLS connection to an in-process AgentServer on loopback) keep
// their streams — none ends, the coordinator's heartbeats keep coming — and
// every one receives a new version well within the 200 × 500 ms = 100 s
// that one write per agent on the hub's thread would take: the hub writes
// behind, in batches (hub_writer.h).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/sim_agents.h"
#include "coordinator/agentapi/agent_server.h"
#include "gtest/gtest.h"
#include "tests/delivery/coordinator_parts.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::agentapi::testing {
namespace {

using ::certfleet::testing::WaitFor;

constexpr int kAgents = 200;
constexpr absl::Duration kWriteDelay = absl::Milliseconds(500);
// A batch of writes costs one delay per kind (reports, decisions, last-seen
// times): the new version goes out after at most two batches (the one
// being written when it is published, then its own), about 3 s; the rest
// is slack for 200 TLS streams on a loaded two-core machine. Writing one
// decision per agent in turn would take 100 s.
constexpr absl::Duration kBound = absl::Seconds(15);

std::string AgentId(int i) { return absl::StrFormat("agt-5107%08x", i); }

TEST(HubSlowStoreTest, TwoHundredAgentsKeepTheirStreamsAndGetANewVersion) {
  ::certfleet::testing::FakeClock clock(absl::Now());
  delivery::testing::CoordinatorParts c(clock,
                                        {delivery::testing::WebCertificate()});
  c.AddVersion("web", "1a01", absl::Now());
  std::vector<bench::SimIdentity> identities;
  for (int i = 0; i < kAgents; ++i) {
    c.PutAgent(AgentId(i), {{"role", "web"}});
    delivery::testing::CoordinatorParts::AgentIdentity id =
        c.IdentityFor(AgentId(i));
    identities.push_back({.key_pem = id.key_pem, .cert_pem = id.cert_pem});
  }
  absl::StatusOr<std::unique_ptr<AgentServer>> server =
      AgentServer::Start({.listen = "127.0.0.1:0",
                          .server_names = {"127.0.0.1"},
                          .observer = &c.observer,
                          .clock = &clock},
                         *c.ca, *c.enrollment, *c.hub);
  ASSERT_TRUE(server.ok()) << server.status();
  {
    bench::SimAgentPool pool(
        {.address = absl::StrCat("127.0.0.1:", (*server)->port()),
         .ca_pem = c.ca->ca_pem(),
         .identities = identities,
         .target = "www"});
    pool.Start();
    ASSERT_OK(pool.WaitConnected(absl::Seconds(60)));
    ASSERT_OK(WaitFor(
        "web/1 received by every agent",
        [&] { return pool.received("web/1") == kAgents; }, absl::Seconds(60)));
    c.hub->Flush();

    c.store.SlowWrites(kWriteDelay);
    const absl::Time published = absl::Now();
    c.AddVersion("web", "2b02", absl::Now());
    c.hub->NotifyVersion("web");
    const bool all =
        WaitFor(
            "web/2 received by every agent",
            [&] { return pool.received("web/2") == kAgents; }, kBound)
            .ok();
    std::printf("web/2 received by %zu of %d agents; the last after %s\n",
                pool.received("web/2"), kAgents,
                absl::FormatDuration(pool.last_received_at("web/2") - published)
                    .c_str());
    EXPECT_TRUE(all) << pool.received("web/2") << " of " << kAgents
                     << " agents received web/2 within " << kBound;
    // Their answers reach the store too, batched.
    const bool recorded =
        WaitFor(
            "every web/2 install recorded",
            [&] {
              int installed = 0;
              for (int i = 0; i < kAgents; ++i) {
                std::optional<store::TargetStateRecord> s =
                    c.store.TargetState(AgentId(i), "www");
                if (s.has_value() && s->installed_version_id == "web/2") {
                  ++installed;
                }
              }
              return installed == kAgents;
            },
            kBound)
            .ok();
    std::printf("all web/2 installs recorded: %s after %s\n",
                recorded ? "yes" : "no",
                absl::FormatDuration(absl::Now() - published).c_str());
    EXPECT_TRUE(recorded);
    EXPECT_EQ(pool.ended(), 0u) << pool.first_error();
    EXPECT_EQ(c.hub->connected(), static_cast<size_t>(kAgents));
    // An agent gives a stream up after three heartbeat intervals of
    // silence (agent/client/session.cc).
    const absl::Duration silence = pool.LongestSilence();
    std::printf("longest silence on a stream: %s\n",
                absl::FormatDuration(silence).c_str());
    EXPECT_LT(silence, 3 * delivery::AgentLimits().heartbeat_interval);
    c.store.SlowWrites(absl::ZeroDuration());
  }
  (*server)->Shutdown(absl::ZeroDuration());
}

}  // namespace
}  // namespace certfleet::agentapi::testing
