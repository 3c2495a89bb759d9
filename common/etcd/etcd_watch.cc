// EtcdClient::Watch and EtcdWatch: one thread per watch reading a Watch
// stream (rpc.proto service Watch), resuming on another member after a
// transient failure from the revision after the last one delivered.
#include "common/etcd/etcd_watch.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/backoff.h"
#include "common/etcd/etcd_client.h"
#include "common/etcd/etcd_connection.h"
#include "common/etcd/etcd_convert.h"
#include "common/etcd/etcd_status.h"
#include "common/log.h"

namespace certfleet::etcd {
namespace internal {

struct WatchState {
  std::shared_ptr<Connection> connection;
  WatchOptions options;
  WatchCallback callback;
  std::string what;  // "Watch [\"/a\", \"/b\")" for messages
  // Cancelled by EtcdWatch::Cancel: interrupts the backoff between streams.
  std::shared_ptr<Cancellation> wake = std::make_shared<Cancellation>();

  absl::Mutex mu;
  grpc::ClientContext* stream_rpc ABSL_GUARDED_BY(mu) = nullptr;
  bool cancelled ABSL_GUARDED_BY(mu) = false;
  bool created ABSL_GUARDED_BY(mu) = false;    // etcd created it once
  bool abandoned ABSL_GUARDED_BY(mu) = false;  // Watch() gave up on it
  bool ended ABSL_GUARDED_BY(mu) = false;      // the thread is finishing
  // Before creation: the last failure, for Watch() to return.
  absl::Status creation_error ABSL_GUARDED_BY(mu);
};

namespace {

// etcd cancelled the watch itself (WatchResponse.canceled).
absl::Status CancelledByServer(const WatchState& state,
                               const etcdserverpb::WatchResponse& resp,
                               int64_t next_revision) {
  const std::string prefix = absl::StrCat(
      "etcd ", state.what, " via ", state.connection->endpoints_text, ": ");
  if (resp.compact_revision() != 0) {
    return absl::OutOfRangeError(absl::StrCat(
        prefix, "revision ", next_revision,
        " has been compacted (compact revision ", resp.compact_revision(),
        "); re-read and watch from the read's revision + 1"));
  }
  return absl::AbortedError(absl::StrCat(
      prefix, "etcd cancelled the watch: ",
      resp.cancel_reason().empty() ? "no reason given" : resp.cancel_reason()));
}

void RunWatch(std::shared_ptr<WatchState> state) {
  Connection& connection = *state->connection;
  const Context sleep_ctx = Context::Background().WithCancellation(state->wake);
  Backoff backoff({.initial = absl::Milliseconds(50), .max = absl::Seconds(2)});
  int64_t next_revision = state->options.start_revision;
  absl::Status final_status;
  for (;;) {
    grpc::ClientContext rpc;
    {
      absl::MutexLock lock(&state->mu);
      if (state->cancelled) break;
      state->stream_rpc = &rpc;
    }
    auto stream = connection.watch->Watch(&rpc);
    etcdserverpb::WatchRequest req;
    etcdserverpb::WatchCreateRequest* create = req.mutable_create_request();
    create->set_key(state->options.range.key);
    create->set_range_end(state->options.range.range_end);
    create->set_start_revision(next_revision);
    create->set_prev_kv(state->options.prev_kv);
    std::optional<absl::Status> ended_by_server;
    if (stream->Write(req)) {
      etcdserverpb::WatchResponse resp;
      while (stream->Read(&resp)) {
        if (resp.created()) {
          // A watch "from now" is pinned to the creation's revision, so a
          // resumed stream neither misses nor repeats changes.
          if (next_revision == 0) next_revision = resp.header().revision() + 1;
          absl::MutexLock lock(&state->mu);
          state->created = true;
          backoff.Reset();
        }
        if (resp.canceled()) {
          ended_by_server = CancelledByServer(*state, resp, next_revision);
          break;
        }
        if (resp.events_size() == 0) continue;
        WatchUpdate update;
        update.revision = resp.header().revision();
        update.events.reserve(resp.events_size());
        for (const mvccpb::Event& event : resp.events()) {
          update.events.push_back(FromProto(event));
        }
        next_revision = update.events.back().kv.mod_revision + 1;
        state->callback(std::move(update));
      }
      if (ended_by_server) rpc.TryCancel();
    }
    const grpc::Status finished = stream->Finish();
    {
      absl::MutexLock lock(&state->mu);
      state->stream_rpc = nullptr;
      if (state->cancelled) break;
    }
    if (ended_by_server) {
      final_status = *ended_by_server;
      break;
    }
    const absl::Status failure =
        finished.ok()
            ? absl::UnavailableError(absl::StrCat("etcd ", state->what, " via ",
                                                  connection.endpoints_text,
                                                  ": the stream ended"))
            : FromGrpcStatus(finished, state->what, connection.endpoints_text);
    if (!finished.ok() &&
        ClassifyForRetry(finished) == RetryClass::kPermanent) {
      final_status = failure;
      break;
    }
    {
      absl::MutexLock lock(&state->mu);
      if (!state->created) state->creation_error = failure;
    }
    const absl::Duration wait = backoff.Next();
    if (next_revision == 0) {
      CF_LOG_WARN("%s; retrying in %s", failure.ToString(),
                  absl::FormatDuration(wait));
    } else {
      CF_LOG_WARN("%s; resuming from revision %d in %s", failure.ToString(),
                  next_revision, absl::FormatDuration(wait));
    }
    if (IsNotConnected(finished)) {
      WaitForChannel(connection, wait, state->wake.get());
      if (state->wake->IsCancelled()) break;
    } else if (!connection.clock->SleepFor(wait, sleep_ctx).ok() &&
               state->wake->IsCancelled()) {
      break;
    }
  }

  bool deliver;
  {
    absl::MutexLock lock(&state->mu);
    if (state->cancelled && final_status.ok()) {
      final_status = absl::CancelledError(
          absl::StrCat("etcd ", state->what, ": watch cancelled"));
    }
    if (!state->created && !final_status.ok() &&
        final_status.code() != absl::StatusCode::kCancelled) {
      state->creation_error = final_status;
    }
    deliver = state->created && !state->abandoned;
    state->ended = true;
  }
  if (deliver) state->callback(final_status);
}

}  // namespace
}  // namespace internal

EtcdWatch::EtcdWatch(std::shared_ptr<internal::WatchState> state,
                     std::thread thread)
    : state_(std::move(state)), thread_(std::move(thread)) {}

EtcdWatch::~EtcdWatch() {
  Cancel();
  // Destroyed by its own callback: the thread finishes on its own; the
  // state it uses is shared.
  if (thread_.joinable()) thread_.detach();
}

void EtcdWatch::Cancel() {
  {
    absl::MutexLock lock(&state_->mu);
    state_->cancelled = true;
    if (state_->stream_rpc != nullptr) state_->stream_rpc->TryCancel();
  }
  state_->wake->Cancel();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  }
}

bool EtcdWatch::Done() const {
  absl::MutexLock lock(&state_->mu);
  return state_->ended;
}

absl::StatusOr<std::unique_ptr<EtcdWatch>> EtcdClient::Watch(
    WatchOptions options, WatchCallback callback, const Context& ctx) {
  if (options.range.key.empty()) {
    return absl::InvalidArgumentError("etcd Watch: empty key");
  }
  if (!callback) return absl::InvalidArgumentError("etcd Watch: no callback");
  auto state = std::make_shared<internal::WatchState>();
  state->connection = connection_;
  state->what =
      options.range.range_end.empty()
          ? absl::StrCat("Watch ", internal::QuoteKey(options.range.key))
          : absl::StrCat("Watch [", internal::QuoteKey(options.range.key), ", ",
                         internal::QuoteKey(options.range.range_end), ")");
  state->options = std::move(options);
  state->callback = std::move(callback);
  std::thread thread(internal::RunWatch, state);
  std::unique_ptr<EtcdWatch> watch(new EtcdWatch(state, std::move(thread)));

  // Wait for etcd to create the watch, in slices to notice a cancelled ctx.
  const absl::Time deadline = internal::CallDeadline(*connection_, ctx);
  Clock& clock = *connection_->clock;
  bool created = false;
  {
    absl::MutexLock lock(&state->mu);
    auto settled = [&state]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state->mu) {
      return state->created || state->ended;
    };
    while (!settled() && !ctx.IsCancelled() && clock.Now() < deadline) {
      const absl::Duration left = deadline - clock.Now();
      state->mu.AwaitWithTimeout(absl::Condition(&settled),
                                 std::min(left, absl::Milliseconds(50)));
    }
    created = state->created;
    if (!created) state->abandoned = true;
  }
  if (created) return watch;
  watch->Cancel();
  absl::MutexLock lock(&state->mu);
  if (ctx.IsCancelled()) {
    return absl::CancelledError(
        absl::StrCat("etcd ", state->what, ": cancelled"));
  }
  if (!state->creation_error.ok()) return state->creation_error;
  return absl::DeadlineExceededError(
      absl::StrCat("etcd ", state->what, " via ", connection_->endpoints_text,
                   ": etcd did not create the watch in time"));
}

}  // namespace certfleet::etcd
