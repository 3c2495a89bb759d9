// One Pebble shared by all tests of a binary (started on first use, stopped
// at exit), plus helpers to drive a complete order through AcmeClient.
#ifndef CERTFLEET_TESTS_ACME_PEBBLE_ENV_H_
#define CERTFLEET_TESTS_ACME_PEBBLE_ENV_H_

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/crypto/private_key.h"
#include "coordinator/acme/acme_client.h"
#include "coordinator/acme/curl_transport.h"
#include "tests/harness/pebble_server.h"

namespace certfleet::testing {

// Starts Pebble with `options` or aborts the test binary with its log.
std::unique_ptr<harness::PebbleServer> StartPebbleOrDie(
    harness::PebbleOptions options);

// A client bound to a Pebble instance, with a fresh account of `key_type`.
struct PebbleClient {
  std::unique_ptr<acme::CurlTransport> transport;
  std::unique_ptr<acme::AcmeClient> client;
};
PebbleClient MakeClient(const harness::PebbleServer& pebble,
                        acme::AcmeClientOptions options = {});

// Runs a whole order for `names` on a Pebble that validates without DNS
// (always_valid): new order, answer every dns-01 challenge, finalize with a
// fresh key of `key_type`, download. Returns the PEM chain and the key.
struct IssuedCert {
  acme::Order order;
  std::vector<acme::CertificateChain> chains;
  crypto::PrivateKey key;
};
absl::StatusOr<IssuedCert> IssueWithoutDns(
    acme::AcmeClient& client, const std::vector<std::string>& names,
    crypto::KeyType key_type, bool alternates = false);

}  // namespace certfleet::testing

#endif  // CERTFLEET_TESTS_ACME_PEBBLE_ENV_H_
