#include "coordinator/store/version_id.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/names.h"

namespace certfleet::store {
namespace {

constexpr size_t kMaxVersionDigits = 18;  // below 2^63

}  // namespace

std::string VersionId(absl::string_view certificate, int64_t version) {
  return absl::StrCat(certificate, "/", version);
}

absl::StatusOr<std::pair<std::string, int64_t>> ParseVersionId(
    absl::string_view version_id) {
  const size_t slash = version_id.rfind('/');
  int64_t n = 0;
  if (slash == absl::string_view::npos || slash == 0 ||
      !absl::SimpleAtoi(version_id.substr(slash + 1), &n) || n < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("version id \"", version_id,
                     "\" is not <certificate>/<version number>"));
  }
  return std::make_pair(std::string(version_id.substr(0, slash)), n);
}

bool IsVersionId(absl::string_view id) {
  const size_t slash = id.rfind('/');
  if (slash == absl::string_view::npos) return false;
  const absl::string_view certificate = id.substr(0, slash);
  const absl::string_view number = id.substr(slash + 1);
  if (!IsObjectName(certificate)) return false;
  if (number.empty() || number.size() > kMaxVersionDigits ||
      number.front() == '0') {
    return false;
  }
  for (char c : number) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

}  // namespace certfleet::store
