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

#include "common/crypto/kek.h"
#include "coordinator/config/config.h"
#include "coordinator/dns/resolver.h"
#include "coordinator/store/store.h"
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

// A certificate of a lab configuration.
struct CertSpec {
  std::string name;
  std::vector<std::string> names;
};

// coordinator.yaml for the shared lab: `store_yaml` (the whole store
// section, and anything else at the top), the KEK at `kek_path`, `pebble`
// (null: the lab's) as issuer "pebble", BIND9 as provider "lab-bind",
// `extra` sections, then `certs`.
std::string LabCoordinatorYaml(const std::string& store_yaml,
                               const std::string& kek_path,
                               const std::vector<CertSpec>& certs,
                               const harness::PebbleServer* pebble = nullptr,
                               const std::string& extra = "");

// How many orders `pebble` (null: the lab's) holds for `name` under the
// account of issuer "pebble" stored in `store`; negative when that cannot be
// asked (-1 no account, -2/-3 Pebble's answers failed).
int PebbleOrdersFor(store::Store& store, const crypto::Kek& kek,
                    const std::string& name,
                    const harness::PebbleServer* pebble = nullptr);

// TXT values at `fqdn` as `bind` serves them (asked directly, RD off).
std::vector<std::string> TxtValues(const harness::BindServer& bind,
                                   const std::string& fqdn);

// GET `url` (2 s timeout): the body, "" when there was no answer; the HTTP
// status in `*status` when given (0 when there was no answer).
std::string HttpGet(const std::string& url, long* status = nullptr);

}  // namespace certfleet::testing

#endif  // CERTFLEET_TESTS_COORDINATOR_LAB_ENV_H_
