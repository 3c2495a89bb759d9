#include "agent/install/state_files.h"

#include <array>
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
    info.not_after = absl::FromUnixSeconds(j.value("not_after", int64_t{0}));
    info.written_at =
        absl::FromUnixMillis(j.value("written_at_ms", int64_t{0}));
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
