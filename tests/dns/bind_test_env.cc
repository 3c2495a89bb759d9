#include "tests/dns/bind_test_env.h"

#include <algorithm>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "coordinator/dns/ldns_resolver.h"
#include "gtest/gtest.h"

namespace certfleet::dns::testing {
namespace {

absl::Mutex mu;
std::unique_ptr<harness::BindServer> shared ABSL_GUARDED_BY(mu);

class BindEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    absl::MutexLock lock(&mu);
    shared.reset();
  }
};

::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new BindEnvironment);

}  // namespace

absl::StatusOr<harness::BindServer*> SharedBind() {
  absl::MutexLock lock(&mu);
  if (!shared) {
    auto started = harness::BindServer::Start({
        .zones = {{"example.test",
                   {"_acme-challenge.delegated CNAME "
                    "_acme-challenge.delegated.validation.test.",
                    "www A 127.0.0.1"}},
                  {"validation.test", {}},
                  {"stale.test",
                   {"@ NS ns2.stale.test.", "@ NS ns3.stale.test.",
                    "ns2 A 127.0.0.2", "ns3 A 127.0.0.3"}}},
        .extra_keys = {{"k384", "hmac-sha384"}, {"k512", "hmac-sha512"}},
    });
    if (!started.ok()) return started.status();
    shared = std::move(*started);
  }
  return shared.get();
}

Rfc2136Options ProviderOptions(const harness::BindServer& bind,
                               const harness::BindKey& key) {
  return {.server = bind.address(),
          .tsig_key_name = key.name,
          .tsig_algorithm = key.algorithm,
          .tsig_secret = key.secret,
          .timeout = absl::Seconds(5)};
}

std::vector<std::string> TxtAt(const harness::BindServer& bind,
                               const std::string& fqdn) {
  LdnsResolver resolver({.recursion_desired = false});
  auto a =
      resolver.Query(fqdn, RrType::kTXT, bind.address(),
                     Context().WithDeadline(absl::Now() + absl::Seconds(5)));
  EXPECT_TRUE(a.ok()) << a.status();
  std::vector<std::string> out;
  if (!a.ok()) return out;
  for (const Rr& rr : a->answer) {
    if (rr.type == RrType::kTXT) out.push_back(rr.data);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace certfleet::dns::testing
