// The Store on a local SQLite database: the backend of a single coordinator.
//
// WAL journal, foreign keys on, a busy timeout for other processes holding
// the write lock, and every statement compiled once at Open and reused, so a
// call costs one short lock plus the SQL itself. The file (and its -wal and
// -shm companions) is created with mode 0600 whatever the umask: it holds
// sealed private keys. Open applies pending schema migrations
// (migrations.h) and refuses a database written by a newer coordinator.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store,
//                    SqliteStore::Open("/var/lib/certfleet/state.db"));
//   ASSIGN_OR_RETURN(int64_t version, store->AddVersion(record));
#ifndef CERTFLEET_COORDINATOR_STORE_SQLITE_STORE_H_
#define CERTFLEET_COORDINATOR_STORE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "coordinator/store/store.h"

struct sqlite3;

namespace certfleet::store {

struct SqliteOptions {
  // PRAGMA synchronous. kNormal (the WAL default): a commit survives a crash
  // of the process, and the last commits may be lost on power failure.
  // kFull: every commit is fsynced before it returns.
  enum class Sync { kNormal, kFull };
  Sync sync = Sync::kNormal;
  // How long a call waits for another connection's write lock before failing
  // with kUnavailable.
  absl::Duration busy_timeout = absl::Seconds(5);
  // SQLite's own page cache (PRAGMA cache_size). The operating system
  // caches the file too, so a page that falls out costs a read from memory,
  // not from disk; a bounded, small cache keeps the coordinator's memory
  // flat however large the store grows (bench/soak_rollouts.sh).
  int64_t page_cache_bytes = 1 << 20;
};

class SqliteStore : public Store {
 public:
  // Opens (creating if needed) the database at `path`. kNotFound when the
  // parent directory does not exist, kPermissionDenied when it or the file is
  // not writable, kDataLoss when the file is not a SQLite database,
  // kFailedPrecondition when its schema is newer than this binary's.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(
      const std::string& path, SqliteOptions options = {});
  ~SqliteStore() override;

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // The path given to Open.
  const std::string& path() const { return path_; }

  absl::StatusOr<std::optional<AccountRecord>> GetAccount(
      const std::string& issuer) override;
  absl::Status PutAccount(const AccountRecord& account) override;
  absl::StatusOr<std::vector<AccountRecord>> ListAccounts() override;

  absl::StatusOr<std::optional<CertificateState>> GetCertificateState(
      const std::string& name) override;
  absl::Status PutCertificateState(const CertificateState& state) override;
  absl::StatusOr<std::vector<CertificateState>> ListCertificateStates()
      override;

  absl::StatusOr<int64_t> AddVersion(const VersionRecord& v) override;
  absl::StatusOr<std::optional<VersionRecord>> GetVersion(
      const std::string& cert_name, int64_t version) override;
  absl::StatusOr<std::optional<VersionRecord>> LatestVersion(
      const std::string& cert_name) override;
  absl::StatusOr<std::vector<VersionRecord>> ListVersions(
      const std::string& cert_name) override;
  absl::StatusOr<std::vector<std::string>> ListVersionedCertificates() override;
  absl::Status MarkVersionRevoked(const std::string& cert_name, int64_t version,
                                  absl::Time when,
                                  const std::string& reason) override;
  absl::Status DeleteVersion(const std::string& cert_name,
                             int64_t version) override;

  absl::StatusOr<std::optional<OrderRecord>> GetOrder(
      const std::string& cert_name) override;
  absl::Status PutOrder(const OrderRecord& order) override;
  absl::Status DeleteOrder(const std::string& cert_name) override;
  absl::StatusOr<std::vector<OrderRecord>> ListOrders() override;

  absl::Status PutAgent(const AgentRecord& agent) override;
  absl::StatusOr<std::optional<AgentRecord>> GetAgent(
      const std::string& id) override;
  absl::StatusOr<std::vector<AgentRecord>> ListAgents() override;
  absl::StatusOr<AgentRecord> UpdateAgent(
      const std::string& id,
      const std::function<absl::Status(AgentRecord&)>& mutate) override;

  absl::Status PutToken(const TokenRecord& token) override;
  absl::StatusOr<std::optional<TokenRecord>> GetToken(
      const std::string& id) override;
  absl::StatusOr<std::vector<TokenRecord>> ListTokens() override;
  absl::Status ConsumeToken(const std::string& id, const std::string& agent_id,
                            absl::Time now) override;

  absl::StatusOr<std::optional<InternalCaRecord>> GetInternalCa() override;
  absl::StatusOr<InternalCaRecord> CreateInternalCaIfAbsent(
      const InternalCaRecord& ca) override;

  absl::Status PutTargetState(const TargetStateRecord& state) override;
  absl::Status PutDesiredVersion(const std::string& agent_id,
                                 const std::string& target,
                                 const std::string& certificate,
                                 const std::string& version_id) override;
  absl::StatusOr<std::vector<TargetStateRecord>> ListTargetStates(
      const std::string& agent_id) override;
  absl::StatusOr<std::vector<TargetStateRecord>> ListAllTargetStates() override;
  // One transaction each; when an item fails, the transaction is rolled
  // back and each item is written on its own, for its own status.
  std::vector<absl::Status> PutTargetStates(
      const std::vector<TargetStateRecord>& states) override;
  std::vector<absl::Status> PutDesiredVersions(
      const std::vector<TargetStateRecord>& desired) override;
  std::vector<absl::Status> RecordLastSeen(
      const std::vector<LastSeen>& seen) override;

  absl::StatusOr<RolloutRecord> CreateRollout(
      const RolloutRecord& rollout) override;
  absl::StatusOr<int64_t> SaveRollout(const RolloutRecord& rollout) override;
  absl::StatusOr<std::optional<RolloutRecord>> GetRollout(
      const std::string& id) override;
  absl::StatusOr<std::optional<RolloutRecord>> ActiveRollout(
      const std::string& certificate) override;
  absl::StatusOr<std::vector<RolloutRecord>> ListRollouts(
      const RolloutFilter& filter) override;

  absl::StatusOr<int64_t> AppendAudit(const AuditRecord& record) override;
  absl::StatusOr<std::vector<AuditRecord>> ListAudit(
      const AuditFilter& filter) override;

 private:
  struct Statements;  // the cached prepared statements (sqlite_store.cc)
  // Those of the fleet methods (sqlite_fleet_store.cc).
  struct FleetStatements;
  struct FleetStatementsDeleter {
    void operator()(FleetStatements* s) const;
  };
  using FleetStatementsPtr =
      std::unique_ptr<FleetStatements, FleetStatementsDeleter>;
  // Those of the rollout and audit methods (sqlite_rollout_store.cc).
  struct RolloutStatements;
  struct RolloutStatementsDeleter {
    void operator()(RolloutStatements* s) const;
  };
  using RolloutStatementsPtr =
      std::unique_ptr<RolloutStatements, RolloutStatementsDeleter>;

  // Compile every statement the methods use, once, at Open.
  static absl::StatusOr<std::unique_ptr<Statements>> PrepareStatements(
      sqlite3* db);
  static absl::StatusOr<FleetStatementsPtr> PrepareFleetStatements(sqlite3* db);
  static absl::StatusOr<RolloutStatementsPtr> PrepareRolloutStatements(
      sqlite3* db);
  SqliteStore(std::string path, sqlite3* db,
              std::unique_ptr<Statements> statements,
              FleetStatementsPtr fleet_statements,
              RolloutStatementsPtr rollout_statements);
  void RollbackLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The single writes' statements, in a transaction or not
  // (sqlite_fleet_store.cc).
  absl::Status PutTargetStateLocked(const TargetStateRecord& state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status PutDesiredVersionLocked(const TargetStateRecord& desired)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RecordLastSeenLocked(const LastSeen& seen)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // BEGIN IMMEDIATE, for a batch.
  absl::Status BeginLocked(const std::string& op)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // COMMIT when `items` (the batch's writes) is OK, else ROLLBACK (also when
  // the commit fails). True when committed.
  bool CommitLocked(const absl::Status& items, const std::string& op)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  absl::Mutex mu_;
  // One connection, used by one thread at a time.
  sqlite3* const db_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Statements> stmts_ ABSL_GUARDED_BY(mu_);
  FleetStatementsPtr fleet_ ABSL_GUARDED_BY(mu_);
  RolloutStatementsPtr rollouts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_SQLITE_STORE_H_
