// General rules of ParseConfig, each asserting the exact message line,
// position included: syntax, unknown and repeated fields, types, numbers,
// durations, ${VAR}, several problems at once. kValid (config_test_util.h)
// is the starting point.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "coordinator/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/config/config_test_util.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::config {
namespace {

using testing::ErrorOfValidWith;
using testing::kValid;
using testing::MemoryFilesystem;
using testing::ParseText;
using testing::ValidWith;

std::string ErrorOf(absl::string_view yaml) {
  MemoryFilesystem fs;
  absl::StatusOr<CoordinatorConfig> c = ParseText(yaml, fs);
  if (c.ok()) return "OK";
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(c.status().message());
}

// The example from the issue: certificates[2] asks for a key type that does
// not exist, on line 31, column 15.
TEST(ConfigErrorsTest, UnknownKeyTypeNamesFileLineColumnAndChoices) {
  const std::string yaml =
      absl::StrCat(kValid,
                   /* 21 */ "    key_type: ec256\n",
                   /* 22 */ "  - name: api\n",
                   /* 23 */ "    names: [api.example.test]\n",
                   /* 24 */ "    issuer: pebble\n",
                   /* 25 */ "    key_type: rsa2048\n",
                   /* 26 */ "  - name: shop\n",
                   /* 27 */ "    names:\n",
                   /* 28 */ "      - shop.example.test\n",
                   /* 29 */ "      - cart.example.test\n",
                   /* 30 */ "    issuer: pebble\n",
                   /* 31 */ "    key_type: ec521\n");
  EXPECT_EQ(ErrorOf(yaml),
            "coordinator.yaml:31:15: certificates[2].key_type: \"ec521\" is "
            "not one of ec256, ec384, rsa2048, rsa3072, rsa4096");
}

TEST(ConfigErrorsTest, AccountKeyTypeIsCheckedToo) {
  EXPECT_EQ(ErrorOfValidWith("    directory: https://127.0.0.1:14000/dir\n",
                             "    directory: https://127.0.0.1:14000/dir\n"
                             "    account_key_type: ed25519\n"),
            "coordinator.yaml:9:23: issuers[0].account_key_type: \"ed25519\" "
            "is not one of ec256, ec384, rsa2048, rsa3072, rsa4096");
}

TEST(ConfigErrorsTest, ReportsEveryProblemInPositionOrder) {
  std::string yaml = ValidWith("/etc/certfleet/kek", "${NOPE}");
  yaml = absl::StrReplaceAll(yaml, {{"tsig_key_name:", "tsig_keyname:"},
                                    {"issuer: pebble", "issuer: nope"}});
  EXPECT_EQ(ErrorOf(yaml),
            absl::StrJoin(
                {"coordinator.yaml:3:26: key_encryption_key_file: environment "
                 "variable NOPE is not set",
                 "coordinator.yaml:14:7: dns_providers[0].rfc2136."
                 "tsig_key_name: required field is missing",
                 "coordinator.yaml:15:7: dns_providers[0].rfc2136.tsig_keyname:"
                 " unknown field \"tsig_keyname\"; did you mean "
                 "\"tsig_key_name\"?",
                 "coordinator.yaml:20:13: certificates[0].issuer: \"nope\" is "
                 "not an issuer (issuers: \"pebble\")"},
                "\n"));
}

TEST(ConfigErrorsTest, YamlSyntaxErrorCarriesPosition) {
  EXPECT_EQ(ErrorOf("store: [a, b\n"),
            "coordinator.yaml:2:1: end of sequence flow not found");
  EXPECT_EQ(ErrorOf("store:\n  path: x: y\n"),
            "coordinator.yaml:2:10: illegal map value");
}

TEST(ConfigErrorsTest, EmptyOrNonMappingDocument) {
  EXPECT_EQ(ErrorOf(""),
            "coordinator.yaml: the file is empty "
            "(deploy/examples/coordinator.yaml is a commented example)");
  EXPECT_EQ(ErrorOf("- store\n- dns\n"),
            "coordinator.yaml:1:1: expected a mapping of sections (store, dns, "
            "issuers, ...), got a list");
}

TEST(ConfigErrorsTest, UnknownFieldSuggestsTheCloseOne) {
  EXPECT_EQ(ErrorOfValidWith("    issuer: pebble\n",
                             "    issuer: pebble\n    keytype: ec384\n"),
            "coordinator.yaml:21:5: certificates[0].keytype: unknown field "
            "\"keytype\"; did you mean \"key_type\"?");
}

TEST(ConfigErrorsTest, UnknownFieldWithoutCloseOneListsTheFields) {
  EXPECT_EQ(ErrorOfValidWith("dns:\n", "colour: red\ndns:\n"),
            "coordinator.yaml:4:1: colour: unknown field \"colour\" (expected "
            "one of: store, key_encryption_key_file, metrics, scheduler, "
            "retention, dns, "
            "issuers, dns_providers, rollout, certificates, "
            "removed_certificates, agents, admin, "
            "ha, internal_ca_file)");
}

TEST(ConfigErrorsTest, RepeatedField) {
  EXPECT_EQ(ErrorOfValidWith("    issuer: pebble\n",
                             "    issuer: pebble\n    issuer: other\n"),
            "coordinator.yaml:21:5: certificates[0].issuer: field given twice "
            "(first at line 20)");
}

TEST(ConfigErrorsTest, WrongTypesNameTheExpectedType) {
  EXPECT_EQ(
      ErrorOfValidWith("names: [www.example.test]", "names: www.example.test"),
      "coordinator.yaml:19:12: certificates[0].names: expected a list, "
      "got a scalar");
  EXPECT_EQ(ErrorOfValidWith("dns:\n", "metrics: 127.0.0.1:9464\ndns:\n"),
            "coordinator.yaml:4:10: metrics: expected a mapping, got a scalar");
  EXPECT_EQ(ErrorOfValidWith("issuer: pebble", "issuer: {name: pebble}"),
            "coordinator.yaml:20:13: certificates[0].issuer: expected a "
            "string, got a mapping");
  EXPECT_EQ(ErrorOfValidWith("    directory: https://127.0.0.1:14000/dir\n",
                             "    directory: https://127.0.0.1:14000/dir\n"
                             "    limits: {requests_per_second: fast}\n"),
            "coordinator.yaml:9:35: issuers[0].limits.requests_per_second: "
            "expected a number, got \"fast\"");
  EXPECT_EQ(ErrorOfValidWith("  resolvers: [127.0.0.1:5353]\n",
                             "  resolvers: [127.0.0.1:5353]\n"
                             "  nameserver_port: abc\n"),
            "coordinator.yaml:6:20: dns.nameserver_port: expected an integer, "
            "got \"abc\"");
  EXPECT_EQ(ErrorOfValidWith("  resolvers: [127.0.0.1:5353]\n",
                             "  resolvers: [127.0.0.1:5353]\n"
                             "  nameserver_port: 1.5\n"),
            "coordinator.yaml:6:20: dns.nameserver_port: expected an integer, "
            "got \"1.5\"");
  EXPECT_EQ(ErrorOfValidWith("  resolvers: [127.0.0.1:5353]\n",
                             "  resolvers: [127.0.0.1:5353]\n"
                             "  follow_cname: yes\n"),
            "coordinator.yaml:6:17: dns.follow_cname: expected true or false, "
            "got \"yes\"");
}

TEST(ConfigErrorsTest, NumbersOutOfRange) {
  EXPECT_EQ(ErrorOfValidWith("  resolvers: [127.0.0.1:5353]\n",
                             "  resolvers: [127.0.0.1:5353]\n"
                             "  nameserver_port: 70000\n"),
            "coordinator.yaml:6:20: dns.nameserver_port: must be from 1 to "
            "65535, got 70000");
  EXPECT_EQ(ErrorOfValidWith("dns:\n",
                             "scheduler: {max_concurrent_orders: 0}\ndns:\n"),
            "coordinator.yaml:4:36: scheduler.max_concurrent_orders: must be "
            "at least 1, got 0");
  EXPECT_EQ(ErrorOfValidWith("    directory: https://127.0.0.1:14000/dir\n",
                             "    directory: https://127.0.0.1:14000/dir\n"
                             "    limits: {new_nonce_per_second: 0}\n"),
            "coordinator.yaml:9:36: issuers[0].limits.new_nonce_per_second: "
            "must be greater than 0, got 0");
  EXPECT_EQ(ErrorOfValidWith("      tsig_secret: c2VjcmV0LXNlY3JldA==\n",
                             "      tsig_secret: c2VjcmV0LXNlY3JldA==\n"
                             "      ttl: -1\n"),
            "coordinator.yaml:17:12: dns_providers[0].rfc2136.ttl: must be "
            "from 0 to 86400, got -1");
}

TEST(ConfigErrorsTest, Durations) {
  const auto dns_with = [](absl::string_view line) {
    return ErrorOfValidWith(
        "  resolvers: [127.0.0.1:5353]\n",
        absl::StrCat("  resolvers: [127.0.0.1:5353]\n", line, "\n"));
  };
  EXPECT_EQ(dns_with("  propagation_timeout: 30"),
            "coordinator.yaml:6:24: dns.propagation_timeout: \"30\" is not a "
            "duration (write a number and a unit: 250ms, 30s, 10m, 12h, 30d)");
  EXPECT_EQ(dns_with("  propagation_timeout: 0s"),
            "coordinator.yaml:6:24: dns.propagation_timeout: must be "
            "positive, got \"0s\"");
  EXPECT_EQ(dns_with("  propagation_interval: -5m"),
            "coordinator.yaml:6:25: dns.propagation_interval: must be "
            "positive, got \"-5m\"");
  EXPECT_EQ(dns_with("  propagation_interval: 10m"),
            "coordinator.yaml:6:25: dns.propagation_interval: "
            "propagation_timeout (5m) is shorter than propagation_interval "
            "(10m)");
  EXPECT_EQ(ErrorOfValidWith("    issuer: pebble\n",
                             "    issuer: pebble\n    renew_before: 0s\n"),
            "coordinator.yaml:21:19: certificates[0].renew_before: must be "
            "positive, got \"0s\"");
  EXPECT_EQ(ErrorOfValidWith("dns:\n",
                             "scheduler: {retry_initial: 2d, retry_max: 1d}\n"
                             "dns:\n"),
            "coordinator.yaml:4:43: scheduler.retry_max: retry_max (1d) is "
            "shorter than retry_initial (2d)");
  EXPECT_EQ(ErrorOfValidWith("    directory: https://127.0.0.1:14000/dir\n",
                             "    directory: https://127.0.0.1:14000/dir\n"
                             "    order_timeout: 10s\n"),
            "coordinator.yaml:9:20: issuers[0].order_timeout: order_timeout "
            "(10s) is shorter than request_timeout (30s)");

  MemoryFilesystem fs;
  ASSERT_OK_AND_ASSIGN(
      CoordinatorConfig c,
      ParseText(ValidWith("    issuer: pebble\n",
                          "    issuer: pebble\n    renew_before: 30d\n"),
                fs));
  EXPECT_EQ(c.certificates.at(0).renew_before, absl::Hours(720));
}

TEST(ConfigErrorsTest, Variables) {
  EXPECT_EQ(ErrorOfValidWith("/etc/certfleet/kek", "${SECRETS_DIR}/kek"),
            "coordinator.yaml:3:26: key_encryption_key_file: environment "
            "variable SECRETS_DIR is not set");
  EXPECT_EQ(ErrorOfValidWith("/etc/certfleet/kek", "${SECRETS_DIR/kek"),
            "coordinator.yaml:3:26: key_encryption_key_file: \"${\" without a "
            "closing \"}\" (write \"$$\" for a literal \"$\")");
  // An empty value is a value.
  EXPECT_EQ(ErrorOfValidWith("/etc/certfleet/kek", "/etc/certfleet${EMPTY}/kek",
                             {{"EMPTY", ""}}),
            "OK");
}

}  // namespace
}  // namespace certfleet::config
