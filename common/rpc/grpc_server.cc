#include "common/rpc/grpc_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace certfleet {

absl::StatusOr<StartedGrpcServer> StartGrpcServer(
    const GrpcServerOptions& options) {
  grpc::SslServerCredentialsOptions ssl(options.client_certificates);
  ssl.pem_root_certs = options.client_ca_pem;
  ssl.pem_key_cert_pairs.push_back({options.key_pem, options.cert_pem});

  StartedGrpcServer started;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::SslServerCredentials(ssl),
                           &started.port);
  for (grpc::Service* service : options.services) {
    builder.RegisterService(service);
  }
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_streams_per_connection);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.min_ping_interval)));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES,
                             options.max_ping_strikes);
  for (const auto& [name, value] : options.channel_args) {
    builder.AddChannelArgument(name, value);
  }
  started.server = builder.BuildAndStart();
  if (!started.server || started.port == 0) {
    ShutdownGrpcServer(started.server, absl::ZeroDuration());
    return absl::UnavailableError(
        absl::StrCat(options.what, " cannot listen on ", options.listen,
                     " (address in use, or not an address of this host?)"));
  }
  CF_LOG_INFO("%s listening on %s (port %d)", options.what, options.listen,
              started.port);
  return started;
}

void ShutdownGrpcServer(std::unique_ptr<grpc::Server>& server,
                        absl::Duration grace) {
  if (!server) return;
  // gRPC takes a deadline on the system clock.
  server->Shutdown(std::chrono::system_clock::now() +
                   absl::ToChronoMilliseconds(grace));
  server.reset();
}

}  // namespace certfleet
