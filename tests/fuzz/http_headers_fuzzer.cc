// Feeds: HTTP header values from an ACME server — Link (RFC 8288) to
// LinkTargets with the relations the client asks for ("alternate" chains,
// "next" page of an orders list, "up", "index"), and Retry-After
// (RFC 9110 §10.2.3: delay-seconds or an IMF-fixdate) to ParseRetryAfter.
// Input fields are split at fuzz::kFieldSeparator: each field is one Link
// header value; the whole input is also one Retry-After value.
// Checks, beyond no crash and no sanitizer report: every Link target is a
// substring of a header, without '<' or '>' delimiters around it; a
// Retry-After of delay-seconds is never in the past.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "coordinator/acme/problem.h"
#include "coordinator/acme/resources.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certfleet::acme;
  namespace fuzz = certfleet::fuzz;
  const absl::string_view input = fuzz::AsView(data, size);

  std::vector<std::string> headers;
  for (absl::string_view h : fuzz::Split(input, 8)) headers.emplace_back(h);
  for (const char* rel : {"alternate", "next", "up", "index"}) {
    for (const std::string& target : LinkTargets(headers, rel)) {
      FUZZ_CHECK(!absl::StrContains(target, ">"),
                 "a Link target has no '>' in it");
      bool found = false;
      for (const std::string& h : headers) {
        found = found || absl::StrContains(h, target);
      }
      FUZZ_CHECK(found, "a Link target comes from a header");
    }
  }

  const std::optional<absl::Time> when =
      ParseRetryAfter(std::string(input), fuzz::Now());
  const absl::string_view v = absl::StripAsciiWhitespace(input);
  bool digits = !v.empty();
  for (char c : v) digits = digits && absl::ascii_isdigit(c);
  if (digits && when) {
    FUZZ_CHECK(*when >= fuzz::Now(), "delay-seconds is never in the past");
  }
  return 0;
}
