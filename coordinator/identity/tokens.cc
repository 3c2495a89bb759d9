#include "coordinator/identity/tokens.h"

#include <openssl/crypto.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/encoding.h"
#include "common/labels.h"
#include "common/log.h"
#include "common/rfc3339.h"
#include "common/status_macros.h"

namespace certfleet::identity {
namespace {

constexpr char kVersionPrefix[] = "cft1";
constexpr size_t kIdBytes = 8;  // 16 hex characters
constexpr size_t kSecretBytes = 32;

absl::Status Malformed(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "malformed bootstrap token (expected cft1.<id>.<secret>): ", why));
}

absl::Status Unknown() {
  return absl::PermissionDeniedError("unknown bootstrap token");
}

absl::Status AlreadyUsed(const std::string& id) {
  return absl::PermissionDeniedError(
      absl::StrCat("bootstrap token ", id, " was already used"));
}

}  // namespace

absl::StatusOr<BootstrapTokens::Parsed> BootstrapTokens::Parse(
    absl::string_view token) {
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) {
    return Malformed(
        absl::StrCat("it has ", parts.size(), " dot-separated parts, not 3"));
  }
  if (parts[0] != kVersionPrefix) return Malformed("it does not start cft1.");
  if (parts[1].size() != 2 * kIdBytes) {
    return Malformed("the id is not 16 hex characters");
  }
  for (char c : parts[1]) {
    if (!absl::ascii_isxdigit(c) || absl::ascii_isupper(c)) {
      return Malformed("the id is not 16 lower-case hex characters");
    }
  }
  absl::StatusOr<std::string> secret = crypto::Base64UrlDecode(parts[2]);
  if (!secret.ok() || secret->size() != kSecretBytes) {
    return Malformed("the secret is not base64url of 32 bytes");
  }
  return Parsed{.id = std::string(parts[1]), .secret = *std::move(secret)};
}

absl::StatusOr<std::string> BootstrapTokens::Create(
    const std::map<std::string, std::string>& labels, absl::Duration ttl,
    const std::string& description) {
  for (const auto& [key, value] : labels) {
    RETURN_IF_ERROR(labels::CheckLabel(key, value));
  }
  return Make(labels, ttl, description, "");
}

absl::StatusOr<std::string> BootstrapTokens::CreateForAgent(
    const std::string& agent_id, absl::Duration ttl,
    const std::string& description) {
  ASSIGN_OR_RETURN(std::optional<store::AgentRecord> agent,
                   store_.GetAgent(agent_id));
  if (!agent.has_value()) {
    return absl::NotFoundError(absl::StrCat("no agent ", agent_id));
  }
  if (agent->status == store::AgentStatus::kRemoved) {
    return absl::FailedPreconditionError(absl::StrCat(
        "agent ", agent_id, " was removed",
        agent->status_changed_by.empty()
            ? std::string()
            : absl::StrCat(" by ", agent->status_changed_by),
        " at ", FormatRfc3339(agent->status_changed_at),
        "; a removed agent is never re-enrolled (make a token for a new "
        "agent instead)"));
  }
  return Make(agent->labels, ttl, description, agent_id);
}

absl::StatusOr<std::string> BootstrapTokens::Make(
    const std::map<std::string, std::string>& labels, absl::Duration ttl,
    const std::string& description, const std::string& for_agent) {
  if (ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "token lifetime ", absl::FormatDuration(ttl), " is not positive"));
  }
  const std::string secret = crypto::RandomBytes(kSecretBytes);
  const absl::Time now = clock_.Now();
  const store::TokenRecord record{
      .id = crypto::HexEncode(crypto::RandomBytes(kIdBytes)),
      .secret_hash = crypto::Sha256(secret),
      .labels = labels,
      .created_at = now,
      .expires_at = now + ttl,
      .description = description,
      .for_agent = for_agent};
  RETURN_IF_ERROR(store_.PutToken(record));
  if (for_agent.empty()) {
    CF_LOG_INFO("bootstrap token %s created (labels %s, expires %s)", record.id,
                labels::FormatLabels(labels), FormatRfc3339(record.expires_at));
  } else {
    CF_LOG_INFO("bootstrap token %s created to re-enroll agent %s (expires %s)",
                record.id, for_agent, FormatRfc3339(record.expires_at));
  }
  return absl::StrCat(kVersionPrefix, ".", record.id, ".",
                      crypto::Base64UrlEncode(secret));
}

absl::StatusOr<store::TokenRecord> BootstrapTokens::Check(
    absl::string_view token) {
  ASSIGN_OR_RETURN(Parsed parsed, Parse(token));
  ASSIGN_OR_RETURN(std::optional<store::TokenRecord> record,
                   store_.GetToken(parsed.id));
  // The hash is compared in constant time, and an unknown id fails the same
  // way as a wrong secret: a caller learns nothing about which ids exist.
  const std::string hash = crypto::Sha256(parsed.secret);
  if (!record.has_value() || record->secret_hash.size() != hash.size() ||
      CRYPTO_memcmp(hash.data(), record->secret_hash.data(), hash.size()) !=
          0) {
    CF_LOG_WARN("bootstrap token %s refused: %s", parsed.id,
                record.has_value() ? "wrong secret" : "no such token");
    return Unknown();
  }
  const absl::Time now = clock_.Now();
  if (record->expires_at <= now) {
    CF_LOG_WARN("bootstrap token %s refused: expired at %s", parsed.id,
                FormatRfc3339(record->expires_at));
    return absl::PermissionDeniedError(
        absl::StrCat("bootstrap token ", parsed.id, " expired at ",
                     FormatRfc3339(record->expires_at)));
  }
  if (record->used_at != absl::InfinitePast()) {
    CF_LOG_WARN("bootstrap token %s refused: already used by %s at %s",
                parsed.id, record->used_by, FormatRfc3339(record->used_at));
    return AlreadyUsed(parsed.id);
  }
  return *std::move(record);
}

absl::StatusOr<store::TokenRecord> BootstrapTokens::Redeem(
    absl::string_view token, const std::string& agent_id) {
  ASSIGN_OR_RETURN(store::TokenRecord record, Check(token));
  const absl::Time now = clock_.Now();
  absl::Status consumed = store_.ConsumeToken(record.id, agent_id, now);
  if (absl::IsFailedPrecondition(consumed)) {
    // Another enrollment used it between Check and here.
    CF_LOG_WARN("bootstrap token %s refused: %s", record.id,
                consumed.message());
    return AlreadyUsed(record.id);
  }
  if (absl::IsNotFound(consumed)) return Unknown();
  RETURN_IF_ERROR(consumed);
  record.used_at = now;
  record.used_by = agent_id;
  return record;
}

}  // namespace certfleet::identity
