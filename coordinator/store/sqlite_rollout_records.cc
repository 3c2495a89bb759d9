#include "coordinator/store/sqlite_rollout_records.h"

namespace certfleet::store {

const char kRolloutColumns[] =
    "id, certificate, kind, from_version, to_version, phase, created_at, "
    "updated_at, finished, revision, state_json";
const char kAuditColumns[] =
    "id, at, actor, action, certificate, detail, result";
const char kAuditInsertColumns[] =
    "at, actor, action, certificate, detail, result";

absl::StatusOr<RolloutRecord> ReadRollout(const StatementRun& row) {
  RolloutRecord r;
  r.id = row.ColumnText(0);
  r.certificate = row.ColumnText(1);
  r.kind = row.ColumnText(2);
  r.from_version = row.ColumnText(3);
  r.to_version = row.ColumnText(4);
  r.phase = row.ColumnText(5);
  r.created_at = row.ColumnTime(6);
  r.updated_at = row.ColumnTime(7);
  r.finished = row.ColumnInt(8) != 0;
  r.revision = row.ColumnInt(9);
  r.state_json = row.ColumnText(10);
  return r;
}

absl::StatusOr<AuditRecord> ReadAudit(const StatementRun& row) {
  AuditRecord a;
  a.id = row.ColumnInt(0);
  a.at = row.ColumnTime(1);
  a.actor = row.ColumnText(2);
  a.action = row.ColumnText(3);
  a.certificate = row.ColumnText(4);
  a.detail = row.ColumnText(5);
  a.result = row.ColumnText(6);
  return a;
}

void BindRollout(StatementRun& run, const RolloutRecord& r, int64_t revision) {
  run.Text(r.id)
      .Text(r.certificate)
      .Text(r.kind)
      .Text(r.from_version)
      .Text(r.to_version)
      .Text(r.phase)
      .Time(r.created_at)
      .Time(r.updated_at)
      .Int(r.finished ? 1 : 0)
      .Int(revision)
      .Text(r.state_json);
}

void BindAudit(StatementRun& run, const AuditRecord& a) {
  run.Time(a.at)
      .Text(a.actor)
      .Text(a.action)
      .Text(a.certificate)
      .Text(a.detail)
      .Text(a.result);
}

}  // namespace certfleet::store
