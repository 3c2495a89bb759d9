// OrderRunner against real Pebble and BIND9: whole orders, and every way an
// order can go wrong leaving nothing behind (no record in DNS, no order
// pending at the CA, no half state in the store).
#include "coordinator/issuance/order_runner.h"

#include <atomic>
#include <functional>
#include <regex>

#include "common/crypto/certificate.h"
#include "common/crypto/encoding.h"
#include "common/crypto/verify.h"
#include "coordinator/dns/ldns_resolver.h"
#include "coordinator/dns/providers/rfc2136_provider.h"
#include "coordinator/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/coordinator/lab_env.h"
#include "tests/harness/free_port.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::issuance {
namespace {

using ::certfleet::testing::IsOk;
using ::certfleet::testing::LabIssuer;
using ::certfleet::testing::SharedLab;
using ::certfleet::testing::StatusIs;
using ::certfleet::testing::TxtValues;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Context Ctx() {
  return Context::Background().WithDeadline(absl::Now() + absl::Seconds(60));
}

// Fails Present with kUnavailable a given number of times, then delegates.
class FlakyProvider : public dns::DnsProvider {
 public:
  FlakyProvider(std::shared_ptr<dns::DnsProvider> inner, int failures)
      : inner_(std::move(inner)), failures_(failures) {}
  const std::string& name() const override { return inner_->name(); }
  absl::Status Present(const std::string& zone,
                       const std::vector<dns::TxtRecord>& records,
                       const Context& ctx) override {
    if (failures_ > 0) {
      --failures_;
      return absl::UnavailableError("DNS API temporarily unavailable");
    }
    return inner_->Present(zone, records, ctx);
  }
  absl::Status CleanUp(const std::string& zone,
                       const std::vector<dns::TxtRecord>& records,
                       const Context& ctx) override {
    return inner_->CleanUp(zone, records, ctx);
  }

 private:
  std::shared_ptr<dns::DnsProvider> inner_;
  int failures_;
};

// Presents through `inner`, then cancels the order (as a shutdown would)
// before the runner gets to wait for propagation.
class CancellingProvider : public dns::DnsProvider {
 public:
  CancellingProvider(std::shared_ptr<dns::DnsProvider> inner,
                     std::shared_ptr<Cancellation> cancel)
      : inner_(std::move(inner)), cancel_(std::move(cancel)) {}
  const std::string& name() const override { return inner_->name(); }
  absl::Status Present(const std::string& zone,
                       const std::vector<dns::TxtRecord>& records,
                       const Context& ctx) override {
    absl::Status s = inner_->Present(zone, records, ctx);
    presented_ = records;
    if (on_cancel_) on_cancel_();
    cancel_->Cancel();
    return s;
  }
  absl::Status CleanUp(const std::string& zone,
                       const std::vector<dns::TxtRecord>& records,
                       const Context& ctx) override {
    // Clean-up must not inherit the cancelled context.
    cleanup_cancelled_ = ctx.IsCancelled();
    return inner_->CleanUp(zone, records, ctx);
  }
  std::vector<dns::TxtRecord> presented_;
  bool cleanup_cancelled_ = false;
  // Called just before the cancellation (a leadership ending with it).
  std::function<void()> on_cancel_;

 private:
  std::shared_ptr<dns::DnsProvider> inner_;
  std::shared_ptr<Cancellation> cancel_;
};

std::shared_ptr<dns::DnsProvider> BindProvider(const harness::BindServer& bind,
                                               const std::string& secret) {
  auto p = dns::Rfc2136Provider::Create(
      "lab-bind", {.server = bind.address(),
                   .tsig_key_name = bind.tsig_key_name(),
                   .tsig_algorithm = bind.tsig_algorithm(),
                   .tsig_secret = secret});
  EXPECT_OK(p);
  return std::shared_ptr<dns::DnsProvider>(std::move(*p));
}

// One store, key-encryption key, issuer and solver per test.
class OrderRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *store::SqliteStore::Open(dir_.File("coordinator.db"));
    kek_.emplace(crypto::Kek::FromBytes(crypto::RandomBytes(32)));
  }

  // Builds the runner with `provider` for the given zones; DNS questions go
  // to `dns` (default: the shared BIND9).
  void Build(std::shared_ptr<dns::DnsProvider> provider,
             std::vector<std::string> zones = {"example.test",
                                               "validation.test"},
             harness::BindServer* dns = nullptr,
             harness::PebbleServer* pebble = nullptr) {
    harness::BindServer& b = dns ? *dns : *SharedLab().bind;
    harness::PebbleServer& p = pebble ? *pebble : *SharedLab().pebble;
    issuer_ = *Issuer::Create(LabIssuer(p), clock_);
    solver_ = std::make_unique<dns::Dns01Solver>(
        std::vector<dns::ProviderBinding>{{std::move(provider), zones}},
        resolver_,
        dns::SolverOptions{.resolvers = {b.address()},
                           .nameserver_port = b.port(),
                           .propagation_interval = absl::Milliseconds(20),
                           .propagation_timeout = absl::Seconds(10)},
        clock_, &authoritative_);
    runner_ = std::make_unique<OrderRunner>(*store_, *kek_, *solver_, clock_);
  }

  config::CertificateConfig Cert(
      std::string name, std::vector<std::string> names,
      crypto::KeyType type = crypto::KeyType::kEc256) {
    config::CertificateConfig c;
    c.name = std::move(name);
    c.names = std::move(names);
    c.key_type = type;
    c.issuer = "pebble";
    return c;
  }

  // The order URL an error message names: "... (order https://...)".
  static std::string OrderUrlIn(const absl::Status& s) {
    std::smatch m;
    std::string msg(s.message());
    if (std::regex_search(msg, m, std::regex(R"(\(order (https://[^)]+)\))"))) {
      return m[1];
    }
    return "";
  }

  testing::TempDir dir_;
  SystemClock clock_;
  dns::LdnsResolver resolver_;
  dns::LdnsResolver authoritative_{{.recursion_desired = false}};
  std::unique_ptr<store::SqliteStore> store_;
  std::optional<crypto::Kek> kek_;
  std::unique_ptr<Issuer> issuer_;
  std::unique_ptr<dns::Dns01Solver> solver_;
  std::unique_ptr<OrderRunner> runner_;
};

TEST_F(OrderRunnerTest, IssuesWildcardAndApexAndRemovesTheRecords) {
  Build(BindProvider(*SharedLab().bind, SharedLab().bind->tsig_secret()));
  const auto cert = Cert("wildcard", {"*.example.test", "example.test"},
                         crypto::KeyType::kEc384);
  ASSERT_OK_AND_ASSIGN(store::VersionRecord v,
                       runner_->Run(cert, *issuer_, "", Ctx()));
  EXPECT_EQ(v.version, 1);
  EXPECT_EQ(v.key_type, "ec384");
  EXPECT_FALSE(v.order_url.empty());
  EXPECT_FALSE(v.ari_cert_id.empty());
  // The stored key opens with the KEK and belongs to the stored certificate.
  ASSERT_OK_AND_ASSIGN(std::string pem,
                       kek_->Open(v.key_sealed, CertificateKeyAad("wildcard")));
  ASSERT_OK_AND_ASSIGN(auto key, crypto::PrivateKey::FromPem(pem));
  ASSERT_OK_AND_ASSIGN(auto leaf, crypto::Certificate::FromPem(v.leaf_pem));
  EXPECT_OK(crypto::CheckKeyMatches(key, leaf));
  EXPECT_OK(crypto::CheckNamesCover(leaf, {"*.example.test", "example.test"}));
  EXPECT_EQ(leaf.SerialHex(), v.serial_hex);
  EXPECT_FALSE(v.chain_pem.empty());
  // Nothing left behind: no records, no in-flight order.
  EXPECT_THAT(TxtValues(*SharedLab().bind, "_acme-challenge.example.test."),
              IsEmpty());
  EXPECT_EQ(*store_->GetOrder("wildcard"), std::nullopt);
  // The next version gets a fresh key.
  ASSERT_OK_AND_ASSIGN(store::VersionRecord v2,
                       runner_->Run(cert, *issuer_, "", Ctx()));
  EXPECT_EQ(v2.version, 2);
  EXPECT_NE(v2.key_sealed, v.key_sealed);
  EXPECT_NE(v2.serial_hex, v.serial_hex);
}

TEST_F(OrderRunnerTest, EveryKeyType) {
  Build(BindProvider(*SharedLab().bind, SharedLab().bind->tsig_secret()));
  for (crypto::KeyType t :
       {crypto::KeyType::kEc256, crypto::KeyType::kRsa2048,
        crypto::KeyType::kRsa3072, crypto::KeyType::kRsa4096}) {
    SCOPED_TRACE(crypto::KeyTypeName(t));
    const std::string name = absl::StrCat("keys-", crypto::KeyTypeName(t));
    ASSERT_OK_AND_ASSIGN(store::VersionRecord v,
                         runner_->Run(Cert(name, {name + ".example.test"}, t),
                                      *issuer_, "", Ctx()));
    EXPECT_EQ(v.key_type, crypto::KeyTypeName(t));
  }
}

TEST_F(OrderRunnerTest, WrongTsigSecretFailsCleanly) {
  // A valid base64 secret that is not the server's.
  Build(BindProvider(*SharedLab().bind,
                     crypto::Base64Encode(crypto::RandomBytes(32))));
  absl::StatusOr<store::VersionRecord> v =
      runner_->Run(Cert("tsig", {"tsig.example.test"}), *issuer_, "", Ctx());
  // The message names the zone, the server and the TSIG error.
  EXPECT_THAT(v, StatusIs(absl::StatusCode::kPermissionDenied,
                          AllOf(HasSubstr("zone example.test."),
                                HasSubstr(SharedLab().bind->address()),
                                HasSubstr("BADSIG"))));
  // No order left pending at the CA.
  const std::string url = OrderUrlIn(v.status());
  ASSERT_FALSE(url.empty()) << v.status();
  ASSERT_OK_AND_ASSIGN(acme::Order order,
                       issuer_->client().GetOrder(url, Ctx()));
  EXPECT_THAT(order.status, AnyOf(acme::AcmeStatus::kInvalid,
                                  acme::AcmeStatus::kDeactivated));
  // No record left behind, nothing in flight in the store.
  EXPECT_THAT(
      TxtValues(*SharedLab().bind, "_acme-challenge.tsig.example.test."),
      IsEmpty());
  EXPECT_EQ(*store_->GetOrder("tsig"), std::nullopt);
}

TEST_F(OrderRunnerTest, ChallengeTheCaMarksInvalidReportsItsDetail) {
  // Split horizon: certfleet writes to and checks a second BIND9, while
  // Pebble asks the shared one, which never sees the record.
  auto other = harness::BindServer::Start(testing::LabBindOptions());
  ASSERT_OK(other);
  Build(BindProvider(**other, (*other)->tsig_secret()), {"example.test"},
        other->get());
  absl::StatusOr<store::VersionRecord> v = runner_->Run(
      Cert("invalid", {"invalid.example.test"}), *issuer_, "", Ctx());
  EXPECT_THAT(
      v, StatusIs(absl::StatusCode::kFailedPrecondition,
                  AllOf(HasSubstr("invalid.example.test (dns-01)"),
                        HasSubstr("_acme-challenge.invalid.example.test"))));
  EXPECT_THAT(TxtValues(**other, "_acme-challenge.invalid.example.test."),
              IsEmpty());
  EXPECT_EQ(*store_->GetOrder("invalid"), std::nullopt);
}

TEST_F(OrderRunnerTest, ResumesTheSameOrderAfterATransientFailure) {
  Build(std::make_shared<FlakyProvider>(
      BindProvider(*SharedLab().bind, SharedLab().bind->tsig_secret()), 1));
  const auto cert = Cert("resume", {"resume.example.test"});
  absl::StatusOr<store::VersionRecord> first =
      runner_->Run(cert, *issuer_, "", Ctx());
  EXPECT_THAT(first, StatusIs(absl::StatusCode::kUnavailable,
                              HasSubstr("temporarily unavailable")));
  // The order is kept for the next attempt.
  ASSERT_OK_AND_ASSIGN(std::optional<store::OrderRecord> kept,
                       store_->GetOrder("resume"));
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->stage, "presenting");
  EXPECT_THAT(kept->dns_records, IsEmpty());  // cleaned up after the failure
  ASSERT_OK_AND_ASSIGN(store::VersionRecord v,
                       runner_->Run(cert, *issuer_, "", Ctx()));
  EXPECT_EQ(v.order_url, kept->order_url);
  EXPECT_EQ(*store_->GetOrder("resume"), std::nullopt);
}

TEST_F(OrderRunnerTest, CancelledOrderStillRemovesItsRecords) {
  auto cancel = std::make_shared<Cancellation>();
  auto provider = std::make_shared<CancellingProvider>(
      BindProvider(*SharedLab().bind, SharedLab().bind->tsig_secret()), cancel);
  Build(provider);
  const auto cert = Cert("cancel", {"cancel.example.test"});
  absl::StatusOr<store::VersionRecord> v =
      runner_->Run(cert, *issuer_, "", Ctx().WithCancellation(cancel));
  EXPECT_THAT(v, StatusIs(absl::StatusCode::kCancelled));
  ASSERT_EQ(provider->presented_.size(), 1u);
  EXPECT_FALSE(provider->cleanup_cancelled_);
  EXPECT_THAT(
      TxtValues(*SharedLab().bind, "_acme-challenge.cancel.example.test."),
      IsEmpty());
  // A shutdown is not a failure: the order is kept and resumes.
  ASSERT_OK_AND_ASSIGN(std::optional<store::OrderRecord> kept,
                       store_->GetOrder("cancel"));
  ASSERT_TRUE(kept.has_value());
  Build(BindProvider(*SharedLab().bind, SharedLab().bind->tsig_secret()));
  ASSERT_OK_AND_ASSIGN(store::VersionRecord issued,
                       runner_->Run(cert, *issuer_, "", Ctx()));
  EXPECT_EQ(issued.order_url, kept->order_url);
}

// Deposed in the middle of an order (several coordinators): nothing is
// undone — the records stay for the next leader, which resumes the order.
TEST_F(OrderRunnerTest, AnOrderCutShortByDepositionIsLeftToTheNextLeader) {
  auto cancel = std::make_shared<Cancellation>();
  auto provider = std::make_shared<CancellingProvider>(
      BindProvider(*SharedLab().bind, SharedLab().bind->tsig_secret()), cancel);
  Build(provider);
  std::atomic<bool> leading{true};
  runner_ = std::make_unique<OrderRunner>(
      *store_, *kek_, *solver_, clock_,
      OrderRunnerOptions{.acting = [&] { return leading.load(); }});
  // The term's end cancels the order and ends the leadership.
  provider->on_cancel_ = [&] { leading = false; };
  const auto cert = Cert("deposed", {"deposed.example.test"});
  absl::StatusOr<store::VersionRecord> v =
      runner_->Run(cert, *issuer_, "", Ctx().WithCancellation(cancel));
  EXPECT_THAT(v, StatusIs(absl::StatusCode::kCancelled,
                          HasSubstr("no longer leading")));
  EXPECT_THAT(
      TxtValues(*SharedLab().bind, "_acme-challenge.deposed.example.test."),
      ::testing::SizeIs(1));
  ASSERT_OK_AND_ASSIGN(std::optional<store::OrderRecord> kept,
                       store_->GetOrder("deposed"));
  ASSERT_TRUE(kept.has_value());
  EXPECT_THAT(kept->dns_records, ::testing::SizeIs(1));
  // The next leader resumes it and removes the records when done.
  Build(BindProvider(*SharedLab().bind, SharedLab().bind->tsig_secret()));
  ASSERT_OK_AND_ASSIGN(store::VersionRecord issued,
                       runner_->Run(cert, *issuer_, "", Ctx()));
  EXPECT_EQ(issued.order_url, kept->order_url);
  EXPECT_THAT(
      TxtValues(*SharedLab().bind, "_acme-challenge.deposed.example.test."),
      IsEmpty());
}

TEST_F(OrderRunnerTest, ChangedSpecAbandonsTheOldOrder) {
  Build(std::make_shared<FlakyProvider>(
      BindProvider(*SharedLab().bind, SharedLab().bind->tsig_secret()), 1));
  auto cert = Cert("changed", {"changed.example.test"});
  ASSERT_THAT(runner_->Run(cert, *issuer_, "", Ctx()),
              StatusIs(absl::StatusCode::kUnavailable));
  const std::string old_url = (*store_->GetOrder("changed"))->order_url;
  cert.key_type = crypto::KeyType::kEc384;
  ASSERT_OK_AND_ASSIGN(store::VersionRecord v,
                       runner_->Run(cert, *issuer_, "", Ctx()));
  EXPECT_NE(v.order_url, old_url);
  EXPECT_EQ(v.key_type, "ec384");
  ASSERT_OK_AND_ASSIGN(acme::Order old,
                       issuer_->client().GetOrder(old_url, Ctx()));
  EXPECT_THAT(old.status, AnyOf(acme::AcmeStatus::kInvalid,
                                acme::AcmeStatus::kDeactivated));
}

TEST_F(OrderRunnerTest, CnameDelegatedValidation) {
  // shop.other.test's _acme-challenge is a CNAME into validation.test; the
  // provider can write only validation.test.
  Build(BindProvider(*SharedLab().bind, SharedLab().bind->tsig_secret()),
        {"validation.test"});
  ASSERT_OK_AND_ASSIGN(
      store::VersionRecord v,
      runner_->Run(Cert("shop", {"shop.other.test"}), *issuer_, "", Ctx()));
  EXPECT_EQ(v.names, std::vector<std::string>{"shop.other.test"});
  EXPECT_THAT(
      TxtValues(*SharedLab().bind, "_acme-challenge.shop.validation.test."),
      IsEmpty());
}

TEST_F(OrderRunnerTest, NameNoProviderServesFailsNamingIt) {
  Build(BindProvider(*SharedLab().bind, SharedLab().bind->tsig_secret()),
        {"validation.test"});
  absl::StatusOr<store::VersionRecord> v = runner_->Run(
      Cert("nowhere", {"nowhere.example.test"}), *issuer_, "", Ctx());
  EXPECT_THAT(v, StatusIs(absl::StatusCode::kFailedPrecondition,
                          HasSubstr("_acme-challenge.nowhere.example.test")));
  EXPECT_EQ(*store_->GetOrder("nowhere"), std::nullopt);
}

TEST_F(OrderRunnerTest, CaUnreachableIsUnavailableAndLeavesNothing) {
  Build(BindProvider(*SharedLab().bind, SharedLab().bind->tsig_secret()));
  config::IssuerConfig dead = LabIssuer(*SharedLab().pebble);
  const int port = *harness::PickFreePort();
  dead.directory_url = absl::StrCat("https://127.0.0.1:", port, "/dir");
  dead.order_timeout = absl::Seconds(5);
  auto issuer = *Issuer::Create(dead, clock_);
  absl::StatusOr<store::VersionRecord> v =
      runner_->Run(Cert("dead", {"dead.example.test"}), *issuer, "", Ctx());
  EXPECT_THAT(v, StatusIs(AnyOf(absl::StatusCode::kUnavailable,
                                absl::StatusCode::kDeadlineExceeded),
                          HasSubstr(absl::StrCat("127.0.0.1:", port))));
  EXPECT_EQ(*store_->GetOrder("dead"), std::nullopt);
}

TEST_F(OrderRunnerTest, PreferredAlternateChainIsStored) {
  auto pebble = harness::PebbleServer::Start(
      {.dns_server = SharedLab().bind->address(), .alternate_roots = 1});
  ASSERT_OK(pebble);
  Build(BindProvider(*SharedLab().bind, SharedLab().bind->tsig_secret()),
        {"example.test"}, nullptr, pebble->get());
  ASSERT_OK_AND_ASSIGN(std::string alt_root_pem, (*pebble)->RootPem(1));
  const std::string alt_root =
      crypto::Certificate::FromPem(alt_root_pem)->SubjectCommonName();
  auto cert = Cert("chain", {"chain.example.test"});
  cert.preferred_chain = alt_root;
  ASSERT_OK_AND_ASSIGN(store::VersionRecord v,
                       runner_->Run(cert, *issuer_, "", Ctx()));
  auto chain = *crypto::Certificate::ParsePemChain(v.chain_pem);
  ASSERT_FALSE(chain.empty());
  EXPECT_EQ(chain.back().IssuerCommonName(), alt_root);
}

TEST_F(OrderRunnerTest, OrdersSucceedWithHalfTheNoncesRejected) {
  auto pebble = harness::PebbleServer::Start(
      {.dns_server = SharedLab().bind->address(), .nonce_reject_percent = 50});
  ASSERT_OK(pebble);
  Build(BindProvider(*SharedLab().bind, SharedLab().bind->tsig_secret()),
        {"example.test"}, nullptr, pebble->get());
  for (int i = 0; i < 3; ++i) {
    const std::string name = absl::StrCat("nonce", i);
    EXPECT_OK(runner_->Run(Cert(name, {name + ".example.test"}), *issuer_, "",
                           Ctx()));
  }
}

}  // namespace
}  // namespace certfleet::issuance
