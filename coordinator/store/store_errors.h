// Errors that every Store backend reports with the same code and text, so
// callers (and the contract tests) can rely on them whatever the backend,
// and the checks of arguments that every backend makes before writing.
//
//   if (used) return TokenAlreadyUsed(id, token.used_by, token.used_at);
//   RETURN_IF_ERROR(CheckNewRollout(rollout));
#ifndef CERTFLEET_COORDINATOR_STORE_STORE_ERRORS_H_
#define CERTFLEET_COORDINATOR_STORE_STORE_ERRORS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "coordinator/store/store.h"

namespace certfleet::store {

// kFailedPrecondition "store: token <id> was already used by <agent> at
// <UTC time as 2026-01-02T03:04:05Z>".
absl::Status TokenAlreadyUsed(const std::string& id, const std::string& used_by,
                              absl::Time used_at);

// kNotFound "store: consume token <id>: no such token".
absl::Status ConsumeTokenNotFound(const std::string& id);

// kInvalidArgument unless `now` is finite: InfinitePast marks an unused
// token, so consuming "at" it would leave the token usable.
absl::Status CheckConsumeTime(const std::string& id, absl::Time now);

// kNotFound "store: update agent <id>: no such agent".
absl::Status UpdateAgentNotFound(const std::string& id);

// UpdateAgent's mutation of `record` (agent `id`, as read): `mutate`'s own
// error as it is, kInvalidArgument "store: update agent <id>: the id cannot
// change" when it changed the id.
absl::Status ApplyAgentUpdate(
    const std::string& id, AgentRecord& record,
    const std::function<absl::Status(AgentRecord&)>& mutate);

// kInvalidArgument "store: create rollout <id>: <field> …" unless the id
// and the certificate are non-empty and the kind is "rollout" or "rollback".
absl::Status CheckNewRollout(const RolloutRecord& rollout);

// kAlreadyExists "store: create rollout <id>: the id is already taken".
absl::Status RolloutIdTaken(const std::string& id);

// kFailedPrecondition "store: create rollout <id>: certificate <c> already
// has an unfinished rollout <active id> (<phase>); …".
absl::Status RolloutAlreadyActive(const std::string& id,
                                  const RolloutRecord& active);

// Why SaveRollout of `saving` changed nothing, given the row as stored
// (nullopt when there is none): kNotFound "store: save rollout <id>: no such
// rollout", kAborted "…: revision <n> was read but <m> is stored; …", or
// kFailedPrecondition "…: it is finished (<phase>); …".
absl::Status SaveRolloutRefused(const RolloutRecord& saving,
                                const std::optional<RolloutRecord>& stored);

// kInvalidArgument "store: append audit record: <field> is empty" unless
// actor, action and result are set.
absl::Status CheckAuditRecord(const AuditRecord& record);

// kInvalidArgument "store: <op>: limit <n> is negative" for a negative
// limit (0 means no limit).
absl::Status CheckLimit(const char* op, int limit);

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_STORE_ERRORS_H_
