// AcmeClient against a real Pebble (RFC 8555 end to end). DNS validation is
// switched off here (PEBBLE_VA_ALWAYS_VALID); the coordinator's issuance
// tests cover DNS-01 with BIND9.
#include <set>

#include "common/crypto/certificate.h"
#include "common/crypto/verify.h"
#include "coordinator/acme/chain_selection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/acme/pebble_env.h"
#include "tests/harness/free_port.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::acme {
namespace {

using ::certfleet::testing::IssueWithoutDns;
using ::certfleet::testing::MakeClient;
using ::certfleet::testing::StartPebbleOrDie;
using ::certfleet::testing::StatusIs;
using crypto::KeyType;
using crypto::PrivateKey;
using ::testing::HasSubstr;
using ::testing::SizeIs;

Context Ctx() {
  return Context::Background().WithDeadline(absl::Now() + absl::Seconds(60));
}

class AcmePebbleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pebble_ = StartPebbleOrDie({.always_valid = true}).release();
  }
  static void TearDownTestSuite() {
    delete pebble_;
    pebble_ = nullptr;
  }
  // A client with a new account whose key is of `type`.
  static testing::PebbleClient NewAccount(KeyType type = KeyType::kEc256) {
    testing::PebbleClient c = MakeClient(*pebble_);
    c.client->SetAccountKey(*PrivateKey::Generate(type));
    auto account =
        c.client->NewAccount({.contacts = {"mailto:ops@example.test"}}, Ctx());
    EXPECT_OK(account);
    return c;
  }
  static harness::PebbleServer* pebble_;
};
harness::PebbleServer* AcmePebbleTest::pebble_ = nullptr;

TEST_F(AcmePebbleTest, DirectoryIsParsed) {
  testing::PebbleClient c = MakeClient(*pebble_);
  ASSERT_OK_AND_ASSIGN(Directory dir, c.client->GetDirectory(Ctx()));
  EXPECT_THAT(dir.new_nonce, HasSubstr("/nonce-plz"));
  EXPECT_THAT(dir.new_order, HasSubstr("/order-plz"));
  EXPECT_THAT(dir.key_change, HasSubstr("/rollover-account-key"));
  EXPECT_FALSE(dir.external_account_required);
}

TEST_F(AcmePebbleTest, AccountsWithEveryJwsAlgorithm) {
  for (KeyType type : {KeyType::kEc256, KeyType::kEc384, KeyType::kRsa2048}) {
    SCOPED_TRACE(crypto::KeyTypeName(type));
    testing::PebbleClient c = MakeClient(*pebble_);
    PrivateKey key = *PrivateKey::Generate(type);
    c.client->SetAccountKey(key);
    ASSERT_OK_AND_ASSIGN(
        Account created,
        c.client->NewAccount({.contacts = {"mailto:a@example.test"}}, Ctx()));
    EXPECT_EQ(created.status, AcmeStatus::kValid);
    EXPECT_THAT(created.contacts,
                ::testing::ElementsAre("mailto:a@example.test"));
    // Lookup by key alone (onlyReturnExisting) finds the same account.
    testing::PebbleClient again = MakeClient(*pebble_);
    again.client->SetAccountKey(key);
    ASSERT_OK_AND_ASSIGN(Account found, again.client->FindAccount(Ctx()));
    EXPECT_EQ(found.url, created.url);
    // Account-bound requests (kid) work with this key type.
    ASSERT_OK(again.client->NewOrder({"acct.example.test"}, {}, Ctx()));
  }
}

TEST_F(AcmePebbleTest, FindAccountForUnknownKeyIsNotFound) {
  testing::PebbleClient c = MakeClient(*pebble_);
  c.client->SetAccountKey(*PrivateKey::Generate(KeyType::kEc256));
  EXPECT_THAT(
      c.client->FindAccount(Ctx()),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("accountDoesNotExist")));
}

TEST_F(AcmePebbleTest, OrderWithWildcardApexAndManyNames) {
  testing::PebbleClient c = NewAccount();
  const std::vector<std::string> names = {"*.example.test", "example.test",
                                          "a.example.test", "b.example.test",
                                          "c.other.test"};
  ASSERT_OK_AND_ASSIGN(Order order, c.client->NewOrder(names, {}, Ctx()));
  EXPECT_EQ(order.status, AcmeStatus::kPending);
  EXPECT_THAT(order.identifiers, SizeIs(5));
  EXPECT_THAT(order.authorizations, SizeIs(5));
  bool saw_wildcard = false;
  for (const std::string& url : order.authorizations) {
    ASSERT_OK_AND_ASSIGN(Authorization authz,
                         c.client->GetAuthorization(url, Ctx()));
    ASSERT_NE(authz.Find("dns-01"), nullptr);
    if (authz.wildcard) {
      saw_wildcard = true;
      // §7.1.4: the wildcard's authorization is for the base name and offers
      // only dns-01.
      EXPECT_EQ(authz.identifier.value, "example.test");
      EXPECT_EQ(authz.Find("http-01"), nullptr);
    }
  }
  EXPECT_TRUE(saw_wildcard);

  ASSERT_OK_AND_ASSIGN(testing::IssuedCert issued,
                       IssueWithoutDns(*c.client, names, KeyType::kEc384));
  ASSERT_OK_AND_ASSIGN(
      std::vector<crypto::Certificate> chain,
      crypto::Certificate::ParsePemChain(issued.chains[0].pem));
  ASSERT_GE(chain.size(), 2u);
  EXPECT_OK(crypto::CheckNamesCover(chain[0], names));
  EXPECT_OK(crypto::CheckKeyMatches(issued.key, chain[0]));
  EXPECT_OK(crypto::VerifyChain(
      chain[0],
      std::vector<crypto::Certificate>(chain.begin() + 1, chain.end()), {},
      absl::Now()));
  EXPECT_EQ(issued.order.status, AcmeStatus::kValid);
}

TEST_F(AcmePebbleTest, RsaAndEcCertificateKeys) {
  testing::PebbleClient c = NewAccount(KeyType::kRsa2048);
  for (KeyType type : {KeyType::kEc256, KeyType::kRsa2048, KeyType::kRsa3072}) {
    SCOPED_TRACE(crypto::KeyTypeName(type));
    ASSERT_OK_AND_ASSIGN(
        testing::IssuedCert issued,
        IssueWithoutDns(*c.client, {"keys.example.test"}, type));
    auto leaf = crypto::Certificate::FromPem(issued.chains[0].pem);
    ASSERT_OK(leaf);
    EXPECT_OK(crypto::CheckKeyMatches(issued.key, *leaf));
  }
}

TEST_F(AcmePebbleTest, KeyRolloverSwitchesTheAccountKey) {
  testing::PebbleClient c = NewAccount(KeyType::kEc256);
  const PrivateKey old_key = *c.client->account_key();
  const std::string url = c.client->account_url();
  const PrivateKey new_key = *PrivateKey::Generate(KeyType::kEc384);
  ASSERT_OK(c.client->RolloverKey(new_key, Ctx()));
  // The client now signs with the new key.
  ASSERT_OK(c.client->NewOrder({"rollover.example.test"}, {}, Ctx()));
  // The CA knows the account under the new key only.
  testing::PebbleClient by_new = MakeClient(*pebble_);
  by_new.client->SetAccountKey(new_key);
  ASSERT_OK_AND_ASSIGN(Account found, by_new.client->FindAccount(Ctx()));
  EXPECT_EQ(found.url, url);
  testing::PebbleClient by_old = MakeClient(*pebble_);
  by_old.client->SetAccountKey(old_key);
  EXPECT_THAT(by_old.client->FindAccount(Ctx()),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(AcmePebbleTest, DeactivatedAccountCannotOrder) {
  testing::PebbleClient c = NewAccount();
  ASSERT_OK_AND_ASSIGN(Account account, c.client->DeactivateAccount(Ctx()));
  EXPECT_EQ(account.status, AcmeStatus::kDeactivated);
  EXPECT_THAT(
      c.client->NewOrder({"gone.example.test"}, {}, Ctx()),
      StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("unauthorized")));
}

TEST_F(AcmePebbleTest, RevocationByAccountAndByCertificateKey) {
  testing::PebbleClient c = NewAccount();
  ASSERT_OK_AND_ASSIGN(
      testing::IssuedCert a,
      IssueWithoutDns(*c.client, {"revoke-a.example.test"}, KeyType::kEc256));
  ASSERT_OK_AND_ASSIGN(
      testing::IssuedCert b,
      IssueWithoutDns(*c.client, {"revoke-b.example.test"}, KeyType::kEc256));
  auto leaf_a = *crypto::Certificate::FromPem(a.chains[0].pem);
  auto leaf_b = *crypto::Certificate::FromPem(b.chains[0].pem);
  EXPECT_EQ(*pebble_->CertStatus(leaf_a.SerialHex()), "Valid");
  // RFC 5280 reason 4: superseded.
  ASSERT_OK(c.client->Revoke(leaf_a.ToDer(), 4, nullptr, Ctx()));
  EXPECT_EQ(*pebble_->CertStatus(leaf_a.SerialHex()), "Revoked");
  EXPECT_THAT(
      c.client->Revoke(leaf_a.ToDer(), 4, nullptr, Ctx()),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("alreadyRevoked")));
  // Signed by the certificate's own key (jwk), not the account.
  ASSERT_OK(c.client->Revoke(leaf_b.ToDer(), 1, &b.key, Ctx()));
  EXPECT_EQ(*pebble_->CertStatus(leaf_b.SerialHex()), "Revoked");
}

TEST_F(AcmePebbleTest, DeactivatingAnAuthorizationInvalidatesTheOrder) {
  testing::PebbleClient c = NewAccount();
  ASSERT_OK_AND_ASSIGN(Order order,
                       c.client->NewOrder({"abandon.example.test"}, {}, Ctx()));
  ASSERT_OK_AND_ASSIGN(
      Authorization authz,
      c.client->DeactivateAuthorization(order.authorizations[0], Ctx()));
  EXPECT_EQ(authz.status, AcmeStatus::kDeactivated);
  ASSERT_OK_AND_ASSIGN(Order after, c.client->GetOrder(order.url, Ctx()));
  // RFC 8555 says "invalid"; Pebble says "deactivated". Either way it is
  // final and PollOrder reports it instead of waiting.
  EXPECT_THAT(after.status,
              ::testing::AnyOf(AcmeStatus::kInvalid, AcmeStatus::kDeactivated));
  EXPECT_THAT(c.client->PollOrder(order.url, {AcmeStatus::kReady}, Ctx()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("abandon.example.test")));
}

TEST_F(AcmePebbleTest, ListsTheAccountsOrdersAcrossPages) {
  // Pebble pages its order lists (3 per page by default).
  testing::PebbleClient c = NewAccount();
  std::set<std::string> placed;
  for (int i = 0; i < 7; ++i) {
    ASSERT_OK_AND_ASSIGN(
        Order o, c.client->NewOrder({absl::StrCat("list", i, ".example.test")},
                                    {}, Ctx()));
    placed.insert(o.url);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> urls,
                       c.client->ListOrderUrls(Ctx()));
  EXPECT_EQ(std::set<std::string>(urls.begin(), urls.end()), placed);
}

TEST_F(AcmePebbleTest, NoRenewalInfoOnPebble) {
  testing::PebbleClient c = NewAccount();
  EXPECT_THAT(c.client->GetRenewalInfo("abc.def", Ctx()),
              StatusIs(absl::StatusCode::kUnimplemented));
}

TEST(AcmePebbleEabTest, ExternalAccountBindingIsRequiredAndChecked) {
  const std::string hmac =
      "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
  auto pebble =
      StartPebbleOrDie({.always_valid = true, .eab_keys = {{"kid-1", hmac}}});
  testing::PebbleClient c = MakeClient(*pebble);
  ASSERT_OK_AND_ASSIGN(Directory dir, c.client->GetDirectory(Ctx()));
  EXPECT_TRUE(dir.external_account_required);
  c.client->SetAccountKey(*PrivateKey::Generate(KeyType::kEc256));
  // Refused before anything is sent, with a message that says what to set.
  EXPECT_THAT(c.client->NewAccount({.contacts = {}}, Ctx()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("External Account Binding")));
  // A wrong MAC key is rejected by the CA.
  std::string wrong = hmac;
  wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
  EXPECT_THAT(
      c.client->NewAccount({.eab_kid = "kid-1", .eab_hmac_key = wrong}, Ctx()),
      StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(c.client->NewAccount(
                  {.eab_kid = "kid-unknown", .eab_hmac_key = hmac}, Ctx()),
              StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_OK_AND_ASSIGN(
      Account account,
      c.client->NewAccount({.eab_kid = "kid-1", .eab_hmac_key = hmac}, Ctx()));
  EXPECT_EQ(account.status, AcmeStatus::kValid);
  ASSERT_OK(IssueWithoutDns(*c.client, {"eab.example.test"}, KeyType::kEc256));
}

TEST(AcmePebbleChainsTest, AlternateChainsAndPreferredIssuer) {
  auto pebble = StartPebbleOrDie({.always_valid = true, .alternate_roots = 2});
  testing::PebbleClient c = MakeClient(*pebble);
  c.client->SetAccountKey(*PrivateKey::Generate(KeyType::kEc256));
  ASSERT_OK(c.client->NewAccount({}, Ctx()));
  ASSERT_OK_AND_ASSIGN(
      testing::IssuedCert issued,
      IssueWithoutDns(*c.client, {"chains.example.test"}, KeyType::kEc256,
                      /*alternates=*/true));
  ASSERT_THAT(issued.chains, SizeIs(3));
  // Every chain carries the same leaf under a different root.
  std::set<std::string> top_issuers;
  std::string leaf_serial;
  for (const CertificateChain& chain : issued.chains) {
    ASSERT_OK_AND_ASSIGN(auto certs,
                         crypto::Certificate::ParsePemChain(chain.pem));
    if (leaf_serial.empty()) leaf_serial = certs[0].SerialHex();
    EXPECT_EQ(certs[0].SerialHex(), leaf_serial);
    top_issuers.insert(certs.back().IssuerCommonName());
  }
  ASSERT_THAT(top_issuers, SizeIs(3));
  // Each root can be preferred by name and yields its own chain.
  for (const std::string& issuer : top_issuers) {
    ASSERT_OK_AND_ASSIGN(size_t i, SelectChain(issued.chains, issuer));
    auto certs = *crypto::Certificate::ParsePemChain(issued.chains[i].pem);
    EXPECT_EQ(certs.back().IssuerCommonName(), issuer);
  }
  // No preference, or an unknown name, keeps the default chain.
  EXPECT_EQ(*SelectChain(issued.chains, ""), 0u);
  EXPECT_EQ(*SelectChain(issued.chains, "No Such Root"), 0u);
  // The alternate roots come from Pebble's management API too.
  ASSERT_OK_AND_ASSIGN(std::string root1, pebble->RootPem(1));
  auto root1_cert = *crypto::Certificate::FromPem(root1);
  EXPECT_TRUE(top_issuers.count(root1_cert.SubjectCommonName()));
}

// Pebble offering more alternate chains than are fetched: the default and
// the first max_alternate_chains (3) arrive, each under a different root;
// every URL Pebble handed out was on its own host (url_policy.h).
TEST(AcmePebbleChainsTest, AtMostThreeAlternateChainsAreDownloaded) {
  auto pebble = StartPebbleOrDie({.always_valid = true, .alternate_roots = 6});
  testing::PebbleClient c = MakeClient(*pebble);
  c.client->SetAccountKey(*PrivateKey::Generate(KeyType::kEc256));
  ASSERT_OK(c.client->NewAccount({}, Ctx()));
  ASSERT_OK_AND_ASSIGN(testing::IssuedCert issued,
                       IssueWithoutDns(*c.client, {"many-chains.example.test"},
                                       KeyType::kEc256, /*alternates=*/true));
  ASSERT_THAT(issued.chains, SizeIs(4));
  std::set<std::string> top_issuers;
  for (const CertificateChain& chain : issued.chains) {
    ASSERT_OK_AND_ASSIGN(auto certs,
                         crypto::Certificate::ParsePemChain(chain.pem));
    top_issuers.insert(certs.back().IssuerCommonName());
  }
  EXPECT_THAT(top_issuers, SizeIs(4));
}

TEST(AcmePebbleNonceTest, OrdersSucceedWhenHalfTheNoncesAreRejected) {
  auto pebble =
      StartPebbleOrDie({.always_valid = true, .nonce_reject_percent = 50});
  testing::PebbleClient c = MakeClient(*pebble);
  c.client->SetAccountKey(*PrivateKey::Generate(KeyType::kEc256));
  ASSERT_OK(c.client->NewAccount({}, Ctx()));
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(IssueWithoutDns(
        *c.client, {absl::StrCat("n", i, ".example.test")}, KeyType::kEc256));
  }
  // 5 orders need ~35 exchanges without rejections; with half rejected,
  // the retries show up in the count.
  EXPECT_GT(c.client->exchanges(), 45u);
}

TEST(AcmeUnreachableTest, CaUnreachableIsUnavailableAfterRetries) {
  auto port = harness::PickFreePort();
  ASSERT_OK(port);
  auto transport = CurlTransport::Create({});
  ASSERT_OK(transport);
  SystemClock clock;
  AcmeClient client(
      {.directory_url = absl::StrCat("https://127.0.0.1:", *port, "/dir"),
       .max_transient_retries = 2,
       .transient_backoff = {.initial = absl::Milliseconds(5),
                             .max = absl::Milliseconds(20)}},
      **transport, clock);
  EXPECT_THAT(client.GetDirectory(Ctx()),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(absl::StrCat("127.0.0.1:", *port))));
  EXPECT_EQ(client.exchanges(), 3u);
}

TEST(AcmeTrustTest, WrongTrustBundleFailsVerificationWithAClearError) {
  auto pebble = StartPebbleOrDie({.always_valid = true});
  // Another lab CA that did not sign Pebble's certificate.
  testing::TempDir other;
  ASSERT_OK(harness::MakeLoopbackTlsFiles(other.path()));
  auto transport =
      CurlTransport::Create({.trust_bundle = other.File("ca.pem")});
  ASSERT_OK(transport);
  SystemClock clock;
  AcmeClient client({.directory_url = pebble->directory_url()}, **transport,
                    clock);
  EXPECT_THAT(client.GetDirectory(Ctx()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("trust_bundle")));
  // And with the right bundle it works.
  auto good = CurlTransport::Create({.trust_bundle = pebble->ca_bundle_path()});
  AcmeClient ok_client({.directory_url = pebble->directory_url()}, **good,
                       clock);
  EXPECT_OK(ok_client.GetDirectory(Ctx()));
}

}  // namespace
}  // namespace certfleet::acme
