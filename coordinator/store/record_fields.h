// The table of every stored record type: which members it has, under which
// name (record_field.h). It is the one description of a record that the
// SQLite rows (sqlite_row.h), the etcd codec (record_codec.cc) and the test
// printers share, and it must name every member: a member missing here
// fails to compile (the static_asserts below).
//
// Adding a field to a record, say `std::string note;` to AgentRecord:
//   1. the record: the member, with its comment and default, in store.h;
//   2. its codec: one line here, MakeField("note", &AgentRecord::note), and
//      its etcd form in proto/certfleet/v1/store.proto, `bytes note = 12;`
//      (the next unused number; `optional` for a time, so a record written
//      before the field existed reads as the member's default);
//   3. its migration, in migrations.cc: ALTER TABLE agents ADD COLUMN note
//      TEXT NOT NULL DEFAULT '' (the SQLite column holds what records
//      written before it should read as).
// Nothing else names the members: tests/store/record_fields_test.cc sets
// every field of every record through this table and reads it back from a
// migrated SQLite database, the etcd codec and each Store backend, and
// checks that the protobuf messages and these tables agree.
#ifndef CERTFLEET_COORDINATOR_STORE_RECORD_FIELDS_H_
#define CERTFLEET_COORDINATOR_STORE_RECORD_FIELDS_H_

#include <optional>
#include <tuple>

#include "absl/strings/string_view.h"
#include "coordinator/store/record_field.h"
#include "coordinator/store/store.h"

namespace certfleet::store {

// The stable text of an enum-valued member (what both backends store), and
// what an unknown one is called in the kDataLoss error that refuses it.
template <typename Enum>
struct EnumText;

template <>
struct EnumText<AgentStatus> {
  static constexpr char kWhat[] = "status";  // "unknown status \"retired\""
  static absl::string_view Name(AgentStatus s) { return AgentStatusName(s); }
  static std::optional<AgentStatus> Parse(absl::string_view name) {
    return ParseAgentStatus(name);
  }
};

template <>
struct RecordFields<AccountRecord> {
  static constexpr auto kFields = std::make_tuple(
      MakeField("issuer", &AccountRecord::issuer),
      MakeField("directory_url", &AccountRecord::directory_url),
      MakeField("account_url", &AccountRecord::account_url),
      MakeField("key_type", &AccountRecord::key_type),
      MakeField("key_sealed", &AccountRecord::key_sealed, Column::kBlob),
      MakeField("contacts", &AccountRecord::contacts),
      MakeField("status", &AccountRecord::status),
      MakeField("created_at", &AccountRecord::created_at),
      MakeField("updated_at", &AccountRecord::updated_at));
};

static_assert(FieldCount<AccountRecord>() == MemberCount<AccountRecord>(),
              "a member of AccountRecord is missing from its table");

template <>
struct RecordFields<CertificateState> {
  static constexpr auto kFields = std::make_tuple(
      MakeField("name", &CertificateState::name),
      MakeField("next_attempt_at", &CertificateState::next_attempt_at),
      MakeField("renew_at", &CertificateState::renew_at),
      MakeField("consecutive_failures",
                &CertificateState::consecutive_failures),
      MakeField("last_error", &CertificateState::last_error),
      MakeField("last_attempt_at", &CertificateState::last_attempt_at),
      MakeField("updated_at", &CertificateState::updated_at),
      MakeField("limited_by", &CertificateState::limited_by));
};

static_assert(FieldCount<CertificateState>() == MemberCount<CertificateState>(),
              "a member of CertificateState is missing from its table");

template <>
struct RecordFields<VersionRecord> {
  static constexpr auto kFields = std::make_tuple(
      MakeField("cert_name", &VersionRecord::cert_name),
      MakeField("version", &VersionRecord::version),
      MakeField("issuer", &VersionRecord::issuer),
      MakeField("names", &VersionRecord::names),
      MakeField("key_type", &VersionRecord::key_type),
      MakeField("serial_hex", &VersionRecord::serial_hex),
      MakeField("not_before", &VersionRecord::not_before),
      MakeField("not_after", &VersionRecord::not_after),
      MakeField("leaf_pem", &VersionRecord::leaf_pem),
      MakeField("chain_pem", &VersionRecord::chain_pem),
      MakeField("key_sealed", &VersionRecord::key_sealed, Column::kBlob),
      MakeField("order_url", &VersionRecord::order_url),
      MakeField("ari_cert_id", &VersionRecord::ari_cert_id),
      MakeField("created_at", &VersionRecord::created_at),
      MakeField("revoked_at", &VersionRecord::revoked_at),
      MakeField("revocation_reason", &VersionRecord::revocation_reason));
};

static_assert(FieldCount<VersionRecord>() == MemberCount<VersionRecord>(),
              "a member of VersionRecord is missing from its table");

template <>
struct RecordFields<DnsRecordRef> {
  static constexpr auto kFields =
      std::make_tuple(MakeField("provider", &DnsRecordRef::provider),
                      MakeField("zone", &DnsRecordRef::zone),
                      MakeField("fqdn", &DnsRecordRef::fqdn),
                      MakeField("value", &DnsRecordRef::value));
};

static_assert(FieldCount<DnsRecordRef>() == MemberCount<DnsRecordRef>(),
              "a member of DnsRecordRef is missing from its table");

template <>
struct RecordFields<OrderRecord> {
  static constexpr auto kFields = std::make_tuple(
      MakeField("cert_name", &OrderRecord::cert_name),
      MakeField("issuer", &OrderRecord::issuer),
      MakeField("order_url", &OrderRecord::order_url),
      MakeField("spec_fingerprint", &OrderRecord::spec_fingerprint),
      MakeField("names", &OrderRecord::names),
      MakeField("key_type", &OrderRecord::key_type),
      MakeField("key_sealed", &OrderRecord::key_sealed, Column::kBlob),
      MakeField("stage", &OrderRecord::stage),
      MakeField("dns_records", &OrderRecord::dns_records),
      MakeField("replaces", &OrderRecord::replaces),
      MakeField("created_at", &OrderRecord::created_at),
      MakeField("updated_at", &OrderRecord::updated_at),
      MakeField("answered_challenges", &OrderRecord::answered_challenges),
      MakeField("answered_at", &OrderRecord::answered_at));
};

static_assert(FieldCount<OrderRecord>() == MemberCount<OrderRecord>(),
              "a member of OrderRecord is missing from its table");

template <>
struct RecordFields<AgentRecord> {
  static constexpr auto kFields = std::make_tuple(
      MakeField("id", &AgentRecord::id),
      MakeField("hostname", &AgentRecord::hostname),
      MakeField("labels", &AgentRecord::labels),
      MakeField("enrolled_at", &AgentRecord::enrolled_at),
      MakeField("last_seen_at", &AgentRecord::last_seen_at),
      MakeField("identity_serial", &AgentRecord::identity_serial),
      MakeField("identity_not_after", &AgentRecord::identity_not_after),
      MakeField("token_id", &AgentRecord::token_id),
      MakeField("status", &AgentRecord::status),
      MakeField("status_changed_at", &AgentRecord::status_changed_at),
      MakeField("status_changed_by", &AgentRecord::status_changed_by));
};

static_assert(FieldCount<AgentRecord>() == MemberCount<AgentRecord>(),
              "a member of AgentRecord is missing from its table");

template <>
struct RecordFields<TokenRecord> {
  static constexpr auto kFields = std::make_tuple(
      MakeField("id", &TokenRecord::id),
      MakeField("secret_hash", &TokenRecord::secret_hash, Column::kBlob),
      MakeField("labels", &TokenRecord::labels),
      MakeField("created_at", &TokenRecord::created_at),
      MakeField("expires_at", &TokenRecord::expires_at),
      MakeField("used_at", &TokenRecord::used_at),
      MakeField("used_by", &TokenRecord::used_by),
      MakeField("description", &TokenRecord::description),
      MakeField("for_agent", &TokenRecord::for_agent));
};

static_assert(FieldCount<TokenRecord>() == MemberCount<TokenRecord>(),
              "a member of TokenRecord is missing from its table");

template <>
struct RecordFields<InternalCaRecord> {
  static constexpr auto kFields = std::make_tuple(
      MakeField("cert_pem", &InternalCaRecord::cert_pem),
      MakeField("key_sealed", &InternalCaRecord::key_sealed, Column::kBlob),
      MakeField("created_at", &InternalCaRecord::created_at));
};

static_assert(FieldCount<InternalCaRecord>() == MemberCount<InternalCaRecord>(),
              "a member of InternalCaRecord is missing from its table");

template <>
struct RecordFields<TargetStateRecord> {
  static constexpr auto kFields = std::make_tuple(
      MakeField("agent_id", &TargetStateRecord::agent_id),
      MakeField("target", &TargetStateRecord::target),
      MakeField("certificate", &TargetStateRecord::certificate),
      MakeField("desired_version_id", &TargetStateRecord::desired_version_id),
      MakeField("installed_version_id",
                &TargetStateRecord::installed_version_id),
      MakeField("serial", &TargetStateRecord::serial),
      MakeField("not_after", &TargetStateRecord::not_after),
      MakeField("healthy", &TargetStateRecord::healthy),
      MakeField("detail", &TargetStateRecord::detail),
      MakeField("last_error", &TargetStateRecord::last_error),
      MakeField("last_error_version_id",
                &TargetStateRecord::last_error_version_id),
      MakeField("updated_at", &TargetStateRecord::updated_at));
};

static_assert(FieldCount<TargetStateRecord>() ==
                  MemberCount<TargetStateRecord>(),
              "a member of TargetStateRecord is missing from its table");

template <>
struct RecordFields<RolloutRecord> {
  static constexpr auto kFields =
      std::make_tuple(MakeField("id", &RolloutRecord::id),
                      MakeField("certificate", &RolloutRecord::certificate),
                      MakeField("kind", &RolloutRecord::kind),
                      MakeField("from_version", &RolloutRecord::from_version),
                      MakeField("to_version", &RolloutRecord::to_version),
                      MakeField("phase", &RolloutRecord::phase),
                      MakeField("created_at", &RolloutRecord::created_at),
                      MakeField("updated_at", &RolloutRecord::updated_at),
                      MakeField("finished", &RolloutRecord::finished),
                      MakeField("state_json", &RolloutRecord::state_json),
                      MakeField("revision", &RolloutRecord::revision));
};

static_assert(FieldCount<RolloutRecord>() == MemberCount<RolloutRecord>(),
              "a member of RolloutRecord is missing from its table");

template <>
struct RecordFields<AuditRecord> {
  static constexpr auto kFields = std::make_tuple(
      MakeField("id", &AuditRecord::id, Column::kAssignedOnInsert),
      MakeField("at", &AuditRecord::at),
      MakeField("actor", &AuditRecord::actor),
      MakeField("action", &AuditRecord::action),
      MakeField("certificate", &AuditRecord::certificate),
      MakeField("detail", &AuditRecord::detail),
      MakeField("result", &AuditRecord::result));
};

static_assert(FieldCount<AuditRecord>() == MemberCount<AuditRecord>(),
              "a member of AuditRecord is missing from its table");

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_RECORD_FIELDS_H_
