// TargetInstaller::AdoptExisting: what a host served before its first
// certfleet install becomes a version it can roll back to (declared in
// target_installer.h).
//
// Only regular files are adopted (read with O_NOFOLLOW|O_NONBLOCK, checked
// with fstat), up to kMaxAdoptedFileBytes, and written with the target's
// configured owner, group and file modes — never with the modes found, so
// nothing planted there (a set-uid binary as privkey.pem) keeps its
// privileges, and no link is followed (a link to a secret is not copied).
// Anything else at a stable path is logged and replaced by the stable link.
//
// Order of the steps, so that a SIGKILL at any instant leaves every stable
// path holding the old bytes (as a regular file or as a link to a copy):
//   1. write .versions/adopted (complete, fsynced) — the originals untouched;
//   2. journal "idle, serving adopted" — recovery then only sees a `current`
//      that is missing (an unused version, pruned later) or right;
//   3. `current` -> .versions/adopted;
//   4. each stable path replaced by its link, one rename(2) at a time.
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/install/bundle_files.h"
#include "agent/install/state_files.h"
#include "agent/install/target_installer.h"
#include "agent/install/version_name.h"
#include "common/crypto/certificate.h"
#include "common/failpoint.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace certfleet::agent::internal {
namespace {

bool HoldsCertificate(FileSpec::Format format) {
  return format == FileSpec::Format::kCert ||
         format == FileSpec::Format::kFullchain ||
         format == FileSpec::Format::kCombined;
}

}  // namespace

absl::StatusOr<std::string> TargetInstaller::AdoptExisting() {
  std::vector<RenderedFile> files;
  VersionInfo info{.version_id = kAdoptedVersionName,
                   .written_at = deps_.clock.Now()};
  for (const FileSpec& spec : spec_.files) {
    ExistingFile existing = dir_.ReadExisting(spec.path);
    switch (existing.kind) {
      case ExistingFile::Kind::kAbsent:
      case ExistingFile::Kind::kOwnLink:
        continue;
      case ExistingFile::Kind::kNotAdopted:
        CF_LOG_WARN(
            "target %s: %s; not kept as version \"%s\" (the stable link "
            "replaces it)",
            spec_.name, existing.why, kAdoptedVersionName);
        deps_.metrics.StateProblem(spec_.name, "not_adopted");
        continue;
      case ExistingFile::Kind::kRegular:
        break;
    }
    if (info.serial.empty() && HoldsCertificate(spec.format)) {
      absl::StatusOr<std::vector<crypto::Certificate>> chain =
          crypto::Certificate::ParsePemChain(existing.content);
      if (chain.ok() && !chain->empty()) {
        info.serial = chain->front().SerialHex();
        info.not_after = chain->front().NotAfter();
        info.leaf_pem = chain->front().ToPem();
      }
    }
    files.push_back(RenderedFile{.path = spec.path,
                                 .content = std::move(existing.content),
                                 .mode = spec_.EffectiveMode(spec)});
  }
  if (files.empty()) return std::string();
  CF_LOG_INFO(
      "target %s: keeping the %d file(s) it served before certfleet as "
      "version \"%s\" (serial %s), to roll back to",
      spec_.name, static_cast<int>(files.size()), kAdoptedVersionName,
      info.serial.empty() ? "unknown" : info.serial);
  files.push_back(RenderedFile{.path = kVersionInfoFileName,
                               .content = EncodeVersionInfo(info),
                               .mode = 0644});
  RETURN_IF_ERROR(
      dir_.WriteVersion(kAdoptedVersionName, files, spec_.uid, spec_.gid));
  Failpoint("agent.adopt.written");
  RETURN_IF_ERROR(SaveJournal(
      Journal{.serving = kAdoptedVersionName, .phase = Journal::Phase::kIdle}));
  RETURN_IF_ERROR(dir_.SwapCurrent(kAdoptedVersionName));
  Failpoint("agent.adopt.swapped");
  RETURN_IF_ERROR(dir_.EnsureStableLinks(stable_paths_));
  SetServing(kAdoptedVersionName);
  return std::string(kAdoptedVersionName);
}

}  // namespace certfleet::agent::internal
