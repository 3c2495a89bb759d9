#include "coordinator/rollout/policy.h"

#include <algorithm>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace certfleet::rollout {
namespace {

constexpr int kMinutesPerDay = 24 * 60;
// How far NextWindowOpening looks: a week, plus a day on each side for
// windows that span midnight and for offset changes.
constexpr int kSearchDays = 9;

absl::Status NotAQuantity(absl::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("\"", text,
                   "\" is not a number of hosts or a percentage (write a "
                   "whole number such as 3, or a whole percentage such as "
                   "10%)"));
}

bool AllDigits(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_isdigit(c);
  });
}

bool DayAllowed(const MaintenanceWindow& w, absl::Weekday day) {
  return w.days.empty() ||
         std::find(w.days.begin(), w.days.end(), day) != w.days.end();
}

// A window that can never contain an instant.
bool IsEmpty(const MaintenanceWindow& w) {
  return w.start_minute == w.end_minute || w.start_minute < 0 ||
         w.start_minute >= kMinutesPerDay || w.end_minute < 0 ||
         w.end_minute > kMinutesPerDay;
}

// Membership is decided on the local wall clock: the window is open when the
// clock in its zone reads a time inside it, on an allowed day. Across a DST
// change that is what an operator means by "09:00-16:00 Berlin time".
bool InWindow(const MaintenanceWindow& w, absl::Time t) {
  if (IsEmpty(w)) return false;
  const absl::CivilSecond local = absl::ToCivilSecond(t, w.zone);
  const int minute = local.hour() * 60 + local.minute();
  const absl::CivilDay day(local);
  if (w.start_minute < w.end_minute) {
    return minute >= w.start_minute && minute < w.end_minute &&
           DayAllowed(w, absl::GetWeekday(day));
  }
  // Spans midnight: the evening part belongs to today, the early-morning
  // part to the window that opened yesterday.
  if (minute >= w.start_minute) return DayAllowed(w, absl::GetWeekday(day));
  if (minute < w.end_minute) return DayAllowed(w, absl::GetWeekday(day - 1));
  return false;
}

// The first instant at or after `t` inside `w`, when it is within the
// search horizon; InfiniteFuture otherwise. `t` is outside `w`.
absl::Time NextOpening(const MaintenanceWindow& w, absl::Time t) {
  if (IsEmpty(w)) return absl::InfiniteFuture();
  absl::Time best = absl::InfiniteFuture();
  auto consider = [&](absl::Time candidate) {
    if (candidate >= t && candidate < best && InWindow(w, candidate)) {
      best = candidate;
    }
  };
  // The window opens when the wall clock first reads its start on an
  // allowed day. A start inside a DST gap is reached at the transition
  // (`trans`); a start in a repeated hour is reached twice (`pre`, then
  // `post`, which matters when `t` lies between the two).
  const absl::CivilDay today(absl::ToCivilSecond(t, w.zone));
  for (int i = -1; i < kSearchDays; ++i) {
    const absl::CivilDay day = today + i;
    if (!DayAllowed(w, absl::GetWeekday(day))) continue;
    const absl::TimeZone::TimeInfo info =
        w.zone.At(absl::CivilSecond(day) + w.start_minute * 60);
    consider(info.pre);
    consider(info.trans);
    consider(info.post);
  }
  // A clock turned back can also land inside a window part-way through it
  // (window 01:30-02:30, `t` at 02:40 before clocks go back to 02:00).
  const absl::Time horizon = t + absl::Hours(24 * kSearchDays);
  absl::Time from = t;
  absl::TimeZone::CivilTransition transition;
  while (from < horizon && w.zone.NextTransition(from, &transition)) {
    const absl::Time at = w.zone.At(transition.to).trans;
    if (at <= from) break;  // no progress: defensive against odd zone data
    consider(at);
    from = at;
  }
  return best;
}

}  // namespace

absl::StatusOr<Quantity> ParseQuantity(absl::string_view text) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (trimmed.empty()) {
    return absl::InvalidArgumentError(
        "empty; expected a number of hosts such as 3 or a percentage such "
        "as 10%");
  }
  absl::string_view number = trimmed;
  const bool percent = absl::ConsumeSuffix(&number, "%");
  if (absl::StartsWith(number, "-") && AllDigits(number.substr(1))) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", trimmed, "\" is negative"));
  }
  double fractional = 0;
  if (!AllDigits(number) && absl::StrContains(number, '.') &&
      absl::SimpleAtod(number, &fractional)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", trimmed, "\" is not a whole ",
        percent ? "percentage (write 1% to 100% without a fraction)"
                : "number of hosts"));
  }
  int value = 0;
  // AllDigits first: SimpleAtoi would also take "+3" and " 3".
  if (!AllDigits(number) || !absl::SimpleAtoi(number, &value)) {
    if (AllDigits(number)) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", trimmed, "\" is too large"));
    }
    return NotAQuantity(trimmed);
  }
  if (!percent) return Quantity::Count(value);
  if (value < 1 || value > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", trimmed, "\" is not a percentage from 1% to 100%"));
  }
  return Quantity::Percent(value);
}

std::string FormatQuantity(const Quantity& q) {
  return q.kind == Quantity::Kind::kPercent ? absl::StrCat(q.value, "%")
                                            : absl::StrCat(q.value);
}

int ResolveQuantity(const Quantity& q, int total) {
  if (total <= 0 || q.value <= 0) return 0;
  if (q.kind == Quantity::Kind::kCount) return std::min(q.value, total);
  const int64_t share = (static_cast<int64_t>(q.value) * total + 99) / 100;
  return static_cast<int>(std::min<int64_t>(share, total));
}

bool InMaintenanceWindow(const std::vector<MaintenanceWindow>& windows,
                         absl::Time t) {
  if (windows.empty()) return true;
  return std::any_of(
      windows.begin(), windows.end(),
      [t](const MaintenanceWindow& w) { return InWindow(w, t); });
}

absl::Time NextWindowOpening(const std::vector<MaintenanceWindow>& windows,
                             absl::Time t) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return t;
  if (InMaintenanceWindow(windows, t)) return t;
  absl::Time best = absl::InfiniteFuture();
  for (const MaintenanceWindow& w : windows) {
    best = std::min(best, NextOpening(w, t));
  }
  return best;
}

}  // namespace certfleet::rollout
