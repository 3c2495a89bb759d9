// The fleet part of the Store contract (store.h): agents with their status
// and UpdateAgent's atomic read-modify-write, bootstrap tokens with their
// compare-and-set (and the agent a token re-enrolls), the write-once
// internal CA and target states, run against every backend that
// instantiates StoreContractTest.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "tests/store/status_or_matchers.h"
#include "tests/store/store_contract_test.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::store {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;

const absl::Time kT1 = absl::FromUnixNanos(1'700'000'000'123'456'789);
const absl::Time kT2 = absl::FromUnixNanos(1'700'086'400'987'654'321);
// 2023-11-14T22:13:20Z, whole seconds so messages can be asserted exactly.
const absl::Time kUse = absl::FromUnixSeconds(1'700'000'000);

// Every byte value, NUL first: hashes and sealed keys are arbitrary bytes.
std::string AllBytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  return bytes;
}

AgentRecord FullAgent(const std::string& id) {
  return {.id = id,
          .hostname = "edge-1.example.test",
          .labels = {{"pool", "edge-eu"}, {"env", "prod"}, {"zone", "zürich"}},
          .enrolled_at = kT1,
          .last_seen_at = kT2,
          .identity_serial = "0a1b2c3d",
          .identity_not_after = absl::InfiniteFuture(),
          .token_id = "0123456789abcdef",
          .status = AgentStatus::kDisabled,
          .status_changed_at = kT2,
          .status_changed_by = "admin:alice"};
}

TokenRecord FullToken(const std::string& id) {
  return {.id = id,
          .secret_hash = AllBytes(),
          .labels = {{"role", "web"}, {"env", "prod"}},
          .created_at = kT1,
          .expires_at = kT2,
          .description = "rack 7, \"quoted\"",
          .for_agent = "agt-0a1b2c3d4e5f"};
}

TargetStateRecord FullTargetState(const std::string& agent_id,
                                  const std::string& target) {
  return {.agent_id = agent_id,
          .target = target,
          .certificate = "wildcard-example",
          .desired_version_id = "wildcard-example/3",
          .installed_version_id = "wildcard-example/2",
          .serial = "ff00",
          .not_after = kT2,
          .healthy = true,
          .detail = "TLS handshake presented serial ff00",
          .last_error = "reload: exit status 1",
          .last_error_version_id = "wildcard-example/3",
          .updated_at = kT1};
}

TEST_P(StoreContractTest, FleetGetsOfMissingKeysAreNullopt) {
  EXPECT_THAT(store_->GetAgent("agt-1"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->GetToken("0123"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->GetInternalCa(), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->ListAgents(), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->ListTokens(), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->ListTargetStates("agt-1"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->ListAllTargetStates(), IsOkAndHolds(IsEmpty()));
}

TEST_P(StoreContractTest, AgentRoundTripsEveryFieldAndReplaces) {
  ASSERT_OK(store_->PutAgent(FullAgent("agt-1")));
  EXPECT_THAT(store_->GetAgent("agt-1"),
              IsOkAndHolds(Optional(FullAgent("agt-1"))));
  AgentRecord changed = FullAgent("agt-1");
  changed.labels = {};
  changed.identity_serial = "ff";
  changed.last_seen_at = absl::InfinitePast();
  ASSERT_OK(store_->PutAgent(changed));
  EXPECT_THAT(store_->GetAgent("agt-1"), IsOkAndHolds(Optional(changed)));
  EXPECT_THAT(store_->GetAgent("agt-2"), IsOkAndHolds(std::nullopt));
}

TEST_P(StoreContractTest, AnAgentWithDefaultsIsActiveAndNeverChanged) {
  const AgentRecord sparse = {.id = "agt-1"};
  ASSERT_OK(store_->PutAgent(sparse));
  ASSERT_OK_AND_ASSIGN(std::optional<AgentRecord> stored,
                       store_->GetAgent("agt-1"));
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(*stored, sparse);
  EXPECT_EQ(stored->status, AgentStatus::kActive);
  EXPECT_EQ(stored->status_changed_at, absl::InfinitePast());
  ASSERT_OK(store_->PutToken({.id = "aaaa"}));
  EXPECT_THAT(store_->GetToken("aaaa"),
              IsOkAndHolds(Optional(TokenRecord{.id = "aaaa"})));
}

TEST_P(StoreContractTest, UpdateAgentAppliesTheMutationAndReturnsTheRecord) {
  ASSERT_OK(store_->PutAgent(FullAgent("agt-1")));
  AgentRecord expected = FullAgent("agt-1");
  expected.status = AgentStatus::kRemoved;
  expected.status_changed_at = kUse;
  expected.status_changed_by = "admin:bob";
  expected.labels = {{"role", "db"}};
  EXPECT_THAT(store_->UpdateAgent("agt-1",
                                  [](AgentRecord& a) {
                                    a.status = AgentStatus::kRemoved;
                                    a.status_changed_at = kUse;
                                    a.status_changed_by = "admin:bob";
                                    a.labels = {{"role", "db"}};
                                    return absl::OkStatus();
                                  }),
              IsOkAndHolds(expected));
  EXPECT_THAT(store_->GetAgent("agt-1"), IsOkAndHolds(Optional(expected)));
}

TEST_P(StoreContractTest, UpdateAgentThatRefusesWritesNothing) {
  ASSERT_OK(store_->PutAgent(FullAgent("agt-1")));
  EXPECT_THAT(store_->UpdateAgent("agt-1",
                                  [](AgentRecord& a) {
                                    a.identity_serial = "changed";
                                    return absl::FailedPreconditionError(
                                        "serial 0a1b2c3d is not 99");
                                  }),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "serial 0a1b2c3d is not 99"));
  EXPECT_THAT(store_->UpdateAgent("agt-1",
                                  [](AgentRecord& a) {
                                    a.id = "agt-2";
                                    return absl::OkStatus();
                                  }),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "store: update agent agt-1: the id cannot change"));
  EXPECT_THAT(store_->UpdateAgent("agt-1",
                                  [](AgentRecord& a) {
                                    a.labels["pool"] = "\xff";
                                    return absl::OkStatus();
                                  }),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("store: update agent agt-1: labels")));
  EXPECT_THAT(store_->GetAgent("agt-1"),
              IsOkAndHolds(Optional(FullAgent("agt-1"))));
  EXPECT_THAT(store_->GetAgent("agt-2"), IsOkAndHolds(std::nullopt));
}

TEST_P(StoreContractTest, UpdateAgentOfAMissingAgentIsNotFound) {
  bool called = false;
  EXPECT_THAT(store_->UpdateAgent("agt-9",
                                  [&](AgentRecord&) {
                                    called = true;
                                    return absl::OkStatus();
                                  }),
              StatusIs(absl::StatusCode::kNotFound,
                       "store: update agent agt-9: no such agent"));
  EXPECT_FALSE(called);
  EXPECT_THAT(store_->ListAgents(), IsOkAndHolds(IsEmpty()));
}

// Two renewals of one identity at once: each expects the serial it
// presented; exactly one replaces it, and the other sees the winner's.
TEST_P(StoreContractTest, ConcurrentSerialCompareAndSetHasExactlyOneWinner) {
  constexpr int kThreads = 8;
  AgentRecord agent = FullAgent("agt-1");
  agent.identity_serial = "old";
  ASSERT_OK(store_->PutAgent(agent));
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      absl::StatusOr<AgentRecord> r =
          store_->UpdateAgent("agt-1", [t](AgentRecord& a) {
            if (a.identity_serial != "old") {
              return absl::PermissionDeniedError(
                  absl::StrCat("serial is ", a.identity_serial));
            }
            a.identity_serial = absl::StrCat("new-", t);
            return absl::OkStatus();
          });
      if (r.ok()) {
        ++winners;
        EXPECT_EQ(r->identity_serial, absl::StrCat("new-", t));
      } else {
        EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kPermissionDenied,
                                         HasSubstr("serial is new-")));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(winners.load(), 1);
}

// Writers changing different fields of one agent at once lose nothing: each
// adds its own label.
TEST_P(StoreContractTest, ConcurrentUpdatesOfOneAgentAreNotLost) {
  constexpr int kThreads = 6;
  constexpr int kRounds = 5;
  ASSERT_OK(store_->PutAgent({.id = "agt-1"}));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        EXPECT_OK(store_->UpdateAgent("agt-1", [&](AgentRecord& a) {
          a.labels[absl::StrCat("k", t, "-", round)] = "v";
          return absl::OkStatus();
        }));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_OK_AND_ASSIGN(std::optional<AgentRecord> stored,
                       store_->GetAgent("agt-1"));
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->labels.size(), static_cast<size_t>(kThreads * kRounds));
}

TEST_P(StoreContractTest, ListAgentsIsSortedById) {
  for (const char* id : {"agt-c", "agt-a", "agt-b"}) {
    ASSERT_OK(store_->PutAgent(FullAgent(id)));
  }
  EXPECT_THAT(store_->ListAgents(),
              IsOkAndHolds(ElementsAre(FullAgent("agt-a"), FullAgent("agt-b"),
                                       FullAgent("agt-c"))));
}

TEST_P(StoreContractTest, TokenRoundTripsEveryFieldAndListIsSortedById) {
  const TokenRecord sparse = {.id = "00aa"};  // unused: used_at InfinitePast
  ASSERT_OK(store_->PutToken(FullToken("ffee")));
  ASSERT_OK(store_->PutToken(sparse));
  EXPECT_THAT(store_->GetToken("ffee"),
              IsOkAndHolds(Optional(FullToken("ffee"))));
  EXPECT_THAT(store_->GetToken("00aa"), IsOkAndHolds(Optional(sparse)));
  EXPECT_THAT(store_->ListTokens(),
              IsOkAndHolds(ElementsAre(sparse, FullToken("ffee"))));
}

TEST_P(StoreContractTest, ConsumeTokenSucceedsOnceAndNamesTheFirstUse) {
  ASSERT_OK(store_->PutToken(FullToken("0123456789abcdef")));
  ASSERT_OK(store_->ConsumeToken("0123456789abcdef", "agt-first", kUse));
  TokenRecord used = FullToken("0123456789abcdef");
  used.used_at = kUse;
  used.used_by = "agt-first";
  EXPECT_THAT(store_->GetToken("0123456789abcdef"),
              IsOkAndHolds(Optional(used)));

  EXPECT_THAT(
      store_->ConsumeToken("0123456789abcdef", "agt-second",
                           kUse + absl::Minutes(1)),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               "store: token 0123456789abcdef was already used by agt-first "
               "at 2023-11-14T22:13:20Z"));
  // The failed attempt changed nothing.
  EXPECT_THAT(store_->GetToken("0123456789abcdef"),
              IsOkAndHolds(Optional(used)));
}

TEST_P(StoreContractTest, ConsumeTokenOfMissingTokenIsNotFound) {
  ASSERT_OK(store_->PutToken(FullToken("aaaa")));
  EXPECT_THAT(store_->ConsumeToken("bbbb", "agt-1", kUse),
              StatusIs(absl::StatusCode::kNotFound,
                       "store: consume token bbbb: no such token"));
  EXPECT_THAT(store_->GetToken("bbbb"), IsOkAndHolds(std::nullopt));
}

TEST_P(StoreContractTest, ConsumeTokenAtAnInfiniteTimeIsRefused) {
  ASSERT_OK(store_->PutToken(FullToken("aaaa")));
  EXPECT_THAT(store_->ConsumeToken("aaaa", "agt-1", absl::InfinitePast()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be finite")));
  EXPECT_THAT(store_->GetToken("aaaa"),
              IsOkAndHolds(Optional(FullToken("aaaa"))));
}

TEST_P(StoreContractTest, ConcurrentConsumeTokenHasExactlyOneWinner) {
  constexpr int kThreads = 8;
  ASSERT_OK(store_->PutToken(FullToken("race")));
  std::atomic<int> winners{0};
  std::vector<std::string> outcomes(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      absl::Status s =
          store_->ConsumeToken("race", absl::StrCat("agt-", t), kUse);
      if (s.ok()) {
        ++winners;
        outcomes[t] = "won";
      } else {
        EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr("was already used by agt-")));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(winners.load(), 1);
  ASSERT_OK_AND_ASSIGN(std::optional<TokenRecord> token,
                       store_->GetToken("race"));
  ASSERT_TRUE(token.has_value());
  for (int t = 0; t < kThreads; ++t) {
    if (outcomes[t] == "won") {
      EXPECT_EQ(token->used_by, absl::StrCat("agt-", t));
    }
  }
}

TEST_P(StoreContractTest, InternalCaIsWrittenOnce) {
  const InternalCaRecord first = {.cert_pem = "-----BEGIN CERTIFICATE-----\n",
                                  .key_sealed = AllBytes(),
                                  .created_at = kT1};
  const InternalCaRecord second = {
      .cert_pem = "another", .key_sealed = "other", .created_at = kT2};
  EXPECT_THAT(store_->CreateInternalCaIfAbsent(first), IsOkAndHolds(first));
  // A second creator (another coordinator starting at the same time) gets
  // the first one back and must use it.
  EXPECT_THAT(store_->CreateInternalCaIfAbsent(second), IsOkAndHolds(first));
  EXPECT_THAT(store_->GetInternalCa(), IsOkAndHolds(Optional(first)));
}

TEST_P(StoreContractTest, TargetStatesAreKeyedByAgentAndTarget) {
  for (const auto& [agent, target] : {std::pair{"agt-b", "nginx"},
                                      {"agt-a", "nginx"},
                                      {"agt-a", "haproxy"}}) {
    const TargetStateRecord full = FullTargetState(agent, target);
    ASSERT_OK(store_->PutTargetState(full));
    ASSERT_OK(store_->PutDesiredVersion(agent, target, full.certificate,
                                        full.desired_version_id));
  }
  const TargetStateRecord sparse = {.agent_id = "agt-a", .target = "envoy"};
  ASSERT_OK(store_->PutTargetState(sparse));

  EXPECT_THAT(
      store_->ListTargetStates("agt-a"),
      IsOkAndHolds(ElementsAre(sparse, FullTargetState("agt-a", "haproxy"),
                               FullTargetState("agt-a", "nginx"))));
  EXPECT_THAT(store_->ListTargetStates("agt-b"),
              IsOkAndHolds(ElementsAre(FullTargetState("agt-b", "nginx"))));
  EXPECT_THAT(store_->ListTargetStates("agt"), IsOkAndHolds(IsEmpty()));

  TargetStateRecord changed = FullTargetState("agt-a", "nginx");
  changed.installed_version_id = changed.desired_version_id;
  changed.healthy = false;
  changed.last_error = "";
  changed.last_error_version_id = "";
  ASSERT_OK(store_->PutTargetState(changed));
  EXPECT_THAT(
      store_->ListAllTargetStates(),
      IsOkAndHolds(ElementsAre(sparse, FullTargetState("agt-a", "haproxy"),
                               changed, FullTargetState("agt-b", "nginx"))));
}

// What a target should serve is a decision, kept apart from what its agent
// reports (on etcd, only the leader may write it): a report never changes
// it, and it needs no report to exist.
TEST_P(StoreContractTest, TheDesiredVersionIsWrittenApartFromReports) {
  ASSERT_OK(store_->PutDesiredVersion("agt-a", "nginx", "web", "web/2"));
  const TargetStateRecord decided = {.agent_id = "agt-a",
                                     .target = "nginx",
                                     .certificate = "web",
                                     .desired_version_id = "web/2"};
  EXPECT_THAT(store_->ListTargetStates("agt-a"),
              IsOkAndHolds(ElementsAre(decided)));

  // A report (whatever its desired_version_id says) keeps the decision.
  TargetStateRecord report = FullTargetState("agt-a", "nginx");
  report.certificate = "web";
  report.desired_version_id = "web/9";
  ASSERT_OK(store_->PutTargetState(report));
  TargetStateRecord both = report;
  both.desired_version_id = "web/2";
  EXPECT_THAT(store_->ListAllTargetStates(), IsOkAndHolds(ElementsAre(both)));

  // A new decision keeps the report; a new report's record starts with none.
  ASSERT_OK(store_->PutDesiredVersion("agt-a", "nginx", "web", "web/3"));
  both.desired_version_id = "web/3";
  TargetStateRecord fresh = FullTargetState("agt-b", "nginx");
  ASSERT_OK(store_->PutTargetState(fresh));
  fresh.desired_version_id = "";
  EXPECT_THAT(store_->ListAllTargetStates(),
              IsOkAndHolds(ElementsAre(both, fresh)));

  // Forgotten: the report stays.
  ASSERT_OK(store_->PutDesiredVersion("agt-a", "nginx", "web", ""));
  both.desired_version_id = "";
  EXPECT_THAT(store_->ListTargetStates("agt-a"),
              IsOkAndHolds(ElementsAre(both)));
}

// The hub's writes behind come in batches (PutTargetStates,
// PutDesiredVersions, RecordLastSeen): each item as its single call would
// write it, in order, more of them than one etcd transaction holds.
TEST_P(StoreContractTest, BatchesWriteWhatTheSingleCallsWould) {
  std::vector<TargetStateRecord> reports, decisions;
  for (int i = 0; i < 300; ++i) {
    const std::string agent = absl::StrCat("agt-", 1000 + i);
    reports.push_back(FullTargetState(agent, "nginx"));
    decisions.push_back({.agent_id = agent,
                         .target = "nginx",
                         .certificate = "wildcard-example",
                         .desired_version_id = "wildcard-example/4"});
  }
  // The same key twice: the later one wins.
  TargetStateRecord later = FullTargetState("agt-1000", "nginx");
  later.detail = "reported later";
  reports.push_back(later);
  decisions.push_back({.agent_id = "agt-1001",
                       .target = "nginx",
                       .certificate = "wildcard-example",
                       .desired_version_id = "wildcard-example/5"});
  // Forgetting, in the same batch as setting, in order.
  decisions.push_back({.agent_id = "agt-1002", .target = "nginx"});
  decisions.push_back({.agent_id = "agt-1003", .target = "nginx"});
  decisions.push_back({.agent_id = "agt-1003",
                       .target = "nginx",
                       .certificate = "wildcard-example",
                       .desired_version_id = "wildcard-example/6"});

  for (const absl::Status& s : store_->PutTargetStates(reports)) {
    EXPECT_OK(s);
  }
  const std::vector<absl::Status> decided =
      store_->PutDesiredVersions(decisions);
  ASSERT_EQ(decided.size(), decisions.size());
  for (const absl::Status& s : decided) EXPECT_OK(s);

  ASSERT_OK_AND_ASSIGN(std::vector<TargetStateRecord> all,
                       store_->ListAllTargetStates());
  ASSERT_EQ(all.size(), 300u);
  for (const TargetStateRecord& s : all) {
    TargetStateRecord want =
        s.agent_id == "agt-1000" ? later : FullTargetState(s.agent_id, "nginx");
    want.desired_version_id = s.agent_id == "agt-1001"   ? "wildcard-example/5"
                              : s.agent_id == "agt-1002" ? ""
                              : s.agent_id == "agt-1003" ? "wildcard-example/6"
                                                         : "wildcard-example/4";
    EXPECT_EQ(s, want);
  }
  EXPECT_TRUE(store_->PutTargetStates({}).empty());
  EXPECT_TRUE(store_->PutDesiredVersions({}).empty());
}

TEST_P(StoreContractTest, RecordLastSeenMovesOnlyForward) {
  for (const char* id : {"agt-a", "agt-b"}) {
    AgentRecord a = FullAgent(id);
    a.last_seen_at = kT1;
    ASSERT_OK(store_->PutAgent(a));
  }
  const std::vector<absl::Status> seen = store_->RecordLastSeen(
      {{.agent_id = "agt-a", .at = kT2},
       {.agent_id = "agt-missing", .at = kT2},
       {.agent_id = "agt-b", .at = kT1 - absl::Seconds(1)}});
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_OK(seen[0]);
  EXPECT_THAT(seen[1],
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("agt-missing")));
  EXPECT_OK(seen[2]);
  ASSERT_OK_AND_ASSIGN(std::optional<AgentRecord> a, store_->GetAgent("agt-a"));
  ASSERT_OK_AND_ASSIGN(std::optional<AgentRecord> b, store_->GetAgent("agt-b"));
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->last_seen_at, kT2);
  EXPECT_EQ(b->last_seen_at, kT1);  // never backwards
  // Nothing else of the record changes.
  AgentRecord want = FullAgent("agt-a");
  want.last_seen_at = kT2;
  EXPECT_EQ(*a, want);
}

TEST_P(StoreContractTest, LabelsThatAreNotUtf8AreInvalidArgument) {
  AgentRecord agent = FullAgent("agt-1");
  agent.labels["pool"] = "\xff\xfe";
  EXPECT_THAT(store_->PutAgent(agent),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("store: put agent agt-1: labels")));
  EXPECT_THAT(store_->GetAgent("agt-1"), IsOkAndHolds(std::nullopt));

  TokenRecord token = FullToken("abcd");
  token.labels["\xc3"] = "web";  // a truncated UTF-8 key
  EXPECT_THAT(store_->PutToken(token),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("store: put token abcd: labels")));
  EXPECT_THAT(store_->GetToken("abcd"), IsOkAndHolds(std::nullopt));
}

}  // namespace
}  // namespace certfleet::store
