#include "bench/sim_agents.h"

#include <grpcpp/grpcpp.h>

#include <deque>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "certfleet/v1/agent.grpc.pb.h"

namespace certfleet::bench {
namespace {

v1::AgentMessage InventoryMessage(const std::string& target,
                                  const std::string& version_id) {
  v1::AgentMessage m;
  v1::TargetState* t = m.mutable_inventory()->add_targets();
  t->set_name(target);
  t->set_version_id(version_id);
  t->set_healthy(!version_id.empty());
  return m;
}

}  // namespace

absl::StatusOr<std::vector<SimIdentity>> ParseIdentities(
    const std::string& text) {
  std::vector<std::string> blocks;
  size_t pos = 0;
  while (true) {
    const size_t begin = text.find("-----BEGIN ", pos);
    if (begin == std::string::npos) break;
    const size_t end_marker = text.find("-----END ", begin);
    if (end_marker == std::string::npos) break;
    size_t end = text.find("-----", end_marker + 9);
    if (end == std::string::npos) break;
    end += 5;
    blocks.push_back(text.substr(begin, end - begin) + "\n");
    pos = end;
  }
  if (blocks.empty() || blocks.size() % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "identities: expected key and certificate PEM pairs, found ",
        blocks.size(), " PEM blocks"));
  }
  std::vector<SimIdentity> out;
  for (size_t i = 0; i < blocks.size(); i += 2) {
    if (!absl::StrContains(blocks[i], "PRIVATE KEY") ||
        !absl::StrContains(blocks[i + 1], "CERTIFICATE")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "identities: pair ", i / 2, " is not a key then a certificate"));
    }
    out.push_back({blocks[i], blocks[i + 1]});
  }
  return out;
}

std::string FormatIdentities(const std::vector<SimIdentity>& identities) {
  std::string out;
  for (const SimIdentity& id : identities) {
    absl::StrAppend(&out, id.key_pem, id.cert_pem);
  }
  return out;
}

class SimAgentPool::Stream
    : public grpc::ClientBidiReactor<v1::AgentMessage, v1::CoordinatorMessage> {
 public:
  Stream(SimAgentPool& pool, size_t agent, bool paced,
         const std::shared_ptr<grpc::ChannelCredentials>& credentials)
      : pool_(pool), agent_(agent), paced_(paced) {
    grpc::ChannelArguments args;
    // One connection per agent, as separate hosts would have.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // The keepalive certfleet-agent uses (agent/client/session.cc).
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    channel_ =
        grpc::CreateCustomChannel(pool.options_.address, credentials, args);
    stub_ = v1::AgentService::NewStub(channel_);
  }

  void Begin() {
    {
      absl::MutexLock lock(&mu_);
      started_at_ = absl::Now();
    }
    stub_->async()->Connect(&context_, this);
    v1::AgentMessage hello;
    hello.mutable_hello()->set_agent_version("bench-sim");
    hello.mutable_hello()->set_hostname("sim");
    Queue(hello);
    Queue(InventoryMessage(pool_.options_.target, installed()));
    StartRead(&in_);
    StartCall();
  }

  void Cancel() { context_.TryCancel(); }

  bool done() {
    absl::MutexLock lock(&mu_);
    return done_;
  }
  // Stops counting silence: the stream is being torn down.
  void Unwatch() {
    absl::MutexLock lock(&mu_);
    heard_at_ = absl::InfinitePast();
    silence_limit_ = absl::InfiniteDuration();
  }

  // The longest gap between two messages from the coordinator since the
  // Welcome, counting the one still open.
  absl::Duration LongestSilence() {
    absl::MutexLock lock(&mu_);
    if (heard_at_ == absl::InfinitePast()) return absl::ZeroDuration();
    return std::max(longest_silence_, absl::Now() - heard_at_);
  }

  // What certfleet-agent's silence watch does (agent/client/silence_watch.h):
  // true, once, when the stream should be given up — no Welcome within
  // `welcome_timeout` of its start, or nothing heard for three heartbeat
  // intervals since.
  bool ShouldGiveUp(absl::Time now, absl::Duration welcome_timeout) {
    absl::MutexLock lock(&mu_);
    if (done_ || given_up_ || started_at_ == absl::InfinitePast()) {
      return false;
    }
    const bool overdue = heard_at_ == absl::InfinitePast()
                             ? now - started_at_ > welcome_timeout
                             : now - heard_at_ > silence_limit_;
    if (overdue) given_up_ = true;
    return overdue;
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream is ending; OnDone follows
    {
      absl::MutexLock lock(&mu_);
      const absl::Time now = absl::Now();
      if (heard_at_ != absl::InfinitePast()) {
        longest_silence_ = std::max(longest_silence_, now - heard_at_);
      }
      if (welcomed_ || in_.has_welcome()) heard_at_ = now;
      if (in_.has_welcome()) {
        const int32_t every = in_.welcome().heartbeat_interval_ms();
        silence_limit_ = every > 0 ? 3 * absl::Milliseconds(every)
                                   : absl::InfiniteDuration();
      }
    }
    switch (in_.message_case()) {
      case v1::CoordinatorMessage::kWelcome:
        if (!welcomed_) {
          welcomed_ = true;
          pool_.OnWelcome(paced_);
        }
        break;
      case v1::CoordinatorMessage::kBundle: {
        const v1::DesiredBundle& b = in_.bundle();
        v1::AgentMessage result;
        v1::DeliveryResult* r = result.mutable_result();
        r->set_target(b.target());
        r->set_version_id(b.version_id());
        r->set_nonce(b.nonce());
        r->set_ok(true);
        Queue(result);
        installed() = b.version_id();
        Queue(InventoryMessage(pool_.options_.target, b.version_id()));
        pool_.OnResult();
        pool_.OnBundle(b.version_id());
        break;
      }
      default:
        break;
    }
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    out_.pop_front();
    if (ok && !out_.empty()) {
      StartWrite(&out_.front());
    } else {
      writing_ = false;
    }
  }

  void OnDone(const grpc::Status& status) override {
    absl::Duration lived;
    {
      absl::MutexLock lock(&mu_);
      lived = absl::Now() - started_at_;
    }
    pool_.OnEnded(
        agent_, welcomed_, paced_, lived,
        status.ok() ? "stream ended by the coordinator"
                    : absl::StrCat("stream failed: ", status.error_message()));
    absl::MutexLock lock(&mu_);
    done_ = true;
  }

 private:
  // The version this agent last installed: its agent's, since streams of
  // one agent never overlap (the next is dialled after this one's OnDone).
  std::string& installed() { return pool_.agents_[agent_].installed; }

  void Queue(const v1::AgentMessage& m) {
    absl::MutexLock lock(&mu_);
    out_.push_back(m);
    if (!writing_) {
      writing_ = true;
      StartWrite(&out_.front());
    }
  }

  SimAgentPool& pool_;
  const size_t agent_;
  const bool paced_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AgentService::Stub> stub_;
  grpc::ClientContext context_;
  v1::CoordinatorMessage in_;
  // Read callbacks of one stream never overlap: only they touch it.
  bool welcomed_ = false;
  absl::Mutex mu_;
  std::deque<v1::AgentMessage> out_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool given_up_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time started_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // When the last message came since the Welcome (InfinitePast before),
  // and the longest gap between two.
  absl::Time heard_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration longest_silence_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  absl::Duration silence_limit_ ABSL_GUARDED_BY(mu_) = absl::InfiniteDuration();
};

SimAgentPool::SimAgentPool(SimAgentOptions options)
    : options_(std::move(options)) {
  agents_.resize(options_.identities.size());
  for (size_t i = 0; i < agents_.size(); ++i) {
    agents_[i].index = i;
    agents_[i].backoff = Backoff(options_.reconnect_backoff);
  }
}

SimAgentPool::~SimAgentPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_.store(true);
    connecting_ = 0;  // release the opener
  }
  if (opener_.joinable()) opener_.join();
  if (timer_.joinable()) timer_.join();
  for (std::thread& t : dialers_) t.join();
  // Only this thread touches the streams now (the opener, the dialers and
  // the timer are
  // gone; a stream ending now schedules nothing, stopping_ is set).
  std::vector<std::shared_ptr<Stream>> streams;
  {
    absl::MutexLock lock(&mu_);
    for (Agent& a : agents_) {
      if (a.stream) streams.push_back(a.stream);
    }
  }
  for (auto& s : streams) s->Unwatch();
  for (auto& s : streams) s->Cancel();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (auto& s : streams) {
    while (!s->done() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  // A stream whose OnDone never came must not be freed under gRPC.
  for (auto& s : streams) {
    if (!s->done()) new std::shared_ptr<Stream>(s);  // leaked on purpose
  }
}

void SimAgentPool::Start() {
  opener_ = std::thread([this] {
    for (size_t i = 0; i < agents_.size(); ++i) {
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](SimAgentPool* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
              return p->connecting_ < p->options_.max_connecting ||
                     p->stopping_.load();
            },
            this));
        if (stopping_.load()) return;
        ++connecting_;
        to_dial_.emplace_back(i, /*paced=*/true);
      }
    }
  });
  for (int i = 0; i < std::max(1, options_.dialers); ++i) {
    dialers_.emplace_back([this] { Dialer(); });
  }
  if (options_.reconnect) timer_ = std::thread([this] { Timer(); });
}

void SimAgentPool::Dialer() {
  while (true) {
    std::pair<size_t, bool> next;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](SimAgentPool* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
            return p->stopping_.load() || !p->to_dial_.empty();
          },
          this));
      if (stopping_.load()) return;
      next = to_dial_.front();
      to_dial_.pop_front();
    }
    Dial(next.first, next.second);
  }
}

void SimAgentPool::Dial(size_t agent, bool paced) {
  // Only one dialer at a time handles an agent (it is queued again only
  // once its stream ended), so its credentials need no lock.
  std::shared_ptr<grpc::ChannelCredentials>& credentials =
      agents_[agent].credentials;
  if (!credentials) {
    const SimIdentity& id = options_.identities[agent];
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options_.ca_pem;
    ssl.pem_private_key = id.key_pem;
    ssl.pem_cert_chain = id.cert_pem;
    credentials = grpc::SslCredentials(ssl);
  }
  auto stream = std::make_shared<Stream>(*this, agent, paced, credentials);
  Stream* started = stream.get();
  std::shared_ptr<Stream> previous;
  {
    absl::MutexLock lock(&mu_);  // LongestSilence and the timer read it
    previous = std::move(agents_[agent].stream);
    agents_[agent].stream = std::move(stream);
  }
  if (previous) {
    // It scheduled this dial from its OnDone; let that return first.
    while (!previous->done()) absl::SleepFor(absl::Milliseconds(1));
    previous.reset();
  }
  attempts_.fetch_add(1);
  started->Begin();
}

void SimAgentPool::Timer() {
  constexpr absl::Duration kScanEvery = absl::Milliseconds(250);
  absl::Time next_scan = absl::Now() + kScanEvery;
  while (!stopping_.load()) {
    std::vector<std::shared_ptr<Stream>> give_up;
    {
      absl::MutexLock lock(&mu_);
      // Woken by the destructor or by time: a reconnection scheduled while
      // this waits is at least the backoff's minimum (0.5 s) away, later
      // than the next scan.
      mu_.AwaitWithDeadline(
          absl::Condition(
              +[](SimAgentPool* p) { return p->stopping_.load(); }, this),
          due_.empty() ? next_scan : std::min(next_scan, due_.top().at));
      if (stopping_.load()) return;
      const absl::Time now = absl::Now();
      while (!due_.empty() && due_.top().at <= now) {
        to_dial_.emplace_back(due_.top().agent, /*paced=*/false);
        due_.pop();
      }
      if (now >= next_scan) {
        next_scan = now + kScanEvery;
        for (Agent& a : agents_) {
          if (a.stream &&
              a.stream->ShouldGiveUp(now, options_.welcome_timeout)) {
            give_up.push_back(a.stream);
          }
        }
      }
    }
    // Outside the lock: cancelling may run the stream's reactions.
    for (auto& s : give_up) {
      gave_up_.fetch_add(1);
      s->Cancel();
    }
    give_up.clear();  // the last reference to a replaced stream may go here
  }
}

absl::Status SimAgentPool::WaitConnected(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (connected_.load() < options_.identities.size()) {
    if (!options_.reconnect && ended_.load() > 0) {
      return absl::UnavailableError(
          absl::StrCat(ended_.load(),
                       " streams ended before all connected; "
                       "first: ",
                       first_error()));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          connected_.load(), " of ", options_.identities.size(),
          " agents connected within ", absl::FormatDuration(timeout),
          " (first error: ", first_error(), ")"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::OkStatus();
}

void SimAgentPool::OnResult() {
  results_.fetch_add(1);
  last_result_us_.store(absl::ToUnixMicros(absl::Now()));
}

absl::Time SimAgentPool::last_result_at() const {
  const int64_t us = last_result_us_.load();
  return us == 0 ? absl::InfinitePast() : absl::FromUnixMicros(us);
}

absl::Time SimAgentPool::all_connected_at() {
  absl::MutexLock lock(&mu_);
  return all_connected_at_;
}

std::string SimAgentPool::first_error() {
  absl::MutexLock lock(&mu_);
  return first_error_;
}

size_t SimAgentPool::received(const std::string& version_id) {
  absl::MutexLock lock(&mu_);
  auto it = received_.find(version_id);
  return it == received_.end() ? 0 : it->second.count;
}

absl::Time SimAgentPool::last_received_at(const std::string& version_id) {
  absl::MutexLock lock(&mu_);
  auto it = received_.find(version_id);
  return it == received_.end() ? absl::InfinitePast() : it->second.last;
}

absl::Duration SimAgentPool::LongestSilence() {
  absl::MutexLock lock(&mu_);
  absl::Duration longest = absl::ZeroDuration();
  for (const Agent& a : agents_) {
    if (a.stream) longest = std::max(longest, a.stream->LongestSilence());
  }
  return longest;
}

void SimAgentPool::OnBundle(const std::string& version_id) {
  absl::MutexLock lock(&mu_);
  Received& r = received_[version_id];
  ++r.count;
  r.last = absl::Now();
}

void SimAgentPool::OnWelcome(bool paced) {
  welcomed_.fetch_add(1);
  const size_t now_connected = connected_.fetch_add(1) + 1;
  absl::MutexLock lock(&mu_);
  if (paced) --connecting_;
  if (now_connected == agents_.size()) all_connected_at_ = absl::Now();
}

void SimAgentPool::OnEnded(size_t agent, bool welcomed, bool paced,
                           absl::Duration lived, const std::string& why) {
  ended_.fetch_add(1);
  if (welcomed) connected_.fetch_sub(1);
  absl::MutexLock lock(&mu_);
  if (!welcomed && paced) --connecting_;
  if (first_error_.empty()) first_error_ = why;
  if (!options_.reconnect || stopping_.load()) return;
  // As AgentSession::Run: a stream that lived a while was healthy.
  Backoff& backoff = agents_[agent].backoff;
  if (lived > absl::Minutes(1)) backoff.Reset();
  due_.push({absl::Now() + backoff.Next(), agent});
}

}  // namespace certfleet::bench
