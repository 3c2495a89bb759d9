// The real health checks against real loopback servers: a TLS server made
// with OpenSSL, an HTTP server (cpp-httplib), and commands.
#include "agent/install/health_checker.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::agent {
namespace {

using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

// Server threads write to sockets that clients may have closed.
void BlockSigpipe() {
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
}

// Serves one certificate over TLS 1.2/1.3 on 127.0.0.1 until destroyed;
// each connection gets a handshake and is closed.
class TlsServer {
 public:
  TlsServer(const crypto::Certificate& cert, const crypto::PrivateKey& key) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx_, cert.raw());
    SSL_CTX_use_PrivateKey(ctx_, key.raw());
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 8);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TlsServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
    SSL_CTX_free(ctx_);
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  std::string last_sni() {
    absl::MutexLock lock(&mu_);
    return last_sni_;
  }

 private:
  void Serve() {
    BlockSigpipe();
    while (!stop_) {
      const int conn = accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, conn);
      if (SSL_accept(ssl) == 1) {
        const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        absl::MutexLock lock(&mu_);
        last_sni_ = sni ? sni : "";
      }
      SSL_shutdown(ssl);
      SSL_free(ssl);
      close(conn);
    }
  }

  SSL_CTX* ctx_;
  int fd_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  absl::Mutex mu_;
  std::string last_sni_ ABSL_GUARDED_BY(mu_);
};

// A port with nothing listening (bound, then closed).
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

class HealthCheckerTest : public ::testing::Test {
 protected:
  Context Ctx() const {
    return Context::Background().WithDeadline(absl::Now() + absl::Seconds(5));
  }
  SubprocessRunner runner_;
  RealHealthChecker checker_{runner_};
};

TEST_F(HealthCheckerTest, TlsComparesTheServedSerialAndSendsSni) {
  const crypto::testing::TestCa ca = crypto::testing::TestCa::Create();
  const crypto::testing::IssuedCert leaf =
      ca.IssueLeaf({.dns_names = {"www.example.test"}, .serial_hex = "0a0b0c"});
  TlsServer server(leaf.cert, leaf.key);
  const HealthCheckSpec spec{.kind = HealthCheckSpec::Kind::kTls,
                             .address = server.address(),
                             .server_name = "www.example.test"};
  EXPECT_THAT(checker_.Check(spec, "0a0b0c", Ctx()), IsOk());
  EXPECT_THAT(checker_.Check(spec, "0A0B0C", Ctx()), IsOk());
  // The server handles one connection at a time: the first is done.
  EXPECT_EQ(server.last_sni(), "www.example.test");
  EXPECT_THAT(
      checker_.Check(spec, "0d0e", Ctx()),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               absl::StrCat("tls ", server.address(),
                            " (www.example.test): serves serial 0a0b0c, "
                            "expected 0d0e")));
}

TEST_F(HealthCheckerTest, TlsReportsAConnectionThatFails) {
  const std::string address = absl::StrCat("127.0.0.1:", ClosedPort());
  const HealthCheckSpec spec{.kind = HealthCheckSpec::Kind::kTls,
                             .address = address};
  EXPECT_THAT(
      checker_.Check(spec, "0a", Ctx()),
      StatusIs(absl::StatusCode::kUnavailable,
               absl::StrCat("tls ", address, ": connect: Connection refused")));
}

TEST_F(HealthCheckerTest, TlsReportsAServerThatIsNotTls) {
  httplib::Server http;
  const int port = http.bind_to_any_port("127.0.0.1");
  std::thread t([&] {
    BlockSigpipe();
    http.listen_after_bind();
  });
  const HealthCheckSpec spec{.kind = HealthCheckSpec::Kind::kTls,
                             .address = absl::StrCat("127.0.0.1:", port)};
  EXPECT_THAT(checker_.Check(spec, "0a", Ctx()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("handshake")));
  http.stop();
  t.join();
}

TEST_F(HealthCheckerTest, HttpExpectsTheStatus) {
  httplib::Server http;
  http.Get("/ok", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("fine", "text/plain");
  });
  http.Get("/down", [](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_content("backend down\n", "text/plain");
  });
  const int port = http.bind_to_any_port("127.0.0.1");
  std::thread t([&] {
    BlockSigpipe();
    http.listen_after_bind();
  });
  const std::string base = absl::StrCat("http://127.0.0.1:", port);
  HealthCheckSpec spec{.kind = HealthCheckSpec::Kind::kHttp,
                       .url = base + "/ok"};
  EXPECT_THAT(checker_.Check(spec, "0a", Ctx()), IsOk());
  spec.url = base + "/down";
  EXPECT_THAT(checker_.Check(spec, "0a", Ctx()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       absl::StrCat("http ", base,
                                    "/down: status 503, expected 200: "
                                    "backend down")));
  spec.expect_status = 503;
  EXPECT_THAT(checker_.Check(spec, "0a", Ctx()), IsOk());
  http.stop();
  t.join();
  spec.url = base + "/ok";
  EXPECT_THAT(checker_.Check(spec, "0a", Ctx()),
              StatusIs(absl::StatusCode::kUnavailable,
                       absl::StrCat("http ", base, "/ok: could not connect")));
}

TEST_F(HealthCheckerTest, HttpsVerifiesTheServerWithTheGivenCa) {
  ::certfleet::testing::TempDir tmp("agent-https");
  const std::string cert = tmp.File("server.pem");
  const std::string key = tmp.File("server.key");
  ASSERT_OK_AND_ASSIGN(
      ProcessResult made,
      runner_.Run(
          {.argv = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out",
                    cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"}},
          Ctx()));
  ASSERT_TRUE(made.success()) << made.stderr_data;
  httplib::SSLServer https(cert.c_str(), key.c_str());
  https.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  const int port = https.bind_to_any_port("127.0.0.1");
  std::thread t([&] {
    BlockSigpipe();
    https.listen_after_bind();
  });
  const std::string url = absl::StrCat("https://127.0.0.1:", port, "/healthz");
  HealthCheckSpec spec{
      .kind = HealthCheckSpec::Kind::kHttp, .url = url, .ca_file = cert};
  EXPECT_THAT(checker_.Check(spec, "0a", Ctx()), IsOk());
  // Another CA: the server is not trusted, and the check says so.
  const crypto::testing::TestCa other = crypto::testing::TestCa::Create();
  ::certfleet::testing::WriteFileOrDie(tmp.File("other.pem"), other.RootPem());
  spec.ca_file = tmp.File("other.pem");
  EXPECT_THAT(checker_.Check(spec, "0a", Ctx()),
              StatusIs(absl::StatusCode::kUnavailable,
                       absl::StrCat("http ", url,
                                    ": server certificate not trusted: "
                                    "self-signed certificate")));
  https.stop();
  t.join();
}

TEST_F(HealthCheckerTest, CommandPassesOnExitZeroAndSeesTheSerial) {
  HealthCheckSpec spec{
      .kind = HealthCheckSpec::Kind::kCommand,
      .command = {"/bin/sh", "-c",
                  "test \"$CERTFLEET_EXPECTED_SERIAL\" = 0a0b"}};
  EXPECT_THAT(checker_.Check(spec, "0a0b", Ctx()), IsOk());
  EXPECT_THAT(checker_.Check(spec, "0c", Ctx()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "command /bin/sh: exited with status 1"));
  spec.command = {"/bin/sh", "-c", "echo 'stale certificate' >&2; exit 3"};
  EXPECT_THAT(checker_.Check(spec, "0a", Ctx()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "command /bin/sh: exited with status 3: stale "
                       "certificate"));
}

}  // namespace
}  // namespace certfleet::agent
