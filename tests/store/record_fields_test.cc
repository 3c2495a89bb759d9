// The record tables (record_fields.h) are the one description of each
// record: every field of every record, set through its table to a value
// that is not its default, survives a row of the migrated SQLite schema and
// the etcd codec; the etcd messages have exactly the tables' fields; and a
// record with a member missing from its table would not compile.
#include "coordinator/store/record_fields.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "certfleet/v1/store.pb.h"
#include "coordinator/store/migrations.h"
#include "coordinator/store/record_codec.h"
#include "coordinator/store/sqlite_row.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/store/filled_record.h"
#include "tests/store/raw_sqlite.h"
#include "tests/store/status_or_matchers.h"
#include "tests/store/store_contract_test.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::store {
namespace {

namespace pb = ::certfleet::store::v1;

// MemberCount, which guards every table, counts what it should.
struct Probe {
  std::string a;
  absl::Time b = absl::InfinitePast();
  std::map<std::string, std::string> c;
};
static_assert(MemberCount<Probe>() == 3);

// Every field differs from the default record's: the filler reaches every
// member type, so the round trips below test every field.
template <typename Record>
void ExpectEveryFieldFilled() {
  const Record filled = FilledRecord<Record>();
  const Record empty{};
  ForEachField<Record>([&](const auto& field) {
    EXPECT_FALSE(filled.*field.member == empty.*field.member)
        << field.name << " is left at its default";
  });
}

TEST(RecordFieldsTest, FilledRecordsSetEveryField) {
  ExpectEveryFieldFilled<AccountRecord>();
  ExpectEveryFieldFilled<CertificateState>();
  ExpectEveryFieldFilled<VersionRecord>();
  ExpectEveryFieldFilled<DnsRecordRef>();
  ExpectEveryFieldFilled<OrderRecord>();
  ExpectEveryFieldFilled<AgentRecord>();
  ExpectEveryFieldFilled<TokenRecord>();
  ExpectEveryFieldFilled<InternalCaRecord>();
  ExpectEveryFieldFilled<TargetStateRecord>();
  ExpectEveryFieldFilled<RolloutRecord>();
  ExpectEveryFieldFilled<AuditRecord>();
}

// Written as a row of `table` in a database migrated from nothing, and read
// back: a column the migrations lack fails to prepare.
template <typename Record>
void ExpectSqliteRowKeepsEveryField(
    RawSqlite& db, const char* table,
    const Record& filled = FilledRecord<Record>()) {
  SCOPED_TRACE(table);
  std::string insert = InsertRow<Record>(absl::StrCat("INSERT INTO ", table));
  if (std::string(table) == "internal_ca") {
    // Its one row has id 1 (CHECK), a column no record field holds.
    insert =
        absl::StrCat("INSERT INTO internal_ca (id, ", ColumnList<Record>(),
                     ") VALUES (1, ", Placeholders(ColumnCount<Record>()), ")");
  }
  {
    ASSERT_OK_AND_ASSIGN(StatementPtr stmt, Prepare(db.get(), insert));
    ASSERT_OK_AND_ASSIGN(RowValues<Record> row, EncodeRow(filled));
    StatementRun run(stmt.get());
    row.Bind(run);
    ASSERT_EQ(run.Step(), SQLITE_DONE) << sqlite3_errmsg(db.get());
  }
  ASSERT_OK_AND_ASSIGN(StatementPtr select,
                       Prepare(db.get(), SelectFrom<Record>(table)));
  StatementRun run(select.get());
  ASSERT_EQ(run.Step(), SQLITE_ROW) << sqlite3_errmsg(db.get());
  EXPECT_THAT(ReadRow<Record>(run), IsOkAndHolds(filled));
}

TEST(RecordFieldsTest, SqliteRowsKeepEveryField) {
  RawSqlite db(":memory:");
  ASSERT_OK(ApplyMigrations(db.get(), "mem.db"));
  ExpectSqliteRowKeepsEveryField<AccountRecord>(db, "accounts");
  ExpectSqliteRowKeepsEveryField<CertificateState>(db, "certificate_state");
  ExpectSqliteRowKeepsEveryField<VersionRecord>(db, "versions");
  ExpectSqliteRowKeepsEveryField<OrderRecord>(db, "orders");
  ExpectSqliteRowKeepsEveryField<AgentRecord>(db, "agents");
  ExpectSqliteRowKeepsEveryField<TokenRecord>(db, "bootstrap_tokens");
  ExpectSqliteRowKeepsEveryField<InternalCaRecord>(db, "internal_ca");
  ExpectSqliteRowKeepsEveryField<TargetStateRecord>(db, "target_states");
  RolloutRecord rollout = FilledRecord<RolloutRecord>();
  rollout.kind = "rollback";  // CHECK (kind IN ('rollout', 'rollback'))
  ExpectSqliteRowKeepsEveryField<RolloutRecord>(db, "rollouts", rollout);
  ExpectSqliteRowKeepsEveryField<AuditRecord>(db, "audit_log");
}

// The columns of `table` in a database migrated from nothing, sorted.
std::vector<std::string> TableColumns(RawSqlite& db, const char* table) {
  std::vector<std::string> out;
  sqlite3_stmt* stmt = nullptr;
  const std::string sql =
      absl::StrCat("SELECT name FROM pragma_table_info('", table, "')");
  EXPECT_EQ(sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt, nullptr),
            SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    out.emplace_back(
        reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  std::sort(out.begin(), out.end());
  return out;
}

template <typename Record>
std::vector<std::string> FieldNames(std::vector<std::string> extra = {}) {
  ForEachField<Record>(
      [&](const auto& field) { extra.emplace_back(field.name); });
  std::sort(extra.begin(), extra.end());
  return extra;
}

// The migrations make exactly the tables' columns, no more (a column with
// no field would be left at its default by every write) and no fewer.
TEST(RecordFieldsTest, MigratedSchemaHasExactlyTheTablesColumns) {
  RawSqlite db(":memory:");
  ASSERT_OK(ApplyMigrations(db.get(), "mem.db"));
  EXPECT_EQ(TableColumns(db, "accounts"), FieldNames<AccountRecord>());
  EXPECT_EQ(TableColumns(db, "certificate_state"),
            FieldNames<CertificateState>());
  EXPECT_EQ(TableColumns(db, "versions"), FieldNames<VersionRecord>());
  EXPECT_EQ(TableColumns(db, "orders"), FieldNames<OrderRecord>());
  EXPECT_EQ(TableColumns(db, "agents"), FieldNames<AgentRecord>());
  EXPECT_EQ(TableColumns(db, "bootstrap_tokens"), FieldNames<TokenRecord>());
  EXPECT_EQ(TableColumns(db, "internal_ca"),
            FieldNames<InternalCaRecord>({"id"}));  // always 1
  EXPECT_EQ(TableColumns(db, "target_states"), FieldNames<TargetStateRecord>());
  EXPECT_EQ(TableColumns(db, "rollouts"), FieldNames<RolloutRecord>());
  EXPECT_EQ(TableColumns(db, "audit_log"), FieldNames<AuditRecord>());
}

// The audit log's id is SQLite's to assign: a new row names every other
// column.
TEST(RecordFieldsTest, InsertColumnsLeaveOutWhatSqliteAssigns) {
  EXPECT_EQ(ColumnList<AuditRecord>(kInsert),
            "at, actor, action, certificate, detail, result");
  EXPECT_EQ(ColumnCount<AuditRecord>(kInsert), ColumnCount<AuditRecord>() - 1);
}

template <typename Record>
void ExpectCodecKeepsEveryField() {
  const Record filled = FilledRecord<Record>();
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeRecord(filled));
  Record back;
  ASSERT_OK(DecodeRecord(bytes, &back));
  EXPECT_EQ(back, filled);
}

TEST(RecordFieldsTest, EtcdCodecKeepsEveryField) {
  ExpectCodecKeepsEveryField<AccountRecord>();
  ExpectCodecKeepsEveryField<CertificateState>();
  ExpectCodecKeepsEveryField<VersionRecord>();
  ExpectCodecKeepsEveryField<OrderRecord>();
  ExpectCodecKeepsEveryField<AgentRecord>();
  ExpectCodecKeepsEveryField<TokenRecord>();
  ExpectCodecKeepsEveryField<InternalCaRecord>();
  ExpectCodecKeepsEveryField<TargetStateRecord>();
  ExpectCodecKeepsEveryField<RolloutRecord>();
  ExpectCodecKeepsEveryField<AuditRecord>();
}

// A field in the message but not the table would be written by an older
// coordinator and dropped by this one; the reverse fails every encode.
template <typename Record, typename Message>
void ExpectMessageMatchesTable() {
  const google::protobuf::Descriptor* d = Message::descriptor();
  SCOPED_TRACE(d->full_name());
  EXPECT_EQ(static_cast<size_t>(d->field_count()), FieldCount<Record>());
  ForEachField<Record>([&](const auto& field) {
    EXPECT_NE(d->FindFieldByName(field.name), nullptr)
        << "no field " << field.name;
  });
}

TEST(RecordFieldsTest, EtcdMessagesHaveExactlyTheTablesFields) {
  ExpectMessageMatchesTable<AccountRecord, pb::Account>();
  ExpectMessageMatchesTable<CertificateState, pb::CertificateState>();
  ExpectMessageMatchesTable<VersionRecord, pb::Version>();
  ExpectMessageMatchesTable<DnsRecordRef, pb::DnsRecordRef>();
  ExpectMessageMatchesTable<OrderRecord, pb::Order>();
  ExpectMessageMatchesTable<AgentRecord, pb::Agent>();
  ExpectMessageMatchesTable<TokenRecord, pb::Token>();
  ExpectMessageMatchesTable<InternalCaRecord, pb::InternalCa>();
  ExpectMessageMatchesTable<TargetStateRecord, pb::TargetState>();
  ExpectMessageMatchesTable<RolloutRecord, pb::Rollout>();
  ExpectMessageMatchesTable<AuditRecord, pb::Audit>();
}

}  // namespace
}  // namespace certfleet::store
