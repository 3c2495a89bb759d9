#include "common/context.h"

#include <utility>

namespace certfleet {

Cancellation::Callback::Callback(Callback&& other) noexcept
    : source_(std::move(other.source_)), id_(std::exchange(other.id_, 0)) {}

Cancellation::Callback& Cancellation::Callback::operator=(
    Callback&& other) noexcept {
  if (this != &other) {
    Reset();
    source_ = std::move(other.source_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

Cancellation::Callback::~Callback() { Reset(); }

void Cancellation::Callback::Reset() {
  if (source_ != nullptr && id_ != 0) source_->RemoveCallback(id_);
  source_.reset();
  id_ = 0;
}

Cancellation::~Cancellation() {
  // First, while this object is whole: a parent may be cancelling it on
  // another thread right now, and unlinking waits for that to finish.
  parents_.clear();
}

void Cancellation::Cancel() {
  mu_.Lock();
  if (cancelled_) {
    // Another thread cancelled first and may still be running the
    // callbacks; this thread returns only once they ran — unless it is that
    // thread (a callback cancelling its own source).
    if (running_thread_ != std::this_thread::get_id()) {
      mu_.Await(absl::Condition(&callbacks_ran_));
    }
    mu_.Unlock();
    return;
  }
  cancelled_ = true;
  running_thread_ = std::this_thread::get_id();
  while (!callbacks_.empty()) {
    auto node = callbacks_.extract(callbacks_.begin());
    running_ = node.key();
    mu_.Unlock();
    node.mapped()();
    mu_.Lock();
    running_ = 0;
  }
  callbacks_ran_ = true;
  running_thread_ = std::thread::id();
  mu_.Unlock();
}

bool Cancellation::IsCancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

bool Cancellation::WaitUntil(absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(absl::Condition(&cancelled_), deadline);
  return cancelled_;
}

size_t Cancellation::callback_count() const {
  absl::MutexLock lock(&mu_);
  return callbacks_.size();
}

uint64_t Cancellation::AddCallback(std::function<void()> fn) const {
  {
    absl::MutexLock lock(&mu_);
    if (!cancelled_) {
      const uint64_t id = ++next_id_;
      callbacks_.emplace(id, std::move(fn));
      return id;
    }
  }
  fn();
  return 0;
}

void Cancellation::RemoveCallback(uint64_t id) const {
  absl::MutexLock lock(&mu_);
  if (callbacks_.erase(id) > 0) return;  // never ran, never will
  // It ran, or it is running: wait for the latter, unless on this very
  // thread (the callback destroying its own registration).
  if (running_ != id || running_thread_ == std::this_thread::get_id()) return;
  struct Finished {
    const uint64_t* running;
    uint64_t id;
    bool operator()() const { return *running != id; }
  } finished{&running_, id};
  mu_.Await(absl::Condition(&finished));
}

Cancellation::Callback Cancellation::OnCancel(
    std::shared_ptr<const Cancellation> source, std::function<void()> fn) {
  if (source == nullptr) return Callback();
  const uint64_t id = source->AddCallback(std::move(fn));
  if (id == 0) return Callback();
  return Callback(std::move(source), id);
}

std::shared_ptr<Cancellation> Cancellation::ChildOf(
    const std::vector<std::shared_ptr<const Cancellation>>& parents) {
  auto child = std::make_shared<Cancellation>();
  for (const std::shared_ptr<const Cancellation>& parent : parents) {
    // The raw pointer is safe: the link is removed (waiting for a run in
    // progress) before the child goes.
    child->parents_.push_back(
        OnCancel(parent, [raw = child.get()] { raw->Cancel(); }));
  }
  return child;
}

Context Context::WithDeadline(absl::Time deadline) const {
  Context c = *this;
  if (deadline < c.deadline_) c.deadline_ = deadline;
  return c;
}

Context Context::WithCancellation(std::shared_ptr<const Cancellation> c) const {
  Context out = *this;
  if (c == nullptr) return out;
  out.cancel_ =
      cancel_ == nullptr ? std::move(c) : Cancellation::ChildOf({cancel_, c});
  return out;
}

std::shared_ptr<Cancellation> Context::NewCancellation() const {
  return Cancellation::ChildOf({cancel_});
}

Cancellation::Callback Context::OnCancel(std::function<void()> fn) const {
  return Cancellation::OnCancel(cancel_, std::move(fn));
}

absl::Status Context::Check(absl::Time now) const {
  if (IsCancelled()) return absl::CancelledError("cancelled");
  if (now >= deadline_) return absl::DeadlineExceededError("deadline exceeded");
  return absl::OkStatus();
}

}  // namespace certfleet
