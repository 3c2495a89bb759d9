// The DNS providers certfleet builds in, chosen by the `type:` of a
// dns_providers entry in coordinator.yaml. A provider is a file pair in
// this folder plus one line in provider_registry.cc; the configuration
// reads its settings (coordinator/config/dns_providers.cc), and a test
// holds the two lists equal.
//
//   ASSIGN_OR_RETURN(std::shared_ptr<DnsProvider> p,
//                    BuiltInProviders().Create(config, {.processes = runner}));
#ifndef CERTFLEET_COORDINATOR_DNS_PROVIDERS_PROVIDER_REGISTRY_H_
#define CERTFLEET_COORDINATOR_DNS_PROVIDERS_PROVIDER_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/process_runner.h"
#include "coordinator/config/config.h"
#include "coordinator/dns/dns_provider.h"

namespace certfleet::dns {

// What a provider may need from the coordinator besides its settings.
struct ProviderDeps {
  ProcessRunner& processes;
};

using ProviderFactory =
    std::function<absl::StatusOr<std::shared_ptr<DnsProvider>>(
        const config::DnsProviderConfig& config, const ProviderDeps& deps)>;

class ProviderRegistry {
 public:
  // Adds `type`; kAlreadyExists when it is registered already.
  absl::Status Register(std::string type, ProviderFactory factory);

  // The provider `config.type` names, built from `config`; kInvalidArgument
  // naming the provider and the known types when none is registered, or
  // the factory's error prefixed with "dns provider NAME".
  absl::StatusOr<std::shared_ptr<DnsProvider>> Create(
      const config::DnsProviderConfig& config, const ProviderDeps& deps) const;

  // The registered type names, sorted.
  std::vector<std::string> types() const;

 private:
  std::map<std::string, ProviderFactory> factories_;
};

// rfc2136 and exec.
const ProviderRegistry& BuiltInProviders();

}  // namespace certfleet::dns

#endif  // CERTFLEET_COORDINATOR_DNS_PROVIDERS_PROVIDER_REGISTRY_H_
