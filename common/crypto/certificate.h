// An X.509 certificate: parsing (PEM, DER, whole chains), encoding and the
// fields certfleet needs (serial, validity, SAN names, names, key ids).
//
// Immutable and cheap to copy (copies share one X509 by reference count).
//
//   ASSIGN_OR_RETURN(std::vector<Certificate> chain,
//                    Certificate::ParsePemChain(fullchain_pem));
//   const Certificate& leaf = chain.front();
//   CF_LOG_INFO("serial %s expires %s", leaf.SerialHex(),
//               absl::FormatTime(leaf.NotAfter()));
#ifndef CERTFLEET_COMMON_CRYPTO_CERTIFICATE_H_
#define CERTFLEET_COMMON_CRYPTO_CERTIFICATE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

typedef struct x509_st X509;

namespace certfleet::crypto {

class Certificate {
 public:
  // The first CERTIFICATE block in `pem` (other blocks are skipped).
  // kInvalidArgument when there is none or it does not parse.
  static absl::StatusOr<Certificate> FromPem(absl::string_view pem);

  // One DER-encoded certificate, with nothing after it.
  static absl::StatusOr<Certificate> FromDer(absl::string_view der);

  // Every CERTIFICATE block in `pem`, in order (blocks of other types, such
  // as a private key in a combined file, are skipped). kInvalidArgument when
  // there is none or one is malformed ("certificate 2 of 3 ...", 1-based).
  // The DER of every CERTIFICATE block in `pem`, in order, without parsing
  // the certificates (other blocks are skipped). Errors as ParsePemChain.
  static absl::StatusOr<std::vector<std::string>> PemChainToDer(
      absl::string_view pem);
  static absl::StatusOr<std::vector<Certificate>> ParsePemChain(
      absl::string_view pem);

  // Takes a new reference to `x509` (X509_up_ref); the caller keeps its own.
  static Certificate FromRaw(X509* x509);

  std::string ToPem() const;
  std::string ToDer() const;

  // Lower-case hex of the serial's magnitude, even length, no leading zero
  // byte ("00" for a zero serial): "0a1b2c...".
  std::string SerialHex() const;

  // The content octets of the serial's DER INTEGER (two's complement, so a
  // leading 0x00 when the high bit is set), as RFC 9773 §4.1 uses them.
  std::string SerialDerContent() const;

  absl::Time NotBefore() const;
  absl::Time NotAfter() const;

  // subjectAltName dNSName entries in certificate order, lower-cased.
  std::vector<std::string> DnsNames() const;

  // subjectAltName uniformResourceIdentifier entries in certificate order,
  // as written ("spiffe://certfleet/agent/agt-0a1b2c3d4e5f").
  std::vector<std::string> UriNames() const;

  // subjectAltName iPAddress entries in certificate order, in text form
  // ("127.0.0.1", "::1").
  std::vector<std::string> IpAddresses() const;

  // The first commonName of the subject / issuer; "" when absent.
  std::string SubjectCommonName() const;
  std::string IssuerCommonName() const;

  // RFC 2253 one-line form, most specific first: "CN=leaf,O=Example".
  std::string SubjectDn() const;
  std::string IssuerDn() const;

  // The raw keyIdentifier of the Authority / Subject Key Identifier
  // extension; nullopt when the extension (or the field) is absent.
  std::optional<std::string> AuthorityKeyId() const;
  std::optional<std::string> SubjectKeyId() const;

  // basicConstraints cA is TRUE.
  bool IsCa() const;

  // Lower-case hex of SHA-256 over the DER encoding.
  std::string Sha256Fingerprint() const;

  // The underlying certificate, owned by this object (and its copies).
  X509* raw() const { return x509_.get(); }

 private:
  explicit Certificate(std::shared_ptr<X509> x509) : x509_(std::move(x509)) {}
  // Adopts one reference.
  static Certificate Adopt(X509* x509);

  std::shared_ptr<X509> x509_;
};

}  // namespace certfleet::crypto

#endif  // CERTFLEET_COMMON_CRYPTO_CERTIFICATE_H_
