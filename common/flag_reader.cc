#include "common/flag_reader.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace certfleet {

bool FlagReader::Next() {
  if (next_ >= args_.size()) return false;
  current_ = next_++;
  const std::string& a = args_[current_];
  const size_t eq = a.find('=');
  if (absl::StartsWith(a, "--") && eq != std::string::npos) {
    flag_ = a.substr(0, eq);
    inline_value_ = a.substr(eq + 1);
  } else {
    flag_ = a;
    inline_value_.reset();
  }
  return true;
}

absl::StatusOr<std::string> FlagReader::Value() {
  if (inline_value_.has_value()) return *inline_value_;
  if (next_ < args_.size()) return args_[next_++];
  return absl::InvalidArgumentError(absl::StrCat(flag_, " needs a value"));
}

absl::Status FlagReader::Unknown(absl::string_view who) const {
  return absl::InvalidArgumentError(
      absl::StrCat(who, ": unknown argument \"", arg(), "\""));
}

}  // namespace certfleet
