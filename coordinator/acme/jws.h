// JSON Web Signatures for ACME requests (RFC 8555 §6.2, RFC 7515 flattened
// JSON serialization). Built by hand rather than through a JSON library:
// this runs for every request, and the protected header's member order does
// not matter to servers.
//
//   ASSIGN_OR_RETURN(std::string body,
//                    SignRequest(key, kid, nonce, url,
//                    R"({"status":"deactivated"})"));
#ifndef CERTFLEET_COORDINATOR_ACME_JWS_H_
#define CERTFLEET_COORDINATOR_ACME_JWS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/private_key.h"

namespace certfleet::acme {

// A JSON string literal for `s`, with quotes and escapes.
std::string JsonQuote(absl::string_view s);

// The flattened JWS for one ACME request. With an empty `kid` the header
// carries the public key as "jwk" (newAccount, revocation by certificate
// key); otherwise "kid" (§6.2). An empty `payload` means POST-as-GET (§6.3).
absl::StatusOr<std::string> SignRequest(const crypto::PrivateKey& key,
                                        absl::string_view kid,
                                        absl::string_view nonce,
                                        absl::string_view url,
                                        absl::string_view payload);

// The externalAccountBinding member of a newAccount payload (§7.3.4): a JWS
// with alg HS256, kid = the CA-issued key id, url = the newAccount URL, over
// the account's public JWK, MACed with the CA-issued key (base64url).
absl::StatusOr<std::string> ExternalAccountBinding(
    const crypto::PrivateKey& account_key, absl::string_view eab_kid,
    absl::string_view hmac_key_base64url, absl::string_view new_account_url);

// The inner JWS of a key change (§7.3.5): signed by the new key, "jwk" = the
// new key, url = keyChange, payload {"account": kid, "oldKey": old JWK}.
absl::StatusOr<std::string> KeyChangeInner(const crypto::PrivateKey& new_key,
                                           const crypto::PrivateKey& old_key,
                                           absl::string_view account_url,
                                           absl::string_view key_change_url);

}  // namespace certfleet::acme

#endif  // CERTFLEET_COORDINATOR_ACME_JWS_H_
