#include "agent/client/silence_watch.h"

#include <utility>

namespace certfleet::agent {

SilenceWatch::SilenceWatch(absl::Duration limit,
                           std::function<void()> on_silence)
    : on_silence_(std::move(on_silence)),
      limit_(limit),
      heard_at_(absl::Now()) {
  thread_ = std::thread([this] { Watch(); });
}

SilenceWatch::~SilenceWatch() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void SilenceWatch::Heard() {
  absl::MutexLock lock(&mu_);
  heard_at_ = absl::Now();
}

void SilenceWatch::SetLimit(absl::Duration limit) {
  absl::MutexLock lock(&mu_);
  limit_ = limit;
  heard_at_ = absl::Now();
  limit_changed_ = true;
}

bool SilenceWatch::Woken() const { return stopping_ || limit_changed_; }

bool SilenceWatch::fired() const {
  absl::MutexLock lock(&mu_);
  return fired_;
}

absl::Duration SilenceWatch::limit() const {
  absl::MutexLock lock(&mu_);
  return limit_;
}

void SilenceWatch::Watch() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    const absl::Time deadline = heard_at_ + limit_;  // InfiniteFuture if off
    if (absl::Now() >= deadline) {
      fired_ = true;
      // Outside the lock: on_silence may take its own (gRPC's).
      mu_.Unlock();
      on_silence_();
      mu_.Lock();
      return;
    }
    // Wakes at the deadline (which Heard may have moved: look again), on
    // stop, or when the limit changes.
    limit_changed_ = false;
    mu_.AwaitWithDeadline(absl::Condition(this, &SilenceWatch::Woken),
                          deadline);
  }
}

}  // namespace certfleet::agent
