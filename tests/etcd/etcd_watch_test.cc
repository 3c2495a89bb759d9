// EtcdClient::Watch against a real 3-member etcd cluster: history from a
// revision, live changes, previous values, cancellation, compaction.
#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/etcd/etcd_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/etcd/etcd_test_env.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::etcd::testing {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST_F(EtcdTest, WatchFromARevisionSeesPutsAndDeletesInOrder) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  ASSERT_OK_AND_ASSIGN(WriteResult r1, client->Put(Key("a"), "1", Ctx()));
  ASSERT_OK_AND_ASSIGN(WriteResult r2, client->Put(Key("b"), "2", Ctx()));
  ASSERT_OK_AND_ASSIGN(WriteResult r3, client->Put(Key("a"), "3", Ctx()));
  ASSERT_OK_AND_ASSIGN(WriteResult r4, client->Delete(Key("b"), Ctx()));

  WatchRecorder recorder;
  ASSERT_OK_AND_ASSIGN(auto watch,
                       client->Watch({.range = KeyRange::Prefix(prefix()),
                                      .start_revision = r1.revision,
                                      .prev_kv = true},
                                     recorder.Callback(), Ctx()));
  // History first, then what happens after the watch started.
  ASSERT_OK_AND_ASSIGN(WriteResult r5, client->Put(Key("c"), "5", Ctx()));
  ASSERT_OK_AND_ASSIGN(WriteResult r6, client->DeletePrefix(prefix(), Ctx()));
  std::vector<WatchEvent> events = recorder.WaitForEvents(7);
  auto at = [](const std::string& what, const WriteResult& r) {
    return absl::StrCat(what, "@", r.revision);
  };
  EXPECT_THAT(
      Describe(events),
      ElementsAre(
          at("PUT " + Key("a") + "=1", r1), at("PUT " + Key("b") + "=2", r2),
          at("PUT " + Key("a") + "=3", r3), at("DELETE " + Key("b"), r4),
          at("PUT " + Key("c") + "=5", r5),
          // One delete of two keys: two events, one revision.
          at("DELETE " + Key("a"), r6), at("DELETE " + Key("c"), r6)));
  ASSERT_EQ(events.size(), 7u);
  EXPECT_FALSE(events[0].prev_kv.has_value());
  ASSERT_TRUE(events[2].prev_kv.has_value());
  EXPECT_EQ(events[2].prev_kv->value, "1");
  EXPECT_EQ(events[2].kv.version, 2);
  EXPECT_EQ(events[2].kv.create_revision, r1.revision);
  ASSERT_TRUE(events[3].prev_kv.has_value());
  EXPECT_EQ(events[3].prev_kv->value, "2");
  EXPECT_EQ(recorder.final_calls(), 0);
}

TEST_F(EtcdTest, WatchFromNowSeesOnlyLaterChangesOfItsRange) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  ASSERT_OK(client->Put(Key("w/before"), "old", Ctx()));
  // "Now" is the revision of the member that creates the watch, and a
  // follower applies a write a moment after the member that answered the
  // Put: a watch created on a lagging follower would start before "before"
  // and report it (a loaded machine made that happen). A linearizable read
  // through a member returns only once that member has applied every write
  // committed before the read, so after one through each member, "before"
  // is in the past wherever the watch lands.
  for (int member = 0; member < cluster().size(); ++member) {
    auto via_member = NewClient({cluster().endpoint(member)});
    ASSERT_NE(via_member, nullptr);
    ASSERT_OK_AND_ASSIGN(GetResult got,
                         via_member->Get(Key("w/before"), Ctx()));
    ASSERT_TRUE(got.kv.has_value()) << "member " << member;
  }
  WatchRecorder recorder;
  ASSERT_OK_AND_ASSIGN(auto watch,
                       client->Watch({.range = KeyRange::Prefix(Key("w/"))},
                                     recorder.Callback(), Ctx()));
  // Watch() returned after etcd created the watch: this put is seen.
  ASSERT_OK(client->Put(Key("other"), "not watched", Ctx()));
  ASSERT_OK_AND_ASSIGN(WriteResult after,
                       client->Put(Key("w/after"), "new", Ctx()));
  EXPECT_THAT(Describe(recorder.WaitForEvents(1)),
              ElementsAre(absl::StrCat("PUT ", Key("w/after"), "=new@",
                                       after.revision)));
}

TEST_F(EtcdTest, CancelEndsTheWatchWithOneFinalStatus) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  WatchRecorder recorder;
  ASSERT_OK_AND_ASSIGN(auto watch,
                       client->Watch({.range = KeyRange::Single(Key("k"))},
                                     recorder.Callback(), Ctx()));
  ASSERT_OK(client->Put(Key("k"), "1", Ctx()));
  ASSERT_EQ(recorder.WaitForEvents(1).size(), 1u);
  EXPECT_FALSE(watch->Done());

  watch->Cancel();
  // Cancel returned: the final call has already happened.
  EXPECT_TRUE(watch->Done());
  EXPECT_EQ(recorder.final_calls(), 1);
  EXPECT_THAT(
      recorder.WaitForEnd(absl::ZeroDuration()),
      StatusIs(absl::StatusCode::kCancelled, HasSubstr("watch cancelled")));
  ASSERT_OK(client->Put(Key("k"), "2", Ctx()));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(recorder.events().size(), 1u);
  watch->Cancel();  // idempotent
  watch.reset();
  EXPECT_EQ(recorder.final_calls(), 1);
  EXPECT_EQ(recorder.calls_after_final(), 0);
}

TEST_F(EtcdTest, CancelFromInsideTheCallbackDoesNotDeadlock) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  WatchRecorder recorder;
  std::atomic<EtcdWatch*> self{nullptr};
  WatchCallback record = recorder.Callback();
  ASSERT_OK_AND_ASSIGN(auto watch, client->Watch(
                                       {.range = KeyRange::Single(Key("k"))},
                                       [&](absl::StatusOr<WatchUpdate> update) {
                                         const bool event = update.ok();
                                         record(std::move(update));
                                         if (event && self.load() != nullptr)
                                           self.load()->Cancel();
                                       },
                                       Ctx()));
  self = watch.get();
  ASSERT_OK(client->Put(Key("k"), "1", Ctx()));
  EXPECT_THAT(recorder.WaitForEnd(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(recorder.events().size(), 1u);
  watch.reset();  // joins the finished thread
  EXPECT_EQ(recorder.calls_after_final(), 0);
}

TEST_F(EtcdTest, WatchFromACompactedRevisionEndsWithOutOfRange) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  ASSERT_OK_AND_ASSIGN(WriteResult old, client->Put(Key("c"), "1", Ctx()));
  ASSERT_OK_AND_ASSIGN(WriteResult now, client->Put(Key("c"), "2", Ctx()));
  ASSERT_OK(cluster().Etcdctl({"compact", absl::StrCat(now.revision)}));

  WatchRecorder recorder;
  ASSERT_OK_AND_ASSIGN(auto watch,
                       client->Watch({.range = KeyRange::Single(Key("c")),
                                      .start_revision = old.revision},
                                     recorder.Callback(), Ctx()));
  EXPECT_THAT(
      recorder.WaitForEnd(),
      StatusIs(
          absl::StatusCode::kOutOfRange,
          AllOf(HasSubstr(absl::StrCat("revision ", old.revision,
                                       " has been compacted")),
                HasSubstr(absl::StrCat("compact revision ", now.revision)))));
  EXPECT_THAT(recorder.events(), IsEmpty());
  EXPECT_TRUE(watch->Done());

  // From the compact revision on, the history is still there.
  WatchRecorder from_compacted;
  ASSERT_OK_AND_ASSIGN(auto again,
                       client->Watch({.range = KeyRange::Single(Key("c")),
                                      .start_revision = now.revision},
                                     from_compacted.Callback(), Ctx()));
  EXPECT_THAT(Describe(from_compacted.WaitForEvents(1)),
              ElementsAre(absl::StrCat("PUT ", Key("c"), "=2@", now.revision)));
}

}  // namespace
}  // namespace certfleet::etcd::testing
