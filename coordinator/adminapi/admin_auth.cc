#include "coordinator/adminapi/admin_auth.h"

#include <grpcpp/grpcpp.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crypto/certificate.h"
#include "coordinator/identity/internal_ca.h"

namespace certfleet::adminapi {

absl::StatusOr<std::string> AdminCaller(
    const std::shared_ptr<const grpc::AuthContext>& auth) {
  if (!auth || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError(
        "the admin API needs an admin identity certificate from this "
        "coordinator's internal CA (certfleet-coordinator admin-identity "
        "create)");
  }
  const std::vector<grpc::string_ref> pem =
      auth->FindPropertyValues("x509_pem_cert");
  if (pem.empty()) {
    return absl::UnauthenticatedError(
        "the admin API needs a client certificate; none was presented");
  }
  absl::StatusOr<crypto::Certificate> cert = crypto::Certificate::FromPem(
      absl::string_view(pem[0].data(), pem[0].size()));
  if (!cert.ok()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the client certificate does not parse: ", cert.status().message()));
  }
  return identity::InternalCa::AdminNameFromCertificate(*cert);
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace certfleet::adminapi
