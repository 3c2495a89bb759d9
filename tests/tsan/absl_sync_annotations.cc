// Tells ThreadSanitizer about abseil's synchronization primitives, which
// Debian builds without instrumentation (scripts/tsan.sh, CERTFLEET_TSAN).
//
// absl::Mutex is implemented in libabsl_synchronization.so with atomics and
// futexes that ThreadSanitizer cannot see, so without this every value
// guarded by an absl::Mutex would be reported as a race. abseil's own
// ThreadSanitizer hooks (ABSL_TSAN_MUTEX_*) are compiled in only when abseil
// itself is built with -fsanitize=thread, and another abseil must not be
// mixed with Debian's (gRPC links Debian's).
//
// This library therefore defines the out-of-line entry points of absl::Mutex,
// absl::CondVar, absl::Notification, absl::BlockingCounter and absl::Barrier
// itself. Being loaded before libabsl_synchronization.so (CMakeLists.txt links
// it first into every executable of the CERTFLEET_TSAN build), its
// definitions win the dynamic symbol lookup for every caller: our code, gRPC,
// and abseil's own calls through its PLT. Each one tells ThreadSanitizer what
// happens through its mutex annotation interface, exactly as abseil does when
// built with ThreadSanitizer (absl/synchronization/mutex.cc), and calls the
// real function found with dlsym(RTLD_NEXT). Memory accesses inside the real
// functions (conditions evaluated by abseil on whichever thread) are ignored
// between the pre_ and post_ annotations, as in abseil's own build.
//
// What it cannot see: code inlined into our objects from abseil's headers
// that reads an atomic written by the library (Notification::HasBeenNotified
// on a notification that was never waited for).
#include <dlfcn.h>
#include <link.h>
#include <sanitizer/tsan_interface.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/synchronization/barrier.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

#define CERTFLEET_STR2(x) #x
#define CERTFLEET_STR(x) CERTFLEET_STR2(x)

// The real function whose mangled name is _ZN4absl<ns><suffix> (or
// _ZNK4absl... for a const member), from the next library in lookup order.
void* Real(bool is_const, const char* suffix) {
  const std::string ns = CERTFLEET_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name = std::string(is_const ? "_ZNK4absl" : "_ZN4absl") +
                           std::to_string(ns.size()) + ns + suffix;
  void* f = dlsym(RTLD_NEXT, name.c_str());
  if (f == nullptr) {
    std::fprintf(stderr,
                 "absl_sync_annotations: %s not found after this library: "
                 "it must be linked before libabsl_synchronization\n",
                 name.c_str());
    std::abort();
  }
  return f;
}

template <typename F>
F RealFn(const char* suffix, bool is_const = false) {
  return reinterpret_cast<F>(Real(is_const, suffix));
}

constexpr unsigned kRead = __tsan_mutex_read_lock;

// The real functions call each other through the PLT too (AwaitWithTimeout
// calls AwaitWithDeadline, Notification::Notify calls Mutex::Lock...): only
// the outermost call on a thread is annotated, the calls it makes are the
// library's business.
thread_local int depth = 0;
class Scope {
 public:
  Scope() : nested_(depth++ > 0) {}
  ~Scope() { --depth; }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  bool nested() const { return nested_; }

 private:
  const bool nested_;
};

// Annotates a call that holds `mu` before and after and may release and
// take it again inside (Await, CondVar::Wait).
template <typename F>
auto Reacquiring(absl::Mutex* mu, F&& call) {
  __tsan_mutex_pre_unlock(mu, 0);
  auto result = call();
  __tsan_mutex_post_unlock(mu, 0);
  __tsan_mutex_pre_lock(mu, 0);
  __tsan_mutex_post_lock(mu, 0, 0);
  return result;
}

// The main executable's address range: the only code that is instrumented
// (our libraries are static; Debian's are shared).
uintptr_t exe_begin = 0, exe_end = 0;

int FindExecutable(dl_phdr_info* info, size_t, void*) {
  // The first object listed is the executable.
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    const uintptr_t end = begin + ph.p_memsz;
    if (exe_begin == 0 || begin < exe_begin) exe_begin = begin;
    if (end > exe_end) exe_end = end;
  }
  return 1;  // stop after the first
}

bool CalledFromExecutable(const void* return_address) {
  const auto pc = reinterpret_cast<uintptr_t>(return_address);
  return pc >= exe_begin && pc < exe_end;
}

// Refuses to run when this library does not interpose: the annotations
// would be missing and every absl::Mutex would look like a race.
__attribute__((constructor)) void CheckInterposed() {
  const std::string ns = CERTFLEET_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string lock =
      "_ZN4absl" + std::to_string(ns.size()) + ns + "5Mutex4LockEv";
  Dl_info first{}, self{};
  void* found = dlsym(RTLD_DEFAULT, lock.c_str());
  if (found == nullptr || dladdr(found, &first) == 0 ||
      dladdr(reinterpret_cast<void*>(&CheckInterposed), &self) == 0 ||
      first.dli_fbase != self.dli_fbase) {
    std::fprintf(stderr,
                 "absl_sync_annotations: absl::Mutex::Lock resolves to %s, "
                 "not to this library: link it before abseil\n",
                 found != nullptr && first.dli_fname ? first.dli_fname : "?");
    std::abort();
  }
  dl_iterate_phdr(&FindExecutable, nullptr);
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

// --- Mutex -----------------------------------------------------------------

// Destruction is a write that must come after every use: said only for
// mutexes that our code destroys. Objects inside gRPC are destroyed once an
// atomic reference count (in gRPC, not seen) drops to zero; their memory is
// freed right after, which clears what ThreadSanitizer knew of the mutex.
Mutex::~Mutex() {
  static auto real = RealFn<void (*)(Mutex*)>("5MutexD1Ev");
  Scope scope;
  if (!scope.nested() && CalledFromExecutable(__builtin_return_address(0))) {
    __tsan_mutex_destroy(this, 0);
  }
  real(this);
}

void Mutex::Lock() {
  static auto real = RealFn<void (*)(Mutex*)>("5Mutex4LockEv");
  Scope scope;
  if (scope.nested()) return real(this);
  __tsan_mutex_pre_lock(this, 0);
  real(this);
  __tsan_mutex_post_lock(this, 0, 0);
}

void Mutex::Unlock() {
  static auto real = RealFn<void (*)(Mutex*)>("5Mutex6UnlockEv");
  Scope scope;
  if (scope.nested()) return real(this);
  __tsan_mutex_pre_unlock(this, 0);
  real(this);
  __tsan_mutex_post_unlock(this, 0);
}

void Mutex::ReaderLock() {
  static auto real = RealFn<void (*)(Mutex*)>("5Mutex10ReaderLockEv");
  Scope scope;
  if (scope.nested()) return real(this);
  __tsan_mutex_pre_lock(this, kRead);
  real(this);
  __tsan_mutex_post_lock(this, kRead, 0);
}

void Mutex::ReaderUnlock() {
  static auto real = RealFn<void (*)(Mutex*)>("5Mutex12ReaderUnlockEv");
  Scope scope;
  if (scope.nested()) return real(this);
  __tsan_mutex_pre_unlock(this, kRead);
  real(this);
  __tsan_mutex_post_unlock(this, kRead);
}

bool Mutex::TryLock() {
  static auto real = RealFn<bool (*)(Mutex*)>("5Mutex7TryLockEv");
  Scope scope;
  if (scope.nested()) return real(this);
  __tsan_mutex_pre_lock(this, __tsan_mutex_try_lock);
  const bool locked = real(this);
  __tsan_mutex_post_lock(
      this, __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed),
      0);
  return locked;
}

bool Mutex::ReaderTryLock() {
  static auto real = RealFn<bool (*)(Mutex*)>("5Mutex13ReaderTryLockEv");
  Scope scope;
  if (scope.nested()) return real(this);
  __tsan_mutex_pre_lock(this, kRead | __tsan_mutex_try_lock);
  const bool locked = real(this);
  __tsan_mutex_post_lock(this,
                         kRead | __tsan_mutex_try_lock |
                             (locked ? 0 : __tsan_mutex_try_lock_failed),
                         0);
  return locked;
}

void Mutex::LockWhen(const Condition& cond) {
  static auto real = RealFn<void (*)(Mutex*, const Condition&)>(
      "5Mutex8LockWhenERKNS0_9ConditionE");
  Scope scope;
  if (scope.nested()) return real(this, cond);
  __tsan_mutex_pre_lock(this, 0);
  real(this, cond);
  __tsan_mutex_post_lock(this, 0, 0);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static auto real = RealFn<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  Scope scope;
  if (scope.nested()) return real(this, cond, timeout);
  __tsan_mutex_pre_lock(this, 0);
  const bool r = real(this, cond, timeout);
  __tsan_mutex_post_lock(this, 0, 0);
  return r;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static auto real = RealFn<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Scope scope;
  if (scope.nested()) return real(this, cond, deadline);
  __tsan_mutex_pre_lock(this, 0);
  const bool r = real(this, cond, deadline);
  __tsan_mutex_post_lock(this, 0, 0);
  return r;
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static auto real = RealFn<void (*)(Mutex*, const Condition&)>(
      "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  Scope scope;
  if (scope.nested()) return real(this, cond);
  __tsan_mutex_pre_lock(this, kRead);
  real(this, cond);
  __tsan_mutex_post_lock(this, kRead, 0);
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static auto real = RealFn<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  Scope scope;
  if (scope.nested()) return real(this, cond, timeout);
  __tsan_mutex_pre_lock(this, kRead);
  const bool r = real(this, cond, timeout);
  __tsan_mutex_post_lock(this, kRead, 0);
  return r;
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  static auto real = RealFn<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Scope scope;
  if (scope.nested()) return real(this, cond, deadline);
  __tsan_mutex_pre_lock(this, kRead);
  const bool r = real(this, cond, deadline);
  __tsan_mutex_post_lock(this, kRead, 0);
  return r;
}

// Await* is called with the mutex held (for writing: nothing of ours waits
// with a reader lock) and may release it while it waits.
void Mutex::Await(const Condition& cond) {
  static auto real = RealFn<void (*)(Mutex*, const Condition&)>(
      "5Mutex5AwaitERKNS0_9ConditionE");
  Scope scope;
  if (scope.nested()) return real(this, cond);
  Reacquiring(this, [&] {
    real(this, cond);
    return 0;
  });
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static auto real = RealFn<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  Scope scope;
  if (scope.nested()) return real(this, cond, timeout);
  return Reacquiring(this, [&] { return real(this, cond, timeout); });
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static auto real = RealFn<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Scope scope;
  if (scope.nested()) return real(this, cond, deadline);
  return Reacquiring(this, [&] { return real(this, cond, deadline); });
}

// --- CondVar ---------------------------------------------------------------

void CondVar::Wait(Mutex* mu) {
  static auto real =
      RealFn<void (*)(CondVar*, Mutex*)>("7CondVar4WaitEPNS0_5MutexE");
  Scope scope;
  if (scope.nested()) return real(this, mu);
  Reacquiring(mu, [&] {
    real(this, mu);
    return 0;
  });
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static auto real = RealFn<bool (*)(CondVar*, Mutex*, Duration)>(
      "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Scope scope;
  if (scope.nested()) return real(this, mu, timeout);
  return Reacquiring(mu, [&] { return real(this, mu, timeout); });
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static auto real = RealFn<bool (*)(CondVar*, Mutex*, Time)>(
      "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  Scope scope;
  if (scope.nested()) return real(this, mu, deadline);
  return Reacquiring(mu, [&] { return real(this, mu, deadline); });
}

// --- Notification, BlockingCounter, Barrier --------------------------------
// They take their mutex through the functions above, except on fast paths
// that only read an atomic (an already notified Notification, a counter
// decremented but not to zero): there the edge is added by hand.

void Notification::Notify() {
  static auto real = RealFn<void (*)(Notification*)>("12Notification6NotifyEv");
  Scope scope;
  if (scope.nested()) return real(this);
  __tsan_release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  static auto real = RealFn<void (*)(const Notification*)>(
      "12Notification19WaitForNotificationEv", /*is_const=*/true);
  Scope scope;
  if (scope.nested()) return real(this);
  real(this);
  __tsan_acquire(const_cast<Notification*>(this));
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  static auto real = RealFn<bool (*)(const Notification*, Duration)>(
      "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE",
      /*is_const=*/true);
  Scope scope;
  if (scope.nested()) return real(this, timeout);
  const bool notified = real(this, timeout);
  if (notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  static auto real = RealFn<bool (*)(const Notification*, Time)>(
      "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE",
      /*is_const=*/true);
  Scope scope;
  if (scope.nested()) return real(this, deadline);
  const bool notified = real(this, deadline);
  if (notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

bool BlockingCounter::DecrementCount() {
  static auto real =
      RealFn<bool (*)(BlockingCounter*)>("15BlockingCounter14DecrementCountEv");
  Scope scope;
  if (scope.nested()) return real(this);
  __tsan_release(this);
  return real(this);
}

void BlockingCounter::Wait() {
  static auto real =
      RealFn<void (*)(BlockingCounter*)>("15BlockingCounter4WaitEv");
  Scope scope;
  if (scope.nested()) return real(this);
  real(this);
  __tsan_acquire(this);
}

bool Barrier::Block() {
  static auto real = RealFn<bool (*)(Barrier*)>("7Barrier5BlockEv");
  Scope scope;
  if (scope.nested()) return real(this);
  __tsan_release(this);
  const bool last = real(this);
  __tsan_acquire(this);
  return last;
}

ABSL_NAMESPACE_END
}  // namespace absl
