// The two small JSON files that let the agent know, after a restart, where
// each target stands, and their grammar:
//
//  - the journal, <directory>/.certfleet-state, rewritten atomically before
//    the swap and after every phase of an install, so an agent killed at any
//    instant completes or reverts the interrupted install when it starts;
//  - the version record, .versions/<name>/.certfleet-version.json, written
//    with each version's files: which version a directory holds and the
//    leaf it serves.
//
// Both are read back from disk, so nothing in them is trusted until it is
// validated against what the agent writes (version_name.h for names,
// bounded lengths for the rest): DecodeJournal and DecodeVersionInfo are
// pure (no I/O) and refuse, with kDataLoss naming the field, anything else.
// TargetDirectory (target_directory.h) reads and writes them through the
// target's directory descriptor.
//
//   ASSIGN_OR_RETURN(Journal j, DecodeJournal(text));
//   j.phase = Journal::Phase::kSwapped;
//   const std::string out = EncodeJournal(j);
#ifndef CERTFLEET_AGENT_INSTALL_STATE_FILES_H_
#define CERTFLEET_AGENT_INSTALL_STATE_FILES_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "agent/install/bundle.h"

namespace certfleet::agent {

// The journal's file name inside a target's directory.
inline constexpr char kJournalFileName[] = ".certfleet-state";
// The version record's file name inside a version directory.
inline constexpr char kVersionInfoFileName[] = ".certfleet-version.json";
// Neither file is ever larger (a record holds one leaf certificate).
inline constexpr size_t kMaxStateFileBytes = 64 * 1024;
// Bounds of the free-text and id fields.
inline constexpr size_t kMaxErrorTextBytes = 4096;
inline constexpr size_t kMaxVersionIdBytes = 256;

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

  // Versions by their directory names in .versions/ (version_name.h);
  // "" = none.
  std::string serving;
  // What served before `serving`; kept by pruning.
  std::string previous;
  std::string candidate;
  Phase phase = Phase::kIdle;
  // kRollingBack: the step of the candidate that failed and its error, so
  // that a rollback finished by recovery can still be reported.
  std::optional<DeliveryStep> failed_step;
  std::string error;
  // The target's last failed install that no delivery result answered;
  // kept in every rewrite of the journal until an install succeeds.
  std::optional<LocalFailure> last_failure;

  bool operator==(const Journal&) const = default;
};

// "idle", "writing", "swapped", "reloaded", "rolling_back".
absl::string_view PhaseName(Journal::Phase phase);

// The journal as the agent writes it (JSON, one line).
std::string EncodeJournal(const Journal& journal);

// Parses and validates a journal: every name is "" or a valid version name
// (version_name.h); the phase is known; a candidate is set exactly when an
// install is in progress, and differs from `serving`; steps are known and
// texts bounded. kDataLoss naming the first problem otherwise.
absl::StatusOr<Journal> DecodeJournal(absl::string_view text);

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

// Parses and validates a version record: a version id whose directory name
// is valid, bounded texts, a lower-case hex serial. kDataLoss otherwise.
absl::StatusOr<VersionInfo> DecodeVersionInfo(absl::string_view json);

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_INSTALL_STATE_FILES_H_
