#include "coordinator/app/migrate.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "coordinator/store/version_id.h"

namespace certfleet::app {
namespace {

// Both listings sorted by `key` and compared record for record.
template <typename Record>
absl::Status SameRecords(const char* kind, std::vector<Record> from,
                         std::vector<Record> to,
                         const std::function<std::string(const Record&)>& key) {
  auto by_key = [&](const Record& a, const Record& b) {
    return key(a) < key(b);
  };
  std::sort(from.begin(), from.end(), by_key);
  std::sort(to.begin(), to.end(), by_key);
  if (from.size() != to.size()) {
    return absl::DataLossError(absl::StrCat("migrate: ", kind, ": ",
                                            from.size(), " in the source, ",
                                            to.size(), " in etcd"));
  }
  for (size_t i = 0; i < from.size(); ++i) {
    if (!(from[i] == to[i])) {
      return absl::DataLossError(absl::StrCat(
          "migrate: ", kind, " ", key(from[i]), " differs in etcd"));
    }
  }
  return absl::OkStatus();
}

// Every version of every certificate, oldest first per certificate.
absl::StatusOr<std::vector<store::VersionRecord>> AllVersions(store::Store& s) {
  ASSIGN_OR_RETURN(std::vector<std::string> names,
                   s.ListVersionedCertificates());
  std::vector<store::VersionRecord> out;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(std::vector<store::VersionRecord> versions,
                     s.ListVersions(name));
    out.insert(out.end(), versions.rbegin(), versions.rend());
  }
  return out;
}

}  // namespace

std::string MigrationReport::Summary() const {
  std::string out;
  for (const auto& [kind, n] : copied) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", kind, " ", n);
  }
  return absl::StrCat(out, ": copied and verified identical\n");
}

absl::StatusOr<MigrationReport> Migrate(store::Store& from,
                                        store::EtcdStore& to) {
  ASSIGN_OR_RETURN(const int64_t keys, to.KeyCount());
  if (keys > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "migrate: the etcd prefix ", to.Key(""), " already holds ", keys,
        " keys: migrate into an empty prefix (a new installation)"));
  }
  MigrationReport report;

  ASSIGN_OR_RETURN(std::optional<store::InternalCaRecord> ca,
                   from.GetInternalCa());
  if (ca.has_value())
    RETURN_IF_ERROR(to.CreateInternalCaIfAbsent(*ca).status());
  ASSIGN_OR_RETURN(std::vector<store::AccountRecord> accounts,
                   from.ListAccounts());
  for (const auto& a : accounts) RETURN_IF_ERROR(to.PutAccount(a));
  ASSIGN_OR_RETURN(std::vector<store::CertificateState> states,
                   from.ListCertificateStates());
  for (const auto& s : states) RETURN_IF_ERROR(to.PutCertificateState(s));
  // Versions before orders: adding a version removes its certificate's
  // order.
  ASSIGN_OR_RETURN(std::vector<store::VersionRecord> versions,
                   AllVersions(from));
  // Retention leaves gaps in the numbers (versions pruned), and the
  // destination numbers as it adds: a placeholder takes each missing number
  // and is deleted once the next real version is in, so every version keeps
  // its number.
  std::string certificate;
  int64_t next = 1;
  for (const store::VersionRecord& v : versions) {
    if (v.cert_name != certificate) certificate = v.cert_name, next = 1;
    std::vector<int64_t> placeholders;
    for (; next < v.version; ++next) {
      ASSIGN_OR_RETURN(const int64_t number,
                       to.AddVersion({.cert_name = v.cert_name}));
      placeholders.push_back(number);
    }
    ASSIGN_OR_RETURN(const int64_t number, to.AddVersion(v));
    if (number != v.version) {
      return absl::DataLossError(
          absl::StrCat("migrate: version ", v.cert_name, "/", v.version,
                       " was stored as number ", number));
    }
    next = number + 1;
    for (int64_t p : placeholders) {
      RETURN_IF_ERROR(to.DeleteVersion(v.cert_name, p));
    }
  }
  ASSIGN_OR_RETURN(std::vector<store::OrderRecord> orders, from.ListOrders());
  for (const auto& o : orders) RETURN_IF_ERROR(to.PutOrder(o));
  ASSIGN_OR_RETURN(std::vector<store::AgentRecord> agents, from.ListAgents());
  for (const auto& a : agents) RETURN_IF_ERROR(to.PutAgent(a));
  ASSIGN_OR_RETURN(std::vector<store::TokenRecord> tokens, from.ListTokens());
  for (const auto& t : tokens) RETURN_IF_ERROR(to.PutToken(t));
  ASSIGN_OR_RETURN(std::vector<store::TargetStateRecord> targets,
                   from.ListAllTargetStates());
  for (const auto& t : targets) {
    RETURN_IF_ERROR(to.PutTargetState(t));
    if (!t.desired_version_id.empty()) {
      RETURN_IF_ERROR(to.PutDesiredVersion(t.agent_id, t.target, t.certificate,
                                           t.desired_version_id));
    }
  }
  ASSIGN_OR_RETURN(std::vector<store::RolloutRecord> rollouts,
                   from.ListRollouts({}));
  for (const auto& r : rollouts) RETURN_IF_ERROR(to.ImportRollout(r));
  ASSIGN_OR_RETURN(std::vector<store::AuditRecord> audit, from.ListAudit({}));
  std::sort(audit.begin(), audit.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  for (const auto& a : audit) RETURN_IF_ERROR(to.ImportAudit(a));

  // Read everything back from etcd and compare.
  ASSIGN_OR_RETURN(std::optional<store::InternalCaRecord> ca_to,
                   to.GetInternalCa());
  if (ca != ca_to) {
    return absl::DataLossError("migrate: the internal CA differs in etcd");
  }
  report.copied["internal CA"] = ca.has_value() ? 1 : 0;
  ASSIGN_OR_RETURN(auto accounts_to, to.ListAccounts());
  RETURN_IF_ERROR(SameRecords<store::AccountRecord>(
      "account", accounts, accounts_to,
      [](const auto& r) { return r.issuer; }));
  report.copied["accounts"] = accounts.size();
  ASSIGN_OR_RETURN(auto states_to, to.ListCertificateStates());
  RETURN_IF_ERROR(SameRecords<store::CertificateState>(
      "certificate state", states, states_to,
      [](const auto& r) { return r.name; }));
  report.copied["certificate states"] = states.size();
  ASSIGN_OR_RETURN(auto versions_to, AllVersions(to));
  RETURN_IF_ERROR(SameRecords<store::VersionRecord>(
      "version", versions, versions_to,
      [](const auto& r) { return store::VersionId(r.cert_name, r.version); }));
  report.copied["versions"] = versions.size();
  ASSIGN_OR_RETURN(auto orders_to, to.ListOrders());
  RETURN_IF_ERROR(SameRecords<store::OrderRecord>(
      "order", orders, orders_to, [](const auto& r) { return r.cert_name; }));
  report.copied["orders"] = orders.size();
  ASSIGN_OR_RETURN(auto agents_to, to.ListAgents());
  RETURN_IF_ERROR(SameRecords<store::AgentRecord>(
      "agent", agents, agents_to, [](const auto& r) { return r.id; }));
  report.copied["agents"] = agents.size();
  ASSIGN_OR_RETURN(auto tokens_to, to.ListTokens());
  RETURN_IF_ERROR(SameRecords<store::TokenRecord>(
      "token", tokens, tokens_to, [](const auto& r) { return r.id; }));
  report.copied["tokens"] = tokens.size();
  ASSIGN_OR_RETURN(auto targets_to, to.ListAllTargetStates());
  RETURN_IF_ERROR(SameRecords<store::TargetStateRecord>(
      "target state", targets, targets_to,
      [](const auto& r) { return absl::StrCat(r.agent_id, "/", r.target); }));
  report.copied["target states"] = targets.size();
  ASSIGN_OR_RETURN(auto rollouts_to, to.ListRollouts({}));
  RETURN_IF_ERROR(SameRecords<store::RolloutRecord>(
      "rollout", rollouts, rollouts_to, [](const auto& r) { return r.id; }));
  report.copied["rollouts"] = rollouts.size();
  ASSIGN_OR_RETURN(auto audit_to, to.ListAudit({}));
  RETURN_IF_ERROR(SameRecords<store::AuditRecord>(
      "audit record", audit, audit_to,
      [](const auto& r) { return absl::StrFormat("%020d", r.id); }));
  report.copied["audit records"] = audit.size();
  return report;
}

}  // namespace certfleet::app
