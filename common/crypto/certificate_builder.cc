#include "common/crypto/certificate_builder.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/encoding.h"
#include "common/crypto/openssl_util.h"
#include "common/crypto/verify.h"
#include "common/status_macros.h"

namespace certfleet::crypto {

using internal::OpenSslError;
using internal::X509Ptr;

namespace {

// RFC 5280 Appendix A: ub-common-name INTEGER ::= 64.
constexpr size_t kMaxCommonName = 64;
// RFC 5280 §4.1.2.2: serials are at most 20 octets.
constexpr size_t kMaxSerialHexDigits = 40;

absl::Status Internal(absl::string_view what) {
  return OpenSslError(absl::StatusCode::kInternal,
                      absl::StrCat("build certificate: ", what));
}

bool IsIpAddress(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

absl::Status CheckSpec(const CertificateSpec& spec) {
  if (spec.not_after <= spec.not_before) {
    return absl::InvalidArgumentError(absl::StrCat(
        "certificate notAfter (", absl::FormatTime(spec.not_after),
        ") is not after notBefore (", absl::FormatTime(spec.not_before), ")"));
  }
  if (spec.common_name.size() > kMaxCommonName) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate common name \"", spec.common_name, "\" is ",
                     spec.common_name.size(), " characters; the limit is 64"));
  }
  for (const std::string& name : spec.dns_names) {
    if (name.empty()) {
      return absl::InvalidArgumentError("certificate DNS name is empty");
    }
  }
  for (const std::string& ip : spec.ip_addresses) {
    if (!IsIpAddress(ip)) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", ip, "\" is not an IPv4 or IPv6 address"));
    }
  }
  for (const std::string& uri : spec.uris) {
    if (uri.empty()) {
      return absl::InvalidArgumentError("certificate URI is empty");
    }
  }
  if (!spec.serial_hex.empty()) {
    bool hex = spec.serial_hex.size() <= kMaxSerialHexDigits;
    for (char c : spec.serial_hex) hex = hex && absl::ascii_isxdigit(c);
    if (!hex || spec.serial_hex.find_first_not_of('0') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("certificate serial \"", spec.serial_hex,
                       "\" is not 1-40 hex digits with a non-zero value"));
    }
  }
  if (!spec.is_ca && spec.path_length >= 0) {
    return absl::InvalidArgumentError(
        "a path length constraint needs a CA certificate");
  }
  return absl::OkStatus();
}

absl::Status SetSerial(X509* x, const std::string& serial_hex) {
  std::string hex = serial_hex;
  if (hex.empty()) {
    std::string bytes = RandomBytes(16);
    // Positive (RFC 5280 §4.1.2.2) and always 16 bytes long.
    bytes[0] = static_cast<char>((bytes[0] & 0x7f) | 0x40);
    hex = HexEncode(bytes);
  }
  BIGNUM* raw = nullptr;
  if (BN_hex2bn(&raw, hex.c_str()) <= 0) return Internal("parse serial");
  internal::BignumPtr bn(raw);
  if (BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x)) == nullptr) {
    return Internal("set serial");
  }
  return absl::OkStatus();
}

absl::Status AddExtension(X509* x, int nid, void* value, bool critical) {
  if (X509_add1_ext_i2d(x, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT) !=
      1) {
    return Internal(absl::StrCat("add extension ", OBJ_nid2sn(nid)));
  }
  return absl::OkStatus();
}

// A GENERAL_NAME holding an IA5String (dNSName, uniformResourceIdentifier).
GENERAL_NAME* Ia5Name(int type, const std::string& text) {
  ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
  GENERAL_NAME* gn = GENERAL_NAME_new();
  if (ia5 == nullptr || gn == nullptr ||
      ASN1_STRING_set(ia5, text.data(), static_cast<int>(text.size())) != 1) {
    ASN1_IA5STRING_free(ia5);
    GENERAL_NAME_free(gn);
    return nullptr;
  }
  GENERAL_NAME_set0_value(gn, type, ia5);
  return gn;
}

GENERAL_NAME* IpName(const std::string& text) {
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(text.c_str());
  GENERAL_NAME* gn = GENERAL_NAME_new();
  if (ip == nullptr || gn == nullptr) {
    ASN1_OCTET_STRING_free(ip);
    GENERAL_NAME_free(gn);
    return nullptr;
  }
  GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
  return gn;
}

absl::Status AddSubjectAltName(X509* x, const CertificateSpec& spec) {
  if (spec.dns_names.empty() && spec.ip_addresses.empty() &&
      spec.uris.empty()) {
    return absl::OkStatus();
  }
  std::unique_ptr<GENERAL_NAMES, void (*)(GENERAL_NAMES*)> names(
      GENERAL_NAMES_new(), GENERAL_NAMES_free);
  auto push = [&](GENERAL_NAME* gn) {
    if (gn == nullptr) return false;
    if (sk_GENERAL_NAME_push(names.get(), gn) <= 0) {
      GENERAL_NAME_free(gn);
      return false;
    }
    return true;
  };
  for (const std::string& dns : spec.dns_names) {
    if (!push(Ia5Name(GEN_DNS, dns))) return Internal("add dNSName");
  }
  for (const std::string& ip : spec.ip_addresses) {
    if (!push(IpName(ip))) return Internal("add iPAddress");
  }
  for (const std::string& uri : spec.uris) {
    if (!push(Ia5Name(GEN_URI, uri))) return Internal("add URI");
  }
  // Critical only when the subject is empty (RFC 5280 §4.2.1.6).
  return AddExtension(x, NID_subject_alt_name, names.get(),
                      spec.common_name.empty());
}

absl::Status AddConstraintsAndUsages(X509* x, const CertificateSpec& spec) {
  {
    std::unique_ptr<BASIC_CONSTRAINTS, void (*)(BASIC_CONSTRAINTS*)> bc(
        BASIC_CONSTRAINTS_new(), BASIC_CONSTRAINTS_free);
    if (bc == nullptr) return Internal("basicConstraints");
    bc->ca = spec.is_ca ? 0xff : 0;
    if (spec.is_ca && spec.path_length >= 0) {
      bc->pathlen = ASN1_INTEGER_new();
      if (bc->pathlen == nullptr ||
          ASN1_INTEGER_set(bc->pathlen, spec.path_length) != 1) {
        return Internal("pathLenConstraint");
      }
    }
    RETURN_IF_ERROR(AddExtension(x, NID_basic_constraints, bc.get(), true));
  }
  {
    std::unique_ptr<ASN1_BIT_STRING, void (*)(ASN1_BIT_STRING*)> usage(
        ASN1_BIT_STRING_new(), ASN1_BIT_STRING_free);
    if (usage == nullptr) return Internal("keyUsage");
    const std::pair<bool, int> bits[] = {{spec.key_usage.digital_signature, 0},
                                         {spec.key_usage.key_encipherment, 2},
                                         {spec.key_usage.key_cert_sign, 5},
                                         {spec.key_usage.crl_sign, 6}};
    bool any = false;
    for (const auto& [set, bit] : bits) {
      if (!set) continue;
      any = true;
      if (ASN1_BIT_STRING_set_bit(usage.get(), bit, 1) != 1) {
        return Internal("keyUsage bit");
      }
    }
    if (any) {
      RETURN_IF_ERROR(AddExtension(x, NID_key_usage, usage.get(), true));
    }
  }
  if (!spec.extended_key_usage.empty()) {
    std::unique_ptr<EXTENDED_KEY_USAGE, void (*)(EXTENDED_KEY_USAGE*)> eku(
        sk_ASN1_OBJECT_new_null(), EXTENDED_KEY_USAGE_free);
    if (eku == nullptr) return Internal("extendedKeyUsage");
    for (ExtendedKeyUsage purpose : spec.extended_key_usage) {
      // OBJ_nid2obj returns a static object: nothing to free.
      ASN1_OBJECT* oid = OBJ_nid2obj(purpose == ExtendedKeyUsage::kServerAuth
                                         ? NID_server_auth
                                         : NID_client_auth);
      if (oid == nullptr || sk_ASN1_OBJECT_push(eku.get(), oid) <= 0) {
        return Internal("extendedKeyUsage purpose");
      }
    }
    RETURN_IF_ERROR(AddExtension(x, NID_ext_key_usage, eku.get(), false));
  }
  return absl::OkStatus();
}

// SHA-1 of the subjectPublicKey BIT STRING (RFC 5280 §4.2.1.2, method 1).
absl::StatusOr<std::string> SubjectKeyId(X509* x) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_pubkey_digest(x, EVP_sha1(), digest, &len) != 1) {
    return Internal("hash the public key");
  }
  return std::string(reinterpret_cast<char*>(digest), len);
}

absl::Status AddKeyIds(X509* x, const std::string& ski,
                       const std::string& aki) {
  auto octets = [](const std::string& bytes) {
    ASN1_OCTET_STRING* s = ASN1_OCTET_STRING_new();
    if (s != nullptr &&
        ASN1_OCTET_STRING_set(
            s, reinterpret_cast<const unsigned char*>(bytes.data()),
            static_cast<int>(bytes.size())) != 1) {
      ASN1_OCTET_STRING_free(s);
      return static_cast<ASN1_OCTET_STRING*>(nullptr);
    }
    return s;
  };
  std::unique_ptr<ASN1_OCTET_STRING, void (*)(ASN1_OCTET_STRING*)> ski_ext(
      octets(ski), ASN1_OCTET_STRING_free);
  if (ski_ext == nullptr) return Internal("subjectKeyIdentifier");
  RETURN_IF_ERROR(
      AddExtension(x, NID_subject_key_identifier, ski_ext.get(), false));
  std::unique_ptr<AUTHORITY_KEYID, void (*)(AUTHORITY_KEYID*)> akid(
      AUTHORITY_KEYID_new(), AUTHORITY_KEYID_free);
  if (akid == nullptr) return Internal("authorityKeyIdentifier");
  akid->keyid = octets(aki);  // owned by akid from here
  if (akid->keyid == nullptr) return Internal("authorityKeyIdentifier");
  return AddExtension(x, NID_authority_key_identifier, akid.get(), false);
}

// Builds and signs. `issuer` null: self-signed by `signer`.
absl::StatusOr<Certificate> Build(const CertificateSpec& spec,
                                  EVP_PKEY* subject_key,
                                  const Certificate* issuer,
                                  const PrivateKey& signer) {
  RETURN_IF_ERROR(CheckSpec(spec));
  X509Ptr x(X509_new());
  if (x == nullptr) return Internal("X509_new");
  if (X509_set_version(x.get(), X509_VERSION_3) != 1) {
    return Internal("set version");
  }
  RETURN_IF_ERROR(SetSerial(x.get(), spec.serial_hex));
  if (ASN1_TIME_set(X509_getm_notBefore(x.get()),
                    absl::ToTimeT(spec.not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x.get()),
                    absl::ToTimeT(spec.not_after)) == nullptr) {
    return Internal("set validity");
  }
  if (!spec.common_name.empty() &&
      X509_NAME_add_entry_by_NID(
          X509_get_subject_name(x.get()), NID_commonName, MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(spec.common_name.data()),
          static_cast<int>(spec.common_name.size()), -1, 0) != 1) {
    return Internal("set common name");
  }
  const X509_NAME* issuer_name = issuer != nullptr
                                     ? X509_get_subject_name(issuer->raw())
                                     : X509_get_subject_name(x.get());
  if (X509_set_issuer_name(x.get(), issuer_name) != 1) {
    return Internal("set issuer name");
  }
  if (X509_set_pubkey(x.get(), subject_key) != 1) {
    return Internal("set public key");
  }
  RETURN_IF_ERROR(AddConstraintsAndUsages(x.get(), spec));
  RETURN_IF_ERROR(AddSubjectAltName(x.get(), spec));
  ASSIGN_OR_RETURN(std::string ski, SubjectKeyId(x.get()));
  std::string aki = ski;
  if (issuer != nullptr) {
    std::optional<std::string> issuer_ski = issuer->SubjectKeyId();
    if (!issuer_ski.has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "issuer ", issuer->SubjectDn(), " has no Subject Key Identifier"));
    }
    aki = *issuer_ski;
  }
  RETURN_IF_ERROR(AddKeyIds(x.get(), ski, aki));
  const EVP_MD* md =
      signer.type() == KeyType::kEc384 ? EVP_sha384() : EVP_sha256();
  if (X509_sign(x.get(), signer.raw(), md) <= 0) return Internal("sign");
  return Certificate::FromRaw(x.get());
}

}  // namespace

absl::StatusOr<Certificate> IssueCertificate(const CertificateSpec& spec,
                                             const PublicKey& subject_key,
                                             const Certificate& issuer,
                                             const PrivateKey& issuer_key) {
  if (!issuer.IsCa()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "issuer ", issuer.SubjectDn(), " is not a CA certificate"));
  }
  RETURN_IF_ERROR(CheckKeyMatches(issuer_key, issuer));
  return Build(spec, subject_key.raw(), &issuer, issuer_key);
}

absl::StatusOr<Certificate> SelfSignCertificate(const CertificateSpec& spec,
                                                const PrivateKey& key) {
  return Build(spec, key.raw(), nullptr, key);
}

}  // namespace certfleet::crypto
