#include "agent/install/state_files.h"

#include <array>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace certfleet::agent {
namespace {

constexpr std::array<std::pair<Journal::Phase, const char*>, 5> kPhases = {{
    {Journal::Phase::kIdle, "idle"},
    {Journal::Phase::kWriting, "writing"},
    {Journal::Phase::kSwapped, "swapped"},
    {Journal::Phase::kReloaded, "reloaded"},
    {Journal::Phase::kRollingBack, "rolling_back"},
}};

std::string JournalPath(const std::string& directory) {
  return absl::StrCat(directory, "/", kJournalFileName);
}

// The whole-number member `key` of a version record (0 when absent). A
// fraction or a number beyond int64 ("1e300") is refused: nlohmann would
// cast it to int64_t, which is undefined behaviour, and EncodeVersionInfo
// never writes one.
absl::StatusOr<int64_t> WholeNumber(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return 0;
  if (!it->is_number_integer() ||
      (it->is_number_unsigned() &&
       it->get<uint64_t>() >
           static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
    return absl::DataLossError(absl::StrCat("not a version record: \"", key,
                                            "\" is not a whole number"));
  }
  return it->get<int64_t>();
}

}  // namespace

absl::string_view PhaseName(Journal::Phase phase) {
  for (const auto& [p, name] : kPhases) {
    if (p == phase) return name;
  }
  return "?";
}

absl::StatusOr<Journal> ReadJournal(Filesystem& fs,
                                    const std::string& directory) {
  const std::string path = JournalPath(directory);
  absl::StatusOr<std::string> text = fs.ReadFile(path);
  if (absl::IsNotFound(text.status())) return Journal{};
  if (!text.ok()) return text.status();
  // nlohmann reports through exceptions; they stop here.
  try {
    const nlohmann::json j = nlohmann::json::parse(*text);
    Journal journal;
    journal.serving = j.value("serving", "");
    journal.previous = j.value("previous", "");
    journal.candidate = j.value("candidate", "");
    const std::string phase = j.value("phase", "idle");
    bool known = false;
    for (const auto& [p, name] : kPhases) {
      if (phase == name) {
        journal.phase = p;
        known = true;
      }
    }
    if (!known) {
      return absl::DataLossError(
          absl::StrCat(path, ": unknown phase \"", phase, "\""));
    }
    return journal;
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": ", e.what()));
  }
}

absl::Status WriteJournal(Filesystem& fs, const std::string& directory,
                          const Journal& journal) {
  const nlohmann::json j = {
      {"serving", journal.serving},
      {"previous", journal.previous},
      {"candidate", journal.candidate},
      {"phase", std::string(PhaseName(journal.phase))},
  };
  return fs.WriteFileAtomic(JournalPath(directory), j.dump() + "\n", 0644);
}

std::string EncodeVersionInfo(const VersionInfo& info) {
  const nlohmann::json j = {
      {"version_id", info.version_id},
      {"certificate", info.certificate},
      {"serial", info.serial},
      {"not_after", absl::ToUnixSeconds(info.not_after)},
      {"written_at_ms", absl::ToUnixMillis(info.written_at)},
      {"leaf_pem", info.leaf_pem},
  };
  return j.dump(2) + "\n";
}

absl::StatusOr<VersionInfo> DecodeVersionInfo(absl::string_view json) {
  try {
    const nlohmann::json j = nlohmann::json::parse(json);
    VersionInfo info;
    info.version_id = j.at("version_id").get<std::string>();
    info.certificate = j.value("certificate", "");
    info.serial = j.value("serial", "");
    ASSIGN_OR_RETURN(const int64_t not_after, WholeNumber(j, "not_after"));
    ASSIGN_OR_RETURN(const int64_t written_at_ms,
                     WholeNumber(j, "written_at_ms"));
    info.not_after = absl::FromUnixSeconds(not_after);
    info.written_at = absl::FromUnixMillis(written_at_ms);
    info.leaf_pem = j.value("leaf_pem", "");
    return info;
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(
        absl::StrCat("not a version record: ", e.what()));
  }
}

absl::StatusOr<VersionInfo> ReadVersionInfo(Filesystem& fs,
                                            const std::string& version_dir) {
  absl::StatusOr<std::string> text =
      fs.ReadFile(absl::StrCat(version_dir, "/", kVersionInfoFileName));
  if (!text.ok()) return text.status();
  absl::StatusOr<VersionInfo> info = DecodeVersionInfo(*text);
  if (!info.ok()) return Annotate(info.status(), version_dir);
  return info;
}

}  // namespace certfleet::agent
