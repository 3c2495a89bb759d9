// The Store contract (store.h), run against every backend that instantiates
// StoreContractTest.
#include "tests/store/store_contract_test.h"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "tests/store/status_or_matchers.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::store {
namespace {

using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;
using ::testing::SizeIs;

// Every byte value, NUL first: sealed keys are arbitrary bytes.
std::string AllBytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  return bytes;
}

// Times with nanoseconds and before 1970, which a lossy encoding would change.
const absl::Time kT1 = absl::FromUnixNanos(1'700'000'000'123'456'789);
const absl::Time kT2 = absl::FromUnixNanos(1'700'086'400'987'654'321);
const absl::Time kBefore1970 = absl::FromUnixNanos(-1'234'567'891);

AccountRecord FullAccount(const std::string& issuer) {
  return {.issuer = issuer,
          .directory_url = "https://127.0.0.1:14000/dir",
          .account_url = "https://127.0.0.1:14000/my-account/1",
          .key_type = "ec256",
          .key_sealed = AllBytes(),
          .contacts = {"mailto:ops@example.com", "mailto:sec@example.com"},
          .status = "valid",
          .created_at = kT1,
          .updated_at = kT2};
}

CertificateState FullState(const std::string& name) {
  return {.name = name,
          .next_attempt_at = kT2,
          .renew_at = kT1,
          .consecutive_failures = 3,
          .last_error = "issuer pebble: urn:ietf:params:acme:error:rateLimited",
          .last_attempt_at = kBefore1970,
          .updated_at = kT2,
          .limited_by = "300 new orders per 3h"};
}

VersionRecord FullVersion(const std::string& cert_name) {
  return {.cert_name = cert_name,
          .version = 0,
          .issuer = "pebble",
          .names = {"web.example.", "*.web.example.", "bücher.example."},
          .key_type = "ec384",
          .serial_hex = "0a1b2c3d4e5f",
          .not_before = kBefore1970,
          .not_after = kT2,
          .leaf_pem =
              "-----BEGIN CERTIFICATE-----\nMIIB\n-----END "
              "CERTIFICATE-----\n",
          .chain_pem =
              "-----BEGIN CERTIFICATE-----\nMIIC\n-----END "
              "CERTIFICATE-----\n",
          .key_sealed = std::string("sealed\0key\xff", 11),
          .order_url = "https://127.0.0.1:14000/my-order/7",
          .ari_cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
          .created_at = kT1,
          .revoked_at = absl::InfinitePast(),
          .revocation_reason = ""};
}

OrderRecord FullOrder(const std::string& cert_name) {
  return {.cert_name = cert_name,
          .issuer = "pebble",
          .order_url = "https://127.0.0.1:14000/my-order/9",
          .spec_fingerprint = "sha256:abcdef",
          .names = {"web.example.", "*.web.example."},
          .key_type = "rsa2048",
          .key_sealed = AllBytes(),
          .stage = "presented",
          .dns_records = {{.provider = "bind",
                           .zone = "web.example.",
                           .fqdn = "_acme-challenge.web.example.",
                           .value = "abc\"quoted\\slash"},
                          {.provider = "bind",
                           .zone = "web.example.",
                           .fqdn = "_acme-challenge.web.example.",
                           .value = "second-value-ü"}},
          .replaces = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
          .created_at = kT1,
          .updated_at = absl::InfiniteFuture(),
          .answered_challenges = {"https://127.0.0.1:14000/chalZ/1",
                                  "https://127.0.0.1:14000/chalZ/2"},
          .answered_at = kT2};
}

TEST_P(StoreContractTest, GetOfMissingKeysIsNullopt) {
  EXPECT_THAT(store_->GetAccount("pebble"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->GetCertificateState("web"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->GetVersion("web", 1), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->LatestVersion("web"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->GetOrder("web"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->ListVersions("web"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->ListCertificateStates(), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->ListOrders(), IsOkAndHolds(IsEmpty()));
}

TEST_P(StoreContractTest, AccountRoundTripsEveryField) {
  const AccountRecord account = FullAccount("pebble");
  ASSERT_OK(store_->PutAccount(account));
  EXPECT_THAT(store_->GetAccount("pebble"), IsOkAndHolds(Optional(account)));
  EXPECT_THAT(store_->GetAccount("other"), IsOkAndHolds(std::nullopt));
}

TEST_P(StoreContractTest, AccountWithEmptyValuesAndInfiniteTimesRoundTrips) {
  const AccountRecord account = {.issuer = "empty",
                                 .created_at = absl::InfinitePast(),
                                 .updated_at = absl::InfiniteFuture()};
  ASSERT_OK(store_->PutAccount(account));
  EXPECT_THAT(store_->GetAccount("empty"), IsOkAndHolds(Optional(account)));
}

TEST_P(StoreContractTest, PutAccountReplaces) {
  ASSERT_OK(store_->PutAccount(FullAccount("pebble")));
  AccountRecord changed = FullAccount("pebble");
  changed.status = "deactivated";
  changed.contacts = {};
  changed.key_sealed = std::string("\0", 1);
  changed.updated_at = absl::InfiniteFuture();
  ASSERT_OK(store_->PutAccount(changed));
  EXPECT_THAT(store_->GetAccount("pebble"), IsOkAndHolds(Optional(changed)));
}

// What a migration walks: every account, every certificate with versions.
TEST_P(StoreContractTest, ListsAccountsAndCertificatesWithVersions) {
  EXPECT_THAT(store_->ListAccounts(), IsOkAndHolds(::testing::IsEmpty()));
  EXPECT_THAT(store_->ListVersionedCertificates(),
              IsOkAndHolds(::testing::IsEmpty()));
  ASSERT_OK(store_->PutAccount(FullAccount("zeta")));
  ASSERT_OK(store_->PutAccount(FullAccount("alpha")));
  EXPECT_THAT(store_->ListAccounts(),
              IsOkAndHolds(::testing::ElementsAre(FullAccount("alpha"),
                                                  FullAccount("zeta"))));
  ASSERT_OK(store_->AddVersion(FullVersion("web")).status());
  ASSERT_OK(store_->AddVersion(FullVersion("api")).status());
  ASSERT_OK(store_->AddVersion(FullVersion("web")).status());
  ASSERT_OK(store_->PutOrder(FullOrder("mail")));  // an order is no version
  EXPECT_THAT(store_->ListVersionedCertificates(),
              IsOkAndHolds(::testing::ElementsAre("api", "web")));
}

TEST_P(StoreContractTest, CertificateStateRoundTripsAndReplaces) {
  const CertificateState defaults = {.name = "fresh"};  // infinite times
  ASSERT_OK(store_->PutCertificateState(defaults));
  EXPECT_THAT(store_->GetCertificateState("fresh"),
              IsOkAndHolds(Optional(defaults)));

  ASSERT_OK(store_->PutCertificateState(FullState("web")));
  EXPECT_THAT(store_->GetCertificateState("web"),
              IsOkAndHolds(Optional(FullState("web"))));
  CertificateState changed = FullState("web");
  changed.consecutive_failures = 0;
  changed.last_error = "";
  changed.next_attempt_at = absl::InfinitePast();
  ASSERT_OK(store_->PutCertificateState(changed));
  EXPECT_THAT(store_->GetCertificateState("web"),
              IsOkAndHolds(Optional(changed)));
}

TEST_P(StoreContractTest, ListCertificateStatesIsSortedByName) {
  for (const char* name : {"web", "api", "mail"}) {
    ASSERT_OK(store_->PutCertificateState(FullState(name)));
  }
  EXPECT_THAT(store_->ListCertificateStates(),
              IsOkAndHolds(ElementsAre(FullState("api"), FullState("mail"),
                                       FullState("web"))));
}

TEST_P(StoreContractTest, AddVersionNumbersFromOnePerCertificate) {
  VersionRecord v = FullVersion("web");
  v.version = 42;  // ignored: the store assigns the number
  EXPECT_THAT(store_->AddVersion(v), IsOkAndHolds(1));
  EXPECT_THAT(store_->AddVersion(v), IsOkAndHolds(2));
  EXPECT_THAT(store_->AddVersion(FullVersion("api")), IsOkAndHolds(1));
  EXPECT_THAT(store_->AddVersion(v), IsOkAndHolds(3));
  EXPECT_THAT(store_->AddVersion(FullVersion("api")), IsOkAndHolds(2));
  EXPECT_THAT(store_->GetVersion("web", 42), IsOkAndHolds(std::nullopt));
}

TEST_P(StoreContractTest, VersionRoundTripsEveryField) {
  ASSERT_OK(store_->AddVersion(FullVersion("web")));
  VersionRecord sparse = {.cert_name = "web",
                          .not_before = absl::InfinitePast(),
                          .not_after = absl::InfiniteFuture(),
                          .created_at = kBefore1970};
  ASSERT_OK(store_->AddVersion(sparse));

  VersionRecord want = FullVersion("web");
  want.version = 1;
  EXPECT_THAT(store_->GetVersion("web", 1), IsOkAndHolds(Optional(want)));
  sparse.version = 2;
  EXPECT_THAT(store_->GetVersion("web", 2), IsOkAndHolds(Optional(sparse)));
  EXPECT_THAT(store_->GetVersion("web", 3), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->GetVersion("api", 1), IsOkAndHolds(std::nullopt));
}

TEST_P(StoreContractTest, AddVersionDeletesThatCertificatesOrderOnly) {
  ASSERT_OK(store_->PutOrder(FullOrder("web")));
  ASSERT_OK(store_->PutOrder(FullOrder("api")));
  ASSERT_OK(store_->AddVersion(FullVersion("web")));
  EXPECT_THAT(store_->GetOrder("web"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->GetOrder("api"),
              IsOkAndHolds(Optional(FullOrder("api"))));
  // Without an order to delete, AddVersion still succeeds.
  EXPECT_THAT(store_->AddVersion(FullVersion("web")), IsOkAndHolds(2));
}

TEST_P(StoreContractTest, ListVersionsIsNewestFirstPerCertificate) {
  for (int i = 0; i < 3; ++i) {
    VersionRecord v = FullVersion("web");
    v.serial_hex = absl::StrCat("0", i + 1);
    ASSERT_OK(store_->AddVersion(v));
  }
  ASSERT_OK(store_->AddVersion(FullVersion("api")));
  ASSERT_OK_AND_ASSIGN(std::vector<VersionRecord> list,
                       store_->ListVersions("web"));
  ASSERT_EQ(list.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(list[i].cert_name, "web");
    EXPECT_EQ(list[i].version, 3 - i);
    EXPECT_EQ(list[i].serial_hex, absl::StrCat("0", 3 - i));
  }
  EXPECT_THAT(store_->ListVersions("api"), IsOkAndHolds(SizeIs(1)));
}

TEST_P(StoreContractTest, LatestVersionIsTheHighestNumber) {
  ASSERT_OK(store_->AddVersion(FullVersion("web")));
  VersionRecord second = FullVersion("web");
  second.serial_hex = "ff";
  ASSERT_OK(store_->AddVersion(second));
  ASSERT_OK(store_->AddVersion(FullVersion("api")));
  second.version = 2;
  EXPECT_THAT(store_->LatestVersion("web"), IsOkAndHolds(Optional(second)));
  EXPECT_THAT(store_->LatestVersion("none"), IsOkAndHolds(std::nullopt));
}

TEST_P(StoreContractTest, MarkVersionRevokedChangesOnlyThatVersion) {
  ASSERT_OK(store_->AddVersion(FullVersion("web")));
  ASSERT_OK(store_->AddVersion(FullVersion("web")));
  ASSERT_OK(store_->MarkVersionRevoked("web", 1, kT2, "keyCompromise"));

  VersionRecord revoked = FullVersion("web");
  revoked.version = 1;
  revoked.revoked_at = kT2;
  revoked.revocation_reason = "keyCompromise";
  EXPECT_THAT(store_->GetVersion("web", 1), IsOkAndHolds(Optional(revoked)));
  VersionRecord untouched = FullVersion("web");
  untouched.version = 2;
  EXPECT_THAT(store_->GetVersion("web", 2), IsOkAndHolds(Optional(untouched)));
}

TEST_P(StoreContractTest, MarkVersionRevokedOfMissingVersionIsNotFound) {
  ASSERT_OK(store_->AddVersion(FullVersion("web")));
  EXPECT_THAT(store_->MarkVersionRevoked("web", 7, kT2, "superseded"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("web#7")));
  EXPECT_THAT(store_->MarkVersionRevoked("api", 1, kT2, "superseded"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("api#1")));
}

TEST_P(StoreContractTest, DeleteVersionRemovesAnOlderVersionOnly) {
  for (int i = 0; i < 3; ++i) ASSERT_OK(store_->AddVersion(FullVersion("web")));
  ASSERT_OK(store_->AddVersion(FullVersion("api")));
  ASSERT_OK(store_->DeleteVersion("web", 2));
  EXPECT_THAT(store_->GetVersion("web", 2), IsOkAndHolds(std::nullopt));
  ASSERT_OK_AND_ASSIGN(std::vector<VersionRecord> left,
                       store_->ListVersions("web"));
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].version, 3);
  EXPECT_EQ(left[1].version, 1);
  EXPECT_THAT(store_->ListVersions("api"), IsOkAndHolds(SizeIs(1)));
}

TEST_P(StoreContractTest, DeleteVersionKeepsTheNewestAndNeverReusesANumber) {
  ASSERT_OK(store_->AddVersion(FullVersion("web")));
  ASSERT_OK(store_->AddVersion(FullVersion("web")));
  EXPECT_THAT(
      store_->DeleteVersion("web", 2),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("web#2")));
  ASSERT_OK(store_->DeleteVersion("web", 1));
  EXPECT_THAT(store_->DeleteVersion("web", 1),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("web#1")));
  EXPECT_THAT(store_->DeleteVersion("api", 1),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("api#1")));
  // Version 2 is the only one left; the next is 3, not 1 or 2 again.
  EXPECT_THAT(store_->AddVersion(FullVersion("web")), IsOkAndHolds(3));
  EXPECT_THAT(store_->ListVersionedCertificates(),
              IsOkAndHolds(ElementsAre("web")));
}

TEST_P(StoreContractTest, OrderRoundTripsEveryField) {
  ASSERT_OK(store_->PutOrder(FullOrder("web")));
  EXPECT_THAT(store_->GetOrder("web"),
              IsOkAndHolds(Optional(FullOrder("web"))));
}

TEST_P(StoreContractTest, OrderWithEmptyListsRoundTrips) {
  const OrderRecord order = {.cert_name = "bare",
                             .created_at = absl::InfinitePast(),
                             .updated_at = kBefore1970};
  ASSERT_OK(store_->PutOrder(order));
  EXPECT_THAT(store_->GetOrder("bare"), IsOkAndHolds(Optional(order)));
}

TEST_P(StoreContractTest, PutOrderReplaces) {
  ASSERT_OK(store_->PutOrder(FullOrder("web")));
  OrderRecord changed = FullOrder("web");
  changed.stage = "finalized";
  changed.dns_records.pop_back();
  changed.key_sealed = "other";
  ASSERT_OK(store_->PutOrder(changed));
  EXPECT_THAT(store_->GetOrder("web"), IsOkAndHolds(Optional(changed)));
}

TEST_P(StoreContractTest, DeleteOrderRemovesOnlyThatOrder) {
  ASSERT_OK(store_->PutOrder(FullOrder("web")));
  ASSERT_OK(store_->PutOrder(FullOrder("api")));
  ASSERT_OK(store_->DeleteOrder("web"));
  EXPECT_THAT(store_->GetOrder("web"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->GetOrder("api"),
              IsOkAndHolds(Optional(FullOrder("api"))));
  // Deleting what is not there is fine (cleanup after a crash repeats it).
  EXPECT_OK(store_->DeleteOrder("web"));
  EXPECT_OK(store_->DeleteOrder("never-existed"));
}

TEST_P(StoreContractTest, ListOrdersIsSortedByCertName) {
  for (const char* name : {"web", "api", "mail"}) {
    ASSERT_OK(store_->PutOrder(FullOrder(name)));
  }
  EXPECT_THAT(store_->ListOrders(),
              IsOkAndHolds(ElementsAre(FullOrder("api"), FullOrder("mail"),
                                       FullOrder("web"))));
}

TEST_P(StoreContractTest, ListValuesThatAreNotUtf8AreInvalidArgument) {
  const std::string bad = "\xff\xfe.example.";
  VersionRecord version = FullVersion("web");
  version.names.push_back(bad);
  EXPECT_THAT(store_->AddVersion(version),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("store: add version web: names")));
  EXPECT_THAT(store_->LatestVersion("web"), IsOkAndHolds(std::nullopt));

  OrderRecord order = FullOrder("web");
  order.dns_records[0].value = bad;
  EXPECT_THAT(store_->PutOrder(order),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("store: put order web: dns_records")));
  EXPECT_THAT(store_->GetOrder("web"), IsOkAndHolds(std::nullopt));

  AccountRecord account = FullAccount("pebble");
  account.contacts = {bad};
  EXPECT_THAT(store_->PutAccount(account),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("store: put account pebble: contacts")));
}

TEST_P(StoreContractTest, ConcurrentAddVersionAssignsConsecutiveNumbers) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::vector<std::vector<int64_t>> assigned(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &assigned] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<int64_t> number = store_->AddVersion(FullVersion("web"));
        EXPECT_THAT(number, IsOk());
        if (number.ok()) assigned[t].push_back(*number);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::vector<int64_t> all;
  for (const auto& numbers : assigned) {
    // Each thread sees its own numbers increase.
    EXPECT_TRUE(std::is_sorted(numbers.begin(), numbers.end()));
    all.insert(all.end(), numbers.begin(), numbers.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(kThreads * kPerThread);
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = i + 1;
  EXPECT_EQ(all, expected);
  ASSERT_OK_AND_ASSIGN(std::vector<VersionRecord> stored,
                       store_->ListVersions("web"));
  ASSERT_EQ(stored.size(), expected.size());
  EXPECT_EQ(stored.front().version, kThreads * kPerThread);
  EXPECT_EQ(stored.back().version, 1);
}

TEST_P(StoreContractTest, ConcurrentPutAndGetOnDifferentKeys) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      const std::string name = absl::StrCat("cert-", t);
      for (int i = 0; i < kRounds; ++i) {
        CertificateState state = FullState(name);
        state.consecutive_failures = i;
        EXPECT_OK(store_->PutCertificateState(state));
        EXPECT_THAT(store_->GetCertificateState(name),
                    IsOkAndHolds(Optional(state)));

        OrderRecord order = FullOrder(name);
        order.stage = absl::StrCat("stage-", i);
        EXPECT_OK(store_->PutOrder(order));
        EXPECT_THAT(store_->GetOrder(name), IsOkAndHolds(Optional(order)));

        AccountRecord account = FullAccount(name);
        account.account_url = absl::StrCat("acct-", i);
        EXPECT_OK(store_->PutAccount(account));
        EXPECT_THAT(store_->GetAccount(name), IsOkAndHolds(Optional(account)));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  ASSERT_OK_AND_ASSIGN(std::vector<CertificateState> states,
                       store_->ListCertificateStates());
  ASSERT_EQ(states.size(), static_cast<size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(states[t].name, absl::StrCat("cert-", t));
    EXPECT_EQ(states[t].consecutive_failures, kRounds - 1);
  }
  EXPECT_THAT(store_->ListOrders(), IsOkAndHolds(SizeIs(kThreads)));
}

}  // namespace
}  // namespace certfleet::store
