// The targets list (declared in sections.h): each target's own fields, and
// the checks across targets.
#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "agent/config/sections.h"
#include "common/yaml/duration.h"

namespace certfleet::agent::internal {
namespace {

constexpr int kMinKeepVersions = 2;  // the serving one and the previous one
// Checks between installs more often than this are load, not safety.
constexpr absl::Duration kMinHealthInterval = absl::Seconds(10);
constexpr int kMaxKeepVersions = 100;

// `text` as an absolute directory without "." / ".." parts, duplicate or
// trailing slashes; nullopt (and *problem set) when it cannot be one.
std::optional<std::string> NormalizeDirectory(const std::string& text,
                                              std::string* problem) {
  if (text.empty() || text.front() != '/') {
    *problem = "must be an absolute path";
    return std::nullopt;
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(text, '/', absl::SkipEmpty())) {
    if (part == "." || part == "..") {
      *problem = "must not hold \".\" or \"..\" parts";
      return std::nullopt;
    }
    parts.push_back(part);
  }
  if (parts.empty()) {
    *problem = "must not be the root directory";
    return std::nullopt;
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

void ReadDirectory(ParseContext& ctx, const Field& field, TargetSpec* target) {
  Reader& r = ctx.reader;
  std::string text;
  if (!r.Required(field) || !r.String(field, &text)) return;
  target->directory_where = Where(ctx, field);
  std::string problem;
  std::optional<std::string> dir = NormalizeDirectory(text, &problem);
  if (!dir.has_value()) {
    r.Error(field, absl::StrCat("\"", text, "\" ", problem));
    return;
  }
  target->directory = *std::move(dir);
}

void ReadOwner(ParseContext& ctx, const Field& field, TargetSpec* out) {
  if (!ctx.reader.String(field, &out->owner) || out->owner.empty()) return;
  std::vector<char> buf(16384);
  passwd pw;
  passwd* found = nullptr;
  if (getpwnam_r(out->owner.c_str(), &pw, buf.data(), buf.size(), &found) !=
          0 ||
      found == nullptr) {
    ctx.reader.Error(field, absl::StrCat("user \"", out->owner,
                                         "\" does not exist on this host"));
    return;
  }
  out->uid = found->pw_uid;
}

void ReadGroup(ParseContext& ctx, const Field& field, TargetSpec* out) {
  if (!ctx.reader.String(field, &out->group) || out->group.empty()) return;
  std::vector<char> buf(16384);
  group gr;
  group* found = nullptr;
  if (getgrnam_r(out->group.c_str(), &gr, buf.data(), buf.size(), &found) !=
          0 ||
      found == nullptr) {
    ctx.reader.Error(field, absl::StrCat("group \"", out->group,
                                         "\" does not exist on this host"));
    return;
  }
  out->gid = found->gr_gid;
}

void ReadReload(ParseContext& ctx, const Field& field, TargetSpec* out) {
  Reader& r = ctx.reader;
  const Mapping m = r.Map(field, {"command", "timeout", "environment"});
  if (!field.present() || !field.node.IsMap()) return;
  const Field command = m.Get("command");
  if (r.Required(command)) ReadCommand(ctx, command, &out->reload_command);
  r.PositiveDuration(m.Get("timeout"), &out->reload_timeout);
  yaml::ReadEnvironment(r, m.Get("environment"), &out->reload_environment);
}

void ParseTarget(ParseContext& ctx, const Mapping& m, TargetSpec* out) {
  Reader& r = ctx.reader;
  ReadTargetName(ctx, m.Get("name"), &out->name);
  ReadDirectory(ctx, m.Get("directory"), out);
  for (const auto& [element, text] : r.Strings(m.Get("require_names"))) {
    std::string name;
    if (!ReadDnsName(ctx, element, /*allow_wildcard=*/true, &name)) continue;
    if (std::find(out->require_names.begin(), out->require_names.end(), name) ==
        out->require_names.end()) {
      out->require_names.push_back(std::move(name));
    }
  }
  const Field mode = m.Get("mode");
  mode_t mode_value = 0;
  if (ReadMode(ctx, mode, &mode_value)) out->mode = mode_value;
  ParseFiles(ctx, m.Get("files"), out);
  if (out->mode.has_value() && (*out->mode & 07) != 0) {
    for (const FileSpec& file : out->files) {
      if (!file.mode.has_value() && HoldsPrivateKey(file.format)) {
        r.Error(mode, absl::StrFormat("%04o would give others access to \"%s\""
                                      ", which holds the private key (give "
                                      "that file its own mode)",
                                      *out->mode, file.path));
      }
    }
  }
  ReadOwner(ctx, m.Get("owner"), out);
  ReadGroup(ctx, m.Get("group"), out);
  ReadReload(ctx, m.Get("reload"), out);
  ctx.reader.NonNegativeDuration(m.Get("grace"), &out->grace);
  ParseHealthChecks(ctx, m.Get("health"), out);
  r.PositiveDuration(m.Get("health_timeout"), &out->health_timeout);
  const Field interval = m.Get("health_interval");
  if (r.PositiveDuration(interval, &out->health_interval)) {
    if (out->health_interval < kMinHealthInterval) {
      r.Error(interval,
              absl::StrCat("must be at least ",
                           yaml::FormatConfigDuration(kMinHealthInterval),
                           " (or absent: no checks between "
                           "installs)"));
    } else if (out->health.empty()) {
      r.Error(interval, "needs health checks to run (give `health`)");
    }
  }
  r.Int(m.Get("keep_versions"), kMinKeepVersions, kMaxKeepVersions,
        &out->keep_versions);
}

}  // namespace

void ParseTargets(ParseContext& ctx, const Field& field,
                  std::vector<TargetSpec>* out) {
  Reader& r = ctx.reader;
  // Earlier targets' names and directories, for the checks across targets.
  std::map<std::string, Field> names;
  std::vector<std::pair<std::string, std::string>> directories;  // dir, name
  for (const Field& item : r.List(field)) {
    if (!item.present()) {
      r.Error(item, "empty list element");
      continue;
    }
    const Mapping m =
        r.Map(item, {"name", "directory", "require_names", "files", "owner",
                     "group", "mode", "reload", "grace", "health",
                     "health_timeout", "health_interval", "keep_versions"});
    if (!item.node.IsMap()) continue;
    TargetSpec target;
    ParseTarget(ctx, m, &target);
    if (!target.name.empty()) {
      auto [it, inserted] = names.emplace(target.name, m.Get("name"));
      if (!inserted) {
        r.Error(m.Get("name"), absl::StrCat("target name given twice (first "
                                            "at ",
                                            Where(ctx, it->second), ")"));
      }
    }
    if (!target.directory.empty()) {
      for (const auto& [dir, owner] : directories) {
        if (dir == target.directory ||
            absl::StartsWith(target.directory, dir + "/") ||
            absl::StartsWith(dir, target.directory + "/")) {
          r.Error(
              m.Get("directory"),
              absl::StrCat("\"", target.directory,
                           "\" overlaps the "
                           "directory of target \"",
                           owner, "\" (", dir, "); each target needs its own"));
          break;
        }
      }
      directories.emplace_back(target.directory, target.name);
    }
    out->push_back(std::move(target));
  }
}

}  // namespace certfleet::agent::internal
