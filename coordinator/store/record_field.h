// One member of a stored record, described once: its name — the SQLite
// column, the field of the etcd protobuf message and the label in test
// output — and the member it is. Each record type has a table of them
// (record_fields.h); the SQLite rows (sqlite_row.h), the etcd codec
// (record_codec.h) and the test printers walk that table instead of naming
// the members themselves, so a new member is one line of it.
//
//   ForEachField<AgentRecord>([&](const auto& field) {
//     Print(field.name, agent.*field.member);
//   });
#ifndef CERTFLEET_COORDINATOR_STORE_RECORD_FIELD_H_
#define CERTFLEET_COORDINATOR_STORE_RECORD_FIELD_H_

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"

namespace certfleet::store {

// How SQLite keeps a member beyond what its C++ type says.
enum class Column {
  kPlain,
  // A std::string that is a byte string, not text (sealed keys, hashes):
  // a BLOB, so it need not be UTF-8 and NUL bytes survive.
  kBlob,
  // The INTEGER PRIMARY KEY SQLite assigns on INSERT (the audit log's id):
  // read, never inserted.
  kAssignedOnInsert,
};

// Member `member` of `Record`, called `name`.
template <typename Record, typename T>
struct Field {
  using RecordType = Record;
  using Type = T;
  const char* name;
  T Record::*member;
  Column column = Column::kPlain;
};

template <typename Record, typename T>
constexpr Field<Record, T> MakeField(const char* name, T Record::*member,
                                     Column column = Column::kPlain) {
  return Field<Record, T>{name, member, column};
}

// Specialised for every record type in record_fields.h, with
//   static constexpr auto kFields = std::make_tuple(MakeField(...), ...);
template <typename Record>
struct RecordFields;

// Calls fn(field) for every field of `Record`, in table order.
template <typename Record, typename Fn>
constexpr void ForEachField(Fn&& fn) {
  std::apply([&](const auto&... field) { (fn(field), ...); },
             RecordFields<Record>::kFields);
}

// As ForEachField, for an `fn` that returns absl::Status: stops at the
// first error and returns it.
template <typename Record, typename Fn>
absl::Status ForEachFieldUntilError(Fn&& fn) {
  absl::Status status;
  // && stops the fold at the first field whose fn fails.
  std::apply(
      [&](const auto&... field) {
        (void)((status = fn(field), status.ok()) && ...);
      },
      RecordFields<Record>::kFields);
  return status;
}

template <typename Record>
constexpr size_t FieldCount() {
  return std::tuple_size_v<
      std::remove_cv_t<decltype(RecordFields<Record>::kFields)>>;
}

namespace internal {

// Converts to anything: `T{AnyMember{}, …}` compiles exactly when T is an
// aggregate with at least that many members. Never called (unevaluated).
struct AnyMember {
  template <typename T>
  operator T() const;  // NOLINT: implicit by design
};

template <typename T, typename... Members>
constexpr size_t MemberCount() {
  if constexpr (requires { T{Members{}..., AnyMember{}}; }) {
    return MemberCount<T, Members..., AnyMember>();
  } else {
    return sizeof...(Members);
  }
}

}  // namespace internal

// How many data members aggregate `T` has (counted the way boost::pfr
// counts them). Each table is checked against it at compile time, so a
// member added to a record without a line in its table does not build.
template <typename T>
constexpr size_t MemberCount() {
  return internal::MemberCount<T>();
}

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_RECORD_FIELD_H_
