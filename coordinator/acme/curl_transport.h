// HttpTransport over libcurl. Thread-safe: keeps a pool of easy handles so
// each concurrent request reuses a kept-alive TLS connection to the CA.
// TLS peer verification is always on; a private ACME CA is reached by giving
// its trust bundle (PEM), never by turning verification off.
//
//   ASSIGN_OR_RETURN(auto transport, CurlTransport::Create(
//       {.trust_bundle = "/etc/certfleet/private-acme-ca.pem"}));
#ifndef CERTFLEET_COORDINATOR_ACME_CURL_TRANSPORT_H_
#define CERTFLEET_COORDINATOR_ACME_CURL_TRANSPORT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "coordinator/acme/http_transport.h"

namespace certfleet::acme {

struct CurlTransportOptions {
  // PEM file of CA certificates trusted for the ACME server's HTTPS. Empty:
  // the system trust store.
  std::string trust_bundle;
  absl::Duration request_timeout = absl::Seconds(30);
  absl::Duration connect_timeout = absl::Seconds(10);
  std::string user_agent = "certfleet/0.1";
  // HTTP/1.1 keep-alive by default: each pooled handle holds its own
  // connection, so HTTP/2 multiplexing buys nothing, and its framing costs
  // CPU on both ends (measured in bench/: see docs/benchmarks.md).
  bool http2 = false;
  // Responses larger than this are cut off with an error (a certificate chain
  // is a few KB; this guards memory against a misbehaving server).
  size_t max_response_bytes = 1 << 20;
};

class CurlTransport : public HttpTransport {
 public:
  // Fails when the trust bundle cannot be read or holds no certificate.
  static absl::StatusOr<std::unique_ptr<CurlTransport>> Create(
      CurlTransportOptions options);
  ~CurlTransport() override;

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request,
                                    const Context& ctx) override;

 private:
  explicit CurlTransport(CurlTransportOptions options);
  void* Acquire();
  void Release(void* handle);

  const CurlTransportOptions options_;
  absl::Mutex mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::acme

#endif  // CERTFLEET_COORDINATOR_ACME_CURL_TRANSPORT_H_
