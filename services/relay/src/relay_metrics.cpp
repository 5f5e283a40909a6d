#include "relay_metrics.hpp"

namespace rookery::relay {

RelayMetrics::RelayMetrics(metrics::Registry& registry)
    : requests(registry.AddCounter("rookery_relay_requests_total", "HTTP requests by route and status.",
                                   {"route", "status"})),
      accepted(registry.AddCounter("rookery_relay_events_accepted_total", "Events acknowledged by Kafka.").With({})),
      rejected(registry.AddCounter("rookery_relay_events_rejected_total", "Requests refused, by reason.", {"reason"})),
      dropped_items(registry.AddCounter("rookery_relay_outcomes_dropped_total",
                                        "Envelope items accepted but not processed, by item type.", {"item_type"})),
      bytes_received(registry.AddCounter("rookery_relay_bytes_received_total", "Request body bytes as sent.").With({})),
      bytes_decoded(registry
                        .AddCounter("rookery_relay_bytes_decoded_total",
                                    "Request body bytes after content decoding (decompression).")
                        .With({})),
      latency(registry.AddHistogram("rookery_relay_request_duration_seconds", "Request latency by route.", {"route"})) {
}

}  // namespace rookery::relay
