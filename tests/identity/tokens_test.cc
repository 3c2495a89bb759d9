// Bootstrap tokens: format, single use, expiry, wrong and malformed tokens,
// and that only a hash of the secret is stored.
#include "coordinator/identity/tokens.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/encoding.h"
#include "coordinator/store/memory_store.h"
#include "gmock/gmock.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::identity {
namespace {

using ::certfleet::testing::FakeClock;
using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

const std::map<std::string, std::string> kLabels = {{"role", "web"},
                                                    {"env", "prod"}};

class TokensTest : public ::testing::Test {
 protected:
  std::string CreateOrDie(absl::Duration ttl = absl::Hours(1)) {
    absl::StatusOr<std::string> token = tokens_.Create(kLabels, ttl, "rack 7");
    EXPECT_OK(token);
    return token.ok() ? *token : "";
  }

  static std::string IdOf(const std::string& token) {
    return std::vector<std::string>(absl::StrSplit(token, '.'))[1];
  }

  FakeClock clock_;  // 2027-01-15T08:00:00Z
  store::InMemoryStore store_;
  BootstrapTokens tokens_{store_, clock_};
};

TEST_F(TokensTest, CreateThenRedeem) {
  const std::string token = CreateOrDie();
  EXPECT_THAT(token, MatchesRegex("cft1\\.[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}"));
  clock_.Advance(absl::Minutes(10));
  ASSERT_OK_AND_ASSIGN(store::TokenRecord used,
                       tokens_.Redeem(token, "agt-0a1b2c3d4e5f"));
  EXPECT_EQ(used.id, IdOf(token));
  EXPECT_EQ(used.labels, kLabels);
  EXPECT_EQ(used.description, "rack 7");
  EXPECT_EQ(used.created_at, absl::FromUnixSeconds(1'800'000'000));
  EXPECT_EQ(used.expires_at, absl::FromUnixSeconds(1'800'000'000 + 3600));
  EXPECT_EQ(used.used_at, clock_.Now());
  EXPECT_EQ(used.used_by, "agt-0a1b2c3d4e5f");
  EXPECT_THAT(store_.GetToken(used.id), ::certfleet::testing::IsOk());
  EXPECT_EQ(**store_.GetToken(used.id), used);
}

TEST_F(TokensTest, TwoTokensDiffer) { EXPECT_NE(CreateOrDie(), CreateOrDie()); }

TEST_F(TokensTest, SecondRedeemIsRefused) {
  const std::string token = CreateOrDie();
  ASSERT_OK(tokens_.Redeem(token, "agt-1"));
  EXPECT_THAT(tokens_.Redeem(token, "agt-2"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       absl::StrCat("bootstrap token ", IdOf(token),
                                    " was already used")));
  EXPECT_THAT(tokens_.Check(token),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("was already used")));
  EXPECT_EQ((**store_.GetToken(IdOf(token))).used_by, "agt-1");
}

TEST_F(TokensTest, ExpiredTokenIsRefused) {
  const std::string token = CreateOrDie(absl::Hours(1));
  clock_.Advance(absl::Hours(1) - absl::Seconds(1));
  EXPECT_OK(tokens_.Check(token));
  clock_.Advance(absl::Seconds(1));  // expires_at <= now
  EXPECT_THAT(tokens_.Redeem(token, "agt-1"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       absl::StrCat("bootstrap token ", IdOf(token),
                                    " expired at 2027-01-15T09:00:00Z")));
  EXPECT_EQ((**store_.GetToken(IdOf(token))).used_at, absl::InfinitePast());
}

TEST_F(TokensTest, WrongSecretAndUnknownIdLookTheSame) {
  const std::string token = CreateOrDie();
  const std::string wrong_secret = absl::StrCat(
      "cft1.", IdOf(token), ".", crypto::Base64UrlEncode(std::string(32, 'x')));
  const std::string unknown_id =
      absl::StrCat("cft1.0123456789abcdef.", token.substr(token.size() - 43));
  EXPECT_THAT(
      tokens_.Redeem(wrong_secret, "agt-1"),
      StatusIs(absl::StatusCode::kPermissionDenied, "unknown bootstrap token"));
  EXPECT_THAT(
      tokens_.Redeem(unknown_id, "agt-1"),
      StatusIs(absl::StatusCode::kPermissionDenied, "unknown bootstrap token"));
  // The real token is untouched by the failed attempts.
  EXPECT_OK(tokens_.Redeem(token, "agt-1"));
}

TEST_F(TokensTest, MalformedTokensAreInvalidArgument) {
  const std::string token = CreateOrDie();
  const std::string id = IdOf(token);
  const std::string secret = token.substr(token.size() - 43);
  for (const std::string& bad : std::vector<std::string>{
           "", "cft1", absl::StrCat("cft2.", id, ".", secret),
           absl::StrCat("cft1.", id, ".", secret, ".x"),
           absl::StrCat("cft1.", id.substr(1), ".", secret),
           absl::StrCat("cft1.", absl::AsciiStrToUpper(id), ".", secret),
           absl::StrCat("cft1.", id, ".", secret.substr(4)),
           absl::StrCat("cft1.", id, ".", secret.substr(0, 42), "+")}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(tokens_.Redeem(bad, "agt-1"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("malformed bootstrap token (expected "
                                   "cft1.<id>.<secret>)")));
  }
  // The message never quotes the secret.
  absl::Status s =
      tokens_.Redeem(absl::StrCat("cft1.", id, ".", secret.substr(4)), "a")
          .status();
  EXPECT_FALSE(absl::StrContains(s.message(), secret.substr(4)));
}

TEST_F(TokensTest, OnlyTheHashOfTheSecretIsStored) {
  const std::string token = CreateOrDie();
  const std::string secret_b64 = token.substr(token.size() - 43);
  ASSERT_OK_AND_ASSIGN(std::string secret, crypto::Base64UrlDecode(secret_b64));
  ASSERT_OK_AND_ASSIGN(std::optional<store::TokenRecord> record,
                       store_.GetToken(IdOf(token)));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->secret_hash, crypto::Sha256(secret));
  for (const std::string& field : {record->id, record->secret_hash,
                                   record->description, record->used_by}) {
    EXPECT_FALSE(absl::StrContains(field, secret));
    EXPECT_FALSE(absl::StrContains(field, secret_b64));
  }
}

TEST_F(TokensTest, CreateChecksTtlAndLabels) {
  EXPECT_THAT(tokens_.Create(kLabels, absl::ZeroDuration(), ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "token lifetime 0 is not positive"));
  EXPECT_THAT(tokens_.Create({{"role", "we b"}}, absl::Hours(1), ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("label role: value \"we b\" is not valid")));
  EXPECT_THAT(
      store_.ListTokens(),
      ::testing::ResultOf(
          [](const auto& list) { return list.ok() && list->empty(); }, true));
}

TEST_F(TokensTest, ConcurrentRedeemsHaveOneWinner) {
  const std::string token = CreateOrDie();
  constexpr int kThreads = 8;
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      absl::StatusOr<store::TokenRecord> r =
          tokens_.Redeem(token, absl::StrCat("agt-", t));
      if (r.ok()) {
        ++winners;
      } else {
        EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied,
                                HasSubstr("was already used")));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(winners.load(), 1);
}

}  // namespace
}  // namespace certfleet::identity
