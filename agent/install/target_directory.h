// The on-disk layout of one target, changed only in ways a reader never sees
// half-done (the Kubernetes atomic-writer pattern):
//
//   <directory>/.versions/<version>/<files>   complete, fsynced, immutable
//   <directory>/current -> .versions/<version>  swapped by rename(2)
//   <directory>/<path>  -> current/<path>       stable links, made once
//   <directory>/.certfleet-state                the journal (state_files.h)
//   <directory>/.certfleet-lock                 flock()ed by the agent
//
// A version is written into .versions/.tmp-<version>-<pid>, every file and
// directory fsynced, then renamed into place; `current` is replaced by
// renaming a fresh symlink over it. Services read the stable links, so they
// see the old version or the new one, never a mix.
//
// Everything happens through descriptors (dir_fd.h): the target directory
// is opened once by the rules of directory_chain.h and held, with its
// .versions/, for the object's lifetime; no path is resolved twice. The
// only links the agent reads are the ones it writes (`current` and the
// stable links), and it accepts them only when they point where it would
// have pointed them. Names read back from disk must match the grammar of
// version_name.h before anything is done with them.
//
//   TargetDirectory dir("/etc/certfleet/www");
//   RETURN_IF_ERROR(dir.Open(/*create=*/true));
//   RETURN_IF_ERROR(dir.Lock(nullptr));
//   RETURN_IF_ERROR(dir.WriteVersion(name, files, uid, gid));
//   RETURN_IF_ERROR(dir.EnsureStableLinks({"fullchain.pem", "key.pem"}));
//   RETURN_IF_ERROR(dir.SwapCurrent(name));
#ifndef CERTFLEET_AGENT_INSTALL_TARGET_DIRECTORY_H_
#define CERTFLEET_AGENT_INSTALL_TARGET_DIRECTORY_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "agent/install/bundle_files.h"
#include "agent/install/dir_fd.h"
#include "agent/install/state_files.h"
#include "agent/install/version_name.h"

namespace certfleet::agent {

// The largest file a host served before its first install that the agent
// keeps as version "adopted": certificates, chains and keys are a few KiB;
// anything larger is not one.
inline constexpr size_t kMaxAdoptedFileBytes = 1024 * 1024;

// What is at a stable path before the first install (ReadExisting).
struct ExistingFile {
  enum class Kind {
    kAbsent,
    // The agent's own link into current/: nothing of the host's to keep.
    kOwnLink,
    // A regular file up to kMaxAdoptedFileBytes: `content` is its bytes.
    kRegular,
    // Anything else (a link placed by another tool, a device, a FIFO, a
    // directory, a larger file): not adopted; `why` says what it is.
    kNotAdopted,
  };
  Kind kind = Kind::kAbsent;
  std::string content;
  std::string why;
};

class TargetDirectory {
 public:
  // `directory` is absolute and normalized (as the configuration holds it).
  // `faults` (tests) may be null.
  explicit TargetDirectory(std::string directory,
                           WriteFaults* faults = nullptr);

  // version_name.h's VersionDirName.
  static std::string VersionDirName(absl::string_view version_id) {
    return ::certfleet::agent::VersionDirName(version_id);
  }

  const std::string& path() const { return directory_; }
  // <directory>/.versions/<name>, for messages.
  std::string VersionPath(absl::string_view name) const;

  // Opens the directory by the rules of directory_chain.h — creating it and
  // its missing parents (root-owned, 0755) when `create` — and .versions/
  // in it (created when missing and `create`), and holds both. A refusal is
  // kFailedPrecondition naming the offending directory, its owner and mode;
  // without `create`, kNotFound when something is missing. Closes what was
  // open before.
  absl::Status Open(bool create);
  bool is_open() const { return versions_.is_open(); }
  // True when the configured path still leads to the directory held; false
  // when it leads elsewhere or nowhere now; the refusal when the way to it
  // is refused now (a directory above was chmod-ed since).
  absl::StatusOr<bool> StillAtPath() const;

  // Takes an exclusive lock (flock) on .certfleet-lock (opened O_NOFOLLOW;
  // a link there is refused), held until this object goes away, so two
  // agents never install into the same target. kFailedPrecondition, with
  // *busy set, when another process still holds it after a second (a
  // killed agent's child may hold it briefly until its exec).
  absl::Status Lock(bool* busy);

  // The journal: an absent file reads as an idle journal serving nothing.
  // kDataLoss when it fails validation (DecodeJournal), is not a regular
  // file, or is not owned by the agent's user.
  absl::StatusOr<Journal> ReadJournal() const;
  // Replaces the journal atomically (temporary file, fsync, rename, fsync
  // of the directory), O_NOFOLLOW.
  absl::Status WriteJournal(const Journal& journal) const;
  // Renames the journal to ".certfleet-state.invalid-<unix seconds>" (kept
  // for inspection); returns the new name.
  absl::StatusOr<std::string> MoveJournalAside(absl::Time now) const;
  // The journals moved aside so far, by name.
  std::vector<std::string> JournalsMovedAside() const;

  // The record of version `name`; kDataLoss when it fails validation or
  // names another version than its directory's.
  absl::StatusOr<VersionInfo> ReadVersionInfo(const std::string& name) const;

  // Writes `files` as version `name`, owned by uid/gid when set, each with
  // its mode (never set-uid, set-gid or sticky), each file and directory
  // fsynced, then renames it into place. An existing version of that name
  // (never the current one: callers check) is replaced.
  absl::Status WriteVersion(const std::string& name,
                            const std::vector<RenderedFile>& files,
                            std::optional<uid_t> uid, std::optional<gid_t> gid);

  // The version `current` points at; "" when there is no `current`.
  // kFailedPrecondition when `current` is not a link to a valid version
  // name in .versions/.
  absl::StatusOr<std::string> Current() const;
  // Points `current` at version `name`: a new symlink renamed over it, then
  // the directory fsynced.
  absl::Status SwapCurrent(const std::string& name);
  // Removes `current` (nothing is served afterwards).
  absl::Status RemoveCurrent();

  // Makes <directory>/<path> a symlink to current/<path> for each path
  // (parent directories created as needed, 0755; existing ones must be
  // root's or the agent's and not writable by others). A link already right
  // is left alone; anything else there (not a directory) is replaced
  // atomically.
  absl::Status EnsureStableLinks(const std::vector<std::string>& paths);
  // What is at the stable path `path` now, read without following links.
  ExistingFile ReadExisting(const std::string& path) const;

  // True when version `name` exists (a directory, not a link).
  bool HasVersion(const std::string& name) const;
  // Names of the versions in .versions/. Entries whose names do not match
  // the grammar, and links, are left alone and listed in `ignored` (may be
  // null); the agent's temporaries (".tmp-*", ".old-*") are not listed.
  std::vector<std::string> ListVersions(
      std::vector<std::string>* ignored = nullptr) const;
  // Deletes version `name` (a valid name) recursively, without following
  // links.
  absl::Status RemoveVersion(const std::string& name);

  // Deletes what an interrupted agent may have left, by the names it gives
  // them: partial versions (.versions/.tmp-<name>-<pid>,
  // .versions/.old-<name>-<pid>), temporary links (current.tmp-<pid>,
  // <path>.tmp-<pid> for each stable path) and journal temporaries
  // (.certfleet-state.tmp-<pid>-<n>).
  void RemoveLeftovers(const std::vector<std::string>& stable_paths);

  TargetDirectory(const TargetDirectory&) = delete;
  TargetDirectory& operator=(const TargetDirectory&) = delete;

 private:
  // The directory holding stable path `path`, opened (made when `make`)
  // one component at a time below the target directory; `base` gets the
  // file's own name.
  absl::StatusOr<DirFd> OpenParentOf(const std::string& path, bool make,
                                     std::string* base) const;

  std::string directory_;
  WriteFaults* faults_;
  DirFd root_;
  DirFd versions_;
  UniqueFd lock_;
};

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_INSTALL_TARGET_DIRECTORY_H_
