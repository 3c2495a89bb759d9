// The store section and the HA section that depends on it (declared in
// sections.h):
//
//   store:
//     type: etcd
//     etcd:
//       endpoints: ["10.0.0.1:2379", "10.0.0.2:2379", "10.0.0.3:2379"]
//       ca_file: /etc/certfleet/etcd-ca.pem
//   ha:
//     lease_ttl: 3s
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/yaml/addresses.h"
#include "common/yaml/secrets.h"
#include "coordinator/config/sections.h"

namespace certfleet::config::internal {
namespace {

void ParseEtcd(ParseContext& ctx, const Field& field, EtcdConfig* out) {
  Reader& r = ctx.reader;
  if (!r.Required(field)) return;
  const Mapping m = r.Map(field, {"endpoints", "prefix", "ca_file", "cert_file",
                                  "key_file", "request_timeout"});
  const Field endpoints = m.Get("endpoints");
  if (r.Required(endpoints)) {
    const std::vector<std::pair<Field, std::string>> items =
        r.Strings(endpoints);
    for (const auto& [item, text] : items) {
      // IP literals: the client dials them without any resolver.
      absl::StatusOr<yaml::IpPort> address =
          yaml::ParseIpPort(text, std::nullopt);
      if (address.ok()) {
        out->endpoints.push_back(address->ToString());
      } else {
        r.Error(item, address.status().message());
      }
    }
    if (items.empty()) {
      r.Error(endpoints, "list at least one etcd member (ip:port)");
    }
  }
  const Field prefix = m.Get("prefix");
  if (r.String(prefix, &out->prefix) &&
      (!absl::StartsWith(out->prefix, "/") ||
       !absl::EndsWith(out->prefix, "/") || out->prefix.size() < 2)) {
    r.Error(prefix, absl::StrCat("\"", out->prefix,
                                 "\" must start and end with \"/\" "
                                 "(such as /certfleet/)"));
  }
  const bool ca = ReadPath(ctx, m.Get("ca_file"), false, &out->ca_file);
  const bool cert = ReadPath(ctx, m.Get("cert_file"), false, &out->cert_file);
  const bool key = ReadPath(ctx, m.Get("key_file"), false, &out->key_file);
  // Read at start-up; a missing one should stop the load, not the start.
  for (const auto& [set, name, path] :
       {std::tuple{ca, "ca_file", &out->ca_file},
        std::tuple{cert, "cert_file", &out->cert_file}}) {
    if (!set) continue;
    absl::StatusOr<FileInfo> info = ctx.fs.Stat(*path);
    if (!info.ok()) {
      r.Error(m.Get(name), absl::StrCat(*path, ": ", info.status().message()));
    } else if (!info->exists) {
      r.Error(m.Get(name), absl::StrCat(*path, ": no such file"));
    }
  }
  if (cert != key) {
    r.Error(cert ? m.Get("cert_file") : m.Get("key_file"),
            "set cert_file and key_file together (the client certificate "
            "and its key)");
  } else if (cert && out->ca_file.empty()) {
    r.Error(m.Get("cert_file"),
            "a client certificate needs TLS: set ca_file (the CA of the "
            "etcd members)");
  }
  if (key) {
    if (absl::Status s = CheckPrivateFile(ctx.fs, out->key_file); !s.ok()) {
      r.Error(m.Get("key_file"), s.message());
    }
  }
  r.PositiveDuration(m.Get("request_timeout"), &out->request_timeout);
}

bool IsReplicaName(absl::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!absl::ascii_isalnum(name.front())) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace

void ParseStore(ParseContext& ctx, const Field& field, StoreConfig* out) {
  Reader& r = ctx.reader;
  const Mapping m = r.Map(field, {"type", "path", "sync", "etcd"});
  const Field type = m.Get("type");
  if (r.String(type, &out->type) && out->type != "sqlite" &&
      out->type != "etcd") {
    r.Error(type,
            absl::StrCat("\"", out->type, "\" is not one of sqlite, etcd"));
  }
  if (out->type == "etcd") {
    for (const char* sqlite_only : {"path", "sync"}) {
      if (m.Has(sqlite_only)) {
        r.Error(m.Get(sqlite_only), "only with type sqlite");
      }
    }
    ParseEtcd(ctx, m.Get("etcd"), &out->etcd);
    return;
  }
  if (m.Has("etcd")) r.Error(m.Get("etcd"), "only with type etcd");
  ReadPath(ctx, m.Get("path"), /*required=*/true, &out->sqlite_path);
  const Field sync = m.Get("sync");
  if (r.String(sync, &out->sqlite_sync) && out->sqlite_sync != "normal" &&
      out->sqlite_sync != "full") {
    r.Error(sync, absl::StrCat("\"", out->sqlite_sync,
                               "\" is not one of normal, full"));
  }
}

void ParseHa(ParseContext& ctx, const Field& field, const StoreConfig& store,
             HaConfig* out) {
  Reader& r = ctx.reader;
  if (!field.present()) return;
  if (store.type != "etcd") {
    r.Error(field,
            "several coordinators need a shared store: set store.type to "
            "etcd (a single coordinator on SQLite needs no ha section)");
  }
  const Mapping m = r.Map(field, {"lease_ttl", "cut_off_after", "replica"});
  for (const auto& [name, value] :
       {std::pair{"lease_ttl", &out->lease_ttl},
        std::pair{"cut_off_after", &out->cut_off_after}}) {
    const Field ttl = m.Get(name);
    if (r.PositiveDuration(ttl, value) &&
        (*value < absl::Seconds(2) || *value > absl::Minutes(5) ||
         *value % absl::Seconds(1) != absl::ZeroDuration())) {
      r.Error(ttl,
              "must be whole seconds from 2s to 5m (etcd leases count "
              "in seconds)");
    }
  }
  const Field replica = m.Get("replica");
  if (r.String(replica, &out->replica) && !IsReplicaName(out->replica)) {
    r.Error(replica, absl::StrCat("\"", out->replica,
                                  "\" is not a replica name: 1-63 letters, "
                                  "digits, \".\", \"-\", \"_\", starting "
                                  "with a letter or digit"));
  }
}

void ParseInternalCaFile(ParseContext& ctx, const Field& field,
                         const StoreConfig& store, std::string* out) {
  if (store.type == "etcd" && !field.present()) {
    ctx.reader.Error(field,
                     "required with store.type etcd: the file every replica "
                     "writes the internal CA certificate to, for agents' "
                     "coordinator_ca (such as "
                     "/var/lib/certfleet/internal-ca.pem)");
    return;
  }
  if (ReadPath(ctx, field, /*required=*/false, out)) return;
  if (store.type == "sqlite" && !store.sqlite_path.empty()) {
    const size_t slash = store.sqlite_path.rfind('/');
    *out = absl::StrCat(
        slash == std::string::npos ? "." : store.sqlite_path.substr(0, slash),
        "/internal-ca.pem");
  }
}

}  // namespace certfleet::config::internal
