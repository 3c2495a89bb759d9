// The HTTP seam under the ACME client. CurlTransport is the real one; tests
// substitute a scripted fake to produce any server behaviour (rate limits,
// 503s, malformed replies) deterministically.
//
//   HttpRequest req{.method = "POST", .url = url, .body = jws};
//   req.headers.emplace_back("Content-Type", "application/jose+json");
//   ASSIGN_OR_RETURN(HttpResponse resp, transport.Send(req, ctx));
#ifndef CERTFLEET_COORDINATOR_ACME_HTTP_TRANSPORT_H_
#define CERTFLEET_COORDINATOR_ACME_HTTP_TRANSPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/context.h"

namespace certfleet::acme {

struct HttpRequest {
  std::string method;  // "GET", "HEAD", "POST"
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  // Header names lower-cased, in the order received.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first value of `name` (lower-case), or "".
  std::string Header(absl::string_view name) const;
  // Every value of `name`, in order.
  std::vector<std::string> Headers(absl::string_view name) const;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Sends one request. A non-OK status means no HTTP response was received
  // (connection refused, TLS failure, timeout): kUnavailable for what may
  // pass, kFailedPrecondition for what needs fixing (certificate
  // verification). HTTP error statuses are returned as responses.
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request,
                                            const Context& ctx) = 0;
};

}  // namespace certfleet::acme

#endif  // CERTFLEET_COORDINATOR_ACME_HTTP_TRANSPORT_H_
