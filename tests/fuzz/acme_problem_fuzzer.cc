// Feeds: an error response (an HTTP status chosen by the first two bytes,
// a Retry-After header and a problem document, RFC 8555 §6.7 / RFC 7807) to
// ParseProblem and ProblemStatus, which turn whatever a CA sends back into
// the absl::Status that decides the retry policy. Input fields are split
// at fuzz::kFieldSeparator: retry-after value, then the body.
// Checks, beyond no crash and no sanitizer report: ProblemStatus is never
// OK, names the endpoint and the HTTP status; the problem type it carries
// is the parsed one, and so is its Retry-After; a problem always has
// something to describe.
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "coordinator/acme/problem.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certfleet::acme;
  namespace fuzz = certfleet::fuzz;
  absl::string_view input = fuzz::AsView(data, size);
  int http_status = 400;
  if (input.size() >= 2) {
    http_status = 100 + (static_cast<uint8_t>(input[0]) << 8 |
                         static_cast<uint8_t>(input[1])) %
                            500;
    input.remove_prefix(2);
  }
  const std::vector<absl::string_view> fields = fuzz::Split(input, 2);

  HttpResponse response;
  response.status = http_status;
  response.headers.emplace_back("retry-after", std::string(fields[0]));
  response.body = std::string(fields[1]);

  const Problem p = ParseProblem(response.body, response.status);
  FUZZ_CHECK(!p.Describe().empty(), "a problem always describes itself");

  const absl::Status s = ProblemStatus("new-order", response, fuzz::Now());
  FUZZ_CHECK(!s.ok(), "an error response never becomes OK");
  FUZZ_CHECK(absl::StrContains(s.message(), "ACME new-order: HTTP " +
                                                std::to_string(http_status)),
             "the status names the endpoint and the HTTP status");
  FUZZ_CHECK(ProblemTypeOf(s) == p.type,
             "the status carries the parsed problem type");
  // The payload holds Unix nanoseconds, so a time outside 1677..2262
  // (a date in year 622, a delay of 10^18 s) comes back clamped to it.
  std::optional<absl::Time> parsed =
      ParseRetryAfter(std::string(fields[0]), fuzz::Now());
  if (parsed) parsed = absl::FromUnixNanos(absl::ToUnixNanos(*parsed));
  FUZZ_CHECK(RetryAfterOf(s) == parsed,
             "the status carries the parsed Retry-After");
  return 0;
}
