// rookery::metrics — lock-free counters on the hot path, Prometheus text on scrape.
//
// A Registry owns metric families; a family with labels hands out one series per label-value
// tuple. Look series up once and keep the reference: lookups take a lock, increments do not.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rookery::metrics {

class Counter {
 public:
  void Inc(std::uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  std::uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// Latency-style histogram with fixed upper bounds (seconds).
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
  void Observe(double seconds);
  std::uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  /// Cumulative count of observations <= kBounds[i].
  std::uint64_t CumulativeCount(std::size_t i) const;
  double Sum() const;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size()> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};
};

template <class Series>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

  /// The series for these label values (created on first use). References stay valid.
  Series& With(const std::vector<std::string>& label_values) {
    std::lock_guard lock(mutex_);
    auto& slot = series_[label_values];
    if (!slot) slot = std::make_unique<Series>();
    return *slot;
  }

  template <class Visit>
  void ForEach(Visit visit) const {
    std::lock_guard lock(mutex_);
    for (const auto& [labels, series] : series_) visit(labels, *series);
  }

  const std::string& Name() const { return name_; }
  const std::string& Help() const { return help_; }
  const std::vector<std::string>& LabelNames() const { return label_names_; }

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Series>> series_;
};

class Registry {
 public:
  Family<Counter>& AddCounter(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Histogram>& AddHistogram(std::string name, std::string help, std::vector<std::string> labels = {});
  /// A gauge read at scrape time (e.g. a queue depth owned by someone else).
  void AddGauge(std::string name, std::string help, std::function<double()> read);
  /// Prometheus text exposition format 0.0.4.
  std::string Render() const;

 private:
  struct Gauge {
    std::string name;
    std::string help;
    std::function<double()> read;
  };
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_;
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_;
  std::vector<Gauge> gauges_;
};

}  // namespace rookery::metrics
