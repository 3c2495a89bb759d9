#include "common/crypto/certificate.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/encoding.h"
#include "common/crypto/openssl_util.h"

namespace certfleet::crypto {

using internal::BioPtr;
using internal::OpenSslError;

namespace {

std::string NameToOneLine(const X509_NAME* name) {
  if (name == nullptr) return "";
  BioPtr bio(BIO_new(BIO_s_mem()));
  // RFC 2253 form, but keep UTF-8 readable instead of \XX-escaping it.
  X509_NAME_print_ex(bio.get(), name, 0,
                     XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return internal::BioToString(bio.get());
}

std::string CommonName(const X509_NAME* name) {
  if (name == nullptr) return "";
  const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return "";
  const ASN1_STRING* value =
      X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, value);
  if (len < 0) {
    ERR_clear_error();
    return "";
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

absl::Time Asn1TimeToAbsl(const ASN1_TIME* t) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return absl::InfinitePast();
  }
  return absl::FromTM(tm, absl::UTCTimeZone());
}

std::optional<std::string> OctetString(const ASN1_OCTET_STRING* s) {
  if (s == nullptr) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

absl::StatusOr<X509*> ParseDer(absl::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "malformed DER certificate");
  }
  const size_t used = static_cast<size_t>(
      p - reinterpret_cast<const unsigned char*>(der.data()));
  if (used != der.size()) {
    X509_free(x);
    return absl::InvalidArgumentError(absl::StrCat(
        "DER certificate followed by ", der.size() - used, " extra bytes"));
  }
  return x;
}

}  // namespace

Certificate Certificate::Adopt(X509* x509) {
  return Certificate(std::shared_ptr<X509>(x509, X509_free));
}

Certificate Certificate::FromRaw(X509* x509) {
  X509_up_ref(x509);
  return Adopt(x509);
}

absl::StatusOr<Certificate> Certificate::FromPem(absl::string_view pem) {
  BioPtr bio = internal::MemBio(pem);
  X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (x == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "no parsable CERTIFICATE block in PEM text");
  }
  return Adopt(x);
}

absl::StatusOr<Certificate> Certificate::FromDer(absl::string_view der) {
  absl::StatusOr<X509*> x = ParseDer(der);
  if (!x.ok()) return x.status();
  return Adopt(*x);
}

absl::StatusOr<std::vector<std::string>> Certificate::PemChainToDer(
    absl::string_view pem) {
  BioPtr bio = internal::MemBio(pem);
  std::vector<std::string> out;
  ERR_clear_error();
  while (true) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      const unsigned long err = ERR_peek_last_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM &&
          ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        ERR_clear_error();  // Plain end of input.
        break;
      }
      return OpenSslError(absl::StatusCode::kInvalidArgument,
                          absl::StrCat("certificate ", out.size() + 1,
                                       " in PEM text: malformed PEM block"));
    }
    const std::string block_name = name;
    std::string der(reinterpret_cast<char*>(data), static_cast<size_t>(len));
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (block_name != PEM_STRING_X509 && block_name != PEM_STRING_X509_OLD) {
      continue;  // A key or parameters in a combined file.
    }
    out.push_back(std::move(der));
  }
  if (out.empty()) {
    return absl::InvalidArgumentError("no CERTIFICATE block in PEM text");
  }
  return out;
}

absl::StatusOr<std::vector<Certificate>> Certificate::ParsePemChain(
    absl::string_view pem) {
  absl::StatusOr<std::vector<std::string>> ders = PemChainToDer(pem);
  if (!ders.ok()) return ders.status();
  std::vector<Certificate> out;
  out.reserve(ders->size());
  for (const std::string& der : *ders) {
    absl::StatusOr<X509*> x = ParseDer(der);
    if (!x.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("certificate ", out.size() + 1,
                       " in PEM text: ", x.status().message()));
    }
    out.push_back(Adopt(*x));
  }
  return out;
}

std::string Certificate::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x509_.get());
  return internal::BioToString(bio.get());
}

std::string Certificate::ToDer() const {
  unsigned char* buf = nullptr;
  const int len = i2d_X509(x509_.get(), &buf);
  if (len <= 0) return "";
  std::string out(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  return out;
}

std::string Certificate::SerialHex() const {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(x509_.get());
  internal::BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return "";
  // Minimal magnitude bytes; a zero serial gives one zero byte: "00".
  return HexEncode(internal::BignumBytes(bn.get()));
}

std::string Certificate::SerialDerContent() const {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(x509_.get());
  unsigned char* buf = nullptr;
  const int len = i2d_ASN1_INTEGER(serial, &buf);
  if (len < 2) {
    OPENSSL_free(buf);
    return "";
  }
  // Skip the tag and the (short or long form) length octets.
  size_t offset = 2;
  if (buf[1] & 0x80) offset += buf[1] & 0x7f;
  std::string out;
  if (offset <= static_cast<size_t>(len)) {
    out.assign(reinterpret_cast<char*>(buf) + offset, len - offset);
  }
  OPENSSL_free(buf);
  return out;
}

absl::Time Certificate::NotBefore() const {
  return Asn1TimeToAbsl(X509_get0_notBefore(x509_.get()));
}

absl::Time Certificate::NotAfter() const {
  return Asn1TimeToAbsl(X509_get0_notAfter(x509_.get()));
}

std::vector<std::string> Certificate::DnsNames() const {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(x509_.get(), NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = gn->d.dNSName;
    std::string name(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                     static_cast<size_t>(ASN1_STRING_length(dns)));
    out.push_back(absl::AsciiStrToLower(name));
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::vector<std::string> Certificate::UriNames() const {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(x509_.get(), NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = gn->d.uniformResourceIdentifier;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                     static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::vector<std::string> Certificate::IpAddresses() const {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(x509_.get(), NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != GEN_IPADD) continue;
    const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
    const int len = ASN1_STRING_length(ip);
    char text[INET6_ADDRSTRLEN] = {0};
    const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : -1;
    if (family < 0 || inet_ntop(family, ASN1_STRING_get0_data(ip), text,
                                sizeof text) == nullptr) {
      continue;  // not an address (a name constraint's address/mask form)
    }
    out.emplace_back(text);
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string Certificate::SubjectCommonName() const {
  return CommonName(X509_get_subject_name(x509_.get()));
}

std::string Certificate::IssuerCommonName() const {
  return CommonName(X509_get_issuer_name(x509_.get()));
}

std::string Certificate::SubjectDn() const {
  return NameToOneLine(X509_get_subject_name(x509_.get()));
}

std::string Certificate::IssuerDn() const {
  return NameToOneLine(X509_get_issuer_name(x509_.get()));
}

std::optional<std::string> Certificate::AuthorityKeyId() const {
  // X509_get0_*_key_id cache the decoded extensions on the X509 (under
  // OpenSSL's own lock), so this is safe on a shared certificate.
  return OctetString(X509_get0_authority_key_id(x509_.get()));
}

std::optional<std::string> Certificate::SubjectKeyId() const {
  return OctetString(X509_get0_subject_key_id(x509_.get()));
}

bool Certificate::IsCa() const {
  return (X509_get_extension_flags(x509_.get()) & EXFLAG_CA) != 0;
}

std::string Certificate::Sha256Fingerprint() const {
  return HexEncode(Sha256(ToDer()));
}

}  // namespace certfleet::crypto
