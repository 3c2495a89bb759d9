#include "coordinator/store/memory_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/store/audit_filter.h"
#include "coordinator/store/sqlite_row.h"
#include "coordinator/store/store_errors.h"

namespace certfleet::store {
namespace {

template <typename Map>
std::optional<typename Map::mapped_type> Find(
    const Map& map, const typename Map::key_type& key) {
  auto it = map.find(key);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

template <typename Map>
std::vector<typename Map::mapped_type> Values(const Map& map) {
  std::vector<typename Map::mapped_type> out;
  out.reserve(map.size());
  for (const auto& [key, value] : map) out.push_back(value);
  return out;
}

// The SQLite store keeps list and map fields as JSON, which carries only
// UTF-8; the fake refuses what the real store would refuse, with the same
// message, by encoding the record's row as it does.
template <typename Record>
absl::Status CheckUtf8(const Record& record, const std::string& op) {
  return EncodeRow(record, [&] { return op; }).status();
}

}  // namespace

absl::StatusOr<std::optional<AccountRecord>> InMemoryStore::GetAccount(
    const std::string& issuer) {
  absl::MutexLock lock(&mu_);
  return Find(accounts_, issuer);
}

absl::Status InMemoryStore::PutAccount(const AccountRecord& account) {
  RETURN_IF_ERROR(
      CheckUtf8(account, absl::StrCat("put account ", account.issuer)));
  absl::MutexLock lock(&mu_);
  accounts_[account.issuer] = account;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AccountRecord>> InMemoryStore::ListAccounts() {
  absl::MutexLock lock(&mu_);
  return Values(accounts_);
}

absl::StatusOr<std::vector<std::string>>
InMemoryStore::ListVersionedCertificates() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [name, versions] : versions_) {
    if (!versions.empty()) out.push_back(name);
  }
  return out;
}

absl::StatusOr<std::optional<CertificateState>>
InMemoryStore::GetCertificateState(const std::string& name) {
  absl::MutexLock lock(&mu_);
  return Find(states_, name);
}

absl::Status InMemoryStore::PutCertificateState(const CertificateState& state) {
  absl::MutexLock lock(&mu_);
  states_[state.name] = state;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<CertificateState>>
InMemoryStore::ListCertificateStates() {
  absl::MutexLock lock(&mu_);
  return Values(states_);
}

absl::StatusOr<int64_t> InMemoryStore::AddVersion(const VersionRecord& v) {
  RETURN_IF_ERROR(CheckUtf8(v, absl::StrCat("add version ", v.cert_name)));
  absl::MutexLock lock(&mu_);
  std::map<int64_t, VersionRecord>& versions = versions_[v.cert_name];
  const int64_t number = versions.empty() ? 1 : versions.rbegin()->first + 1;
  VersionRecord stored = v;
  stored.version = number;
  versions.emplace(number, std::move(stored));
  orders_.erase(v.cert_name);
  return number;
}

absl::StatusOr<std::optional<VersionRecord>> InMemoryStore::GetVersion(
    const std::string& cert_name, int64_t version) {
  absl::MutexLock lock(&mu_);
  auto it = versions_.find(cert_name);
  if (it == versions_.end()) return std::nullopt;
  return Find(it->second, version);
}

absl::StatusOr<std::optional<VersionRecord>> InMemoryStore::LatestVersion(
    const std::string& cert_name) {
  absl::MutexLock lock(&mu_);
  auto it = versions_.find(cert_name);
  if (it == versions_.end() || it->second.empty()) return std::nullopt;
  return it->second.rbegin()->second;
}

absl::StatusOr<std::vector<VersionRecord>> InMemoryStore::ListVersions(
    const std::string& cert_name) {
  absl::MutexLock lock(&mu_);
  std::vector<VersionRecord> out;
  auto it = versions_.find(cert_name);
  if (it == versions_.end()) return out;
  for (auto v = it->second.rbegin(); v != it->second.rend(); ++v) {
    out.push_back(v->second);
  }
  return out;
}

absl::Status InMemoryStore::MarkVersionRevoked(const std::string& cert_name,
                                               int64_t version, absl::Time when,
                                               const std::string& reason) {
  absl::MutexLock lock(&mu_);
  auto it = versions_.find(cert_name);
  if (it != versions_.end()) {
    auto v = it->second.find(version);
    if (v != it->second.end()) {
      v->second.revoked_at = when;
      v->second.revocation_reason = reason;
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError(absl::StrCat("store: mark version ", cert_name,
                                          "#", version,
                                          " revoked: no such version"));
}

absl::Status InMemoryStore::DeleteVersion(const std::string& cert_name,
                                          int64_t version) {
  const std::string op =
      absl::StrCat("delete version ", cert_name, "#", version);
  absl::MutexLock lock(&mu_);
  auto it = versions_.find(cert_name);
  if (it == versions_.end() || !it->second.contains(version)) {
    return absl::NotFoundError(
        absl::StrCat("store: ", op, ": no such version"));
  }
  if (it->second.rbegin()->first == version) {
    return absl::FailedPreconditionError(absl::StrCat(
        "store: ", op, ": it is the newest version, which is kept"));
  }
  it->second.erase(version);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<OrderRecord>> InMemoryStore::GetOrder(
    const std::string& cert_name) {
  absl::MutexLock lock(&mu_);
  return Find(orders_, cert_name);
}

absl::Status InMemoryStore::PutOrder(const OrderRecord& order) {
  const std::string op = absl::StrCat("put order ", order.cert_name);
  RETURN_IF_ERROR(CheckUtf8(order, op));
  absl::MutexLock lock(&mu_);
  orders_[order.cert_name] = order;
  return absl::OkStatus();
}

absl::Status InMemoryStore::DeleteOrder(const std::string& cert_name) {
  absl::MutexLock lock(&mu_);
  orders_.erase(cert_name);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<OrderRecord>> InMemoryStore::ListOrders() {
  absl::MutexLock lock(&mu_);
  return Values(orders_);
}

absl::Status InMemoryStore::PutAgent(const AgentRecord& agent) {
  RETURN_IF_ERROR(CheckUtf8(agent, absl::StrCat("put agent ", agent.id)));
  absl::MutexLock lock(&mu_);
  agents_[agent.id] = agent;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<AgentRecord>> InMemoryStore::GetAgent(
    const std::string& id) {
  absl::MutexLock lock(&mu_);
  return Find(agents_, id);
}

absl::StatusOr<std::vector<AgentRecord>> InMemoryStore::ListAgents() {
  absl::MutexLock lock(&mu_);
  return Values(agents_);
}

absl::StatusOr<AgentRecord> InMemoryStore::UpdateAgent(
    const std::string& id,
    const std::function<absl::Status(AgentRecord&)>& mutate) {
  absl::MutexLock lock(&mu_);
  auto it = agents_.find(id);
  if (it == agents_.end()) return UpdateAgentNotFound(id);
  AgentRecord updated = it->second;
  RETURN_IF_ERROR(ApplyAgentUpdate(id, updated, mutate));
  RETURN_IF_ERROR(CheckUtf8(updated, absl::StrCat("update agent ", id)));
  it->second = updated;
  return updated;
}

absl::Status InMemoryStore::PutToken(const TokenRecord& token) {
  RETURN_IF_ERROR(CheckUtf8(token, absl::StrCat("put token ", token.id)));
  absl::MutexLock lock(&mu_);
  tokens_[token.id] = token;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<TokenRecord>> InMemoryStore::GetToken(
    const std::string& id) {
  absl::MutexLock lock(&mu_);
  return Find(tokens_, id);
}

absl::StatusOr<std::vector<TokenRecord>> InMemoryStore::ListTokens() {
  absl::MutexLock lock(&mu_);
  return Values(tokens_);
}

absl::Status InMemoryStore::ConsumeToken(const std::string& id,
                                         const std::string& agent_id,
                                         absl::Time now) {
  RETURN_IF_ERROR(CheckConsumeTime(id, now));
  absl::MutexLock lock(&mu_);
  auto it = tokens_.find(id);
  if (it == tokens_.end()) return ConsumeTokenNotFound(id);
  TokenRecord& token = it->second;
  if (token.used_at != absl::InfinitePast()) {
    return TokenAlreadyUsed(id, token.used_by, token.used_at);
  }
  token.used_at = now;
  token.used_by = agent_id;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<InternalCaRecord>> InMemoryStore::GetInternalCa() {
  absl::MutexLock lock(&mu_);
  return internal_ca_;
}

absl::StatusOr<InternalCaRecord> InMemoryStore::CreateInternalCaIfAbsent(
    const InternalCaRecord& ca) {
  absl::MutexLock lock(&mu_);
  if (!internal_ca_.has_value()) internal_ca_ = ca;
  return *internal_ca_;
}

absl::Status InMemoryStore::PutTargetState(const TargetStateRecord& state) {
  absl::MutexLock lock(&mu_);
  TargetStateRecord& stored = target_states_[{state.agent_id, state.target}];
  std::string desired = std::move(stored.desired_version_id);
  stored = state;
  stored.desired_version_id = std::move(desired);
  return absl::OkStatus();
}

absl::Status InMemoryStore::PutDesiredVersion(const std::string& agent_id,
                                              const std::string& target,
                                              const std::string& certificate,
                                              const std::string& version_id) {
  absl::MutexLock lock(&mu_);
  TargetStateRecord& stored = target_states_[{agent_id, target}];
  stored.agent_id = agent_id;
  stored.target = target;
  if (!certificate.empty()) stored.certificate = certificate;
  stored.desired_version_id = version_id;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TargetStateRecord>> InMemoryStore::ListTargetStates(
    const std::string& agent_id) {
  absl::MutexLock lock(&mu_);
  std::vector<TargetStateRecord> out;
  for (auto it = target_states_.lower_bound({agent_id, ""});
       it != target_states_.end() && it->first.first == agent_id; ++it) {
    out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<std::vector<TargetStateRecord>>
InMemoryStore::ListAllTargetStates() {
  absl::MutexLock lock(&mu_);
  return Values(target_states_);
}

RolloutRecord* InMemoryStore::FindRolloutLocked(const std::string& id) {
  for (RolloutRecord& r : rollouts_) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

absl::StatusOr<RolloutRecord> InMemoryStore::CreateRollout(
    const RolloutRecord& rollout) {
  RETURN_IF_ERROR(CheckNewRollout(rollout));
  absl::MutexLock lock(&mu_);
  if (FindRolloutLocked(rollout.id) != nullptr) {
    return RolloutIdTaken(rollout.id);
  }
  if (!rollout.finished) {
    for (const RolloutRecord& r : rollouts_) {
      if (r.certificate == rollout.certificate && !r.finished) {
        return RolloutAlreadyActive(rollout.id, r);
      }
    }
  }
  RolloutRecord stored = rollout;
  stored.revision = 1;
  rollouts_.push_back(stored);
  return stored;
}

absl::StatusOr<int64_t> InMemoryStore::SaveRollout(
    const RolloutRecord& rollout) {
  absl::MutexLock lock(&mu_);
  RolloutRecord* stored = FindRolloutLocked(rollout.id);
  if (stored == nullptr || stored->revision != rollout.revision ||
      stored->finished) {
    return SaveRolloutRefused(
        rollout, stored == nullptr ? std::nullopt
                                   : std::optional<RolloutRecord>(*stored));
  }
  stored->phase = rollout.phase;
  stored->updated_at = rollout.updated_at;
  stored->finished = rollout.finished;
  stored->state_json = rollout.state_json;
  return ++stored->revision;
}

absl::StatusOr<std::optional<RolloutRecord>> InMemoryStore::GetRollout(
    const std::string& id) {
  absl::MutexLock lock(&mu_);
  const RolloutRecord* r = FindRolloutLocked(id);
  if (r == nullptr) return std::nullopt;
  return *r;
}

absl::StatusOr<std::optional<RolloutRecord>> InMemoryStore::ActiveRollout(
    const std::string& certificate) {
  absl::MutexLock lock(&mu_);
  for (const RolloutRecord& r : rollouts_) {
    if (r.certificate == certificate && !r.finished) return r;
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<RolloutRecord>> InMemoryStore::ListRollouts(
    const RolloutFilter& filter) {
  RETURN_IF_ERROR(CheckLimit("list rollouts", filter.limit));
  absl::MutexLock lock(&mu_);
  std::vector<RolloutRecord> out;
  // Newest created first, then a stable sort by time keeps that order among
  // equal created_at.
  for (auto r = rollouts_.rbegin(); r != rollouts_.rend(); ++r) {
    if (!filter.certificate.empty() && r->certificate != filter.certificate) {
      continue;
    }
    if (filter.unfinished_only && r->finished) continue;
    out.push_back(*r);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const RolloutRecord& a, const RolloutRecord& b) {
                     return a.created_at > b.created_at;
                   });
  if (filter.limit > 0 && out.size() > static_cast<size_t>(filter.limit)) {
    out.resize(filter.limit);
  }
  return out;
}

absl::StatusOr<int64_t> InMemoryStore::AppendAudit(const AuditRecord& record) {
  RETURN_IF_ERROR(CheckAuditRecord(record));
  absl::MutexLock lock(&mu_);
  AuditRecord stored = record;
  stored.id = static_cast<int64_t>(audit_.size()) + 1;
  audit_.push_back(stored);
  return stored.id;
}

absl::StatusOr<std::vector<AuditRecord>> InMemoryStore::ListAudit(
    const AuditFilter& filter) {
  RETURN_IF_ERROR(CheckLimit("list audit records", filter.limit));
  absl::MutexLock lock(&mu_);
  return FilterAudit(std::vector<AuditRecord>(audit_.rbegin(), audit_.rend()),
                     filter);
}

}  // namespace certfleet::store
