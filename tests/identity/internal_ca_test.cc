// The internal CA: created once per store and reloaded, its key sealed at
// rest, agent identities and the serving certificate it issues, and how a
// verified peer certificate names its agent.
#include "coordinator/identity/internal_ca.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "common/crypto/certificate_builder.h"
#include "common/crypto/kek.h"
#include "common/crypto/public_key.h"
#include "coordinator/store/memory_store.h"
#include "coordinator/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "tests/identity/identity_test_util.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::identity {
namespace {

using ::certfleet::testing::FakeClock;
using ::certfleet::testing::StatusIs;
using testing::CertifiesKey;
using testing::CsrFor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using testing::NewKey;
using testing::TamperedCsr;
using testing::VerifyForPurpose;

const crypto::Kek kKek = crypto::Kek::FromBytes(std::string(32, 'k'));

crypto::Certificate ParseOrDie(const std::string& pem) {
  absl::StatusOr<crypto::Certificate> cert = crypto::Certificate::FromPem(pem);
  EXPECT_OK(cert);
  return *cert;
}

class InternalCaTest : public ::testing::Test {
 protected:
  std::unique_ptr<InternalCa> LoadOrDie() {
    absl::StatusOr<std::unique_ptr<InternalCa>> ca =
        InternalCa::LoadOrCreate(store_, kKek, clock_);
    EXPECT_OK(ca);
    return ca.ok() ? *std::move(ca) : nullptr;
  }

  FakeClock clock_;
  store::InMemoryStore store_;
};

TEST_F(InternalCaTest, CreatedOnceThenReloaded) {
  std::unique_ptr<InternalCa> first = LoadOrDie();
  ASSERT_NE(first, nullptr);
  clock_.Advance(absl::Hours(1));
  std::unique_ptr<InternalCa> second = LoadOrDie();
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(first->ca_pem(), second->ca_pem());
  ASSERT_OK_AND_ASSIGN(std::optional<store::InternalCaRecord> stored,
                       store_.GetInternalCa());
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->cert_pem, first->ca_pem());
  EXPECT_EQ(stored->created_at, absl::FromUnixSeconds(1'800'000'000));

  const crypto::Certificate& ca = first->certificate();
  EXPECT_THAT(ca.SubjectCommonName(),
              MatchesRegex("certfleet internal CA [0-9a-f]{8}"));
  EXPECT_TRUE(ca.IsCa());
  EXPECT_EQ(X509_get_pathlen(ca.raw()), 0);
  EXPECT_EQ(X509_get_key_usage(ca.raw()), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
  const absl::Time created = absl::FromUnixSeconds(1'800'000'000);
  EXPECT_EQ(ca.NotBefore(), created - absl::Minutes(5));
  EXPECT_EQ(ca.NotAfter(), created + absl::Hours(24 * 3650));
  EXPECT_OK(VerifyForPurpose(first->ca_pem(), first->ca_pem(), X509_PURPOSE_ANY,
                             clock_.Now()));
}

TEST_F(InternalCaTest, ConcurrentCreatorsEndUpWithOneCa) {
  std::vector<std::string> pems(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<std::unique_ptr<InternalCa>> ca =
          InternalCa::LoadOrCreate(store_, kKek, clock_);
      EXPECT_OK(ca);
      if (ca.ok()) pems[i] = (*ca)->ca_pem();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& pem : pems) EXPECT_EQ(pem, pems[0]);
  EXPECT_FALSE(pems[0].empty());
}

TEST_F(InternalCaTest, TheKeyIsSealedUnderTheKek) {
  ASSERT_NE(LoadOrDie(), nullptr);
  const crypto::Kek other = crypto::Kek::FromBytes(std::string(32, 'o'));
  EXPECT_THAT(InternalCa::LoadOrCreate(store_, other, clock_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("internal CA: open the sealed key")));
}

TEST(InternalCaSqliteTest, SealedKeyIsNotPlaintextInTheDatabase) {
  certfleet::testing::TempDir dir("internal-ca");
  const std::string path = dir.File("state.db");
  FakeClock clock;
  std::string key_pem;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<store::SqliteStore> store,
                         store::SqliteStore::Open(path));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<InternalCa> ca,
                         InternalCa::LoadOrCreate(*store, kKek, clock));
    ASSERT_OK_AND_ASSIGN(std::optional<store::InternalCaRecord> record,
                         store->GetInternalCa());
    ASSERT_TRUE(record.has_value());
    ASSERT_OK_AND_ASSIGN(key_pem,
                         kKek.Open(record->key_sealed, kInternalCaKeyAad));
    EXPECT_THAT(key_pem, HasSubstr("-----BEGIN PRIVATE KEY-----"));
    EXPECT_FALSE(absl::StrContains(record->key_sealed, "PRIVATE KEY"));
    // The same CA comes back from the file.
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<InternalCa> again,
                         InternalCa::LoadOrCreate(*store, kKek, clock));
    EXPECT_EQ(again->ca_pem(), ca->ca_pem());
  }
  // Neither the PEM nor the DER of the key is anywhere in the files.
  ASSERT_OK_AND_ASSIGN(crypto::PrivateKey key,
                       crypto::PrivateKey::FromPem(key_pem));
  std::string der;
  std::string body = key_pem.substr(key_pem.find('\n') + 1);
  body = body.substr(0, body.find("-----"));
  ASSERT_TRUE(absl::Base64Unescape(body, &der));
  std::string files;
  for (const char* suffix : {"", "-wal"}) {
    if (access((path + suffix).c_str(), F_OK) == 0) {
      files += certfleet::testing::ReadFileOrDie(path + suffix);
    }
  }
  EXPECT_FALSE(absl::StrContains(files, "PRIVATE KEY"));
  EXPECT_FALSE(absl::StrContains(files, der));
  EXPECT_FALSE(absl::StrContains(files, body.substr(0, 40)));
  // The certificate, by contrast, is stored as it is.
  EXPECT_TRUE(absl::StrContains(files, "BEGIN CERTIFICATE"));
}

TEST_F(InternalCaTest, AgentCertificateFromACsr) {
  std::unique_ptr<InternalCa> ca = LoadOrDie();
  ASSERT_NE(ca, nullptr);
  const crypto::PrivateKey agent_key = NewKey();
  ASSERT_OK_AND_ASSIGN(
      std::string pem,
      ca->SignAgentCsr(CsrFor(agent_key), "agt-0a1b2c3d4e5f", absl::Hours(24)));
  const crypto::Certificate cert = ParseOrDie(pem);

  EXPECT_OK(VerifyForPurpose(pem, ca->ca_pem(), X509_PURPOSE_SSL_CLIENT,
                             clock_.Now()));
  // A client identity, not a server one.
  EXPECT_THAT(VerifyForPurpose(pem, ca->ca_pem(), X509_PURPOSE_SSL_SERVER,
                               clock_.Now()),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("unsuitable certificate purpose")));
  EXPECT_EQ(cert.SubjectCommonName(), "agt-0a1b2c3d4e5f");
  EXPECT_THAT(cert.UriNames(),
              ElementsAre("spiffe://certfleet/agent/agt-0a1b2c3d4e5f"));
  // The CSR's names are ignored.
  EXPECT_THAT(cert.DnsNames(), IsEmpty());
  EXPECT_EQ(X509_get_extended_key_usage(cert.raw()), XKU_SSL_CLIENT);
  EXPECT_EQ(X509_get_key_usage(cert.raw()), KU_DIGITAL_SIGNATURE);
  EXPECT_FALSE(cert.IsCa());
  EXPECT_EQ(cert.NotBefore(), clock_.Now() - absl::Minutes(5));
  EXPECT_EQ(cert.NotAfter(), clock_.Now() + absl::Hours(24));
  EXPECT_TRUE(CertifiesKey(pem, agent_key));
  EXPECT_THAT(InternalCa::AgentIdFromCertificate(cert),
              ::certfleet::testing::IsOk());
  EXPECT_EQ(*InternalCa::AgentIdFromCertificate(cert), "agt-0a1b2c3d4e5f");
  // After its lifetime, it no longer verifies.
  EXPECT_THAT(
      VerifyForPurpose(pem, ca->ca_pem(), X509_PURPOSE_SSL_CLIENT,
                       clock_.Now() + absl::Hours(24) + absl::Seconds(1)),
      StatusIs(absl::StatusCode::kPermissionDenied,
               HasSubstr("certificate has expired")));
}

TEST_F(InternalCaTest, AgentCertificateOfAnotherCaDoesNotVerify) {
  std::unique_ptr<InternalCa> ours = LoadOrDie();
  store::InMemoryStore other_store;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<InternalCa> theirs,
                       InternalCa::LoadOrCreate(other_store, kKek, clock_));
  ASSERT_OK_AND_ASSIGN(
      std::string pem,
      theirs->SignAgentCsr(CsrFor(NewKey()), "agt-1", absl::Hours(24)));
  EXPECT_THAT(VerifyForPurpose(pem, ours->ca_pem(), X509_PURPOSE_SSL_CLIENT,
                               clock_.Now()),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("unable to get local issuer certificate")));
}

TEST_F(InternalCaTest, BadRequestsAreRefused) {
  std::unique_ptr<InternalCa> ca = LoadOrDie();
  ASSERT_NE(ca, nullptr);
  const std::string csr = CsrFor(NewKey());
  EXPECT_THAT(
      ca->SignAgentCsr(TamperedCsr(csr), "agt-1", absl::Hours(24)),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("agent agt-1: CSR signature does not verify")));
  EXPECT_THAT(ca->SignAgentCsr("garbage", "agt-1", absl::Hours(24)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("agent agt-1: malformed CSR")));
  EXPECT_THAT(ca->SignAgentCsr(csr, "agt/../1", absl::Hours(24)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "\"agt/../1\" is not a valid agent id"));
  EXPECT_THAT(ca->SignAgentCsr(csr, "agt-1", absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is not positive")));
}

TEST_F(InternalCaTest, NothingOutlivesTheCa) {
  std::unique_ptr<InternalCa> ca = LoadOrDie();
  ASSERT_NE(ca, nullptr);
  const absl::Time ca_expiry = ca->certificate().NotAfter();
  clock_.SetTime(ca_expiry - absl::Hours(1));
  ASSERT_OK_AND_ASSIGN(
      std::string pem,
      ca->SignAgentCsr(CsrFor(NewKey()), "agt-1", absl::Hours(24)));
  EXPECT_EQ(ParseOrDie(pem).NotAfter(), ca_expiry);

  // An expired CA is not loaded: agents would reject everything it signs.
  clock_.SetTime(ca_expiry + absl::Seconds(1));
  EXPECT_THAT(
      InternalCa::LoadOrCreate(store_, kKek, clock_),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("expired at")));
}

TEST_F(InternalCaTest, ServerIdentityForTheNamesAgentsDial) {
  std::unique_ptr<InternalCa> ca = LoadOrDie();
  ASSERT_NE(ca, nullptr);
  ASSERT_OK_AND_ASSIGN(
      InternalCa::ServerIdentity identity,
      ca->IssueServerIdentity({"127.0.0.1", "Coordinator.Example.Test", "::1"},
                              absl::Hours(24)));
  const crypto::Certificate cert = ParseOrDie(identity.cert_pem);
  EXPECT_THAT(cert.IpAddresses(), ElementsAre("127.0.0.1", "::1"));
  EXPECT_THAT(cert.DnsNames(), ElementsAre("coordinator.example.test"));
  EXPECT_EQ(cert.SubjectCommonName(), "127.0.0.1");
  EXPECT_EQ(X509_get_extended_key_usage(cert.raw()), XKU_SSL_SERVER);
  EXPECT_OK(VerifyForPurpose(identity.cert_pem, ca->ca_pem(),
                             X509_PURPOSE_SSL_SERVER, clock_.Now()));
  EXPECT_THAT(VerifyForPurpose(identity.cert_pem, ca->ca_pem(),
                               X509_PURPOSE_SSL_CLIENT, clock_.Now()),
              StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_OK_AND_ASSIGN(crypto::PrivateKey key,
                       crypto::PrivateKey::FromPem(identity.key_pem));
  EXPECT_EQ(key.type(), crypto::KeyType::kEc256);
  EXPECT_TRUE(CertifiesKey(identity.cert_pem, key));
  // Whatever names it carries, it is no agent.
  EXPECT_THAT(InternalCa::AgentIdFromCertificate(cert),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("has no spiffe://certfleet/agent/<id> URI")));

  EXPECT_THAT(ca->IssueServerIdentity({}, absl::Hours(24)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("at least one name")));
  EXPECT_THAT(ca->IssueServerIdentity({"*.example.test"}, absl::Hours(24)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("neither an IP address nor a DNS name")));
}

TEST_F(InternalCaTest, AgentIdNeedsOneUriAgreeingWithTheCn) {
  const crypto::PrivateKey key = NewKey();
  auto self_signed = [&](const std::string& cn, std::vector<std::string> uris) {
    absl::StatusOr<crypto::Certificate> cert = crypto::SelfSignCertificate(
        {.common_name = cn,
         .uris = std::move(uris),
         .not_before = clock_.Now(),
         .not_after = clock_.Now() + absl::Hours(1)},
        key);
    EXPECT_OK(cert);
    return *cert;
  };
  EXPECT_THAT(
      InternalCa::AgentIdFromCertificate(
          self_signed("agt-2", {"spiffe://certfleet/agent/agt-1"})),
      StatusIs(absl::StatusCode::kPermissionDenied,
               HasSubstr("its URI names agent agt-1 but its CN is \"agt-2\"")));
  EXPECT_THAT(InternalCa::AgentIdFromCertificate(
                  self_signed("agt-1", {"spiffe://certfleet/agent/agt-1",
                                        "spiffe://certfleet/agent/agt-2"})),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("it names several agents (agt-1, agt-2)")));
  EXPECT_THAT(InternalCa::AgentIdFromCertificate(
                  self_signed("agt-1", {"https://example.test",
                                        "spiffe://certfleet/agent/"
                                        "agt-1"})),
              ::certfleet::testing::IsOk());
}

}  // namespace
}  // namespace certfleet::identity
