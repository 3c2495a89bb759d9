#include "tests/coordinator/lab_env.h"

#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/private_key.h"
#include "coordinator/acme/acme_client.h"
#include "coordinator/acme/curl_transport.h"
#include "coordinator/dns/ldns_resolver.h"
#include "coordinator/issuance/issuer.h"

namespace certfleet::testing {

harness::BindOptions LabBindOptions() {
  harness::BindOptions options;
  options.resolve_cnames = true;
  options.zones.push_back({.name = "example.test"});
  options.zones.push_back({.name = "validation.test"});
  options.zones.push_back(
      {.name = "other.test",
       .extra_records = {"_acme-challenge.shop CNAME "
                         "_acme-challenge.shop.validation.test."}});
  return options;
}

Lab& SharedLab() {
  static Lab* lab = [] {
    auto* l = new Lab;
    auto bind = harness::BindServer::Start(LabBindOptions());
    if (!bind.ok()) {
      fprintf(stderr, "cannot start BIND9: %s\n",
              bind.status().ToString().c_str());
      abort();
    }
    l->bind = std::move(*bind);
    auto pebble =
        harness::PebbleServer::Start({.dns_server = l->bind->address()});
    if (!pebble.ok()) {
      fprintf(stderr, "cannot start Pebble: %s\n",
              pebble.status().ToString().c_str());
      abort();
    }
    l->pebble = std::move(*pebble);
    // Stopped by PID when the test binary exits, also after a failure.
    atexit([] {
      Lab& shared = SharedLab();
      shared.pebble.reset();
      shared.bind.reset();
    });
    return l;
  }();
  return *lab;
}

config::IssuerConfig LabIssuer(const harness::PebbleServer& pebble) {
  config::IssuerConfig issuer;
  issuer.name = "pebble";
  issuer.directory_url = pebble.directory_url();
  issuer.trust_bundle = pebble.ca_bundle_path();
  issuer.contacts = {"mailto:ops@example.test"};
  issuer.new_orders_per_window = 0;
  issuer.requests_per_second = 0;
  issuer.order_timeout = absl::Seconds(60);
  return issuer;
}

config::DnsProviderConfig LabProvider(const harness::BindServer& bind,
                                      std::vector<std::string> zones) {
  config::DnsProviderConfig p;
  p.name = "lab-bind";
  p.type = "rfc2136";
  p.zones = std::move(zones);
  p.rfc2136.server = bind.address();
  p.rfc2136.tsig_key_name = bind.tsig_key_name();
  p.rfc2136.tsig_algorithm = bind.tsig_algorithm();
  p.rfc2136.tsig_secret = bind.tsig_secret();
  return p;
}

std::vector<std::string> TxtValues(const harness::BindServer& bind,
                                   const std::string& fqdn) {
  dns::LdnsResolver resolver({.recursion_desired = false});
  auto answer = resolver.Query(
      fqdn, dns::RrType::kTXT, bind.address(),
      Context::Background().WithDeadline(absl::Now() + absl::Seconds(5)));
  std::vector<std::string> values;
  if (!answer.ok())
    return {"<query failed: " + answer.status().ToString() + ">"};
  for (const dns::Rr& rr : answer->answer) {
    if (rr.type == dns::RrType::kTXT) values.push_back(rr.data);
  }
  return values;
}

std::string LabCoordinatorYaml(const std::string& store_yaml,
                               const std::string& kek_path,
                               const std::vector<CertSpec>& certs,
                               const harness::PebbleServer* pebble,
                               const std::string& extra) {
  const Lab& lab = SharedLab();
  if (pebble == nullptr) pebble = lab.pebble.get();
  std::string yaml = absl::StrCat(
      store_yaml, "key_encryption_key_file: ", kek_path, "\n",
      "dns:\n  resolvers: [\"", lab.bind->address(), "\"]\n",
      "  nameserver_port: ", lab.bind->port(), "\n",
      "  propagation_interval: 20ms\n  propagation_timeout: 20s\n",
      "scheduler:\n  retry_initial: 10m\n",
      "issuers:\n  - name: pebble\n    directory: ", pebble->directory_url(),
      "\n", "    trust_bundle: ", pebble->ca_bundle_path(), "\n",
      "    contact: [ops@example.test]\n",
      "    limits: {new_orders_per_window: 0}\n",
      "    request_timeout: 5s\n    order_timeout: 60s\n",
      "dns_providers:\n  - name: lab-bind\n    type: rfc2136\n",
      "    zones: [example.test, validation.test]\n",
      "    rfc2136:\n      server: \"", lab.bind->address(), "\"\n",
      "      tsig_key_name: ", lab.bind->tsig_key_name(), "\n",
      "      tsig_secret: ", lab.bind->tsig_secret(), "\n", extra,
      "certificates:\n");
  for (const CertSpec& c : certs) {
    absl::StrAppend(&yaml, "  - name: ", c.name, "\n    names: [\"",
                    absl::StrJoin(c.names, "\", \""), "\"]\n",
                    "    issuer: pebble\n");
  }
  return yaml;
}

int PebbleOrdersFor(store::Store& store, const crypto::Kek& kek,
                    const std::string& name,
                    const harness::PebbleServer* pebble) {
  if (pebble == nullptr) pebble = SharedLab().pebble.get();
  auto account = store.GetAccount("pebble");
  if (!account.ok() || !account->has_value()) return -1;
  auto pem =
      kek.Open((*account)->key_sealed, issuance::AccountKeyAad("pebble"));
  if (!pem.ok()) return -1;
  auto key = crypto::PrivateKey::FromPem(*pem);
  if (!key.ok()) return -1;
  auto transport =
      acme::CurlTransport::Create({.trust_bundle = pebble->ca_bundle_path()});
  if (!transport.ok()) return -2;
  SystemClock clock;
  acme::AcmeClient client({.directory_url = pebble->directory_url()},
                          **transport, clock);
  client.SetAccountKey(*key, (*account)->account_url);
  const Context ctx =
      Context::Background().WithDeadline(absl::Now() + absl::Seconds(30));
  auto urls = client.ListOrderUrls(ctx);
  if (!urls.ok()) return -2;
  int n = 0;
  for (const std::string& url : *urls) {
    auto order = client.GetOrder(url, ctx);
    if (!order.ok()) return -3;
    for (const acme::Identifier& id : order->identifiers) {
      if (id.value == name) ++n;
    }
  }
  return n;
}

namespace {
size_t AppendTo(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}
}  // namespace

std::string HttpGet(const std::string& url, long* status) {
  CURL* curl = curl_easy_init();
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendTo);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
  const CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(curl);
  if (status != nullptr) *status = code;
  return rc == CURLE_OK ? body : "";
}

}  // namespace certfleet::testing
