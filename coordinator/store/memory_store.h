// A Store kept in memory, for unit tests of the modules above the store. It
// honours the whole contract of store.h (thread safety, atomic methods,
// version numbering, AddVersion deleting the order, ConsumeToken's
// compare-and-set, UpdateAgent's atomic read-modify-write, a write-once
// internal CA, one unfinished rollout per certificate, SaveRollout's
// compare-and-set on the revision, an append-only audit log) with one mutex;
// nothing survives the object.
//
//   InMemoryStore store;
//   IssuanceEngine engine(&store, ...);
#ifndef CERTFLEET_COORDINATOR_STORE_MEMORY_STORE_H_
#define CERTFLEET_COORDINATOR_STORE_MEMORY_STORE_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "coordinator/store/store.h"

namespace certfleet::store {

class InMemoryStore : public Store {
 public:
  InMemoryStore() = default;
  InMemoryStore(const InMemoryStore&) = delete;
  InMemoryStore& operator=(const InMemoryStore&) = delete;

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
  // The rollout with this id; null when there is none.
  RolloutRecord* FindRolloutLocked(const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  // Ordered maps: the List methods return records sorted by key, like the
  // SQLite store.
  std::map<std::string, AccountRecord> accounts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, CertificateState> states_ ABSL_GUARDED_BY(mu_);
  // cert_name → version number → record.
  std::map<std::string, std::map<int64_t, VersionRecord>> versions_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, OrderRecord> orders_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, AgentRecord> agents_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, TokenRecord> tokens_ ABSL_GUARDED_BY(mu_);
  std::optional<InternalCaRecord> internal_ca_ ABSL_GUARDED_BY(mu_);
  // (agent_id, target) → state.
  std::map<std::pair<std::string, std::string>, TargetStateRecord>
      target_states_ ABSL_GUARDED_BY(mu_);
  // In creation order, which breaks ties of created_at like SQLite's rowid.
  std::vector<RolloutRecord> rollouts_ ABSL_GUARDED_BY(mu_);
  // In append order: audit_[i].id == i + 1.
  std::vector<AuditRecord> audit_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_MEMORY_STORE_H_
