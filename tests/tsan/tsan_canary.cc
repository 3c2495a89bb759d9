// Checks the CERTFLEET_TSAN build itself (tests/tsan/): ThreadSanitizer must
// see abseil's synchronization (absl_sync_annotations.cc) — correctly locked
// code is not reported — and must still report a real race on data an
// absl::Mutex guards, which no suppression (tsan.supp) may hide.
//
//   tsan_canary locked   every primitive used correctly: no report, exit 0
//   tsan_canary race     one read without the lock: a data race report
//   tsan_canary leak     a std::thread of ours never joined: a thread leak
//                        report (tsan.supp ignores only gRPC's own threads)
//
// ctest runs both (tests/CMakeLists.txt). The data is on the heap, as our
// guarded members are: ThreadSanitizer (clang 14) reports no race on the
// main thread's stack.
#include <pthread.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/barrier.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace {

struct Guarded {
  absl::Mutex mu;
  absl::CondVar cv;
  int value ABSL_GUARDED_BY(mu) = 0;
  bool ready ABSL_GUARDED_BY(mu) = false;
};

// Mutex, reader lock, CondVar, Await/LockWhen with a Condition,
// Notification (also its path that finds it already notified),
// BlockingCounter and Barrier, each handing data to another thread.
int Locked() {
  {
    auto owned = std::make_unique<Guarded>();
    Guarded& g = *owned;
    std::thread writer([&] {
      absl::MutexLock lock(&g.mu);
      g.value = 1;
      g.ready = true;
      g.cv.Signal();
    });
    {
      absl::MutexLock lock(&g.mu);
      while (!g.ready) g.cv.Wait(&g.mu);
      if (g.value != 1) return 1;
    }
    writer.join();
  }
  {
    auto owned = std::make_unique<Guarded>();
    Guarded& g = *owned;
    std::thread writer([&] {
      absl::MutexLock lock(&g.mu);
      g.value = 2;
      g.ready = true;
    });
    g.mu.LockWhen(absl::Condition(&g.ready));
    const int seen = g.value;
    g.mu.Unlock();
    {
      absl::ReaderMutexLock lock(&g.mu);
      if (seen != 2 || g.value != 2) return 1;
    }
    writer.join();
  }
  {
    auto owned = std::make_unique<Guarded>();
    Guarded& g = *owned;
    std::thread writer([&] {
      absl::SleepFor(absl::Milliseconds(20));
      absl::MutexLock lock(&g.mu);
      g.value = 3;
      g.ready = true;
    });
    {
      absl::MutexLock lock(&g.mu);
      g.mu.AwaitWithTimeout(absl::Condition(&g.ready), absl::Seconds(30));
      if (g.value != 3) return 1;
    }
    writer.join();
  }
  {
    // Notified before anyone waits: WaitForNotification returns at once,
    // without taking the notification's mutex.
    auto owned = std::make_unique<int>(0);
    int& plain = *owned;
    absl::Notification done;
    std::thread writer([&] {
      plain = 4;
      done.Notify();
    });
    absl::SleepFor(absl::Milliseconds(50));
    done.WaitForNotification();
    if (plain != 4) return 1;
    writer.join();
  }
  {
    std::vector<int> slots(4, 0);
    absl::BlockingCounter counter(4);
    std::vector<std::thread> workers;
    for (int i = 0; i < 4; ++i) {
      workers.emplace_back([&, i] {
        slots[i] = i + 1;
        counter.DecrementCount();
      });
    }
    counter.Wait();
    for (int i = 0; i < 4; ++i) {
      if (slots[i] != i + 1) return 1;
    }
    for (std::thread& t : workers) t.join();
  }
  {
    std::vector<int> slots(2, 0);
    auto* barrier = new absl::Barrier(2);
    std::thread other([&] {
      slots[1] = 1;
      if (barrier->Block()) delete barrier;
      if (slots[0] != 1) std::abort();
    });
    slots[0] = 1;
    if (barrier->Block()) delete barrier;
    if (slots[1] != 1) return 1;
    other.join();
  }
  return 0;
}

// The writer holds the lock; the reader does not take it.
int Race() {
  auto owned = std::make_unique<Guarded>();
  Guarded& g = *owned;
  std::thread writer([&] {
    absl::MutexLock lock(&g.mu);
    g.value = 5;
  });
  absl::SleepFor(absl::Milliseconds(100));
  const int seen = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return g.value;  // the race this canary exists for
  }();
  writer.join();
  std::printf("read %d without the lock\n", seen);
  return 0;
}

// A thread that has finished but is never joined nor detached: the leak
// ThreadSanitizer reports at exit. pthread directly, because destroying a
// joinable std::thread calls std::terminate.
int Leak() {
  pthread_t thread;
  if (pthread_create(
          &thread, nullptr, [](void*) -> void* { return nullptr; }, nullptr) !=
      0) {
    return 1;
  }
  absl::SleepFor(absl::Milliseconds(50));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "locked") == 0) return Locked();
  if (argc == 2 && std::strcmp(argv[1], "race") == 0) return Race();
  if (argc == 2 && std::strcmp(argv[1], "leak") == 0) return Leak();
  std::fprintf(stderr, "usage: %s locked|race|leak\n", argv[0]);
  return 2;
}
