// PrintTo for the store's record types (declared in store_contract_test.h),
// every field of each record's table (record_fields.h) in table order.
#include <cstdint>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "coordinator/store/record_fields.h"
#include "tests/store/store_contract_test.h"

namespace certfleet::store {
namespace {

std::string Quoted(const std::string& s) {
  return "\"" + absl::CHexEscape(s) + "\"";
}

std::string Shown(const std::string& v) { return Quoted(v); }
std::string Shown(int64_t v) { return std::to_string(v); }
std::string Shown(int v) { return std::to_string(v); }
std::string Shown(bool v) { return v ? "true" : "false"; }
std::string Shown(absl::Time v) {
  // Nanoseconds shown: stores must keep them.
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ", v, absl::UTCTimeZone());
}
std::string Shown(const std::vector<std::string>& v) {
  std::vector<std::string> quoted;
  for (const std::string& s : v) quoted.push_back(Quoted(s));
  return "[" + absl::StrJoin(quoted, ", ") + "]";
}
std::string Shown(const std::map<std::string, std::string>& v) {
  std::vector<std::string> pairs;
  for (const auto& [k, value] : v) {
    pairs.push_back(Quoted(k) + ": " + Quoted(value));
  }
  return "{" + absl::StrJoin(pairs, ", ") + "}";
}
std::string Shown(const std::vector<DnsRecordRef>& v) {
  std::vector<std::string> records;
  for (const DnsRecordRef& d : v) {
    std::ostringstream one;
    PrintTo(d, &one);
    records.push_back(one.str());
  }
  return "[" + absl::StrJoin(records, ", ") + "]";
}
template <typename Enum>
requires std::is_enum_v<Enum> std::string Shown(Enum v) {
  return std::string(EnumText<Enum>::Name(v));
}

// {name=value, …} for every field of the record's table.
template <typename Record>
void PrintFields(const Record& r, std::ostream* os) {
  *os << "{";
  bool first = true;
  ForEachField<Record>([&](const auto& field) {
    *os << (first ? "" : ", ") << field.name << "=" << Shown(r.*field.member);
    first = false;
  });
  *os << "}";
}

}  // namespace

void PrintTo(const AccountRecord& r, std::ostream* os) { PrintFields(r, os); }
void PrintTo(const CertificateState& r, std::ostream* os) {
  PrintFields(r, os);
}
void PrintTo(const VersionRecord& r, std::ostream* os) { PrintFields(r, os); }
void PrintTo(const DnsRecordRef& r, std::ostream* os) { PrintFields(r, os); }
void PrintTo(const OrderRecord& r, std::ostream* os) { PrintFields(r, os); }
void PrintTo(const AgentRecord& r, std::ostream* os) { PrintFields(r, os); }
void PrintTo(const TokenRecord& r, std::ostream* os) { PrintFields(r, os); }
void PrintTo(const InternalCaRecord& r, std::ostream* os) {
  PrintFields(r, os);
}
void PrintTo(const TargetStateRecord& r, std::ostream* os) {
  PrintFields(r, os);
}
void PrintTo(const RolloutRecord& r, std::ostream* os) { PrintFields(r, os); }
void PrintTo(const AuditRecord& r, std::ostream* os) { PrintFields(r, os); }

}  // namespace certfleet::store
