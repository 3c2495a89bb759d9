// The registry of built-in DNS providers: it builds exactly the types the
// configuration accepts, by the configured type, and names the provider in
// its errors.
#include "coordinator/dns/providers/provider_registry.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::dns {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

class NoProcesses : public ProcessRunner {
 public:
  absl::StatusOr<ProcessResult> Run(const ProcessSpec&,
                                    const Context&) override {
    return absl::InternalError("not expected");
  }
};

TEST(ProviderRegistryTest, BuildsEveryTypeTheConfigurationAccepts) {
  std::vector<std::string> accepted = config::DnsProviderTypes();
  std::sort(accepted.begin(), accepted.end());
  EXPECT_EQ(BuiltInProviders().types(), accepted);
}

TEST(ProviderRegistryTest, BuildsTheConfiguredType) {
  NoProcesses processes;
  config::DnsProviderConfig exec{.name = "hook", .type = "exec"};
  exec.exec.command = {"/bin/true"};
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<DnsProvider> p,
                       BuiltInProviders().Create(exec, {processes}));
  EXPECT_EQ(p->name(), "hook");

  config::DnsProviderConfig bind{.name = "lab-bind", .type = "rfc2136"};
  bind.rfc2136.server = "127.0.0.1:53";
  bind.rfc2136.tsig_key_name = "certfleet.";
  bind.rfc2136.tsig_secret = "c2VjcmV0LXNlY3JldA==";
  ASSERT_OK_AND_ASSIGN(p, BuiltInProviders().Create(bind, {processes}));
  EXPECT_EQ(p->name(), "lab-bind");
}

TEST(ProviderRegistryTest, ErrorsNameTheProvider) {
  NoProcesses processes;
  config::DnsProviderConfig unknown{.name = "cf", .type = "cloudflare"};
  EXPECT_THAT(BuiltInProviders().Create(unknown, {processes}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "dns provider cf: type \"cloudflare\" is not one of "
                       "exec, rfc2136"));
  config::DnsProviderConfig bad{.name = "lab-bind", .type = "rfc2136"};
  bad.rfc2136.server = "not an address";
  bad.rfc2136.tsig_key_name = "certfleet.";
  bad.rfc2136.tsig_secret = "c2VjcmV0LXNlY3JldA==";
  EXPECT_THAT(BuiltInProviders().Create(bad, {processes}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("dns provider lab-bind")));
}

TEST(ProviderRegistryTest, ATypeIsRegisteredOnce) {
  ProviderRegistry registry;
  auto none =
      [](const config::DnsProviderConfig&,
         const ProviderDeps&) -> absl::StatusOr<std::shared_ptr<DnsProvider>> {
    return absl::UnimplementedError("none");
  };
  ASSERT_OK(registry.Register("x", none));
  EXPECT_THAT(registry.Register("x", none),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("\"x\" is registered twice")));
  EXPECT_THAT(registry.types(), ::testing::ElementsAre("x"));
}

}  // namespace
}  // namespace certfleet::dns
