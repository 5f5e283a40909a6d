// What the relay counts, exposed at GET /metrics in Prometheus' text format.
#pragma once

#include <string>

#include "rookery/metrics/metrics.hpp"

namespace rookery::relay {

struct RelayMetrics {
  explicit RelayMetrics(metrics::Registry& registry);

  metrics::Family<metrics::Counter>& requests;       // route, status
  metrics::Counter& accepted;                        // events acknowledged by Kafka
  metrics::Family<metrics::Counter>& rejected;       // reason
  metrics::Family<metrics::Counter>& dropped_items;  // item type: accepted from SDKs, not processed
  metrics::Counter& bytes_received;                  // request bodies as sent
  metrics::Counter& bytes_decoded;                   // after content decoding: ratio = decoded / received
  metrics::Family<metrics::Histogram>& latency;      // route
};

}  // namespace rookery::relay
