// Small helpers shared by the libFuzzer targets of tests/fuzz: the input as
// a string_view, a check that aborts (so libFuzzer records the input as a
// crash) with a message, and splitting one input into several fields.
//
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
//     const absl::string_view input = fuzz::AsView(data, size);
//     const std::vector<absl::string_view> parts = fuzz::Split(input, 3);
//     FUZZ_CHECK(Parse(parts[0]).ok() || ..., "why this must hold");
//   }
#ifndef CERTFLEET_TESTS_FUZZ_FUZZ_UTIL_H_
#define CERTFLEET_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certfleet::fuzz {

// The clock every target reads, so a run is reproducible and the seed
// certificates (made by corpus_gen.cc, valid 2020 to 2120) stay valid.
inline absl::Time Now() { return absl::FromUnixSeconds(1'800'000'000); }

// The TSIG key and request MAC of the DNS targets and their seeds.
inline constexpr absl::string_view kTsigKeyName = "certfleet-fuzz.";
inline constexpr absl::string_view kTsigAlgorithm = "hmac-sha256.";
inline constexpr absl::string_view kTsigSecretBase64 =
    "hlzbdRHgDrAU6QRZfAe8pZ4H+odiribZsWKLNvZjxxE=";
inline constexpr absl::string_view kTsigRequestMac =
    "0123456789abcdef0123456789abcdef";

// The bootstrap tokens the token target's store holds: 0 is valid, 1 has
// expired, 2 was used. Their text is "cft1.<TokenId(i)>.<base64url of
// TokenSecret(i)>".
inline std::string TokenId(int i) {
  return std::string("0123456789abcde") + static_cast<char>('0' + i);
}
inline std::string TokenSecret(int i) {
  return std::string(32, static_cast<char>('a' + i));
}

inline absl::string_view AsView(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

// The line that separates the fields of a multi-field input. Chosen so that
// it never occurs in PEM, JSON or YAML a seed would hold.
inline constexpr absl::string_view kFieldSeparator = "\n%%FUZZ%%\n";

// `input` cut at kFieldSeparator into exactly `n` fields: missing ones are
// empty, extra separators stay in the last field.
inline std::vector<absl::string_view> Split(absl::string_view input, size_t n) {
  std::vector<absl::string_view> out;
  while (out.size() + 1 < n) {
    const size_t at = input.find(kFieldSeparator);
    if (at == absl::string_view::npos) break;
    out.push_back(input.substr(0, at));
    input.remove_prefix(at + kFieldSeparator.size());
  }
  out.push_back(input);
  while (out.size() < n) out.push_back(absl::string_view());
  return out;
}

[[noreturn]] inline void Fail(const char* file, int line, const char* what,
                              const char* why) {
  std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", file, line, what,
               why);
  std::abort();
}

}  // namespace certfleet::fuzz

// A property the target asserts beyond "no crash": aborts with `why`.
#define FUZZ_CHECK(cond, why) \
  ((cond) ? (void)0 : ::certfleet::fuzz::Fail(__FILE__, __LINE__, #cond, why))

#endif  // CERTFLEET_TESTS_FUZZ_FUZZ_UTIL_H_
