// Feeds: arbitrary text as a PEM chain to Certificate::ParsePemChain and
// PemChainToDer (a CA's download, a delivered bundle's chain, an agent's
// identity file), the same bytes as one DER certificate to FromDer, as a
// PEM private key to PrivateKey::FromPem and as a DER SubjectPublicKeyInfo
// to PublicKey::FromSubjectPublicKeyInfoDer.
// Checks, beyond no crash, leak or sanitizer report:
//  - ParsePemChain and PemChainToDer agree on the number of certificates;
//  - every parsed certificate survives DER and PEM round trips byte for
//    byte, and every accessor can be read (serial, validity, SANs, names,
//    key ids, fingerprint);
//  - a parsed private key survives a PKCS#8 PEM round trip with the same
//    type and public key;
//  - no OpenSSL error is left on the thread's queue (the next failure would
//    report it as its own cause).
#include <cstdint>
#include <string>
#include <vector>

#include "common/crypto/certificate.h"
#include "common/crypto/private_key.h"
#include "common/crypto/public_key.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/openssl_errors.h"

namespace {

using certfleet::crypto::Certificate;

void CheckCertificate(const Certificate& cert) {
  const std::string der = cert.ToDer();
  absl::StatusOr<Certificate> from_der = Certificate::FromDer(der);
  FUZZ_CHECK(from_der.ok() && from_der->ToDer() == der,
             "a parsed certificate survives a DER round trip");
  absl::StatusOr<Certificate> from_pem = Certificate::FromPem(cert.ToPem());
  FUZZ_CHECK(from_pem.ok() && from_pem->ToDer() == der,
             "a parsed certificate survives a PEM round trip");
  const std::string serial = cert.SerialHex();
  FUZZ_CHECK(!serial.empty() && serial.size() % 2 == 0,
             "the serial is even-length hex");
  (void)cert.SerialDerContent();
  (void)cert.NotBefore();
  (void)cert.NotAfter();
  (void)cert.DnsNames();
  (void)cert.UriNames();
  (void)cert.IpAddresses();
  (void)cert.SubjectCommonName();
  (void)cert.IssuerCommonName();
  (void)cert.SubjectDn();
  (void)cert.IssuerDn();
  (void)cert.AuthorityKeyId();
  (void)cert.SubjectKeyId();
  (void)cert.IsCa();
  FUZZ_CHECK(cert.Sha256Fingerprint().size() == 64,
             "the fingerprint is 32 bytes of hex");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  certfleet::fuzz::ReleaseOpenSslErrors release;
  using namespace certfleet::crypto;
  const absl::string_view input = certfleet::fuzz::AsView(data, size);

  absl::StatusOr<std::vector<Certificate>> chain =
      Certificate::ParsePemChain(input);
  absl::StatusOr<std::vector<std::string>> ders =
      Certificate::PemChainToDer(input);
  FUZZ_CHECK(ERR_peek_error() == 0, "no OpenSSL error is left on the queue");
  if (chain.ok()) {
    FUZZ_CHECK(ders.ok() && ders->size() == chain->size(),
               "PemChainToDer finds the certificates ParsePemChain parsed");
    for (const Certificate& cert : *chain) CheckCertificate(cert);
  }
  if (absl::StatusOr<Certificate> cert = Certificate::FromDer(input);
      cert.ok()) {
    CheckCertificate(*cert);
  }

  if (absl::StatusOr<PrivateKey> key = PrivateKey::FromPem(input); key.ok()) {
    absl::StatusOr<std::string> pem = key->ToPem();
    FUZZ_CHECK(pem.ok(), "a parsed key can be written as PKCS#8");
    absl::StatusOr<PrivateKey> back = PrivateKey::FromPem(*pem);
    FUZZ_CHECK(back.ok() && back->type() == key->type() &&
                   back->SubjectPublicKeyInfoDer().value_or("a") ==
                       key->SubjectPublicKeyInfoDer().value_or("b"),
               "a parsed key survives a PKCS#8 round trip");
  }
  if (absl::StatusOr<PublicKey> pub =
          PublicKey::FromSubjectPublicKeyInfoDer(input);
      pub.ok()) {
    absl::StatusOr<std::string> der = pub->SubjectPublicKeyInfoDer();
    FUZZ_CHECK(der.ok(), "a parsed public key can be written back");
  }
  FUZZ_CHECK(ERR_peek_error() == 0, "no OpenSSL error is left on the queue");
  return 0;
}
