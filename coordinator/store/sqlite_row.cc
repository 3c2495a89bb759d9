#include "coordinator/store/sqlite_row.h"

#include "coordinator/store/json_columns.h"

namespace certfleet::store {
namespace sqlite_row_internal {

absl::StatusOr<std::string> EncodeJson(const std::vector<std::string>& v) {
  return EncodeStringList(v);
}

absl::StatusOr<std::string> EncodeJson(
    const std::map<std::string, std::string>& v) {
  return EncodeStringMap(v);
}

absl::StatusOr<std::string> EncodeJson(const std::vector<DnsRecordRef>& v) {
  return EncodeDnsRecords(v);
}

namespace {

template <typename T>
absl::Status Decoded(absl::StatusOr<T> decoded, T* out) {
  if (!decoded.ok()) return decoded.status();
  *out = *std::move(decoded);
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadColumn(const StatementRun& row, int i, Column column,
                        std::string* out) {
  *out = column == Column::kBlob ? row.ColumnBlob(i) : row.ColumnText(i);
  return absl::OkStatus();
}

absl::Status ReadColumn(const StatementRun& row, int i, Column, int64_t* out) {
  *out = row.ColumnInt(i);
  return absl::OkStatus();
}

absl::Status ReadColumn(const StatementRun& row, int i, Column, int* out) {
  *out = static_cast<int>(row.ColumnInt(i));
  return absl::OkStatus();
}

absl::Status ReadColumn(const StatementRun& row, int i, Column, bool* out) {
  *out = row.ColumnInt(i) != 0;
  return absl::OkStatus();
}

absl::Status ReadColumn(const StatementRun& row, int i, Column,
                        absl::Time* out) {
  *out = row.ColumnTime(i);
  return absl::OkStatus();
}

absl::Status ReadColumn(const StatementRun& row, int i, Column,
                        std::vector<std::string>* out) {
  return Decoded(DecodeStringList(row.ColumnText(i)), out);
}

absl::Status ReadColumn(const StatementRun& row, int i, Column,
                        std::map<std::string, std::string>* out) {
  return Decoded(DecodeStringMap(row.ColumnText(i)), out);
}

absl::Status ReadColumn(const StatementRun& row, int i, Column,
                        std::vector<DnsRecordRef>* out) {
  return Decoded(DecodeDnsRecords(row.ColumnText(i)), out);
}

void BindColumn(StatementRun& run, Column column, const std::string& value) {
  if (column == Column::kBlob) {
    run.Blob(value);
  } else {
    run.Text(value);
  }
}

void BindColumn(StatementRun& run, Column, int64_t value) { run.Int(value); }

void BindColumn(StatementRun& run, Column, int value) { run.Int(value); }

void BindColumn(StatementRun& run, Column, bool value) {
  run.Int(value ? 1 : 0);
}

void BindColumn(StatementRun& run, Column, absl::Time value) {
  run.Time(value);
}

}  // namespace sqlite_row_internal

std::string Placeholders(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.append(i == 0 ? "?" : ", ?");
  return out;
}

}  // namespace certfleet::store
