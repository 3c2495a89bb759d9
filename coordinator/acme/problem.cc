#include "coordinator/acme/problem.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace certfleet::acme {
namespace {

constexpr char kRetryAfterPayload[] = "certfleet.dev/retry-after";
constexpr char kClientLimitPayload[] = "certfleet.dev/client-limit";
constexpr char kProblemTypePayload[] = "certfleet.dev/acme-problem-type";

absl::StatusCode CodeFor(const std::string& short_type, int http_status) {
  static const struct {
    const char* type;
    absl::StatusCode code;
  } kTable[] = {
      {"rateLimited", absl::StatusCode::kResourceExhausted},
      {"serverInternal", absl::StatusCode::kUnavailable},
      {"badNonce", absl::StatusCode::kUnavailable},
      {"unauthorized", absl::StatusCode::kPermissionDenied},
      {"accountDoesNotExist", absl::StatusCode::kNotFound},
      {"alreadyRevoked", absl::StatusCode::kAlreadyExists},
      {"malformed", absl::StatusCode::kInvalidArgument},
      {"badCSR", absl::StatusCode::kInvalidArgument},
      {"badPublicKey", absl::StatusCode::kInvalidArgument},
      {"badSignatureAlgorithm", absl::StatusCode::kInvalidArgument},
      {"badRevocationReason", absl::StatusCode::kInvalidArgument},
      {"invalidContact", absl::StatusCode::kInvalidArgument},
      {"unsupportedContact", absl::StatusCode::kInvalidArgument},
      {"unsupportedIdentifier", absl::StatusCode::kInvalidArgument},
      {"invalidProfile", absl::StatusCode::kInvalidArgument},
  };
  for (const auto& e : kTable) {
    if (short_type == e.type) return e.code;
  }
  if (!short_type.empty() && http_status < 500) {
    // rejectedIdentifier, caa, dns, connection, incorrectResponse, tls,
    // externalAccountRequired, userActionRequired, orderNotReady, compound…
    return absl::StatusCode::kFailedPrecondition;
  }
  if (http_status == 429) return absl::StatusCode::kResourceExhausted;
  if (http_status >= 500) return absl::StatusCode::kUnavailable;
  if (http_status == 401 || http_status == 403) {
    return absl::StatusCode::kPermissionDenied;
  }
  if (http_status == 404) return absl::StatusCode::kNotFound;
  return absl::StatusCode::kFailedPrecondition;
}

}  // namespace

std::string Problem::ShortType() const {
  absl::string_view t = type;
  if (absl::ConsumePrefix(&t, kErrorPrefix)) return std::string(t);
  return type;
}

std::string Problem::Describe() const {
  std::string out = ShortType().empty() ? "error" : ShortType();
  if (!detail.empty()) absl::StrAppend(&out, ": ", detail);
  if (!subproblems.empty()) {
    std::vector<std::string> parts;
    for (const Subproblem& s : subproblems) {
      absl::string_view t = s.type;
      absl::ConsumePrefix(&t, kErrorPrefix);
      parts.push_back(absl::StrCat(s.identifier.empty() ? "" : s.identifier,
                                   s.identifier.empty() ? "" : ": ", t,
                                   s.detail.empty() ? "" : ": ", s.detail));
    }
    absl::StrAppend(&out, " [", absl::StrJoin(parts, "; "), "]");
  }
  return out;
}

Problem ParseProblem(const std::string& body, int http_status) {
  Problem p;
  p.status = http_status;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    std::string excerpt(absl::StripAsciiWhitespace(body.substr(0, 200)));
    p.detail = excerpt.empty() ? "(empty body)" : excerpt;
    return p;
  }
  if (j.contains("type") && j["type"].is_string()) p.type = j["type"];
  if (j.contains("detail") && j["detail"].is_string()) p.detail = j["detail"];
  if (j.contains("status") && j["status"].is_number_integer()) {
    p.status = j["status"];
  }
  if (j.contains("subproblems") && j["subproblems"].is_array()) {
    for (const auto& s : j["subproblems"]) {
      if (!s.is_object()) continue;
      Subproblem sp;
      if (s.contains("type") && s["type"].is_string()) sp.type = s["type"];
      if (s.contains("detail") && s["detail"].is_string()) {
        sp.detail = s["detail"];
      }
      if (s.contains("identifier") && s["identifier"].is_object() &&
          s["identifier"].contains("value") &&
          s["identifier"]["value"].is_string()) {
        sp.identifier = s["identifier"]["value"];
      }
      p.subproblems.push_back(std::move(sp));
    }
  }
  return p;
}

namespace {

std::optional<absl::Time> ParseRetryAfterUncapped(absl::string_view v,
                                                  absl::Time now) {
  v = absl::StripAsciiWhitespace(v);
  if (v.empty()) return std::nullopt;
  int64_t seconds;
  if (absl::SimpleAtoi(v, &seconds)) {
    if (seconds < 0) return std::nullopt;
    return now + absl::Seconds(seconds);
  }
  // IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT".
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(v), &t, &err)) {
    return t;
  }
  return std::nullopt;
}

}  // namespace

std::optional<absl::Time> ParseRetryAfter(const std::string& value,
                                          absl::Time now, bool* capped) {
  std::optional<absl::Time> t = ParseRetryAfterUncapped(value, now);
  const bool over = t.has_value() && *t > now + kMaxRetryAfter;
  if (capped != nullptr) *capped = over;
  if (over) t = now + kMaxRetryAfter;
  return t;
}

absl::Status ProblemStatus(const std::string& endpoint,
                           const HttpResponse& response, absl::Time now) {
  Problem p = ParseProblem(response.body, response.status);
  absl::Status status(CodeFor(p.ShortType(), response.status),
                      absl::StrCat("ACME ", endpoint, ": HTTP ",
                                   response.status, ": ", p.Describe()));
  if (!p.type.empty())
    status.SetPayload(kProblemTypePayload, absl::Cord(p.type));
  if (auto when = ParseRetryAfter(response.Header("retry-after"), now)) {
    SetRetryAfter(status, *when);
  }
  return status;
}

void SetRetryAfter(absl::Status& status, absl::Time when) {
  status.SetPayload(kRetryAfterPayload,
                    absl::Cord(absl::StrCat(absl::ToUnixNanos(when))));
}

std::optional<absl::Time> RetryAfterOf(const absl::Status& status) {
  absl::optional<absl::Cord> c = status.GetPayload(kRetryAfterPayload);
  if (!c) return std::nullopt;
  int64_t nanos;
  if (!absl::SimpleAtoi(std::string(*c), &nanos)) return std::nullopt;
  return absl::FromUnixNanos(nanos);
}

void SetClientLimit(absl::Status& status, absl::string_view limit) {
  status.SetPayload(kClientLimitPayload, absl::Cord(limit));
}

std::string ClientLimitOf(const absl::Status& status) {
  absl::optional<absl::Cord> c = status.GetPayload(kClientLimitPayload);
  return c ? std::string(*c) : std::string();
}

std::string DescribeOrderLimit(int max_orders, absl::Duration window) {
  if (max_orders <= 0) return "unlimited new orders";
  return absl::StrCat(max_orders, " new orders per ",
                      absl::FormatDuration(window));
}

std::string ProblemTypeOf(const absl::Status& status) {
  absl::optional<absl::Cord> c = status.GetPayload(kProblemTypePayload);
  return c ? std::string(*c) : std::string();
}

}  // namespace certfleet::acme
