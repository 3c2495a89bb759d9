// The coordinator's persistent state, behind one interface with two backends:
// SQLite (one coordinator; sqlite_store.h) and etcd (HA, later).
//
// Contract, honoured by every backend and by test fakes:
// - Safe for concurrent use from many threads.
// - Every method is atomic: it is applied completely or not at all.
// - Versions are immutable once added. Only DeleteVersion removes one, and
//   never a certificate's newest, so version numbers are never reused.
// - AddVersion stores the version and removes the certificate's in-flight
//   order in one transaction, so after a crash there is either the order
//   (resume it) or the version (done), never neither.
// - Times round-trip at nanosecond precision, absl::InfinitePast() and
//   absl::InfiniteFuture() included; byte strings (key_sealed) round-trip
//   exactly, NUL bytes included.
// - The list and map fields (names, contacts, dns_records, labels) must be
//   valid UTF-8; a write carrying anything else fails with kInvalidArgument
//   naming the field.
// - ConsumeToken is a compare-and-set: of two coordinators redeeming the same
//   bootstrap token at once, exactly one succeeds.
// - UpdateAgent is an atomic read-modify-write of one agent record: of two
//   writers changing the same agent at once (two identity renewals, a
//   renewal and a disable), neither loses the other's change — each mutation
//   sees the record as the other left it, so a compare inside it (the
//   identity serial the caller expects, the agent still active) decides.
//   PutAgent replaces the whole record and is for new agents only.
// - An agent record is never deleted: a removed agent keeps its record
//   (status kRemoved) for the audit trail.
// - The internal CA is written once (CreateInternalCaIfAbsent) and never
//   replaced by the store.
// - Private keys arrive already sealed (AES-256-GCM, crypto/kek.h); the store
//   never sees plaintext keys.
// - At most one unfinished rollout per certificate; a finished rollout never
//   changes again. SaveRollout is a compare-and-set on the rollout's
//   revision, so of two coordinators saving the same revision exactly one
//   succeeds (the other gets kAborted and must re-read).
// - The audit log is append-only: records are never changed or removed by
//   the store.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Store> store, SqliteStore::Open(path));
//   ASSIGN_OR_RETURN(std::optional<OrderRecord> order, store->GetOrder("web"));
#ifndef CERTFLEET_COORDINATOR_STORE_STORE_H_
#define CERTFLEET_COORDINATOR_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certfleet::store {

// An ACME account, one per configured issuer.
struct AccountRecord {
  std::string issuer;         // the issuer's name in the config (key)
  std::string directory_url;  // the account belongs to this directory
  std::string account_url;    // the "kid" (RFC 8555 §7.3)
  std::string key_type;       // "ec256", "ec384", "rsa2048", …
  std::string key_sealed;     // account private key, PEM, sealed with the KEK
  std::vector<std::string> contacts;
  std::string status;  // "valid", "deactivated"
  absl::Time created_at = absl::UnixEpoch();
  absl::Time updated_at = absl::UnixEpoch();

  bool operator==(const AccountRecord&) const = default;
};

// Scheduling state of one configured certificate.
struct CertificateState {
  std::string name;  // the certificate's name in the config (key)
  // No attempt before this time: set from Retry-After (rate limits, 503) and
  // from failure backoff, so a restart keeps honouring it.
  absl::Time next_attempt_at = absl::InfinitePast();
  // When the current version should be renewed (ARI or lifetime fraction,
  // with jitter); chosen once per version so restarts don't re-roll it.
  absl::Time renew_at = absl::InfiniteFuture();
  int consecutive_failures = 0;
  std::string last_error;
  absl::Time last_attempt_at = absl::InfinitePast();
  absl::Time updated_at = absl::UnixEpoch();
  // The issuer's client-side order limit (acme::DescribeOrderLimit) that set
  // next_attempt_at, "" when the CA or backoff did. A wait imposed by a
  // limit the configuration no longer has is lifted.
  std::string limited_by;

  bool operator==(const CertificateState&) const = default;
};

// One issuance of a certificate. Immutable.
struct VersionRecord {
  std::string cert_name;
  int64_t version = 0;  // 1, 2, 3… per certificate; assigned by AddVersion
  std::string issuer;
  std::vector<std::string> names;
  std::string key_type;
  std::string serial_hex;  // lower-case hex, no separators
  absl::Time not_before = absl::UnixEpoch();
  absl::Time not_after = absl::UnixEpoch();
  std::string leaf_pem;
  std::string chain_pem;  // the intermediates, leaf's issuer first
  std::string key_sealed;
  std::string order_url;
  std::string ari_cert_id;  // RFC 9773 §4.1 certificate identifier
  absl::Time created_at = absl::UnixEpoch();
  // absl::InfinitePast() when not revoked.
  absl::Time revoked_at = absl::InfinitePast();
  std::string revocation_reason;

  bool operator==(const VersionRecord&) const = default;
};

// A DNS-01 record that is (or may be) present in DNS, remembered so a
// restarted coordinator can clean it up.
struct DnsRecordRef {
  std::string provider;  // DNS provider name in the config
  std::string zone;      // absolute, trailing dot
  std::string fqdn;      // absolute, trailing dot
  std::string value;

  bool operator==(const DnsRecordRef&) const = default;
};

// The in-flight ACME order of a certificate. At most one per certificate.
struct OrderRecord {
  std::string cert_name;  // key
  std::string issuer;
  // Persisted before anything else is done with the order, so a restart
  // resumes it instead of placing a second one.
  std::string order_url;
  // Fingerprint of the spec the order was placed for (names, key type,
  // issuer). An order for a spec that has since changed is abandoned.
  std::string spec_fingerprint;
  std::vector<std::string> names;
  std::string key_type;
  // The certificate key, sealed, stored before finalize is sent: if the
  // coordinator dies after finalize, the issued certificate still has its key.
  std::string key_sealed;
  // Free-form progress marker for operators ("placed", "presented",
  // "answered", "finalized").
  std::string stage;
  // Records presented (or about to be) for this order.
  std::vector<DnsRecordRef> dns_records;
  // RFC 9773 §5: the ARI identifier of the version this order replaces.
  std::string replaces;
  absl::Time created_at = absl::UnixEpoch();
  absl::Time updated_at = absl::UnixEpoch();
  // The challenge URLs this order answered (recorded just before each
  // answer is sent) and when it last answered: a resumed order never
  // answers one again while the CA may still be validating it, which would
  // queue a second validation that fails once the record is gone.
  std::vector<std::string> answered_challenges;
  absl::Time answered_at = absl::InfinitePast();

  bool operator==(const OrderRecord&) const = default;
};

// Whether an agent may connect (coordinator/identity/enrollment.h, the admin
// API's DisableAgent/EnableAgent/RemoveAgent).
enum class AgentStatus {
  kActive,    // its current identity is accepted
  kDisabled,  // refused until enabled again: no stream, no renewal
  kRemoved,   // refused for good; the record stays for the audit trail
};

// "active", "disabled", "removed".
inline absl::string_view AgentStatusName(AgentStatus status) {
  switch (status) {
    case AgentStatus::kActive:
      return "active";
    case AgentStatus::kDisabled:
      return "disabled";
    case AgentStatus::kRemoved:
      return "removed";
  }
  return "?";
}

// The status named `name`; "" (a record written before statuses existed)
// is kActive. nullopt for anything else.
inline std::optional<AgentStatus> ParseAgentStatus(absl::string_view name) {
  if (name.empty() || name == "active") return AgentStatus::kActive;
  if (name == "disabled") return AgentStatus::kDisabled;
  if (name == "removed") return AgentStatus::kRemoved;
  return std::nullopt;
}

// An enrolled agent (coordinator/identity/enrollment.h).
struct AgentRecord {
  std::string id;  // "agt-" + 12 hex (key)
  std::string hostname;
  // The labels granted by its bootstrap token; assignments select on them.
  std::map<std::string, std::string> labels;
  absl::Time enrolled_at = absl::UnixEpoch();
  // When a stream of the agent last opened or ended, or it last renewed or
  // re-enrolled: how stale it is (agents.stale_after).
  absl::Time last_seen_at = absl::UnixEpoch();
  // The current identity certificate (lower-case hex serial): the only one
  // accepted. A renewal or a re-enrollment replaces it (UpdateAgent), and
  // every earlier certificate of the agent is refused from then on.
  std::string identity_serial;
  absl::Time identity_not_after = absl::UnixEpoch();
  // The bootstrap token it last enrolled (or re-enrolled) with.
  std::string token_id;
  AgentStatus status = AgentStatus::kActive;
  // When and by whom the status last changed ("admin:alice");
  // InfinitePast and "" while it never did.
  absl::Time status_changed_at = absl::InfinitePast();
  std::string status_changed_by;

  bool operator==(const AgentRecord&) const = default;
};

// A single-use bootstrap token (coordinator/identity/tokens.h). Only a hash of
// the secret is stored: a copy of the database does not enroll agents.
struct TokenRecord {
  std::string id;           // 16 hex (key)
  std::string secret_hash;  // SHA-256 of the secret, 32 raw bytes
  std::map<std::string, std::string> labels;
  absl::Time created_at = absl::UnixEpoch();
  absl::Time expires_at = absl::UnixEpoch();
  // absl::InfinitePast() while unused.
  absl::Time used_at = absl::InfinitePast();
  std::string used_by;  // agent id
  std::string description;
  // "" for a new agent; else the id of the existing agent this token
  // re-enrolls (a host whose identity expired keeps its id, labels and
  // history). `labels` then repeat that agent's labels when the token was
  // made.
  std::string for_agent;

  bool operator==(const TokenRecord&) const = default;
};

// The coordinator's internal CA, which signs agent identities and the
// coordinator's own serving certificate. One per store.
struct InternalCaRecord {
  std::string cert_pem;
  std::string key_sealed;  // PEM, sealed with the KEK
  absl::Time created_at = absl::UnixEpoch();

  bool operator==(const InternalCaRecord&) const = default;
};

// What one target of one agent should serve and what it reports serving.
struct TargetStateRecord {
  std::string agent_id;     // key, with target
  std::string target;       // target name in the agent's own configuration
  std::string certificate;  // certificate name in the coordinator's config
  std::string desired_version_id;    // "<certificate>/<n>"; "" = none yet
  std::string installed_version_id;  // as the agent last reported
  std::string serial;                // of the installed certificate
  absl::Time not_after = absl::UnixEpoch();
  bool healthy = false;
  std::string detail;      // last health detail
  std::string last_error;  // last failed delivery, "" after a success
  // The version that delivery concerned ("<certificate>/<n>"), so a rollout
  // can tell a failure of its own version from an older one; "" with
  // last_error.
  std::string last_error_version_id;
  absl::Time updated_at = absl::UnixEpoch();

  bool operator==(const TargetStateRecord&) const = default;
};

// One rollout (or rollback) of a certificate to a version
// (coordinator/rollout/controller.h). The controller's whole state is the
// JSON blob; the other fields repeat what status listings need without
// parsing it.
struct RolloutRecord {
  // Key, chosen by the caller: "ro-" + 12 hex of crypto::RandomBytes(6), as
  // enrollment names agents. The store only requires it to be non-empty
  // and unused.
  std::string id;
  std::string certificate;   // certificate name in the config
  std::string kind;          // "rollout" or "rollback" (RolloutKindName)
  std::string from_version;  // "<certificate>/<n>"; "" = nothing served before
  std::string to_version;    // "<certificate>/<n>"
  std::string phase;         // rollout::PhaseName of the state
  absl::Time created_at = absl::UnixEpoch();
  absl::Time updated_at = absl::UnixEpoch();
  // Complete, rolled back or aborted (rollout::IsFinished): the rollout no
  // longer counts as the certificate's active one and never changes again.
  bool finished = false;
  std::string state_json;  // rollout::RolloutStateToJson
  // Assigned by the store: 1 at CreateRollout, +1 at every SaveRollout. The
  // revision a caller last read is the one it passes to SaveRollout.
  int64_t revision = 0;

  bool operator==(const RolloutRecord&) const = default;
};

// Which rollouts ListRollouts returns.
struct RolloutFilter {
  std::string certificate;       // "" = every certificate
  bool unfinished_only = false;  // only active rollouts (to resume them)
  int limit = 0;                 // at most this many; 0 = no limit
};

// One administrative action, who took it and how it ended. Append-only.
struct AuditRecord {
  // Assigned by AppendAudit: increasing in append order, never reused.
  int64_t id = 0;
  absl::Time at = absl::UnixEpoch();
  std::string actor;        // "admin:alice", "coordinator", "scheduler"
  std::string action;       // "rollout.pause", "token.create", …
  std::string certificate;  // "" when the action concerns none
  std::string detail;       // free text: arguments, versions, reasons
  std::string result;       // "ok", or the error the action ended with

  bool operator==(const AuditRecord&) const = default;
};

// An agent seen at `at` (RecordLastSeen).
struct LastSeen {
  std::string agent_id;
  absl::Time at = absl::UnixEpoch();
};

// Which audit records ListAudit returns.
struct AuditFilter {
  absl::Time since = absl::InfinitePast();  // records at or after this time
  std::string certificate;                  // "" = every record
  int limit = 0;                            // at most this many; 0 = no limit
};

class Store {
 public:
  virtual ~Store() = default;

  // --- Accounts ---
  virtual absl::StatusOr<std::optional<AccountRecord>> GetAccount(
      const std::string& issuer) = 0;
  // Insert or replace.
  virtual absl::Status PutAccount(const AccountRecord& account) = 0;
  // Sorted by issuer (for migrations and backups).
  virtual absl::StatusOr<std::vector<AccountRecord>> ListAccounts() = 0;

  // --- Certificate scheduling state ---
  virtual absl::StatusOr<std::optional<CertificateState>> GetCertificateState(
      const std::string& name) = 0;
  // Insert or replace.
  virtual absl::Status PutCertificateState(const CertificateState& state) = 0;
  // Sorted by name.
  virtual absl::StatusOr<std::vector<CertificateState>>
  ListCertificateStates() = 0;

  // --- Versions ---
  // Assigns the next version number of `v.cert_name` (max + 1, starting at
  // 1), stores it, and deletes the certificate's in-flight order, all in one
  // transaction. Returns the assigned number; `v.version` is ignored.
  virtual absl::StatusOr<int64_t> AddVersion(const VersionRecord& v) = 0;
  virtual absl::StatusOr<std::optional<VersionRecord>> GetVersion(
      const std::string& cert_name, int64_t version) = 0;
  virtual absl::StatusOr<std::optional<VersionRecord>> LatestVersion(
      const std::string& cert_name) = 0;
  // Newest first.
  virtual absl::StatusOr<std::vector<VersionRecord>> ListVersions(
      const std::string& cert_name) = 0;
  // The certificates that have at least one version, sorted (configured or
  // not: a certificate's newest version is never deleted).
  virtual absl::StatusOr<std::vector<std::string>>
  ListVersionedCertificates() = 0;
  // The only change a version ever sees. kNotFound when it does not exist.
  virtual absl::Status MarkVersionRevoked(const std::string& cert_name,
                                          int64_t version, absl::Time when,
                                          const std::string& reason) = 0;
  // Removes one version, for retention (coordinator/retention). kNotFound
  // when it does not exist; kFailedPrecondition when it is the
  // certificate's newest, which is never deleted (the next AddVersion
  // numbers after it, so a number is never given twice).
  virtual absl::Status DeleteVersion(const std::string& cert_name,
                                     int64_t version) = 0;

  // --- In-flight orders ---
  virtual absl::StatusOr<std::optional<OrderRecord>> GetOrder(
      const std::string& cert_name) = 0;
  // Insert or replace.
  virtual absl::Status PutOrder(const OrderRecord& order) = 0;
  // Deleting a missing order is not an error.
  virtual absl::Status DeleteOrder(const std::string& cert_name) = 0;
  // Sorted by cert_name.
  virtual absl::StatusOr<std::vector<OrderRecord>> ListOrders() = 0;

  // --- Agents ---
  // Insert or replace: for a new agent (enrollment). Changes to an existing
  // agent go through UpdateAgent, or they could undo a concurrent one.
  virtual absl::Status PutAgent(const AgentRecord& agent) = 0;
  // Atomically reads agent `id`, applies `mutate` to it and stores the
  // result; returns the record as stored. When `mutate` returns an error,
  // nothing is written and that error is returned as it is (a compare that
  // failed: kFailedPrecondition, kPermissionDenied, ...). `mutate` may run
  // more than once (a backend that lost a race re-reads and retries), must
  // depend only on the record it is given, and must not call the store.
  // kNotFound "store: update agent <id>: no such agent"; kInvalidArgument
  // when `mutate` changed the id or the labels are not UTF-8; kAborted when
  // other writers kept winning.
  virtual absl::StatusOr<AgentRecord> UpdateAgent(
      const std::string& id,
      const std::function<absl::Status(AgentRecord&)>& mutate) = 0;
  virtual absl::StatusOr<std::optional<AgentRecord>> GetAgent(
      const std::string& id) = 0;
  // Sorted by id.
  virtual absl::StatusOr<std::vector<AgentRecord>> ListAgents() = 0;

  // --- Bootstrap tokens ---
  // Insert or replace.
  virtual absl::Status PutToken(const TokenRecord& token) = 0;
  virtual absl::StatusOr<std::optional<TokenRecord>> GetToken(
      const std::string& id) = 0;
  // Sorted by id.
  virtual absl::StatusOr<std::vector<TokenRecord>> ListTokens() = 0;
  // Atomically marks the token used by `agent_id` at `now`, only if it is
  // unused. kFailedPrecondition "token <id> was already used by <agent> at
  // <time>" when it was; kNotFound when there is no such token. Expiry is the
  // caller's business.
  virtual absl::Status ConsumeToken(const std::string& id,
                                    const std::string& agent_id,
                                    absl::Time now) = 0;

  // --- Internal CA ---
  virtual absl::StatusOr<std::optional<InternalCaRecord>> GetInternalCa() = 0;
  // Stores `ca` unless a CA is already stored, and returns the one stored
  // afterwards: `ca`, or the existing one when another process got there
  // first (the caller must then use that one).
  virtual absl::StatusOr<InternalCaRecord> CreateInternalCaIfAbsent(
      const InternalCaRecord& ca) = 0;

  // --- Target states ---
  // Insert or replace (key: agent_id, target) what the agent reported — every
  // field but desired_version_id, which keeps its stored value ("" for a new
  // record): only PutDesiredVersion changes it.
  virtual absl::Status PutTargetState(const TargetStateRecord& state) = 0;
  // What `target` of `agent_id` should serve from now on: `version_id`
  // ("<certificate>/<n>"), or "" to forget it. Creates the target's record
  // (with `certificate`, nothing reported) when absent. Kept apart from the
  // agent's reports because it is a decision, not a fact: on etcd, setting
  // a version is a leader-only write (fenced: a deposed leader's delivery is
  // refused before it reaches an agent), forgetting one is not (an
  // operator's relabel through any replica).
  virtual absl::Status PutDesiredVersion(const std::string& agent_id,
                                         const std::string& target,
                                         const std::string& certificate,
                                         const std::string& version_id) = 0;
  // The agent's targets, sorted by target.
  virtual absl::StatusOr<std::vector<TargetStateRecord>> ListTargetStates(
      const std::string& agent_id) = 0;
  // Every agent's, sorted by agent_id, then target.
  virtual absl::StatusOr<std::vector<TargetStateRecord>>
  ListAllTargetStates() = 0;

  // --- Batches: many writes in one call, for the agent hub's writes
  // behind (agentapi/hub_writer.h) ---
  // Each returns one status per item, in order: what the single call would
  // have returned. An item's status may be its batch's (a transaction that
  // failed as a whole). The defaults (store.cc) make one call per item; a
  // backend with transactions writes a batch in one, or a few (etcd: 128
  // operations at most per transaction), so a store whose cost is per call
  // (a round trip, an fsync) costs about that much per batch.

  // Each of `states` as PutTargetState.
  virtual std::vector<absl::Status> PutTargetStates(
      const std::vector<TargetStateRecord>& states);
  // Each as PutDesiredVersion(d.agent_id, d.target, d.certificate,
  // d.desired_version_id); the records' other fields are ignored. On etcd,
  // every version set is fenced: refused together when not the leader.
  virtual std::vector<absl::Status> PutDesiredVersions(
      const std::vector<TargetStateRecord>& desired);
  // Each agent's last_seen_at moved forward to `at` (never backwards:
  // another replica may have seen it later), atomically per agent as
  // UpdateAgent. kNotFound "store: update agent <id>: no such agent".
  virtual std::vector<absl::Status> RecordLastSeen(
      const std::vector<LastSeen>& seen);

  // --- Rollouts ---
  // Stores a new rollout with revision 1 and returns it as stored
  // (`rollout.revision` is ignored). kInvalidArgument when the id or the
  // certificate is empty or the kind is neither "rollout" nor "rollback";
  // kAlreadyExists when the id is taken; kFailedPrecondition "certificate
  // <c> already has an unfinished rollout <id> (<phase>)" when `rollout` is
  // unfinished and the certificate has an unfinished one.
  virtual absl::StatusOr<RolloutRecord> CreateRollout(
      const RolloutRecord& rollout) = 0;
  // Writes phase, updated_at, finished and state_json of `rollout.id` if its
  // stored revision is still `rollout.revision`, and returns the new
  // revision (the other fields never change and are ignored). kNotFound
  // when there is no such rollout; kAborted when the revision differs
  // (someone else saved it since it was read: re-read, re-apply, retry);
  // kFailedPrecondition when it is finished.
  virtual absl::StatusOr<int64_t> SaveRollout(const RolloutRecord& rollout) = 0;
  virtual absl::StatusOr<std::optional<RolloutRecord>> GetRollout(
      const std::string& id) = 0;
  // The certificate's unfinished rollout, if any.
  virtual absl::StatusOr<std::optional<RolloutRecord>> ActiveRollout(
      const std::string& certificate) = 0;
  // Newest first: by created_at, then by creation order.
  // kInvalidArgument when the limit is negative.
  virtual absl::StatusOr<std::vector<RolloutRecord>> ListRollouts(
      const RolloutFilter& filter) = 0;

  // --- Audit log ---
  // Appends `record` and returns its id (`record.id` is ignored).
  // kInvalidArgument when the actor, the action or the result is empty.
  virtual absl::StatusOr<int64_t> AppendAudit(const AuditRecord& record) = 0;
  // Newest first: by `at`, then by id. kInvalidArgument when the limit is
  // negative.
  virtual absl::StatusOr<std::vector<AuditRecord>> ListAudit(
      const AuditFilter& filter) = 0;
};

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_STORE_H_
