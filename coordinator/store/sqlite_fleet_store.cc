// SqliteStore's fleet methods: agents, bootstrap tokens, the internal CA and
// target states (declared in sqlite_store.h; tables from migration 2,
// target_states.last_error_version_id from 3, the agents' status and the
// tokens' for_agent from 4).
#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/store/sqlite_row.h"
#include "coordinator/store/sqlite_statement.h"
#include "coordinator/store/sqlite_store.h"
#include "coordinator/store/store_errors.h"

namespace certfleet::store {

struct SqliteStore::FleetStatements {
  StatementPtr begin, commit;
  StatementPtr put_agent, get_agent, list_agents;
  StatementPtr put_token, get_token, list_tokens, consume_token, token_use;
  StatementPtr insert_ca, get_ca;
  StatementPtr put_target, put_desired, list_targets, list_all_targets;
};

void SqliteStore::FleetStatementsDeleter::operator()(FleetStatements* s) const {
  delete s;
}

absl::StatusOr<SqliteStore::FleetStatementsPtr>
SqliteStore::PrepareFleetStatements(sqlite3* db) {
  FleetStatementsPtr s(new FleetStatements);
  const std::pair<StatementPtr*, std::string> sql[] = {
      {&s->begin, "BEGIN IMMEDIATE"},
      {&s->commit, "COMMIT"},
      {&s->put_agent, InsertRow<AgentRecord>("INSERT OR REPLACE INTO agents")},
      {&s->get_agent,
       absl::StrCat(SelectFrom<AgentRecord>("agents"), " WHERE id = ?")},
      {&s->list_agents,
       absl::StrCat(SelectFrom<AgentRecord>("agents"), " ORDER BY id")},
      {&s->put_token,
       InsertRow<TokenRecord>("INSERT OR REPLACE INTO bootstrap_tokens")},
      {&s->get_token, absl::StrCat(SelectFrom<TokenRecord>("bootstrap_tokens"),
                                   " WHERE id = ?")},
      {&s->list_tokens,
       absl::StrCat(SelectFrom<TokenRecord>("bootstrap_tokens"),
                    " ORDER BY id")},
      // The compare-and-set: one statement, so it is atomic across
      // connections and processes.
      {&s->consume_token,
       "UPDATE bootstrap_tokens SET used_at = ?, used_by = ? "
       "WHERE id = ? AND used_at = ?"},
      {&s->token_use,
       "SELECT used_by, used_at FROM bootstrap_tokens WHERE id = ?"},
      {&s->insert_ca,
       absl::StrCat("INSERT OR IGNORE INTO internal_ca (id, ",
                    ColumnList<InternalCaRecord>(), ") VALUES (1, ",
                    Placeholders(ColumnCount<InternalCaRecord>()), ")")},
      {&s->get_ca, absl::StrCat(SelectFrom<InternalCaRecord>("internal_ca"),
                                " WHERE id = 1")},
      // The desired version is set apart (PutDesiredVersion): a report keeps
      // it, a decision touches nothing else.
      {&s->put_target,
       absl::StrCat(InsertRow<TargetStateRecord>("INSERT INTO target_states"),
                    " ON CONFLICT (agent_id, target) DO UPDATE SET ",
                    SetFromExcluded<TargetStateRecord>(
                        {"agent_id", "target", "desired_version_id"}))},
      {&s->put_desired,
       absl::StrCat(InsertRow<TargetStateRecord>("INSERT INTO target_states"),
                    " ON CONFLICT (agent_id, target) DO UPDATE SET "
                    "desired_version_id = excluded.desired_version_id, "
                    "certificate = CASE WHEN excluded.certificate = '' "
                    "THEN target_states.certificate "
                    "ELSE excluded.certificate END")},
      {&s->list_targets,
       absl::StrCat(SelectFrom<TargetStateRecord>("target_states"),
                    " WHERE agent_id = ? ORDER BY target")},
      {&s->list_all_targets,
       absl::StrCat(SelectFrom<TargetStateRecord>("target_states"),
                    " ORDER BY agent_id, target")},
  };
  for (const auto& [target, text] : sql) {
    ASSIGN_OR_RETURN(*target, Prepare(db, text));
  }
  return s;
}

absl::Status SqliteStore::PutAgent(const AgentRecord& agent) {
  auto op = [&] { return absl::StrCat("put agent ", agent.id); };
  ASSIGN_OR_RETURN(RowValues<AgentRecord> row, EncodeRow(agent, op));
  absl::MutexLock lock(&mu_);
  StatementRun run(fleet_->put_agent.get());
  row.Bind(run);
  return Execute(db_, run, op);
}

absl::StatusOr<std::optional<AgentRecord>> SqliteStore::GetAgent(
    const std::string& id) {
  absl::MutexLock lock(&mu_);
  StatementRun run(fleet_->get_agent.get());
  run.Text(id);
  return QueryOne(db_, run, &ReadRow<AgentRecord>,
                  [&] { return absl::StrCat("get agent ", id); });
}

absl::StatusOr<std::vector<AgentRecord>> SqliteStore::ListAgents() {
  absl::MutexLock lock(&mu_);
  StatementRun run(fleet_->list_agents.get());
  return QueryAll(db_, run, &ReadRow<AgentRecord>,
                  [] { return std::string("list agents"); });
}

absl::StatusOr<AgentRecord> SqliteStore::UpdateAgent(
    const std::string& id,
    const std::function<absl::Status(AgentRecord&)>& mutate) {
  auto op = [&] { return absl::StrCat("update agent ", id); };
  absl::MutexLock lock(&mu_);
  // IMMEDIATE: another connection (another process on the same file) cannot
  // write the agent between the read and the write.
  {
    StatementRun begin(fleet_->begin.get());
    RETURN_IF_ERROR(Execute(db_, begin, op));
  }
  AgentRecord updated;
  // Runs at once, under mu_ (the annotation says so to the lock analysis).
  absl::Status status = [&]()
                            ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    {
      StatementRun get(fleet_->get_agent.get());
      get.Text(id);
      ASSIGN_OR_RETURN(std::optional<AgentRecord> stored,
                       QueryOne(db_, get, &ReadRow<AgentRecord>, op));
      if (!stored.has_value()) return UpdateAgentNotFound(id);
      updated = *std::move(stored);
    }
    RETURN_IF_ERROR(ApplyAgentUpdate(id, updated, mutate));
    ASSIGN_OR_RETURN(RowValues<AgentRecord> row, EncodeRow(updated, op));
    {
      StatementRun put(fleet_->put_agent.get());
      row.Bind(put);
      RETURN_IF_ERROR(Execute(db_, put, op));
    }
    StatementRun commit(fleet_->commit.get());
    return Execute(db_, commit, op);
  }();
  if (!status.ok()) {
    RollbackLocked();
    return status;
  }
  return updated;
}

absl::Status SqliteStore::PutToken(const TokenRecord& token) {
  auto op = [&] { return absl::StrCat("put token ", token.id); };
  ASSIGN_OR_RETURN(RowValues<TokenRecord> row, EncodeRow(token, op));
  absl::MutexLock lock(&mu_);
  StatementRun run(fleet_->put_token.get());
  row.Bind(run);
  return Execute(db_, run, op);
}

absl::StatusOr<std::optional<TokenRecord>> SqliteStore::GetToken(
    const std::string& id) {
  absl::MutexLock lock(&mu_);
  StatementRun run(fleet_->get_token.get());
  run.Text(id);
  return QueryOne(db_, run, &ReadRow<TokenRecord>,
                  [&] { return absl::StrCat("get token ", id); });
}

absl::StatusOr<std::vector<TokenRecord>> SqliteStore::ListTokens() {
  absl::MutexLock lock(&mu_);
  StatementRun run(fleet_->list_tokens.get());
  return QueryAll(db_, run, &ReadRow<TokenRecord>,
                  [] { return std::string("list tokens"); });
}

absl::Status SqliteStore::ConsumeToken(const std::string& id,
                                       const std::string& agent_id,
                                       absl::Time now) {
  auto op = [&] { return absl::StrCat("consume token ", id); };
  RETURN_IF_ERROR(CheckConsumeTime(id, now));
  absl::MutexLock lock(&mu_);
  {
    StatementRun run(fleet_->consume_token.get());
    run.Time(now).Text(agent_id).Text(id).Time(absl::InfinitePast());
    RETURN_IF_ERROR(Execute(db_, run, op));
    if (sqlite3_changes(db_) == 1) return absl::OkStatus();
  }
  // Nothing changed: say why. A used token never becomes unused again, so
  // this read cannot contradict the UPDATE.
  StatementRun run(fleet_->token_use.get());
  run.Text(id);
  const int rc = run.Step();
  if (rc == SQLITE_DONE) return ConsumeTokenNotFound(id);
  if (rc != SQLITE_ROW) return SqliteError(rc, db_, op());
  return TokenAlreadyUsed(id, run.ColumnText(0), run.ColumnTime(1));
}

absl::StatusOr<std::optional<InternalCaRecord>> SqliteStore::GetInternalCa() {
  absl::MutexLock lock(&mu_);
  StatementRun run(fleet_->get_ca.get());
  return QueryOne(db_, run, &ReadRow<InternalCaRecord>,
                  [] { return std::string("get internal CA"); });
}

absl::StatusOr<InternalCaRecord> SqliteStore::CreateInternalCaIfAbsent(
    const InternalCaRecord& ca) {
  auto op = [] { return std::string("create internal CA"); };
  ASSIGN_OR_RETURN(RowValues<InternalCaRecord> row, EncodeRow(ca, op));
  absl::MutexLock lock(&mu_);
  {
    StatementRun insert(fleet_->insert_ca.get());
    row.Bind(insert);
    RETURN_IF_ERROR(Execute(db_, insert, op));
  }
  // The row is never changed once written, so what we read now is what every
  // other coordinator reads too.
  StatementRun get(fleet_->get_ca.get());
  ASSIGN_OR_RETURN(std::optional<InternalCaRecord> stored,
                   QueryOne(db_, get, &ReadRow<InternalCaRecord>, op));
  if (!stored.has_value()) {
    return absl::InternalError(
        "store: create internal CA: the row is missing right after insert");
  }
  return *std::move(stored);
}

absl::Status SqliteStore::PutTargetState(const TargetStateRecord& state) {
  absl::MutexLock lock(&mu_);
  return PutTargetStateLocked(state);
}

absl::Status SqliteStore::PutTargetStateLocked(const TargetStateRecord& state) {
  TargetStateRecord reported = state;
  reported.desired_version_id.clear();  // kept when the record exists
  auto op = [&] {
    return absl::StrCat("put target state ", state.agent_id, "/", state.target);
  };
  ASSIGN_OR_RETURN(RowValues<TargetStateRecord> row, EncodeRow(reported, op));
  StatementRun run(fleet_->put_target.get());
  row.Bind(run);
  return Execute(db_, run, op);
}

absl::Status SqliteStore::PutDesiredVersion(const std::string& agent_id,
                                            const std::string& target,
                                            const std::string& certificate,
                                            const std::string& version_id) {
  absl::MutexLock lock(&mu_);
  return PutDesiredVersionLocked({.agent_id = agent_id,
                                  .target = target,
                                  .certificate = certificate,
                                  .desired_version_id = version_id});
}

absl::Status SqliteStore::PutDesiredVersionLocked(
    const TargetStateRecord& desired) {
  // Only the decision's fields: the record must outlive the statement's run.
  const TargetStateRecord decided = {
      .agent_id = desired.agent_id,
      .target = desired.target,
      .certificate = desired.certificate,
      .desired_version_id = desired.desired_version_id};
  auto op = [&] {
    return absl::StrCat("put desired version of ", desired.agent_id, "/",
                        desired.target);
  };
  ASSIGN_OR_RETURN(RowValues<TargetStateRecord> row, EncodeRow(decided, op));
  StatementRun run(fleet_->put_desired.get());
  row.Bind(run);
  return Execute(db_, run, op);
}

absl::Status SqliteStore::RecordLastSeenLocked(const LastSeen& seen) {
  auto op = [&] { return absl::StrCat("update agent ", seen.agent_id); };
  StatementRun get(fleet_->get_agent.get());
  get.Text(seen.agent_id);
  ASSIGN_OR_RETURN(std::optional<AgentRecord> agent,
                   QueryOne(db_, get, &ReadRow<AgentRecord>, op));
  if (!agent.has_value()) return UpdateAgentNotFound(seen.agent_id);
  if (agent->last_seen_at >= seen.at) return absl::OkStatus();
  agent->last_seen_at = seen.at;
  ASSIGN_OR_RETURN(RowValues<AgentRecord> row, EncodeRow(*agent, op));
  StatementRun put(fleet_->put_agent.get());
  row.Bind(put);
  return Execute(db_, put, op);
}

absl::Status SqliteStore::BeginLocked(const std::string& op) {
  StatementRun begin(fleet_->begin.get());
  return Execute(db_, begin, [&] { return op; });
}

bool SqliteStore::CommitLocked(const absl::Status& items,
                               const std::string& op) {
  if (items.ok()) {
    StatementRun commit(fleet_->commit.get());
    if (Execute(db_, commit, [&] { return op; }).ok()) return true;
  }
  RollbackLocked();
  return false;
}

std::vector<absl::Status> SqliteStore::PutTargetStates(
    const std::vector<TargetStateRecord>& states) {
  {
    absl::MutexLock lock(&mu_);
    const std::string op = "put target states";
    absl::Status items = BeginLocked(op);
    for (size_t i = 0; items.ok() && i < states.size(); ++i) {
      items = PutTargetStateLocked(states[i]);
    }
    if (CommitLocked(items, op)) {
      return std::vector<absl::Status>(states.size());
    }
  }
  return Store::PutTargetStates(states);  // each on its own
}

std::vector<absl::Status> SqliteStore::PutDesiredVersions(
    const std::vector<TargetStateRecord>& desired) {
  {
    absl::MutexLock lock(&mu_);
    const std::string op = "put desired versions";
    absl::Status items = BeginLocked(op);
    for (size_t i = 0; items.ok() && i < desired.size(); ++i) {
      items = PutDesiredVersionLocked(desired[i]);
    }
    if (CommitLocked(items, op)) {
      return std::vector<absl::Status>(desired.size());
    }
  }
  return Store::PutDesiredVersions(desired);
}

std::vector<absl::Status> SqliteStore::RecordLastSeen(
    const std::vector<LastSeen>& seen) {
  {
    absl::MutexLock lock(&mu_);
    const std::string op = "record agents last seen";
    absl::Status items = BeginLocked(op);
    for (size_t i = 0; items.ok() && i < seen.size(); ++i) {
      items = RecordLastSeenLocked(seen[i]);
    }
    if (CommitLocked(items, op)) return std::vector<absl::Status>(seen.size());
  }
  return Store::RecordLastSeen(seen);  // UpdateAgent, each on its own
}

absl::StatusOr<std::vector<TargetStateRecord>> SqliteStore::ListTargetStates(
    const std::string& agent_id) {
  absl::MutexLock lock(&mu_);
  StatementRun run(fleet_->list_targets.get());
  run.Text(agent_id);
  return QueryAll(db_, run, &ReadRow<TargetStateRecord>, [&] {
    return absl::StrCat("list target states of ", agent_id);
  });
}

absl::StatusOr<std::vector<TargetStateRecord>>
SqliteStore::ListAllTargetStates() {
  absl::MutexLock lock(&mu_);
  StatementRun run(fleet_->list_all_targets.get());
  return QueryAll(db_, run, &ReadRow<TargetStateRecord>,
                  [] { return std::string("list all target states"); });
}

}  // namespace certfleet::store
