// TargetInstaller::AdoptExisting: what a host served before its first
// certfleet install becomes a version it can roll back to (declared in
// target_installer.h).
//
// Order of the steps, so that a SIGKILL at any instant leaves every stable
// path holding the old bytes (as a regular file or as a link to a copy):
//   1. write .versions/adopted (complete, fsynced) — the originals untouched;
//   2. journal "idle, serving adopted" — recovery then only sees a `current`
//      that is missing (an unused version, pruned later) or right;
//   3. `current` -> .versions/adopted;
//   4. each stable path replaced by its link, one rename(2) at a time.
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "agent/install/bundle_files.h"
#include "agent/install/state_files.h"
#include "agent/install/target_installer.h"
#include "common/crypto/certificate.h"
#include "common/failpoint.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace certfleet::agent::internal {
namespace {

constexpr char kAdoptedVersion[] = "adopted";

// True when the stable link at `link_path` is already the agent's own (a
// link into current/), so there is nothing of the host's to keep.
bool IsOwnLink(const std::string& link_path) {
  char buf[4096];
  const ssize_t n = readlink(link_path.c_str(), buf, sizeof buf - 1);
  if (n < 0) return false;
  const absl::string_view target(buf, static_cast<size_t>(n));
  return target.find("current/") != absl::string_view::npos;
}

bool HoldsCertificate(FileSpec::Format format) {
  return format == FileSpec::Format::kCert ||
         format == FileSpec::Format::kFullchain ||
         format == FileSpec::Format::kCombined;
}

}  // namespace

absl::StatusOr<std::string> TargetInstaller::AdoptExisting() {
  std::vector<RenderedFile> files;
  VersionInfo info{.version_id = kAdoptedVersion,
                   .written_at = deps_.clock.Now()};
  for (const FileSpec& spec : spec_.files) {
    const std::string path = absl::StrCat(spec_.directory, "/", spec.path);
    struct stat st;
    // stat, not lstat: a link placed by another tool (certbot's live/ links)
    // is adopted by its content; a dangling one has nothing to keep.
    if (IsOwnLink(path) || stat(path.c_str(), &st) != 0 ||
        !S_ISREG(st.st_mode)) {
      continue;
    }
    absl::StatusOr<std::string> content = deps_.fs.ReadFile(path);
    if (!content.ok()) {
      return Annotate(content.status(),
                      absl::StrCat("keeping the existing ", path));
    }
    if (info.serial.empty() && HoldsCertificate(spec.format)) {
      absl::StatusOr<std::vector<crypto::Certificate>> chain =
          crypto::Certificate::ParsePemChain(*content);
      if (chain.ok() && !chain->empty()) {
        info.serial = chain->front().SerialHex();
        info.not_after = chain->front().NotAfter();
        info.leaf_pem = chain->front().ToPem();
      }
    }
    files.push_back(
        RenderedFile{.path = spec.path,
                     .content = *std::move(content),
                     .mode = static_cast<mode_t>(st.st_mode & 07777)});
  }
  if (files.empty()) return std::string();
  CF_LOG_INFO(
      "target %s: keeping the %d file(s) it served before certfleet as "
      "version \"%s\" (serial %s), to roll back to",
      spec_.name, static_cast<int>(files.size()), kAdoptedVersion,
      info.serial.empty() ? "unknown" : info.serial);
  files.push_back(RenderedFile{.path = kVersionInfoFileName,
                               .content = EncodeVersionInfo(info),
                               .mode = 0644});
  RETURN_IF_ERROR(
      dir_.WriteVersion(kAdoptedVersion, files, spec_.uid, spec_.gid));
  Failpoint("agent.adopt.written");
  RETURN_IF_ERROR(SaveJournal(
      Journal{.serving = kAdoptedVersion, .phase = Journal::Phase::kIdle}));
  RETURN_IF_ERROR(dir_.SwapCurrent(kAdoptedVersion));
  Failpoint("agent.adopt.swapped");
  RETURN_IF_ERROR(dir_.EnsureStableLinks(stable_paths_));
  SetServing(kAdoptedVersion);
  return std::string(kAdoptedVersion);
}

}  // namespace certfleet::agent::internal
