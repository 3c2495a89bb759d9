#include "bench/loadgen_process.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/child_process.h"
#include "bench/measured_process.h"
#include "common/status_macros.h"

namespace certfleet::bench {
namespace {

absl::Time FromUnixMicrosOrPast(int64_t us) {
  return us == 0 ? absl::InfinitePast() : absl::FromUnixMicros(us);
}

}  // namespace

bool ParseLoadgenStatus(absl::string_view line, LoadgenStatus* out) {
  int64_t now_us = 0, all_us = 0, last_result_us = 0;
  int fields = 0;
  for (absl::string_view part : absl::StrSplit(line, ' ')) {
    const size_t eq = part.find('=');
    if (eq == absl::string_view::npos) continue;
    const absl::string_view key = part.substr(0, eq);
    int64_t v = 0;
    if (!absl::SimpleAtoi(part.substr(eq + 1), &v)) return false;
    ++fields;
    if (key == "now_us") now_us = v;
    if (key == "connected") out->connected = static_cast<size_t>(v);
    if (key == "attempts") out->attempts = static_cast<size_t>(v);
    if (key == "ended") out->ended = static_cast<size_t>(v);
    if (key == "gave_up") out->gave_up = static_cast<size_t>(v);
    if (key == "all_us") all_us = v;
    if (key == "results") out->results = static_cast<size_t>(v);
    if (key == "last_result_us") last_result_us = v;
  }
  if (fields < 6) return false;
  out->at = absl::FromUnixMicros(now_us);
  out->all_connected_at = FromUnixMicrosOrPast(all_us);
  out->last_result_at = FromUnixMicrosOrPast(last_result_us);
  return true;
}

absl::StatusOr<Loadgen> Loadgen::Start(const LoadgenSpec& spec) {
  Loadgen lg;
  lg.log_path_ = spec.log_path;
  ASSIGN_OR_RETURN(
      lg.pid_,
      SpawnChild({.argv = {spec.loadgen, "--address", spec.address, "--ca",
                           spec.ca_path, "--identities", spec.identities_path,
                           "--max-connecting",
                           absl::StrCat(spec.max_connecting), "--reconnect"},
                  .output_path = spec.log_path}));
  return lg;
}

Loadgen::Loadgen(Loadgen&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)),
      log_path_(std::move(other.log_path_)) {}

Loadgen& Loadgen::operator=(Loadgen&& other) noexcept {
  if (this != &other) {
    Stop();
    pid_ = std::exchange(other.pid_, 0);
    log_path_ = std::move(other.log_path_);
  }
  return *this;
}

Loadgen::~Loadgen() { Stop(); }

void Loadgen::Stop() {
  if (pid_ > 0) StopChildren({pid_}, absl::Seconds(10));
  pid_ = 0;
}

absl::StatusOr<LoadgenStatus> Loadgen::Status() {
  if (pid_ > 0 && WaitChild(pid_, absl::ZeroDuration()).ok()) {
    pid_ = 0;  // exited, reaped
    return absl::FailedPreconditionError(
        absl::StrCat("the load generator exited; its output ends:\n",
                     FileTail(log_path_, 1500)));
  }
  const std::string tail = FileTail(log_path_, 4096);
  // The last complete status line.
  size_t end = tail.rfind('\n');
  while (end != std::string::npos && end > 0) {
    const size_t begin = tail.rfind('\n', end - 1);
    const size_t from = begin == std::string::npos ? 0 : begin + 1;
    const absl::string_view line(tail.data() + from, end - from);
    LoadgenStatus status;
    if (absl::StartsWith(line, "status ") &&
        ParseLoadgenStatus(line, &status)) {
      return status;
    }
    if (begin == std::string::npos) break;
    end = begin;
  }
  return absl::UnavailableError("no status line from the load generator yet");
}

}  // namespace certfleet::bench
