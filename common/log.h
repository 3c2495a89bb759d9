// Process-wide structured logging. Only log.cc includes spdlog, so the rest of
// the code base stays cheap to compile.
//
//   CF_LOG_INFO("order %s placed for certificate %s", url, name);
//   CF_LOG_WARN("issuer %s: %s; retrying in %s", issuer, status.ToString(), d);
#ifndef CERTFLEET_COMMON_LOG_H_
#define CERTFLEET_COMMON_LOG_H_

#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace certfleet {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Writes one line to stderr: time, level, message.
void LogMessage(LogLevel level, absl::string_view message);
bool LogEnabled(LogLevel level);
// Lines below `level` are dropped. Default: kInfo.
void SetLogLevel(LogLevel level);
// Parses "debug", "info", "warning", "error".
bool ParseLogLevel(absl::string_view text, LogLevel* level);

}  // namespace certfleet

#define CF_LOG_AT_(level, ...)                                        \
  do {                                                                \
    if (::certfleet::LogEnabled(level)) {                             \
      ::certfleet::LogMessage(level, ::absl::StrFormat(__VA_ARGS__)); \
    }                                                                 \
  } while (0)
#define CF_LOG_DEBUG(...) CF_LOG_AT_(::certfleet::LogLevel::kDebug, __VA_ARGS__)
#define CF_LOG_INFO(...) CF_LOG_AT_(::certfleet::LogLevel::kInfo, __VA_ARGS__)
#define CF_LOG_WARN(...) \
  CF_LOG_AT_(::certfleet::LogLevel::kWarning, __VA_ARGS__)
#define CF_LOG_ERROR(...) CF_LOG_AT_(::certfleet::LogLevel::kError, __VA_ARGS__)

#endif  // CERTFLEET_COMMON_LOG_H_
