// How the SQLite store lays a record of store.h out as a table row, from the
// record's table (record_fields.h): one column per member, named as the
// member. Strings are TEXT (BLOB when the table says so), integers and bools
// INTEGER, times INTEGER unix nanoseconds, enums their stable name, and the
// list and map members JSON text (json_columns.h) so the sqlite3 CLI shows
// them readably.
//
//   const std::string sql = absl::StrCat("INSERT INTO agents (",
//       ColumnList<AgentRecord>(kInsert), ") VALUES (", Placeholders(...));
//   ASSIGN_OR_RETURN(RowValues<AgentRecord> values, EncodeRow(agent));
//   StatementRun run(insert);
//   values.Bind(run, kInsert);
//   ...
//   ASSIGN_OR_RETURN(AgentRecord back, ReadRow<AgentRecord>(select_run));
#ifndef CERTFLEET_COORDINATOR_STORE_SQLITE_ROW_H_
#define CERTFLEET_COORDINATOR_STORE_SQLITE_ROW_H_

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "coordinator/store/record_fields.h"
#include "coordinator/store/sqlite_statement.h"
#include "coordinator/store/store.h"

namespace certfleet::store {

// Which columns a statement names: all of them (SELECT, and INSERT of a
// copy that keeps its id), or all but those SQLite assigns (a new row).
enum class Columns { kAll, kInsert };
inline constexpr Columns kInsert = Columns::kInsert;

namespace sqlite_row_internal {

inline bool Included(Column column, Columns which) {
  return which == Columns::kAll || column != Column::kAssignedOnInsert;
}

// The JSON-valued members (names, contacts, dns_records, labels).
template <typename T>
inline constexpr bool kIsJson =
    std::is_same_v<T, std::vector<std::string>> ||
    std::is_same_v<T, std::map<std::string, std::string>> ||
    std::is_same_v<T, std::vector<DnsRecordRef>>;

absl::StatusOr<std::string> EncodeJson(const std::vector<std::string>& v);
absl::StatusOr<std::string> EncodeJson(
    const std::map<std::string, std::string>& v);
absl::StatusOr<std::string> EncodeJson(const std::vector<DnsRecordRef>& v);

// Column `i` of the current row into `out`. kDataLoss when it does not
// read as a T (a JSON column that does not parse).
absl::Status ReadColumn(const StatementRun& row, int i, Column column,
                        std::string* out);
absl::Status ReadColumn(const StatementRun& row, int i, Column column,
                        int64_t* out);
absl::Status ReadColumn(const StatementRun& row, int i, Column column,
                        int* out);
absl::Status ReadColumn(const StatementRun& row, int i, Column column,
                        bool* out);
absl::Status ReadColumn(const StatementRun& row, int i, Column column,
                        absl::Time* out);
absl::Status ReadColumn(const StatementRun& row, int i, Column column,
                        std::vector<std::string>* out);
absl::Status ReadColumn(const StatementRun& row, int i, Column column,
                        std::map<std::string, std::string>* out);
absl::Status ReadColumn(const StatementRun& row, int i, Column column,
                        std::vector<DnsRecordRef>* out);
template <typename Enum>
requires std::is_enum_v<Enum> absl::Status ReadColumn(const StatementRun& row,
                                                      int i, Column column,
                                                      Enum* out) {
  std::string name;
  RETURN_IF_ERROR(ReadColumn(row, i, column, &name));
  std::optional<Enum> parsed = EnumText<Enum>::Parse(name);
  if (!parsed.has_value()) {
    return absl::DataLossError(
        absl::StrCat("unknown ", EnumText<Enum>::kWhat, " \"", name, "\""));
  }
  *out = *parsed;
  return absl::OkStatus();
}

void BindColumn(StatementRun& run, Column column, const std::string& value);
void BindColumn(StatementRun& run, Column column, int64_t value);
void BindColumn(StatementRun& run, Column column, int value);
void BindColumn(StatementRun& run, Column column, bool value);
void BindColumn(StatementRun& run, Column column, absl::Time value);
template <typename Enum>
requires std::is_enum_v<Enum>
void BindColumn(StatementRun& run, Column, Enum value) {
  run.Text(EnumText<Enum>::Name(value));  // a static string
}

}  // namespace sqlite_row_internal

// "a, b, c": the columns of `Record`, in the order ReadRow and Bind use.
template <typename Record>
std::string ColumnList(Columns which = Columns::kAll) {
  std::string out;
  ForEachField<Record>([&](const auto& field) {
    if (!sqlite_row_internal::Included(field.column, which)) return;
    absl::StrAppend(&out, out.empty() ? "" : ", ", field.name);
  });
  return out;
}

// How many columns ColumnList(which) names.
template <typename Record>
int ColumnCount(Columns which = Columns::kAll) {
  int n = 0;
  ForEachField<Record>([&](const auto& field) {
    n += sqlite_row_internal::Included(field.column, which) ? 1 : 0;
  });
  return n;
}

// The current row of a SELECT of ColumnList<Record>(). kDataLoss naming
// the column ("column names: …") when one does not read.
template <typename Record>
absl::StatusOr<Record> ReadRow(const StatementRun& row) {
  Record record;
  int i = 0;
  RETURN_IF_ERROR(ForEachFieldUntilError<Record>([&](const auto& field) {
    return Annotate(sqlite_row_internal::ReadColumn(row, i++, field.column,
                                                    &(record.*field.member)),
                    absl::StrCat("column ", field.name));
  }));
  return record;
}

// A record ready to be bound: its JSON columns encoded (before the store's
// lock is taken), every other column read from the record itself, which
// must outlive this object and every StatementRun it is bound to.
template <typename Record>
class RowValues {
 public:
  // Binds every column of ColumnList<Record>(which), in order.
  void Bind(StatementRun& run, Columns which = Columns::kAll) const {
    size_t json = 0;
    ForEachField<Record>([&](const auto& field) {
      using T = typename std::remove_cvref_t<decltype(field)>::Type;
      if (!sqlite_row_internal::Included(field.column, which)) {
        if constexpr (sqlite_row_internal::kIsJson<T>) ++json;
        return;
      }
      if constexpr (sqlite_row_internal::kIsJson<T>) {
        run.Text(json_[json++]);
      } else {
        sqlite_row_internal::BindColumn(run, field.column,
                                        record_->*field.member);
      }
    });
  }

 private:
  template <typename R>
  friend absl::StatusOr<RowValues<R>> EncodeRow(const R& record);

  explicit RowValues(const Record* record) : record_(record) {}

  const Record* record_;
  std::vector<std::string> json_;  // the JSON columns, in table order
};

// kInvalidArgument naming the member ("names: …") when a list or map
// member is not valid UTF-8 (JSON cannot carry it).
template <typename Record>
absl::StatusOr<RowValues<Record>> EncodeRow(const Record& record) {
  RowValues<Record> values(&record);
  RETURN_IF_ERROR(ForEachFieldUntilError<Record>([&](const auto& field) {
    using T = typename std::remove_cvref_t<decltype(field)>::Type;
    if constexpr (sqlite_row_internal::kIsJson<T>) {
      absl::StatusOr<std::string> json =
          sqlite_row_internal::EncodeJson(record.*field.member);
      if (!json.ok()) return Annotate(json.status(), field.name);
      values.json_.push_back(*std::move(json));
    }
    return absl::OkStatus();
  }));
  return values;
}

// EncodeRow for a write, the error naming the operation: "store: <op>:
// names: …".
template <typename Record>
absl::StatusOr<RowValues<Record>> EncodeRow(const Record& record, OpName op) {
  absl::StatusOr<RowValues<Record>> values = EncodeRow(record);
  if (!values.ok()) {
    return Annotate(values.status(), absl::StrCat("store: ", op()));
  }
  return values;
}

// "?, ?, …" with `n` placeholders.
std::string Placeholders(int n);

// "SELECT <the columns of Record> FROM <table>", for a WHERE or ORDER BY
// to follow.
template <typename Record>
std::string SelectFrom(absl::string_view table) {
  return absl::StrCat("SELECT ", ColumnList<Record>(), " FROM ", table);
}

// "a = excluded.a, b = excluded.b, …" for every column but `keep`: the
// SET of an upsert's ON CONFLICT DO UPDATE that keeps those columns.
template <typename Record>
std::string SetFromExcluded(std::initializer_list<absl::string_view> keep) {
  std::string out;
  ForEachField<Record>([&](const auto& field) {
    if (std::find(keep.begin(), keep.end(), field.name) != keep.end()) return;
    absl::StrAppend(&out, out.empty() ? "" : ", ", field.name, " = excluded.",
                    field.name);
  });
  return out;
}

// "<into> (<columns>) VALUES (?, …)", `into` being "INSERT INTO t" or
// "INSERT OR REPLACE INTO t".
template <typename Record>
std::string InsertRow(absl::string_view into, Columns which = Columns::kAll) {
  return absl::StrCat(into, " (", ColumnList<Record>(which), ") VALUES (",
                      Placeholders(ColumnCount<Record>(which)), ")");
}

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_SQLITE_ROW_H_
