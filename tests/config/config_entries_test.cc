// The rules for issuers and certificates (and names across lists), each
// asserting the exact message line, position included. kValid
// (config_test_util.h) is the starting point.
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

using testing::ErrorOfStrictValidWith;
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
TEST(ConfigEntriesTest, DirectoryUrl) {
  EXPECT_EQ(ErrorOfValidWith("https://127.0.0.1:14000/dir",
                             "http://ca.example.test/dir"),
            "coordinator.yaml:8:16: issuers[0].directory: "
            "\"http://ca.example.test/dir\" must use https:// (http:// is "
            "allowed only for 127.0.0.1, localhost and [::1])");
  EXPECT_EQ(ErrorOfValidWith("https://127.0.0.1:14000/dir", "ca.example/dir"),
            "coordinator.yaml:8:16: issuers[0].directory: \"ca.example/dir\" "
            "is not an https:// URL");
  EXPECT_EQ(ErrorOfValidWith("https://127.0.0.1:14000/dir",
                             "http://localhost:14000/dir"),
            "OK");
  EXPECT_EQ(ErrorOfValidWith("https://127.0.0.1:14000/dir",
                             "\"http://[::1]:14000/dir\""),
            "OK");
  EXPECT_EQ(ErrorOfValidWith("    directory: https://127.0.0.1:14000/dir\n",
                             "    name: again\n"),
            "coordinator.yaml:7:5: issuers[0].directory: required field is "
            "missing\n"
            "coordinator.yaml:8:5: issuers[0].name: field given twice (first "
            "at line 7)");
}

TEST(ConfigEntriesTest, TrustBundleMustExistAndHoldACertificate) {
  MemoryFilesystem fs;
  fs.Add("/etc/certfleet/notes.txt", "hello", 0644);
  const std::string yaml =
      ValidWith("    directory: https://127.0.0.1:14000/dir\n",
                "    directory: https://127.0.0.1:14000/dir\n"
                "    trust_bundle: /etc/certfleet/ca.pem\n");
  EXPECT_THAT(
      ParseText(yaml, fs),
      certfleet::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                   "coordinator.yaml:9:19: issuers[0].trust_"
                                   "bundle: \"/etc/certfleet/ca.pem\" does not "
                                   "exist"));
  EXPECT_THAT(
      ParseText(absl::StrReplaceAll(yaml, {{"ca.pem", "notes.txt"}}), fs),
      certfleet::testing::StatusIs(
          absl::StatusCode::kInvalidArgument,
          "coordinator.yaml:9:19: issuers[0].trust_bundle: "
          "\"/etc/certfleet/notes.txt\" holds no PEM "
          "certificate"));
}

TEST(ConfigEntriesTest, Contacts) {
  EXPECT_EQ(
      ErrorOfValidWith("    directory: https://127.0.0.1:14000/dir\n",
                       "    directory: https://127.0.0.1:14000/dir\n"
                       "    contact: [ops@example.test, not-an-address]\n"),
      "coordinator.yaml:9:33: issuers[0].contact[1]: \"not-an-address\" "
      "is not an email address (write ops@example.com)");
  EXPECT_EQ(ErrorOfValidWith("    directory: https://127.0.0.1:14000/dir\n",
                             "    directory: https://127.0.0.1:14000/dir\n"
                             "    contact: ops@example.test\n"),
            "coordinator.yaml:9:14: issuers[0].contact: expected a list, got "
            "a scalar");
}

TEST(ConfigEntriesTest, AllowedHosts) {
  const std::string dir = "    directory: https://127.0.0.1:14000/dir\n";
  MemoryFilesystem fs;
  absl::StatusOr<CoordinatorConfig> c = ParseText(
      ValidWith(dir, dir + "    allowed_hosts: [CDN.Acme.Example., 192.0.2.7, "
                           "\"[2001:DB8::1]\", \"2001:db8::2\"]\n"),
      fs);
  ASSERT_OK(c.status());
  EXPECT_THAT(c->issuers[0].allowed_hosts,
              ::testing::ElementsAre("cdn.acme.example", "192.0.2.7",
                                     "2001:db8::1", "2001:db8::2"));
  EXPECT_EQ(ErrorOfValidWith(dir, dir + "    allowed_hosts: "
                                        "[\"https://cdn.example/\", "
                                        "\"*.example\", cdn.example:443]\n"),
            "coordinator.yaml:9:21: issuers[0].allowed_hosts[0]: "
            "\"https://cdn.example/\" is not a host name or IP address (no "
            "scheme, port, path or wildcard)\n"
            "coordinator.yaml:9:45: issuers[0].allowed_hosts[1]: \"*.example\" "
            "is not a host name or IP address (no scheme, port, path or "
            "wildcard)\n"
            "coordinator.yaml:9:58: issuers[0].allowed_hosts[2]: "
            "\"cdn.example:443\" is not a host name or IP address (no "
            "scheme, port, path or wildcard)");
}

TEST(ConfigEntriesTest, ExternalAccountBinding) {
  const auto eab = [](absl::string_view line) {
    return ErrorOfValidWith("    directory: https://127.0.0.1:14000/dir\n",
                            absl::StrCat("    directory: https://127.0.0.1:"
                                         "14000/dir\n",
                                         line, "\n"));
  };
  EXPECT_EQ(eab("    eab: {kid: k, hmac_key: aGk, hmac_key_file: /k}"),
            "coordinator.yaml:9:49: issuers[0].eab.hmac_key_file: set either "
            "hmac_key or hmac_key_file, not both");
  EXPECT_EQ(eab("    eab: {kid: k}"),
            "coordinator.yaml:9:10: issuers[0].eab.hmac_key: required field is "
            "missing (or set hmac_key_file)");
  EXPECT_EQ(eab("    eab: {kid: k, hmac_key: 'not base64!'}"),
            "coordinator.yaml:9:29: issuers[0].eab.hmac_key: the MAC key is "
            "not base64url (copy it exactly as the CA gave it)");
  EXPECT_EQ(eab("    eab: {hmac_key: aGk}"),
            "coordinator.yaml:9:10: issuers[0].eab.kid: required field is "
            "missing");
  EXPECT_EQ(eab("    eab: {kid: k, hmac_key: aGk}"), "OK");
}

TEST(ConfigEntriesTest, DuplicateNamesReportBothPlaces) {
  EXPECT_EQ(ErrorOfValidWith("dns_providers:\n",
                             "  - name: pebble\n"
                             "    directory: https://127.0.0.1:14001/dir\n"
                             "dns_providers:\n"),
            "coordinator.yaml:9:11: issuers[1].name: duplicate issuer name "
            "\"pebble\" (first at coordinator.yaml:7:11)");
  EXPECT_EQ(ErrorOf(absl::StrCat(kValid, "  - name: www\n",
                                 "    names: [www.example.test]\n",
                                 "    issuer: pebble\n")),
            "coordinator.yaml:21:11: certificates[1].name: duplicate "
            "certificate name \"www\" (first at coordinator.yaml:18:11)");
  EXPECT_EQ(ErrorOfValidWith("certificates:\n",
                             "  - name: lab-bind\n"
                             "    type: rfc2136\n"
                             "    zones: [other.test]\n"
                             "    rfc2136: {server: 127.0.0.2, tsig_key_name: "
                             "k, tsig_secret: aGk=}\n"
                             "certificates:\n"),
            "coordinator.yaml:17:11: dns_providers[1].name: duplicate dns "
            "provider name \"lab-bind\" (first at coordinator.yaml:10:11)");
}

TEST(ConfigEntriesTest, ZoneServedByTwoProviders) {
  EXPECT_EQ(ErrorOfValidWith("certificates:\n",
                             "  - name: other-bind\n"
                             "    type: rfc2136\n"
                             "    zones: [Example.Test.]\n"
                             "    rfc2136: {server: 127.0.0.2, tsig_key_name: "
                             "k, tsig_secret: aGk=}\n"
                             "certificates:\n"),
            "coordinator.yaml:19:13: dns_providers[1].zones[0]: zone "
            "\"example.test.\" is already served by dns provider \"lab-bind\" "
            "(coordinator.yaml:12:13)");
}

TEST(ConfigEntriesTest, CertificateIssuerMustExist) {
  EXPECT_EQ(ErrorOfValidWith("issuer: pebble", "issuer: letsencrypt"),
            "coordinator.yaml:20:13: certificates[0].issuer: \"letsencrypt\" "
            "is not an issuer (issuers: \"pebble\")");
  EXPECT_EQ(ErrorOfValidWith("    issuer: pebble\n", ""),
            "coordinator.yaml:18:5: certificates[0].issuer: required field is "
            "missing");
}

TEST(ConfigEntriesTest, CertificateNames) {
  const auto names = [](absl::string_view list) {
    return ErrorOfValidWith("[www.example.test]", list);
  };
  EXPECT_EQ(names("[]"),
            "coordinator.yaml:19:12: certificates[0].names: must list at least "
            "one name");
  EXPECT_EQ(ErrorOfStrictValidWith("[www.example.test]",
                                   "[www.example.test, shop.other.test]"),
            "coordinator.yaml:19:31: certificates[0].names[1]: "
            "\"shop.other.test\" is not inside any dns_providers zone (zones: "
            "example.test.; with dns.follow_cname it could be delegated by "
            "CNAME)");
  // With follow_cname (the default) the name may be delegated by CNAME into
  // a configured zone; the order finds out.
  EXPECT_EQ(names("[www.example.test, shop.other.test]"), "OK");
  EXPECT_EQ(names("[www.example.test, WWW.Example.Test.]"),
            "coordinator.yaml:19:31: certificates[0].names[1]: "
            "\"www.example.test\" is listed twice (first at "
            "certificates[0].names[0])");
  EXPECT_EQ(names("[a..example.test]"),
            "coordinator.yaml:19:13: certificates[0].names[0]: "
            "\"a..example.test\" is not a valid DNS name: empty label");
  EXPECT_EQ(names("[\"foo.*.example.test\"]"),
            "coordinator.yaml:19:13: certificates[0].names[0]: "
            "\"foo.*.example.test\" is not a valid DNS name: \"*\" is allowed "
            "only as the whole leftmost label");
  EXPECT_EQ(names("[\"*foo.example.test\"]"),
            "coordinator.yaml:19:13: certificates[0].names[0]: "
            "\"*foo.example.test\" is not a valid DNS name: \"*\" is allowed "
            "only as the whole leftmost label");
  EXPECT_EQ(names("[my_host.example.test]"),
            "coordinator.yaml:19:13: certificates[0].names[0]: "
            "\"my_host.example.test\" is not a valid DNS name: label "
            "\"my_host\" contains \"_\" (only letters, digits and \"-\")");
  EXPECT_EQ(names("[-www.example.test]"),
            "coordinator.yaml:19:13: certificates[0].names[0]: "
            "\"-www.example.test\" is not a valid DNS name: label \"-www\" "
            "starts or ends with \"-\"");
  const std::string long_label(64, 'a');
  EXPECT_EQ(names(absl::StrCat("[", long_label, ".example.test]")),
            absl::StrCat("coordinator.yaml:19:13: certificates[0].names[0]: \"",
                         long_label,
                         ".example.test\" is not a valid DNS name: "
                         "label \"",
                         long_label, "\" is longer than 63 characters"));
  std::string too_long;
  for (int i = 0; i < 5; ++i)
    absl::StrAppend(&too_long, std::string(50, 'a'), ".");
  absl::StrAppend(&too_long, "example.test");  // 255 + 12 characters
  EXPECT_EQ(names(absl::StrCat("[", too_long, "]")),
            absl::StrCat("coordinator.yaml:19:13: certificates[0].names[0]: \"",
                         too_long,
                         "\" is not a valid DNS name: longer than "
                         "253 characters"));
  EXPECT_EQ(names("[192.0.2.1]"),
            "coordinator.yaml:19:13: certificates[0].names[0]: \"192.0.2.1\" "
            "is an IP address; DNS-01 validates DNS names only");
  // The zone apex and a wildcard under it are both inside the zone.
  EXPECT_EQ(names("[example.test, \"*.example.test\"]"), "OK");
}

TEST(ConfigEntriesTest, AtMostOneHundredNames) {
  std::vector<std::string> list;
  for (int i = 0; i < 101; ++i)
    list.push_back(absl::StrCat("h", i, ".example.test"));
  EXPECT_EQ(ErrorOfValidWith("[www.example.test]",
                             absl::StrCat("[", absl::StrJoin(list, ", "), "]")),
            "coordinator.yaml:19:12: certificates[0].names: has 101 names; at "
            "most 100 are allowed");
  list.pop_back();
  EXPECT_EQ(ErrorOfValidWith("[www.example.test]",
                             absl::StrCat("[", absl::StrJoin(list, ", "), "]")),
            "OK");
}

TEST(ConfigEntriesTest, ObjectNames) {
  EXPECT_EQ(ErrorOfValidWith("  - name: www\n", "  - name: \"my cert\"\n"),
            "coordinator.yaml:18:11: certificates[0].name: \"my cert\" is not "
            "a valid name (letters, digits, \".\", \"_\" and \"-\", starting "
            "with a letter or digit, at most 64 characters)");
}

}  // namespace
}  // namespace certfleet::config
