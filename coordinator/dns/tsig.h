// TSIG (RFC 8945): HMAC signatures on DNS messages with a shared secret, as
// used to authenticate RFC 2136 dynamic updates. Works on wire-format bytes.
//
// Written here rather than taken from ldns because ldns 1.8.3 cannot sign
// with hmac-sha384 (its algorithm table misspells the name) and does not
// expose the TSIG error code of a rejected request, which the operator needs
// to tell a wrong secret (BADSIG) from an unknown key (BADKEY).
//
//   ASSIGN_OR_RETURN(TsigKey key, TsigKey::Create("certfleet", "hmac-sha256",
//                                                 secret_base64));
//   std::string wire = ...;                       // an unsigned message
//   ASSIGN_OR_RETURN(std::string mac, TsigSign(key, absl::Now(), &wire));
//   ... send wire, receive reply ...
//   TsigResult r = TsigVerifyResponse(key, mac, reply, absl::Now());
#ifndef CERTFLEET_COORDINATOR_DNS_TSIG_H_
#define CERTFLEET_COORDINATOR_DNS_TSIG_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certfleet::dns {

// TSIG error codes (RFC 8945 §3, IANA "DNS RCODEs").
inline constexpr uint16_t kTsigBadSig = 16;
inline constexpr uint16_t kTsigBadKey = 17;
inline constexpr uint16_t kTsigBadTime = 18;

// "BADSIG", "BADKEY", "BADTIME", ... or the number.
std::string TsigErrorName(uint16_t error);

struct TsigKey {
  std::string name;       // canonical: "certfleet."
  std::string algorithm;  // canonical: "hmac-sha256."
  std::string secret;     // raw bytes (decoded from base64)

  // Validates and canonicalizes. `algorithm` is one of hmac-sha256,
  // hmac-sha384, hmac-sha512 (with or without the trailing dot);
  // kInvalidArgument names the field that is wrong.
  static absl::StatusOr<TsigKey> Create(absl::string_view name,
                                        absl::string_view algorithm,
                                        absl::string_view secret_base64);
};

// Signs `message` in place (RFC 8945 §4.2, §4.3.3): appends the TSIG RR and
// increments ARCOUNT. Returns the MAC, needed to verify the reply. A server
// signing a reply passes the request's MAC as `request_mac` (§4.3.1).
absl::StatusOr<std::string> TsigSign(const TsigKey& key, absl::Time now,
                                     std::string* message,
                                     absl::string_view request_mac = {});

// What the TSIG record of a reply says.
struct TsigResult {
  bool present = false;   // the reply carries a TSIG RR at all
  uint16_t error = 0;     // its TSIG error field (0 = NOERROR)
  bool verified = false;  // MAC and time checked out (RFC 8945 §5.3)
  std::string problem;    // why not verified, for error messages
};

// Checks the TSIG of a reply to a request whose MAC was `request_mac`
// (RFC 8945 §5.3: the request MAC is part of the reply's digest).
TsigResult TsigVerifyResponse(const TsigKey& key, absl::string_view request_mac,
                              absl::string_view reply, absl::Time now);

}  // namespace certfleet::dns

#endif  // CERTFLEET_COORDINATOR_DNS_TSIG_H_
