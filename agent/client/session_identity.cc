// AgentSession: renewing the agent's identity over its stream, and the
// checks an answer must pass before it replaces the identity on disk
// (declared in session.h).
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "agent/client/session.h"
#include "certfleet/v1/agent.grpc.pb.h"
#include "common/crypto/certificate.h"
#include "common/crypto/csr.h"
#include "common/crypto/verify.h"
#include "common/log.h"

namespace certfleet::agent {
namespace {

// Renew when two thirds of the identity's lifetime have passed.
absl::Time RenewAt(const Identity& id) {
  return id.not_before + (id.not_after - id.not_before) * 2 / 3;
}

// A renewal request with no answer is repeated after this long.
constexpr absl::Duration kRenewalRetry = absl::Minutes(1);

// Unanswered renewal requests whose keys are kept: an answer to a request
// repeated this many times over is still taken.
constexpr size_t kMaxPendingRenewals = 3;

}  // namespace

absl::Time AgentSession::NextIdentityCheck() const {
  if (!identity_ || !connected_) return absl::InfiniteFuture();
  if (!pending_renewals_.empty()) {
    return pending_renewals_.back().requested_at + kRenewalRetry;
  }
  return RenewAt(*identity_);
}

void AgentSession::MaybeRenewIdentity() {
  std::string hostname =
      options_.hostname.empty() ? "agent" : options_.hostname;
  {
    absl::MutexLock lock(&mu_);
    if (!identity_ || !connected_) return;
    if (clock_.Now() < RenewAt(*identity_)) return;
    // One request at a time; ask again if no answer came within a minute.
    if (!pending_renewals_.empty() &&
        clock_.Now() - pending_renewals_.back().requested_at < kRenewalRetry) {
      return;
    }
  }
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::PrivateKey::Generate(crypto::KeyType::kEc256);
  if (!key.ok()) return;
  absl::StatusOr<std::string> csr = crypto::BuildCsrDer(*key, {hostname});
  if (!csr.ok()) return;
  {
    absl::MutexLock lock(&mu_);
    pending_renewals_.push_back({*key, clock_.Now()});
    if (pending_renewals_.size() > kMaxPendingRenewals) {
      pending_renewals_.erase(pending_renewals_.begin());
    }
  }
  v1::AgentMessage msg;
  msg.mutable_renew_identity()->set_csr_der(*csr);
  Send(msg);
  CF_LOG_INFO("identity certificate due for renewal: asked the coordinator");
}

void AgentSession::RefuseIdentity(const std::string& address,
                                  const std::string& reason,
                                  const std::string& why) {
  CF_LOG_ERROR(
      "coordinator %s sent an identity certificate this agent refuses (%s): "
      "%s; the identity in %s is unchanged",
      address, reason, why, identities_.dir());
  if (observer_) observer_->OnIdentityRefused(address, reason);
}

void AgentSession::HandleIdentity(const std::string& address,
                                  const std::string& cert_pem,
                                  const std::string& ca_pem) {
  absl::StatusOr<crypto::Certificate> cert =
      crypto::Certificate::FromPem(cert_pem);
  if (!cert.ok()) {
    RefuseIdentity(address, "unparsable", std::string(cert.status().message()));
    return;
  }
  Identity next;
  std::vector<PendingRenewal> pending;
  {
    absl::MutexLock lock(&mu_);
    if (!identity_) return;
    next = *identity_;
    pending = pending_renewals_;
  }
  // The trust anchor stays the agent's own: a coordinator's CA changes by a
  // rotation the operator runs on the hosts (docs/agent.md), never by a
  // message on the stream.
  if (!ca_pem.empty() && !WithinTrustedCertificates(ca_pem, next.ca_pem)) {
    absl::StatusOr<crypto::Certificate> sent =
        crypto::Certificate::FromPem(ca_pem);
    absl::StatusOr<crypto::Certificate> trusted =
        crypto::Certificate::FromPem(next.ca_pem);
    RefuseIdentity(
        address, "ca_changed",
        absl::StrCat("it came with a coordinator CA (",
                     sent.ok() ? sent->SubjectDn() : "unparsable",
                     ") other than the one this agent trusts (",
                     trusted.ok() ? trusted->SubjectDn() : "unparsable",
                     "); a CA rotation is done on the hosts, not over the "
                     "stream"));
    return;
  }
  const PendingRenewal* answered = nullptr;
  for (const PendingRenewal& p : pending) {
    if (crypto::CheckKeyMatches(p.key, *cert).ok()) answered = &p;
  }
  if (answered == nullptr) {
    absl::StatusOr<crypto::PrivateKey> current =
        crypto::PrivateKey::FromPem(next.key_pem);
    if (current.ok() && crypto::CheckKeyMatches(*current, *cert).ok()) {
      // A late second answer to a request already answered: harmless.
      CF_LOG_WARN(
          "coordinator %s sent identity certificate serial %s for the key "
          "this agent already uses; ignored",
          address, cert->SerialHex());
      return;
    }
    RefuseIdentity(address, "not_requested",
                   absl::StrCat("certificate serial ", cert->SerialHex(),
                                " (subject ", cert->SubjectDn(),
                                ") is for a key of no renewal request "
                                "pending here (",
                                pending.size(), " pending)"));
    return;
  }
  if (absl::Status s = CheckIdentityChain(*cert, next.ca_pem, clock_.Now());
      !s.ok()) {
    RefuseIdentity(address, "untrusted", std::string(s.message()));
    return;
  }
  if (absl::Status s = CheckIdentityNames(*cert, next.agent_id); !s.ok()) {
    RefuseIdentity(address, "wrong_agent", std::string(s.message()));
    return;
  }
  absl::StatusOr<std::string> key_pem = answered->key.ToPem();
  if (!key_pem.ok()) {
    RefuseIdentity(address, "not_saved",
                   std::string(key_pem.status().message()));
    return;
  }
  next.key_pem = *key_pem;
  next.cert_pem = cert->ToPem();
  if (absl::Status s = identities_.Save(next); !s.ok()) {
    RefuseIdentity(address, "not_saved",
                   absl::StrCat("cannot store it: ", s.ToString()));
    return;
  }
  absl::StatusOr<Identity> saved = identities_.Load();
  absl::MutexLock lock(&mu_);
  pending_renewals_.clear();
  if (!saved.ok()) {
    CF_LOG_ERROR("renewed identity does not load: %s",
                 saved.status().ToString());
    return;
  }
  identity_ = *saved;
  CF_LOG_INFO(
      "identity renewed by coordinator %s: serial %s, valid until %s; "
      "reconnecting with it",
      address, cert->SerialHex(),
      absl::FormatTime(absl::RFC3339_sec, saved->not_after,
                       absl::UTCTimeZone()));
  // The channel keeps its old credentials: reconnect to use the new ones.
  if (context_ != nullptr) context_->TryCancel();
}

}  // namespace certfleet::agent
