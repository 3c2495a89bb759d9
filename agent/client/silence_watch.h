// Notices a coordinator that went silent: a frozen process (SIGSTOP, a
// paused VM, a hung disk) keeps its TCP connections open, so a stream to it
// neither fails nor speaks. The coordinator sends a Heartbeat every
// interval (agent.proto Welcome); when nothing at all arrives for `limit`,
// `on_silence` runs once (it cancels the stream) and fired() says so.
//
//   SilenceWatch watch(absl::Seconds(10), [&] { context.TryCancel(); });
//   while (stream->Read(&in)) { watch.Heard(); ... }
//   if (watch.fired()) ...  // hung, not closed
#ifndef CERTFLEET_AGENT_CLIENT_SILENCE_WATCH_H_
#define CERTFLEET_AGENT_CLIENT_SILENCE_WATCH_H_

#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace certfleet::agent {

class SilenceWatch {
 public:
  // Real time: the stream's silence is real, whatever the agent's clock.
  SilenceWatch(absl::Duration limit, std::function<void()> on_silence);
  ~SilenceWatch();  // stops the watch (on_silence never runs after it)
  SilenceWatch(const SilenceWatch&) = delete;
  SilenceWatch& operator=(const SilenceWatch&) = delete;

  // Something arrived: the silence starts over.
  void Heard();
  // From now on (and counting from now), silence ends at `limit`;
  // InfiniteDuration() turns the watch off.
  void SetLimit(absl::Duration limit);
  bool fired() const;
  absl::Duration limit() const;

 private:
  void Watch();
  bool Woken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::function<void()> on_silence_;
  mutable absl::Mutex mu_;
  absl::Duration limit_ ABSL_GUARDED_BY(mu_);
  absl::Time heard_at_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool fired_ ABSL_GUARDED_BY(mu_) = false;
  bool limit_changed_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_CLIENT_SILENCE_WATCH_H_
