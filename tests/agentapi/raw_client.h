// Hand-made clients of the agent service for tests: a raw AgentService
// stream and a raw Enroll call with chosen credentials and channel
// arguments, to send what a real agent never sends (reports for deliveries
// it never received, oversized messages, floods).
//
//   RawStream stream(address, {.ca_pem = ca, .key_pem = key, .cert_pem =
//   cert}); stream.Write(HelloMessage()); std::optional<v1::CoordinatorMessage>
//   welcome = stream.Read();
#ifndef CERTFLEET_TESTS_AGENTAPI_RAW_CLIENT_H_
#define CERTFLEET_TESTS_AGENTAPI_RAW_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "certfleet/v1/agent.grpc.pb.h"

namespace certfleet::agentapi::testing {

// Client credentials: TLS trusting `ca_pem`, presenting `cert_pem` with
// `key_pem` unless they are empty.
struct RawCredentials {
  std::string ca_pem;
  std::string key_pem;
  std::string cert_pem;
};

// A channel of its own (its own connection) to `address`, with `args`.
std::shared_ptr<grpc::Channel> RawChannel(
    const std::string& address, const RawCredentials& credentials,
    const grpc::ChannelArguments& args = grpc::ChannelArguments());

// One AgentService.Connect stream; every call gives up after `timeout`
// (20 s by default) so a broken test fails instead of hanging.
class RawStream {
 public:
  RawStream(const std::string& address, const RawCredentials& credentials);
  // On `channel`, beside other streams of it.
  explicit RawStream(std::shared_ptr<grpc::Channel> channel,
                     absl::Duration timeout = absl::Seconds(20));
  bool Write(const v1::AgentMessage& message);
  // The next message other than a Heartbeat (which says nothing a test
  // reads); nullopt once the stream has ended.
  std::optional<v1::CoordinatorMessage> Read();
  // How the stream ended (after Read gave nullopt).
  grpc::Status Finish();
  // Cancels the call (a Read blocked on another thread returns).
  void Cancel();

 private:
  grpc::ClientContext context_;
  std::unique_ptr<v1::AgentService::Stub> stub_;
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::AgentMessage, v1::CoordinatorMessage>>
      stream_;
};

// Enrollment.Enroll with `token` and a fresh CSR over a channel with
// `credentials`, claiming host name `hostname`; the gRPC status.
grpc::Status RawEnroll(const std::string& address,
                       const RawCredentials& credentials,
                       const std::string& token,
                       const std::string& hostname = "raw");

// Hello (host "raw"), and an inventory saying target www serves nothing.
v1::AgentMessage HelloMessage();
v1::AgentMessage EmptyWwwInventory();

}  // namespace certfleet::agentapi::testing

#endif  // CERTFLEET_TESTS_AGENTAPI_RAW_CLIENT_H_
