#include "coordinator/acme/resources.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace certfleet::acme {
namespace {

using Json = nlohmann::json;

absl::StatusOr<Json> ParseObject(const std::string& body,
                                 absl::string_view what) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::UnavailableError(
        absl::StrCat("CA sent a malformed ", what, " (not a JSON object): ",
                     absl::StripAsciiWhitespace(body.substr(0, 200))));
  }
  return j;
}

std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

absl::Time TimeOf(const Json& j, const char* key) {
  std::string s = Str(j, key);
  absl::Time t;
  std::string err;
  if (s.empty() || !absl::ParseTime(absl::RFC3339_full, s, &t, &err)) {
    return absl::InfinitePast();
  }
  return t;
}

std::optional<Problem> ProblemOf(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_object()) return std::nullopt;
  return ParseProblem(it->dump(), 0);
}

absl::Status Missing(absl::string_view what, absl::string_view field,
                     absl::string_view url) {
  return absl::UnavailableError(absl::StrCat("CA sent a ", what, " without \"",
                                             field, "\"",
                                             url.empty() ? "" : " at ", url));
}

// The "status" member of `what` at `url` (RFC 8555 §7.1.6); nullopt when
// absent and not `required`.
absl::StatusOr<std::optional<AcmeStatus>> StatusOf(const Json& j,
                                                   absl::string_view what,
                                                   absl::string_view url,
                                                   bool required) {
  const std::string name = Str(j, "status");
  if (name.empty()) {
    if (!required) return std::nullopt;
    return Missing(what, "status", url);
  }
  std::optional<AcmeStatus> status = ParseAcmeStatus(name);
  if (!status.has_value()) {
    return absl::UnavailableError(absl::StrCat(
        "CA sent a", absl::StrContains("aeiou", what.substr(0, 1)) ? "n " : " ",
        what, " with unknown status \"", absl::CHexEscape(name.substr(0, 64)),
        "\"", url.empty() ? "" : " at ", url));
  }
  return status;
}

absl::StatusOr<Challenge> ChallengeFrom(const Json& c) {
  Challenge ch;
  ch.type = Str(c, "type");
  ch.url = Str(c, "url");
  ch.token = Str(c, "token");
  ASSIGN_OR_RETURN(std::optional<AcmeStatus> status,
                   StatusOf(c, "challenge", ch.url, /*required=*/true));
  ch.status = *status;
  ch.error = ProblemOf(c, "error");
  return ch;
}

}  // namespace

const Challenge* Authorization::Find(const std::string& type) const {
  for (const Challenge& c : challenges) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

absl::StatusOr<Directory> ParseDirectory(const std::string& body) {
  absl::StatusOr<Json> j = ParseObject(body, "directory");
  if (!j.ok()) return j.status();
  Directory d;
  d.new_nonce = Str(*j, "newNonce");
  d.new_account = Str(*j, "newAccount");
  d.new_order = Str(*j, "newOrder");
  d.revoke_cert = Str(*j, "revokeCert");
  d.key_change = Str(*j, "keyChange");
  d.renewal_info = Str(*j, "renewalInfo");
  for (const char* f : {"newNonce", "newAccount", "newOrder"}) {
    if (Str(*j, f).empty()) return Missing("directory", f, "");
  }
  auto meta = j->find("meta");
  if (meta != j->end() && meta->is_object()) {
    d.terms_of_service = Str(*meta, "termsOfService");
    auto ear = meta->find("externalAccountRequired");
    d.external_account_required =
        ear != meta->end() && ear->is_boolean() && ear->get<bool>();
    auto profiles = meta->find("profiles");
    if (profiles != meta->end() && profiles->is_object()) {
      for (auto it = profiles->begin(); it != profiles->end(); ++it) {
        d.profiles.push_back(it.key());
      }
    }
  }
  return d;
}

absl::StatusOr<Account> ParseAccount(const std::string& body,
                                     const std::string& url) {
  Account a;
  a.url = url;
  // Some servers answer an existing-account lookup with an empty body.
  if (absl::StripAsciiWhitespace(body).empty()) return a;
  absl::StatusOr<Json> j = ParseObject(body, "account");
  if (!j.ok()) return j.status();
  ASSIGN_OR_RETURN(a.status, StatusOf(*j, "account", url, /*required=*/false));
  a.orders_url = Str(*j, "orders");
  auto contact = j->find("contact");
  if (contact != j->end() && contact->is_array()) {
    for (const auto& c : *contact) {
      if (c.is_string()) a.contacts.push_back(c.get<std::string>());
    }
  }
  return a;
}

absl::StatusOr<Order> ParseOrder(const std::string& body,
                                 const std::string& url) {
  absl::StatusOr<Json> j = ParseObject(body, "order");
  if (!j.ok()) return j.status();
  Order o;
  o.url = url;
  ASSIGN_OR_RETURN(std::optional<AcmeStatus> status,
                   StatusOf(*j, "order", url, /*required=*/true));
  o.status = *status;
  o.expires = TimeOf(*j, "expires");
  o.finalize = Str(*j, "finalize");
  o.certificate = Str(*j, "certificate");
  o.error = ProblemOf(*j, "error");
  o.replaces = Str(*j, "replaces");
  o.profile = Str(*j, "profile");
  if (o.finalize.empty()) return Missing("order", "finalize", url);
  auto ids = j->find("identifiers");
  if (ids != j->end() && ids->is_array()) {
    for (const auto& i : *ids) {
      if (!i.is_object()) continue;
      o.identifiers.push_back({Str(i, "type"), Str(i, "value")});
    }
  }
  auto authzs = j->find("authorizations");
  if (authzs != j->end() && authzs->is_array()) {
    for (const auto& a : *authzs) {
      if (a.is_string()) o.authorizations.push_back(a.get<std::string>());
    }
  }
  return o;
}

absl::StatusOr<Authorization> ParseAuthorization(const std::string& body,
                                                 const std::string& url) {
  absl::StatusOr<Json> j = ParseObject(body, "authorization");
  if (!j.ok()) return j.status();
  Authorization a;
  a.url = url;
  ASSIGN_OR_RETURN(std::optional<AcmeStatus> status,
                   StatusOf(*j, "authorization", url, /*required=*/true));
  a.status = *status;
  a.expires = TimeOf(*j, "expires");
  auto id = j->find("identifier");
  if (id == j->end() || !id->is_object()) {
    return Missing("authorization", "identifier", url);
  }
  a.identifier = {Str(*id, "type"), Str(*id, "value")};
  auto wc = j->find("wildcard");
  a.wildcard = wc != j->end() && wc->is_boolean() && wc->get<bool>();
  auto chs = j->find("challenges");
  if (chs != j->end() && chs->is_array()) {
    for (const auto& c : *chs) {
      if (!c.is_object()) continue;
      ASSIGN_OR_RETURN(Challenge challenge, ChallengeFrom(c));
      a.challenges.push_back(std::move(challenge));
    }
  }
  return a;
}

absl::StatusOr<Challenge> ParseChallenge(const std::string& body) {
  absl::StatusOr<Json> j = ParseObject(body, "challenge");
  if (!j.ok()) return j.status();
  return ChallengeFrom(*j);
}

absl::StatusOr<RenewalInfo> ParseRenewalInfo(const std::string& body) {
  absl::StatusOr<Json> j = ParseObject(body, "renewal info");
  if (!j.ok()) return j.status();
  auto w = j->find("suggestedWindow");
  if (w == j->end() || !w->is_object()) {
    return Missing("renewal info", "suggestedWindow", "");
  }
  RenewalInfo info;
  info.window_start = TimeOf(*w, "start");
  info.window_end = TimeOf(*w, "end");
  info.explanation_url = Str(*j, "explanationURL");
  if (info.window_start == absl::InfinitePast() ||
      info.window_end == absl::InfinitePast() ||
      info.window_end < info.window_start) {
    return absl::UnavailableError(
        absl::StrCat("CA sent an invalid renewal window: ", w->dump()));
  }
  return info;
}

absl::StatusOr<std::vector<std::string>> ParseOrderList(
    const std::string& body) {
  absl::StatusOr<Json> j = ParseObject(body, "orders list");
  if (!j.ok()) return j.status();
  auto orders = j->find("orders");
  if (orders == j->end() || !orders->is_array()) {
    return Missing("orders list", "orders", "");
  }
  std::vector<std::string> urls;
  for (const auto& o : *orders) {
    if (o.is_string()) urls.push_back(o.get<std::string>());
  }
  return urls;
}

std::vector<std::string> LinkTargets(const std::vector<std::string>& headers,
                                     const std::string& rel) {
  std::vector<std::string> out;
  for (const std::string& header : headers) {
    // A header may hold several links: <a>;rel="x", <b>;rel="y".
    for (absl::string_view link : absl::StrSplit(header, ',')) {
      link = absl::StripAsciiWhitespace(link);
      if (!absl::ConsumePrefix(&link, "<")) continue;
      const size_t close = link.find('>');
      if (close == absl::string_view::npos) continue;
      const absl::string_view target = link.substr(0, close);
      bool match = false;
      for (absl::string_view param :
           absl::StrSplit(link.substr(close + 1), ';', absl::SkipEmpty())) {
        param = absl::StripAsciiWhitespace(param);
        if (!absl::ConsumePrefix(&param, "rel=")) continue;
        param = absl::StripPrefix(absl::StripSuffix(param, "\""), "\"");
        for (absl::string_view r : absl::StrSplit(param, ' ')) {
          if (absl::EqualsIgnoreCase(r, rel)) match = true;
        }
      }
      if (match) out.emplace_back(target);
    }
  }
  return out;
}

}  // namespace certfleet::acme
