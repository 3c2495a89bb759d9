// The rules of the top-level sections (store, key_encryption_key_file,
// metrics, dns) and of dns_providers, each asserting the exact message line.
// kValid (config_test_util.h) is the starting point.
#include <string>

#include "absl/strings/str_cat.h"
#include "coordinator/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/config/config_test_util.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::config {
namespace {

using testing::ErrorOfStrictValidWith;
using testing::ErrorOfValidWith;
using testing::MemoryFilesystem;
using testing::ParseText;
using testing::ValidWith;

TEST(ConfigSectionsTest, Store) {
  EXPECT_EQ(ErrorOfValidWith("store:\n", "store:\n  type: mysql\n"),
            "coordinator.yaml:2:9: store.type: \"mysql\" is not one of "
            "sqlite, etcd");
  EXPECT_EQ(ErrorOfValidWith("  path: /var/lib/certfleet/coordinator.db\n",
                             "  sync: normal\n"),
            "coordinator.yaml:2:3: store.path: required field is missing");
  EXPECT_EQ(ErrorOfValidWith("/var/lib/certfleet/coordinator.db", "\"\""),
            "coordinator.yaml:2:9: store.path: must not be empty");
  EXPECT_EQ(ErrorOfValidWith("store:\n", "store:\n  sync: off\n"),
            "coordinator.yaml:2:9: store.sync: \"off\" is not one of normal, "
            "full");
}

TEST(ConfigSectionsTest, KeyEncryptionKeyFileIsRequired) {
  EXPECT_EQ(ErrorOfValidWith("key_encryption_key_file: /etc/certfleet/kek\n",
                             "metrics: {}\n"),
            "coordinator.yaml:1:1: key_encryption_key_file: required field is "
            "missing");
}

TEST(ConfigSectionsTest, MetricsListen) {
  EXPECT_EQ(
      ErrorOfValidWith("dns:\n", "metrics: {listen: localhost:9464}\ndns:\n"),
      "coordinator.yaml:4:19: metrics.listen: \"localhost:9464\" is not "
      "an IP address and port: host names are not resolved, use an IP "
      "address");
  EXPECT_EQ(ErrorOfValidWith("dns:\n", "metrics: {listen: 127.0.0.1}\ndns:\n"),
            "coordinator.yaml:4:19: metrics.listen: \"127.0.0.1\" is not an IP "
            "address and port: the port is missing");
  EXPECT_EQ(ErrorOfValidWith("dns:\n", "metrics: {listen: \"\"}\ndns:\n"),
            "OK");
}

TEST(ConfigSectionsTest, RetentionOfExpiredVersions) {
  EXPECT_EQ(
      ErrorOfValidWith("dns:\n", "retention: {expired_versions: 0s}\ndns:\n"),
      "coordinator.yaml:4:31: retention.expired_versions: must be "
      "positive, got \"0s\"");
  EXPECT_EQ(ErrorOfValidWith("dns:\n", "retention: {keep: 3}\ndns:\n"),
            "coordinator.yaml:4:13: retention.keep: unknown field \"keep\" "
            "(expected one of: expired_versions)");
  EXPECT_EQ(
      ErrorOfValidWith("dns:\n", "retention: {expired_versions: 90d}\ndns:\n"),
      "OK");
}

TEST(ConfigSectionsTest, ResolversAreRequiredIpAddresses) {
  EXPECT_EQ(ErrorOfValidWith("  resolvers: [127.0.0.1:5353]\n",
                             "  follow_cname: true\n"),
            "coordinator.yaml:5:3: dns.resolvers: required field is missing "
            "(certfleet never uses the system resolver: list the recursive "
            "resolvers it may ask)");
  EXPECT_EQ(ErrorOfValidWith("[127.0.0.1:5353]", "[]"),
            "coordinator.yaml:5:14: dns.resolvers: must list at least one "
            "resolver (certfleet never uses the system resolver)");
  EXPECT_EQ(ErrorOfValidWith("[127.0.0.1:5353]", "[127.0.0.1, dns.google]"),
            "coordinator.yaml:5:26: dns.resolvers[1]: \"dns.google\" is not an "
            "IP address and port: host names are not resolved, use an IP "
            "address");
  // Without a section at all, the error points at the top of the file.
  EXPECT_EQ(ErrorOfValidWith("dns:\n  resolvers: [127.0.0.1:5353]\n",
                             "metrics: {}\nscheduler: {}\n"),
            "coordinator.yaml:1:1: dns.resolvers: required field is missing "
            "(certfleet never uses the system resolver: list the recursive "
            "resolvers it may ask)");
}

TEST(ConfigSectionsTest, ProviderType) {
  EXPECT_EQ(ErrorOfValidWith("type: rfc2136", "type: route53"),
            "coordinator.yaml:11:11: dns_providers[0].type: \"route53\" is not "
            "one of rfc2136, exec");
  EXPECT_EQ(ErrorOfValidWith("    type: rfc2136\n", ""),
            "coordinator.yaml:10:5: dns_providers[0].type: required field is "
            "missing");
  EXPECT_EQ(
      ErrorOfValidWith("    rfc2136:\n",
                       "    exec: {command: [/bin/true]}\n    rfc2136:\n"),
      "coordinator.yaml:13:11: dns_providers[0].exec: not used with type "
      "rfc2136; remove it or change the type");
}

TEST(ConfigSectionsTest, ProviderZones) {
  EXPECT_EQ(
      ErrorOfStrictValidWith("zones: [example.test]", "zones: []"),
      "coordinator.yaml:12:12: dns_providers[0].zones: must list at least "
      "one zone\n"
      "coordinator.yaml:19:13: certificates[0].names[0]: "
      "\"www.example.test\" is not inside any dns_providers zone (zones: "
      "none; with dns.follow_cname it could be delegated by CNAME)");
  EXPECT_EQ(ErrorOfStrictValidWith("zones: [example.test]", "zones: [\".\"]"),
            "coordinator.yaml:12:13: dns_providers[0].zones[0]: \".\" is the "
            "root zone; name the zone itself\n"
            "coordinator.yaml:19:13: certificates[0].names[0]: "
            "\"www.example.test\" is not inside any dns_providers zone (zones: "
            "none; with dns.follow_cname it could be delegated by CNAME)");
}

TEST(ConfigSectionsTest, Rfc2136) {
  EXPECT_EQ(
      ErrorOfValidWith("server: 127.0.0.1:5353", "server: ns1.example.test"),
      "coordinator.yaml:14:15: dns_providers[0].rfc2136.server: "
      "\"ns1.example.test\" is not an IP address and port: host names "
      "are not resolved, use an IP address");
  EXPECT_EQ(
      ErrorOfValidWith("server: 127.0.0.1:5353", "server: 127.0.0.1:99999"),
      "coordinator.yaml:14:15: dns_providers[0].rfc2136.server: "
      "\"127.0.0.1:99999\" is not an IP address and port: the port must "
      "be a number from 1 to 65535");
  EXPECT_EQ(ErrorOfValidWith("c2VjcmV0LXNlY3JldA==", "not*base64"),
            "coordinator.yaml:16:20: dns_providers[0].rfc2136.tsig_secret: the "
            "TSIG secret is not valid base64 (as tsig-keygen prints it)");
  EXPECT_EQ(ErrorOfValidWith("      tsig_secret: c2VjcmV0LXNlY3JldA==\n", ""),
            "coordinator.yaml:14:7: dns_providers[0].rfc2136.tsig_secret: "
            "required field is missing (or set tsig_secret_file)");
  EXPECT_EQ(ErrorOfValidWith("      tsig_key_name: certfleet\n",
                             "      tsig_key_name: certfleet\n"
                             "      tsig_algorithm: hmac-md5\n"),
            "coordinator.yaml:16:23: dns_providers[0].rfc2136.tsig_algorithm: "
            "\"hmac-md5\" is not one of hmac-sha256, hmac-sha384, hmac-sha512");
  EXPECT_EQ(ErrorOfValidWith("tsig_key_name: certfleet",
                             "tsig_key_name: \"bad key\""),
            "coordinator.yaml:15:22: dns_providers[0].rfc2136.tsig_key_name: "
            "\"bad key\" is not a valid DNS name: label \"bad key\" contains "
            "\" \" (only letters, digits and \"-\")");
  EXPECT_EQ(ErrorOfValidWith("    rfc2136:\n      server: 127.0.0.1:5353\n"
                             "      tsig_key_name: certfleet\n"
                             "      tsig_secret: c2VjcmV0LXNlY3JldA==\n",
                             ""),
            "coordinator.yaml:10:5: dns_providers[0].rfc2136: required field "
            "is missing");

  MemoryFilesystem fs;
  ASSERT_OK_AND_ASSIGN(CoordinatorConfig c,
                       ParseText(ValidWith("      tsig_key_name: certfleet\n",
                                           "      tsig_key_name: certfleet\n"
                                           "      tsig_algorithm: HMAC-SHA512\n"
                                           "      timeout: 3s\n      ttl: 0\n"),
                                 fs));
  EXPECT_EQ(c.dns_providers.at(0).rfc2136.tsig_algorithm, "hmac-sha512");
  EXPECT_EQ(c.dns_providers.at(0).rfc2136.timeout, absl::Seconds(3));
  EXPECT_EQ(c.dns_providers.at(0).rfc2136.ttl, 0);
}

// kValid's provider turned into an exec provider; `exec_body` follows
// "    exec:\n" on line 13.
std::string ExecErrors(absl::string_view exec_body, MemoryFilesystem& fs) {
  const std::string yaml = ValidWith(
      "    type: rfc2136\n    zones: [example.test]\n    rfc2136:\n"
      "      server: 127.0.0.1:5353\n      tsig_key_name: certfleet\n"
      "      tsig_secret: c2VjcmV0LXNlY3JldA==\n",
      absl::StrCat("    type: exec\n    zones: [example.test]\n    exec:\n",
                   exec_body));
  absl::StatusOr<CoordinatorConfig> c = ParseText(yaml, fs);
  return c.ok() ? "OK" : std::string(c.status().message());
}

TEST(ConfigSectionsTest, ExecCommand) {
  MemoryFilesystem fs;
  fs.Add("/usr/local/bin/hook", "#!/bin/sh\n", 0755);
  fs.Add("/usr/local/bin/notes", "text\n", 0644);
  EXPECT_EQ(ExecErrors("      command: [hook.sh, add]\n", fs),
            "coordinator.yaml:14:17: dns_providers[0].exec.command[0]: "
            "\"hook.sh\" is not an absolute path (the command runs without a "
            "shell or PATH lookup)");
  EXPECT_EQ(ExecErrors("      command: [/usr/local/bin/nope]\n", fs),
            "coordinator.yaml:14:17: dns_providers[0].exec.command[0]: "
            "\"/usr/local/bin/nope\" does not exist");
  EXPECT_EQ(ExecErrors("      command: [/usr/local/bin/notes]\n", fs),
            "coordinator.yaml:14:17: dns_providers[0].exec.command[0]: "
            "\"/usr/local/bin/notes\" is not executable");
  EXPECT_EQ(ExecErrors("      command: []\n", fs),
            "coordinator.yaml:14:16: dns_providers[0].exec.command: must hold "
            "the program and its arguments");
  EXPECT_EQ(ExecErrors("      timeout: 5s\n", fs),
            "coordinator.yaml:14:7: dns_providers[0].exec.command: required "
            "field is missing");
  EXPECT_EQ(ExecErrors("      command: [/usr/local/bin/hook]\n"
                       "      env: {1BAD: x}\n",
                       fs),
            "coordinator.yaml:15:13: dns_providers[0].exec.env.1BAD: not a "
            "valid environment variable name (letters, digits and _, not "
            "starting with a digit)");
  EXPECT_EQ(ExecErrors("      command: [/usr/local/bin/hook]\n"
                       "      env: [A=1]\n",
                       fs),
            "coordinator.yaml:15:12: dns_providers[0].exec.env: expected a "
            "mapping, got a list");
  EXPECT_EQ(ExecErrors("      command: [/usr/local/bin/hook]\n"
                       "      env: {TOKEN: \"${TOKEN}\"}\n",
                       fs),
            "coordinator.yaml:15:20: dns_providers[0].exec.env.TOKEN: "
            "environment variable TOKEN is not set");
  EXPECT_EQ(ExecErrors("      command: [/usr/local/bin/hook]\n", fs), "OK");
}

}  // namespace
}  // namespace certfleet::config
