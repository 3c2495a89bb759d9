// The value cells of the three Prometheus metric types: Counter, Gauge and
// Histogram. One cell is one time series (one label-value combination of a
// family); callers get them from a Family (family.h) and cache the pointer,
// so the hot path is a single atomic operation with no lookup and no lock.
//
//   metrics::Counter* renewed = renewals.WithLabels({"example.com"});
//   renewed->Increment();
//   latency->Observe(0.042);
#ifndef CERTFLEET_COMMON_METRICS_METRIC_H_
#define CERTFLEET_COMMON_METRICS_METRIC_H_

#include <atomic>
#include <cassert>
#include <cstdint>
#include <memory>
#include <vector>

namespace certfleet::metrics {

// The hot path must not fall back to a lock inside std::atomic.
static_assert(std::atomic<double>::is_always_lock_free);
static_assert(std::atomic<uint64_t>::is_always_lock_free);

// A value that only goes up (requests served, renewals failed). Thread-safe.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds `amount`. Fractional amounts are exact to double precision (the
  // value is a std::atomic<double> updated by compare-exchange, not a
  // fixed-point integer). A negative or NaN amount is a caller bug: it
  // aborts in debug builds and is ignored otherwise, because a counter that
  // goes down reads as a process restart to Prometheus' rate().
  void Increment(double amount = 1) {
    assert(amount >= 0 &&
           "metrics::Counter::Increment: negative or NaN amount");
    if (!(amount >= 0)) return;
    value_.fetch_add(amount, std::memory_order_relaxed);
  }

  // The current value.
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down (certificate expiry time, queue length).
// Thread-safe.
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  // Replaces the value.
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  // Adds `delta`, which may be negative.
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }

  // The current value.
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A consistent-enough copy of a histogram for rendering.
struct HistogramSnapshot {
  // cumulative[i] = observations <= bounds[i]; the last element is the
  // +Inf bucket and equals `count`.
  std::vector<uint64_t> cumulative;
  double sum = 0;
  uint64_t count = 0;
};

// Observations counted into fixed buckets (latencies, sizes). Thread-safe.
class Histogram {
 public:
  // `bounds` are the finite upper bounds, strictly increasing; the +Inf
  // bucket is implicit. They are owned by the family, which outlives every
  // series it hands out.
  explicit Histogram(const std::vector<double>* bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Counts `value` into the first bucket whose bound is >= value (Prometheus'
  // "le" semantics) and adds it to the sum. NaN lands in the +Inf bucket.
  // Two relaxed atomic operations.
  void Observe(double value);

  // Copies the buckets. _count is derived from the buckets so that it always
  // equals the +Inf bucket, as Prometheus requires, even while observations
  // race with the copy; the sum may lag by an observation or two.
  HistogramSnapshot Snapshot() const;

  // The finite upper bounds.
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  const std::vector<double>* bounds_;
  // Non-cumulative counts, bounds_->size() + 1 of them (last = +Inf).
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

}  // namespace certfleet::metrics

#endif  // CERTFLEET_COMMON_METRICS_METRIC_H_
