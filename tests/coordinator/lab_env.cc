#include "tests/coordinator/lab_env.h"

#include <cstdio>
#include <cstdlib>

#include "coordinator/dns/ldns_resolver.h"

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
  p.type = config::DnsProviderConfig::Type::kRfc2136;
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

}  // namespace certfleet::testing
