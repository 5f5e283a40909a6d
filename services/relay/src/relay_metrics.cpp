#include "relay_metrics.hpp"

namespace rookery::relay {

const char* RouteName(RouteLabel route) {
  switch (route) {
    case RouteLabel::kStore: return "store";
    case RouteLabel::kEnvelope: return "envelope";
    case RouteLabel::kSecurity: return "security";
    case RouteLabel::kHealth: return "healthz";
    case RouteLabel::kReady: return "readyz";
    case RouteLabel::kMetrics: return "metrics";
    case RouteLabel::kOther:
    case RouteLabel::kCount: break;
  }
  return "other";
}

RelayMetrics::RelayMetrics(metrics::Registry& registry)
    : accepted(registry.AddCounter("rookery_relay_events_accepted_total", "Events acknowledged by Kafka.").With({})),
      rejected(registry.AddCounter("rookery_relay_events_rejected_total", "Requests refused, by reason.", {"reason"})),
      dropped_items(registry.AddCounter("rookery_relay_outcomes_dropped_total",
                                        "Envelope items accepted but not processed, by item type.", {"item_type"})),
      bytes_received(registry.AddCounter("rookery_relay_bytes_received_total", "Request body bytes as sent.").With({})),
      bytes_decoded(registry
                        .AddCounter("rookery_relay_bytes_decoded_total",
                                    "Request body bytes after content decoding (decompression).")
                        .With({})),
      connections_refused(registry.AddCounter("rookery_relay_connections_refused_total",
                                              "Connections closed at accept, by the cap that refused them.",
                                              {"reason"})),
      requests_(registry.AddCounter("rookery_relay_requests_total", "HTTP requests by route and status.",
                                    {"route", "status"})),
      latency_family_(
          registry.AddHistogram("rookery_relay_request_duration_seconds", "Request latency by route.", {"route"})) {
  for (std::size_t i = 0; i < latency_.size(); ++i) {
    latency_[i] = &latency_family_.With({RouteName(static_cast<RouteLabel>(i))});
  }
}

const char* RelayMetrics::ItemTypeLabel(std::string_view type) {
  // The item types of sentry-protocol.md §4.3 that Rookery accepts without processing.
  static constexpr const char* kKnown[] = {
      "attachment",   "transaction",  "session",        "sessions",      "client_report", "check_in",
      "log",          "span",         "profile",        "profile_chunk", "replay_event",  "replay_recording",
      "replay_video", "statsd",       "metric_buckets", "feedback",      "otel_log",      "otel_span",
      "nel",          "raw_security", "form_data"};
  for (const char* known : kKnown) {
    if (type == known) return known;
  }
  return "unknown";
}

metrics::Counter& RelayMetrics::Requests(RouteLabel route, unsigned status) {
  if (status >= kMaxStatus) status = 0;
  auto& slot = request_cache_[static_cast<std::size_t>(route)][status];
  metrics::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Two threads may both look it up; the family hands both the same series.
    counter = &requests_.With({RouteName(route), std::to_string(status)});
    slot.store(counter, std::memory_order_release);
  }
  return *counter;
}

}  // namespace rookery::relay
