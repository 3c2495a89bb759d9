// The loop of `certfleetctl rollout status --watch` over a scripted
// sequence of GetRollout answers and a fake clock: it prints on change
// only, stops at a final phase, gives up after three unreachable polls in a
// row, ends at once on any other error, and stops when cancelled.
#include "ctl/watch_rollout.h"

#include <deque>
#include <memory>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::ctl {
namespace {

using ::certfleet::testing::FakeClock;
using ::certfleet::testing::StatusIs;
using ::testing::Each;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr absl::Duration kInterval = absl::Seconds(2);
const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

v1::GetRolloutResponse Rollout(const std::string& phase, int64_t revision,
                               int wave = 1, const std::string& id = "ro-1") {
  v1::GetRolloutResponse out;
  v1::RolloutInfo& r = *out.mutable_rollout();
  r.set_id(id);
  r.set_revision(revision);
  r.set_certificate("web");
  r.set_kind("rollout");
  r.set_from_version("web/1");
  r.set_to_version("web/2");
  r.set_phase(phase);
  r.set_wave(wave);
  r.set_wave_count(3);
  r.mutable_updated_at()->set_seconds(1'700'000'000 + revision);
  return out;
}

// GetRollout answering from a script, one answer per poll; counts polls.
class ScriptedFetch {
 public:
  explicit ScriptedFetch(
      std::vector<absl::StatusOr<v1::GetRolloutResponse>> answers)
      : answers_(answers.begin(), answers.end()) {}

  RolloutFetch AsFetch() {
    return [this]() -> absl::StatusOr<v1::GetRolloutResponse> {
      ++polls_;
      if (answers_.empty()) {
        ADD_FAILURE() << "polled after the script ended";
        return absl::InternalError("script ended");
      }
      absl::StatusOr<v1::GetRolloutResponse> next = answers_.front();
      answers_.pop_front();
      return next;
    };
  }
  int polls() const { return polls_; }

 private:
  std::deque<absl::StatusOr<v1::GetRolloutResponse>> answers_;
  int polls_ = 0;
};

absl::Status Unreachable() {
  return absl::UnavailableError(
      "coordinator 127.0.0.1:7444: GetRollout: failed to connect to all "
      "addresses");
}

class WatchRolloutTest : public ::testing::Test {
 protected:
  absl::Status Watch(ScriptedFetch& fetch, bool json = false,
                     const Context& ctx = Context::Background()) {
    return WatchRollout(
        fetch.AsFetch(), clock_, ctx, {.interval = kInterval, .json = json},
        {.snapshot = [this](const std::string& t) { snapshots_.push_back(t); },
         .note = [this](const std::string& t) { notes_.push_back(t); }});
  }

  FakeClock clock_{kStart};
  std::vector<std::string> snapshots_;
  std::vector<std::string> notes_;
};

TEST_F(WatchRolloutTest, PrintsOnChangeOnlyAndStopsAtTheFinalPhase) {
  ScriptedFetch fetch({Rollout("delivering", 1), Rollout("delivering", 1),
                       Rollout("baking", 2), Rollout("baking", 2),
                       Rollout("delivering", 3, 2), Rollout("complete", 4, 3),
                       // Never asked for: the watch ended.
                       Rollout("complete", 4, 3)});
  ASSERT_OK(Watch(fetch));
  EXPECT_EQ(fetch.polls(), 6);
  ASSERT_THAT(snapshots_, SizeIs(4));
  EXPECT_EQ(snapshots_[0].substr(0, snapshots_[0].find('\n')),
            "--- 2027-01-15T08:00:00Z ---");
  EXPECT_THAT(snapshots_[0], HasSubstr("phase:         delivering (wave 1 of "
                                       "3)\n"));
  // Polls 1 and 2 saw the same rollout; the third (4 s later) a new phase.
  EXPECT_THAT(snapshots_[1], StartsWith("\n--- 2027-01-15T08:00:04Z ---\n"));
  EXPECT_THAT(snapshots_[1], HasSubstr("phase:         baking (wave 1 of 3)"));
  EXPECT_THAT(snapshots_[2], HasSubstr("delivering (wave 2 of 3)"));
  EXPECT_THAT(snapshots_[3], StartsWith("\n--- 2027-01-15T08:00:10Z ---\n"));
  EXPECT_THAT(snapshots_[3],
              HasSubstr("phase:         complete (wave 3 of 3)"));
  // One wait per poll but the last, each the interval.
  EXPECT_THAT(clock_.sleeps(), SizeIs(5));
  EXPECT_THAT(clock_.sleeps(), Each(kInterval));
  EXPECT_TRUE(notes_.empty());
}

TEST_F(WatchRolloutTest, ANewRevisionInTheSamePhaseIsAChange) {
  ScriptedFetch fetch({Rollout("delivering", 1), Rollout("delivering", 2),
                       Rollout("aborted", 3)});
  ASSERT_OK(Watch(fetch));
  EXPECT_THAT(snapshots_, SizeIs(3));
}

TEST_F(WatchRolloutTest, AnAlreadyFinishedRolloutPrintsOnceAndEnds) {
  ScriptedFetch fetch({Rollout("rolled_back", 9)});
  ASSERT_OK(Watch(fetch));
  EXPECT_EQ(fetch.polls(), 1);
  EXPECT_THAT(snapshots_, SizeIs(1));
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(WatchRolloutTest, HaltedIsNotFinal) {
  ScriptedFetch fetch(
      {Rollout("halted", 5), Rollout("halted", 5), Rollout("rolled_back", 6)});
  ASSERT_OK(Watch(fetch));
  EXPECT_EQ(fetch.polls(), 3);
  ASSERT_THAT(snapshots_, SizeIs(2));
  EXPECT_THAT(snapshots_[1], HasSubstr("phase:         rolled_back"));
}

TEST_F(WatchRolloutTest, JsonLinesOneObjectPerChange) {
  ScriptedFetch fetch({Rollout("delivering", 1), Rollout("delivering", 1),
                       Rollout("complete", 2, 3)});
  ASSERT_OK(Watch(fetch, /*json=*/true));
  ASSERT_THAT(snapshots_, SizeIs(2));
  std::vector<nlohmann::json> lines;
  for (const std::string& s : snapshots_) {
    // Exactly one line each.
    ASSERT_EQ(s.find('\n'), s.size() - 1) << s;
    lines.push_back(nlohmann::json::parse(s));
  }
  EXPECT_EQ(lines[0]["phase"], "delivering");
  EXPECT_EQ(lines[0]["revision"], 1);
  EXPECT_EQ(lines[0]["observed_at"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(lines[1]["phase"], "complete");
  EXPECT_EQ(lines[1]["wave"], 3);
  EXPECT_EQ(lines[1]["observed_at"], "2027-01-15T08:00:04Z");
}

TEST_F(WatchRolloutTest, GivesUpAfterThreeUnreachablePollsInARow) {
  ScriptedFetch fetch({Rollout("delivering", 1), Unreachable(), Unreachable(),
                       // Back in time: the count starts again.
                       Rollout("delivering", 1), Unreachable(),
                       absl::DeadlineExceededError(
                           "coordinator 127.0.0.1:7444: GetRollout: Deadline "
                           "Exceeded"),
                       Unreachable()});
  EXPECT_THAT(
      Watch(fetch),
      StatusIs(absl::StatusCode::kUnavailable,
               HasSubstr("gave up watching: 3 polls in a row could not reach "
                         "the coordinator; last: coordinator 127.0.0.1:7444: "
                         "GetRollout: failed to connect")));
  EXPECT_EQ(fetch.polls(), 7);
  EXPECT_THAT(snapshots_, SizeIs(1));  // the same rollout after the gap
  ASSERT_THAT(notes_, SizeIs(4));
  EXPECT_EQ(notes_[0],
            "certfleetctl: coordinator 127.0.0.1:7444: GetRollout: failed to "
            "connect to all addresses (1 of 3 polls in a row; trying again "
            "in 2s)\n");
  EXPECT_THAT(notes_[3], HasSubstr("Deadline Exceeded (2 of 3 polls"));
}

TEST_F(WatchRolloutTest, OtherErrorsEndTheWatchAtOnce) {
  ScriptedFetch missing(
      {absl::NotFoundError("coordinator x: GetRollout: no rollout of web")});
  EXPECT_THAT(Watch(missing), StatusIs(absl::StatusCode::kNotFound,
                                       HasSubstr("no rollout of web")));
  EXPECT_EQ(missing.polls(), 1);

  ScriptedFetch refused({Rollout("delivering", 1),
                         absl::PermissionDeniedError("agent identities...")});
  EXPECT_THAT(Watch(refused), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(refused.polls(), 2);
  EXPECT_THAT(snapshots_, SizeIs(1));
  EXPECT_TRUE(notes_.empty());
}

TEST_F(WatchRolloutTest, CancellationStopsBetweenPolls) {
  auto cancel = std::make_shared<Cancellation>();
  const Context ctx = Context::Background().WithCancellation(cancel);
  int polls = 0;
  const absl::Status s = WatchRollout(
      [&]() -> absl::StatusOr<v1::GetRolloutResponse> {
        if (++polls == 3) cancel->Cancel();  // Ctrl-C during the third call
        return Rollout("baking", polls);
      },
      clock_, ctx, {.interval = kInterval},
      {.snapshot = [this](const std::string& t) { snapshots_.push_back(t); },
       .note = [this](const std::string& t) { notes_.push_back(t); }});
  EXPECT_THAT(s,
              StatusIs(absl::StatusCode::kCancelled, HasSubstr("interrupted")));
  EXPECT_EQ(polls, 3);
  // The third answer is not printed: the operator asked to stop.
  EXPECT_THAT(snapshots_, SizeIs(2));
}

TEST(IsFinalPhaseTest, TheControllersFinishedPhases) {
  for (const char* phase : {"complete", "rolled_back", "aborted"}) {
    EXPECT_TRUE(IsFinalPhase(phase)) << phase;
  }
  for (const char* phase :
       {"pending", "delivering", "baking", "paused", "halted", ""}) {
    EXPECT_FALSE(IsFinalPhase(phase)) << phase;
  }
}

TEST(FormatWatchSnapshotTest, TableUnderATimestampLine) {
  const std::string text = FormatWatchSnapshot(
      Rollout("paused", 2), kStart + absl::Milliseconds(1500), false);
  const std::vector<std::string> lines = absl::StrSplit(text, '\n');
  ASSERT_THAT(lines, SizeIs(::testing::Gt(3u)));
  EXPECT_EQ(lines[0], "--- 2027-01-15T08:00:01Z ---");
  EXPECT_EQ(lines[1], "rollout:       ro-1 (rollout)");
}

}  // namespace
}  // namespace certfleet::ctl
