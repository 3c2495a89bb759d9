// TargetDirectory: opening and locking a target, its versions, `current`
// and the leftovers of an interrupted agent (declared in
// target_directory.h; the journal, the version records and the stable links
// are in target_directory_files.cc).
#include "agent/install/target_directory.h"

#include <errno.h>
#include <sys/file.h>
#include <unistd.h>

#include <map>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "agent/install/directory_chain.h"
#include "common/filesystem.h"
#include "common/status_macros.h"

namespace certfleet::agent {
namespace {

constexpr char kVersionsDir[] = ".versions";
constexpr char kCurrent[] = "current";
constexpr char kLockFile[] = ".certfleet-lock";

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

// True for "<prefix><pid>" and "<prefix><pid>-<n>": the temporary names the
// agent gives files it renames into place.
bool IsTemporaryName(absl::string_view name, absl::string_view prefix) {
  if (!absl::ConsumePrefix(&name, prefix)) return false;
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '-');
  if (parts.size() > 2) return false;
  for (absl::string_view part : parts) {
    if (!AllDigits(part)) return false;
  }
  return true;
}

// True for ".tmp-<version name>-<pid>" and ".old-<version name>-<pid>".
bool IsPartialVersionName(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, ".tmp-") &&
      !absl::ConsumePrefix(&name, ".old-")) {
    return false;
  }
  const size_t dash = name.find_last_of('-');
  return dash != absl::string_view::npos && AllDigits(name.substr(dash + 1)) &&
         IsValidVersionName(name.substr(0, dash));
}

absl::Status CheckVersionName(const std::string& name) {
  if (!IsValidVersionName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", name, "\" is not a version name"));
  }
  return absl::OkStatus();
}

}  // namespace

TargetDirectory::TargetDirectory(std::string directory, WriteFaults* faults)
    : directory_(std::move(directory)), faults_(faults) {}

std::string TargetDirectory::VersionPath(absl::string_view name) const {
  return absl::StrCat(directory_, "/", kVersionsDir, "/", name);
}

absl::Status TargetDirectory::Open(bool create) {
  lock_ = UniqueFd();
  versions_ = DirFd();
  root_ = DirFd();
  ASSIGN_OR_RETURN(DirFd root,
                   OpenTargetDirectory(directory_, create, faults_));
  absl::StatusOr<DirFd> versions =
      create ? root.MakeOwnDir(kVersionsDir) : root.OpenOwnDir(kVersionsDir);
  if (!versions.ok()) return versions.status();
  root_ = std::move(root);
  versions_ = *std::move(versions);
  return absl::OkStatus();
}

absl::StatusOr<bool> TargetDirectory::StillAtPath() const {
  return StillTargetDirectory(root_, directory_);
}

absl::Status TargetDirectory::Lock(bool* busy) {
  if (busy != nullptr) *busy = false;
  ASSIGN_OR_RETURN(UniqueFd fd, root_.OpenLockFile(kLockFile));
  // A process spawned by an agent that was just killed holds the lock (an
  // inherited descriptor) from fork until its exec closes it: give such a
  // leftover a moment. Another agent holds it for good.
  const absl::Time give_up = absl::Now() + absl::Seconds(1);
  auto try_lock = [&fd] {
    return flock(fd.get(), LOCK_EX | LOCK_NB) == 0 ? 0 : errno;
  };
  int err = try_lock();
  while (err == EWOULDBLOCK && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
    err = try_lock();
  }
  if (err != 0) {
    const std::string path = root_.PathOf(kLockFile);
    if (err == EWOULDBLOCK) {
      if (busy != nullptr) *busy = true;
      return absl::FailedPreconditionError(
          absl::StrCat(directory_, " is in use by another certfleet agent (",
                       path, " is locked)"));
    }
    return ErrnoStatus(err, "lock", path);
  }
  lock_ = std::move(fd);
  return absl::OkStatus();
}

absl::Status TargetDirectory::WriteVersion(
    const std::string& name, const std::vector<RenderedFile>& files,
    std::optional<uid_t> uid, std::optional<gid_t> gid) {
  RETURN_IF_ERROR(CheckVersionName(name));
  const std::string tmp_name = absl::StrCat(".tmp-", name, "-", getpid());
  RETURN_IF_ERROR(versions_.RemoveTree(tmp_name));
  bool published = false;
  absl::Cleanup remove_tmp = [&] {
    if (!published) versions_.RemoveTree(tmp_name).IgnoreError();
  };
  ASSIGN_OR_RETURN(DirFd tmp, versions_.MakeOwnDir(tmp_name));
  // Sub-directories of file paths ("tls/key.pem"), by relative path.
  std::map<std::string, DirFd> subdirs;
  for (const RenderedFile& file : files) {
    const std::vector<std::string> parts = absl::StrSplit(file.path, '/');
    const DirFd* dir = &tmp;
    std::string rel;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      rel = rel.empty() ? parts[i] : absl::StrCat(rel, "/", parts[i]);
      auto it = subdirs.find(rel);
      if (it == subdirs.end()) {
        ASSIGN_OR_RETURN(DirFd sub, dir->MakeOwnDir(parts[i]));
        it = subdirs.emplace(rel, std::move(sub)).first;
      }
      dir = &it->second;
    }
    RETURN_IF_ERROR(
        dir->WriteNewFile(parts.back(), file.content, file.mode, uid, gid));
  }
  for (const auto& [rel, dir] : subdirs) RETURN_IF_ERROR(dir.Sync());
  RETURN_IF_ERROR(tmp.Sync());
  std::string old;
  if (HasVersion(name)) {
    old = absl::StrCat(".old-", name, "-", getpid());
    RETURN_IF_ERROR(versions_.RemoveTree(old));
    RETURN_IF_ERROR(versions_.Rename(name, old));
  }
  RETURN_IF_ERROR(versions_.Rename(tmp_name, name));
  published = true;
  RETURN_IF_ERROR(versions_.Sync());
  if (!old.empty()) versions_.RemoveTree(old).IgnoreError();
  return absl::OkStatus();
}

absl::StatusOr<std::string> TargetDirectory::Current() const {
  absl::StatusOr<std::string> target = root_.ReadLink(kCurrent);
  if (absl::IsNotFound(target.status())) return std::string();
  if (absl::IsFailedPrecondition(target.status())) {
    return absl::FailedPreconditionError(absl::StrCat(
        root_.PathOf(kCurrent),
        " is not a symbolic link (the agent manages it; move it away)"));
  }
  if (!target.ok()) return target.status();
  absl::string_view name = *target;
  if (!absl::ConsumePrefix(&name, absl::StrCat(kVersionsDir, "/")) ||
      !IsValidVersionName(name)) {
    return absl::FailedPreconditionError(
        absl::StrCat(root_.PathOf(kCurrent), " points at \"", *target,
                     "\", not at a version in ", kVersionsDir, "/"));
  }
  return std::string(name);
}

absl::Status TargetDirectory::SwapCurrent(const std::string& name) {
  RETURN_IF_ERROR(CheckVersionName(name));
  return root_.ReplaceWithSymlink(kCurrent,
                                  absl::StrCat(kVersionsDir, "/", name));
}

absl::Status TargetDirectory::RemoveCurrent() {
  ASSIGN_OR_RETURN(std::optional<struct stat> st, root_.Stat(kCurrent));
  if (!st.has_value()) return absl::OkStatus();
  if (!S_ISLNK(st->st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        root_.PathOf(kCurrent),
        " is not a symbolic link (the agent manages it; move it away)"));
  }
  RETURN_IF_ERROR(root_.Unlink(kCurrent));
  return root_.Sync();
}

bool TargetDirectory::HasVersion(const std::string& name) const {
  if (!IsValidVersionName(name) || !versions_.is_open()) return false;
  absl::StatusOr<std::optional<struct stat>> st = versions_.Stat(name);
  return st.ok() && st->has_value() && S_ISDIR((*st)->st_mode);
}

std::vector<std::string> TargetDirectory::ListVersions(
    std::vector<std::string>* ignored) const {
  std::vector<std::string> out;
  absl::StatusOr<std::vector<std::string>> names = versions_.List();
  if (!names.ok()) return out;
  for (const std::string& name : *names) {
    if (IsPartialVersionName(name)) continue;
    if (HasVersion(name)) {
      out.push_back(name);
    } else if (ignored != nullptr) {
      ignored->push_back(name);
    }
  }
  return out;
}

absl::Status TargetDirectory::RemoveVersion(const std::string& name) {
  RETURN_IF_ERROR(CheckVersionName(name));
  return versions_.RemoveTree(name);
}

void TargetDirectory::RemoveLeftovers(
    const std::vector<std::string>& stable_paths) {
  if (absl::StatusOr<std::vector<std::string>> names = versions_.List();
      names.ok()) {
    for (const std::string& name : *names) {
      if (IsPartialVersionName(name)) {
        versions_.RemoveTree(name).IgnoreError();
      }
    }
  }
  // Temporary links and files: removed only when they are not directories
  // (unlinkat without AT_REMOVEDIR), and only by the names the agent gives.
  auto remove_temporaries = [](const DirFd& dir, const std::string& prefix) {
    absl::StatusOr<std::vector<std::string>> names = dir.List();
    if (!names.ok()) return;
    for (const std::string& name : *names) {
      if (IsTemporaryName(name, prefix)) dir.Unlink(name).IgnoreError();
    }
  };
  remove_temporaries(root_, absl::StrCat(kCurrent, ".tmp-"));
  remove_temporaries(root_, absl::StrCat(kJournalFileName, ".tmp-"));
  for (const std::string& path : stable_paths) {
    std::string base;
    absl::StatusOr<DirFd> parent = OpenParentOf(path, /*make=*/false, &base);
    if (parent.ok()) remove_temporaries(*parent, absl::StrCat(base, ".tmp-"));
  }
}

}  // namespace certfleet::agent
