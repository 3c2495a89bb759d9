// The on-disk layout of one target, changed only in ways a reader never sees
// half-done (the Kubernetes atomic-writer pattern):
//
//   <directory>/.versions/<version>/<files>   complete, fsynced, immutable
//   <directory>/current -> .versions/<version>  swapped by rename(2)
//   <directory>/<path>  -> current/<path>       stable links, made once
//   <directory>/.certfleet-state                the journal (state_files.h)
//
// A version is written into .versions/.tmp-<version>-<pid>, every file and
// directory fsynced, then renamed into place; `current` is replaced by
// renaming a fresh symlink over it. Services read the stable links, so they
// see the old version or the new one, never a mix.
//
//   TargetDirectory dir("/etc/certfleet/www");
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
#include "agent/install/bundle_files.h"

namespace certfleet::agent {

class TargetDirectory {
 public:
  // `directory` is absolute and normalized (as the configuration holds it).
  explicit TargetDirectory(std::string directory)
      : directory_(std::move(directory)) {}

  // The name a version id gets on disk: letters, digits, "-" and "." stay;
  // every other byte (including "_") becomes "_xx" (hex), so distinct ids
  // get distinct names and none can leave .versions/. A leading "." is
  // encoded too, so no name is hidden, "." or "..".
  static std::string VersionDirName(absl::string_view version_id);

  const std::string& path() const { return directory_; }
  // <directory>/.versions/<name>
  std::string VersionPath(absl::string_view name) const;

  // Creates the directory and .versions/ (mode 0755) when missing.
  absl::Status Prepare();

  // Writes `files` as version `name`, owned by uid/gid when set, each file
  // and directory fsynced, then renames it into place. An existing version
  // of that name (never the current one: callers check) is replaced.
  absl::Status WriteVersion(const std::string& name,
                            const std::vector<RenderedFile>& files,
                            std::optional<uid_t> uid, std::optional<gid_t> gid);

  // The version `current` points at; "" when there is no `current`.
  // kFailedPrecondition when `current` is not a link into .versions/.
  absl::StatusOr<std::string> Current() const;

  // Points `current` at version `name`: a new symlink renamed over it, then
  // the directory fsynced.
  absl::Status SwapCurrent(const std::string& name);

  // Removes `current` (nothing is served afterwards).
  absl::Status RemoveCurrent();

  // Makes <directory>/<path> a symlink to current/<path> for each path
  // (parents created as needed). A link already right is left alone; any
  // other file there is replaced atomically.
  absl::Status EnsureStableLinks(const std::vector<std::string>& paths);

  // True when version `name` exists (complete).
  bool HasVersion(const std::string& name) const;

  // Names of the complete versions in .versions/.
  std::vector<std::string> ListVersions() const;

  // Deletes version `name` recursively.
  absl::Status RemoveVersion(const std::string& name);

  // Deletes what an interrupted agent may have left: partial versions
  // (.versions/.tmp-*, .versions/.old-*), temporary links (current.tmp-*,
  // <path>.tmp-* for each stable path) and journal temporaries.
  void RemoveLeftovers(const std::vector<std::string>& stable_paths);

  // Takes an exclusive lock (flock) on <directory>/.certfleet-lock, held
  // until this object goes away, so two agents never install into the same
  // target. kFailedPrecondition when another process still holds it after
  // a second (a killed agent's child may hold it briefly until its exec).
  absl::Status Lock();

  ~TargetDirectory();
  TargetDirectory(const TargetDirectory&) = delete;
  TargetDirectory& operator=(const TargetDirectory&) = delete;

 private:
  std::string directory_;
  int lock_fd_ = -1;
};

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_INSTALL_TARGET_DIRECTORY_H_
