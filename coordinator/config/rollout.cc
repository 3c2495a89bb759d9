// rollout: how a new certificate version reaches its targets (sections.h).
// The top-level section is the default for every certificate; a
// certificate's own `rollout` overrides it field by field.
#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/labels.h"
#include "common/yaml/duration.h"
#include "coordinator/config/sections.h"

namespace certfleet::config::internal {
namespace {

using rollout::MaintenanceWindow;
using rollout::Quantity;
using rollout::RolloutPolicy;

constexpr int kMinutesPerDay = 24 * 60;

constexpr const char* kDayChoices =
    "mon, tue, wed, thu, fri, sat, sun, or a range such as mon-fri";

// A quantity of hosts; a count must be at least 1 (`zero_count` says why a
// count of 0 makes no sense for this field).
bool ReadQuantity(ParseContext& ctx, const Field& field,
                  absl::string_view zero_count, Quantity* out) {
  Reader& r = ctx.reader;
  std::optional<std::string> text =
      r.Scalar(field, "a number of hosts or a percentage");
  if (!text.has_value()) return false;
  absl::StatusOr<Quantity> q = rollout::ParseQuantity(*text);
  if (!q.ok()) {
    r.Error(field, q.status().message());
    return false;
  }
  if (q->kind == Quantity::Kind::kCount && q->value == 0) {
    r.Error(field, absl::StrCat("must be at least 1 (", zero_count, ")"));
    return false;
  }
  *out = *q;
  return true;
}

// Waves are cumulative: within counts and within percentages each must be
// larger than the one before, and the last moves everyone.
void ReadWaves(ParseContext& ctx, const Field& field,
               std::vector<Quantity>* out) {
  Reader& r = ctx.reader;
  if (!field.present()) return;
  if (field.node.IsSequence() && field.node.size() == 0) {
    r.Error(field, "must list at least one wave (the last one 100%)");
    return;
  }
  std::vector<Quantity> waves;
  bool ok = true;
  std::optional<std::pair<Quantity, std::string>> last_count, last_percent;
  Field last_element;
  for (const auto& [element, text] : r.Strings(field)) {
    last_element = element;
    absl::StatusOr<Quantity> q = rollout::ParseQuantity(text);
    if (!q.ok()) {
      r.Error(element, q.status().message());
      ok = false;
      continue;
    }
    if (q->kind == Quantity::Kind::kCount && q->value == 0) {
      r.Error(element, "a wave must move at least one host");
      ok = false;
      continue;
    }
    auto& previous =
        q->kind == Quantity::Kind::kCount ? last_count : last_percent;
    if (previous.has_value() && q->value <= previous->first.value) {
      r.Error(element,
              absl::StrCat(rollout::FormatQuantity(*q),
                           " is not more than the earlier wave ",
                           rollout::FormatQuantity(previous->first), " (",
                           previous->second,
                           "): waves are cumulative, so each count and each "
                           "percentage must be larger than the one before"));
      ok = false;
    }
    previous.emplace(*q, element.path);
    waves.push_back(*q);
  }
  // Strings() reports and skips elements that are not scalars.
  if (!ok || !field.node.IsSequence() || waves.size() != field.node.size()) {
    return;
  }
  if (waves.back() != Quantity::Percent(100)) {
    r.Error(last_element,
            absl::StrCat("the last wave must be 100% (got ",
                         rollout::FormatQuantity(waves.back()),
                         "): waves are cumulative shares and the last one "
                         "moves every target"));
    return;
  }
  *out = std::move(waves);
}

const char* DayName(absl::Weekday day) {
  static constexpr const char* kNames[] = {"mon", "tue", "wed", "thu",
                                           "fri", "sat", "sun"};
  return kNames[static_cast<int>(day)];
}

std::optional<absl::Weekday> ParseWeekday(absl::string_view text) {
  static constexpr std::pair<const char*, absl::Weekday> kDays[] = {
      {"mon", absl::Weekday::monday},    {"tue", absl::Weekday::tuesday},
      {"wed", absl::Weekday::wednesday}, {"thu", absl::Weekday::thursday},
      {"fri", absl::Weekday::friday},    {"sat", absl::Weekday::saturday},
      {"sun", absl::Weekday::sunday}};
  static constexpr const char* kFullNames[] = {
      "monday", "tuesday",  "wednesday", "thursday",
      "friday", "saturday", "sunday"};
  const std::string lower =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  for (size_t i = 0; i < 7; ++i) {
    if (lower == kDays[i].first || lower == kFullNames[i]) {
      return kDays[i].second;
    }
  }
  return std::nullopt;
}

// "mon", "Monday", or a range "mon-fri" (wrapping: "fri-mon" is Friday to
// Monday). Empty list = every day, which is what leaving `days` out says.
bool ReadDays(ParseContext& ctx, const Field& field,
              std::vector<absl::Weekday>* out) {
  Reader& r = ctx.reader;
  if (!field.present()) return true;
  std::vector<std::pair<Field, std::string>> items;
  if (field.node.IsScalar()) {  // `days: mon-fri`
    std::optional<std::string> text = r.Scalar(field);
    if (!text.has_value()) return false;
    items.emplace_back(field, *std::move(text));
  } else if (field.node.IsSequence() && field.node.size() == 0) {
    r.Error(field, "must list at least one day (leave days out for every day)");
    return false;
  } else {
    items = r.Strings(field);
    if (!field.node.IsSequence() || items.size() != field.node.size()) {
      return false;  // reported
    }
  }
  bool ok = true;
  std::vector<std::string> listed_by(7);  // weekday → path of the item
  for (const auto& [element, text] : items) {
    const std::vector<absl::string_view> ends =
        absl::StrSplit(text, absl::MaxSplits('-', 1));
    std::optional<absl::Weekday> first = ParseWeekday(ends[0]);
    std::optional<absl::Weekday> last =
        ends.size() == 2 ? ParseWeekday(ends[1]) : first;
    if (!first.has_value() || !last.has_value()) {
      r.Error(element,
              absl::StrCat("\"", text, "\" is not a day (", kDayChoices, ")"));
      ok = false;
      continue;
    }
    for (int d = static_cast<int>(*first);; d = (d + 1) % 7) {
      const auto day = static_cast<absl::Weekday>(d);
      if (!listed_by[d].empty()) {
        r.Error(element, absl::StrCat("\"", text, "\" includes ", DayName(day),
                                      ", already listed by ", listed_by[d]));
        ok = false;
        break;
      }
      listed_by[d] = element.path;
      out->push_back(day);
      if (day == *last) break;
    }
  }
  std::sort(out->begin(), out->end());
  return ok;
}

// "HH:MM" (or "H:MM"), 00:00 to 24:00; minutes after midnight.
std::optional<int> ParseTimeOfDay(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  const std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  if (parts.size() != 2 || parts[0].empty() || parts[0].size() > 2 ||
      parts[1].size() != 2) {
    return std::nullopt;
  }
  for (absl::string_view p : parts) {
    if (!std::all_of(p.begin(), p.end(),
                     [](char c) { return absl::ascii_isdigit(c); })) {
      return std::nullopt;
    }
  }
  int hour = 0, minute = 0;
  if (!absl::SimpleAtoi(parts[0], &hour) ||
      !absl::SimpleAtoi(parts[1], &minute) || minute > 59 || hour > 24 ||
      (hour == 24 && minute != 0)) {
    return std::nullopt;
  }
  return hour * 60 + minute;
}

// "09:00-16:00"; an end before the start spans midnight ("22:00-04:00");
// an end of 00:00 or 24:00 is the end of the day.
bool ReadHours(ParseContext& ctx, const Field& field, MaintenanceWindow* out) {
  Reader& r = ctx.reader;
  std::optional<std::string> text = r.Scalar(field, "a range of hours");
  if (!text.has_value()) return !field.present();
  const std::vector<absl::string_view> ends = absl::StrSplit(*text, '-');
  std::optional<int> start, end;
  if (ends.size() == 2) {
    start = ParseTimeOfDay(ends[0]);
    end = ParseTimeOfDay(ends[1]);
  }
  if (!start.has_value() || !end.has_value()) {
    r.Error(field, absl::StrCat("\"", *text,
                                "\" is not a range of hours (write "
                                "HH:MM-HH:MM, such as 09:00-16:00 or "
                                "22:00-04:00)"));
    return false;
  }
  if (*start == kMinutesPerDay) {
    r.Error(field, absl::StrCat("\"", *text,
                                "\": a window cannot start at 24:00 (write "
                                "00:00)"));
    return false;
  }
  if (*end == 0) *end = kMinutesPerDay;
  if (*start == *end) {
    r.Error(field, absl::StrCat("\"", *text,
                                "\" is an empty window (for the whole day "
                                "write 00:00-24:00, or leave hours out)"));
    return false;
  }
  out->start_minute = *start;
  out->end_minute = *end;
  return true;
}

bool ReadTimeZone(ParseContext& ctx, const Field& field,
                  MaintenanceWindow* out) {
  Reader& r = ctx.reader;
  std::string name;
  if (!r.String(field, &name)) return !field.present();
  if (name.empty()) {
    r.Error(field, "must not be empty (an IANA name such as Europe/Berlin)");
    return false;
  }
  // "localtime" would make the window depend on the coordinator host.
  absl::TimeZone zone;
  if (name == "localtime" || !absl::LoadTimeZone(name, &zone)) {
    r.Error(field, absl::StrCat("unknown time zone \"", name,
                                "\" (an IANA name such as Europe/Berlin, "
                                "America/New_York or UTC)"));
    return false;
  }
  out->time_zone = std::move(name);
  out->zone = zone;
  return true;
}

// A present `windows` replaces the base's, so `windows: []` in a
// certificate means "any time" even when the default has windows.
void ReadWindows(ParseContext& ctx, const Field& field,
                 std::vector<MaintenanceWindow>* out) {
  Reader& r = ctx.reader;
  if (!field.present()) return;
  std::vector<MaintenanceWindow> windows;
  bool ok = field.node.IsSequence();
  for (const Field& item : r.List(field)) {
    if (!item.present()) {
      r.Error(item, "empty list element");
      ok = false;
      continue;
    }
    const Mapping m = r.Map(item, {"days", "hours", "time_zone"});
    if (!item.node.IsMap()) {
      ok = false;
      continue;
    }
    MaintenanceWindow w;
    // Each reader reports its own problems; read all three regardless.
    const bool days_ok = ReadDays(ctx, m.Get("days"), &w.days);
    const bool hours_ok = ReadHours(ctx, m.Get("hours"), &w);
    const bool zone_ok = ReadTimeZone(ctx, m.Get("time_zone"), &w);
    ok = ok && days_ok && hours_ok && zone_ok;
    windows.push_back(std::move(w));
  }
  if (ok) *out = std::move(windows);
}

}  // namespace

void ParseRollout(ParseContext& ctx, const Field& field,
                  const RolloutPolicy& base, RolloutPolicy* out) {
  Reader& r = ctx.reader;
  *out = base;
  const Mapping m =
      r.Map(field, {"waves", "pool_label", "max_unavailable", "bake_time",
                    "health_timeout", "failure_threshold", "windows",
                    "urgent_within"});
  ReadWaves(ctx, m.Get("waves"), &out->waves);
  const Field pool_label = m.Get("pool_label");
  std::string label;
  if (r.String(pool_label, &label)) {
    // Any valid value will do: only the key is checked here.
    if (absl::Status s = labels::CheckLabel(label, "x");
        !label.empty() && !s.ok()) {
      r.Error(pool_label, s.message());
    } else {
      out->pool_label = std::move(label);
    }
  }
  ReadQuantity(ctx, m.Get("max_unavailable"), "0 would never let a host change",
               &out->max_unavailable);
  ctx.reader.NonNegativeDuration(m.Get("bake_time"), &out->bake_time);
  r.PositiveDuration(m.Get("health_timeout"), &out->health_timeout);
  ReadQuantity(ctx, m.Get("failure_threshold"),
               "the rollout halts when this many targets have failed",
               &out->failure_threshold);
  ReadWindows(ctx, m.Get("windows"), &out->windows);
  r.PositiveDuration(m.Get("urgent_within"), &out->urgent_within);
}

}  // namespace certfleet::config::internal
