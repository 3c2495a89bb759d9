// The BIND9 shared by every test in dns_integration_test: started on first
// use, stopped when the test program ends (a gtest Environment). ctest runs
// each test in its own process, so starting must stay fast (≈ 0.1–0.3 s).
//
// Zones:
//   example.test.    _acme-challenge.delegated CNAME
//                    _acme-challenge.delegated.validation.test.
//   validation.test.
//   stale.test.      extra NS ns2 (127.0.0.2) and ns3 (127.0.0.3) at the
//                    same port, for propagation tests
// Keys: "certfleet" (hmac-sha256), "k384" (hmac-sha384), "k512"
// (hmac-sha512), each allowed to update TXT records in every zone.
#ifndef CERTFLEET_TESTS_DNS_BIND_TEST_ENV_H_
#define CERTFLEET_TESTS_DNS_BIND_TEST_ENV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/dns/dns_provider.h"
#include "coordinator/dns/providers/rfc2136_provider.h"
#include "tests/harness/bind_server.h"

namespace certfleet::dns::testing {

// The shared server, or why it could not start.
absl::StatusOr<harness::BindServer*> SharedBind();

// Options for an Rfc2136Provider using `key` of `bind`.
Rfc2136Options ProviderOptions(const harness::BindServer& bind,
                               const harness::BindKey& key);

// The TXT values BIND itself holds at `fqdn` (asked directly, RD off),
// sorted. Fails the test on a query error.
std::vector<std::string> TxtAt(const harness::BindServer& bind,
                               const std::string& fqdn);

}  // namespace certfleet::dns::testing

// Starts (or reuses) the shared BIND or fails the test with its error.
#define CF_SHARED_BIND(var)                                \
  auto var##_or = ::certfleet::dns::testing::SharedBind(); \
  ASSERT_TRUE(var##_or.ok()) << var##_or.status();         \
  ::certfleet::harness::BindServer& var = **var##_or

#endif  // CERTFLEET_TESTS_DNS_BIND_TEST_ENV_H_
