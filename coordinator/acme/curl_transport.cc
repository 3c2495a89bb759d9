#include "coordinator/acme/curl_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "coordinator/acme/tls_verify_notes.h"

namespace certfleet::acme {
namespace {

struct Exchange {
  HttpResponse* response;
  size_t max_bytes;
  bool overflow = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t len = size * n;
  if (ex->response->body.size() + len > ex->max_bytes) {
    ex->overflow = true;
    return 0;  // aborts the transfer
  }
  ex->response->body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t len = size * n;
  absl::string_view line(data, len);
  // A new status line starts a new header block (after 100-continue or a
  // redirect): keep only the final response's headers.
  if (absl::StartsWith(line, "HTTP/")) {
    ex->response->headers.clear();
    return len;
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return len;
  std::string name = absl::AsciiStrToLower(line.substr(0, colon));
  absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
  ex->response->headers.emplace_back(std::move(name), std::string(value));
  return len;
}

void GlobalInitOnce() {
  static const bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

}  // namespace

std::string HttpResponse::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

std::vector<std::string> HttpResponse::Headers(absl::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (k == name) out.push_back(v);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<CurlTransport>> CurlTransport::Create(
    CurlTransportOptions options) {
  GlobalInitOnce();
  if (!options.trust_bundle.empty()) {
    std::ifstream in(options.trust_bundle);
    if (!in) {
      return absl::FailedPreconditionError(absl::StrCat(
          "trust bundle ", options.trust_bundle, " cannot be read"));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return absl::FailedPreconditionError(absl::StrCat(
          "trust bundle ", options.trust_bundle, " holds no PEM certificate"));
    }
  }
  return std::unique_ptr<CurlTransport>(new CurlTransport(std::move(options)));
}

CurlTransport::CurlTransport(CurlTransportOptions options)
    : options_(std::move(options)) {}

CurlTransport::~CurlTransport() {
  absl::MutexLock lock(&mu_);
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* CurlTransport::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void CurlTransport::Release(void* handle) {
  absl::MutexLock lock(&mu_);
  idle_.push_back(handle);
}

absl::StatusOr<HttpResponse> CurlTransport::Send(const HttpRequest& request,
                                                 const Context& ctx) {
  if (ctx.IsCancelled()) return absl::CancelledError("cancelled");
  CURL* curl = static_cast<CURL*>(Acquire());
  if (curl == nullptr) return absl::ResourceExhaustedError("curl_easy_init");
  curl_easy_reset(curl);  // keeps the connection cache of this handle

  HttpResponse response;
  Exchange ex{&response, options_.max_response_bytes};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
  if (!options_.trust_bundle.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, options_.trust_bundle.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(
      curl, CURLOPT_HTTP_VERSION,
      options_.http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
  absl::Duration timeout = options_.request_timeout;
  if (ctx.deadline() != absl::InfiniteFuture()) {
    timeout = std::min(timeout, ctx.deadline() - absl::Now());
    if (timeout <= absl::ZeroDuration()) {
      Release(curl);
      return absl::DeadlineExceededError("deadline exceeded before request");
    }
  }
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(timeout) + 1));
  curl_easy_setopt(
      curl, CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ex);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ex);
  // curl's own account of a failure (e.g. which host name did not match)
  // and OpenSSL's verification result: curl_easy_strerror alone says only
  // "SSL peer certificate or SSH remote key was not OK".
  char curl_error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
  TlsVerifyNotes tls;
  WatchTlsVerification(curl, &tls);

  struct curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers) {
    headers = curl_slist_append(headers, absl::StrCat(k, ": ", v).c_str());
  }
  // No "Expect: 100-continue" round trip on POST bodies.
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE,
                     static_cast<long>(request.body.size()));
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  StopWatchingTlsVerification(curl);
  Release(curl);
  if (ex.overflow) {
    return absl::ResourceExhaustedError(absl::StrCat(
        request.method, " ", request.url, ": response larger than ",
        options_.max_response_bytes, " bytes"));
  }
  if (rc != CURLE_OK) {
    const std::string what = absl::StrCat(
        request.method, " ", request.url, ": ",
        curl_error[0] != '\0' ? curl_error : curl_easy_strerror(rc));
    switch (rc) {
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM: {
        const std::string verify = tls.Describe(curl_error);
        return absl::FailedPreconditionError(absl::StrCat(
            what, verify.empty() ? "" : "; ", verify,
            " (check the issuer's trust_bundle and directory_url: TLS "
            "verification is never disabled)"));
      }
      case CURLE_OPERATION_TIMEDOUT:
        return absl::DeadlineExceededError(what);
      case CURLE_UNSUPPORTED_PROTOCOL:
      case CURLE_URL_MALFORMAT:
        return absl::InvalidArgumentError(what);
      default:
        return absl::UnavailableError(what);
    }
  }
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace certfleet::acme
