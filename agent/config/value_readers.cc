// Value readers shared by the agent's section readers (declared in
// sections.h).
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "agent/config/sections.h"
#include "common/yaml/shared_fields.h"

namespace certfleet::agent::internal {
namespace {

// Why `label` is not a valid DNS label, or "" when it is.
std::string LabelProblem(absl::string_view label) {
  if (label.empty()) return "has an empty label";
  if (label.size() > 63) return "has a label longer than 63 characters";
  if (label.front() == '-' || label.back() == '-') {
    return "has a label that starts or ends with \"-\"";
  }
  for (char c : label) {
    if (!absl::ascii_isalnum(c) && c != '-') {
      return absl::StrCat("holds \"", std::string(1, c),
                          "\" (letters, digits and \"-\" only)");
    }
  }
  return "";
}

}  // namespace

std::string Where(ParseContext& ctx, const Field& field) {
  return ctx.reader.diags().Where(field.mark);
}

bool ReadPath(ParseContext& ctx, const Field& field, bool required,
              std::string* out) {
  return yaml::ReadPath(ctx.reader, field, ctx.base_dir, required, out);
}

bool ReadExistingFile(ParseContext& ctx, const Field& field, bool required,
                      std::string* out) {
  std::string path;
  if (!ReadPath(ctx, field, required, &path)) return false;
  absl::StatusOr<FileInfo> info = ctx.fs.Stat(path);
  if (!info.ok()) {
    ctx.reader.Error(field, info.status().message());
    return false;
  }
  if (!info->exists) {
    ctx.reader.Error(field, absl::StrCat("\"", path, "\" does not exist"));
    return false;
  }
  if (info->is_directory) {
    ctx.reader.Error(field,
                     absl::StrCat("\"", path, "\" is a directory, not a file"));
    return false;
  }
  *out = std::move(path);
  return true;
}

bool ReadMode(ParseContext& ctx, const Field& field, mode_t* out) {
  Reader& r = ctx.reader;
  std::optional<std::string> text = r.Scalar(field, "a file mode");
  if (!text.has_value()) return false;
  absl::string_view digits = *text;
  absl::ConsumePrefix(&digits, "0o");
  unsigned value = 0;
  bool ok = !digits.empty() && digits.size() <= 4;
  for (char c : digits) {
    if (c < '0' || c > '7') ok = false;
    value = value * 8 + static_cast<unsigned>(c - '0');
  }
  if (!ok) {
    r.Error(field, absl::StrCat("\"", *text,
                                "\" is not a file mode (octal digits, such "
                                "as \"0640\")"));
    return false;
  }
  if (value > 0777) {
    r.Error(field, absl::StrCat("\"", *text,
                                "\" sets setuid, setgid or sticky bits; only "
                                "permission bits (at most 0777) are allowed"));
    return false;
  }
  *out = static_cast<mode_t>(value);
  return true;
}

bool ReadCommand(ParseContext& ctx, const Field& field,
                 std::vector<std::string>* out) {
  Reader& r = ctx.reader;
  if (!field.present()) return false;
  if (field.node.IsSequence() && field.node.size() == 0) {
    r.Error(field, "must hold the program and its arguments");
    return false;
  }
  std::vector<std::string> argv;
  bool ok = field.node.IsSequence();
  for (const auto& [element, arg] : r.Strings(field)) {
    if (argv.empty()) {
      if (arg.empty() || arg.front() != '/') {
        r.Error(element, absl::StrCat("\"", arg,
                                      "\" is not an absolute path (the "
                                      "command runs without a shell or PATH "
                                      "lookup)"));
        ok = false;
      } else if (absl::StatusOr<FileInfo> info = ctx.fs.Stat(arg); !info.ok()) {
        r.Error(element, info.status().message());
        ok = false;
      } else if (!info->exists) {
        r.Error(element, absl::StrCat("\"", arg, "\" does not exist"));
        ok = false;
      } else if (info->is_directory || (info->mode & 0111) == 0) {
        r.Error(element, absl::StrCat("\"", arg, "\" is not executable"));
        ok = false;
      }
    }
    argv.push_back(arg);
  }
  if (!ok || argv.empty()) return false;
  *out = std::move(argv);
  return true;
}

bool ReadDnsName(ParseContext& ctx, const Field& field, bool allow_wildcard,
                 std::string* out) {
  Reader& r = ctx.reader;
  std::optional<std::string> text = r.Scalar(field, "a DNS name");
  if (!text.has_value()) return false;
  std::string name = absl::AsciiStrToLower(*text);
  if (!name.empty() && name.back() == '.') name.pop_back();
  std::string problem;
  if (name.empty()) {
    problem = "is empty";
  } else if (name.size() > 253) {
    problem = "is longer than 253 characters";
  } else {
    const std::vector<absl::string_view> labels = absl::StrSplit(name, '.');
    for (size_t i = 0; i < labels.size() && problem.empty(); ++i) {
      if (labels[i] == "*" && i == 0 && labels.size() > 2) {
        if (!allow_wildcard) problem = "is a wildcard (not allowed here)";
        continue;
      }
      problem = LabelProblem(labels[i]);
    }
  }
  if (!problem.empty()) {
    r.Error(field, absl::StrCat("\"", *text, "\" is not a valid DNS name: it ",
                                problem));
    return false;
  }
  *out = std::move(name);
  return true;
}

bool ReadTargetName(ParseContext& ctx, const Field& field, std::string* out) {
  return yaml::ReadObjectName(ctx.reader, field, "target name", out);
}

}  // namespace certfleet::agent::internal
