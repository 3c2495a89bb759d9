// The store section — sqlite (one coordinator) or etcd (several) — and the
// ha section, which needs etcd: defaults, normalization and every message,
// position included. The tests replace kValid's first two lines (the
// sqlite store), so the store's lines are numbered from 1.
#include <string>

#include "absl/strings/str_cat.h"
#include "coordinator/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/config/config_test_util.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::config {
namespace {

using ::testing::ElementsAre;
using testing::MemoryFilesystem;
using testing::ParseText;
using testing::ValidWith;

constexpr char kSqliteStore[] =
    "store:\n  path: /var/lib/certfleet/coordinator.db\n";

constexpr char kCaFileLine[] =
    "internal_ca_file: /var/lib/certfleet/internal-ca.pem\n";

// kValid with `store` (starting "store:\n") in place of its sqlite store,
// and `tail` appended; on etcd also internal_ca_file (last, so the lines
// before keep their numbers).
std::string WithStore(const std::string& store, const std::string& tail = "") {
  const bool etcd = store.find("type: etcd") != std::string::npos;
  return absl::StrCat(ValidWith(kSqliteStore, store), tail,
                      etcd ? kCaFileLine : "");
}

std::string ErrorOf(const std::string& text, MemoryFilesystem* fs = nullptr) {
  MemoryFilesystem empty;
  absl::StatusOr<CoordinatorConfig> c = ParseText(text, fs ? *fs : empty);
  if (c.ok()) return "OK";
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(c.status().message());
}

TEST(StoreConfigTest, SqliteIsTheDefaultAndNeedsNoHa) {
  MemoryFilesystem fs;
  ASSERT_OK_AND_ASSIGN(CoordinatorConfig c, ParseText(testing::kValid, fs));
  EXPECT_EQ(c.store.type, "sqlite");
  EXPECT_EQ(c.store.sqlite_path, "/var/lib/certfleet/coordinator.db");
  EXPECT_EQ(c.ha.lease_ttl, absl::Seconds(3));
  EXPECT_EQ(c.ha.cut_off_after, absl::Seconds(6));
  EXPECT_EQ(c.ha.replica, "");
  EXPECT_EQ(c.internal_ca_file, "/var/lib/certfleet/internal-ca.pem");
}

TEST(StoreConfigTest, EtcdNeedsAnInternalCaFile) {
  MemoryFilesystem fs;
  const std::string etcd =
      "store:\n  type: etcd\n  etcd:\n    endpoints: [10.0.0.1:2379]\n";
  EXPECT_EQ(ErrorOf(ValidWith(kSqliteStore, etcd)),
            "coordinator.yaml:1:1: internal_ca_file: required with store.type "
            "etcd: the file every replica writes the internal CA certificate "
            "to, for agents' coordinator_ca (such as "
            "/var/lib/certfleet/internal-ca.pem)");
  ASSERT_OK_AND_ASSIGN(CoordinatorConfig c, ParseText(WithStore(etcd), fs));
  EXPECT_EQ(c.internal_ca_file, "/var/lib/certfleet/internal-ca.pem");
  ASSERT_OK_AND_ASSIGN(
      CoordinatorConfig sqlite,
      ParseText(absl::StrCat(testing::kValid,
                             "internal_ca_file: /srv/ca/agents-ca.pem\n"),
                fs));
  EXPECT_EQ(sqlite.internal_ca_file, "/srv/ca/agents-ca.pem");
}

TEST(StoreConfigTest, EtcdWithDefaults) {
  MemoryFilesystem fs;
  ASSERT_OK_AND_ASSIGN(
      CoordinatorConfig c,
      ParseText(WithStore("store:\n  type: etcd\n  etcd:\n"
                          "    endpoints: [127.0.0.1:2379, \"[::1]:2379\"]\n"),
                fs));
  EXPECT_EQ(c.store.type, "etcd");
  EXPECT_THAT(c.store.etcd.endpoints,
              ElementsAre("127.0.0.1:2379", "[::1]:2379"));
  EXPECT_EQ(c.store.etcd.prefix, "/certfleet/");
  EXPECT_EQ(c.store.etcd.ca_file, "");
  EXPECT_EQ(c.store.etcd.request_timeout, absl::Seconds(5));
}

TEST(StoreConfigTest, EtcdWithTlsAndHa) {
  MemoryFilesystem fs;
  fs.Add("/etc/certfleet/etcd-ca.pem", "ca", 0644);
  fs.Add("/etc/certfleet/etcd-client.pem", "cert", 0644);
  fs.Add("/etc/certfleet/etcd-client.key", "key", 0600);
  ASSERT_OK_AND_ASSIGN(
      CoordinatorConfig c,
      ParseText(WithStore("store:\n  type: etcd\n  etcd:\n"
                          "    endpoints: [10.0.0.1:2379]\n"
                          "    prefix: /prod/certfleet/\n"
                          "    ca_file: /etc/certfleet/etcd-ca.pem\n"
                          "    cert_file: /etc/certfleet/etcd-client.pem\n"
                          "    key_file: /etc/certfleet/etcd-client.key\n"
                          "    request_timeout: 2s\n",
                          "ha:\n  lease_ttl: 5s\n  cut_off_after: 10s\n"
                          "  replica: coord-2\n"),
                fs));
  EXPECT_EQ(c.store.etcd.prefix, "/prod/certfleet/");
  EXPECT_EQ(c.store.etcd.ca_file, "/etc/certfleet/etcd-ca.pem");
  EXPECT_EQ(c.store.etcd.cert_file, "/etc/certfleet/etcd-client.pem");
  EXPECT_EQ(c.store.etcd.key_file, "/etc/certfleet/etcd-client.key");
  EXPECT_EQ(c.store.etcd.request_timeout, absl::Seconds(2));
  EXPECT_EQ(c.ha.lease_ttl, absl::Seconds(5));
  EXPECT_EQ(c.ha.cut_off_after, absl::Seconds(10));
  EXPECT_EQ(c.ha.replica, "coord-2");
}

TEST(StoreConfigTest, StoreErrorsNameTheField) {
  EXPECT_EQ(ErrorOf(WithStore("store:\n  type: consul\n  path: /x.db\n")),
            "coordinator.yaml:2:9: store.type: \"consul\" is not one of "
            "sqlite, etcd");
  EXPECT_EQ(ErrorOf(WithStore("store:\n  type: etcd\n")),
            "coordinator.yaml:2:3: store.etcd: required field is missing");
  EXPECT_EQ(ErrorOf(WithStore("store:\n  type: etcd\n  etcd:\n"
                              "    endpoints: []\n")),
            "coordinator.yaml:4:16: store.etcd.endpoints: list at least one "
            "etcd member (ip:port)");
  EXPECT_EQ(ErrorOf(WithStore("store:\n  type: etcd\n  etcd:\n"
                              "    endpoints: [etcd-1.internal:2379]\n")),
            "coordinator.yaml:4:17: store.etcd.endpoints[0]: "
            "\"etcd-1.internal:2379\" is not an IP address and port: "
            "host names are not resolved, use an IP address");
  EXPECT_EQ(ErrorOf(WithStore("store:\n  type: etcd\n  path: /x.db\n  etcd:\n"
                              "    endpoints: [10.0.0.1:2379]\n")),
            "coordinator.yaml:3:9: store.path: only with type sqlite");
  EXPECT_EQ(ErrorOf(WithStore("store:\n  path: /x.db\n  etcd:\n"
                              "    endpoints: [10.0.0.1:2379]\n")),
            "coordinator.yaml:4:5: store.etcd: only with type etcd");
  EXPECT_EQ(ErrorOf(WithStore("store:\n  type: etcd\n  etcd:\n"
                              "    endpoints: [10.0.0.1:2379]\n"
                              "    prefix: certfleet\n")),
            "coordinator.yaml:5:13: store.etcd.prefix: \"certfleet\" must "
            "start and end with \"/\" (such as /certfleet/)");
}

TEST(StoreConfigTest, TlsFilesMustExistAndComeInPairs) {
  MemoryFilesystem fs;
  fs.Add("/etc/certfleet/client.pem", "cert", 0644);
  fs.Add("/etc/certfleet/client.key", "key", 0600);
  fs.Add("/etc/certfleet/shared.key", "key", 0644);
  const std::string head =
      "store:\n  type: etcd\n  etcd:\n    endpoints: [10.0.0.1:2379]\n";
  EXPECT_EQ(
      ErrorOf(WithStore(head + "    ca_file: /etc/certfleet/ca.pem\n"), &fs),
      "coordinator.yaml:5:14: store.etcd.ca_file: "
      "/etc/certfleet/ca.pem: no such file");
  EXPECT_EQ(
      ErrorOf(WithStore(head + "    cert_file: /etc/certfleet/client.pem\n"),
              &fs),
      "coordinator.yaml:5:16: store.etcd.cert_file: set cert_file and "
      "key_file together (the client certificate and its key)");
  fs.Add("/etc/certfleet/ca.pem", "ca", 0644);
  EXPECT_EQ(
      ErrorOf(WithStore(head + "    cert_file: /etc/certfleet/client.pem\n"
                               "    key_file: /etc/certfleet/client.key\n"),
              &fs),
      "coordinator.yaml:5:16: store.etcd.cert_file: a client certificate "
      "needs TLS: set ca_file (the CA of the etcd members)");
  const std::string message =
      ErrorOf(WithStore(head + "    ca_file: /etc/certfleet/ca.pem\n"
                               "    cert_file: /etc/certfleet/client.pem\n"
                               "    key_file: /etc/certfleet/shared.key\n"),
              &fs);
  EXPECT_EQ(message,
            "coordinator.yaml:7:15: store.etcd.key_file: "
            "\"/etc/certfleet/shared.key\" is accessible by group or others "
            "(mode 0644); a secret must be private to its owner: chmod 600 "
            "/etc/certfleet/shared.key");
}

TEST(StoreConfigTest, HaNeedsEtcdAndAWholeSecondLease) {
  const std::string etcd =
      "store:\n  type: etcd\n  etcd:\n    endpoints: [10.0.0.1:2379]\n";
  // kValid is 20 lines; with the 4-line store it is 22, so ha is line 23.
  EXPECT_EQ(ErrorOf(WithStore(kSqliteStore, "ha:\n  lease_ttl: 3s\n")),
            "coordinator.yaml:22:3: ha: several coordinators need a shared "
            "store: set store.type to etcd (a single coordinator on SQLite "
            "needs no ha section)");
  EXPECT_EQ(ErrorOf(WithStore(etcd, "ha:\n  lease_ttl: 1s\n")),
            "coordinator.yaml:24:14: ha.lease_ttl: must be whole seconds "
            "from 2s to 5m (etcd leases count in seconds)");
  EXPECT_EQ(ErrorOf(WithStore(etcd, "ha:\n  lease_ttl: 2500ms\n")),
            "coordinator.yaml:24:14: ha.lease_ttl: must be whole seconds "
            "from 2s to 5m (etcd leases count in seconds)");
  EXPECT_EQ(ErrorOf(WithStore(etcd, "ha:\n  cut_off_after: 1s\n")),
            "coordinator.yaml:24:18: ha.cut_off_after: must be whole seconds "
            "from 2s to 5m (etcd leases count in seconds)");
  EXPECT_EQ(ErrorOf(WithStore(etcd, "ha:\n  replica: -bad\n")),
            "coordinator.yaml:24:12: ha.replica: \"-bad\" is not a replica "
            "name: 1-63 letters, digits, \".\", \"-\", \"_\", starting with "
            "a letter or digit");
}

}  // namespace
}  // namespace certfleet::config
