// A fake HttpTransport for AcmeClient unit tests: routes requests by URL
// path to per-test handlers, stamps a fresh Replay-Nonce on every response
// (unless the handler set one), and records what was sent.
#ifndef CERTFLEET_TESTS_ACME_SCRIPTED_TRANSPORT_H_
#define CERTFLEET_TESTS_ACME_SCRIPTED_TRANSPORT_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "coordinator/acme/http_transport.h"

namespace certfleet::testing {

class ScriptedTransport : public acme::HttpTransport {
 public:
  using Handler = std::function<absl::StatusOr<acme::HttpResponse>(
      const acme::HttpRequest&)>;
  static constexpr char kBase[] = "https://ca.test";

  // Serves a directory at /dir pointing at /new-nonce, /new-account,
  // /new-order, /revoke, /key-change.
  ScriptedTransport();

  // Handles requests whose URL path is `path` (e.g. "/order/1").
  void On(const std::string& path, Handler handler);
  // Every request sent, in order.
  std::vector<acme::HttpRequest> requests() const;
  int Count(const std::string& method, const std::string& path) const;
  // The nonces handed out, in order.
  std::vector<std::string> issued_nonces() const;

  absl::StatusOr<acme::HttpResponse> Send(const acme::HttpRequest& request,
                                          const Context& ctx) override;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, Handler> handlers_;
  std::vector<acme::HttpRequest> requests_;
  std::vector<std::string> nonces_;
  int next_nonce_ = 0;
};

// {"type": "urn:ietf:params:acme:error:<type>", "detail": detail} with the
// given status.
acme::HttpResponse ProblemResponse(int status, const std::string& type,
                                   const std::string& detail);
acme::HttpResponse JsonResponse(int status, const std::string& json);

// The decoded "protected" header of a flattened JWS request body.
std::string ProtectedHeader(const std::string& jws_body);

}  // namespace certfleet::testing

#endif  // CERTFLEET_TESTS_ACME_SCRIPTED_TRANSPORT_H_
