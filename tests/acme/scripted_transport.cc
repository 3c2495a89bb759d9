#include "tests/acme/scripted_transport.h"

#include "absl/strings/str_cat.h"
#include "common/crypto/encoding.h"

namespace certfleet::testing {

ScriptedTransport::ScriptedTransport() {
  On("/dir", [](const acme::HttpRequest&) {
    const std::string b = kBase;
    return JsonResponse(
        200,
        absl::StrCat(R"({"newNonce":")", b, R"(/new-nonce","newAccount":")", b,
                     R"(/new-account","newOrder":")", b,
                     R"(/new-order","revokeCert":")", b,
                     R"(/revoke","keyChange":")", b, R"(/key-change"})"));
  });
  On("/new-nonce", [](const acme::HttpRequest&) {
    return acme::HttpResponse{.status = 200};
  });
}

void ScriptedTransport::On(const std::string& path, Handler handler) {
  absl::MutexLock lock(&mu_);
  handlers_[path] = std::move(handler);
}

std::vector<acme::HttpRequest> ScriptedTransport::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

int ScriptedTransport::Count(const std::string& method,
                             const std::string& path) const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const auto& r : requests_) {
    if (r.method == method && r.url == std::string(kBase) + path) ++n;
  }
  return n;
}

std::vector<std::string> ScriptedTransport::issued_nonces() const {
  absl::MutexLock lock(&mu_);
  return nonces_;
}

absl::StatusOr<acme::HttpResponse> ScriptedTransport::Send(
    const acme::HttpRequest& request, const Context&) {
  Handler handler;
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    std::string path = request.url;
    if (path.rfind(kBase, 0) == 0) path = path.substr(strlen(kBase));
    auto it = handlers_.find(path);
    if (it != handlers_.end()) handler = it->second;
  }
  absl::StatusOr<acme::HttpResponse> resp =
      handler ? handler(request)
              : absl::StatusOr<acme::HttpResponse>(
                    ProblemResponse(404, "malformed", "no such resource"));
  if (resp.ok() && resp->Header("replay-nonce").empty()) {
    absl::MutexLock lock(&mu_);
    std::string nonce = absl::StrCat("nonce-", next_nonce_++);
    nonces_.push_back(nonce);
    resp->headers.emplace_back("replay-nonce", nonce);
  }
  return resp;
}

acme::HttpResponse ProblemResponse(int status, const std::string& type,
                                   const std::string& detail) {
  acme::HttpResponse r;
  r.status = status;
  r.headers.emplace_back("content-type", "application/problem+json");
  r.body =
      absl::StrCat(R"({"type":"urn:ietf:params:acme:error:)", type,
                   R"(","detail":")", detail, R"(","status":)", status, "}");
  return r;
}

acme::HttpResponse JsonResponse(int status, const std::string& json) {
  acme::HttpResponse r;
  r.status = status;
  r.headers.emplace_back("content-type", "application/json");
  r.body = json;
  return r;
}

std::string ProtectedHeader(const std::string& jws_body) {
  const std::string key = R"("protected":")";
  size_t start = jws_body.find(key);
  if (start == std::string::npos) return "";
  start += key.size();
  size_t end = jws_body.find('"', start);
  auto decoded = crypto::Base64UrlDecode(jws_body.substr(start, end - start));
  return decoded.ok() ? *decoded : "";
}

}  // namespace certfleet::testing
