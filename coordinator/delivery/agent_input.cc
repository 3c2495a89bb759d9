#include "coordinator/delivery/agent_input.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/delivery_step.h"
#include "common/names.h"
#include "coordinator/store/version_id.h"

namespace certfleet::delivery {
namespace {

constexpr size_t kMaxHostname = 253;
constexpr size_t kMaxHostLabel = 63;
constexpr size_t kMaxSerialHex = 64;
constexpr size_t kMaxNonce = 64;
constexpr absl::string_view kEllipsis = "\xe2\x80\xa6";  // U+2026

// The length of the UTF-8 character at the start of `s` (1-4), or 0 when
// it is not one (a stray continuation byte, a truncated or overlong
// sequence, a surrogate, past U+10FFFF).
size_t Utf8Length(absl::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  size_t n = 0;
  uint32_t cp = 0;
  if ((c & 0xe0) == 0xc0) {
    n = 2;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i) & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

absl::Status Invalid(absl::string_view field, absl::string_view value,
                     absl::string_view grammar) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, " ", Quoted(value), " is not ", grammar));
}

constexpr absl::string_view kTargetGrammar =
    "a target name (1-64 letters, digits, \".\", \"_\" and \"-\", starting "
    "with a letter or digit)";
constexpr absl::string_view kVersionGrammar =
    "a version id (<certificate>/<n>)";

absl::Status CheckTarget(absl::string_view field, absl::string_view name) {
  return IsObjectName(name) ? absl::OkStatus()
                            : Invalid(field, name, kTargetGrammar);
}

// "" (nothing) or a version id.
absl::Status CheckOptionalVersion(absl::string_view field,
                                  absl::string_view id) {
  return id.empty() || store::IsVersionId(id)
             ? absl::OkStatus()
             : Invalid(field, id, kVersionGrammar);
}

absl::Status CheckInventory(const v1::Inventory& inventory,
                            const AgentLimits& limits) {
  if (inventory.targets_size() > limits.max_targets_per_agent) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the inventory lists ", inventory.targets_size(),
        " targets; an agent may have at most ", limits.max_targets_per_agent));
  }
  for (const v1::TargetState& t : inventory.targets()) {
    if (absl::Status s = CheckTarget("Inventory target name", t.name());
        !s.ok()) {
      return s;
    }
    const std::string where = absl::StrCat("Inventory target ", t.name());
    if (absl::Status s = CheckOptionalVersion(
            absl::StrCat(where, " version_id"), t.version_id());
        !s.ok()) {
      return s;
    }
    bool hex = t.serial().size() <= kMaxSerialHex;
    for (char c : t.serial()) hex = hex && absl::ascii_isxdigit(c);
    if (!hex) {
      return Invalid(absl::StrCat(where, " serial"), t.serial(),
                     "a serial number (at most 64 hex digits)");
    }
    if (absl::Status s = CheckOptionalVersion(
            absl::StrCat(where, " last_failure.version_id"),
            t.last_failure().version_id());
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status CheckResult(const v1::DeliveryResult& r) {
  if (absl::Status s = CheckTarget("DeliveryResult target", r.target());
      !s.ok()) {
    return s;
  }
  if (!store::IsVersionId(r.version_id())) {
    return Invalid("DeliveryResult version_id", r.version_id(),
                   kVersionGrammar);
  }
  bool ok = !r.nonce().empty() && r.nonce().size() <= kMaxNonce;
  for (char c : r.nonce()) ok = ok && absl::ascii_isalnum(c);
  return ok ? absl::OkStatus()
            : Invalid("DeliveryResult nonce", r.nonce(),
                      "a nonce (1-64 letters and digits)");
}

}  // namespace

bool IsHostname(absl::string_view name) {
  if (name.empty() || name.size() > kMaxHostname) return false;
  for (absl::string_view label : absl::StrSplit(name, '.')) {
    if (label.empty() || label.size() > kMaxHostLabel) return false;
    for (char c : label) {
      if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
    }
  }
  return true;
}

std::string ReportedStep(absl::string_view failed_step) {
  if (std::optional<DeliveryStep> step = ParseDeliveryStep(failed_step)) {
    return std::string(DeliveryStepName(*step));
  }
  return AgentText(failed_step, 64);
}

std::string AgentText(absl::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  size_t i = 0;
  // Where the text may be cut so that the ellipsis still fits.
  size_t cut = 0;
  while (i < text.size()) {
    const size_t n = Utf8Length(text.substr(i));
    absl::string_view piece;
    if (n == 0) {
      piece = "?";
    } else if (n == 1) {
      const unsigned char c = static_cast<unsigned char>(text[i]);
      piece = (c < 0x20 || c == 0x7f) ? " " : text.substr(i, 1);
    } else if (n == 2 && static_cast<unsigned char>(text[i]) == 0xc2 &&
               static_cast<unsigned char>(text[i + 1]) < 0xa0) {
      piece = " ";  // a C1 control character (U+0080-U+009F)
    } else {
      piece = text.substr(i, n);
    }
    if (out.size() + piece.size() + kEllipsis.size() <= max_bytes) {
      cut = out.size() + piece.size();
    }
    if (out.size() + piece.size() > max_bytes) {
      out.resize(cut);
      if (cut + kEllipsis.size() <= max_bytes) absl::StrAppend(&out, kEllipsis);
      return out;
    }
    absl::StrAppend(&out, piece);
    i += n == 0 ? 1 : n;
  }
  return out;
}

std::string Quoted(absl::string_view untrusted) {
  constexpr size_t kShown = 64;
  return absl::StrCat("\"", absl::CHexEscape(untrusted.substr(0, kShown)),
                      untrusted.size() > kShown ? "\"..." : "\"");
}

absl::Status CheckAgentMessage(const v1::AgentMessage& message,
                               const AgentLimits& limits) {
  switch (message.message_case()) {
    case v1::AgentMessage::kHello: {
      const std::string& host = message.hello().hostname();
      return host.empty() || IsHostname(host)
                 ? absl::OkStatus()
                 : Invalid("Hello.hostname", host,
                           "a host name (at most 253 characters: labels of "
                           "letters, digits, \"-\" and \"_\" separated by "
                           "dots)");
    }
    case v1::AgentMessage::kInventory:
      return CheckInventory(message.inventory(), limits);
    case v1::AgentMessage::kResult:
      return CheckResult(message.result());
    case v1::AgentMessage::kHealth:
      return CheckTarget("HealthReport target", message.health().target());
    default:
      // A renewal is checked by the CA; an unknown message is ignored.
      return absl::OkStatus();
  }
}

}  // namespace certfleet::delivery
