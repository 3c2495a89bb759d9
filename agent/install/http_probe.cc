// HttpGet (declared in health_checker.h): one GET with cpp-httplib, bounded
// by the context's deadline and cancellation, no redirects, no proxy.
//
// cpp-httplib rather than libcurl: the agent already links it for /metrics,
// while libcurl's dependency tree (GnuTLS, Kerberos, LDAP, libssh2, ...) adds
// about 3.5 MB of resident memory to a process that must stay small.
#include <httplib.h>

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/install/health_checker.h"

namespace certfleet::agent {
namespace {

constexpr size_t kBodyExcerptBytes = 256;

// What went wrong, in words an operator reads in a rollback report.
std::string Describe(httplib::Error error, long verify_result) {
  switch (error) {
    case httplib::Error::Connection:
      return "could not connect";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::Read:
      return "no answer (read failed or timed out)";
    case httplib::Error::Write:
      return "could not send the request";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed";
    case httplib::Error::SSLLoadingCerts:
      return "could not load the trusted CA certificates";
    case httplib::Error::SSLServerVerification:
      // The chain verified, so it was the host-name check that failed
      // (cpp-httplib does it after OpenSSL's chain verification).
      if (verify_result == X509_V_OK) {
        return "the server certificate does not name the URL's host (an "
               "IP address in the URL is never in certfleet's certificates)";
      }
      return absl::StrCat("server certificate not trusted: ",
                          X509_verify_cert_error_string(verify_result));
    default:
      return httplib::to_string(error);
  }
}

}  // namespace

absl::StatusOr<HttpAnswer> HttpGet(const std::string& url,
                                   const std::string& ca_file,
                                   const Context& ctx) {
  const absl::Duration left = ctx.deadline() - absl::Now();
  if (left <= absl::ZeroDuration()) {
    return absl::UnavailableError("timed out before the request");
  }
  // "scheme://host[:port]" for the client, the rest is the path.
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return absl::InvalidArgumentError("not an http(s) URL");
  }
  const size_t path_start = url.find('/', scheme_end + 3);
  const std::string origin = url.substr(0, path_start);
  const std::string path =
      path_start == std::string::npos ? "/" : url.substr(path_start);

  httplib::Client client(origin);
  if (!client.is_valid()) {
    return absl::InvalidArgumentError("not an http(s) URL");
  }
  const auto timeout =
      std::chrono::microseconds(absl::ToInt64Microseconds(left) + 1);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  client.set_follow_location(false);
  client.set_keep_alive(false);
  if (absl::StartsWith(url, "https://")) {
    client.enable_server_certificate_verification(true);
    // Empty: the system's trust store.
    if (!ca_file.empty()) client.set_ca_cert_path(ca_file);
  }
  httplib::Result result = client.Get(
      path, [&ctx](uint64_t, uint64_t) { return !ctx.IsCancelled(); });
  if (!result) {
    if (ctx.IsCancelled()) return absl::CancelledError("cancelled");
    return absl::UnavailableError(
        Describe(result.error(), client.get_openssl_verify_result()));
  }
  std::string excerpt = result->body.substr(0, kBodyExcerptBytes);
  return HttpAnswer{
      .status = result->status,
      .body_excerpt = std::string(absl::StripAsciiWhitespace(excerpt)),
  };
}

}  // namespace certfleet::agent
