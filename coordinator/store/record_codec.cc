#include "coordinator/store/record_codec.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "certfleet/v1/store.pb.h"
#include "common/status_macros.h"
#include "coordinator/store/json_columns.h"
#include "coordinator/store/record_fields.h"

namespace certfleet::store {
namespace record_codec_internal {

namespace pb = ::certfleet::store::v1;

// The message each record is kept as (declared only, for
// decltype: outside the anonymous namespace, or the compiler asks for
// their definitions).
pb::Account MessageOf(const AccountRecord&);
pb::CertificateState MessageOf(const CertificateState&);
pb::Version MessageOf(const VersionRecord&);
pb::DnsRecordRef MessageOf(const DnsRecordRef&);
pb::Order MessageOf(const OrderRecord&);
pb::Agent MessageOf(const AgentRecord&);
pb::Token MessageOf(const TokenRecord&);
pb::InternalCa MessageOf(const InternalCaRecord&);
pb::TargetState MessageOf(const TargetStateRecord&);
pb::Rollout MessageOf(const RolloutRecord&);
pb::Audit MessageOf(const AuditRecord&);
}  // namespace record_codec_internal

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

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

template <typename Record>
using MessageFor =
    decltype(record_codec_internal::MessageOf(std::declval<const Record&>()));

// The message field a table field is kept in: the one of the same name.
// Internal when there is none (record_fields_test checks they all exist).
absl::StatusOr<const FieldDescriptor*> FieldOf(const Message& m,
                                               const char* name) {
  const FieldDescriptor* fd = m.GetDescriptor()->FindFieldByName(name);
  if (fd == nullptr) {
    return absl::InternalError(
        absl::StrCat(m.GetTypeName(), " has no field ", name));
  }
  return fd;
}

// The contract's UTF-8 rule for the list and map members, checked as the
// SQLite store checks it (its JSON encoders refuse anything else), with the
// field named.
template <typename T>
absl::Status CheckUtf8(const T&, const char*) {
  return absl::OkStatus();  // not a list or a map
}
absl::Status Utf8(absl::StatusOr<std::string> encoded, const char* field) {
  if (encoded.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": ", encoded.status().message()));
}
absl::Status CheckUtf8(const std::vector<std::string>& v, const char* field) {
  return Utf8(EncodeStringList(v), field);
}
absl::Status CheckUtf8(const std::map<std::string, std::string>& v,
                       const char* field) {
  return Utf8(EncodeStringMap(v), field);
}
absl::Status CheckUtf8(const std::vector<DnsRecordRef>& v, const char* field) {
  return Utf8(EncodeDnsRecords(v), field);
}

template <typename Record>
absl::Status ToMessage(const Record& r, Message* m);
template <typename Record>
absl::Status FromMessage(const Message& m, Record* r);

// One member into its message field, by type.
void Set(const std::string& v, Message* m, const FieldDescriptor* fd) {
  m->GetReflection()->SetString(m, fd, v);
}
void Set(int64_t v, Message* m, const FieldDescriptor* fd) {
  m->GetReflection()->SetInt64(m, fd, v);
}
void Set(int v, Message* m, const FieldDescriptor* fd) {
  m->GetReflection()->SetInt32(m, fd, v);
}
void Set(bool v, Message* m, const FieldDescriptor* fd) {
  m->GetReflection()->SetBool(m, fd, v);
}
void Set(absl::Time v, Message* m, const FieldDescriptor* fd) {
  m->GetReflection()->SetInt64(m, fd, Nanos(v));
}
void Set(const std::vector<std::string>& v, Message* m,
         const FieldDescriptor* fd) {
  for (const std::string& s : v) m->GetReflection()->AddString(m, fd, s);
}
// A map field is, on the wire and to reflection, a repeated entry message
// with fields `key` and `value`.
void Set(const std::map<std::string, std::string>& v, Message* m,
         const FieldDescriptor* fd) {
  for (const auto& [key, value] : v) {
    Message* entry = m->GetReflection()->AddMessage(m, fd);
    const google::protobuf::Descriptor* d = entry->GetDescriptor();
    entry->GetReflection()->SetString(entry, d->map_key(), key);
    entry->GetReflection()->SetString(entry, d->map_value(), value);
  }
}
absl::Status Set(const std::vector<DnsRecordRef>& v, Message* m,
                 const FieldDescriptor* fd) {
  for (const DnsRecordRef& d : v) {
    RETURN_IF_ERROR(ToMessage(d, m->GetReflection()->AddMessage(m, fd)));
  }
  return absl::OkStatus();
}
template <typename Enum>
requires std::is_enum_v<Enum>
void Set(Enum v, Message* m, const FieldDescriptor* fd) {
  m->GetReflection()->SetString(m, fd, std::string(EnumText<Enum>::Name(v)));
}

// One message field into its member, by type.
absl::Status Get(const Message& m, const FieldDescriptor* fd, std::string* v) {
  *v = m.GetReflection()->GetString(m, fd);
  return absl::OkStatus();
}
absl::Status Get(const Message& m, const FieldDescriptor* fd, int64_t* v) {
  *v = m.GetReflection()->GetInt64(m, fd);
  return absl::OkStatus();
}
absl::Status Get(const Message& m, const FieldDescriptor* fd, int* v) {
  *v = m.GetReflection()->GetInt32(m, fd);
  return absl::OkStatus();
}
absl::Status Get(const Message& m, const FieldDescriptor* fd, bool* v) {
  *v = m.GetReflection()->GetBool(m, fd);
  return absl::OkStatus();
}
absl::Status Get(const Message& m, const FieldDescriptor* fd, absl::Time* v) {
  *v = TimeOf(m.GetReflection()->GetInt64(m, fd));
  return absl::OkStatus();
}
absl::Status Get(const Message& m, const FieldDescriptor* fd,
                 std::vector<std::string>* v) {
  const Reflection* r = m.GetReflection();
  v->clear();
  for (int i = 0; i < r->FieldSize(m, fd); ++i) {
    v->push_back(r->GetRepeatedString(m, fd, i));
  }
  return absl::OkStatus();
}
absl::Status Get(const Message& m, const FieldDescriptor* fd,
                 std::map<std::string, std::string>* v) {
  const Reflection* r = m.GetReflection();
  v->clear();
  for (int i = 0; i < r->FieldSize(m, fd); ++i) {
    const Message& entry = r->GetRepeatedMessage(m, fd, i);
    const google::protobuf::Descriptor* d = entry.GetDescriptor();
    (*v)[entry.GetReflection()->GetString(entry, d->map_key())] =
        entry.GetReflection()->GetString(entry, d->map_value());
  }
  return absl::OkStatus();
}
absl::Status Get(const Message& m, const FieldDescriptor* fd,
                 std::vector<DnsRecordRef>* v) {
  const Reflection* r = m.GetReflection();
  v->clear();
  for (int i = 0; i < r->FieldSize(m, fd); ++i) {
    DnsRecordRef d;
    RETURN_IF_ERROR(FromMessage(r->GetRepeatedMessage(m, fd, i), &d));
    v->push_back(std::move(d));
  }
  return absl::OkStatus();
}
template <typename Enum>
requires std::is_enum_v<Enum> absl::Status Get(const Message& m,
                                               const FieldDescriptor* fd,
                                               Enum* v) {
  const std::string name = m.GetReflection()->GetString(m, fd);
  std::optional<Enum> parsed = EnumText<Enum>::Parse(name);
  if (!parsed.has_value()) {
    return absl::DataLossError(absl::StrCat("stored ", m.GetTypeName(),
                                            ": unknown ", EnumText<Enum>::kWhat,
                                            " \"", name, "\""));
  }
  *v = *parsed;
  return absl::OkStatus();
}

template <typename Record>
absl::Status ToMessage(const Record& r, Message* m) {
  return ForEachFieldUntilError<Record>([&](const auto& field) -> absl::Status {
    const auto& value = r.*field.member;
    RETURN_IF_ERROR(CheckUtf8(value, field.name));
    ASSIGN_OR_RETURN(const FieldDescriptor* fd, FieldOf(*m, field.name));
    if constexpr (std::is_same_v<decltype(Set(value, m, fd)), absl::Status>) {
      return Set(value, m, fd);
    } else {
      Set(value, m, fd);
      return absl::OkStatus();
    }
  });
}

// A field with presence (`optional`) that a record does not carry was
// written before the field existed: the member keeps its default.
template <typename Record>
absl::Status FromMessage(const Message& m, Record* r) {
  *r = Record{};
  return ForEachFieldUntilError<Record>([&](const auto& field) -> absl::Status {
    ASSIGN_OR_RETURN(const FieldDescriptor* fd, FieldOf(m, field.name));
    if (fd->has_presence() && !fd->is_repeated() &&
        !m.GetReflection()->HasField(m, fd)) {
      return absl::OkStatus();
    }
    return Get(m, fd, &(r->*field.member));
  });
}

}  // namespace

template <typename Record>
absl::StatusOr<std::string> EncodeRecord(const Record& r) {
  MessageFor<Record> m;
  RETURN_IF_ERROR(ToMessage(r, &m));
  return Serialize(m);
}

template <typename Record>
absl::Status DecodeRecord(absl::string_view bytes, Record* out) {
  MessageFor<Record> m;
  RETURN_IF_ERROR(Parse(bytes, &m));
  return FromMessage(m, out);
}

// The record kinds the store keeps (record_codec.h).
template absl::StatusOr<std::string> EncodeRecord(const AccountRecord&);
template absl::StatusOr<std::string> EncodeRecord(const CertificateState&);
template absl::StatusOr<std::string> EncodeRecord(const VersionRecord&);
template absl::StatusOr<std::string> EncodeRecord(const OrderRecord&);
template absl::StatusOr<std::string> EncodeRecord(const AgentRecord&);
template absl::StatusOr<std::string> EncodeRecord(const TokenRecord&);
template absl::StatusOr<std::string> EncodeRecord(const InternalCaRecord&);
template absl::StatusOr<std::string> EncodeRecord(const TargetStateRecord&);
template absl::StatusOr<std::string> EncodeRecord(const RolloutRecord&);
template absl::StatusOr<std::string> EncodeRecord(const AuditRecord&);
template absl::Status DecodeRecord(absl::string_view, AccountRecord*);
template absl::Status DecodeRecord(absl::string_view, CertificateState*);
template absl::Status DecodeRecord(absl::string_view, VersionRecord*);
template absl::Status DecodeRecord(absl::string_view, OrderRecord*);
template absl::Status DecodeRecord(absl::string_view, AgentRecord*);
template absl::Status DecodeRecord(absl::string_view, TokenRecord*);
template absl::Status DecodeRecord(absl::string_view, InternalCaRecord*);
template absl::Status DecodeRecord(absl::string_view, TargetStateRecord*);
template absl::Status DecodeRecord(absl::string_view, RolloutRecord*);
template absl::Status DecodeRecord(absl::string_view, AuditRecord*);

}  // namespace certfleet::store
