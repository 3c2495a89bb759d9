// The rollout part of the Store contract (store.h): rollouts with one
// unfinished per certificate and a compare-and-set save, and the append-only
// audit log, run against every backend that instantiates StoreContractTest.
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
const absl::Time kT3 = absl::FromUnixNanos(1'700'172'800'000'000'001);

RolloutRecord FullRollout(const std::string& id,
                          const std::string& certificate) {
  return {.id = id,
          .certificate = certificate,
          .kind = "rollout",
          .from_version = certificate + "/2",
          .to_version = certificate + "/3",
          .phase = "pending",
          .created_at = kT1,
          .updated_at = kT1,
          .finished = false,
          // Quotes, newlines and non-ASCII, as a real state may carry in a
          // failure message.
          .state_json = R"({"certificate":"web","halt_reason":"a \"b\"\n",)"
                        R"("hosts":[{"agent_id":"agt-1","pool":"zürich"}]})",
          .revision = 0};
}

// The record as the store returns it after a successful create.
RolloutRecord Stored(RolloutRecord r, int64_t revision = 1) {
  r.revision = revision;
  return r;
}

AuditRecord Audit(absl::Time at, const std::string& action,
                  const std::string& certificate) {
  return {.at = at,
          .actor = "admin:alice",
          .action = action,
          .certificate = certificate,
          .detail = "to web/3, \"expedite\"",
          .result = "ok"};
}

// The audit record with the id the store gave it.
AuditRecord WithId(AuditRecord a, int64_t id) {
  a.id = id;
  return a;
}

TEST_P(StoreContractTest, RolloutGetsOfMissingKeysAreEmpty) {
  EXPECT_THAT(store_->GetRollout("ro-000000000000"),
              IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->ActiveRollout("web"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->ListRollouts({}), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->ListAudit({}), IsOkAndHolds(IsEmpty()));
}

TEST_P(StoreContractTest, CreateRolloutStoresEveryFieldWithRevisionOne) {
  RolloutRecord rollout = FullRollout("ro-0123456789ab", "web");
  rollout.revision = 7;  // ignored: the store assigns it
  EXPECT_THAT(store_->CreateRollout(rollout), IsOkAndHolds(Stored(rollout)));
  EXPECT_THAT(store_->GetRollout("ro-0123456789ab"),
              IsOkAndHolds(Optional(Stored(rollout))));
  EXPECT_THAT(store_->ActiveRollout("web"),
              IsOkAndHolds(Optional(Stored(rollout))));
  EXPECT_THAT(store_->ActiveRollout("api"), IsOkAndHolds(std::nullopt));

  // A rollback with nothing to come from, and infinite times, round-trip too.
  const RolloutRecord sparse = {.id = "ro-2",
                                .certificate = "api",
                                .kind = "rollback",
                                .created_at = absl::InfinitePast(),
                                .updated_at = absl::InfiniteFuture()};
  ASSERT_OK(store_->CreateRollout(sparse));
  EXPECT_THAT(store_->GetRollout("ro-2"),
              IsOkAndHolds(Optional(Stored(sparse))));
}

TEST_P(StoreContractTest, SecondUnfinishedRolloutOfACertificateIsRefused) {
  ASSERT_OK(store_->CreateRollout(FullRollout("ro-first", "web")));
  RolloutRecord second = FullRollout("ro-second", "web");
  second.kind = "rollback";
  EXPECT_THAT(store_->CreateRollout(second),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "store: create rollout ro-second: certificate web "
                       "already has an unfinished rollout ro-first (pending); "
                       "wait for it to finish or abort it"));
  EXPECT_THAT(store_->GetRollout("ro-second"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->ActiveRollout("web"),
              IsOkAndHolds(Optional(Stored(FullRollout("ro-first", "web")))));
  // Another certificate is not affected.
  ASSERT_OK(store_->CreateRollout(FullRollout("ro-api", "api")));
  // A finished record (say, one refused before it started) may still be
  // written beside the unfinished one.
  RolloutRecord finished = FullRollout("ro-finished", "web");
  finished.finished = true;
  finished.phase = "aborted";
  ASSERT_OK(store_->CreateRollout(finished));
  EXPECT_THAT(store_->ActiveRollout("web"),
              IsOkAndHolds(Optional(Stored(FullRollout("ro-first", "web")))));
}

TEST_P(StoreContractTest, CreateRolloutWithATakenIdIsAlreadyExists) {
  RolloutRecord first = FullRollout("ro-1", "web");
  first.finished = true;
  ASSERT_OK(store_->CreateRollout(first));
  EXPECT_THAT(store_->CreateRollout(FullRollout("ro-1", "api")),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       "store: create rollout ro-1: the id is already taken"));
  EXPECT_THAT(store_->GetRollout("ro-1"),
              IsOkAndHolds(Optional(Stored(first))));
  EXPECT_THAT(store_->ActiveRollout("api"), IsOkAndHolds(std::nullopt));
}

TEST_P(StoreContractTest, CreateRolloutRefusesAnIncompleteRecord) {
  RolloutRecord no_id = FullRollout("", "web");
  EXPECT_THAT(store_->CreateRollout(no_id),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "store: create rollout: the id is empty"));
  EXPECT_THAT(store_->CreateRollout(FullRollout("ro-1", "")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "store: create rollout ro-1: the certificate is empty"));
  RolloutRecord bad_kind = FullRollout("ro-1", "web");
  bad_kind.kind = "deploy";
  EXPECT_THAT(store_->CreateRollout(bad_kind),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "store: create rollout ro-1: kind \"deploy\" is neither "
                       "\"rollout\" nor \"rollback\""));
  EXPECT_THAT(store_->ListRollouts({}), IsOkAndHolds(IsEmpty()));
}

TEST_P(StoreContractTest, SaveRolloutWritesTheStateAndBumpsTheRevision) {
  ASSERT_OK_AND_ASSIGN(RolloutRecord rollout,
                       store_->CreateRollout(FullRollout("ro-1", "web")));
  rollout.phase = "delivering";
  rollout.updated_at = kT2;
  rollout.state_json = R"({"phase":"delivering","wave":0})";
  EXPECT_THAT(store_->SaveRollout(rollout), IsOkAndHolds(2));
  EXPECT_THAT(store_->GetRollout("ro-1"),
              IsOkAndHolds(Optional(Stored(rollout, 2))));

  // What never changes is not written, whatever the caller passes.
  RolloutRecord tampered = Stored(rollout, 2);
  tampered.certificate = "api";
  tampered.kind = "rollback";
  tampered.from_version = "api/1";
  tampered.to_version = "api/9";
  tampered.created_at = kT3;
  tampered.phase = "baking";
  EXPECT_THAT(store_->SaveRollout(tampered), IsOkAndHolds(3));
  RolloutRecord expected = Stored(rollout, 3);
  expected.phase = "baking";
  EXPECT_THAT(store_->GetRollout("ro-1"), IsOkAndHolds(Optional(expected)));
  EXPECT_THAT(store_->ActiveRollout("api"), IsOkAndHolds(std::nullopt));
}

TEST_P(StoreContractTest, SaveRolloutWithAStaleRevisionIsAborted) {
  ASSERT_OK_AND_ASSIGN(RolloutRecord mine,
                       store_->CreateRollout(FullRollout("ro-1", "web")));
  RolloutRecord theirs = mine;  // another coordinator read the same revision
  theirs.phase = "paused";
  theirs.updated_at = kT2;
  ASSERT_THAT(store_->SaveRollout(theirs), IsOkAndHolds(2));

  mine.phase = "delivering";
  mine.updated_at = kT3;
  EXPECT_THAT(store_->SaveRollout(mine),
              StatusIs(absl::StatusCode::kAborted,
                       "store: save rollout ro-1: revision 1 was read but 2 "
                       "is stored (saved elsewhere since); re-read it and "
                       "retry"));
  EXPECT_THAT(store_->GetRollout("ro-1"),
              IsOkAndHolds(Optional(Stored(theirs, 2))));
  // Re-read, re-applied: accepted.
  mine.revision = 2;
  EXPECT_THAT(store_->SaveRollout(mine), IsOkAndHolds(3));
}

TEST_P(StoreContractTest, SaveRolloutOfAMissingRolloutIsNotFound) {
  RolloutRecord ghost = Stored(FullRollout("ro-ghost", "web"));
  EXPECT_THAT(store_->SaveRollout(ghost),
              StatusIs(absl::StatusCode::kNotFound,
                       "store: save rollout ro-ghost: no such rollout"));
  EXPECT_THAT(store_->GetRollout("ro-ghost"), IsOkAndHolds(std::nullopt));
}

TEST_P(StoreContractTest, FinishedRolloutFreesTheCertificateAndIsFrozen) {
  ASSERT_OK_AND_ASSIGN(RolloutRecord first,
                       store_->CreateRollout(FullRollout("ro-1", "web")));
  first.phase = "complete";
  first.finished = true;
  first.updated_at = kT2;
  ASSERT_THAT(store_->SaveRollout(first), IsOkAndHolds(2));
  EXPECT_THAT(store_->ActiveRollout("web"), IsOkAndHolds(std::nullopt));

  // Neither un-finishing it nor any other change is accepted.
  RolloutRecord reopen = Stored(first, 2);
  reopen.finished = false;
  reopen.phase = "delivering";
  EXPECT_THAT(store_->SaveRollout(reopen),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "store: save rollout ro-1: it is finished (complete) "
                       "and never changes again; start a new rollout"));
  EXPECT_THAT(store_->GetRollout("ro-1"),
              IsOkAndHolds(Optional(Stored(first, 2))));

  // The certificate may have a new rollout now.
  RolloutRecord rollback = FullRollout("ro-2", "web");
  rollback.kind = "rollback";
  rollback.created_at = kT3;
  ASSERT_OK(store_->CreateRollout(rollback));
  EXPECT_THAT(store_->ActiveRollout("web"),
              IsOkAndHolds(Optional(Stored(rollback))));
}

TEST_P(StoreContractTest, ConcurrentSavesOfOneRevisionHaveExactlyOneWinner) {
  constexpr int kThreads = 8;
  ASSERT_OK_AND_ASSIGN(RolloutRecord read,
                       store_->CreateRollout(FullRollout("ro-race", "web")));
  std::atomic<int> winners{0};
  std::vector<std::string> phases(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      RolloutRecord mine = read;
      mine.phase = absl::StrCat("phase-", t);
      absl::StatusOr<int64_t> revision = store_->SaveRollout(mine);
      if (revision.ok()) {
        ++winners;
        phases[t] = mine.phase;
        EXPECT_EQ(*revision, 2);
      } else {
        EXPECT_THAT(revision.status(),
                    StatusIs(absl::StatusCode::kAborted,
                             HasSubstr("revision 1 was read but 2 is stored")));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(winners.load(), 1);
  ASSERT_OK_AND_ASSIGN(std::optional<RolloutRecord> stored,
                       store_->GetRollout("ro-race"));
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->revision, 2);
  EXPECT_THAT(phases, ::testing::Contains(stored->phase));
}

TEST_P(StoreContractTest, ListRolloutsIsNewestFirstAndFiltered) {
  // Created out of time order; ro-c and ro-d share a creation time, so the
  // later created (ro-d) comes first.
  RolloutRecord a = FullRollout("ro-a", "web");
  a.created_at = kT1;
  a.finished = true;
  RolloutRecord b = FullRollout("ro-b", "api");
  b.created_at = kT3;
  RolloutRecord c = FullRollout("ro-c", "web");
  c.created_at = kT2;
  c.finished = true;
  RolloutRecord d = FullRollout("ro-d", "web");
  d.created_at = kT2;
  for (const RolloutRecord& r : {a, b, c, d}) {
    ASSERT_OK(store_->CreateRollout(r));
  }
  EXPECT_THAT(
      store_->ListRollouts({}),
      IsOkAndHolds(ElementsAre(Stored(b), Stored(d), Stored(c), Stored(a))));
  EXPECT_THAT(store_->ListRollouts({.certificate = "web"}),
              IsOkAndHolds(ElementsAre(Stored(d), Stored(c), Stored(a))));
  EXPECT_THAT(store_->ListRollouts({.certificate = "web", .limit = 2}),
              IsOkAndHolds(ElementsAre(Stored(d), Stored(c))));
  EXPECT_THAT(store_->ListRollouts({.unfinished_only = true}),
              IsOkAndHolds(ElementsAre(Stored(b), Stored(d))));
  EXPECT_THAT(store_->ListRollouts(
                  {.certificate = "web", .unfinished_only = true, .limit = 5}),
              IsOkAndHolds(ElementsAre(Stored(d))));
  EXPECT_THAT(store_->ListRollouts({.certificate = "db"}),
              IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->ListRollouts({.limit = -1}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "store: list rollouts: limit -1 is negative"));
}

TEST_P(StoreContractTest, AppendAuditAssignsIncreasingIdsAndKeepsEveryField) {
  const AuditRecord first = Audit(kT1, "rollout.start", "web");
  const AuditRecord second = {.at = absl::InfinitePast(),
                              .actor = "coordinator",
                              .action = "token.create",
                              .result = "store: unavailable: \"disk\"\n"};
  ASSERT_OK_AND_ASSIGN(int64_t id1, store_->AppendAudit(first));
  AuditRecord with_stale_id = second;
  with_stale_id.id = 99;  // ignored: the store assigns it
  ASSERT_OK_AND_ASSIGN(int64_t id2, store_->AppendAudit(with_stale_id));
  EXPECT_GT(id1, 0);
  EXPECT_GT(id2, id1);
  EXPECT_THAT(
      store_->ListAudit({}),
      IsOkAndHolds(ElementsAre(WithId(first, id1), WithId(second, id2))));
}

TEST_P(StoreContractTest, ListAuditIsNewestFirstAndFiltered) {
  // Appended out of time order; the two at kT2 come newest id first.
  const AuditRecord pause = Audit(kT2, "rollout.pause", "web");
  const AuditRecord token = Audit(kT1, "token.create", "");
  const AuditRecord resume = Audit(kT2, "rollout.resume", "web");
  const AuditRecord renew = Audit(kT3, "renew", "api");
  std::vector<AuditRecord> stored;
  for (const AuditRecord& a : {pause, token, resume, renew}) {
    ASSERT_OK_AND_ASSIGN(int64_t id, store_->AppendAudit(a));
    stored.push_back(WithId(a, id));
  }
  EXPECT_THAT(
      store_->ListAudit({}),
      IsOkAndHolds(ElementsAre(stored[3], stored[2], stored[0], stored[1])));
  EXPECT_THAT(store_->ListAudit({.certificate = "web"}),
              IsOkAndHolds(ElementsAre(stored[2], stored[0])));
  // since is inclusive.
  EXPECT_THAT(store_->ListAudit({.since = kT2}),
              IsOkAndHolds(ElementsAre(stored[3], stored[2], stored[0])));
  EXPECT_THAT(store_->ListAudit({.since = kT2 + absl::Nanoseconds(1)}),
              IsOkAndHolds(ElementsAre(stored[3])));
  EXPECT_THAT(store_->ListAudit({.limit = 2}),
              IsOkAndHolds(ElementsAre(stored[3], stored[2])));
  EXPECT_THAT(
      store_->ListAudit({.since = kT1, .certificate = "web", .limit = 1}),
      IsOkAndHolds(ElementsAre(stored[2])));
  EXPECT_THAT(store_->ListAudit({.certificate = "db"}),
              IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->ListAudit({.limit = -5}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "store: list audit records: limit -5 is negative"));
}

TEST_P(StoreContractTest, AppendAuditRefusesARecordWithoutWhoWhatOrResult) {
  AuditRecord no_actor = Audit(kT1, "rollout.pause", "web");
  no_actor.actor = "";
  EXPECT_THAT(store_->AppendAudit(no_actor),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "store: append audit record: actor is empty"));
  EXPECT_THAT(store_->AppendAudit(Audit(kT1, "", "web")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "store: append audit record: action is empty"));
  AuditRecord no_result = Audit(kT1, "rollout.pause", "web");
  no_result.result = "";
  EXPECT_THAT(store_->AppendAudit(no_result),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "store: append audit record: result is empty"));
  EXPECT_THAT(store_->ListAudit({}), IsOkAndHolds(IsEmpty()));
}

TEST_P(StoreContractTest, TargetStateKeepsTheVersionOfItsLastError) {
  TargetStateRecord failed = {.agent_id = "agt-1",
                              .target = "nginx",
                              .certificate = "web",
                              .desired_version_id = "web/3",
                              .installed_version_id = "web/2",
                              .last_error = "reload: exit status 1",
                              .last_error_version_id = "web/3"};
  ASSERT_OK(store_->PutTargetState(failed));
  ASSERT_OK(store_->PutDesiredVersion("agt-1", "nginx", "web", "web/3"));
  EXPECT_THAT(store_->ListTargetStates("agt-1"),
              IsOkAndHolds(ElementsAre(failed)));
  TargetStateRecord recovered = failed;
  recovered.installed_version_id = "web/3";
  recovered.last_error = "";
  recovered.last_error_version_id = "";
  ASSERT_OK(store_->PutTargetState(recovered));
  EXPECT_THAT(store_->ListAllTargetStates(),
              IsOkAndHolds(ElementsAre(recovered)));
}

}  // namespace
}  // namespace certfleet::store
