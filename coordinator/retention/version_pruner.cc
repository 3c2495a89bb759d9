#include "coordinator/retention/version_pruner.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "coordinator/store/version_id.h"

namespace certfleet::retention {
namespace {

// The versions of `certificate` a rollout may still deliver: both ends of
// its newest rollout (a rollback returns to `from`) and of its active one.
absl::StatusOr<std::set<std::string>> NamedByRollouts(
    store::Store& store, const std::string& certificate) {
  std::set<std::string> named;
  ASSIGN_OR_RETURN(
      std::vector<store::RolloutRecord> newest,
      store.ListRollouts({.certificate = certificate, .limit = 1}));
  ASSIGN_OR_RETURN(std::optional<store::RolloutRecord> active,
                   store.ActiveRollout(certificate));
  if (active.has_value()) newest.push_back(*std::move(active));
  for (const store::RolloutRecord& r : newest) {
    named.insert(r.from_version);
    named.insert(r.to_version);
  }
  return named;
}

}  // namespace

VersionPruner::VersionPruner(store::Store& store, Clock& clock,
                             PrunerOptions options, PrunerObserver* observer)
    : store_(store), clock_(clock), options_(options), observer_(observer) {}

absl::StatusOr<int> VersionPruner::PruneCertificate(
    const std::string& certificate, absl::Time expired_before) {
  ASSIGN_OR_RETURN(std::vector<store::VersionRecord> versions,
                   store_.ListVersions(certificate));  // newest first
  if (versions.size() < 2) return 0;
  ASSIGN_OR_RETURN(std::set<std::string> named,
                   NamedByRollouts(store_, certificate));
  std::vector<int64_t> deleted;
  absl::Status failure;
  for (size_t i = 1; i < versions.size(); ++i) {
    const store::VersionRecord& v = versions[i];
    if (v.not_after >= expired_before ||
        named.contains(store::VersionId(certificate, v.version))) {
      continue;
    }
    absl::Status s = store_.DeleteVersion(certificate, v.version);
    if (absl::IsNotFound(s)) continue;  // gone already: another pass
    if (!s.ok()) {
      failure = s;
      break;
    }
    deleted.push_back(v.version);
  }
  if (!deleted.empty()) {
    std::sort(deleted.begin(), deleted.end());
    const std::string detail = absl::StrCat(
        "deleted versions ", absl::StrJoin(deleted, ","), " (expired before ",
        absl::FormatTime(expired_before), ")");
    CF_LOG_INFO("retention: %s: %s", certificate, detail);
    absl::StatusOr<int64_t> audited =
        store_.AppendAudit({.at = clock_.Now(),
                            .actor = "coordinator",
                            .action = "version.prune",
                            .certificate = certificate,
                            .detail = detail,
                            .result = "ok"});
    if (!audited.ok()) {
      CF_LOG_WARN("retention: %s: auditing the deletion failed: %s",
                  certificate, audited.status().ToString());
    }
    if (observer_ != nullptr)
      observer_->OnVersionsPruned(certificate, deleted.size());
  }
  if (!failure.ok()) return failure;
  return static_cast<int>(deleted.size());
}

absl::StatusOr<PruneReport> VersionPruner::Prune(const Context& ctx) {
  const absl::Time expired_before = clock_.Now() - options_.expired_versions;
  ASSIGN_OR_RETURN(std::vector<std::string> certificates,
                   store_.ListVersionedCertificates());
  PruneReport report;
  for (const std::string& certificate : certificates) {
    if (ctx.IsCancelled()) break;
    absl::StatusOr<int> deleted = PruneCertificate(certificate, expired_before);
    if (deleted.ok()) {
      report.deleted += *deleted;
      continue;
    }
    ++report.failed;
    CF_LOG_WARN("retention: %s: pruning expired versions failed: %s",
                certificate, deleted.status().ToString());
    if (observer_ != nullptr) observer_->OnPruneFailed(certificate);
  }
  return report;
}

void VersionPruner::PruneIfDue(const Context& ctx) {
  const absl::Time now = clock_.Now();
  if (now - last_pass_ < options_.interval) return;
  last_pass_ = now;
  absl::StatusOr<PruneReport> report = Prune(ctx);
  if (!report.ok()) {
    CF_LOG_WARN("retention: listing certificates failed: %s",
                report.status().ToString());
  }
}

}  // namespace certfleet::retention
