// Who is calling the admin API: the admin name of the verified client
// certificate of a gRPC call. The TLS layer has already checked that the
// certificate chains to the internal CA (the listener requires one); this
// checks that it is an admin identity (spiffe://certfleet/admin/<name>) and
// not, say, an agent's.
//
//   absl::StatusOr<std::string> caller = AdminCaller(context->auth_context());
//   if (!caller.ok()) return ToGrpcStatus(caller.status());
#ifndef CERTFLEET_COORDINATOR_ADMINAPI_ADMIN_AUTH_H_
#define CERTFLEET_COORDINATOR_ADMINAPI_ADMIN_AUTH_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace grpc {
class AuthContext;
class Status;
}  // namespace grpc

namespace certfleet::adminapi {

// The admin name. kUnauthenticated when the peer presented no verified
// certificate; kPermissionDenied when it is not an admin identity ("agent
// identities cannot use the admin API" for an agent's).
absl::StatusOr<std::string> AdminCaller(
    const std::shared_ptr<const grpc::AuthContext>& auth);

// absl and gRPC share the canonical status codes.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace certfleet::adminapi

#endif  // CERTFLEET_COORDINATOR_ADMINAPI_ADMIN_AUTH_H_
