#include "coordinator/store/sqlite_records.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/store/json_columns.h"

namespace certfleet::store {

const char kAccountColumns[] =
    "issuer, directory_url, account_url, key_type, key_sealed, contacts, "
    "status, created_at, updated_at";
const char kStateColumns[] =
    "name, next_attempt_at, renew_at, consecutive_failures, last_error, "
    "last_attempt_at, updated_at, limited_by";
const char kVersionColumns[] =
    "cert_name, version, issuer, names, key_type, serial_hex, not_before, "
    "not_after, leaf_pem, chain_pem, key_sealed, order_url, ari_cert_id, "
    "created_at, revoked_at, revocation_reason";
const char kOrderColumns[] =
    "cert_name, issuer, order_url, spec_fingerprint, names, key_type, "
    "key_sealed, stage, dns_records, replaces, created_at, updated_at, "
    "answered_challenges, answered_at";

namespace {

// Moves a decoded JSON column into `out`, naming the column on failure.
template <typename T>
absl::Status Decoded(absl::StatusOr<T> decoded, const char* column, T* out) {
  if (!decoded.ok()) {
    return Annotate(decoded.status(), absl::StrCat("column ", column));
  }
  *out = *std::move(decoded);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AccountRecord> ReadAccount(const StatementRun& row) {
  AccountRecord a;
  a.issuer = row.ColumnText(0);
  a.directory_url = row.ColumnText(1);
  a.account_url = row.ColumnText(2);
  a.key_type = row.ColumnText(3);
  a.key_sealed = row.ColumnBlob(4);
  RETURN_IF_ERROR(
      Decoded(DecodeStringList(row.ColumnText(5)), "contacts", &a.contacts));
  a.status = row.ColumnText(6);
  a.created_at = row.ColumnTime(7);
  a.updated_at = row.ColumnTime(8);
  return a;
}

absl::StatusOr<CertificateState> ReadState(const StatementRun& row) {
  CertificateState s;
  s.name = row.ColumnText(0);
  s.next_attempt_at = row.ColumnTime(1);
  s.renew_at = row.ColumnTime(2);
  s.consecutive_failures = static_cast<int>(row.ColumnInt(3));
  s.last_error = row.ColumnText(4);
  s.last_attempt_at = row.ColumnTime(5);
  s.updated_at = row.ColumnTime(6);
  s.limited_by = row.ColumnText(7);
  return s;
}

absl::StatusOr<VersionRecord> ReadVersion(const StatementRun& row) {
  VersionRecord v;
  v.cert_name = row.ColumnText(0);
  v.version = row.ColumnInt(1);
  v.issuer = row.ColumnText(2);
  RETURN_IF_ERROR(
      Decoded(DecodeStringList(row.ColumnText(3)), "names", &v.names));
  v.key_type = row.ColumnText(4);
  v.serial_hex = row.ColumnText(5);
  v.not_before = row.ColumnTime(6);
  v.not_after = row.ColumnTime(7);
  v.leaf_pem = row.ColumnText(8);
  v.chain_pem = row.ColumnText(9);
  v.key_sealed = row.ColumnBlob(10);
  v.order_url = row.ColumnText(11);
  v.ari_cert_id = row.ColumnText(12);
  v.created_at = row.ColumnTime(13);
  v.revoked_at = row.ColumnTime(14);
  v.revocation_reason = row.ColumnText(15);
  return v;
}

absl::StatusOr<OrderRecord> ReadOrder(const StatementRun& row) {
  OrderRecord o;
  o.cert_name = row.ColumnText(0);
  o.issuer = row.ColumnText(1);
  o.order_url = row.ColumnText(2);
  o.spec_fingerprint = row.ColumnText(3);
  RETURN_IF_ERROR(
      Decoded(DecodeStringList(row.ColumnText(4)), "names", &o.names));
  o.key_type = row.ColumnText(5);
  o.key_sealed = row.ColumnBlob(6);
  o.stage = row.ColumnText(7);
  RETURN_IF_ERROR(Decoded(DecodeDnsRecords(row.ColumnText(8)), "dns_records",
                          &o.dns_records));
  o.replaces = row.ColumnText(9);
  o.created_at = row.ColumnTime(10);
  o.updated_at = row.ColumnTime(11);
  RETURN_IF_ERROR(Decoded(DecodeStringList(row.ColumnText(12)),
                          "answered_challenges", &o.answered_challenges));
  o.answered_at = row.ColumnTime(13);
  return o;
}

void BindAccount(StatementRun& run, const AccountRecord& a,
                 const std::string& contacts_json) {
  run.Text(a.issuer)
      .Text(a.directory_url)
      .Text(a.account_url)
      .Text(a.key_type)
      .Blob(a.key_sealed)
      .Text(contacts_json)
      .Text(a.status)
      .Time(a.created_at)
      .Time(a.updated_at);
}

void BindState(StatementRun& run, const CertificateState& s) {
  run.Text(s.name)
      .Time(s.next_attempt_at)
      .Time(s.renew_at)
      .Int(s.consecutive_failures)
      .Text(s.last_error)
      .Time(s.last_attempt_at)
      .Time(s.updated_at)
      .Text(s.limited_by);
}

void BindVersion(StatementRun& run, const VersionRecord& v, int64_t version,
                 const std::string& names_json) {
  run.Text(v.cert_name)
      .Int(version)
      .Text(v.issuer)
      .Text(names_json)
      .Text(v.key_type)
      .Text(v.serial_hex)
      .Time(v.not_before)
      .Time(v.not_after)
      .Text(v.leaf_pem)
      .Text(v.chain_pem)
      .Blob(v.key_sealed)
      .Text(v.order_url)
      .Text(v.ari_cert_id)
      .Time(v.created_at)
      .Time(v.revoked_at)
      .Text(v.revocation_reason);
}

void BindOrder(StatementRun& run, const OrderRecord& o,
               const std::string& names_json,
               const std::string& dns_records_json,
               const std::string& answered_json) {
  run.Text(o.cert_name)
      .Text(o.issuer)
      .Text(o.order_url)
      .Text(o.spec_fingerprint)
      .Text(names_json)
      .Text(o.key_type)
      .Blob(o.key_sealed)
      .Text(o.stage)
      .Text(dns_records_json)
      .Text(o.replaces)
      .Time(o.created_at)
      .Time(o.updated_at)
      .Text(answered_json)
      .Time(o.answered_at);
}

}  // namespace certfleet::store
