// JSON encoding of the list- and map-valued columns of the SQLite store
// (names, contacts, dns_records, labels), so an operator reading the database
// with the sqlite3 CLI sees ["a.example.","b.example."] rather than an opaque
// blob. nlohmann/json stays inside json_columns.cc.
//
//   ASSIGN_OR_RETURN(std::string names_json, EncodeStringList(v.names));
//   ASSIGN_OR_RETURN(v.names, DecodeStringList(run.ColumnText(3)));
#ifndef CERTFLEET_COORDINATOR_STORE_JSON_COLUMNS_H_
#define CERTFLEET_COORDINATOR_STORE_JSON_COLUMNS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "coordinator/store/store.h"

namespace certfleet::store {

// ["a","b"]. kInvalidArgument when a string is not valid UTF-8 (JSON cannot
// carry it).
absl::StatusOr<std::string> EncodeStringList(
    const std::vector<std::string>& list);
// kDataLoss when `json` is not an array of strings.
absl::StatusOr<std::vector<std::string>> DecodeStringList(
    absl::string_view json);

// [{"provider":…,"zone":…,"fqdn":…,"value":…}, …]. Same errors as above.
absl::StatusOr<std::string> EncodeDnsRecords(
    const std::vector<DnsRecordRef>& records);
absl::StatusOr<std::vector<DnsRecordRef>> DecodeDnsRecords(
    absl::string_view json);

// {"k":"v",…}, keys sorted. Same errors as above; decoding refuses anything
// but an object of strings.
absl::StatusOr<std::string> EncodeStringMap(
    const std::map<std::string, std::string>& map);
absl::StatusOr<std::map<std::string, std::string>> DecodeStringMap(
    absl::string_view json);

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_JSON_COLUMNS_H_
