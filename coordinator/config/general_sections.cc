// The small top-level sections: key_encryption_key_file, metrics, scheduler,
// retention and dns (declared in sections.h).
#include <climits>

#include "absl/strings/str_cat.h"
#include "common/yaml/addresses.h"
#include "common/yaml/duration.h"
#include "common/yaml/secrets.h"
#include "coordinator/config/sections.h"

namespace certfleet::config::internal {

void ParseKeyEncryptionKeyFile(ParseContext& ctx, const Field& field,
                               std::string* out) {
  if (!ReadPath(ctx, field, /*required=*/true, out)) return;
  // A missing file is left to the key store, which reports it when it opens
  // the key; one that exists must already be private.
  absl::Status private_file = CheckPrivateFile(ctx.fs, *out);
  if (!private_file.ok() && !absl::IsNotFound(private_file)) {
    ctx.reader.Error(field, private_file.message());
  }
}

void ParseMetrics(ParseContext& ctx, const Field& field, MetricsConfig* out) {
  Reader& r = ctx.reader;
  const Mapping m = r.Map(field, {"listen"});
  const Field listen = m.Get("listen");
  std::string text;
  if (!r.String(listen, &text) || text.empty()) return;
  absl::StatusOr<IpPort> endpoint = ParseIpPort(text, std::nullopt);
  if (!endpoint.ok()) {
    r.Error(listen, endpoint.status().message());
    return;
  }
  out->listen = endpoint->ToString();
}

void ParseScheduler(ParseContext& ctx, const Field& field,
                    SchedulerConfig* out) {
  Reader& r = ctx.reader;
  const Mapping m = r.Map(field, {"max_concurrent_orders", "check_interval",
                                  "retry_initial", "retry_max"});
  r.Int(m.Get("max_concurrent_orders"), 1, INT_MAX,
        &out->max_concurrent_orders);
  r.PositiveDuration(m.Get("check_interval"), &out->check_interval);
  const bool initial_ok =
      r.PositiveDuration(m.Get("retry_initial"), &out->retry_initial) ||
      !m.Has("retry_initial");
  const Field retry_max = m.Get("retry_max");
  const bool max_ok =
      r.PositiveDuration(retry_max, &out->retry_max) || !retry_max.present();
  if (initial_ok && max_ok && out->retry_max < out->retry_initial) {
    r.Error(retry_max.present() ? retry_max : m.Get("retry_initial"),
            absl::StrCat("retry_max (", FormatConfigDuration(out->retry_max),
                         ") is shorter than retry_initial (",
                         FormatConfigDuration(out->retry_initial), ")"));
  }
}

void ParseRetention(ParseContext& ctx, const Field& field,
                    RetentionConfig* out) {
  Reader& r = ctx.reader;
  const Mapping m = r.Map(field, {"expired_versions"});
  r.PositiveDuration(m.Get("expired_versions"), &out->expired_versions);
}

void ParseDns(ParseContext& ctx, const Field& field, DnsConfig* out) {
  Reader& r = ctx.reader;
  const Mapping m =
      r.Map(field, {"resolvers", "nameserver_port", "propagation_interval",
                    "propagation_timeout", "follow_cname"});
  const Field resolvers = m.Get("resolvers");
  if (!resolvers.present()) {
    r.Error(resolvers,
            "required field is missing (certfleet never uses the system "
            "resolver: list the recursive resolvers it may ask)");
  } else if (resolvers.node.IsSequence() && resolvers.node.size() == 0) {
    r.Error(resolvers,
            "must list at least one resolver (certfleet never uses the "
            "system resolver)");
  }
  for (const auto& [element, text] : r.Strings(resolvers)) {
    absl::StatusOr<IpPort> endpoint = ParseIpPort(text, 53);
    if (!endpoint.ok()) {
      r.Error(element, endpoint.status().message());
      continue;
    }
    out->resolvers.push_back(endpoint->ToString());
  }
  r.Int(m.Get("nameserver_port"), 1, 65535, &out->nameserver_port);
  const Field interval = m.Get("propagation_interval");
  const Field timeout = m.Get("propagation_timeout");
  const bool interval_ok =
      r.PositiveDuration(interval, &out->propagation_interval) ||
      !interval.present();
  const bool timeout_ok =
      r.PositiveDuration(timeout, &out->propagation_timeout) ||
      !timeout.present();
  if (interval_ok && timeout_ok &&
      out->propagation_timeout < out->propagation_interval) {
    r.Error(timeout.present() ? timeout : interval,
            absl::StrCat("propagation_timeout (",
                         FormatConfigDuration(out->propagation_timeout),
                         ") is shorter than propagation_interval (",
                         FormatConfigDuration(out->propagation_interval), ")"));
  }
  r.Bool(m.Get("follow_cname"), &out->follow_cname);
}

}  // namespace certfleet::config::internal
