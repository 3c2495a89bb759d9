#include "common/crypto/encoding.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::crypto {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

// RFC 4648 §10 test vectors.
TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> kCases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : kCases) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    ASSERT_OK_AND_ASSIGN(std::string decoded, Base64Decode(encoded));
    EXPECT_EQ(decoded, plain);
  }
}

TEST(Base64UrlTest, Rfc4648VectorsWithoutPadding) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
}

TEST(Base64UrlTest, UsesUrlAlphabet) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  ASSERT_OK_AND_ASSIGN(std::string decoded, Base64UrlDecode("-_-_"));
  EXPECT_EQ(decoded, bytes);
}

TEST(Base64UrlTest, DecodesWithAndWithoutPadding) {
  ASSERT_OK_AND_ASSIGN(std::string a, Base64UrlDecode("Zm9vYg"));
  ASSERT_OK_AND_ASSIGN(std::string b, Base64UrlDecode("Zm9vYg=="));
  EXPECT_EQ(a, "foob");
  EXPECT_EQ(b, "foob");
}

TEST(Base64UrlTest, RoundTripsAllByteValues) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= all.size(); len += 37) {
    const std::string part = all.substr(0, len);
    ASSERT_OK_AND_ASSIGN(std::string back,
                         Base64UrlDecode(Base64UrlEncode(part)));
    EXPECT_EQ(back, part);
  }
}

TEST(Base64UrlTest, RejectsStandardAlphabetAndJunk) {
  EXPECT_THAT(Base64UrlDecode("ab+c"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unexpected character 0x2b at offset 2")));
  EXPECT_THAT(Base64UrlDecode("ab/c"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Base64UrlDecode("ab c"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      Base64UrlDecode("abcde"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("truncated")));
  EXPECT_THAT(Base64UrlDecode("Zg=a"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      Base64UrlDecode("Zm8=="),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("padding")));
  EXPECT_THAT(
      Base64UrlDecode("Zg==="),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("padding")));
}

TEST(Base64Test, ToleratesWhitespaceAndNewlines) {
  ASSERT_OK_AND_ASSIGN(std::string decoded,
                       Base64Decode(" Zm9v\r\nYmFy\n\tZm9v\n"));
  EXPECT_EQ(decoded, "foobarfoo");
  ASSERT_OK_AND_ASSIGN(std::string unpadded, Base64Decode("Zm9vYg"));
  EXPECT_EQ(unpadded, "foob");
}

TEST(Base64Test, RejectsUrlAlphabet) {
  EXPECT_THAT(Base64Decode("-_-_"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("invalid base64: unexpected character")));
}

TEST(HexTest, LowerCase) {
  EXPECT_EQ(HexEncode(std::string("\x00\x0f\xab\xff", 4)), "000fabff");
  EXPECT_EQ(HexEncode(""), "");
}

// FIPS 180-2 Appendix B.1 ("abc").
TEST(Sha256Test, KnownAnswer) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256("").size(), 32u);
}

// RFC 4231 §4.3 (test case 2).
TEST(HmacSha256Test, Rfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, EmptyKeyWorks) {
  EXPECT_EQ(HmacSha256("", "data").size(), 32u);
  EXPECT_NE(HmacSha256("", "data"), HmacSha256("k", "data"));
}

TEST(RandomBytesTest, SizeAndFreshness) {
  EXPECT_EQ(RandomBytes(0), "");
  std::set<std::string> seen;
  for (int i = 0; i < 16; ++i) {
    std::string r = RandomBytes(32);
    EXPECT_EQ(r.size(), 32u);
    seen.insert(r);
  }
  EXPECT_EQ(seen.size(), 16u);
}

}  // namespace
}  // namespace certfleet::crypto
