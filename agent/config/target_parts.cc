// A target's files and health checks (declared in sections.h).
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "agent/config/sections.h"
#include "common/yaml/addresses.h"
#include "common/yaml/secrets.h"

namespace certfleet::agent::internal {
namespace {

constexpr char kFormatChoices[] =
    "key, cert, chain, fullchain, combined, pkcs12";

std::optional<FileSpec::Format> ParseFormat(absl::string_view text) {
  for (FileSpec::Format f :
       {FileSpec::Format::kKey, FileSpec::Format::kCert,
        FileSpec::Format::kChain, FileSpec::Format::kFullchain,
        FileSpec::Format::kCombined, FileSpec::Format::kPkcs12}) {
    if (FormatName(f) == text) return f;
  }
  return std::nullopt;
}

// Why `path` cannot name a file in a target's directory, or "".
std::string FilePathProblem(absl::string_view path) {
  if (path.empty()) return "must not be empty";
  if (path.front() == '/') {
    return "must be relative to the target's directory, not absolute";
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  for (absl::string_view part : parts) {
    if (part.empty() || part == "." || part == "..") {
      return "must be a plain relative path inside the target's directory "
             "(no empty, \".\" or \"..\" parts)";
    }
  }
  const absl::string_view first = parts.front();
  if (first == "current" || absl::StartsWith(first, "current.tmp") ||
      first == ".versions" || absl::StartsWith(first, ".certfleet")) {
    return absl::StrCat("\"", first,
                        "\" is reserved for the agent's own use in the "
                        "target's directory");
  }
  return "";
}

// Checks the password file of a pkcs12 file: private to its owner and with
// a non-empty first line.
void CheckPasswordFile(ParseContext& ctx, const Field& field,
                       const std::string& path) {
  absl::Status private_file = yaml::CheckPrivateFile(ctx.fs, path);
  if (!private_file.ok()) {
    ctx.reader.Error(field, private_file.message());
    return;
  }
  absl::StatusOr<std::string> text = ctx.fs.ReadFile(path);
  if (!text.ok()) {
    ctx.reader.Error(field, text.status().message());
    return;
  }
  absl::string_view first_line = *text;
  first_line = first_line.substr(0, first_line.find('\n'));
  absl::ConsumeSuffix(&first_line, "\r");
  if (first_line.empty()) {
    ctx.reader.Error(field, absl::StrCat("\"", path,
                                         "\": the first line (the password) "
                                         "is empty"));
  }
}

// Returns the path's field, for messages about the path.
Field ParseFile(ParseContext& ctx, const Field& item, FileSpec* out) {
  Reader& r = ctx.reader;
  const Mapping m = r.Map(item, {"path", "format", "mode", "password_file"});
  const Field path = m.Get("path");
  if (r.Required(path) && r.String(path, &out->path)) {
    const std::string problem = FilePathProblem(out->path);
    if (!problem.empty()) r.Error(path, problem);
  }
  const Field format = m.Get("format");
  bool format_known = false;
  if (r.Required(format)) {
    std::optional<std::string> text = r.Scalar(format, "a file format");
    if (text.has_value()) {
      std::optional<FileSpec::Format> parsed = ParseFormat(*text);
      if (parsed.has_value()) {
        out->format = *parsed;
        format_known = true;
      } else {
        r.Error(format,
                absl::StrCat("\"", *text, "\" is not one of ", kFormatChoices));
      }
    }
  }
  const Field mode = m.Get("mode");
  mode_t mode_value = 0;
  if (ReadMode(ctx, mode, &mode_value)) {
    out->mode = mode_value;
    if (format_known && HoldsPrivateKey(out->format) &&
        (mode_value & 07) != 0) {
      r.Error(mode, absl::StrFormat("%04o gives others access to a file "
                                    "holding the private key",
                                    mode_value));
    }
  }
  const Field password_file = m.Get("password_file");
  if (!format_known) return path;
  if (out->format == FileSpec::Format::kPkcs12) {
    if (!password_file.present()) {
      r.Error(password_file,
              "required for format pkcs12 (a file, private to its owner, "
              "whose first line is the password)");
    } else if (ReadPath(ctx, password_file, /*required=*/true,
                        &out->password_file)) {
      CheckPasswordFile(ctx, password_file, out->password_file);
    }
  } else if (password_file.present()) {
    r.Error(password_file, absl::StrCat("only for format pkcs12, not ",
                                        FormatName(out->format)));
  }
  return path;
}

void ParseTls(ParseContext& ctx, const Field& field, const TargetSpec& target,
              HealthCheckSpec* out) {
  Reader& r = ctx.reader;
  const Mapping m = r.Map(field, {"address", "server_name"});
  const Field address = m.Get("address");
  std::string text;
  if (r.Required(address) && r.String(address, &text)) {
    absl::StatusOr<yaml::IpPort> endpoint =
        yaml::ParseIpPort(text, std::nullopt);
    if (endpoint.ok()) {
      out->address = endpoint->ToString();
    } else {
      r.Error(address, endpoint.status().message());
    }
  }
  if (!ReadDnsName(ctx, m.Get("server_name"), /*allow_wildcard=*/false,
                   &out->server_name)) {
    for (const std::string& name : target.require_names) {
      if (!absl::StartsWith(name, "*.")) {
        out->server_name = name;
        break;
      }
    }
  }
}

void ParseHttp(ParseContext& ctx, const Field& field, HealthCheckSpec* out) {
  Reader& r = ctx.reader;
  const Mapping m = r.Map(field, {"url", "expect_status", "ca_file"});
  const Field url = m.Get("url");
  if (r.Required(url) && r.String(url, &out->url)) {
    absl::string_view rest = out->url;
    const bool scheme_ok = absl::ConsumePrefix(&rest, "http://") ||
                           absl::ConsumePrefix(&rest, "https://");
    if (!scheme_ok || rest.empty() || rest.front() == '/') {
      r.Error(url, absl::StrCat("\"", out->url,
                                "\" is not an http:// or https:// URL with "
                                "a host"));
    }
  }
  r.Int(m.Get("expect_status"), 100, 599, &out->expect_status);
  const Field ca_file = m.Get("ca_file");
  if (ReadExistingFile(ctx, ca_file, /*required=*/false, &out->ca_file) &&
      !absl::StartsWith(out->url, "https://")) {
    r.Error(ca_file, "only for https:// URLs");
  }
}

}  // namespace

void ParseFiles(ParseContext& ctx, const Field& field, TargetSpec* target) {
  Reader& r = ctx.reader;
  if (!r.Required(field)) return;
  if (field.node.IsSequence() && field.node.size() == 0) {
    r.Error(field, "must list at least one file");
    return;
  }
  // path → where it was first given.
  std::map<std::string, Field> seen;
  for (const Field& item : r.List(field)) {
    if (!item.present()) {
      r.Error(item, "empty list element");
      continue;
    }
    FileSpec file;
    const Field path_field = ParseFile(ctx, item, &file);
    if (file.path.empty()) {
      target->files.push_back(std::move(file));
      continue;
    }
    for (const auto& [other, other_field] : seen) {
      if (other == file.path) {
        r.Error(path_field, absl::StrCat("path given twice (first at ",
                                         Where(ctx, other_field), ")"));
      } else if (absl::StartsWith(file.path, other + "/") ||
                 absl::StartsWith(other, file.path + "/")) {
        r.Error(path_field,
                absl::StrCat("\"", file.path, "\" and \"", other,
                             "\" cannot both be files (one is inside the "
                             "other)"));
      }
    }
    seen.emplace(file.path, path_field);
    target->files.push_back(std::move(file));
  }
}

void ParseHealthChecks(ParseContext& ctx, const Field& field,
                       TargetSpec* target) {
  Reader& r = ctx.reader;
  for (const Field& item : r.List(field)) {
    if (!item.present()) {
      r.Error(item, "empty list element");
      continue;
    }
    if (!item.node.IsMap()) {
      r.Error(item, absl::StrCat("expected a mapping with one of tls, http, "
                                 "command, got ",
                                 yaml::DescribeNodeType(item.node)));
      continue;
    }
    // `environment` goes with `command`: `- command: [...]` and, on the
    // next line, `environment: {NAME: value}`.
    const Mapping m = r.Map(item, {"tls", "http", "command", "environment"});
    const int kinds = static_cast<int>(m.Has("tls")) +
                      static_cast<int>(m.Has("http")) +
                      static_cast<int>(m.Has("command"));
    if (kinds > 1) {
      r.Error(item, "give exactly one of tls, http, command");
      continue;
    }
    if (kinds == 0) {
      // An unknown key was already reported by Map(); don't pile on.
      bool unknown_key = false;
      for (auto it = item.node.begin(); it != item.node.end(); ++it) {
        const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
        if (key != "tls" && key != "http" && key != "command" &&
            key != "environment") {
          unknown_key = true;
        }
      }
      if (!unknown_key) r.Error(item, "give one of tls, http, command");
      continue;
    }
    HealthCheckSpec check;
    if (m.Has("environment") && !m.Has("command")) {
      r.Error(m.Get("environment"),
              "only for command checks (tls and http checks run no program)");
    }
    if (m.Has("tls")) {
      check.kind = HealthCheckSpec::Kind::kTls;
      ParseTls(ctx, m.Get("tls"), *target, &check);
    } else if (m.Has("http")) {
      check.kind = HealthCheckSpec::Kind::kHttp;
      ParseHttp(ctx, m.Get("http"), &check);
    } else {
      check.kind = HealthCheckSpec::Kind::kCommand;
      ReadCommand(ctx, m.Get("command"), &check.command);
      yaml::ReadEnvironment(r, m.Get("environment"), &check.environment);
    }
    target->health.push_back(std::move(check));
  }
}

}  // namespace certfleet::agent::internal
