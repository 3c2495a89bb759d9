// The coordinator's persistent state, behind one interface with two backends:
// SQLite (one coordinator; sqlite_store.h) and etcd (HA, later).
//
// Contract, honoured by every backend and by test fakes:
// - Safe for concurrent use from many threads.
// - Every method is atomic: it is applied completely or not at all.
// - Versions are immutable once added; they are never deleted by the store.
// - AddVersion stores the version and removes the certificate's in-flight
//   order in one transaction, so after a crash there is either the order
//   (resume it) or the version (done), never neither.
// - Times round-trip at nanosecond precision, absl::InfinitePast() and
//   absl::InfiniteFuture() included; byte strings (key_sealed) round-trip
//   exactly, NUL bytes included.
// - The list fields (names, contacts, dns_records) must be valid UTF-8; a
//   write carrying anything else fails with kInvalidArgument naming the field.
// - Private keys arrive already sealed (AES-256-GCM, crypto/kek.h); the store
//   never sees plaintext keys.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Store> store, SqliteStore::Open(path));
//   ASSIGN_OR_RETURN(std::optional<OrderRecord> order, store->GetOrder("web"));
#ifndef CERTFLEET_COORDINATOR_STORE_STORE_H_
#define CERTFLEET_COORDINATOR_STORE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

  bool operator==(const OrderRecord&) const = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- Accounts ---
  virtual absl::StatusOr<std::optional<AccountRecord>> GetAccount(
      const std::string& issuer) = 0;
  // Insert or replace.
  virtual absl::Status PutAccount(const AccountRecord& account) = 0;

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
  // The only change a version ever sees. kNotFound when it does not exist.
  virtual absl::Status MarkVersionRevoked(const std::string& cert_name,
                                          int64_t version, absl::Time when,
                                          const std::string& reason) = 0;

  // --- In-flight orders ---
  virtual absl::StatusOr<std::optional<OrderRecord>> GetOrder(
      const std::string& cert_name) = 0;
  // Insert or replace.
  virtual absl::Status PutOrder(const OrderRecord& order) = 0;
  // Deleting a missing order is not an error.
  virtual absl::Status DeleteOrder(const std::string& cert_name) = 0;
  // Sorted by cert_name.
  virtual absl::StatusOr<std::vector<OrderRecord>> ListOrders() = 0;
};

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_STORE_H_
