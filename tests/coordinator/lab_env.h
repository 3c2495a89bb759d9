// The lab shared by the coordinator's integration tests: one BIND9 serving
// example.test, validation.test (the target of CNAME-delegated validation)
// and other.test (whose _acme-challenge.shop is a CNAME into
// validation.test), and one Pebble validating through that BIND9. Started
// once per test binary, stopped at exit.
#ifndef CERTFLEET_TESTS_COORDINATOR_LAB_ENV_H_
#define CERTFLEET_TESTS_COORDINATOR_LAB_ENV_H_

#include <memory>
#include <string>
#include <vector>

#include "coordinator/config/config.h"
#include "coordinator/dns/resolver.h"
#include "tests/harness/bind_server.h"
#include "tests/harness/pebble_server.h"

namespace certfleet::testing {

struct Lab {
  std::unique_ptr<harness::BindServer> bind;
  std::unique_ptr<harness::PebbleServer> pebble;
};

// The shared lab; aborts the binary with the servers' logs if they fail.
Lab& SharedLab();

// Zones of the shared BIND9.
harness::BindOptions LabBindOptions();

// Config pieces pointing at a lab.
config::IssuerConfig LabIssuer(const harness::PebbleServer& pebble);
config::DnsProviderConfig LabProvider(const harness::BindServer& bind,
                                      std::vector<std::string> zones);

// TXT values at `fqdn` as `bind` serves them (asked directly, RD off).
std::vector<std::string> TxtValues(const harness::BindServer& bind,
                                   const std::string& fqdn);

}  // namespace certfleet::testing

#endif  // CERTFLEET_TESTS_COORDINATOR_LAB_ENV_H_
