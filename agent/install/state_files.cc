#include "agent/install/state_files.h"

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/install/version_name.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace certfleet::agent {
namespace {

using Json = nlohmann::json;

constexpr std::array<std::pair<Journal::Phase, const char*>, 5> kPhases = {{
    {Journal::Phase::kIdle, "idle"},
    {Journal::Phase::kWriting, "writing"},
    {Journal::Phase::kSwapped, "swapped"},
    {Journal::Phase::kReloaded, "reloaded"},
    {Journal::Phase::kRollingBack, "rolling_back"},
}};

// The steps an install can fail at once it touched the disk (what a
// journal or a local failure may name); "unknown" for a rollback that an
// older agent started without recording its step.
// A step that a journal can name: one that fails after the candidate was
// written (a refused bundle leaves nothing to journal, so never "verify").
std::optional<DeliveryStep> JournalStep(absl::string_view name) {
  std::optional<DeliveryStep> step = ParseDeliveryStep(name);
  if (step == DeliveryStep::kVerify) return std::nullopt;
  return step;
}

absl::Status Invalid(absl::string_view what, absl::string_view field,
                     absl::string_view problem) {
  return absl::DataLossError(absl::StrCat(what, ": ", field, ": ", problem));
}

// "..." of `text`, for messages: bounded, control bytes escaped.
std::string Quote(absl::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < 120; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (text.size() > 120) out += "...";
  return out + "\"";
}

// Reads the string field `key` of object `j`: absent → `fallback` (when
// not required), wrong type → error.
absl::Status ReadString(const Json& j, absl::string_view what, const char* key,
                        bool required, size_t max_bytes, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) return Invalid(what, key, "missing");
    return absl::OkStatus();
  }
  if (!it->is_string()) return Invalid(what, key, "not a string");
  *out = it->get<std::string>();
  if (out->size() > max_bytes) {
    return Invalid(what, key,
                   absl::StrCat("longer than ", max_bytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status ReadInt(const Json& j, absl::string_view what, const char* key,
                     int64_t* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  // A fraction, 1e300 or a number beyond int64 is refused: the agent never
  // writes one, and converting it to int64_t would be undefined or wrong
  // (found by tests/fuzz/version_info_fuzzer.cc).
  if (!it->is_number_integer() ||
      (it->is_number_unsigned() &&
       it->get<uint64_t>() >
           static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
    return Invalid(what, key, "not an integer");
  }
  *out = it->get<int64_t>();
  return absl::OkStatus();
}

// A version name field: "" or valid.
absl::Status ReadName(const Json& j, absl::string_view what, const char* key,
                      std::string* out) {
  RETURN_IF_ERROR(
      ReadString(j, what, key, /*required=*/true, kMaxStateFileBytes, out));
  if (!out->empty() && !IsValidVersionName(*out)) {
    return Invalid(what, key,
                   absl::StrCat(Quote(*out),
                                " is not a version name the agent writes "
                                "(letters, digits, '-', '.', '_xx'; no '/', "
                                "no '..', no leading '.', at most ",
                                kMaxVersionNameLength, " bytes)"));
  }
  return absl::OkStatus();
}

// Printable ASCII (no control bytes): ids that end up in reports and logs.
bool IsPrintable(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isprint(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::Status ReadVersionId(const Json& j, absl::string_view what,
                           const char* key, std::string* out) {
  RETURN_IF_ERROR(
      ReadString(j, what, key, /*required=*/true, kMaxVersionIdBytes, out));
  if (out->empty() || !IsPrintable(*out) ||
      !IsValidVersionName(VersionDirName(*out))) {
    return Invalid(what, key,
                   absl::StrCat(Quote(*out), " is not a version id"));
  }
  return absl::OkStatus();
}

absl::StatusOr<LocalFailure> DecodeLocalFailure(const Json& j) {
  constexpr absl::string_view kWhat = "journal: last_failure";
  if (!j.is_object()) return Invalid(kWhat, "", "not an object");
  LocalFailure f;
  RETURN_IF_ERROR(ReadVersionId(j, kWhat, "version_id", &f.version_id));
  std::string step;
  RETURN_IF_ERROR(ReadString(j, kWhat, "failed_step", true, 16, &step));
  std::optional<DeliveryStep> parsed = JournalStep(step);
  if (!parsed.has_value()) {
    return Invalid(kWhat, "failed_step",
                   absl::StrCat(Quote(step), " is not a step"));
  }
  f.failed_step = *parsed;
  RETURN_IF_ERROR(
      ReadString(j, kWhat, "error", false, kMaxErrorTextBytes, &f.error));
  auto it = j.find("rolled_back");
  if (it != j.end()) {
    if (!it->is_boolean()) return Invalid(kWhat, "rolled_back", "not a bool");
    f.rolled_back = it->get<bool>();
  }
  return f;
}

absl::StatusOr<Journal> DecodeJournalObject(const Json& j) {
  constexpr absl::string_view kWhat = "journal";
  if (!j.is_object()) return Invalid(kWhat, "", "not a JSON object");
  Journal journal;
  RETURN_IF_ERROR(ReadName(j, kWhat, "serving", &journal.serving));
  RETURN_IF_ERROR(ReadName(j, kWhat, "previous", &journal.previous));
  RETURN_IF_ERROR(ReadName(j, kWhat, "candidate", &journal.candidate));
  std::string phase;
  RETURN_IF_ERROR(ReadString(j, kWhat, "phase", true, 16, &phase));
  bool known = false;
  for (const auto& [p, name] : kPhases) {
    if (phase == name) {
      journal.phase = p;
      known = true;
    }
  }
  if (!known) {
    return Invalid(kWhat, "phase", absl::StrCat(Quote(phase), " is unknown"));
  }
  const bool installing = journal.phase != Journal::Phase::kIdle;
  if (installing == journal.candidate.empty()) {
    return Invalid(kWhat, "candidate",
                   installing ? "missing while an install is in progress"
                              : "set while no install is in progress");
  }
  if (!journal.candidate.empty() && journal.candidate == journal.serving) {
    return Invalid(kWhat, "candidate", "the same as serving");
  }
  std::string step;
  RETURN_IF_ERROR(ReadString(j, kWhat, "failed_step", false, 16, &step));
  if (!step.empty()) {
    journal.failed_step = JournalStep(step);
    if (!journal.failed_step.has_value()) {
      return Invalid(kWhat, "failed_step",
                     absl::StrCat(Quote(step), " is not a step"));
    }
  }
  RETURN_IF_ERROR(
      ReadString(j, kWhat, "error", false, kMaxErrorTextBytes, &journal.error));
  auto failure = j.find("last_failure");
  if (failure != j.end() && !failure->is_null()) {
    ASSIGN_OR_RETURN(journal.last_failure, DecodeLocalFailure(*failure));
  }
  return journal;
}

absl::StatusOr<VersionInfo> DecodeVersionInfoObject(const Json& j) {
  constexpr absl::string_view kWhat = "version record";
  if (!j.is_object()) return Invalid(kWhat, "", "not a JSON object");
  VersionInfo info;
  RETURN_IF_ERROR(ReadVersionId(j, kWhat, "version_id", &info.version_id));
  RETURN_IF_ERROR(ReadString(j, kWhat, "certificate", false, kMaxVersionIdBytes,
                             &info.certificate));
  if (!IsPrintable(info.certificate)) {
    return Invalid(kWhat, "certificate", "holds control characters");
  }
  RETURN_IF_ERROR(ReadString(j, kWhat, "serial", false, 64, &info.serial));
  for (char c : info.serial) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) {
      return Invalid(kWhat, "serial", "not lower-case hex");
    }
  }
  int64_t not_after = 0;
  int64_t written_at_ms = 0;
  RETURN_IF_ERROR(ReadInt(j, kWhat, "not_after", &not_after));
  RETURN_IF_ERROR(ReadInt(j, kWhat, "written_at_ms", &written_at_ms));
  info.not_after = absl::FromUnixSeconds(not_after);
  info.written_at = absl::FromUnixMillis(written_at_ms);
  RETURN_IF_ERROR(
      ReadString(j, kWhat, "leaf_pem", false, 32 * 1024, &info.leaf_pem));
  return info;
}

absl::StatusOr<Json> Parse(absl::string_view what, absl::string_view text) {
  if (text.size() > kMaxStateFileBytes) {
    return absl::DataLossError(
        absl::StrCat(what, ": larger than ", kMaxStateFileBytes, " bytes"));
  }
  Json j = Json::parse(text.begin(), text.end(), nullptr,
                       /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::DataLossError(absl::StrCat(what, ": not JSON"));
  }
  return j;
}

}  // namespace

absl::string_view PhaseName(Journal::Phase phase) {
  for (const auto& [p, name] : kPhases) {
    if (p == phase) return name;
  }
  return "?";
}

std::string EncodeJournal(const Journal& journal) {
  Json j = {
      {"serving", journal.serving},
      {"previous", journal.previous},
      {"candidate", journal.candidate},
      {"phase", std::string(PhaseName(journal.phase))},
  };
  if (journal.failed_step.has_value()) {
    j["failed_step"] = std::string(DeliveryStepName(*journal.failed_step));
  }
  if (!journal.error.empty()) {
    j["error"] = journal.error.substr(0, kMaxErrorTextBytes);
  }
  if (journal.last_failure.has_value()) {
    const LocalFailure& f = *journal.last_failure;
    j["last_failure"] = {
        {"version_id", f.version_id},
        {"failed_step", std::string(DeliveryStepName(f.failed_step))},
        {"error", f.error.substr(0, kMaxErrorTextBytes)},
        {"rolled_back", f.rolled_back}};
  }
  // Invalid UTF-8 in an error text (a reload's stderr) is replaced rather
  // than failing the write.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

absl::StatusOr<Journal> DecodeJournal(absl::string_view text) {
  ASSIGN_OR_RETURN(const Json j, Parse("journal", text));
  // Type errors are checked before every access; nlohmann throws only on
  // what slipped through, which is then not a journal either.
  try {
    return DecodeJournalObject(j);
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat("journal: ", e.what()));
  }
}

std::string EncodeVersionInfo(const VersionInfo& info) {
  const Json j = {
      {"version_id", info.version_id},
      {"certificate", info.certificate},
      {"serial", info.serial},
      {"not_after", absl::ToUnixSeconds(info.not_after)},
      {"written_at_ms", absl::ToUnixMillis(info.written_at)},
      {"leaf_pem", info.leaf_pem},
  };
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

absl::StatusOr<VersionInfo> DecodeVersionInfo(absl::string_view json) {
  ASSIGN_OR_RETURN(const Json j, Parse("version record", json));
  try {
    return DecodeVersionInfoObject(j);
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat("version record: ", e.what()));
  }
}

}  // namespace certfleet::agent
