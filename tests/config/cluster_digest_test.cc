// The cluster digest: equal for replicas whose configurations decide the
// same things however the files are written, different as soon as one
// decision differs; and removed_certificates.
#include "coordinator/config/cluster_digest.h"

#include "common/short_digest.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/config/config_test_util.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::config {
namespace {

using ::certfleet::config::testing::ErrorOfValidWith;
using ::certfleet::config::testing::kValid;
using ::certfleet::config::testing::ParseText;
using ::certfleet::config::testing::ValidWith;
using ::testing::MatchesRegex;

std::string DigestOf(const std::string& text) {
  testing::MemoryFilesystem fs;
  absl::StatusOr<CoordinatorConfig> c = ParseText(text, fs);
  EXPECT_OK(c.status()) << text;
  return c.ok() ? c->cluster_digest : "";
}

TEST(ClusterDigestTest, IsASha256OfTheClusterWideSections) {
  EXPECT_THAT(DigestOf(kValid), MatchesRegex("sha256:[0-9a-f]{64}"));
  EXPECT_EQ(ShortDigest(DigestOf(kValid)), DigestOf(kValid).substr(7, 12));
}

TEST(ClusterDigestTest, HowTheFileIsWrittenDoesNotCount) {
  const std::string digest = DigestOf(kValid);
  // Comments, flow style, key order.
  EXPECT_EQ(DigestOf(ValidWith("    names: [www.example.test]\n"
                               "    issuer: pebble\n",
                               "    # the web front\n"
                               "    issuer: pebble\n"
                               "    names:\n"
                               "      - www.example.test\n")),
            digest);
  // What is rightly per replica: the store's path, the metrics listener.
  EXPECT_EQ(DigestOf(absl::StrCat(
                ValidWith("  path: /var/lib/certfleet/coordinator.db\n",
                          "  path: /srv/other.db\n"),
                "metrics:\n  listen: 127.0.0.1:9101\n")),
            digest);
}

TEST(ClusterDigestTest, EveryDecisionCounts) {
  const std::string digest = DigestOf(kValid);
  EXPECT_NE(DigestOf(ValidWith("[www.example.test]",
                               "[www.example.test, api.example.test]")),
            digest);
  EXPECT_NE(DigestOf(ValidWith("https://127.0.0.1:14000/dir",
                               "https://127.0.0.1:14001/dir")),
            digest);
  EXPECT_NE(DigestOf(absl::StrCat(kValid, "rollout:\n  bake_time: 1m\n")),
            digest);
  EXPECT_NE(DigestOf(absl::StrCat(kValid, "removed_certificates: [old]\n")),
            digest);
}

TEST(RemovedCertificatesTest, AreReadAndMayNotStillBeConfigured) {
  testing::MemoryFilesystem fs;
  ASSERT_OK_AND_ASSIGN(
      CoordinatorConfig c,
      ParseText(absl::StrCat(kValid, "removed_certificates: [old, api]\n"),
                fs));
  EXPECT_THAT(c.removed_certificates, ::testing::ElementsAre("old", "api"));
  EXPECT_EQ(
      ErrorOfValidWith("    issuer: pebble\n",
                       "    issuer: pebble\nremoved_certificates: [www]\n"),
      "coordinator.yaml:21:24: removed_certificates[0]: \"www\" is also "
      "under certificates: a certificate is either configured or removed");
}

}  // namespace
}  // namespace certfleet::config
