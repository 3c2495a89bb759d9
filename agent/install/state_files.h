// The two small JSON files that let the agent know, after a restart, where
// each target stands:
//
//  - the journal, <directory>/.certfleet-state, rewritten atomically before
//    the swap and after every phase of an install, so an agent killed at any
//    instant completes or reverts the interrupted install when it starts;
//  - the version record, .versions/<id>/.certfleet-version.json, written
//    with each version's files: which version a directory holds and the
//    leaf it serves.
//
//   ASSIGN_OR_RETURN(Journal j, ReadJournal(fs, dir));
//   j.phase = Journal::Phase::kSwapped;
//   RETURN_IF_ERROR(WriteJournal(fs, dir, j));
#ifndef CERTFLEET_AGENT_INSTALL_STATE_FILES_H_
#define CERTFLEET_AGENT_INSTALL_STATE_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/filesystem.h"

namespace certfleet::agent {

// The journal's file name inside a target's directory.
inline constexpr char kJournalFileName[] = ".certfleet-state";
// The version record's file name inside a version directory.
inline constexpr char kVersionInfoFileName[] = ".certfleet-version.json";

struct Journal {
  enum class Phase {
    // Nothing in progress: `serving` is what `current` points at.
    kIdle,
    // `candidate` is being written; `current` still points at `serving`.
    kWriting,
    // `current` is about to point, or points, at `candidate`; the service
    // has not been reloaded yet.
    kSwapped,
    // The service was reloaded on `candidate`; health checks pending.
    kReloaded,
    // `candidate` failed: `current` goes (or went) back to `serving`, which
    // still has to be reloaded and checked.
    kRollingBack,
  };

  // Versions by their directory names in .versions/
  // (TargetDirectory::VersionDirName of the version id); "" = none.
  std::string serving;
  // What served before `serving`; kept by pruning.
  std::string previous;
  std::string candidate;
  Phase phase = Phase::kIdle;

  bool operator==(const Journal&) const = default;
};

// "idle", "writing", "swapped", "reloaded", "rolling_back".
absl::string_view PhaseName(Journal::Phase phase);

// The journal of the target in `directory`. An absent file reads as an idle
// journal serving nothing. kDataLoss when the file is not a journal.
absl::StatusOr<Journal> ReadJournal(Filesystem& fs,
                                    const std::string& directory);

// Replaces the journal atomically (temporary file, fsync, rename, fsync of
// the directory).
absl::Status WriteJournal(Filesystem& fs, const std::string& directory,
                          const Journal& journal);

// What a version directory holds.
struct VersionInfo {
  std::string version_id;
  std::string certificate;
  // Lower-case hex.
  std::string serial;
  absl::Time not_after = absl::InfinitePast();
  // When the agent wrote it (orders versions for pruning).
  absl::Time written_at = absl::InfinitePast();
  std::string leaf_pem;
};

std::string EncodeVersionInfo(const VersionInfo& info);

// kDataLoss when `json` is not a version record.
absl::StatusOr<VersionInfo> DecodeVersionInfo(absl::string_view json);

// The record in the version directory `version_dir`.
absl::StatusOr<VersionInfo> ReadVersionInfo(Filesystem& fs,
                                            const std::string& version_dir);

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_INSTALL_STATE_FILES_H_
