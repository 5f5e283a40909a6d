// What the relay counts, exposed at GET /metrics in Prometheus' text format.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>

#include "rookery/metrics/metrics.hpp"

namespace rookery::relay {

enum class RouteLabel : std::size_t { kStore, kEnvelope, kSecurity, kHealth, kReady, kMetrics, kOther, kCount };
const char* RouteName(RouteLabel route);

class RelayMetrics {
 public:
  explicit RelayMetrics(metrics::Registry& registry);

  /// Requests by route and status; lock- and allocation-free after a pair's first use.
  metrics::Counter& Requests(RouteLabel route, unsigned status);
  metrics::Histogram& Latency(RouteLabel route) { return *latency_[static_cast<std::size_t>(route)]; }

  metrics::Counter& accepted;                              // events acknowledged by Kafka
  metrics::Family<metrics::Counter>& rejected;             // reason
  metrics::Family<metrics::Counter>& dropped_items;        // item type: accepted from SDKs, not processed
  metrics::Counter& bytes_received;                        // request bodies as sent
  metrics::Counter& bytes_decoded;                         // after content decoding: ratio = decoded / received
  metrics::Family<metrics::Counter>& connections_refused;  // reason

  /// The dropped-items label for an envelope item type: the known types by name, anything else as
  /// "unknown", so that clients cannot mint series (DSN keys are public in browser apps).
  static const char* ItemTypeLabel(std::string_view type);

 private:
  static constexpr unsigned kMaxStatus = 600;
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Histogram>& latency_family_;
  std::array<std::array<std::atomic<metrics::Counter*>, kMaxStatus>, static_cast<std::size_t>(RouteLabel::kCount)>
      request_cache_{};
  std::array<metrics::Histogram*, static_cast<std::size_t>(RouteLabel::kCount)> latency_{};
};

}  // namespace rookery::relay
