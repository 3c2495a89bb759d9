#include "coordinator/dns/tsig.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::dns {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
constexpr char kSecret[] = "hlzbdRHgDrAU6QRZfAe8pZ4H+odiribZsWKLNvZjxxE=";

// A minimal message: header with `flags`, one question "example.test. SOA".
std::string Message(uint8_t flags_hi) {
  std::string m("\x12\x34", 2);
  m.push_back(static_cast<char>(flags_hi));
  m.append("\x00\x00\x01\x00\x00\x00\x00\x00\x00", 9);
  m.append(
      "\x07"
      "example"
      "\x04"
      "test"
      "\x00",
      14);
  m.append("\x00\x06\x00\x01", 4);
  return m;
}

// Appends a TSIG RR with an empty MAC and `error`, as a server does when it
// cannot verify the request (RFC 8945 §5.3.2).
std::string WithUnsignedTsigError(std::string m, uint16_t error) {
  m[11] = 1;  // ARCOUNT
  m.append(
      "\x09"
      "certfleet"
      "\x00",
      11);
  m.append("\x00\xfa\x00\xff\x00\x00\x00\x00", 8);  // TSIG ANY TTL 0
  std::string rdata(
      "\x0b"
      "hmac-sha256"
      "\x00",
      13);
  rdata.append("\x00\x00\x6b\x49\xd2\x00", 6);  // time
  rdata.append("\x01\x2c", 2);                  // fudge 300
  rdata.append("\x00\x00", 2);                  // MAC size 0
  rdata.append("\x12\x34", 2);                  // original ID
  rdata.push_back(static_cast<char>(error >> 8));
  rdata.push_back(static_cast<char>(error & 0xff));
  rdata.append("\x00\x00", 2);  // other len
  m.push_back(static_cast<char>(rdata.size() >> 8));
  m.push_back(static_cast<char>(rdata.size() & 0xff));
  m += rdata;
  return m;
}

TsigKey Key(const char* algorithm = "hmac-sha256",
            const char* secret = kSecret) {
  auto key = TsigKey::Create("certfleet", algorithm, secret);
  EXPECT_TRUE(key.ok()) << key.status();
  return *key;
}

TEST(TsigTest, SignAppendsRecordAndCountsIt) {
  std::string m = Message(0x28);
  const size_t before = m.size();
  auto mac = TsigSign(Key(), kNow, &m);
  ASSERT_TRUE(mac.ok()) << mac.status();
  EXPECT_EQ(mac->size(), 32u);  // SHA-256
  EXPECT_EQ(m[11], 1);          // ARCOUNT
  EXPECT_GT(m.size(), before + 32);
  EXPECT_NE(m.find("hmac-sha256"), std::string::npos);
}

class TsigAlgorithmTest : public ::testing::TestWithParam<const char*> {};

TEST_P(TsigAlgorithmTest, ReplySignedWithTheRequestMacVerifies) {
  const TsigKey key = Key(GetParam());
  std::string request = Message(0x28);
  auto request_mac = TsigSign(key, kNow, &request);
  ASSERT_TRUE(request_mac.ok());
  std::string reply = Message(0xa8);
  ASSERT_TRUE(TsigSign(key, kNow, &reply, *request_mac).ok());

  TsigResult r = TsigVerifyResponse(key, *request_mac, reply, kNow);
  EXPECT_TRUE(r.present);
  EXPECT_EQ(r.error, 0);
  EXPECT_TRUE(r.verified) << r.problem;
}

INSTANTIATE_TEST_SUITE_P(All, TsigAlgorithmTest,
                         ::testing::Values("hmac-sha256", "hmac-sha384",
                                           "hmac-sha512"));

TEST(TsigTest, TamperedReplyDoesNotVerify) {
  const TsigKey key = Key();
  std::string request = Message(0x28);
  auto request_mac = TsigSign(key, kNow, &request);
  std::string reply = Message(0xa8);
  ASSERT_TRUE(TsigSign(key, kNow, &reply, *request_mac).ok());
  reply[3] = 0x05;  // rcode changed to REFUSED in transit
  TsigResult r = TsigVerifyResponse(key, *request_mac, reply, kNow);
  EXPECT_TRUE(r.present);
  EXPECT_FALSE(r.verified);
  EXPECT_THAT(r.problem, HasSubstr("does not verify"));
}

TEST(TsigTest, ReplyForAnotherRequestDoesNotVerify) {
  const TsigKey key = Key();
  std::string reply = Message(0xa8);
  ASSERT_TRUE(TsigSign(key, kNow, &reply, std::string(32, 'x')).ok());
  TsigResult r = TsigVerifyResponse(key, std::string(32, 'y'), reply, kNow);
  EXPECT_FALSE(r.verified);
}

TEST(TsigTest, DifferentSecretDoesNotVerify) {
  std::string request = Message(0x28);
  auto request_mac = TsigSign(Key(), kNow, &request);
  std::string reply = Message(0xa8);
  ASSERT_TRUE(TsigSign(Key(), kNow, &reply, *request_mac).ok());
  const TsigKey other =
      Key("hmac-sha256", "AAAAdRHgDrAU6QRZfAe8pZ4H+odiribZsWKLNvZjxxE=");
  EXPECT_FALSE(TsigVerifyResponse(other, *request_mac, reply, kNow).verified);
}

TEST(TsigTest, ClockSkewBeyondFudgeIsReported) {
  const TsigKey key = Key();
  std::string reply = Message(0xa8);
  ASSERT_TRUE(TsigSign(key, kNow - absl::Seconds(1000), &reply, "m").ok());
  TsigResult r = TsigVerifyResponse(key, "m", reply, kNow);
  EXPECT_FALSE(r.verified);
  EXPECT_THAT(r.problem, HasSubstr("1000 s off"));
}

TEST(TsigTest, UnsignedReplyIsNotPresent) {
  TsigResult r = TsigVerifyResponse(Key(), "mac", Message(0xa8), kNow);
  EXPECT_FALSE(r.present);
  EXPECT_FALSE(r.verified);
  EXPECT_THAT(r.problem, HasSubstr("not signed"));
}

TEST(TsigTest, ErrorFieldOfAnUnsignedTsigIsReported) {
  const std::string reply = WithUnsignedTsigError(Message(0xa8), kTsigBadKey);
  TsigResult r = TsigVerifyResponse(Key(), "mac", reply, kNow);
  EXPECT_TRUE(r.present);
  EXPECT_EQ(r.error, kTsigBadKey);
  EXPECT_FALSE(r.verified);
  EXPECT_EQ(TsigErrorName(kTsigBadSig), "BADSIG");
  EXPECT_EQ(TsigErrorName(kTsigBadKey), "BADKEY");
}

TEST(TsigTest, CreateValidatesEachField) {
  EXPECT_THAT(TsigKey::Create("k", "hmac-md5", kSecret),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tsig_algorithm \"hmac-md5\"")));
  EXPECT_THAT(TsigKey::Create("k", "hmac-sha256", "not base64!"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tsig_secret for key \"k\"")));
  EXPECT_THAT(
      TsigKey::Create("", "hmac-sha256", kSecret),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tsig_key_name")));
  auto key = TsigKey::Create("CertFleet", "HMAC-SHA384.", kSecret);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->name, "certfleet.");
  EXPECT_EQ(key->algorithm, "hmac-sha384.");
}

}  // namespace
}  // namespace certfleet::dns
