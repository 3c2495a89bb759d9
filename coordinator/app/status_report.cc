#include "coordinator/app/status_report.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/rfc3339.h"
#include "common/status_macros.h"

namespace certfleet::app {
namespace {

std::string Time(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return "-";
  return FormatRfc3339(t);
}

std::string State(const CertificateStatus& s, absl::Time now) {
  if (!s.order_url.empty()) return "order in flight";
  if (s.consecutive_failures > 0) {
    return absl::StrCat("failing (", s.consecutive_failures, "x), next try ",
                        Time(s.next_attempt_at));
  }
  if (s.version == 0) return "not issued yet";
  if (s.not_after <= now) return "EXPIRED";
  return absl::StrCat("ok, renews ", Time(s.renew_at));
}

}  // namespace

absl::StatusOr<std::vector<CertificateStatus>> CollectStatus(
    const config::CoordinatorConfig& config, store::Store& store) {
  std::vector<CertificateStatus> rows;
  for (const config::CertificateConfig& cert : config.certificates) {
    CertificateStatus row{
        .name = cert.name, .names = cert.names, .issuer = cert.issuer};
    ASSIGN_OR_RETURN(std::optional<store::VersionRecord> v,
                     store.LatestVersion(cert.name));
    if (v) {
      row.version = v->version;
      row.key_type = v->key_type;
      row.serial_hex = v->serial_hex;
      row.not_after = v->not_after;
      row.names = v->names;
    }
    ASSIGN_OR_RETURN(std::optional<store::CertificateState> st,
                     store.GetCertificateState(cert.name));
    if (st) {
      row.renew_at = st->renew_at;
      row.next_attempt_at = st->next_attempt_at;
      row.consecutive_failures = st->consecutive_failures;
      row.last_error = st->last_error;
    }
    ASSIGN_OR_RETURN(std::optional<store::OrderRecord> order,
                     store.GetOrder(cert.name));
    if (order) row.order_url = order->order_url;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string FormatStatusTable(const std::vector<CertificateStatus>& rows,
                              const std::string& store_path, absl::Time now) {
  std::vector<std::vector<std::string>> cells = {{"CERTIFICATE", "VERSION",
                                                  "NAMES", "KEY", "SERIAL",
                                                  "NOT AFTER", "STATE"}};
  for (const CertificateStatus& r : rows) {
    cells.push_back({r.name, r.version ? absl::StrCat(r.version) : "-",
                     absl::StrJoin(r.names, ","),
                     r.key_type.empty() ? "-" : r.key_type,
                     r.serial_hex.empty() ? "-" : r.serial_hex,
                     Time(r.not_after), State(r, now)});
  }
  std::vector<size_t> width(cells[0].size(), 0);
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&out, row[i],
                      i + 1 < row.size()
                          ? std::string(width[i] - row[i].size() + 2, ' ')
                          : "\n");
    }
  }
  for (const CertificateStatus& r : rows) {
    if (!r.last_error.empty()) {
      absl::StrAppend(&out, "\n", r.name, ": last error: ", r.last_error, "\n");
    }
  }
  absl::StrAppend(&out, "\nversions stored in ", store_path,
                  " (private keys sealed with AES-256-GCM)\n");
  return out;
}

std::string FormatStatusJson(const std::vector<CertificateStatus>& rows,
                             const std::string& store_path) {
  nlohmann::json certs = nlohmann::json::array();
  for (const CertificateStatus& r : rows) {
    certs.push_back({{"name", r.name},
                     {"names", r.names},
                     {"issuer", r.issuer},
                     {"version", r.version},
                     {"key_type", r.key_type},
                     {"serial", r.serial_hex},
                     {"not_after", Time(r.not_after)},
                     {"renew_at", Time(r.renew_at)},
                     {"next_attempt_at", Time(r.next_attempt_at)},
                     {"consecutive_failures", r.consecutive_failures},
                     {"last_error", r.last_error},
                     {"order_url", r.order_url}});
  }
  return nlohmann::json{{"store", store_path}, {"certificates", certs}}.dump(2);
}

}  // namespace certfleet::app
