// Feeds: one response body to every ACME resource parser of
// coordinator/acme/resources.h (directory, account, order, authorization,
// challenge, ARI renewal info, orders list), as AcmeClient does with what a
// CA answers (RFC 8555 §7.1; RFC 9773 §4.2). The CA is not trusted to send
// well-formed JSON.
// Checks, beyond no crash and no sanitizer report (and no nlohmann
// exception escaping: it would abort):
//  - errors are kUnavailable (the CA misbehaved; retried later), never
//    another code;
//  - a parsed order has its status and finalize URL; a parsed directory
//    its newNonce, newAccount and newOrder; a renewal window is ordered.
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "coordinator/acme/resources.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

void CheckError(const absl::Status& status) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kUnavailable,
             "a malformed resource is kUnavailable");
  FUZZ_CHECK(!status.message().empty(), "errors say what is wrong");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certfleet::acme;
  const std::string body(certfleet::fuzz::AsView(data, size));
  const std::string url = "https://ca.test/acme/x/1";

  if (absl::StatusOr<Directory> d = ParseDirectory(body); d.ok()) {
    FUZZ_CHECK(!d->new_nonce.empty() && !d->new_account.empty() &&
                   !d->new_order.empty(),
               "a directory has newNonce, newAccount and newOrder");
  } else {
    CheckError(d.status());
  }
  if (absl::StatusOr<Account> a = ParseAccount(body, url); a.ok()) {
    FUZZ_CHECK(a->url == url, "an account keeps its URL");
  } else {
    CheckError(a.status());
  }
  if (absl::StatusOr<Order> o = ParseOrder(body, url); o.ok()) {
    FUZZ_CHECK(ParseAcmeStatus(AcmeStatusName(o->status)) == o->status &&
                   !o->finalize.empty(),
               "an order has a known status and a finalize URL");
    if (o->error) (void)o->error->Describe();
  } else {
    CheckError(o.status());
  }
  if (absl::StatusOr<Authorization> a = ParseAuthorization(body, url); a.ok()) {
    (void)a->Find("dns-01");
    for (const Challenge& c : a->challenges) {
      if (c.error) (void)c.error->Describe();
    }
  } else {
    CheckError(a.status());
  }
  if (absl::StatusOr<Challenge> c = ParseChallenge(body); !c.ok()) {
    CheckError(c.status());
  }
  if (absl::StatusOr<RenewalInfo> r = ParseRenewalInfo(body); r.ok()) {
    FUZZ_CHECK(r->window_start <= r->window_end,
               "a renewal window starts before it ends");
  } else {
    CheckError(r.status());
  }
  if (absl::StatusOr<std::vector<std::string>> l = ParseOrderList(body);
      !l.ok()) {
    CheckError(l.status());
  }
  return 0;
}
