// The ingest endpoints: authenticate from the key cache, check quotas and origins, decode, check,
// hand the event to Kafka, and answer {"id": ...} only once the broker has acknowledged it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "key_cache.hpp"
#include "rate_limiter.hpp"
#include "relay_metrics.hpp"
#include "rookery/http/server.hpp"
#include "rookery/kafka/producer.hpp"
#include "rookery/protocol/ingest_error.hpp"
#include "rookery/protocol/raw_event.hpp"

namespace rookery::relay {

struct IngestRoute {
  std::int64_t project_id = 0;  // 0 for /api/store/ (project taken from the key) or a bad id
  protocol::IngestEndpoint endpoint = protocol::IngestEndpoint::kStore;
  bool security = false;  // /security/ or /csp-report/: a browser report, converted to a store event
};

enum class RouteKind { kIngest, kBadProject, kHealth, kReady, kMetrics, kNotFound };

struct RouteMatch {
  RouteKind kind = RouteKind::kNotFound;
  IngestRoute ingest;
};

/// `/api/<id>/store/`, `/api/<id>/envelope/`, `/api/<id>/security/` (and its alias
/// `/csp-report/`) and the legacy `/api/store/`, with or without the
/// trailing slash and with runs of '/' folded (sentry-protocol.md §1.2); `/healthz`, `/readyz`,
/// `/metrics`.
RouteMatch MatchRoute(std::string_view target);

class IngestHandler {
 public:
  IngestHandler(boost::asio::io_context& ioc, const RelayConfig& config, const KeyCache& keys,
                kafka::Producer& producer, metrics::Registry& registry);
  void operator()(http::Incoming&& incoming, http::Responder responder);
  bool Ready() const;
  /// Answers 503 to every request whose broker acknowledgement is overdue; the app calls it a few
  /// times a second. Cheaper than a timer per request, and all deadlines are the same length.
  void ExpireOverdue(std::chrono::steady_clock::time_point now);
  /// Counts an answer the HTTP server gave by itself (413 over the body cap, 431, 400 for malformed
  /// HTTP, 429 over the per-address rate): by route and status, and as a rejection by reason.
  void CountServerAnswer(unsigned status, std::string_view target);
  /// Counts a connection closed at accept ("max_connections" or "max_connections_per_ip").
  void CountRefusedConnection(std::string_view reason);

 private:
  // One request's context: answers through it are counted by route and status, and timed. Only
  // the first answer goes out (a delivery report and the deadline may race).
  struct Exchange {
    http::Responder responder;
    RouteLabel route;
    std::chrono::steady_clock::time_point started;
    std::shared_ptr<std::atomic<bool>> answered = std::make_shared<std::atomic<bool>>(false);
  };

  void Ingest(const IngestRoute& route, http::Incoming&& incoming, const Exchange& exchange);
  void Reject(const protocol::IngestError& error, const Exchange& exchange);
  void Answer(http::Response response, const Exchange& exchange);
  /// `empty_success`: answer 200 with an empty body (security reports) instead of {"id": ...}.
  void Produce(protocol::RawEvent event, const Exchange& exchange, bool empty_success = false);
  /// The key, if it may send to the route's project (any project for /api/store/).
  std::optional<ProjectKey> Authorize(const std::string& public_key, const IngestRoute& route) const;
  std::string ClientIp(const http::Incoming& incoming) const;

  /// Answers the acknowledgements collected since the last call, on an I/O thread.
  void AnswerAcknowledged();

  // Broker acknowledgements waiting for their answer. The poll thread posts one handler per batch
  // (when the list was empty) instead of one per event, which spares a thread wake-up per event;
  // the handler then writes each answer inline on its idle connection.
  struct Acknowledgement {
    Exchange exchange;
    EventId event_id;
    bool empty_success = false;
    bool delivered = false;
    std::string error;  // why not, when not delivered
  };
  std::mutex acknowledged_mutex_;
  std::vector<Acknowledgement> acknowledged_;

  struct PendingAnswer {
    std::chrono::steady_clock::time_point deadline;
    Exchange exchange;
  };
  // Requests waiting for Kafka, oldest first (deadlines grow with insertion order).
  std::mutex pending_mutex_;
  std::deque<PendingAnswer> pending_;

  boost::asio::io_context& ioc_;
  const RelayConfig& config_;
  const KeyCache& keys_;
  kafka::Producer& producer_;
  RelayMetrics metrics_;
  RateLimiter rate_limiter_;
  metrics::Registry& registry_;
};

}  // namespace rookery::relay
