// SqliteStore's fleet tables beyond the contract: a database written by an
// older coordinator (schema 1, schema 3) migrates to the latest and keeps its
// data; the token and identity-serial compare-and-sets and the write-once CA
// hold across two connections (two coordinator processes); the columns read
// sensibly in the sqlite3 CLI.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "coordinator/store/migrations.h"
#include "coordinator/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "tests/store/raw_sqlite.h"
#include "tests/store/status_or_matchers.h"
#include "tests/store/store_contract_test.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::store {
namespace {

using ::certfleet::testing::StatusIs;
using ::certfleet::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;

class SqliteFleetTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteStore> OpenOrDie() {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open(path_);
    EXPECT_THAT(store, ::certfleet::testing::IsOk());
    return store.ok() ? *std::move(store) : nullptr;
  }

  TempDir dir_{"sqlite-fleet"};
  const std::string path_ = dir_.File("state.db");
};

TEST_F(SqliteFleetTest, SchemaOneDatabaseMigratesKeepingItsData) {
  {
    // What a coordinator from before the fleet tables left behind.
    RawSqlite old(path_);
    ASSERT_OK(ApplyMigrations(old.get(), path_, AllMigrations().subspan(0, 1)));
    ASSERT_OK(old.Exec(
        "INSERT INTO accounts VALUES ('pebble', 'https://127.0.0.1:14000/dir',"
        " 'https://127.0.0.1:14000/my-account/1', 'ec256', x'00ff', "
        "'[\"mailto:ops@example.test\"]', 'valid', 5, 6)"));
    ASSERT_OK(old.Exec(
        "INSERT INTO versions VALUES ('web', 1, 'pebble', '[\"web.example.\"]',"
        " 'ec256', '0a', 1, 2, 'leaf', 'chain', x'01', 'order', 'ari', 3, "
        "-9223372036854775807 - 1, '')"));
    ASSERT_OK(old.Exec(
        "INSERT INTO orders VALUES ('api', 'pebble', 'url', 'fp', "
        "'[\"api.example.\"]', 'ec256', x'02', 'placed', '[]', '', 7, 8)"));
    ASSERT_OK(
        old.Exec("INSERT INTO certificate_state VALUES ('api', 9, 10, 2, 'rate "
                 "limited', 11, 12)"));
    EXPECT_THAT(CurrentSchemaVersion(old.get()), IsOkAndHolds(1));
  }

  std::unique_ptr<SqliteStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  {
    RawSqlite raw(path_);
    EXPECT_THAT(CurrentSchemaVersion(raw.get()),
                IsOkAndHolds(LatestSchemaVersion()));
  }
  const AccountRecord account = {
      .issuer = "pebble",
      .directory_url = "https://127.0.0.1:14000/dir",
      .account_url = "https://127.0.0.1:14000/my-account/1",
      .key_type = "ec256",
      .key_sealed = std::string("\x00\xff", 2),
      .contacts = {"mailto:ops@example.test"},
      .status = "valid",
      .created_at = absl::FromUnixNanos(5),
      .updated_at = absl::FromUnixNanos(6)};
  EXPECT_THAT(store->GetAccount("pebble"), IsOkAndHolds(Optional(account)));
  ASSERT_OK_AND_ASSIGN(std::optional<VersionRecord> version,
                       store->LatestVersion("web"));
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(version->serial_hex, "0a");
  EXPECT_EQ(version->revoked_at, absl::InfinitePast());
  ASSERT_OK_AND_ASSIGN(std::optional<OrderRecord> order,
                       store->GetOrder("api"));
  ASSERT_TRUE(order.has_value());
  EXPECT_EQ(order->stage, "placed");
  // Migration 6: an order from before answered nothing on record, never.
  EXPECT_THAT(order->answered_challenges, IsEmpty());
  EXPECT_EQ(order->answered_at, absl::InfinitePast());
  // Migration 5: no stored wait came from a client-side limit.
  ASSERT_OK_AND_ASSIGN(std::optional<CertificateState> state,
                       store->GetCertificateState("api"));
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->consecutive_failures, 2);
  EXPECT_EQ(state->limited_by, "");
  // Numbering carries on, and the new tables work.
  EXPECT_THAT(store->AddVersion({.cert_name = "web"}), IsOkAndHolds(2));
  const AgentRecord agent = {.id = "agt-1", .labels = {{"role", "web"}}};
  ASSERT_OK(store->PutAgent(agent));
  EXPECT_THAT(store->GetAgent("agt-1"), IsOkAndHolds(Optional(agent)));
}

TEST_F(SqliteFleetTest, SchemaThreeAgentsAndTokensMigrateAsActiveAndNew) {
  {
    // Agents and a token from a coordinator before revocable identities.
    RawSqlite old(path_);
    ASSERT_OK(ApplyMigrations(old.get(), path_, AllMigrations().subspan(0, 3)));
    ASSERT_OK(old.Exec(
        "INSERT INTO agents VALUES ('agt-1', 'web-1', '{\"role\":\"web\"}', "
        "5, 6, '0a', 7, 't1')"));
    ASSERT_OK(old.Exec(
        "INSERT INTO bootstrap_tokens VALUES ('t1', x'00', '{}', 1, 2, 3, "
        "'agt-1', 'rack 7')"));
  }
  std::unique_ptr<SqliteStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  const AgentRecord agent = {.id = "agt-1",
                             .hostname = "web-1",
                             .labels = {{"role", "web"}},
                             .enrolled_at = absl::FromUnixNanos(5),
                             .last_seen_at = absl::FromUnixNanos(6),
                             .identity_serial = "0a",
                             .identity_not_after = absl::FromUnixNanos(7),
                             .token_id = "t1",
                             .status = AgentStatus::kActive,
                             .status_changed_at = absl::InfinitePast()};
  EXPECT_THAT(store->GetAgent("agt-1"), IsOkAndHolds(Optional(agent)));
  ASSERT_OK_AND_ASSIGN(std::optional<TokenRecord> token, store->GetToken("t1"));
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(token->for_agent, "");
  EXPECT_EQ(token->used_by, "agt-1");
  // The CHECK keeps a status the code cannot read out of the table.
  RawSqlite raw(path_);
  EXPECT_THAT(raw.Exec("UPDATE agents SET status = 'retired'"),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("CHECK constraint failed")));
}

// Two coordinator processes on one file renewing one agent's identity at
// once: the serial compare inside UpdateAgent lets exactly one through.
TEST_F(SqliteFleetTest, TwoConnectionsReplaceAnIdentitySerialOnce) {
  std::unique_ptr<SqliteStore> a = OpenOrDie();
  std::unique_ptr<SqliteStore> b = OpenOrDie();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const std::string id = absl::StrCat("agt-", round);
    ASSERT_OK(a->PutAgent({.id = id, .identity_serial = "old"}));
    std::atomic<int> winners{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      SqliteStore* store = t % 2 == 0 ? a.get() : b.get();
      threads.emplace_back([&, store, t] {
        absl::StatusOr<AgentRecord> r =
            store->UpdateAgent(id, [t](AgentRecord& agent) {
              if (agent.identity_serial != "old") {
                return absl::PermissionDeniedError("replaced");
              }
              agent.identity_serial = absl::StrCat("new-", t);
              return absl::OkStatus();
            });
        if (r.ok()) {
          ++winners;
        } else {
          EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied)
              << r.status();
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(winners.load(), 1) << id;
  }
}

TEST_F(SqliteFleetTest, TwoConnectionsConsumeATokenOnce) {
  std::unique_ptr<SqliteStore> a = OpenOrDie();
  std::unique_ptr<SqliteStore> b = OpenOrDie();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const std::string id = absl::StrCat("token-", round);
    ASSERT_OK(a->PutToken({.id = id}));
    std::atomic<int> winners{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      SqliteStore* store = t % 2 == 0 ? a.get() : b.get();
      threads.emplace_back([&, store, t] {
        absl::Status s = store->ConsumeToken(id, absl::StrCat("agt-", t),
                                             absl::FromUnixSeconds(100));
        if (s.ok()) {
          ++winners;
        } else {
          EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(winners.load(), 1) << id;
  }
}

TEST_F(SqliteFleetTest, SecondConnectionGetsTheFirstInternalCa) {
  std::unique_ptr<SqliteStore> a = OpenOrDie();
  std::unique_ptr<SqliteStore> b = OpenOrDie();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const InternalCaRecord first = {.cert_pem = "first", .key_sealed = "k1"};
  const InternalCaRecord second = {.cert_pem = "second", .key_sealed = "k2"};
  EXPECT_THAT(a->CreateInternalCaIfAbsent(first), IsOkAndHolds(first));
  EXPECT_THAT(b->CreateInternalCaIfAbsent(second), IsOkAndHolds(first));
  EXPECT_THAT(b->GetInternalCa(), IsOkAndHolds(Optional(first)));
  RawSqlite raw(path_);
  EXPECT_THAT(raw.QueryInt("SELECT COUNT(*) FROM internal_ca"),
              IsOkAndHolds(1));
}

TEST_F(SqliteFleetTest, ColumnsAreReadableWithTheSqliteCli) {
  std::unique_ptr<SqliteStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->PutAgent(
      {.id = "agt-1", .labels = {{"pool", "edge-eu"}, {"env", "prod"}}}));
  ASSERT_OK(store->PutToken({.id = "t1", .secret_hash = std::string(32, 'h')}));
  ASSERT_OK(store->PutTargetState(
      {.agent_id = "agt-1", .target = "nginx", .healthy = true}));
  RawSqlite raw(path_);
  EXPECT_THAT(raw.QueryText("SELECT labels FROM agents"),
              IsOkAndHolds(R"({"env":"prod","pool":"edge-eu"})"));
  EXPECT_THAT(raw.QueryText("SELECT typeof(secret_hash) FROM bootstrap_tokens"),
              IsOkAndHolds("blob"));
  EXPECT_THAT(raw.QueryInt("SELECT used_at FROM bootstrap_tokens"),
              IsOkAndHolds(INT64_MIN));
  EXPECT_THAT(raw.QueryInt("SELECT healthy FROM target_states"),
              IsOkAndHolds(1));
}

TEST_F(SqliteFleetTest, UnreadableLabelsAreDataLoss) {
  std::unique_ptr<SqliteStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->PutAgent({.id = "agt-1"}));
  RawSqlite raw(path_);
  ASSERT_OK(raw.Exec("UPDATE agents SET labels = '{\"role\": 1}'"));
  EXPECT_THAT(store->GetAgent("agt-1"),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("store: get agent agt-1"),
                             HasSubstr("column labels"))));
  ASSERT_OK(raw.Exec("UPDATE agents SET labels = '[]'"));
  EXPECT_THAT(store->ListAgents(),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("store: list agents"),
                             HasSubstr("not a JSON object"))));
}

}  // namespace
}  // namespace certfleet::store
