// TargetDirectory: the journal, the version records, the stable links and
// what a host had at the stable paths before (declared in
// target_directory.h).
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/install/target_directory.h"
#include "common/status_macros.h"

namespace certfleet::agent {
namespace {

constexpr char kCurrent[] = "current";

// ".certfleet-state.invalid-": the prefix of journals moved aside.
std::string AsidePrefix() {
  return absl::StrCat(kJournalFileName, ".invalid-");
}

// The link the agent makes at stable path `path`: relative, so the tree
// still works when mounted elsewhere ("tls/key.pem" ->
// "../current/tls/key.pem").
std::string StableLinkTarget(const std::string& path) {
  std::string target;
  for (char c : path) {
    if (c == '/') target += "../";
  }
  return absl::StrCat(target, kCurrent, "/", path);
}

}  // namespace

absl::StatusOr<Journal> TargetDirectory::ReadJournal() const {
  struct stat st;
  absl::StatusOr<std::string> text =
      root_.ReadFile(kJournalFileName, kMaxStateFileBytes, &st);
  if (absl::IsNotFound(text.status())) return Journal{};
  // A link, a FIFO or an oversized file there is not the agent's journal.
  if (absl::IsFailedPrecondition(text.status())) {
    return absl::DataLossError(std::string(text.status().message()));
  }
  if (!text.ok()) return text.status();
  if (st.st_uid != geteuid()) {
    return absl::DataLossError(absl::StrCat(root_.PathOf(kJournalFileName),
                                            " is not the agent's (",
                                            DescribeOwnerAndMode(st), ")"));
  }
  absl::StatusOr<Journal> journal = DecodeJournal(*text);
  if (!journal.ok()) {
    return Annotate(journal.status(), root_.PathOf(kJournalFileName));
  }
  return journal;
}

absl::Status TargetDirectory::WriteJournal(const Journal& journal) const {
  return root_.WriteFileAtomic(kJournalFileName, EncodeJournal(journal), 0644);
}

absl::StatusOr<std::string> TargetDirectory::MoveJournalAside(
    absl::Time now) const {
  const std::string base =
      absl::StrCat(AsidePrefix(), absl::ToUnixSeconds(now));
  std::string name = base;
  for (int n = 1;; ++n) {
    ASSIGN_OR_RETURN(std::optional<struct stat> st, root_.Stat(name));
    if (!st.has_value()) break;
    name = absl::StrCat(base, "-", n);
  }
  RETURN_IF_ERROR(root_.Rename(kJournalFileName, name));
  RETURN_IF_ERROR(root_.Sync());
  return name;
}

std::vector<std::string> TargetDirectory::JournalsMovedAside() const {
  std::vector<std::string> out;
  absl::StatusOr<std::vector<std::string>> names = root_.List();
  if (!names.ok()) return out;
  for (const std::string& name : *names) {
    if (absl::StartsWith(name, AsidePrefix())) out.push_back(name);
  }
  return out;
}

absl::StatusOr<VersionInfo> TargetDirectory::ReadVersionInfo(
    const std::string& name) const {
  if (!IsValidVersionName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", name, "\" is not a version name"));
  }
  ASSIGN_OR_RETURN(DirFd dir, versions_.OpenOwnDir(name));
  absl::StatusOr<std::string> text =
      dir.ReadFile(kVersionInfoFileName, kMaxStateFileBytes);
  if (!text.ok()) return text.status();
  absl::StatusOr<VersionInfo> info = DecodeVersionInfo(*text);
  if (!info.ok()) return Annotate(info.status(), VersionPath(name));
  if (VersionDirName(info->version_id) != name) {
    return absl::DataLossError(
        absl::StrCat(VersionPath(name), ": the record names version \"",
                     info->version_id, "\", which is not this directory's"));
  }
  return info;
}

absl::StatusOr<DirFd> TargetDirectory::OpenParentOf(const std::string& path,
                                                    bool make,
                                                    std::string* base) const {
  const std::vector<std::string> parts = absl::StrSplit(path, '/');
  ASSIGN_OR_RETURN(DirFd dir, root_.Duplicate());
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    absl::StatusOr<DirFd> next =
        make ? dir.MakeOwnDir(parts[i]) : dir.OpenOwnDir(parts[i]);
    if (!next.ok()) return next.status();
    dir = *std::move(next);
  }
  *base = parts.back();
  return dir;
}

absl::Status TargetDirectory::EnsureStableLinks(
    const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    std::string base;
    ASSIGN_OR_RETURN(DirFd dir, OpenParentOf(path, /*make=*/true, &base));
    const std::string target = StableLinkTarget(path);
    absl::StatusOr<std::string> existing = dir.ReadLink(base);
    if (existing.ok() && *existing == target) continue;
    RETURN_IF_ERROR(dir.ReplaceWithSymlink(base, target));
  }
  return absl::OkStatus();
}

ExistingFile TargetDirectory::ReadExisting(const std::string& path) const {
  using Kind = ExistingFile::Kind;
  std::string base;
  absl::StatusOr<DirFd> dir = OpenParentOf(path, /*make=*/false, &base);
  if (absl::IsNotFound(dir.status())) return {};
  if (!dir.ok()) {
    return {.kind = Kind::kNotAdopted,
            .why = std::string(dir.status().message())};
  }
  const std::string full = dir->PathOf(base);
  absl::StatusOr<std::optional<struct stat>> st = dir->Stat(base);
  if (!st.ok()) {
    return {.kind = Kind::kNotAdopted,
            .why = std::string(st.status().message())};
  }
  if (!st->has_value()) return {};
  if (S_ISLNK((*st)->st_mode)) {
    absl::StatusOr<std::string> target = dir->ReadLink(base);
    if (target.ok() && *target == StableLinkTarget(path)) {
      return {.kind = Kind::kOwnLink};
    }
    return {
        .kind = Kind::kNotAdopted,
        .why = absl::StrCat(full, " is a symbolic link",
                            target.ok() ? absl::StrCat(" to ", *target) : "",
                            ", not the agent's: not followed")};
  }
  if (!S_ISREG((*st)->st_mode)) {
    return {.kind = Kind::kNotAdopted,
            .why = absl::StrCat(full, " is not a regular file (",
                                DescribeOwnerAndMode(**st), ")")};
  }
  absl::StatusOr<std::string> content =
      dir->ReadFile(base, kMaxAdoptedFileBytes);
  if (!content.ok()) {
    return {.kind = Kind::kNotAdopted,
            .why = std::string(content.status().message())};
  }
  return {.kind = Kind::kRegular, .content = *std::move(content)};
}

}  // namespace certfleet::agent
