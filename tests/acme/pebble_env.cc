#include "tests/acme/pebble_env.h"

#include <cstdio>
#include <cstdlib>

#include "common/crypto/csr.h"
#include "common/status_macros.h"

namespace certfleet::testing {

std::unique_ptr<harness::PebbleServer> StartPebbleOrDie(
    harness::PebbleOptions options) {
  auto pebble = harness::PebbleServer::Start(std::move(options));
  if (!pebble.ok()) {
    fprintf(stderr, "cannot start pebble: %s\n",
            pebble.status().ToString().c_str());
    abort();
  }
  return std::move(*pebble);
}

PebbleClient MakeClient(const harness::PebbleServer& pebble,
                        acme::AcmeClientOptions options) {
  PebbleClient c;
  auto transport =
      acme::CurlTransport::Create({.trust_bundle = pebble.ca_bundle_path()});
  if (!transport.ok()) abort();
  c.transport = std::move(*transport);
  options.directory_url = pebble.directory_url();
  static SystemClock clock;
  c.client = std::make_unique<acme::AcmeClient>(options, *c.transport, clock);
  return c;
}

absl::StatusOr<IssuedCert> IssueWithoutDns(
    acme::AcmeClient& client, const std::vector<std::string>& names,
    crypto::KeyType key_type, bool alternates) {
  const Context ctx =
      Context::Background().WithDeadline(absl::Now() + absl::Seconds(60));
  ASSIGN_OR_RETURN(acme::Order order, client.NewOrder(names, {}, ctx));
  for (const std::string& url : order.authorizations) {
    ASSIGN_OR_RETURN(acme::Authorization authz,
                     client.GetAuthorization(url, ctx));
    if (authz.status == acme::AcmeStatus::kValid) continue;
    const acme::Challenge* ch = authz.Find("dns-01");
    if (ch == nullptr) return absl::InternalError("no dns-01 challenge");
    RETURN_IF_ERROR(client.AnswerChallenge(ch->url, ctx).status());
  }
  ASSIGN_OR_RETURN(
      order, client.PollOrder(order.url, {acme::AcmeStatus::kReady}, ctx));
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::PrivateKey::Generate(key_type));
  ASSIGN_OR_RETURN(std::string csr, crypto::BuildCsrDer(key, names));
  ASSIGN_OR_RETURN(order, client.Finalize(order, csr, ctx));
  if (order.status != acme::AcmeStatus::kValid) {
    ASSIGN_OR_RETURN(
        order, client.PollOrder(order.url, {acme::AcmeStatus::kValid}, ctx));
  }
  ASSIGN_OR_RETURN(
      std::vector<acme::CertificateChain> chains,
      client.DownloadCertificate(order.certificate, alternates, ctx));
  return IssuedCert{order, chains, key};
}

}  // namespace certfleet::testing
