#include "common/etcd/etcd_connection.h"

#include <arpa/inet.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/backoff.h"
#include "common/etcd/etcd_status.h"
#include "common/status_macros.h"

namespace certfleet::etcd::internal {
namespace {

struct Endpoint {
  std::string address;  // as gRPC's ipv4:/ipv6: target wants it
  bool ipv6 = false;
  std::string scheme;  // "http", "https" or "" when none was written
};

absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view text) {
  Endpoint e;
  absl::string_view rest = text;
  if (absl::ConsumePrefix(&rest, "http://"))
    e.scheme = "http";
  else if (absl::ConsumePrefix(&rest, "https://"))
    e.scheme = "https";
  rest = absl::StripSuffix(rest, "/");
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "etcd endpoint \"", text, "\": ", why,
        " (want an IP address and port: 127.0.0.1:2379 or [::1]:2379)"));
  };
  std::string host;
  absl::string_view port_text;
  if (absl::ConsumePrefix(&rest, "[")) {
    const size_t close = rest.find("]:");
    if (close == absl::string_view::npos) return bad("no port");
    host = std::string(rest.substr(0, close));
    port_text = rest.substr(close + 2);
    e.ipv6 = true;
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == absl::string_view::npos) return bad("no port");
    host = std::string(rest.substr(0, colon));
    port_text = rest.substr(colon + 1);
  }
  int port = 0;
  if (!absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) {
    return bad("bad port");
  }
  unsigned char buf[16];
  if (inet_pton(e.ipv6 ? AF_INET6 : AF_INET, host.c_str(), buf) != 1) {
    return bad(
        "not an IP address (host names would need the system "
        "resolver)");
  }
  e.address = e.ipv6 ? absl::StrCat("[", host, "]:", port)
                     : absl::StrCat(host, ":", port);
  return e;
}

absl::StatusOr<std::string> ReadPem(absl::string_view option,
                                    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("etcd option ", option,
                                                   ": cannot read ", path, ": ",
                                                   std::strerror(errno)));
  }
  std::stringstream data;
  data << in.rdbuf();
  if (data.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "etcd option ", option, ": ", path, " holds no PEM block"));
  }
  return data.str();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(
    const EtcdClientOptions& options) {
  if (options.ca_file.empty()) {
    if (!options.cert_file.empty() || !options.key_file.empty()) {
      return absl::InvalidArgumentError(
          "etcd options cert_file/key_file need ca_file (TLS)");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "etcd options cert_file and key_file go together");
  }
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> ca = ReadPem("ca_file", options.ca_file);
  if (!ca.ok()) return ca.status();
  ssl.pem_root_certs = *ca;
  if (!options.cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadPem("cert_file", options.cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem("key_file", options.key_file);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
  }
  return grpc::SslCredentials(ssl);
}

int Millis(absl::Duration d) {
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(d), INT_MAX));
}

}  // namespace

absl::StatusOr<std::shared_ptr<Connection>> Connect(
    const EtcdClientOptions& options) {
  if (options.endpoints.empty()) {
    return absl::InvalidArgumentError("etcd options: no endpoints");
  }
  if (options.call_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("etcd option call_timeout must be > 0");
  }
  auto connection = std::make_shared<Connection>();
  std::vector<Endpoint> parsed;
  for (const std::string& text : options.endpoints) {
    absl::StatusOr<Endpoint> e = ParseEndpoint(text);
    if (!e.ok()) return e.status();
    if (e->scheme == "https" && options.ca_file.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "etcd endpoint \"", text, "\" is https but no ca_file is set"));
    }
    if (e->scheme == "http" && !options.ca_file.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "etcd endpoint \"", text, "\" is http but ca_file asks for TLS"));
    }
    if (!parsed.empty() && parsed.front().ipv6 != e->ipv6) {
      return absl::InvalidArgumentError(
          "etcd endpoints mix IPv4 and IPv6 addresses");
    }
    connection->endpoints.push_back(e->address);
    parsed.push_back(*std::move(e));
  }
  connection->endpoints_text =
      absl::StrCat("[", absl::StrJoin(connection->endpoints, ", "), "]");
  connection->call_timeout = options.call_timeout;
  connection->clock = options.clock;
  if (connection->clock == nullptr) {
    connection->owned_clock = std::make_unique<SystemClock>();
    connection->clock = connection->owned_clock.get();
  }

  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      Credentials(options);
  if (!credentials.ok()) return credentials.status();

  grpc::ChannelArguments args;
  // Every member answers every call (etcd forwards writes to its leader),
  // so spread calls and skip members that are down.
  args.SetLoadBalancingPolicyName("round_robin");
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              std::max(100, Millis(options.max_reconnect_backoff)));
  // Finds a dead connection under an idle watch. etcd refuses pings more
  // often than every 5 s (--grpc-keepalive-min-time).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5'000);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetMaxReceiveMessageSize(-1);
  // One authority for all members; the target's would list them all.
  args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, connection->endpoints.front());
  if (!options.ca_file.empty()) {
    std::string name = options.tls_server_name;
    if (name.empty()) {
      const std::string& first = connection->endpoints.front();
      name = first.substr(0, first.rfind(':'));
      name = std::string(absl::StripSuffix(absl::StripPrefix(name, "["), "]"));
    }
    args.SetSslTargetNameOverride(name);
  }
  const std::string target =
      absl::StrCat(parsed.front().ipv6 ? "ipv6:" : "ipv4:",
                   absl::StrJoin(connection->endpoints, ","));
  connection->channel = grpc::CreateCustomChannel(target, *credentials, args);
  connection->kv = etcdserverpb::KV::NewStub(connection->channel);
  connection->lease = etcdserverpb::Lease::NewStub(connection->channel);
  connection->watch = etcdserverpb::Watch::NewStub(connection->channel);
  connection->poller = std::thread([c = connection.get()] {
    // Waiting on the channel's state polls its connections (gRPC's epoll
    // engine serves every connection to whichever thread polls). Short
    // waits, so that the destructor is not held up.
    while (!c->stopping.load()) {
      const grpc_connectivity_state state = c->channel->GetState(false);
      c->channel->WaitForStateChange(state, std::chrono::system_clock::now() +
                                                std::chrono::milliseconds(200));
    }
  });
  return connection;
}

Connection::~Connection() {
  stopping = true;
  if (poller.joinable()) poller.join();
}

absl::Time CallDeadline(const Connection& connection, const Context& ctx) {
  return std::min(ctx.deadline(),
                  connection.clock->Now() + connection.call_timeout);
}

std::chrono::system_clock::time_point GrpcDeadline(const Connection& connection,
                                                   absl::Time deadline) {
  const absl::Duration left =
      std::max(absl::ZeroDuration(), deadline - connection.clock->Now());
  return absl::ToChronoTime(absl::Now() + left);
}

absl::Status RunCall(
    Connection& connection, CallKind kind, absl::string_view what,
    const Context& ctx,
    absl::FunctionRef<grpc::Status(grpc::ClientContext*)> attempt) {
  Clock& clock = *connection.clock;
  const absl::Time deadline = CallDeadline(connection, ctx);
  // gRPC's deadlines are real time: the call also ends when that runs out,
  // whatever connection.clock says.
  const absl::Time real_deadline = absl::Now() + (deadline - clock.Now());
  // Short and capped: the usual cause is a leader election (≈ 1 s).
  Backoff backoff(
      {.initial = absl::Milliseconds(25), .max = absl::Milliseconds(500)});
  absl::Status last;
  int attempts = 0;
  auto give_up = [&](absl::string_view why) {
    if (attempts <= 1) return last;
    return WithMessage(last, absl::StrCat(last.message(), " (", why, " after ",
                                          attempts, " attempts)"));
  };
  for (;;) {
    if (ctx.IsCancelled()) {
      return absl::CancelledError(absl::StrCat("etcd ", what, ": cancelled"));
    }
    if (clock.Now() >= deadline || absl::Now() >= real_deadline) {
      if (last.ok()) {
        return absl::DeadlineExceededError(
            absl::StrCat("etcd ", what, ": no time left for the call"));
      }
      return give_up("out of time");
    }
    grpc::ClientContext rpc;
    rpc.set_deadline(GrpcDeadline(connection, deadline));
    const grpc::Status status = attempt(&rpc);
    ++attempts;
    if (status.ok()) return absl::OkStatus();
    // The deadline ended an attempt that followed unavailable ones: the
    // cause worth reporting is the unavailability.
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
        last.code() == absl::StatusCode::kUnavailable) {
      return give_up("out of time");
    }
    last = FromGrpcStatus(status, what, connection.endpoints_text);
    const RetryClass retry = ClassifyForRetry(status);
    if (retry == RetryClass::kPermanent ||
        (retry == RetryClass::kMaybeApplied && kind == CallKind::kWrite)) {
      return give_up("failed");
    }
    const absl::Duration wait = backoff.Next();
    if (clock.Now() + wait >= deadline) return give_up("out of time");
    if (IsNotConnected(status)) {
      WaitForChannel(connection, wait, ctx.cancellation());
    } else if (!clock.SleepFor(wait, ctx).ok() && ctx.IsCancelled()) {
      return absl::CancelledError(absl::StrCat("etcd ", what, ": cancelled"));
    }
  }
}

void WaitForChannel(Connection& connection, absl::Duration max_wait,
                    const Cancellation* stop) {
  const absl::Time end = absl::Now() + max_wait;
  grpc_connectivity_state state =
      connection.channel->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (stop != nullptr && stop->IsCancelled()) return;
    const absl::Time now = absl::Now();
    if (now >= end) return;
    // Short slices, so that `stop` is seen soon.
    const absl::Time slice = std::min(end, now + absl::Milliseconds(100));
    if (connection.channel->WaitForStateChange(state,
                                               absl::ToChronoTime(slice))) {
      state = connection.channel->GetState(/*try_to_connect=*/true);
    }
  }
}

}  // namespace certfleet::etcd::internal
