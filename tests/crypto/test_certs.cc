#include "tests/crypto/test_certs.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>

#include "common/crypto/encoding.h"

namespace certfleet::crypto::testing {
namespace {

[[noreturn]] void Die(const char* what) {
  fprintf(stderr, "test_certs: %s failed:", what);
  ERR_print_errors_fp(stderr);
  fprintf(stderr, "\n");
  abort();
}

void Check(bool ok, const char* what) {
  if (!ok) Die(what);
}

void SetCommonName(X509_NAME* name, const std::string& cn) {
  if (cn.empty()) return;
  Check(X509_NAME_add_entry_by_NID(
            name, NID_commonName, MBSTRING_UTF8,
            reinterpret_cast<const unsigned char*>(cn.data()),
            static_cast<int>(cn.size()), -1, 0) == 1,
        "set common name");
}

void AddExtension(X509* x, int nid, void* value, int critical) {
  Check(X509_add1_ext_i2d(x, nid, value, critical, X509V3_ADD_DEFAULT) == 1,
        "add extension");
}

ASN1_OCTET_STRING* OctetString(const std::string& bytes) {
  ASN1_OCTET_STRING* s = ASN1_OCTET_STRING_new();
  Check(s != nullptr &&
            ASN1_OCTET_STRING_set(
                s, reinterpret_cast<const unsigned char*>(bytes.data()),
                static_cast<int>(bytes.size())) == 1,
        "build octet string");
  return s;
}

void SetSerial(X509* x, const std::string& serial_hex) {
  const std::string hex =
      serial_hex.empty() ? HexEncode(RandomBytes(16)) : serial_hex;
  BIGNUM* bn = nullptr;
  Check(BN_hex2bn(&bn, hex.c_str()) > 0, "parse serial hex");
  Check(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != nullptr,
        "set serial");
  BN_free(bn);
}

}  // namespace

PrivateKey GenerateKeyOrDie(KeyType type) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(type);
  if (!key.ok()) {
    fprintf(stderr, "test_certs: %s\n", key.status().ToString().c_str());
    abort();
  }
  return *std::move(key);
}

Certificate IssueCertificateOrDie(const CertSpec& spec) {
  Check(spec.subject_key != nullptr, "CertSpec.subject_key");
  Check((spec.issuer == nullptr) == (spec.issuer_key == nullptr),
        "CertSpec issuer and issuer_key together");
  X509* x = X509_new();
  Check(x != nullptr, "X509_new");
  Check(X509_set_version(x, X509_VERSION_3) == 1, "set version");
  SetSerial(x, spec.serial_hex);
  Check(ASN1_TIME_set(X509_getm_notBefore(x), absl::ToTimeT(spec.not_before)) !=
            nullptr,
        "set notBefore");
  Check(ASN1_TIME_set(X509_getm_notAfter(x), absl::ToTimeT(spec.not_after)) !=
            nullptr,
        "set notAfter");
  SetCommonName(X509_get_subject_name(x), spec.common_name);
  Check(X509_set_issuer_name(x, spec.issuer != nullptr
                                    ? X509_get_subject_name(spec.issuer->raw())
                                    : X509_get_subject_name(x)) == 1,
        "set issuer");
  Check(X509_set_pubkey(x, spec.subject_key->raw()) == 1, "set public key");

  BASIC_CONSTRAINTS* bc = BASIC_CONSTRAINTS_new();
  bc->ca = spec.is_ca ? 0xff : 0;
  AddExtension(x, NID_basic_constraints, bc, 1);
  BASIC_CONSTRAINTS_free(bc);

  ASN1_BIT_STRING* usage = ASN1_BIT_STRING_new();
  if (spec.is_ca) {
    ASN1_BIT_STRING_set_bit(usage, 5, 1);  // keyCertSign
    ASN1_BIT_STRING_set_bit(usage, 6, 1);  // cRLSign
  } else {
    ASN1_BIT_STRING_set_bit(usage, 0, 1);  // digitalSignature
    ASN1_BIT_STRING_set_bit(usage, 2, 1);  // keyEncipherment
  }
  AddExtension(x, NID_key_usage, usage, 1);
  ASN1_BIT_STRING_free(usage);

  // SKI: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1).
  unsigned char ski_buf[EVP_MAX_MD_SIZE];
  unsigned int ski_len = 0;
  Check(X509_pubkey_digest(x, EVP_sha1(), ski_buf, &ski_len) == 1,
        "hash public key");
  const std::string ski(reinterpret_cast<char*>(ski_buf), ski_len);
  ASN1_OCTET_STRING* ski_ext = OctetString(ski);
  AddExtension(x, NID_subject_key_identifier, ski_ext, 0);
  ASN1_OCTET_STRING_free(ski_ext);

  if (!spec.omit_authority_key_id) {
    std::string aki = ski;  // Self-signed: the issuer is itself.
    if (spec.authority_key_id.has_value()) {
      aki = *spec.authority_key_id;
    } else if (spec.issuer != nullptr) {
      aki = spec.issuer->SubjectKeyId().value_or("");
    }
    AUTHORITY_KEYID* akid = AUTHORITY_KEYID_new();
    akid->keyid = OctetString(aki);
    AddExtension(x, NID_authority_key_identifier, akid, 0);
    AUTHORITY_KEYID_free(akid);
  }

  if (!spec.dns_names.empty()) {
    GENERAL_NAMES* names = GENERAL_NAMES_new();
    for (const std::string& dns : spec.dns_names) {
      ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
      Check(ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size())) == 1,
            "set dNSName");
      GENERAL_NAME* gn = GENERAL_NAME_new();
      GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
      sk_GENERAL_NAME_push(names, gn);
    }
    AddExtension(x, NID_subject_alt_name, names, 0);
    GENERAL_NAMES_free(names);
  }

  const PrivateKey& signer =
      spec.issuer_key != nullptr ? *spec.issuer_key : *spec.subject_key;
  const EVP_MD* md =
      signer.type() == KeyType::kEc384 ? EVP_sha384() : EVP_sha256();
  Check(X509_sign(x, signer.raw(), md) > 0, "sign certificate");
  Certificate cert = Certificate::FromRaw(x);
  X509_free(x);
  return cert;
}

TestCa TestCa::Create(const std::string& name, KeyType key_type) {
  const absl::Time start = absl::FromUnixSeconds(1'577'836'800);  // 2020-01-01
  const absl::Time end = absl::FromUnixSeconds(2'840'140'800);    // 2060-01-01
  PrivateKey root_key = GenerateKeyOrDie(key_type);
  Certificate root = IssueCertificateOrDie({.common_name = name + " Root",
                                            .subject_key = &root_key,
                                            .is_ca = true,
                                            .not_before = start,
                                            .not_after = end});
  PrivateKey intermediate_key = GenerateKeyOrDie(key_type);
  Certificate intermediate =
      IssueCertificateOrDie({.common_name = name + " Intermediate",
                             .subject_key = &intermediate_key,
                             .issuer = &root,
                             .issuer_key = &root_key,
                             .is_ca = true,
                             .not_before = start,
                             .not_after = end});
  return TestCa(std::move(root), std::move(root_key), std::move(intermediate),
                std::move(intermediate_key));
}

IssuedCert TestCa::IssueLeaf(const LeafOptions& options) const {
  PrivateKey key = options.key.has_value() ? *options.key : GenerateKeyOrDie();
  std::string cn = options.common_name;
  if (cn.empty() && !options.dns_names.empty()) cn = options.dns_names.front();
  if (cn.size() > 64) cn.clear();  // RFC 5280 ub-common-name.
  Certificate cert = IssueCertificateOrDie(
      {.common_name = cn,
       .dns_names = options.dns_names,
       .subject_key = &key,
       .issuer = &intermediate_,
       .issuer_key = &intermediate_key_,
       .not_before = options.not_before,
       .not_after = options.not_after,
       .serial_hex = options.serial_hex,
       .authority_key_id = options.authority_key_id,
       .omit_authority_key_id = options.omit_authority_key_id});
  return IssuedCert{std::move(cert), std::move(key)};
}

std::string TestCa::ChainPem(const Certificate& leaf) const {
  return leaf.ToPem() + intermediate_.ToPem();
}

}  // namespace certfleet::crypto::testing
