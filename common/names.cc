#include "common/names.h"

#include "absl/strings/ascii.h"

namespace certfleet {

bool IsObjectName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxObjectNameLength ||
      !absl::ascii_isalnum(name.front())) {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace certfleet
