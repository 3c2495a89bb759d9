// ProbeTls against small in-process servers: what it reports, the SNI it
// sends, and its errors for refused, silent and non-TLS peers.
#include "tests/harness/tls_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/harness/free_port.h"
#include "tests/harness/server_process.h"
#include "tests/harness_web/web_test_support.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::harness {
namespace {

using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

// A listening loopback socket; `Address()` is "127.0.0.1:P".
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(listen(fd_, 8), 0);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { close(fd_); }
  int fd() const { return fd_; }
  std::string Address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

int RecordServerName(SSL* ssl, int*, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  *static_cast<std::string*>(arg) = name ? name : "(none)";
  return SSL_TLSEXT_ERR_OK;
}

TEST(ProbeTlsTest, ReportsTheServedLeafAndSendsSni) {
  const testing::IssuedCert leaf = testing::IssueWwwLeaf();
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(
      SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  ASSERT_EQ(SSL_CTX_use_certificate(ctx.get(), leaf.cert.raw()), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), leaf.key.raw()), 1);
  std::string seen_name;
  SSL_CTX_set_tlsext_servername_callback(ctx.get(), &RecordServerName);
  SSL_CTX_set_tlsext_servername_arg(ctx.get(), &seen_name);
  Listener listener;
  std::thread server([&] {
    const int conn = accept(listener.fd(), nullptr, nullptr);
    SSL* ssl = SSL_new(ctx.get());
    SSL_set_fd(ssl, conn);
    SSL_accept(ssl);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(conn);
  });
  auto served =
      ProbeTls(listener.Address(), "www.example.test", absl::Seconds(5));
  server.join();
  ASSERT_THAT(served, IsOk());
  EXPECT_EQ(seen_name, "www.example.test");
  EXPECT_EQ(served->serial_hex, leaf.cert.SerialHex());
  EXPECT_EQ(served->subject_cn, "www.example.test");
  EXPECT_THAT(served->dns_names, ::testing::ElementsAre("www.example.test"));
  EXPECT_EQ(served->not_after, leaf.cert.NotAfter());
  EXPECT_EQ(served->leaf_der, leaf.cert.ToDer());
}

TEST(ProbeTlsTest, RejectsNamesAndMissingPorts) {
  EXPECT_THAT(ProbeTls("www.example.test:443", "", absl::Seconds(1)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a numeric IP address")));
  EXPECT_THAT(
      ProbeTls("127.0.0.1", "", absl::Seconds(1)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("has no port")));
  EXPECT_THAT(
      ProbeTls("127.0.0.1:99999", "", absl::Seconds(1)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad port")));
}

TEST(ProbeTlsTest, RefusedConnectionIsUnavailable) {
  auto port = PickFreePort();
  ASSERT_THAT(port, IsOk());
  EXPECT_THAT(
      ProbeTls(absl::StrCat("127.0.0.1:", *port), "x", absl::Seconds(1)),
      StatusIs(absl::StatusCode::kUnavailable,
               HasSubstr("Connection refused")));
}

TEST(ProbeTlsTest, SilentServerTimesOut) {
  Listener listener;  // the kernel accepts; nobody ever answers
  const absl::Time start = absl::Now();
  EXPECT_THAT(
      ProbeTls(listener.Address(), "x", absl::Milliseconds(200)),
      StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("timed out")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(ProbeTlsTest, PeerClosingIsUnavailable) {
  Listener listener;
  std::thread server([&] {
    const int conn = accept(listener.fd(), nullptr, nullptr);
    close(conn);
  });
  auto served = ProbeTls(listener.Address(), "x", absl::Seconds(5));
  server.join();
  EXPECT_THAT(served, StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("TLS handshake with")));
}

TEST(WaitForTlsTest, GivesUpWithTheLastError) {
  auto port = PickFreePort();
  ASSERT_THAT(port, IsOk());
  EXPECT_THAT(WaitForTls(absl::StrCat("127.0.0.1:", *port), "x",
                         absl::Milliseconds(100), nullptr),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("Connection refused")));
}

}  // namespace
}  // namespace certfleet::harness
