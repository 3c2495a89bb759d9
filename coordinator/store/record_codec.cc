#include "coordinator/store/record_codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "certfleet/v1/store.pb.h"
#include "common/status_macros.h"
#include "coordinator/store/json_columns.h"

namespace certfleet::store {
namespace {

namespace pb = ::certfleet::store::v1;

int64_t Nanos(absl::Time t) {
  if (t == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  if (t == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  return absl::ToUnixNanos(t);
}

absl::Time TimeOf(int64_t nanos) {
  if (nanos == std::numeric_limits<int64_t>::min()) {
    return absl::InfinitePast();
  }
  if (nanos == std::numeric_limits<int64_t>::max()) {
    return absl::InfiniteFuture();
  }
  return absl::FromUnixNanos(nanos);
}

// The contract's UTF-8 rule, checked as the SQLite store checks it (the
// JSON encoders refuse anything else), with the field named.
absl::Status Utf8(absl::StatusOr<std::string> encoded, const char* field) {
  if (encoded.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": ", encoded.status().message()));
}

// Deterministic: map entries (labels) in key order. By default protobuf
// lays them out in an order that differs between map instances, so one
// record would encode to different bytes at every call.
absl::StatusOr<std::string> Serialize(const google::protobuf::Message& m) {
  std::string out;
  bool ok = false;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    ok = m.SerializeToCodedStream(&coded) && !coded.HadError();
  }  // the streams trim `out` to its final size when they go
  if (!ok) {
    return absl::InternalError(absl::StrCat("cannot encode ", m.GetTypeName()));
  }
  return out;
}

template <typename Message>
absl::Status Parse(absl::string_view bytes, Message* m) {
  if (!m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat("stored ", m->GetTypeName(), " (",
                                            bytes.size(),
                                            " bytes) does not parse"));
  }
  return absl::OkStatus();
}

template <typename Repeated>
std::vector<std::string> Strings(const Repeated& from) {
  return std::vector<std::string>(from.begin(), from.end());
}

template <typename Map>
std::map<std::string, std::string> Labels(const Map& from) {
  return std::map<std::string, std::string>(from.begin(), from.end());
}

}  // namespace

absl::StatusOr<std::string> EncodeRecord(const AccountRecord& r) {
  RETURN_IF_ERROR(Utf8(EncodeStringList(r.contacts), "contacts"));
  pb::Account m;
  m.set_issuer(r.issuer);
  m.set_directory_url(r.directory_url);
  m.set_account_url(r.account_url);
  m.set_key_type(r.key_type);
  m.set_key_sealed(r.key_sealed);
  for (const std::string& c : r.contacts) m.add_contacts(c);
  m.set_status(r.status);
  m.set_created_at(Nanos(r.created_at));
  m.set_updated_at(Nanos(r.updated_at));
  return Serialize(m);
}

absl::Status DecodeRecord(absl::string_view bytes, AccountRecord* out) {
  pb::Account m;
  RETURN_IF_ERROR(Parse(bytes, &m));
  *out = {.issuer = m.issuer(),
          .directory_url = m.directory_url(),
          .account_url = m.account_url(),
          .key_type = m.key_type(),
          .key_sealed = m.key_sealed(),
          .contacts = Strings(m.contacts()),
          .status = m.status(),
          .created_at = TimeOf(m.created_at()),
          .updated_at = TimeOf(m.updated_at())};
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeRecord(const CertificateState& r) {
  pb::CertificateState m;
  m.set_name(r.name);
  m.set_next_attempt_at(Nanos(r.next_attempt_at));
  m.set_renew_at(Nanos(r.renew_at));
  m.set_consecutive_failures(r.consecutive_failures);
  m.set_last_error(r.last_error);
  m.set_last_attempt_at(Nanos(r.last_attempt_at));
  m.set_updated_at(Nanos(r.updated_at));
  m.set_limited_by(r.limited_by);
  return Serialize(m);
}

absl::Status DecodeRecord(absl::string_view bytes, CertificateState* out) {
  pb::CertificateState m;
  RETURN_IF_ERROR(Parse(bytes, &m));
  *out = {.name = m.name(),
          .next_attempt_at = TimeOf(m.next_attempt_at()),
          .renew_at = TimeOf(m.renew_at()),
          .consecutive_failures = m.consecutive_failures(),
          .last_error = m.last_error(),
          .last_attempt_at = TimeOf(m.last_attempt_at()),
          .updated_at = TimeOf(m.updated_at()),
          .limited_by = m.limited_by()};
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeRecord(const VersionRecord& r) {
  RETURN_IF_ERROR(Utf8(EncodeStringList(r.names), "names"));
  pb::Version m;
  m.set_cert_name(r.cert_name);
  m.set_version(r.version);
  m.set_issuer(r.issuer);
  for (const std::string& n : r.names) m.add_names(n);
  m.set_key_type(r.key_type);
  m.set_serial_hex(r.serial_hex);
  m.set_not_before(Nanos(r.not_before));
  m.set_not_after(Nanos(r.not_after));
  m.set_leaf_pem(r.leaf_pem);
  m.set_chain_pem(r.chain_pem);
  m.set_key_sealed(r.key_sealed);
  m.set_order_url(r.order_url);
  m.set_ari_cert_id(r.ari_cert_id);
  m.set_created_at(Nanos(r.created_at));
  m.set_revoked_at(Nanos(r.revoked_at));
  m.set_revocation_reason(r.revocation_reason);
  return Serialize(m);
}

absl::Status DecodeRecord(absl::string_view bytes, VersionRecord* out) {
  pb::Version m;
  RETURN_IF_ERROR(Parse(bytes, &m));
  *out = {.cert_name = m.cert_name(),
          .version = m.version(),
          .issuer = m.issuer(),
          .names = Strings(m.names()),
          .key_type = m.key_type(),
          .serial_hex = m.serial_hex(),
          .not_before = TimeOf(m.not_before()),
          .not_after = TimeOf(m.not_after()),
          .leaf_pem = m.leaf_pem(),
          .chain_pem = m.chain_pem(),
          .key_sealed = m.key_sealed(),
          .order_url = m.order_url(),
          .ari_cert_id = m.ari_cert_id(),
          .created_at = TimeOf(m.created_at()),
          .revoked_at = TimeOf(m.revoked_at()),
          .revocation_reason = m.revocation_reason()};
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeRecord(const OrderRecord& r) {
  RETURN_IF_ERROR(Utf8(EncodeStringList(r.names), "names"));
  RETURN_IF_ERROR(Utf8(EncodeDnsRecords(r.dns_records), "dns_records"));
  pb::Order m;
  m.set_cert_name(r.cert_name);
  m.set_issuer(r.issuer);
  m.set_order_url(r.order_url);
  m.set_spec_fingerprint(r.spec_fingerprint);
  for (const std::string& n : r.names) m.add_names(n);
  m.set_key_type(r.key_type);
  m.set_key_sealed(r.key_sealed);
  m.set_stage(r.stage);
  for (const DnsRecordRef& d : r.dns_records) {
    pb::DnsRecordRef* p = m.add_dns_records();
    p->set_provider(d.provider);
    p->set_zone(d.zone);
    p->set_fqdn(d.fqdn);
    p->set_value(d.value);
  }
  m.set_replaces(r.replaces);
  m.set_created_at(Nanos(r.created_at));
  m.set_updated_at(Nanos(r.updated_at));
  for (const std::string& c : r.answered_challenges) {
    m.add_answered_challenges(c);
  }
  m.set_answered_at(Nanos(r.answered_at));
  return Serialize(m);
}

absl::Status DecodeRecord(absl::string_view bytes, OrderRecord* out) {
  pb::Order m;
  RETURN_IF_ERROR(Parse(bytes, &m));
  std::vector<DnsRecordRef> records;
  for (const pb::DnsRecordRef& d : m.dns_records()) {
    records.push_back({d.provider(), d.zone(), d.fqdn(), d.value()});
  }
  *out = {.cert_name = m.cert_name(),
          .issuer = m.issuer(),
          .order_url = m.order_url(),
          .spec_fingerprint = m.spec_fingerprint(),
          .names = Strings(m.names()),
          .key_type = m.key_type(),
          .key_sealed = m.key_sealed(),
          .stage = m.stage(),
          .dns_records = std::move(records),
          .replaces = m.replaces(),
          .created_at = TimeOf(m.created_at()),
          .updated_at = TimeOf(m.updated_at()),
          .answered_challenges = Strings(m.answered_challenges()),
          .answered_at = m.has_answered_at() ? TimeOf(m.answered_at())
                                             : absl::InfinitePast()};
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeRecord(const AgentRecord& r) {
  RETURN_IF_ERROR(Utf8(EncodeStringMap(r.labels), "labels"));
  pb::Agent m;
  m.set_id(r.id);
  m.set_hostname(r.hostname);
  m.mutable_labels()->insert(r.labels.begin(), r.labels.end());
  m.set_enrolled_at(Nanos(r.enrolled_at));
  m.set_last_seen_at(Nanos(r.last_seen_at));
  m.set_identity_serial(r.identity_serial);
  m.set_identity_not_after(Nanos(r.identity_not_after));
  m.set_token_id(r.token_id);
  m.set_status(std::string(AgentStatusName(r.status)));
  m.set_status_changed_at(Nanos(r.status_changed_at));
  m.set_status_changed_by(r.status_changed_by);
  return Serialize(m);
}

absl::Status DecodeRecord(absl::string_view bytes, AgentRecord* out) {
  pb::Agent m;
  RETURN_IF_ERROR(Parse(bytes, &m));
  const std::optional<AgentStatus> status = ParseAgentStatus(m.status());
  if (!status.has_value()) {
    return absl::DataLossError(absl::StrCat(
        "stored agent ", m.id(), ": unknown status \"", m.status(), "\""));
  }
  // An agent written before statuses existed has no status_changed_at: it
  // never changed.
  const absl::Time changed_at = m.has_status_changed_at()
                                    ? TimeOf(m.status_changed_at())
                                    : absl::InfinitePast();
  *out = {.id = m.id(),
          .hostname = m.hostname(),
          .labels = Labels(m.labels()),
          .enrolled_at = TimeOf(m.enrolled_at()),
          .last_seen_at = TimeOf(m.last_seen_at()),
          .identity_serial = m.identity_serial(),
          .identity_not_after = TimeOf(m.identity_not_after()),
          .token_id = m.token_id(),
          .status = *status,
          .status_changed_at = changed_at,
          .status_changed_by = m.status_changed_by()};
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeRecord(const TokenRecord& r) {
  RETURN_IF_ERROR(Utf8(EncodeStringMap(r.labels), "labels"));
  pb::Token m;
  m.set_id(r.id);
  m.set_secret_hash(r.secret_hash);
  m.mutable_labels()->insert(r.labels.begin(), r.labels.end());
  m.set_created_at(Nanos(r.created_at));
  m.set_expires_at(Nanos(r.expires_at));
  m.set_used_at(Nanos(r.used_at));
  m.set_used_by(r.used_by);
  m.set_description(r.description);
  m.set_for_agent(r.for_agent);
  return Serialize(m);
}

absl::Status DecodeRecord(absl::string_view bytes, TokenRecord* out) {
  pb::Token m;
  RETURN_IF_ERROR(Parse(bytes, &m));
  *out = {.id = m.id(),
          .secret_hash = m.secret_hash(),
          .labels = Labels(m.labels()),
          .created_at = TimeOf(m.created_at()),
          .expires_at = TimeOf(m.expires_at()),
          .used_at = TimeOf(m.used_at()),
          .used_by = m.used_by(),
          .description = m.description(),
          .for_agent = m.for_agent()};
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeRecord(const InternalCaRecord& r) {
  pb::InternalCa m;
  m.set_cert_pem(r.cert_pem);
  m.set_key_sealed(r.key_sealed);
  m.set_created_at(Nanos(r.created_at));
  return Serialize(m);
}

absl::Status DecodeRecord(absl::string_view bytes, InternalCaRecord* out) {
  pb::InternalCa m;
  RETURN_IF_ERROR(Parse(bytes, &m));
  *out = {.cert_pem = m.cert_pem(),
          .key_sealed = m.key_sealed(),
          .created_at = TimeOf(m.created_at())};
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeRecord(const TargetStateRecord& r) {
  pb::TargetState m;
  m.set_agent_id(r.agent_id);
  m.set_target(r.target);
  m.set_certificate(r.certificate);
  m.set_desired_version_id(r.desired_version_id);
  m.set_installed_version_id(r.installed_version_id);
  m.set_serial(r.serial);
  m.set_not_after(Nanos(r.not_after));
  m.set_healthy(r.healthy);
  m.set_detail(r.detail);
  m.set_last_error(r.last_error);
  m.set_last_error_version_id(r.last_error_version_id);
  m.set_updated_at(Nanos(r.updated_at));
  return Serialize(m);
}

absl::Status DecodeRecord(absl::string_view bytes, TargetStateRecord* out) {
  pb::TargetState m;
  RETURN_IF_ERROR(Parse(bytes, &m));
  *out = {.agent_id = m.agent_id(),
          .target = m.target(),
          .certificate = m.certificate(),
          .desired_version_id = m.desired_version_id(),
          .installed_version_id = m.installed_version_id(),
          .serial = m.serial(),
          .not_after = TimeOf(m.not_after()),
          .healthy = m.healthy(),
          .detail = m.detail(),
          .last_error = m.last_error(),
          .last_error_version_id = m.last_error_version_id(),
          .updated_at = TimeOf(m.updated_at())};
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeRecord(const RolloutRecord& r) {
  pb::Rollout m;
  m.set_id(r.id);
  m.set_certificate(r.certificate);
  m.set_kind(r.kind);
  m.set_from_version(r.from_version);
  m.set_to_version(r.to_version);
  m.set_phase(r.phase);
  m.set_created_at(Nanos(r.created_at));
  m.set_updated_at(Nanos(r.updated_at));
  m.set_finished(r.finished);
  m.set_state_json(r.state_json);
  m.set_revision(r.revision);
  return Serialize(m);
}

absl::Status DecodeRecord(absl::string_view bytes, RolloutRecord* out) {
  pb::Rollout m;
  RETURN_IF_ERROR(Parse(bytes, &m));
  *out = {.id = m.id(),
          .certificate = m.certificate(),
          .kind = m.kind(),
          .from_version = m.from_version(),
          .to_version = m.to_version(),
          .phase = m.phase(),
          .created_at = TimeOf(m.created_at()),
          .updated_at = TimeOf(m.updated_at()),
          .finished = m.finished(),
          .state_json = m.state_json(),
          .revision = m.revision()};
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeRecord(const AuditRecord& r) {
  pb::Audit m;
  m.set_id(r.id);
  m.set_at(Nanos(r.at));
  m.set_actor(r.actor);
  m.set_action(r.action);
  m.set_certificate(r.certificate);
  m.set_detail(r.detail);
  m.set_result(r.result);
  return Serialize(m);
}

absl::Status DecodeRecord(absl::string_view bytes, AuditRecord* out) {
  pb::Audit m;
  RETURN_IF_ERROR(Parse(bytes, &m));
  *out = {.id = m.id(),
          .at = TimeOf(m.at()),
          .actor = m.actor(),
          .action = m.action(),
          .certificate = m.certificate(),
          .detail = m.detail(),
          .result = m.result()};
  return absl::OkStatus();
}

}  // namespace certfleet::store
