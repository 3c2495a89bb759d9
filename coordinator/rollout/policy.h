// How a new certificate version reaches a fleet: in waves (canary first),
// never more than a share of a pool at once, each wave baked and gated on
// health, halted past a failure threshold, and — unless the version being
// served is about to expire — only inside maintenance windows.
//
// Loaded from coordinator.yaml (`rollout:` as the default, overridden field
// by field under `certificates[].rollout`); used by the rollout controller.
//
//   RolloutPolicy p;                               // the defaults
//   int canary = ResolveQuantity(p.waves[0], 40);  // 1 host
//   bool now_ok = InMaintenanceWindow(p.windows, absl::Now());
#ifndef CERTFLEET_COORDINATOR_ROLLOUT_POLICY_H_
#define CERTFLEET_COORDINATOR_ROLLOUT_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certfleet::rollout {

// A number of hosts, or a share of some total ("3", "10%").
struct Quantity {
  enum class Kind { kCount, kPercent };
  Kind kind = Kind::kCount;
  int value = 0;  // hosts (≥ 0), or percent (1–100)

  static Quantity Count(int n) { return {Kind::kCount, n}; }
  static Quantity Percent(int p) { return {Kind::kPercent, p}; }
  bool operator==(const Quantity&) const = default;
};

// "3" or "10%"; kInvalidArgument naming what is wrong.
absl::StatusOr<Quantity> ParseQuantity(absl::string_view text);
// "3" or "10%".
std::string FormatQuantity(const Quantity& q);

// `q` of `total` hosts: a count is capped at `total`; a percentage rounds
// up, so any non-zero share of a non-empty set is at least one host.
int ResolveQuantity(const Quantity& q, int total);

// Days and hours when routine rollouts may move hosts, in a time zone:
// e.g. Tuesday–Thursday 09:00–16:00 Europe/Berlin. An end before the start
// spans midnight (22:00–04:00 belongs to the day it starts on).
struct MaintenanceWindow {
  // absl::Weekday values allowed; empty = every day. For a window spanning
  // midnight, the day it starts on.
  std::vector<absl::Weekday> days;
  int start_minute = 0;           // minutes after local midnight, 0–1439
  int end_minute = 24 * 60;       // exclusive, 1–1440
  std::string time_zone = "UTC";  // IANA name
  absl::TimeZone zone = absl::UTCTimeZone();  // loaded from time_zone
};

// True when `windows` is empty or `t` lies in one of them.
bool InMaintenanceWindow(const std::vector<MaintenanceWindow>& windows,
                         absl::Time t);
// The first instant at or after `t` inside a window (`t` itself when
// already inside or when there are no windows); InfiniteFuture when no
// window ever opens (every window empty: start_minute == end_minute).
// DST-correct: a start skipped by clocks going forward opens at the change;
// clocks going back can reopen a window.
absl::Time NextWindowOpening(const std::vector<MaintenanceWindow>& windows,
                             absl::Time t);

struct RolloutPolicy {
  // Cumulative share of the certificate's targets moved by the end of each
  // wave; the last must cover everyone. Loading checks that counts increase,
  // percentages increase and the last is 100%. Where counts and percentages
  // mix ([5, 10%, 100%] on 20 hosts: 5, 2, 20), a wave resolving to no more
  // than the hosts already moved moves none: take the running maximum.
  std::vector<Quantity> waves = {Quantity::Count(1), Quantity::Percent(10),
                                 Quantity::Percent(50), Quantity::Percent(100)};
  // Hosts are grouped into pools by this agent label ("" = one pool); hosts
  // without the label form a pool of their own.
  std::string pool_label = "pool";
  // Per pool, at most this many of its targets may be changing (delivered,
  // not yet healthy on the new version) at once.
  Quantity max_unavailable = Quantity::Percent(25);
  // After a wave is all healthy, wait this long (watching health) before
  // the next one starts.
  absl::Duration bake_time = absl::Minutes(5);
  // A delivered host must report healthy on the new version within this,
  // or it counts as failed.
  absl::Duration health_timeout = absl::Minutes(10);
  // This many failed hosts halt the rollout and revert the hosts it moved.
  Quantity failure_threshold = Quantity::Count(1);
  // Empty: any time.
  std::vector<MaintenanceWindow> windows;
  // When the version a target serves expires within this, windows are
  // ignored (a rollout that waits would cause the outage it avoids).
  absl::Duration urgent_within = absl::Hours(24 * 7);
};

}  // namespace certfleet::rollout

#endif  // CERTFLEET_COORDINATOR_ROLLOUT_POLICY_H_
