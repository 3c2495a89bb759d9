// PropagationChecker against real BIND9 servers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "coordinator/dns/ldns_resolver.h"
#include "coordinator/dns/propagation.h"
#include "coordinator/dns/providers/rfc2136_provider.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dns/bind_test_env.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::dns {
namespace {

using ::certfleet::dns::testing::ProviderOptions;
using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

Context Ctx() {
  return Context().WithDeadline(absl::Now() + absl::Seconds(20));
}

// A secondary that missed the update: answers every UDP query with one TXT
// record holding `value` at the question's name. named cannot play this
// part: it binds only interface addresses, and 127.0.0.2 is not one here.
class StaleResponder {
 public:
  StaleResponder(const std::string& ip, int port, std::string value)
      : value_(std::move(value)) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (bound_) thread_ = std::thread([this] { Serve(); });
  }
  ~StaleResponder() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  bool bound() const { return bound_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      char buf[1500];
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n = recvfrom(fd_, buf, sizeof buf, 0,
                                 reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 12) continue;
      size_t end = 12;  // end of the question: name, type, class
      while (end < static_cast<size_t>(n) && buf[end] != 0) {
        end += 1 + static_cast<uint8_t>(buf[end]);
      }
      end += 5;
      if (end > static_cast<size_t>(n)) continue;
      std::string reply(buf, end);
      reply[2] = static_cast<char>(0x84);  // QR, AA
      reply[3] = 0;                        // NOERROR
      reply.replace(6, 6, std::string("\x00\x01\x00\x00\x00\x00", 6));
      reply.append("\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x3c", 10);
      reply.push_back(0);
      reply.push_back(static_cast<char>(value_.size() + 1));
      reply.push_back(static_cast<char>(value_.size()));
      reply += value_;
      sendto(fd_, reply.data(), reply.size(), 0,
             reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  const std::string value_;
  int fd_ = -1;
  bool bound_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(PropagationIntegrationTest, SucceedsOnTheFirstCheckAgainstBind) {
  CF_SHARED_BIND(bind);
  auto provider = Rfc2136Provider::Create(
      "lab-bind", ProviderOptions(bind, bind.keys()[0]));
  ASSERT_THAT(provider, IsOk());
  const TxtRecord record{"_acme-challenge.prop.example.test.", "ready"};
  ASSERT_THAT((*provider)->Present("example.test.", {record}, Ctx()), IsOk());

  SystemClock clock;
  LdnsResolver resolver;
  LdnsResolver authoritative({.recursion_desired = false});
  ZoneFinder finder(resolver, {bind.address()}, clock);
  PropagationChecker checker(resolver, finder,
                             {.resolvers = {bind.address()},
                              .nameserver_port = bind.port(),
                              .interval = absl::Seconds(1),
                              .timeout = absl::Seconds(5)},
                             clock, &authoritative);
  auto nameservers = checker.FindNameservers("example.test.", Ctx());
  ASSERT_THAT(nameservers, IsOk());
  EXPECT_THAT(*nameservers, ::testing::ElementsAre(Nameserver{
                                "ns1.example.test.", bind.address()}));
  auto waited = checker.WaitForRecords({record}, Ctx());
  ASSERT_THAT(waited, IsOk());
  EXPECT_LT(*waited, absl::Milliseconds(500));  // no interval slept
}

TEST(PropagationIntegrationTest, TimeoutNamesTheStaleAndTheSilentServer) {
  CF_SHARED_BIND(bind);
  // ns2.stale.test. (127.0.0.2, same port) never receives the update; ns3
  // (127.0.0.3) has nothing listening.
  StaleResponder stale("127.0.0.2", bind.port(), "old-value");
  ASSERT_TRUE(stale.bound());

  auto provider = Rfc2136Provider::Create(
      "lab-bind", ProviderOptions(bind, bind.keys()[0]));
  ASSERT_THAT(provider, IsOk());
  const TxtRecord record{"_acme-challenge.stale.test.", "new-value"};
  ASSERT_THAT((*provider)->Present("stale.test.", {record}, Ctx()), IsOk());

  SystemClock clock;
  LdnsResolver resolver;
  LdnsResolver authoritative(
      {.recursion_desired = false, .per_try_timeout = absl::Milliseconds(300)});
  ZoneFinder finder(resolver, {bind.address()}, clock);
  PropagationChecker checker(resolver, finder,
                             {.resolvers = {bind.address()},
                              .nameserver_port = bind.port(),
                              .interval = absl::Milliseconds(200),
                              .timeout = absl::Seconds(1)},
                             clock, &authoritative);
  const std::string p = absl::StrCat(bind.port());
  EXPECT_THAT(
      checker.WaitForRecords({record}, Ctx()),
      StatusIs(
          absl::StatusCode::kDeadlineExceeded,
          AllOf(HasSubstr("DNS propagation timed out after 1s: "
                          "_acme-challenge.stale.test. TXT \"new-value\" not "
                          "seen at "),
                HasSubstr(absl::StrCat("ns2.stale.test. (127.0.0.2:", p,
                                       "): answered \"old-value\"")),
                HasSubstr(absl::StrCat("ns3.stale.test. (127.0.0.3:", p,
                                       "): no answer (connection refused)")),
                Not(HasSubstr("ns1.stale.test.")))));
}

}  // namespace
}  // namespace certfleet::dns
