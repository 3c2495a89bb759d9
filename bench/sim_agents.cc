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
  Stream(SimAgentPool& pool, const SimIdentity& id) : pool_(pool) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pool.options_.ca_pem;
    ssl.pem_private_key = id.key_pem;
    ssl.pem_cert_chain = id.cert_pem;
    grpc::ChannelArguments args;
    // One connection per agent, as separate hosts would have.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // The keepalive certfleet-agent uses (agent/client/session.cc).
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    channel_ = grpc::CreateCustomChannel(pool.options_.address,
                                         grpc::SslCredentials(ssl), args);
    stub_ = v1::AgentService::NewStub(channel_);
  }

  void Begin() {
    stub_->async()->Connect(&context_, this);
    v1::AgentMessage hello;
    hello.mutable_hello()->set_agent_version("bench-sim");
    hello.mutable_hello()->set_hostname("sim");
    Queue(hello);
    Queue(InventoryMessage(pool_.options_.target, ""));
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
  }

  // The longest gap between two messages from the coordinator since the
  // Welcome, counting the one still open.
  absl::Duration LongestSilence() {
    absl::MutexLock lock(&mu_);
    if (heard_at_ == absl::InfinitePast()) return absl::ZeroDuration();
    return std::max(longest_silence_, absl::Now() - heard_at_);
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
    }
    switch (in_.message_case()) {
      case v1::CoordinatorMessage::kWelcome:
        if (!welcomed_) {
          welcomed_ = true;
          pool_.OnWelcome();
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
    pool_.OnEnded(
        welcomed_,
        status.ok() ? "stream ended by the coordinator"
                    : absl::StrCat("stream failed: ", status.error_message()));
    absl::MutexLock lock(&mu_);
    done_ = true;
  }

 private:
  void Queue(const v1::AgentMessage& m) {
    absl::MutexLock lock(&mu_);
    out_.push_back(m);
    if (!writing_) {
      writing_ = true;
      StartWrite(&out_.front());
    }
  }

  SimAgentPool& pool_;
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
  // When the last message came since the Welcome (InfinitePast before),
  // and the longest gap between two.
  absl::Time heard_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration longest_silence_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
};

SimAgentPool::SimAgentPool(SimAgentOptions options)
    : options_(std::move(options)) {}

SimAgentPool::~SimAgentPool() {
  stopping_.store(true);
  {
    absl::MutexLock lock(&mu_);
    connecting_ = 0;  // release the opener
  }
  if (opener_.joinable()) opener_.join();
  for (auto& s : streams_) s->Unwatch();
  for (auto& s : streams_) s->Cancel();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (auto& s : streams_) {
    while (!s->done() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  // A stream whose OnDone never came must not be freed under gRPC.
  for (auto& s : streams_) {
    if (!s->done()) s.release();
  }
}

void SimAgentPool::Start() {
  streams_.reserve(options_.identities.size());
  opener_ = std::thread([this] {
    for (const SimIdentity& id : options_.identities) {
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
      }
      auto stream = std::make_unique<Stream>(*this, id);
      Stream* started = stream.get();
      {
        absl::MutexLock lock(&mu_);  // LongestSilence reads the list
        streams_.push_back(std::move(stream));
      }
      started->Begin();
    }
  });
}

absl::Status SimAgentPool::WaitConnected(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (welcomed_.load() < options_.identities.size()) {
    if (ended_.load() > 0) {
      return absl::UnavailableError(
          absl::StrCat(ended_.load(),
                       " streams ended before all connected; "
                       "first: ",
                       first_error()));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          welcomed_.load(), " of ", options_.identities.size(),
          " streams welcomed within ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::OkStatus();
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
  for (const auto& s : streams_) {
    longest = std::max(longest, s->LongestSilence());
  }
  return longest;
}

void SimAgentPool::OnBundle(const std::string& version_id) {
  absl::MutexLock lock(&mu_);
  Received& r = received_[version_id];
  ++r.count;
  r.last = absl::Now();
}

void SimAgentPool::OnWelcome() {
  welcomed_.fetch_add(1);
  absl::MutexLock lock(&mu_);
  --connecting_;
}

void SimAgentPool::OnEnded(bool welcomed, const std::string& why) {
  ended_.fetch_add(1);
  absl::MutexLock lock(&mu_);
  if (!welcomed) --connecting_;
  if (first_error_.empty()) first_error_ = why;
}

}  // namespace certfleet::bench
