// What of an agent's reports counts (AgentHub): delivery results only for
// the delivery pending on its stream, health only for its own assigned
// targets, failures its crash recovery found, state problems, bounded text;
// and the hub's own limits (its queue, renewals per agent, the versions it
// caches).
#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "coordinator/delivery/agent_hub.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/delivery/hub_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::delivery::testing {
namespace {

using ::certfleet::testing::StatusIs;
using ::certfleet::testing::WaitFor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Optional;
using ::testing::Pair;
using ::testing::SizeIs;

v1::AgentMessage WithLocalFailure(v1::AgentMessage inventory,
                                  const std::string& version_id,
                                  const std::string& error) {
  v1::LocalFailure* f =
      inventory.mutable_inventory()->mutable_targets(0)->mutable_last_failure();
  f->set_version_id(version_id);
  f->set_failed_step("reload");
  f->set_error(error);
  f->set_rolled_back(true);
  return inventory;
}

v1::AgentMessage BadRenewal() {
  v1::AgentMessage m;
  m.mutable_renew_identity()->set_csr_der("not a CSR");
  return m;
}

class AgentHubReportsTest : public AgentHubTest {
 protected:
  // The web agent, sent version 1, then version 2 before it answered.
  std::shared_ptr<FakeChannel> WebSentTwoVersions() {
    AddVersion("1a01");
    std::shared_ptr<FakeChannel> web = Attach(kWebAgent);
    Send(kWebAgent, Inventory({{"www", "", ""}}));
    AddVersion("1a02");
    Notify("web");
    return web;
  }
};

TEST_F(AgentHubReportsTest, NoncesAreRandom128BitHex) {
  std::shared_ptr<FakeChannel> web = WebSentTwoVersions();
  ASSERT_THAT(web->bundles(), SizeIs(2));
  for (const v1::DesiredBundle& b : web->bundles()) {
    EXPECT_EQ(b.nonce().size(), 32u) << b.nonce();
    EXPECT_TRUE(std::all_of(b.nonce().begin(), b.nonce().end(), [](char c) {
      return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
    })) << b.nonce();
  }
  EXPECT_NE(web->bundles()[0].nonce(), web->bundles()[1].nonce());
}

TEST_F(AgentHubReportsTest, ResultAnsweringNoPendingDeliveryIsDropped) {
  AddVersion("1a01");
  std::shared_ptr<FakeChannel> web = Attach(kWebAgent);
  std::shared_ptr<FakeChannel> db = Attach(kDbAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  Send(kDbAgent, Inventory({{"www", "", ""}}));
  ASSERT_THAT(web->bundles(), SizeIs(1));
  const v1::DesiredBundle sent = web->bundles()[0];

  v1::DesiredBundle guessed = sent;
  guessed.set_nonce("1");  // what the old counter would have been
  Send(kWebAgent, Result(guessed, true));
  v1::DesiredBundle other_version = sent;
  other_version.set_version_id("web/2");
  Send(kWebAgent, Result(other_version, true));
  v1::DesiredBundle other_target = sent;
  other_target.set_target("mail");
  Send(kWebAgent, Result(other_target, false, "reload", "forged"));
  // Another agent that learned the nonce: not its delivery.
  Send(kDbAgent, Result(sent, false, "reload", "forged"));

  EXPECT_THAT(c_.observer.results(), IsEmpty());
  EXPECT_THAT(c_.observer.dropped(),
              ElementsAre(Pair("result_not_pending", 4)));
  std::optional<store::TargetStateRecord> s = State(kWebAgent, "www");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->installed_version_id, "");
  EXPECT_EQ(s->last_error, "");
  EXPECT_FALSE(State(kWebAgent, "mail").has_value());
  EXPECT_FALSE(State(kDbAgent, "www").has_value());

  // The delivery is still pending: its real answer counts.
  Send(kWebAgent, Result(sent, true));
  ASSERT_THAT(c_.observer.results(), SizeIs(1));
  EXPECT_EQ(State(kWebAgent, "www")->installed_version_id, "web/1");
  // Answered once: a replay is dropped too.
  Send(kWebAgent, Result(sent, false, "health", "replayed"));
  EXPECT_EQ(State(kWebAgent, "www")->last_error, "");
  EXPECT_EQ(c_.observer.dropped()["result_not_pending"], 5);
}

// A delivery replaced before the agent answered it (a newer version, a
// rollback during the install): its late answer is expected — not counted
// as dropped (no false alert), not recorded, and the newer delivery still
// counts.
TEST_F(AgentHubReportsTest, LateAnswerToASupersededDeliveryIsNotSuspicious) {
  std::shared_ptr<FakeChannel> web = WebSentTwoVersions();
  ASSERT_THAT(web->bundles(), SizeIs(2));
  const v1::DesiredBundle first = web->bundles()[0];
  const v1::DesiredBundle second = web->bundles()[1];

  Send(kWebAgent, Result(first, true));
  EXPECT_THAT(c_.observer.dropped(), IsEmpty());
  EXPECT_THAT(c_.observer.results(), IsEmpty());
  EXPECT_EQ(State(kWebAgent, "www")->installed_version_id, "");
  // Answered once: the same answer again is a replay.
  Send(kWebAgent, Result(first, true));
  EXPECT_THAT(c_.observer.dropped(),
              ElementsAre(Pair("result_not_pending", 1)));

  Send(kWebAgent, Result(second, true));
  ASSERT_THAT(c_.observer.results(), SizeIs(1));
  EXPECT_EQ(State(kWebAgent, "www")->installed_version_id, "web/2");
}

TEST_F(AgentHubReportsTest, HealthOfATargetNotListedOrNotAssignedIsDropped) {
  std::shared_ptr<FakeChannel> web = Attach(kWebAgent);
  std::shared_ptr<FakeChannel> db = Attach(kDbAgent);
  // Before any inventory: nothing is listed yet.
  Send(kWebAgent, Health("www", false, "forged"));
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  Send(kWebAgent, Health("mail", false, "not listed"));
  // Listed, but nothing is assigned to the db agent's www.
  Send(kDbAgent, Inventory({{"www", "", ""}}));
  Send(kDbAgent, Health("www", false, "not assigned"));

  EXPECT_THAT(c_.observer.dropped(),
              ElementsAre(Pair("health_not_assigned", 3)));
  EXPECT_FALSE(State(kDbAgent, "www").has_value());
  EXPECT_FALSE(State(kWebAgent, "mail").has_value());
  EXPECT_EQ(State(kWebAgent, "www")->detail, "nothing served");

  Send(kWebAgent, Health("www", true, "tls ok"));
  EXPECT_EQ(State(kWebAgent, "www")->detail, "tls ok");
  EXPECT_TRUE(State(kWebAgent, "www")->healthy);
}

TEST_F(AgentHubReportsTest, AgentTextIsBoundedAndPrintableBeforeItIsStored) {
  AddVersion("1a01");
  std::shared_ptr<FakeChannel> web = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  ASSERT_THAT(web->bundles(), SizeIs(1));
  std::string stderr_text;
  for (int i = 0; i < 500; ++i) stderr_text += "nginx: [emerg] line\n";
  Send(kWebAgent, Result(web->bundles()[0], false, "reload\n", stderr_text));
  std::optional<store::TargetStateRecord> s = State(kWebAgent, "www");
  ASSERT_TRUE(s.has_value());
  EXPECT_LE(s->last_error.size(), 64u + 2 + 1024);
  EXPECT_THAT(s->last_error, Not(HasSubstr("\n")));
  EXPECT_TRUE(absl::StartsWith(s->last_error, "reload : nginx: [emerg] line "))
      << s->last_error;

  Send(kWebAgent, Health("www", false, std::string(5000, 'd') + "\x1b[0m"));
  EXPECT_LE(State(kWebAgent, "www")->detail.size(), 1024u);
}

TEST_F(AgentHubReportsTest, VersionRolledBackByCrashRecoveryIsNotSentAgain) {
  AddVersion("1a01");
  std::shared_ptr<FakeChannel> first = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  ASSERT_THAT(first->bundles(), SizeIs(1));
  // The agent dies installing it; its recovery rolls it back at restart.
  c_.hub->Detach(kWebAgent, first.get());
  const v1::AgentMessage after_crash = WithLocalFailure(
      Inventory({{"www", "", ""}}), "web/1", "killed by signal 9");
  std::shared_ptr<FakeChannel> second = Attach(kWebAgent);
  Send(kWebAgent, after_crash);

  EXPECT_THAT(second->bundles(), IsEmpty());
  std::optional<store::TargetStateRecord> s = State(kWebAgent, "www");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->last_error_version_id, "web/1");
  EXPECT_THAT(s->last_error, HasSubstr("reload: killed by signal 9"));
  EXPECT_THAT(s->last_error, HasSubstr("rolled back by the agent's recovery"));
  EXPECT_EQ(s->updated_at, clock_.Now());
  EXPECT_THAT(c_.observer.problems(), ElementsAre(Pair("local_failure", 1)));

  // Not on this stream, whatever wakes the hub, nor on the next one (the
  // agent repeats the failure until an install succeeds); recorded once.
  Notify("web");
  std::shared_ptr<FakeChannel> third = Attach(kWebAgent);
  Send(kWebAgent, after_crash);
  Notify("web");
  EXPECT_THAT(second->bundles(), IsEmpty());
  EXPECT_THAT(third->bundles(), IsEmpty());
  EXPECT_THAT(c_.observer.problems(), ElementsAre(Pair("local_failure", 1)));

  // A newer version is sent.
  AddVersion("1a02");
  Notify("web");
  ASSERT_THAT(third->bundles(), SizeIs(1));
  EXPECT_EQ(third->bundles()[0].version_id(), "web/2");
}

TEST_F(AgentHubReportsTest, RolloutMayResendAVersionRolledBackByRecovery) {
  AddVersion("1a01");
  c_.hub->HoldCertificate("web", "");
  c_.hub->SetDesired(kWebAgent, "www", "web/1");
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  Send(kWebAgent,
       WithLocalFailure(Inventory({{"www", "", ""}}), "web/1", "killed"));
  EXPECT_THAT(ch->bundles(), IsEmpty());
  c_.hub->SetDesired(kWebAgent, "www", "web/1", /*resend=*/true);
  c_.hub->Flush();
  ASSERT_THAT(ch->bundles(), SizeIs(1));
  EXPECT_EQ(ch->bundles()[0].version_id(), "web/1");
}

TEST_F(AgentHubReportsTest, RepeatedLocalFailureDoesNotHideALaterRejection) {
  AddVersion("1a01");
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  const v1::AgentMessage inventory =
      WithLocalFailure(Inventory({{"www", "", ""}}), "web/1", "killed");
  Send(kWebAgent, inventory);
  ASSERT_EQ(State(kWebAgent, "www")->last_error_version_id, "web/1");
  AddVersion("1a02");
  Notify("web");
  ASSERT_THAT(ch->bundles(), SizeIs(1));
  Send(kWebAgent, Result(ch->bundles()[0], false, "health", "serves 1a00"));
  ASSERT_EQ(State(kWebAgent, "www")->last_error_version_id, "web/2");
  // The agent still repeats its old failure: the newer one stays on record.
  Send(kWebAgent, inventory);
  EXPECT_EQ(State(kWebAgent, "www")->last_error_version_id, "web/2");
  EXPECT_EQ(State(kWebAgent, "www")->last_error, "health: serves 1a00");
}

TEST_F(AgentHubReportsTest,
       StateProblemIsShownInDetailAndCountedOncePerChange) {
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  v1::AgentMessage inventory = Inventory({{"www", "", ""}});
  inventory.mutable_inventory()->mutable_targets(0)->set_state_problem(
      "journal failed validation, moved aside to .journal.bad");
  Send(kWebAgent, inventory);
  const std::string shown =
      "nothing served; state problem: journal failed validation, moved aside "
      "to .journal.bad";
  EXPECT_EQ(State(kWebAgent, "www")->detail, shown);
  Send(kWebAgent, inventory);
  Send(kWebAgent, Health("www", false, "nothing served"));
  EXPECT_EQ(State(kWebAgent, "www")->detail, shown);
  Attach(kWebAgent);
  Send(kWebAgent, inventory);
  EXPECT_THAT(c_.observer.problems(), ElementsAre(Pair("state_problem", 1)));

  Send(kWebAgent, Inventory({{"www", "", ""}}));
  EXPECT_EQ(State(kWebAgent, "www")->detail, "nothing served");
  Send(kWebAgent, inventory);
  EXPECT_THAT(c_.observer.problems(), ElementsAre(Pair("state_problem", 2)));
}

TEST_F(AgentHubReportsTest, QueueOverItsBoundRefusesTheMessage) {
  AgentLimits limits;
  limits.max_hub_queue_bytes = 4000;
  c_.RestartHub(limits);
  auto web = std::make_shared<FakeChannel>();
  c_.hub->Attach(kWebAgent, kTestIdentitySerial, web);
  c_.hub->Flush();
  int processed = 0;
  absl::Mutex mu;
  auto done = [&] {
    absl::MutexLock lock(&mu);
    ++processed;
  };
  // A store read that hangs stalls the hub: another agent's attach. (Its
  // writes would not: they are written behind.)
  c_.store.Hold(RecordingStore::Held::kAgentReads);
  c_.hub->Attach(kDbAgent, kTestIdentitySerial,
                 std::make_shared<FakeChannel>());
  ASSERT_OK(WaitFor("db's attach waiting on a store read", [&] {
    return c_.store.waiting(RecordingStore::Held::kAgentReads) == 1;
  }));
  ASSERT_OK(c_.hub->Submit(kWebAgent, web, Inventory({{"www", "", ""}}), done));
  const v1::AgentMessage big = Health("www", false, std::string(1500, 'x'));
  ASSERT_OK(c_.hub->Submit(kWebAgent, web, big, done));
  ASSERT_OK(c_.hub->Submit(kWebAgent, web, big, done));
  EXPECT_GT(c_.hub->queued_message_bytes(), 3000u);
  EXPECT_THAT(c_.hub->Submit(kWebAgent, web, big, done),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("coordinator busy")));
  EXPECT_THAT(c_.observer.refused(), ElementsAre(Pair("hub_queue_full", 1)));

  c_.store.Release(RecordingStore::Held::kAgentReads);
  c_.hub->Flush();
  EXPECT_EQ(c_.hub->queued_message_bytes(), 0u);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(processed, 3);
}

// More store writes waiting than limits.max_pending_store_writes: messages
// are still handled and their writes queued — nothing an agent reported is
// lost, nothing is refused — but `processed` is held, so their streams read
// no more until the writes are down to half.
TEST_F(AgentHubReportsTest, AStoreThatCannotKeepUpHoldsStreamsBack) {
  AgentLimits limits;
  limits.max_pending_store_writes = 2;
  c_.RestartHub(limits);
  auto web = std::make_shared<FakeChannel>();
  c_.hub->Attach(kWebAgent, kTestIdentitySerial, web);
  c_.hub->Flush();
  std::atomic<int> processed{0};
  auto done = [&] { ++processed; };
  c_.store.HoldTargetStateWrites();
  ASSERT_OK(c_.hub->Submit(kWebAgent, web, Inventory({{"www", "", ""}}), done));
  // The writer took the inventory's record and hangs in the store.
  ASSERT_OK(WaitFor("a held target-state write",
                    [&] { return c_.store.held_writes() == 1; }));
  EXPECT_EQ(processed, 1);
  ASSERT_OK(c_.hub->Submit(kWebAgent, web, Health("www", true, "first"), done));
  // Replaces the record "first" queued: still two writes waiting.
  ASSERT_OK(
      c_.hub->Submit(kWebAgent, web, Health("www", false, "second"), done));
  ASSERT_OK(WaitFor("two messages held back",
                    [&] { return c_.observer.held_back() == 2; }));
  EXPECT_EQ(processed, 1);
  EXPECT_THAT(c_.observer.refused(), IsEmpty());

  c_.store.ReleaseTargetStateWrites();
  c_.hub->Flush();
  EXPECT_EQ(processed, 3);
  std::optional<store::TargetStateRecord> s = State(kWebAgent, "www");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->detail, "second");
  EXPECT_FALSE(s->healthy);
}

TEST_F(AgentHubReportsTest, MessageOfAReplacedStreamIsIgnored) {
  auto old_stream = std::make_shared<FakeChannel>();
  c_.hub->Attach(kWebAgent, kTestIdentitySerial, old_stream);
  std::shared_ptr<FakeChannel> current = Attach(kWebAgent);
  bool processed = false;
  ASSERT_OK(c_.hub->Submit(kWebAgent, old_stream, Inventory({{"www", "", ""}}),
                           [&] { processed = true; }));
  c_.hub->Flush();
  EXPECT_TRUE(processed);  // its stream reads on (and ends soon)
  EXPECT_FALSE(State(kWebAgent, "www").has_value());
}

TEST_F(AgentHubReportsTest, RenewalFloodEndsTheStream) {
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  // Two in a row are allowed (refused by the CA here: bad CSRs)...
  Send(kWebAgent, BadRenewal());
  Send(kWebAgent, BadRenewal());
  EXPECT_EQ(ch->closed(), std::nullopt);
  // ...the third within the minute ends the stream.
  Send(kWebAgent, BadRenewal());
  EXPECT_EQ(ch->closed_code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(ch->closed(), Optional(HasSubstr("too many identity renewals")));
  EXPECT_THAT(c_.observer.refused(), ElementsAre(Pair("renewal_rate", 1)));
  // A new stream does not reset the count.
  std::shared_ptr<FakeChannel> again = Attach(kWebAgent);
  Send(kWebAgent, BadRenewal());
  EXPECT_EQ(again->closed_code(), absl::StatusCode::kResourceExhausted);
  // A minute later it may ask again.
  clock_.Advance(absl::Minutes(1));
  std::shared_ptr<FakeChannel> later = Attach(kWebAgent);
  Send(kWebAgent, BadRenewal());
  EXPECT_EQ(later->closed(), std::nullopt);
  // Another agent's renewals are its own.
  std::shared_ptr<FakeChannel> db = Attach(kDbAgent);
  Send(kDbAgent, BadRenewal());
  EXPECT_EQ(db->closed(), std::nullopt);
}

TEST_F(AgentHubReportsTest, OnlyAFewVersionsAreCachedAndNoKeyInTheClear) {
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  StoredVersion last;
  for (int i = 1; i <= 12; ++i) {
    last = AddVersion(absl::StrCat("1b", i + 10));
    Notify("web");
    ASSERT_THAT(ch->bundles(), SizeIs(i));
    Send(kWebAgent, Result(ch->bundles().back(), true));
  }
  EXPECT_EQ(c_.hub->cached_versions(), AgentHub::kCachedVersions);
  // Every task that opened a key wiped it when it ended.
  EXPECT_EQ(c_.hub->keys_in_clear(), 0u);
  // The key is opened for each bundle: a new stream still gets it right.
  std::shared_ptr<FakeChannel> again = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "web/1", ""}}));
  ASSERT_THAT(again->bundles(), SizeIs(1));
  EXPECT_EQ(again->bundles()[0].version_id(), last.version_id);
  EXPECT_EQ(again->bundles()[0].key_pem(), last.key_pem);
}

TEST(WipeKeyTest, OverwritesTheBundleKey) {
  v1::CoordinatorMessage m;
  m.mutable_bundle()->set_key_pem("-----BEGIN PRIVATE KEY-----secret");
  const size_t size = m.bundle().key_pem().size();
  WipeKey(m);
  EXPECT_EQ(m.bundle().key_pem(), std::string(size, '\0'));
}

}  // namespace
}  // namespace certfleet::delivery::testing
