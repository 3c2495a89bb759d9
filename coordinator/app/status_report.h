// What the coordinator holds, per configured certificate, read from the
// store: for `certfleet-coordinator status` and the end of `serve --once`.
#ifndef CERTFLEET_COORDINATOR_APP_STATUS_REPORT_H_
#define CERTFLEET_COORDINATOR_APP_STATUS_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coordinator/config/config.h"
#include "coordinator/store/store.h"

namespace certfleet::app {

struct CertificateStatus {
  std::string name;
  std::vector<std::string> names;
  std::string issuer;
  int64_t version = 0;  // 0: none issued yet
  std::string key_type;
  std::string serial_hex;
  absl::Time not_after = absl::InfinitePast();
  absl::Time renew_at = absl::InfiniteFuture();
  absl::Time next_attempt_at = absl::InfinitePast();
  int consecutive_failures = 0;
  std::string last_error;
  std::string order_url;  // in flight, if any
};

absl::StatusOr<std::vector<CertificateStatus>> CollectStatus(
    const config::CoordinatorConfig& config, store::Store& store);

// A table for people, ending with where the versions are stored.
std::string FormatStatusTable(const std::vector<CertificateStatus>& rows,
                              const std::string& store_path, absl::Time now);
// One JSON document for scripts.
std::string FormatStatusJson(const std::vector<CertificateStatus>& rows,
                             const std::string& store_path);

}  // namespace certfleet::app

#endif  // CERTFLEET_COORDINATOR_APP_STATUS_REPORT_H_
