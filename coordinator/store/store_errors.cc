#include "coordinator/store/store_errors.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/rfc3339.h"

namespace certfleet::store {

absl::Status TokenAlreadyUsed(const std::string& id, const std::string& used_by,
                              absl::Time used_at) {
  return absl::FailedPreconditionError(
      absl::StrCat("store: token ", id, " was already used by ", used_by,
                   " at ", FormatRfc3339(used_at)));
}

absl::Status ConsumeTokenNotFound(const std::string& id) {
  return absl::NotFoundError(
      absl::StrCat("store: consume token ", id, ": no such token"));
}

absl::Status CheckConsumeTime(const std::string& id, absl::Time now) {
  if (now == absl::InfinitePast() || now == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "store: consume token ", id, ": the time of use must be finite"));
  }
  return absl::OkStatus();
}

absl::Status UpdateAgentNotFound(const std::string& id) {
  return absl::NotFoundError(
      absl::StrCat("store: update agent ", id, ": no such agent"));
}

absl::Status ApplyAgentUpdate(
    const std::string& id, AgentRecord& record,
    const std::function<absl::Status(AgentRecord&)>& mutate) {
  if (absl::Status s = mutate(record); !s.ok()) return s;
  if (record.id != id) {
    return absl::InvalidArgumentError(
        absl::StrCat("store: update agent ", id, ": the id cannot change"));
  }
  return absl::OkStatus();
}

absl::Status CheckNewRollout(const RolloutRecord& rollout) {
  auto invalid = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("store: create rollout", rollout.id.empty() ? "" : " ",
                     rollout.id, ": ", what));
  };
  if (rollout.id.empty()) return invalid("the id is empty");
  if (rollout.certificate.empty()) return invalid("the certificate is empty");
  if (rollout.kind != "rollout" && rollout.kind != "rollback") {
    return invalid(absl::StrCat("kind \"", rollout.kind,
                                "\" is neither \"rollout\" nor \"rollback\""));
  }
  return absl::OkStatus();
}

absl::Status RolloutIdTaken(const std::string& id) {
  return absl::AlreadyExistsError(
      absl::StrCat("store: create rollout ", id, ": the id is already taken"));
}

absl::Status RolloutAlreadyActive(const std::string& id,
                                  const RolloutRecord& active) {
  return absl::FailedPreconditionError(absl::StrCat(
      "store: create rollout ", id, ": certificate ", active.certificate,
      " already has an unfinished rollout ", active.id, " (", active.phase,
      "); wait for it to finish or abort it"));
}

absl::Status SaveRolloutRefused(const RolloutRecord& saving,
                                const std::optional<RolloutRecord>& stored) {
  const std::string op = absl::StrCat("store: save rollout ", saving.id, ": ");
  if (!stored.has_value()) {
    return absl::NotFoundError(absl::StrCat(op, "no such rollout"));
  }
  if (stored->revision != saving.revision) {
    return absl::AbortedError(absl::StrCat(
        op, "revision ", saving.revision, " was read but ", stored->revision,
        " is stored (saved elsewhere since); re-read it and retry"));
  }
  if (stored->finished) {
    return absl::FailedPreconditionError(
        absl::StrCat(op, "it is finished (", stored->phase,
                     ") and never changes again; start a new rollout"));
  }
  // The compare-and-set failed, yet the row matches: only a bug gets here.
  return absl::InternalError(
      absl::StrCat(op, "refused although revision ", stored->revision,
                   " matches and the rollout is not finished"));
}

absl::Status CheckAuditRecord(const AuditRecord& record) {
  const char* empty = record.actor.empty()    ? "actor"
                      : record.action.empty() ? "action"
                      : record.result.empty() ? "result"
                                              : nullptr;
  if (empty == nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("store: append audit record: ", empty, " is empty"));
}

absl::Status CheckLimit(const char* op, int limit) {
  if (limit >= 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("store: ", op, ": limit ", limit, " is negative"));
}

}  // namespace certfleet::store
