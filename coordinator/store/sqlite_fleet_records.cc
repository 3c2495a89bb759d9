#include "coordinator/store/sqlite_fleet_records.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/store/json_columns.h"

namespace certfleet::store {

const char kAgentColumns[] =
    "id, hostname, labels, enrolled_at, last_seen_at, identity_serial, "
    "identity_not_after, token_id, status, status_changed_at, "
    "status_changed_by";
const char kTokenColumns[] =
    "id, secret_hash, labels, created_at, expires_at, used_at, used_by, "
    "description, for_agent";
const char kInternalCaColumns[] = "cert_pem, key_sealed, created_at";
const char kTargetStateColumns[] =
    "agent_id, target, certificate, desired_version_id, "
    "installed_version_id, serial, not_after, healthy, detail, last_error, "
    "last_error_version_id, updated_at";

namespace {

absl::Status ReadLabels(const std::string& text,
                        std::map<std::string, std::string>* out) {
  absl::StatusOr<std::map<std::string, std::string>> labels =
      DecodeStringMap(text);
  if (!labels.ok()) return Annotate(labels.status(), "column labels");
  *out = *std::move(labels);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AgentRecord> ReadAgent(const StatementRun& row) {
  AgentRecord a;
  a.id = row.ColumnText(0);
  a.hostname = row.ColumnText(1);
  RETURN_IF_ERROR(ReadLabels(row.ColumnText(2), &a.labels));
  a.enrolled_at = row.ColumnTime(3);
  a.last_seen_at = row.ColumnTime(4);
  a.identity_serial = row.ColumnText(5);
  a.identity_not_after = row.ColumnTime(6);
  a.token_id = row.ColumnText(7);
  const std::string status = row.ColumnText(8);
  std::optional<AgentStatus> parsed = ParseAgentStatus(status);
  if (!parsed.has_value()) {
    return absl::DataLossError(
        absl::StrCat("column status: unknown agent status \"", status, "\""));
  }
  a.status = *parsed;
  a.status_changed_at = row.ColumnTime(9);
  a.status_changed_by = row.ColumnText(10);
  return a;
}

absl::StatusOr<TokenRecord> ReadToken(const StatementRun& row) {
  TokenRecord t;
  t.id = row.ColumnText(0);
  t.secret_hash = row.ColumnBlob(1);
  RETURN_IF_ERROR(ReadLabels(row.ColumnText(2), &t.labels));
  t.created_at = row.ColumnTime(3);
  t.expires_at = row.ColumnTime(4);
  t.used_at = row.ColumnTime(5);
  t.used_by = row.ColumnText(6);
  t.description = row.ColumnText(7);
  t.for_agent = row.ColumnText(8);
  return t;
}

absl::StatusOr<InternalCaRecord> ReadInternalCa(const StatementRun& row) {
  InternalCaRecord ca;
  ca.cert_pem = row.ColumnText(0);
  ca.key_sealed = row.ColumnBlob(1);
  ca.created_at = row.ColumnTime(2);
  return ca;
}

absl::StatusOr<TargetStateRecord> ReadTargetState(const StatementRun& row) {
  TargetStateRecord s;
  s.agent_id = row.ColumnText(0);
  s.target = row.ColumnText(1);
  s.certificate = row.ColumnText(2);
  s.desired_version_id = row.ColumnText(3);
  s.installed_version_id = row.ColumnText(4);
  s.serial = row.ColumnText(5);
  s.not_after = row.ColumnTime(6);
  s.healthy = row.ColumnInt(7) != 0;
  s.detail = row.ColumnText(8);
  s.last_error = row.ColumnText(9);
  s.last_error_version_id = row.ColumnText(10);
  s.updated_at = row.ColumnTime(11);
  return s;
}

void BindAgent(StatementRun& run, const AgentRecord& a,
               const std::string& labels_json) {
  run.Text(a.id)
      .Text(a.hostname)
      .Text(labels_json)
      .Time(a.enrolled_at)
      .Time(a.last_seen_at)
      .Text(a.identity_serial)
      .Time(a.identity_not_after)
      .Text(a.token_id)
      .Text(AgentStatusName(a.status))  // a static string
      .Time(a.status_changed_at)
      .Text(a.status_changed_by);
}

void BindToken(StatementRun& run, const TokenRecord& t,
               const std::string& labels_json) {
  run.Text(t.id)
      .Blob(t.secret_hash)
      .Text(labels_json)
      .Time(t.created_at)
      .Time(t.expires_at)
      .Time(t.used_at)
      .Text(t.used_by)
      .Text(t.description)
      .Text(t.for_agent);
}

void BindInternalCa(StatementRun& run, const InternalCaRecord& ca) {
  run.Text(ca.cert_pem).Blob(ca.key_sealed).Time(ca.created_at);
}

void BindTargetState(StatementRun& run, const TargetStateRecord& s) {
  run.Text(s.agent_id)
      .Text(s.target)
      .Text(s.certificate)
      .Text(s.desired_version_id)
      .Text(s.installed_version_id)
      .Text(s.serial)
      .Time(s.not_after)
      .Int(s.healthy ? 1 : 0)
      .Text(s.detail)
      .Text(s.last_error)
      .Text(s.last_error_version_id)
      .Time(s.updated_at);
}

}  // namespace certfleet::store
