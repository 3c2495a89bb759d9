#include "coordinator/store/json_columns.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/store/record_fields.h"

namespace certfleet::store {
namespace {

using nlohmann::json;

absl::StatusOr<std::string> Dump(const json& value) {
  try {
    return value.dump();
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot encode as JSON: ", e.what()));
  }
}

absl::StatusOr<json> ParseArray(absl::string_view text) {
  json value = json::parse(text.begin(), text.end(), nullptr,
                           /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return absl::DataLossError(absl::StrCat("not valid JSON: ", text));
  }
  if (!value.is_array()) {
    return absl::DataLossError(absl::StrCat("not a JSON array: ", text));
  }
  return value;
}

}  // namespace

absl::StatusOr<std::string> EncodeStringList(
    const std::vector<std::string>& list) {
  return Dump(json(list));
}

absl::StatusOr<std::vector<std::string>> DecodeStringList(
    absl::string_view text) {
  absl::StatusOr<json> array = ParseArray(text);
  if (!array.ok()) return array.status();
  std::vector<std::string> out;
  out.reserve(array->size());
  for (const json& item : *array) {
    if (!item.is_string()) {
      return absl::DataLossError(
          absl::StrCat("not a JSON array of strings: ", text));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

absl::StatusOr<std::string> EncodeDnsRecords(
    const std::vector<DnsRecordRef>& records) {
  json array = json::array();
  for (const DnsRecordRef& r : records) {
    json object = json::object();
    ForEachField<DnsRecordRef>(
        [&](const auto& field) { object[field.name] = r.*field.member; });
    array.push_back(std::move(object));
  }
  return Dump(array);
}

absl::StatusOr<std::vector<DnsRecordRef>> DecodeDnsRecords(
    absl::string_view text) {
  absl::StatusOr<json> array = ParseArray(text);
  if (!array.ok()) return array.status();
  std::vector<DnsRecordRef> out;
  out.reserve(array->size());
  for (const json& item : *array) {
    DnsRecordRef record;
    RETURN_IF_ERROR(
        ForEachFieldUntilError<DnsRecordRef>([&](const auto& field) {
          auto it = item.is_object() ? item.find(field.name) : item.end();
          if (!item.is_object() || it == item.end() || !it->is_string()) {
            return absl::DataLossError(
                absl::StrCat("DNS record without string field \"", field.name,
                             "\": ", item.dump()));
          }
          record.*field.member = it->template get<std::string>();
          return absl::OkStatus();
        }));
    out.push_back(std::move(record));
  }
  return out;
}

absl::StatusOr<std::string> EncodeStringMap(
    const std::map<std::string, std::string>& map) {
  json object = json::object();
  for (const auto& [key, value] : map) object[key] = value;
  return Dump(object);
}

absl::StatusOr<std::map<std::string, std::string>> DecodeStringMap(
    absl::string_view text) {
  json value = json::parse(text.begin(), text.end(), nullptr,
                           /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) {
    return absl::DataLossError(absl::StrCat("not a JSON object: ", text));
  }
  std::map<std::string, std::string> out;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      return absl::DataLossError(
          absl::StrCat("not a JSON object of strings: ", text));
    }
    out.emplace(key, item.get<std::string>());
  }
  return out;
}

}  // namespace certfleet::store
