// What a valid coordinator.yaml turns into: defaults, normalization, ${VAR}
// expansion, the lookups on CoordinatorConfig, and the shipped example.
#include "coordinator/config/config.h"

#include <stdlib.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/config/config_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::config {
namespace {

using crypto::KeyType;
using ::testing::ElementsAre;
using testing::kValid;
using testing::MemoryFilesystem;
using ::testing::Pair;
using testing::ParseText;
using testing::ValidWith;

TEST(ConfigTest, MinimalFileGetsEveryDefault) {
  MemoryFilesystem fs;
  ASSERT_OK_AND_ASSIGN(CoordinatorConfig c, ParseText(kValid, fs));
  EXPECT_EQ(c.source_path, "coordinator.yaml");
  EXPECT_EQ(c.store.type, "sqlite");
  EXPECT_EQ(c.store.sqlite_path, "/var/lib/certfleet/coordinator.db");
  EXPECT_EQ(c.store.sqlite_sync, "normal");
  EXPECT_EQ(c.key_encryption_key_file, "/etc/certfleet/kek");
  EXPECT_EQ(c.metrics.listen, "");
  EXPECT_EQ(c.scheduler.max_concurrent_orders, 16);
  EXPECT_EQ(c.scheduler.check_interval, absl::Minutes(10));
  EXPECT_EQ(c.scheduler.retry_initial, absl::Minutes(1));
  EXPECT_EQ(c.scheduler.retry_max, absl::Hours(6));
  EXPECT_EQ(c.retention.expired_versions, absl::Hours(24 * 30));
  EXPECT_THAT(c.dns.resolvers, ElementsAre("127.0.0.1:5353"));
  EXPECT_EQ(c.dns.nameserver_port, 53);
  EXPECT_EQ(c.dns.propagation_interval, absl::Milliseconds(250));
  EXPECT_EQ(c.dns.propagation_timeout, absl::Minutes(5));
  EXPECT_TRUE(c.dns.follow_cname);

  ASSERT_EQ(c.issuers.size(), 1u);
  const IssuerConfig& i = c.issuers[0];
  EXPECT_EQ(i.name, "pebble");
  EXPECT_EQ(i.directory_url, "https://127.0.0.1:14000/dir");
  EXPECT_EQ(i.trust_bundle, "");
  EXPECT_TRUE(i.contacts.empty());
  EXPECT_EQ(i.account_key_type, KeyType::kEc256);
  EXPECT_FALSE(i.eab.has_value());
  EXPECT_EQ(i.preferred_chain, "");
  EXPECT_EQ(i.max_concurrent_orders, 8);
  EXPECT_EQ(i.requests_per_second, 200);
  EXPECT_EQ(i.new_nonce_per_second, 20);
  EXPECT_EQ(i.new_orders_per_window, 300);
  EXPECT_EQ(i.new_orders_window, absl::Hours(3));
  EXPECT_EQ(i.request_timeout, absl::Seconds(30));
  EXPECT_EQ(i.order_timeout, absl::Minutes(15));
  EXPECT_EQ(i.profile, "");

  ASSERT_EQ(c.dns_providers.size(), 1u);
  const DnsProviderConfig& p = c.dns_providers[0];
  EXPECT_EQ(p.name, "lab-bind");
  EXPECT_EQ(p.type, "rfc2136");
  EXPECT_THAT(p.zones, ElementsAre("example.test."));
  EXPECT_EQ(p.rfc2136.server, "127.0.0.1:5353");
  EXPECT_EQ(p.rfc2136.tsig_key_name, "certfleet");
  EXPECT_EQ(p.rfc2136.tsig_algorithm, "hmac-sha256");
  EXPECT_EQ(p.rfc2136.tsig_secret, "c2VjcmV0LXNlY3JldA==");
  EXPECT_EQ(p.rfc2136.timeout, absl::Seconds(10));
  EXPECT_EQ(p.rfc2136.ttl, 60);

  ASSERT_EQ(c.certificates.size(), 1u);
  const CertificateConfig& cert = c.certificates[0];
  EXPECT_EQ(cert.name, "www");
  EXPECT_THAT(cert.names, ElementsAre("www.example.test"));
  EXPECT_EQ(cert.key_type, KeyType::kEc256);
  EXPECT_EQ(cert.issuer, "pebble");
  EXPECT_FALSE(cert.renew_before.has_value());
  EXPECT_EQ(cert.preferred_chain, "");
}

TEST(ConfigTest, EveryFieldIsRead) {
  MemoryFilesystem fs;
  fs.Add("/etc/certfleet/ca.pem",
         "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
         0644);
  fs.Add("/usr/local/bin/dns-hook", "#!/bin/sh\n", 0755);
  constexpr char kFull[] = R"(
store: {type: sqlite, path: /var/lib/cf.db, sync: full}
key_encryption_key_file: /etc/certfleet/kek
metrics: {listen: "[::1]:9464"}
scheduler:
  max_concurrent_orders: 4
  check_interval: 1h
  retry_initial: 30s
  retry_max: 1d12h
retention: {expired_versions: 7d}
dns:
  resolvers: [127.0.0.1, "[::1]:5353"]
  nameserver_port: 5300
  propagation_interval: 1s
  propagation_timeout: 2m
  follow_cname: false
issuers:
  - name: private-ca
    directory: https://acme.corp.test/directory
    trust_bundle: /etc/certfleet/ca.pem
    contact: [ops@corp.test, "mailto:sec@corp.test"]
    account_key_type: rsa4096
    eab: {kid: kid-1, hmac_key: c2VjcmV0LWtleQ}
    preferred_chain: Corp Root X2
    limits:
      max_concurrent_orders: 2
      requests_per_second: 12.5
      new_nonce_per_second: 5
      new_orders_per_window: 0
      new_orders_window: 1h
    request_timeout: 10s
    order_timeout: 1h
    profile: shortlived
dns_providers:
  - name: hook
    type: exec
    zones: [Corp.Test., dev.corp.test]
    exec:
      command: [/usr/local/bin/dns-hook, --zone, corp]
      timeout: 2m
      env: {API_URL: "https://dns.corp.test", EMPTY: }
certificates:
  - name: corp
    names: [WWW.Corp.Test., "*.dev.corp.test"]
    key_type: rsa3072
    issuer: private-ca
    renew_before: 30d
    preferred_chain: Corp Root X1
)";
  ASSERT_OK_AND_ASSIGN(CoordinatorConfig c, ParseText(kFull, fs));
  EXPECT_EQ(c.store.sqlite_path, "/var/lib/cf.db");
  EXPECT_EQ(c.store.sqlite_sync, "full");
  EXPECT_EQ(c.metrics.listen, "[::1]:9464");
  EXPECT_EQ(c.scheduler.max_concurrent_orders, 4);
  EXPECT_EQ(c.scheduler.check_interval, absl::Hours(1));
  EXPECT_EQ(c.scheduler.retry_initial, absl::Seconds(30));
  EXPECT_EQ(c.scheduler.retry_max, absl::Hours(36));
  EXPECT_EQ(c.retention.expired_versions, absl::Hours(24 * 7));
  EXPECT_THAT(c.dns.resolvers, ElementsAre("127.0.0.1:53", "[::1]:5353"));
  EXPECT_EQ(c.dns.nameserver_port, 5300);
  EXPECT_EQ(c.dns.propagation_interval, absl::Seconds(1));
  EXPECT_EQ(c.dns.propagation_timeout, absl::Minutes(2));
  EXPECT_FALSE(c.dns.follow_cname);

  const IssuerConfig& i = c.issuers.at(0);
  EXPECT_EQ(i.trust_bundle, "/etc/certfleet/ca.pem");
  EXPECT_THAT(i.contacts,
              ElementsAre("mailto:ops@corp.test", "mailto:sec@corp.test"));
  EXPECT_EQ(i.account_key_type, KeyType::kRsa4096);
  ASSERT_TRUE(i.eab.has_value());
  EXPECT_EQ(i.eab->kid, "kid-1");
  EXPECT_EQ(i.eab->hmac_key, "c2VjcmV0LWtleQ");
  EXPECT_EQ(i.preferred_chain, "Corp Root X2");
  EXPECT_EQ(i.max_concurrent_orders, 2);
  EXPECT_EQ(i.requests_per_second, 12.5);
  EXPECT_EQ(i.new_nonce_per_second, 5);
  EXPECT_EQ(i.new_orders_per_window, 0);
  EXPECT_EQ(i.new_orders_window, absl::Hours(1));
  EXPECT_EQ(i.request_timeout, absl::Seconds(10));
  EXPECT_EQ(i.order_timeout, absl::Hours(1));
  EXPECT_EQ(i.profile, "shortlived");

  const DnsProviderConfig& p = c.dns_providers.at(0);
  EXPECT_EQ(p.type, "exec");
  EXPECT_THAT(p.zones, ElementsAre("corp.test.", "dev.corp.test."));
  EXPECT_THAT(p.exec.command,
              ElementsAre("/usr/local/bin/dns-hook", "--zone", "corp"));
  EXPECT_EQ(p.exec.timeout, absl::Minutes(2));
  EXPECT_THAT(p.exec.env, ElementsAre(Pair("API_URL", "https://dns.corp.test"),
                                      Pair("EMPTY", "")));

  const CertificateConfig& cert = c.certificates.at(0);
  EXPECT_THAT(cert.names, ElementsAre("www.corp.test", "*.dev.corp.test"));
  EXPECT_EQ(cert.key_type, KeyType::kRsa3072);
  EXPECT_EQ(cert.renew_before, absl::Hours(24 * 30));
  EXPECT_EQ(cert.preferred_chain, "Corp Root X1");
}

TEST(ConfigTest, FindIssuerAndLongestZoneWins) {
  MemoryFilesystem fs;
  const std::string yaml = ValidWith("certificates:\n",
                                     "  - name: shop-bind\n"
                                     "    type: rfc2136\n"
                                     "    zones: [shop.example.test]\n"
                                     "    rfc2136:\n"
                                     "      server: 127.0.0.2\n"
                                     "      tsig_key_name: shop\n"
                                     "      tsig_secret: c2hvcA==\n"
                                     "certificates:\n");
  ASSERT_OK_AND_ASSIGN(CoordinatorConfig c, ParseText(yaml, fs));
  ASSERT_NE(c.FindIssuer("pebble"), nullptr);
  EXPECT_EQ(c.FindIssuer("pebble")->name, "pebble");
  EXPECT_EQ(c.FindIssuer("letsencrypt"), nullptr);

  EXPECT_EQ(c.dns_providers.at(1).rfc2136.server, "127.0.0.2:53");
  std::optional<ZoneMatch> shop = c.FindZone("*.shop.example.test");
  ASSERT_TRUE(shop.has_value());
  EXPECT_EQ(shop->provider->name, "shop-bind");
  EXPECT_EQ(shop->zone, "shop.example.test.");
  std::optional<ZoneMatch> www = c.FindZone("www.example.test");
  ASSERT_TRUE(www.has_value());
  EXPECT_EQ(www->provider->name, "lab-bind");
  EXPECT_EQ(www->zone, "example.test.");
  // A label that merely ends like the zone is not inside it.
  EXPECT_FALSE(c.FindZone("badexample.test").has_value());
}

TEST(ConfigTest, ExpandsVariablesBeforeConvertingTypes) {
  MemoryFilesystem fs;
  std::string yaml = ValidWith("  resolvers: [127.0.0.1:5353]\n",
                               "  resolvers: [\"127.0.0.1:${DNS_PORT}\"]\n"
                               "  nameserver_port: ${DNS_PORT}\n");
  yaml = absl::StrReplaceAll(
      yaml, {{"https://127.0.0.1:14000/dir", "https://${ACME_HOST}/dir"},
             {"tsig_secret: c2VjcmV0LXNlY3JldA==", "tsig_secret: ${TSIG}"},
             {"issuer: pebble", "issuer: pebble\n    preferred_chain: A$$B"}});
  ASSERT_OK_AND_ASSIGN(CoordinatorConfig c,
                       ParseText(yaml, fs,
                                 {{"DNS_PORT", "15353"},
                                  {"ACME_HOST", "127.0.0.1:14000"},
                                  {"TSIG", "dGVzdA=="}}));
  EXPECT_THAT(c.dns.resolvers, ElementsAre("127.0.0.1:15353"));
  EXPECT_EQ(c.dns.nameserver_port, 15353);
  EXPECT_EQ(c.issuers.at(0).directory_url, "https://127.0.0.1:14000/dir");
  EXPECT_EQ(c.dns_providers.at(0).rfc2136.tsig_secret, "dGVzdA==");
  EXPECT_EQ(c.certificates.at(0).preferred_chain, "A$B");
}

TEST(ConfigTest, RelativePathsResolveAgainstTheFilesDirectory) {
  MemoryFilesystem fs;
  fs.Add("/etc/certfleet/secrets/tsig", "dGVzdA==\n", 0600);
  fs.Add("/etc/certfleet/ca/pebble.pem", "-----BEGIN CERTIFICATE-----\n", 0644);
  std::string yaml = absl::StrReplaceAll(
      kValid,
      {{"/var/lib/certfleet/coordinator.db", "state/coordinator.db"},
       {"/etc/certfleet/kek", "./kek"},
       {"tsig_secret: c2VjcmV0LXNlY3JldA==", "tsig_secret_file: secrets/tsig"},
       {"https://127.0.0.1:14000/dir",
        "https://127.0.0.1:14000/dir\n    trust_bundle: ca/pebble.pem"}});
  ASSERT_OK_AND_ASSIGN(
      CoordinatorConfig c,
      ParseConfig(yaml, "/etc/certfleet/coordinator.yaml", fs,
                  [](const std::string&) { return std::nullopt; }));
  EXPECT_EQ(c.store.sqlite_path, "/etc/certfleet/state/coordinator.db");
  EXPECT_EQ(c.key_encryption_key_file, "/etc/certfleet/kek");
  EXPECT_EQ(c.issuers.at(0).trust_bundle, "/etc/certfleet/ca/pebble.pem");
  EXPECT_EQ(c.dns_providers.at(0).rfc2136.tsig_secret, "dGVzdA==");
}

// The example in deploy/examples, loaded the way the demo loads it.
TEST(ConfigTest, ShippedExampleLoads) {
  certfleet::testing::TempDir demo("config-example");
  certfleet::testing::WriteFileOrDie(demo.File("tsig.secret"),
                                     "c2VjcmV0LXNlY3JldA==\n", 0600);
  certfleet::testing::WriteFileOrDie(
      demo.File("pebble-ca.pem"),
      "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", 0644);
  ASSERT_EQ(setenv("CERTFLEET_DEMO_DIR", demo.path().c_str(), 1), 0);
  ASSERT_EQ(setenv("CERTFLEET_LAB_DNS_PORT", "15353", 1), 0);
  ASSERT_EQ(setenv("CERTFLEET_LAB_ACME_PORT", "14000", 1), 0);
  LocalFilesystem fs;
  absl::StatusOr<CoordinatorConfig> loaded = LoadConfig(
      std::string(CERTFLEET_SOURCE_DIR) + "/deploy/examples/coordinator.yaml",
      fs);
  unsetenv("CERTFLEET_DEMO_DIR");
  unsetenv("CERTFLEET_LAB_DNS_PORT");
  unsetenv("CERTFLEET_LAB_ACME_PORT");
  ASSERT_OK(loaded);
  const CoordinatorConfig& c = *loaded;
  EXPECT_EQ(c.store.sqlite_path, demo.File("coordinator.db"));
  EXPECT_EQ(c.key_encryption_key_file, demo.File("kek"));
  EXPECT_EQ(c.metrics.listen, "127.0.0.1:9464");
  EXPECT_THAT(c.dns.resolvers, ElementsAre("127.0.0.1:15353"));
  EXPECT_EQ(c.dns.nameserver_port, 15353);
  ASSERT_EQ(c.issuers.size(), 1u);
  EXPECT_EQ(c.issuers[0].name, "pebble");
  EXPECT_EQ(c.issuers[0].directory_url, "https://127.0.0.1:14000/dir");
  EXPECT_EQ(c.issuers[0].trust_bundle, demo.File("pebble-ca.pem"));
  EXPECT_THAT(c.issuers[0].contacts, ElementsAre("mailto:ops@example.test"));
  ASSERT_EQ(c.dns_providers.size(), 1u);
  const DnsProviderConfig& bind = c.dns_providers[0];
  EXPECT_EQ(bind.name, "lab-bind");
  EXPECT_EQ(bind.type, "rfc2136");
  EXPECT_THAT(bind.zones, ElementsAre("example.test."));
  EXPECT_EQ(bind.rfc2136.server, "127.0.0.1:15353");
  EXPECT_EQ(bind.rfc2136.tsig_key_name, "certfleet");
  EXPECT_EQ(bind.rfc2136.tsig_algorithm, "hmac-sha256");
  EXPECT_EQ(bind.rfc2136.tsig_secret, "c2VjcmV0LXNlY3JldA==");
  ASSERT_EQ(c.certificates.size(), 3u);
  EXPECT_EQ(c.certificates[0].name, "wildcard-example");
  EXPECT_THAT(c.certificates[0].names,
              ElementsAre("*.example.test", "example.test"));
  EXPECT_EQ(c.certificates[0].key_type, KeyType::kEc384);
  EXPECT_EQ(c.certificates[1].name, "www-example");
  EXPECT_THAT(c.certificates[1].names, ElementsAre("www.example.test"));
  EXPECT_EQ(c.certificates[1].key_type, KeyType::kEc256);
  EXPECT_EQ(c.certificates[2].name, "api-example");
  EXPECT_THAT(c.certificates[2].names, ElementsAre("api.example.test"));
  EXPECT_EQ(c.certificates[2].key_type, KeyType::kRsa2048);
  for (const CertificateConfig& cert : c.certificates) {
    EXPECT_EQ(cert.issuer, "pebble");
  }
  ASSERT_EQ(c.certificates[0].targets.size(), 1u);
  EXPECT_EQ(c.certificates[0].targets[0].agent_labels,
            (std::map<std::string, std::string>{{"role", "web"}}));
  EXPECT_EQ(c.certificates[0].targets[0].target, "nginx");
  EXPECT_TRUE(c.certificates[1].targets.empty());
  EXPECT_EQ(c.agents.listen, "127.0.0.1:7443");
  EXPECT_THAT(c.agents.server_names, ElementsAre("127.0.0.1"));
  EXPECT_EQ(c.agents.identity_ttl, absl::Hours(720));
  EXPECT_EQ(c.agents.default_token_ttl, absl::Hours(1));
  EXPECT_EQ(c.agents.stale_after, absl::Hours(1));
  EXPECT_THAT(c.warnings, ::testing::IsEmpty());
  // The example's rollout section spells out the defaults.
  for (const rollout::RolloutPolicy* p :
       {&c.rollout, &c.certificates[0].rollout, &c.certificates[2].rollout}) {
    EXPECT_EQ(p->waves.size(), 4u);
    EXPECT_EQ(p->waves.front(), rollout::Quantity::Count(1));
    EXPECT_EQ(p->max_unavailable, rollout::Quantity::Percent(25));
    EXPECT_EQ(p->bake_time, absl::Minutes(5));
    EXPECT_TRUE(p->windows.empty());
    EXPECT_EQ(p->urgent_within, absl::Hours(7 * 24));
  }
}

}  // namespace
}  // namespace certfleet::config
