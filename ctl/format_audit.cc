// certfleetctl's formatting of the audit log and of renewal requests.
#include "absl/strings/str_cat.h"
#include "ctl/ctl_format.h"
#include "ctl/format_util.h"

namespace certfleet::ctl {

using internal::OrDash;
using internal::TimeJson;
using internal::TimeText;

std::string FormatAudit(const v1::ListAuditResponse& audit, bool json) {
  if (json) {
    nlohmann::json events = nlohmann::json::array();
    for (const v1::AuditEvent& e : audit.events()) {
      events.push_back({{"id", e.id()},
                        {"at", TimeJson(e.at())},
                        {"actor", e.actor()},
                        {"action", e.action()},
                        {"certificate", e.certificate()},
                        {"result", e.result()},
                        {"detail", e.detail()}});
    }
    return nlohmann::json{{"events", events}, {"truncated", audit.truncated()}}
               .dump(2) +
           "\n";
  }
  if (audit.events().empty()) return "no audit records\n";
  std::vector<std::vector<std::string>> cells = {
      {"TIME", "ACTOR", "ACTION", "CERTIFICATE", "RESULT", "DETAIL"}};
  for (const v1::AuditEvent& e : audit.events()) {
    cells.push_back({TimeText(e.at()), e.actor(), e.action(),
                     OrDash(e.certificate()), e.result(), OrDash(e.detail())});
  }
  std::string out = AlignColumns(cells);
  if (audit.truncated()) {
    absl::StrAppend(&out,
                    "(older records not shown: narrow with --since or "
                    "--cert, or raise --limit)\n");
  }
  return out;
}

std::string FormatRenew(const v1::RenewCertificateResponse& renew, bool json) {
  if (json) {
    return nlohmann::json{
               {"certificate", renew.certificate()},
               {"current_version", renew.current_version()},
               {"requested_at", TimeJson(renew.requested_at())},
               {"order_in_flight", renew.order_in_flight()},
               {"previous_renew_at", TimeJson(renew.previous_renew_at())}}
               .dump(2) +
           "\n";
  }
  std::string what;
  if (renew.order_in_flight()) {
    what = "an order is already in flight: it is the renewal";
  } else if (renew.current_version() > 0) {
    what = absl::StrCat("a new version will replace ", renew.certificate(), "/",
                        renew.current_version());
  } else {
    what = "no version was issued yet: the first one is ordered";
  }
  const std::string name = TerminalSafe(renew.certificate());
  return absl::StrCat("renewal of ", name, " requested at ",
                      TimeText(renew.requested_at()), "; ", TerminalSafe(what),
                      "\nfollow it with: certfleetctl certs show ", name, "\n");
}

}  // namespace certfleet::ctl
