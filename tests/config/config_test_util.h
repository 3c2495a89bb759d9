// Shared by the config tests: a small valid coordinator.yaml whose line
// numbers the error tests rely on, and helpers to parse variations of it.
//
//   absl::StatusOr<CoordinatorConfig> c = ParseValidWith("issuer: pebble",
//                                                        "issuer: nope");
#ifndef CERTFLEET_TESTS_CONFIG_CONFIG_TEST_UTIL_H_
#define CERTFLEET_TESTS_CONFIG_CONFIG_TEST_UTIL_H_

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "coordinator/config/config.h"
#include "gtest/gtest.h"
#include "tests/config/memory_filesystem.h"

namespace certfleet::config::testing {

inline constexpr char kSource[] = "coordinator.yaml";

// Line numbers (1-based) are part of the tests: keep them.
// clang-format off
inline constexpr char kValid[] =
    /*  1 */ "store:\n"
    /*  2 */ "  path: /var/lib/certfleet/coordinator.db\n"
    /*  3 */ "key_encryption_key_file: /etc/certfleet/kek\n"
    /*  4 */ "dns:\n"
    /*  5 */ "  resolvers: [127.0.0.1:5353]\n"
    /*  6 */ "issuers:\n"
    /*  7 */ "  - name: pebble\n"
    /*  8 */ "    directory: https://127.0.0.1:14000/dir\n"
    /*  9 */ "dns_providers:\n"
    /* 10 */ "  - name: lab-bind\n"
    /* 11 */ "    type: rfc2136\n"
    /* 12 */ "    zones: [example.test]\n"
    /* 13 */ "    rfc2136:\n"
    /* 14 */ "      server: 127.0.0.1:5353\n"
    /* 15 */ "      tsig_key_name: certfleet\n"
    /* 16 */ "      tsig_secret: c2VjcmV0LXNlY3JldA==\n"
    /* 17 */ "certificates:\n"
    /* 18 */ "  - name: www\n"
    /* 19 */ "    names: [www.example.test]\n"
    /* 20 */ "    issuer: pebble\n";
// clang-format on

// Runs ParseConfig with `env` as the whole environment.
inline absl::StatusOr<CoordinatorConfig> ParseText(
    absl::string_view yaml, Filesystem& fs,
    const std::map<std::string, std::string>& env = {}) {
  return ParseConfig(
      yaml, kSource, fs,
      [env](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
      });
}

// kValid with the one occurrence of `from` replaced by `to`.
inline std::string ValidWith(absl::string_view from, absl::string_view to) {
  const absl::string_view text(kValid);
  const size_t at = text.find(from);
  EXPECT_NE(at, absl::string_view::npos) << from;
  EXPECT_EQ(text.find(from, at + 1), absl::string_view::npos) << from;
  if (at == absl::string_view::npos) return std::string(text);
  return absl::StrCat(text.substr(0, at), to, text.substr(at + from.size()));
}

// The error message of parsing kValid with `from` replaced by `to`, or
// "OK" when it parses.
inline std::string ErrorOfValidWith(
    absl::string_view from, absl::string_view to,
    const std::map<std::string, std::string>& env);

// Like ErrorOfValidWith, with dns.follow_cname off (written on the same two
// lines, so line numbers stay those of kValid).
inline std::string ErrorOfStrictValidWith(absl::string_view from,
                                          absl::string_view to);

// The error message of parsing kValid with `from` replaced by `to`, or
// "OK" when it parses.
inline std::string ErrorOfText(const std::string& text,
                               const std::map<std::string, std::string>& env) {
  MemoryFilesystem fs;
  absl::StatusOr<CoordinatorConfig> c = ParseText(text, fs, env);
  if (c.ok()) return "OK";
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(c.status().message());
}

inline std::string ErrorOfStrictValidWith(absl::string_view from,
                                          absl::string_view to) {
  std::string text = ValidWith(from, to);
  const std::string dns = "dns:\n  resolvers: [127.0.0.1:5353]\n";
  const size_t at = text.find(dns);
  EXPECT_NE(at, std::string::npos);
  text.replace(
      at, dns.size(),
      "dns: {resolvers: [127.0.0.1:5353],\n      follow_cname: false}\n");
  return ErrorOfText(text, {});
}

inline std::string ErrorOfValidWith(
    absl::string_view from, absl::string_view to,
    const std::map<std::string, std::string>& env = {}) {
  MemoryFilesystem fs;
  absl::StatusOr<CoordinatorConfig> c = ParseText(ValidWith(from, to), fs, env);
  if (c.ok()) return "OK";
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(c.status().message());
}

}  // namespace certfleet::config::testing

#endif  // CERTFLEET_TESTS_CONFIG_CONFIG_TEST_UTIL_H_
