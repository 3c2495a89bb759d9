#include "ctl/format_util.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/proto_time.h"
#include "common/rfc3339.h"
#include "ctl/ctl_format.h"

namespace certfleet::ctl {
namespace internal {

std::string TimeText(const google::protobuf::Timestamp& ts) {
  const absl::Time t = TimeFromProtoOrPast(ts);
  if (t == absl::InfinitePast()) return "-";
  return FormatRfc3339(t);
}

nlohmann::json TimeJson(const google::protobuf::Timestamp& ts) {
  const std::string text = TimeText(ts);
  if (text == "-") return nullptr;
  return text;
}

std::string LabelsText(
    const google::protobuf::Map<std::string, std::string>& labels) {
  const std::map<std::string, std::string> sorted(labels.begin(), labels.end());
  if (sorted.empty()) return "-";
  return absl::StrJoin(sorted, ",", absl::PairFormatter("="));
}

nlohmann::json LabelsJson(
    const google::protobuf::Map<std::string, std::string>& labels) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : labels) out[key] = value;
  return out;
}

std::string OrDash(const std::string& text) {
  return text.empty() ? "-" : text;
}

}  // namespace internal

namespace {

// The length of the UTF-8 sequence starting at text[i] and its code point;
// 0 when the bytes there are not well-formed UTF-8 (RFC 3629 §4: no
// overlong forms, no surrogates, nothing above U+10FFFF).
size_t DecodeUtf8(absl::string_view text, size_t i, char32_t* cp) {
  const auto byte = [&](size_t k) {
    return static_cast<unsigned char>(text[i + k]);
  };
  const unsigned char b0 = byte(0);
  size_t len;
  char32_t min;
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, min = 0x80, *cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, min = 0x800, *cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, min = 0x10000, *cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (byte(k) & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) {
    return 0;
  }
  return len;
}

// Characters a terminal acts on, or that reorder what is shown around them.
bool IsControl(char32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
         cp == 0x061C || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string TerminalSafe(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const size_t len = DecodeUtf8(text, i, &cp);
    if (len == 0) {
      absl::StrAppend(
          &out,
          absl::StrFormat("\\x%02x", static_cast<unsigned char>(text[i])));
      ++i;
      continue;
    }
    if (!IsControl(cp)) {
      out.append(text.data() + i, len);
    } else if (cp < 0x80) {
      static constexpr char kNamed[] = "abtnvfr";
      if (cp >= 0x07 && cp <= 0x0D) {
        out.push_back('\\');
        out.push_back(kNamed[cp - 0x07]);
      } else {
        absl::StrAppend(&out,
                        absl::StrFormat("\\x%02x", static_cast<unsigned>(cp)));
      }
    } else {
      absl::StrAppend(&out,
                      absl::StrFormat("\\u%04x", static_cast<unsigned>(cp)));
    }
    i += len;
  }
  return out;
}

std::string AlignColumns(const std::vector<std::vector<std::string>>& raw) {
  // Cells often hold what agents and CAs said: escape before measuring.
  std::vector<std::vector<std::string>> rows;
  rows.reserve(raw.size());
  for (const auto& row : raw) {
    std::vector<std::string>& safe = rows.emplace_back();
    safe.reserve(row.size());
    for (const std::string& cell : row) {
      safe.push_back(TerminalSafe(cell));
    }
  }
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&out, row[i],
                      i + 1 < row.size()
                          ? std::string(width[i] - row[i].size() + 2, ' ')
                          : "\n");
    }
  }
  return out;
}

}  // namespace certfleet::ctl
