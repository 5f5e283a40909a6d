#include "rookery/metrics/metrics.hpp"

#include <cstdio>
#include <sstream>

namespace rookery::metrics {
namespace {

std::string EscapeLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string Labels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                   const std::string& extra = {}) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!out.empty()) out += ",";
    out += names[i] + "=\"" + EscapeLabel(values[i]) + "\"";
  }
  if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
  return out.empty() ? std::string() : "{" + out + "}";
}

std::string FormatDouble(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.9g", value);
  return buffer;
}

}  // namespace

void Histogram::Observe(double seconds) {
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::uint64_t Histogram::CumulativeCount(std::size_t i) const {
  std::uint64_t total = 0;
  for (std::size_t j = 0; j <= i && j < kBounds.size(); ++j) total += buckets_[j].load(std::memory_order_relaxed);
  return total;
}

double Histogram::Sum() const {
  return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

Family<Counter>& Registry::AddCounter(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  counters_.push_back(std::make_unique<Family<Counter>>(std::move(name), std::move(help), std::move(labels)));
  return *counters_.back();
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  histograms_.push_back(std::make_unique<Family<Histogram>>(std::move(name), std::move(help), std::move(labels)));
  return *histograms_.back();
}

void Registry::AddGauge(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mutex_);
  gauges_.push_back(Gauge{std::move(name), std::move(help), std::move(read)});
}

std::string Registry::Render() const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  for (const auto& family : counters_) {
    out << "# HELP " << family->Name() << " " << family->Help() << "\n# TYPE " << family->Name() << " counter\n";
    family->ForEach([&](const std::vector<std::string>& labels, const Counter& counter) {
      out << family->Name() << Labels(family->LabelNames(), labels) << " " << counter.Value() << "\n";
    });
  }
  for (const auto& gauge : gauges_) {
    out << "# HELP " << gauge.name << " " << gauge.help << "\n# TYPE " << gauge.name << " gauge\n"
        << gauge.name << " " << FormatDouble(gauge.read()) << "\n";
  }
  for (const auto& family : histograms_) {
    out << "# HELP " << family->Name() << " " << family->Help() << "\n# TYPE " << family->Name() << " histogram\n";
    family->ForEach([&](const std::vector<std::string>& labels, const Histogram& histogram) {
      for (std::size_t i = 0; i < Histogram::kBounds.size(); ++i) {
        out << family->Name() << "_bucket"
            << Labels(family->LabelNames(), labels, "le=\"" + FormatDouble(Histogram::kBounds[i]) + "\"") << " "
            << histogram.CumulativeCount(i) << "\n";
      }
      out << family->Name() << "_bucket" << Labels(family->LabelNames(), labels, "le=\"+Inf\"") << " "
          << histogram.Count() << "\n";
      out << family->Name() << "_sum" << Labels(family->LabelNames(), labels) << " " << FormatDouble(histogram.Sum())
          << "\n";
      out << family->Name() << "_count" << Labels(family->LabelNames(), labels) << " " << histogram.Count() << "\n";
    });
  }
  return out.str();
}

}  // namespace rookery::metrics
