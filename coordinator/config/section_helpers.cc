// Helpers shared by the section readers (declared in sections.h).
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/yaml/secrets.h"
#include "common/yaml/shared_fields.h"
#include "coordinator/config/sections.h"

namespace certfleet::config::internal {

bool ReadObjectName(ParseContext& ctx, const Field& field, std::string* out) {
  return yaml::ReadObjectName(ctx.reader, field, "name", out);
}

bool ReadPath(ParseContext& ctx, const Field& field, bool required,
              std::string* out) {
  return yaml::ReadPath(ctx.reader, field, ctx.base_dir, required, out);
}

std::optional<Field> ReadSecret(ParseContext& ctx, const Mapping& m,
                                const char* inline_key, const char* file_key,
                                std::string* out) {
  Reader& r = ctx.reader;
  const Field inline_field = m.Get(inline_key);
  const Field file_field = m.Get(file_key);
  if (inline_field.present() && file_field.present()) {
    r.Error(file_field, absl::StrCat("set either ", inline_key, " or ",
                                     file_key, ", not both"));
    return std::nullopt;
  }
  if (inline_field.present()) {
    std::string secret;
    if (!r.String(inline_field, &secret)) return std::nullopt;
    secret = std::string(absl::StripAsciiWhitespace(secret));
    if (secret.empty()) {
      r.Error(inline_field, "must not be empty");
      return std::nullopt;
    }
    *out = std::move(secret);
    return inline_field;
  }
  if (file_field.present()) {
    std::string path;
    if (!ReadPath(ctx, file_field, /*required=*/true, &path)) {
      return std::nullopt;
    }
    absl::StatusOr<std::string> secret = ReadSecretFile(ctx.fs, path);
    if (!secret.ok()) {
      r.Error(file_field, secret.status().message());
      return std::nullopt;
    }
    *out = *std::move(secret);
    return file_field;
  }
  r.Error(inline_field,
          absl::StrCat("required field is missing (or set ", file_key, ")"));
  return std::nullopt;
}

bool ReadKeyType(ParseContext& ctx, const Field& field, crypto::KeyType* out) {
  Reader& r = ctx.reader;
  std::optional<std::string> text = r.Scalar(field, "a key type");
  if (!text.has_value()) return false;
  std::optional<crypto::KeyType> type = crypto::ParseKeyType(*text);
  if (!type.has_value()) {
    r.Error(field, absl::StrCat("\"", *text, "\" is not one of ",
                                crypto::KeyTypeChoices()));
    return false;
  }
  *out = *type;
  return true;
}

std::string Where(ParseContext& ctx, const Field& field) {
  return ctx.reader.diags().Where(field.mark);
}

void Warn(ParseContext& ctx, const Field& field, absl::string_view message) {
  if (ctx.warnings == nullptr) return;
  ctx.warnings->push_back(
      absl::StrCat(Where(ctx, field), ": ", field.path, ": ", message));
}

}  // namespace certfleet::config::internal
