// PrintTo for the store's record types (declared in store_contract_test.h).
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "tests/store/store_contract_test.h"

namespace certfleet::store {
namespace {

class Fields {
 public:
  explicit Fields(std::ostream* os) : os_(os) { *os_ << "{"; }
  ~Fields() { *os_ << "}"; }
  Fields& Str(const char* name, const std::string& value) {
    return Raw(name, "\"" + absl::CHexEscape(value) + "\"");
  }
  Fields& Time(const char* name, absl::Time value) {
    // Nanoseconds shown: stores must keep them.
    return Raw(name, absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ", value,
                                      absl::UTCTimeZone()));
  }
  Fields& List(const char* name, const std::vector<std::string>& values) {
    std::vector<std::string> quoted;
    for (const std::string& v : values) {
      quoted.push_back("\"" + absl::CHexEscape(v) + "\"");
    }
    return Raw(name, "[" + absl::StrJoin(quoted, ", ") + "]");
  }
  Fields& Map(const char* name,
              const std::map<std::string, std::string>& values) {
    std::vector<std::string> pairs;
    for (const auto& [k, v] : values) {
      pairs.push_back("\"" + absl::CHexEscape(k) + "\": \"" +
                      absl::CHexEscape(v) + "\"");
    }
    return Raw(name, "{" + absl::StrJoin(pairs, ", ") + "}");
  }
  Fields& Raw(const char* name, const std::string& value) {
    *os_ << (first_ ? "" : ", ") << name << "=" << value;
    first_ = false;
    return *this;
  }

 private:
  std::ostream* os_;
  bool first_ = true;
};

}  // namespace

void PrintTo(const AccountRecord& r, std::ostream* os) {
  Fields(os)
      .Str("issuer", r.issuer)
      .Str("directory_url", r.directory_url)
      .Str("account_url", r.account_url)
      .Str("key_type", r.key_type)
      .Str("key_sealed", r.key_sealed)
      .List("contacts", r.contacts)
      .Str("status", r.status)
      .Time("created_at", r.created_at)
      .Time("updated_at", r.updated_at);
}

void PrintTo(const CertificateState& r, std::ostream* os) {
  Fields(os)
      .Str("name", r.name)
      .Time("next_attempt_at", r.next_attempt_at)
      .Time("renew_at", r.renew_at)
      .Raw("consecutive_failures", std::to_string(r.consecutive_failures))
      .Str("last_error", r.last_error)
      .Time("last_attempt_at", r.last_attempt_at)
      .Time("updated_at", r.updated_at);
}

void PrintTo(const VersionRecord& r, std::ostream* os) {
  Fields(os)
      .Str("cert_name", r.cert_name)
      .Raw("version", std::to_string(r.version))
      .Str("issuer", r.issuer)
      .List("names", r.names)
      .Str("key_type", r.key_type)
      .Str("serial_hex", r.serial_hex)
      .Time("not_before", r.not_before)
      .Time("not_after", r.not_after)
      .Str("leaf_pem", r.leaf_pem)
      .Str("chain_pem", r.chain_pem)
      .Str("key_sealed", r.key_sealed)
      .Str("order_url", r.order_url)
      .Str("ari_cert_id", r.ari_cert_id)
      .Time("created_at", r.created_at)
      .Time("revoked_at", r.revoked_at)
      .Str("revocation_reason", r.revocation_reason);
}

void PrintTo(const DnsRecordRef& r, std::ostream* os) {
  Fields(os)
      .Str("provider", r.provider)
      .Str("zone", r.zone)
      .Str("fqdn", r.fqdn)
      .Str("value", r.value);
}

void PrintTo(const OrderRecord& r, std::ostream* os) {
  std::string records = "[";
  for (const DnsRecordRef& d : r.dns_records) {
    std::ostringstream one;
    PrintTo(d, &one);
    records += (records.size() > 1 ? ", " : "") + one.str();
  }
  records += "]";
  Fields(os)
      .Str("cert_name", r.cert_name)
      .Str("issuer", r.issuer)
      .Str("order_url", r.order_url)
      .Str("spec_fingerprint", r.spec_fingerprint)
      .List("names", r.names)
      .Str("key_type", r.key_type)
      .Str("key_sealed", r.key_sealed)
      .Str("stage", r.stage)
      .Raw("dns_records", records)
      .Str("replaces", r.replaces)
      .Time("created_at", r.created_at)
      .Time("updated_at", r.updated_at);
}

void PrintTo(const AgentRecord& r, std::ostream* os) {
  Fields(os)
      .Str("id", r.id)
      .Str("hostname", r.hostname)
      .Map("labels", r.labels)
      .Time("enrolled_at", r.enrolled_at)
      .Time("last_seen_at", r.last_seen_at)
      .Str("identity_serial", r.identity_serial)
      .Time("identity_not_after", r.identity_not_after)
      .Str("token_id", r.token_id)
      .Str("status", std::string(AgentStatusName(r.status)))
      .Time("status_changed_at", r.status_changed_at)
      .Str("status_changed_by", r.status_changed_by);
}

void PrintTo(const TokenRecord& r, std::ostream* os) {
  Fields(os)
      .Str("id", r.id)
      .Str("secret_hash", r.secret_hash)
      .Map("labels", r.labels)
      .Time("created_at", r.created_at)
      .Time("expires_at", r.expires_at)
      .Time("used_at", r.used_at)
      .Str("used_by", r.used_by)
      .Str("description", r.description)
      .Str("for_agent", r.for_agent);
}

void PrintTo(const InternalCaRecord& r, std::ostream* os) {
  Fields(os)
      .Str("cert_pem", r.cert_pem)
      .Str("key_sealed", r.key_sealed)
      .Time("created_at", r.created_at);
}

void PrintTo(const TargetStateRecord& r, std::ostream* os) {
  Fields(os)
      .Str("agent_id", r.agent_id)
      .Str("target", r.target)
      .Str("certificate", r.certificate)
      .Str("desired_version_id", r.desired_version_id)
      .Str("installed_version_id", r.installed_version_id)
      .Str("serial", r.serial)
      .Time("not_after", r.not_after)
      .Raw("healthy", r.healthy ? "true" : "false")
      .Str("detail", r.detail)
      .Str("last_error", r.last_error)
      .Str("last_error_version_id", r.last_error_version_id)
      .Time("updated_at", r.updated_at);
}

void PrintTo(const RolloutRecord& r, std::ostream* os) {
  Fields(os)
      .Str("id", r.id)
      .Str("certificate", r.certificate)
      .Str("kind", r.kind)
      .Str("from_version", r.from_version)
      .Str("to_version", r.to_version)
      .Str("phase", r.phase)
      .Time("created_at", r.created_at)
      .Time("updated_at", r.updated_at)
      .Raw("finished", r.finished ? "true" : "false")
      .Str("state_json", r.state_json)
      .Raw("revision", std::to_string(r.revision));
}

void PrintTo(const AuditRecord& r, std::ostream* os) {
  Fields(os)
      .Raw("id", std::to_string(r.id))
      .Time("at", r.at)
      .Str("actor", r.actor)
      .Str("action", r.action)
      .Str("certificate", r.certificate)
      .Str("detail", r.detail)
      .Str("result", r.result);
}

}  // namespace certfleet::store
