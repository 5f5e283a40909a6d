// The ingest endpoints: authenticate from the key cache, decode, check, hand the event to Kafka,
// and answer {"id": ...} only once the broker has acknowledged it.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "key_cache.hpp"
#include "rookery/http/server.hpp"
#include "rookery/kafka/producer.hpp"
#include "rookery/protocol/ingest_error.hpp"
#include "rookery/protocol/raw_event.hpp"

namespace rookery::relay {

struct IngestRoute {
  std::int64_t project_id = 0;  // 0 for /api/store/ (project taken from the key) or a bad id
  protocol::IngestEndpoint endpoint = protocol::IngestEndpoint::kStore;
};

enum class RouteKind { kIngest, kBadProject, kHealth, kReady, kNotFound };

struct RouteMatch {
  RouteKind kind = RouteKind::kNotFound;
  IngestRoute ingest;
};

/// `/api/<id>/store/`, `/api/<id>/envelope/` and the legacy `/api/store/`, with or without the
/// trailing slash and with runs of '/' folded (sentry-protocol.md §1.2); `/healthz`, `/readyz`.
RouteMatch MatchRoute(std::string_view target);

struct IngestCounters {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> broker_failures{0};
};

class IngestHandler {
 public:
  IngestHandler(const RelayConfig& config, const KeyCache& keys, kafka::Producer& producer);
  void operator()(http::Incoming&& incoming, http::Responder responder);
  const IngestCounters& Counters() const { return counters_; }

 private:
  void Ingest(const IngestRoute& route, http::Incoming&& incoming, const http::Responder& responder);
  void Reject(const protocol::IngestError& error, const http::Responder& responder);
  /// The key, if it may send to the route's project (any project for /api/store/).
  std::optional<ProjectKey> Authorize(const std::string& public_key, const IngestRoute& route) const;
  std::string ClientIp(const http::Incoming& incoming) const;

  const RelayConfig& config_;
  const KeyCache& keys_;
  kafka::Producer& producer_;
  IngestCounters counters_;
};

}  // namespace rookery::relay
