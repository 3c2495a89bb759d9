#include "tests/scheduler/scheduler_test_env.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/key_type.h"

namespace certfleet::scheduler::testing {

using certfleet::testing::FakeClock;
using certfleet::testing::JsonResponse;
using certfleet::testing::ScriptedTransport;

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

SchedulerTestBase::SchedulerTestBase(FakeClock::Mode mode)
    : clock_(absl::FromUnixSeconds(1'800'000'000), mode) {}

ScriptedTransport& SchedulerTestBase::AddIssuer(const std::string& name,
                                                bool ari,
                                                int new_orders_per_window) {
  auto transport = std::make_unique<ScriptedTransport>();
  ScriptedTransport* t = transport.get();
  if (ari) {
    t->On("/dir", [](const acme::HttpRequest&) {
      const std::string b = ScriptedTransport::kBase;
      return JsonResponse(200, absl::StrCat(R"({"newNonce":")", b,
                                            R"(/new-nonce","newAccount":")", b,
                                            R"(/new-account","newOrder":")", b,
                                            R"(/new-order","revokeCert":")", b,
                                            R"(/revoke","keyChange":")", b,
                                            R"(/key-change","renewalInfo":")",
                                            b, R"(/renewal-info/"})"));
    });
  }
  config::IssuerConfig c;
  c.name = name;
  c.directory_url = absl::StrCat(ScriptedTransport::kBase, "/dir");
  // No client-side rate limiting: its token bucket would sleep on the fake
  // clock.
  c.requests_per_second = 0;
  c.new_nonce_per_second = 0;
  c.new_orders_per_window = new_orders_per_window;
  c.new_orders_window = absl::Hours(3);
  issuers_[name] =
      std::make_unique<issuance::Issuer>(c, std::move(transport), clock_);
  transports_[name] = t;
  return *t;
}

issuance::Issuer* SchedulerTestBase::issuer(const std::string& name) {
  auto it = issuers_.find(name);
  return it == issuers_.end() ? nullptr : it->second.get();
}

config::CertificateConfig SchedulerTestBase::Cert(const std::string& name,
                                                  const std::string& issuer) {
  config::CertificateConfig c;
  c.name = name;
  c.names = {absl::StrCat(name, ".example.test")};
  c.issuer = issuer;
  return c;
}

SchedulerOptions SchedulerTestBase::Options() {
  SchedulerOptions o;
  o.seed = 20240611;
  return o;
}

std::unique_ptr<Scheduler> SchedulerTestBase::MakeScheduler(
    std::vector<config::CertificateConfig> certs, SchedulerOptions options,
    SchedulerObserver* observer) {
  std::map<std::string, issuance::Issuer*> issuers;
  for (auto& [name, i] : issuers_) issuers[name] = i.get();
  return std::make_unique<Scheduler>(std::move(certs), std::move(issuers),
                                     store_, orders_, clock_, options,
                                     observer);
}

store::VersionRecord SchedulerTestBase::StoreVersion(
    const config::CertificateConfig& cert, absl::Time not_after) {
  store::VersionRecord v;
  v.cert_name = cert.name;
  v.issuer = cert.issuer;
  v.names = cert.names;
  v.key_type = crypto::KeyTypeName(cert.key_type);
  v.serial_hex = "0abc";
  v.not_before = not_after - FakeCertificateOrders::kLifetime;
  v.not_after = not_after;
  v.created_at = v.not_before;
  absl::StatusOr<std::optional<store::VersionRecord>> latest =
      store_.LatestVersion(cert.name);
  EXPECT_TRUE(latest.ok()) << latest.status();
  v.ari_cert_id = FakeCertificateOrders::AriCertId(
      cert.name, latest.ok() && *latest ? (*latest)->version + 1 : 1);
  absl::StatusOr<int64_t> number = store_.AddVersion(v);
  EXPECT_TRUE(number.ok()) << number.status();
  v.version = number.ok() ? *number : 0;
  return v;
}

std::optional<store::CertificateState> SchedulerTestBase::StateOf(
    const std::string& name) {
  absl::StatusOr<std::optional<store::CertificateState>> s =
      store_.GetCertificateState(name);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : std::nullopt;
}

std::optional<store::VersionRecord> SchedulerTestBase::LatestOf(
    const std::string& name) {
  absl::StatusOr<std::optional<store::VersionRecord>> v =
      store_.LatestVersion(name);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : std::nullopt;
}

store::CertificateState SchedulerTestBase::State(const std::string& name) {
  std::optional<store::CertificateState> s = StateOf(name);
  if (!s) ADD_FAILURE() << "no scheduling state stored for " << name;
  return s.value_or(store::CertificateState{.name = name});
}

store::VersionRecord SchedulerTestBase::Latest(const std::string& name) {
  std::optional<store::VersionRecord> v = LatestOf(name);
  if (!v) ADD_FAILURE() << "no version stored for " << name;
  return v.value_or(store::VersionRecord{.cert_name = name});
}

int SchedulerTestBase::RenewalInfoRequests(const std::string& issuer) {
  const std::string prefix =
      absl::StrCat(ScriptedTransport::kBase, kRenewalInfoPath);
  int n = 0;
  for (const acme::HttpRequest& r : transports_.at(issuer)->requests()) {
    if (absl::StartsWith(r.url, prefix)) ++n;
  }
  return n;
}

}  // namespace certfleet::scheduler::testing
