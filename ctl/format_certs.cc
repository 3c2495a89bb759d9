// certfleetctl's formatting of certificates and their versions.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/proto_time.h"
#include "ctl/ctl_format.h"
#include "ctl/format_util.h"

namespace certfleet::ctl {
namespace {

using internal::OrDash;
using internal::TimeJson;
using internal::TimeText;

std::string Names(const google::protobuf::RepeatedPtrField<std::string>& n) {
  return n.empty() ? "-" : absl::StrJoin(n, ",");
}

nlohmann::json SummaryJson(const v1::CertificateSummary& c, absl::Time now) {
  return {
      {"name", c.name()},
      {"names", std::vector<std::string>(c.names().begin(), c.names().end())},
      {"issuer", c.issuer()},
      {"configured", c.configured()},
      {"not_configured_on", c.not_configured_on()},
      {"latest_version", c.latest_version()},
      {"serial", c.serial()},
      {"key_type", c.key_type()},
      {"not_after", TimeJson(c.not_after())},
      {"renew_at", TimeJson(c.renew_at())},
      {"consecutive_failures", c.consecutive_failures()},
      {"last_error", c.last_error()},
      {"next_attempt_at", TimeJson(c.next_attempt_at())},
      {"order_in_flight", c.order_in_flight()},
      {"renewal_requested", c.renewal_requested()},
      {"state", CertificateState(c, now)}};
}

nlohmann::json VersionJson(const v1::CertificateVersion& v) {
  return {
      {"version", v.version()},
      {"serial", v.serial()},
      {"not_before", TimeJson(v.not_before())},
      {"not_after", TimeJson(v.not_after())},
      {"revoked", v.revoked()},
      {"revoked_at", TimeJson(v.revoked_at())},
      {"revocation_reason", v.revocation_reason()},
      {"key_type", v.key_type()},
      {"names", std::vector<std::string>(v.names().begin(), v.names().end())},
      {"issuer", v.issuer()},
      {"created_at", TimeJson(v.created_at())}};
}

nlohmann::json VersionsJson(const v1::GetCertificateResponse& cert) {
  nlohmann::json out = nlohmann::json::array();
  for (const v1::CertificateVersion& v : cert.versions()) {
    out.push_back(VersionJson(v));
  }
  return out;
}

std::string VersionsTable(const v1::GetCertificateResponse& cert,
                          absl::Time now) {
  if (cert.versions().empty()) {
    return absl::StrCat("no versions of ",
                        TerminalSafe(cert.certificate().name()), " yet\n");
  }
  std::vector<std::vector<std::string>> cells = {{"VERSION", "SERIAL",
                                                  "NOT BEFORE", "NOT AFTER",
                                                  "KEY", "STATUS", "NAMES"}};
  for (const v1::CertificateVersion& v : cert.versions()) {
    std::string status = "valid";
    if (v.revoked()) {
      status =
          absl::StrCat("REVOKED ", TimeText(v.revoked_at()),
                       v.revocation_reason().empty()
                           ? ""
                           : absl::StrCat(" (", v.revocation_reason(), ")"));
    } else if (TimeFromProtoOrPast(v.not_after()) <= now) {
      status = "expired";
    }
    if (v.version() == cert.certificate().latest_version() &&
        status == "valid") {
      status = "valid, newest";
    }
    cells.push_back({absl::StrCat(v.version()), OrDash(v.serial()),
                     TimeText(v.not_before()), TimeText(v.not_after()),
                     OrDash(v.key_type()), status, Names(v.names())});
  }
  return AlignColumns(cells);
}

}  // namespace

std::string CertificateState(const v1::CertificateSummary& c, absl::Time now) {
  if (!c.configured()) {
    return c.not_configured_on().empty()
               ? "not configured"
               : absl::StrCat("not configured on ", c.not_configured_on());
  }
  if (c.order_in_flight()) return "order in flight";
  if (c.renewal_requested()) return "renewal requested";
  if (c.consecutive_failures() > 0) {
    return absl::StrCat("failing (", c.consecutive_failures(), "x), next try ",
                        TimeText(c.next_attempt_at()));
  }
  if (c.latest_version() == 0) return "not issued yet";
  if (TimeFromProtoOrPast(c.not_after()) <= now) return "EXPIRED";
  return absl::StrCat("ok, renews ", TimeText(c.renew_at()));
}

std::string FormatCertificates(const v1::ListCertificatesResponse& certs,
                               absl::Time now, bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const v1::CertificateSummary& c : certs.certificates()) {
      out.push_back(SummaryJson(c, now));
    }
    return nlohmann::json{{"certificates", out}}.dump(2) + "\n";
  }
  std::vector<std::vector<std::string>> cells = {{"CERTIFICATE", "VERSION",
                                                  "NAMES", "KEY", "SERIAL",
                                                  "NOT AFTER", "STATE"}};
  std::string errors;
  for (const v1::CertificateSummary& c : certs.certificates()) {
    cells.push_back(
        {c.name(), c.latest_version() ? absl::StrCat(c.latest_version()) : "-",
         Names(c.names()), OrDash(c.key_type()), OrDash(c.serial()),
         TimeText(c.not_after()), CertificateState(c, now)});
    if (!c.last_error().empty()) {
      // The CA's problem detail, verbatim but escaped.
      absl::StrAppend(&errors, TerminalSafe(c.name()),
                      ": last error: ", TerminalSafe(c.last_error()), "\n");
    }
  }
  if (certs.certificates().empty()) return "no certificates configured\n";
  std::string out = AlignColumns(cells);
  if (!errors.empty()) absl::StrAppend(&out, "\n", errors);
  return out;
}

std::string FormatCertificate(const v1::GetCertificateResponse& cert,
                              absl::Time now, bool json) {
  const v1::CertificateSummary& c = cert.certificate();
  if (json) {
    nlohmann::json out = SummaryJson(c, now);
    out["versions"] = VersionsJson(cert);
    return out.dump(2) + "\n";
  }
  std::string out = AlignColumns({
      {"certificate", c.name()},
      {"names", Names(c.names())},
      {"issuer", OrDash(c.issuer())},
      {"state", CertificateState(c, now)},
      {"newest",
       c.latest_version()
           ? absl::StrCat("version ", c.latest_version(), ", serial ",
                          c.serial(), ", expires ", TimeText(c.not_after()))
           : "-"},
      {"renews", TimeText(c.renew_at())},
  });
  if (!c.last_error().empty()) {
    absl::StrAppend(&out, "last error   ", TerminalSafe(c.last_error()), "\n");
  }
  absl::StrAppend(&out, "\n", VersionsTable(cert, now));
  return out;
}

std::string FormatVersions(const v1::GetCertificateResponse& cert,
                           absl::Time now, bool json) {
  if (json) {
    return nlohmann::json{{"certificate", cert.certificate().name()},
                          {"versions", VersionsJson(cert)}}
               .dump(2) +
           "\n";
  }
  return VersionsTable(cert, now);
}

}  // namespace certfleet::ctl
