#include "common/context.h"

#include <atomic>
#include <memory>
#include <optional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace certfleet {
namespace {

TEST(ContextTest, WithCancellationChainsToTheCancellationItHad) {
  auto stop = std::make_shared<Cancellation>();
  auto nap = std::make_shared<Cancellation>();
  const Context ctx = Context::Background().WithCancellation(stop);
  const Context napping = ctx.WithCancellation(nap);
  EXPECT_FALSE(napping.IsCancelled());
  stop->Cancel();
  EXPECT_TRUE(napping.IsCancelled());
  EXPECT_TRUE(ctx.IsCancelled());
  EXPECT_FALSE(nap->IsCancelled());
}

TEST(ContextTest, TheNewerCancellationEndsOnlyTheChild) {
  auto stop = std::make_shared<Cancellation>();
  auto nap = std::make_shared<Cancellation>();
  const Context ctx = Context::Background().WithCancellation(stop);
  const Context napping = ctx.WithCancellation(nap);
  nap->Cancel();
  EXPECT_TRUE(napping.IsCancelled());
  EXPECT_FALSE(ctx.IsCancelled());
  EXPECT_FALSE(stop->IsCancelled());
}

TEST(ContextTest, AChildOfACancelledContextIsCancelledAtOnce) {
  auto stop = std::make_shared<Cancellation>();
  stop->Cancel();
  const Context ctx = Context::Background().WithCancellation(stop);
  EXPECT_TRUE(
      ctx.WithCancellation(std::make_shared<Cancellation>()).IsCancelled());
  EXPECT_TRUE(ctx.NewCancellation()->IsCancelled());
}

TEST(ContextTest, WithoutACancellationTheGivenOneIsUsedAsItIs) {
  auto c = std::make_shared<Cancellation>();
  EXPECT_EQ(Context::Background().WithCancellation(c).cancellation(), c.get());
  const Context ctx = Context::Background().WithCancellation(c);
  EXPECT_EQ(ctx.WithCancellation(nullptr).cancellation(), c.get());
}

TEST(ContextTest, AWaitOnTheChildEndsWhenTheParentIsCancelled) {
  auto stop = std::make_shared<Cancellation>();
  const Context napping =
      Context::Background().WithCancellation(stop).WithCancellation(
          std::make_shared<Cancellation>());
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    woke = napping.cancellation()->WaitUntil(absl::Now() + absl::Seconds(30));
  });
  absl::SleepFor(absl::Milliseconds(20));
  const absl::Time cancelled_at = absl::Now();
  stop->Cancel();
  sleeper.join();
  EXPECT_TRUE(woke);
  EXPECT_LT(absl::Now() - cancelled_at, absl::Seconds(5));
}

TEST(ContextTest, NestedChildrenAreCancelledBeforeCancelReturns) {
  auto root = std::make_shared<Cancellation>();
  Context ctx = Context::Background().WithCancellation(root);
  for (int i = 0; i < 10; ++i) {
    ctx = ctx.WithCancellation(std::make_shared<Cancellation>());
  }
  root->Cancel();
  EXPECT_TRUE(ctx.IsCancelled());
}

TEST(ContextTest, AChildOutlivesItsParentsScope) {
  std::shared_ptr<Cancellation> child;
  std::weak_ptr<Cancellation> parent_seen;
  {
    auto parent = std::make_shared<Cancellation>();
    parent_seen = parent;
    child = Cancellation::ChildOf({parent});
  }
  // Held by the child; nothing dangles.
  EXPECT_FALSE(parent_seen.expired());
  EXPECT_FALSE(child->IsCancelled());
  child->Cancel();
  EXPECT_TRUE(child->IsCancelled());
  EXPECT_FALSE(parent_seen.lock()->IsCancelled());
  child.reset();
  EXPECT_TRUE(parent_seen.expired());
}

TEST(ContextTest, ShortLivedChildrenLeaveNothingOnTheParent) {
  auto stop = std::make_shared<Cancellation>();
  const Context ctx = Context::Background().WithCancellation(stop);
  for (int i = 0; i < 1000; ++i) {
    const Context nap = ctx.WithCancellation(std::make_shared<Cancellation>());
    EXPECT_EQ(stop->callback_count(), 1u);
  }
  EXPECT_EQ(stop->callback_count(), 0u);
  stop->Cancel();
}

TEST(ContextTest, OnCancelRunsOnceWhileItsCallbackLives) {
  auto stop = std::make_shared<Cancellation>();
  const Context ctx = Context::Background().WithCancellation(stop);
  int ran = 0, dropped = 0;
  Cancellation::Callback kept = ctx.OnCancel([&] { ++ran; });
  {
    Cancellation::Callback gone = ctx.OnCancel([&] { ++dropped; });
  }
  stop->Cancel();
  stop->Cancel();
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(dropped, 0);
  // Registered once cancelled: at once, on this thread.
  Cancellation::Callback late = ctx.OnCancel([&] { ++ran; });
  EXPECT_EQ(ran, 2);
  // Without a cancellation: never.
  Cancellation::Callback never =
      Context::Background().OnCancel([&] { ++dropped; });
  EXPECT_EQ(dropped, 0);
}

TEST(ContextTest, ACallbackMovedKeepsItsRegistration) {
  auto stop = std::make_shared<Cancellation>();
  int ran = 0;
  std::optional<Cancellation::Callback> moved;
  {
    Cancellation::Callback first = Cancellation::OnCancel(stop, [&] { ++ran; });
    moved.emplace(std::move(first));
  }
  stop->Cancel();
  EXPECT_EQ(ran, 1);
}

// Destroying a Callback whose function runs on another thread waits for it
// to return: what the function uses may be freed right after.
TEST(ContextTest, DestroyingACallbackWaitsForItsRunInProgress) {
  auto stop = std::make_shared<Cancellation>();
  absl::Notification entered, release;
  std::atomic<bool> returned{false};
  auto callback = std::make_unique<Cancellation::Callback>(
      Cancellation::OnCancel(stop, [&] {
        entered.Notify();
        release.WaitForNotificationWithTimeout(absl::Seconds(30));
        returned = true;
      }));
  std::thread canceller([&] { stop->Cancel(); });
  entered.WaitForNotification();
  std::atomic<bool> destroyed{false};
  std::thread destroyer([&] {
    callback.reset();
    destroyed = true;
  });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(destroyed);
  release.Notify();
  destroyer.join();
  EXPECT_TRUE(returned);
  canceller.join();
}

// A second Cancel() returns only once the first one's callbacks ran, so
// whatever is chained to the cancellation is cancelled by then.
TEST(ContextTest, ASecondCancelWaitsForTheFirstsCallbacks) {
  auto stop = std::make_shared<Cancellation>();
  absl::Notification entered, release;
  std::atomic<bool> returned{false};
  Cancellation::Callback slow = Cancellation::OnCancel(stop, [&] {
    entered.Notify();
    release.WaitForNotificationWithTimeout(absl::Seconds(30));
    returned = true;
  });
  std::thread first([&] { stop->Cancel(); });
  entered.WaitForNotification();
  std::atomic<bool> second_returned{false};
  std::thread second([&] {
    stop->Cancel();
    second_returned = true;
  });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(second_returned);
  release.Notify();
  second.join();
  EXPECT_TRUE(returned);
  first.join();
}

TEST(ContextTest, ACallbackMayCancelItsSourceAndDropItsRegistration) {
  auto stop = std::make_shared<Cancellation>();
  std::optional<Cancellation::Callback> self;
  bool ran = false;
  self.emplace(Cancellation::OnCancel(stop, [&] {
    stop->Cancel();  // already cancelling, on this thread: returns
    self.reset();    // its own registration, on this thread: no wait
    ran = true;
  }));
  stop->Cancel();
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace certfleet
