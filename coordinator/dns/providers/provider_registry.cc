#include "coordinator/dns/providers/provider_registry.h"

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "coordinator/dns/providers/exec_provider.h"
#include "coordinator/dns/providers/rfc2136_provider.h"

namespace certfleet::dns {
namespace {

absl::StatusOr<std::shared_ptr<DnsProvider>> NewRfc2136(
    const config::DnsProviderConfig& c, const ProviderDeps&) {
  ASSIGN_OR_RETURN(std::unique_ptr<Rfc2136Provider> p,
                   Rfc2136Provider::Create(
                       c.name, {.server = c.rfc2136.server,
                                .tsig_key_name = c.rfc2136.tsig_key_name,
                                .tsig_algorithm = c.rfc2136.tsig_algorithm,
                                .tsig_secret = c.rfc2136.tsig_secret,
                                .timeout = c.rfc2136.timeout,
                                .ttl = static_cast<uint32_t>(c.rfc2136.ttl)}));
  return std::shared_ptr<DnsProvider>(std::move(p));
}

absl::StatusOr<std::shared_ptr<DnsProvider>> NewExec(
    const config::DnsProviderConfig& c, const ProviderDeps& deps) {
  return std::make_shared<ExecProvider>(
      c.name,
      ExecOptions{
          .argv = c.exec.command, .timeout = c.exec.timeout, .env = c.exec.env},
      deps.processes);
}

}  // namespace

absl::Status ProviderRegistry::Register(std::string type,
                                        ProviderFactory factory) {
  if (factories_.contains(type)) {
    return absl::AlreadyExistsError(
        absl::StrCat("DNS provider type \"", type, "\" is registered twice"));
  }
  factories_.emplace(std::move(type), std::move(factory));
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<DnsProvider>> ProviderRegistry::Create(
    const config::DnsProviderConfig& config, const ProviderDeps& deps) const {
  auto it = factories_.find(config.type);
  if (it == factories_.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("dns provider ", config.name, ": type \"", config.type,
                     "\" is not one of ", absl::StrJoin(types(), ", ")));
  }
  absl::StatusOr<std::shared_ptr<DnsProvider>> provider =
      it->second(config, deps);
  if (!provider.ok()) {
    return Annotate(provider.status(),
                    absl::StrCat("dns provider ", config.name));
  }
  return provider;
}

std::vector<std::string> ProviderRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& [type, factory] : factories_) out.push_back(type);
  return out;
}

const ProviderRegistry& BuiltInProviders() {
  static const ProviderRegistry* const registry = [] {
    auto* r = new ProviderRegistry;
    // Distinct names: these cannot fail (provider_registry_test holds the
    // list equal to the types the configuration accepts).
    r->Register("exec", NewExec).IgnoreError();
    r->Register("rfc2136", NewRfc2136).IgnoreError();
    return r;
  }();
  return *registry;
}

}  // namespace certfleet::dns
