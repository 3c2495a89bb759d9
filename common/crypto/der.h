// A minimal DER writer (X.690) for the few fixed structures certfleet emits
// on its hot path: PKCS#10 requests and PKCS#8 EC keys. OpenSSL 3.0 builds
// these through provider encoders and decoders that are set up afresh for
// every call, which cost more than all the rest of an ACME order on the
// coordinator; writing the bytes directly costs nothing. Parsing stays with
// OpenSSL.
//
//   std::string spki = der::Sequence({ec_algorithm, der::BitString(point)});
#ifndef CERTFLEET_COMMON_CRYPTO_DER_H_
#define CERTFLEET_COMMON_CRYPTO_DER_H_

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

namespace certfleet::crypto::der {

// Tag, definite length, contents.
std::string Tlv(uint8_t tag, absl::string_view contents);
// The concatenation of already encoded elements inside a SEQUENCE / SET.
std::string Sequence(std::initializer_list<absl::string_view> elements);
std::string Set(std::initializer_list<absl::string_view> elements);
// A non-negative INTEGER from big-endian magnitude bytes (leading zeros are
// dropped, a 0x00 is added when the high bit is set).
std::string UnsignedInteger(absl::string_view magnitude);
std::string SmallInteger(uint8_t value);
std::string OctetString(absl::string_view bytes);
// A BIT STRING with no unused bits.
std::string BitString(absl::string_view bytes);
std::string Null();
// From the encoded OID contents ("\x2a\x86\x48...").
std::string Oid(absl::string_view encoded);
std::string Utf8String(absl::string_view s);
// [n] with the given contents, constructed or primitive (IMPLICIT tagging:
// the caller passes the contents of the underlying type).
std::string Context(uint8_t n, bool constructed, absl::string_view contents);

// OID contents used by certfleet.
inline constexpr absl::string_view kOidEcPublicKey =
    "\x2a\x86\x48\xce\x3d\x02\x01";
inline constexpr absl::string_view kOidPrime256v1 =
    "\x2a\x86\x48\xce\x3d\x03\x01\x07";
// Explicit length: the contents hold a zero byte.
inline constexpr absl::string_view kOidSecp384r1("\x2b\x81\x04\x00\x22", 5);
inline constexpr absl::string_view kOidEcdsaSha256 =
    "\x2a\x86\x48\xce\x3d\x04\x03\x02";
inline constexpr absl::string_view kOidEcdsaSha384 =
    "\x2a\x86\x48\xce\x3d\x04\x03\x03";
inline constexpr absl::string_view kOidRsaEncryption =
    "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01";
inline constexpr absl::string_view kOidSha256WithRsa =
    "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b";
inline constexpr absl::string_view kOidCommonName = "\x55\x04\x03";
inline constexpr absl::string_view kOidExtensionRequest =
    "\x2a\x86\x48\x86\xf7\x0d\x01\x09\x0e";
inline constexpr absl::string_view kOidSubjectAltName = "\x55\x1d\x11";

}  // namespace certfleet::crypto::der

#endif  // CERTFLEET_COMMON_CRYPTO_DER_H_
