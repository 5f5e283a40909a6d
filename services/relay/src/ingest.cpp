#include "ingest.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <charconv>

#include "http_status.hpp"
#include "rookery/core/strings.hpp"
#include "rookery/core/time.hpp"
#include "rookery/http/response.hpp"
#include "rookery/protocol/auth.hpp"
#include "rookery/protocol/content_encoding.hpp"
#include "rookery/protocol/ingest_payload.hpp"
#include "rookery/protocol/security_report.hpp"

namespace rookery::relay {

namespace bhttp = boost::beast::http;
using protocol::IngestEndpoint;
using protocol::IngestErrorCode;
using protocol::MakeIngestError;

RouteMatch MatchRoute(std::string_view target) {
  std::string path;
  for (char c : http::PathOf(target)) {
    if (c == '/' && !path.empty() && path.back() == '/') continue;
    path.push_back(c);
  }
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path == "/healthz") return {RouteKind::kHealth, {}};
  if (path == "/readyz") return {RouteKind::kReady, {}};
  if (path == "/metrics") return {RouteKind::kMetrics, {}};

  if (path == "/api/store") return {RouteKind::kIngest, IngestRoute{0, IngestEndpoint::kStore}};
  constexpr std::string_view kPrefix = "/api/";
  if (path.rfind(kPrefix, 0) != 0) return {};
  std::string_view rest = std::string_view(path).substr(kPrefix.size());
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return {};
  const std::string_view id_text = rest.substr(0, slash);
  const std::string_view action = rest.substr(slash + 1);
  IngestRoute route;
  if (action == "store") {
    route.endpoint = IngestEndpoint::kStore;
  } else if (action == "envelope") {
    route.endpoint = IngestEndpoint::kEnvelope;
  } else if (action == "security" || action == "csp-report") {
    route.security = true;
  } else {
    return {};
  }
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (ec != std::errc() || end != id_text.data() + id_text.size() || id <= 0) {
    return {RouteKind::kBadProject, route};
  }
  route.project_id = id;
  return {RouteKind::kIngest, route};
}

namespace {

RouteLabel LabelOf(const RouteMatch& match) {
  switch (match.kind) {
    case RouteKind::kHealth: return RouteLabel::kHealth;
    case RouteKind::kReady: return RouteLabel::kReady;
    case RouteKind::kMetrics: return RouteLabel::kMetrics;
    case RouteKind::kNotFound: return RouteLabel::kOther;
    case RouteKind::kBadProject:
    case RouteKind::kIngest: break;
  }
  return match.ingest.security                             ? RouteLabel::kSecurity
         : match.ingest.endpoint == IngestEndpoint::kStore ? RouteLabel::kStore
                                                           : RouteLabel::kEnvelope;
}

// An error the relay makes itself (not from an ingest check): the same headers as the others.
http::Response RelayError(http::Status status, std::string_view detail) {
  http::Response response = http::MakeErrorResponse(status, detail);
  response.set("X-Sentry-Error", detail);
  return response;
}

// Relay advertises no limit longer than this (its `max_rate_limit`, sentry-protocol.md §5.4): an
// SDK told to stay away for a day would drop a day of events even after the quota is raised.
constexpr std::int64_t kMaxAdvertisedRetrySeconds = 300;

}  // namespace

IngestHandler::IngestHandler(boost::asio::io_context& ioc, const RelayConfig& config, const KeyCache& keys,
                             kafka::Producer& producer, metrics::Registry& registry)
    : ioc_(ioc), config_(config), keys_(keys), producer_(producer), metrics_(registry), registry_(registry) {}

bool IngestHandler::Ready() const {
  return keys_.Loaded() && !producer_.Failed() && producer_.UnreachableFor() < config_.broker_down_grace;
}

void IngestHandler::Answer(http::Response response, const Exchange& exchange) {
  if (exchange.answered->exchange(true)) return;
  AddCorsHeaders(response);
  metrics_.Requests(exchange.route, response.result_int()).Inc();
  metrics_.Latency(exchange.route)
      .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - exchange.started).count());
  exchange.responder.Send(std::move(response));
}

void IngestHandler::Reject(const protocol::IngestError& error, const Exchange& exchange) {
  metrics_.rejected.With({ReasonLabel(error.code)}).Inc();
  Answer(MakeIngestErrorResponse(error), exchange);
}

void IngestHandler::operator()(http::Incoming&& incoming, http::Responder responder) {
  const RouteMatch match = MatchRoute(incoming.request.target());
  const auto method = incoming.request.method();
  Exchange exchange{std::move(responder), RouteLabel::kOther, std::chrono::steady_clock::now()};
  switch (match.kind) {
    case RouteKind::kHealth:
      exchange.route = RouteLabel::kHealth;
      Answer(http::MakeJsonResponse(http::Status::ok, "{\"status\":\"ok\"}"), exchange);
      return;
    case RouteKind::kReady: {
      exchange.route = RouteLabel::kReady;
      const bool ready = Ready();
      Answer(http::MakeJsonResponse(ready ? http::Status::ok : http::Status::service_unavailable,
                                    ready ? "{\"status\":\"ready\"}" : "{\"status\":\"not ready\"}"),
             exchange);
      return;
    }
    case RouteKind::kMetrics:
      exchange.route = RouteLabel::kMetrics;
      Answer(http::MakeResponse(http::Status::ok, registry_.Render(), "text/plain; version=0.0.4"), exchange);
      return;
    case RouteKind::kNotFound: Answer(RelayError(http::Status::not_found, "not found"), exchange); return;
    case RouteKind::kBadProject:
    case RouteKind::kIngest: break;
  }
  exchange.route = LabelOf(match);
  if (method == bhttp::verb::options) {
    http::Response preflight = http::MakeResponse(http::Status::ok, "", "text/plain");
    preflight.set("Access-Control-Allow-Methods", "POST, OPTIONS");
    preflight.set("Access-Control-Allow-Headers",
                  "x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, "
                  "authentication, authorization, content-encoding, transfer-encoding");
    preflight.set("Access-Control-Max-Age", "3600");
    Answer(std::move(preflight), exchange);
    return;
  }
  if (method != bhttp::verb::post) {
    http::Response response = RelayError(http::Status::method_not_allowed, "method not allowed");
    response.set(bhttp::field::allow, "POST, OPTIONS");
    Answer(std::move(response), exchange);
    return;
  }
  if (match.kind == RouteKind::kBadProject) {
    Reject(MakeIngestError(IngestErrorCode::kBadProjectPath), exchange);
    return;
  }
  Ingest(match.ingest, std::move(incoming), exchange);
}

std::string IngestHandler::ClientIp(const http::Incoming& incoming) const {
  if (config_.trust_forwarded_for) {
    const auto forwarded = incoming.request["X-Forwarded-For"];
    if (!forwarded.empty()) {
      return std::string(TrimWhitespace(forwarded.substr(0, forwarded.find(','))));
    }
  }
  return incoming.peer_ip;
}

std::optional<ProjectKey> IngestHandler::Authorize(const std::string& public_key, const IngestRoute& route) const {
  auto key = keys_.Find(public_key);
  if (!key || !key->active || (route.project_id != 0 && key->project_id != route.project_id)) {
    return std::nullopt;
  }
  return key;
}

void IngestHandler::Ingest(const IngestRoute& requested, http::Incoming&& incoming, const Exchange& exchange) {
  const auto& request = incoming.request;
  // An envelope posted to the store route is read as an envelope (sentry-protocol.md §1.1).
  IngestRoute route = requested;
  if (route.endpoint == IngestEndpoint::kStore && !route.security &&
      boost::beast::iequals(
          TrimWhitespace(request[bhttp::field::content_type].substr(0, request[bhttp::field::content_type].find(';'))),
          "application/x-sentry-envelope")) {
    route.endpoint = IngestEndpoint::kEnvelope;
  }
  const bool is_store = route.endpoint == IngestEndpoint::kStore;
  metrics_.bytes_received.Inc(request.body().size());
  auto auth = protocol::ExtractAuth(
      {request["X-Sentry-Auth"], request[bhttp::field::authorization], http::QueryString(request.target())});
  // An envelope may authenticate itself with a `dsn` header (tunnels, sentry-ruby); that needs
  // the body, so the key check waits until the envelope is parsed.
  const bool auth_from_envelope = !auth && !is_store && auth.error().code == IngestErrorCode::kMissingAuth;
  if (!auth && !auth_from_envelope) {
    Reject(auth.error(), exchange);
    return;
  }
  std::optional<ProjectKey> key;
  if (!auth_from_envelope) {
    key = Authorize(auth->public_key, route);
    if (!key) {
      Reject(MakeIngestError(IngestErrorCode::kKeyRejected), exchange);
      return;
    }
  }

  // The body is not needed once decoded: an unencoded one is moved rather than copied.
  auto body =
      protocol::DecodeContentEncodingOwned(request[bhttp::field::content_encoding], std::move(incoming.request.body()),
                                           is_store ? config_.max_event_bytes : config_.max_envelope_bytes);
  if (body && is_store && !route.security) {
    body = protocol::DecodeLegacyStoreBody(std::move(*body), config_.max_event_bytes);
  }
  if (body && route.security) {
    const std::string target(request.target());
    const protocol::SecurityReportContext context{EventId::Random(), http::QueryParam(target, "sentry_release"),
                                                  http::QueryParam(target, "sentry_environment"),
                                                  std::string(request[bhttp::field::user_agent])};
    body = protocol::SecurityReportToEvent(*body, context);
  }
  if (!body) {
    Reject(body.error(), exchange);
    return;
  }
  metrics_.bytes_decoded.Inc(body->size());
  const protocol::EnvelopeLimits limits{config_.max_event_bytes, config_.max_attachment_bytes,
                                        config_.max_attachments_bytes};
  auto payload = is_store ? protocol::InspectStoreBody(*body) : protocol::InspectEnvelopeBody(*body, limits);
  if (!payload) {
    Reject(payload.error(), exchange);
    return;
  }
  if (!payload->envelope_dsn.empty()) {
    auto dsn = protocol::ParseDsn(payload->envelope_dsn);
    if (!dsn) {
      Reject(auth_from_envelope ? dsn.error() : MakeIngestError(IngestErrorCode::kBadEnvelope, "invalid dsn header"),
             exchange);
      return;
    }
    if (route.project_id != 0 && dsn->project_id != route.project_id) {
      Reject(MakeIngestError(IngestErrorCode::kBadEnvelope, "project id header mismatch between envelope and request"),
             exchange);
      return;
    }
    if (auth_from_envelope) {
      key = Authorize(dsn->public_key, IngestRoute{dsn->project_id, route.endpoint});
      if (!key) {
        Reject(MakeIngestError(IngestErrorCode::kKeyRejected), exchange);
        return;
      }
    } else if (dsn->public_key != auth->public_key) {
      Reject(MakeIngestError(IngestErrorCode::kBadEnvelope, "public key header mismatch between envelope and request"),
             exchange);
      return;
    }
  } else if (auth_from_envelope) {
    Reject(MakeIngestError(IngestErrorCode::kMissingAuth), exchange);
    return;
  }

  // Browsers say where they post from; a key may restrict that (Relay's "allowed domains").
  std::string_view origin = request[bhttp::field::origin];
  if (origin.empty()) origin = request[bhttp::field::referer];
  if (!origin.empty() && !OriginAllowed(origin, key->allowed_origins)) {
    Reject(MakeIngestError(IngestErrorCode::kOriginRejected), exchange);
    return;
  }

  for (const auto& dropped : payload->dropped) {
    metrics_.dropped_items.With({RelayMetrics::ItemTypeLabel(dropped.type)}).Inc();
  }
  const bool forward = is_store || !payload->forward_body.empty();
  if (!forward) {
    // Sessions, client reports and the like only: accepted so SDKs do not retry them.
    Answer(http::MakeJsonResponse(http::Status::ok, "{}"), exchange);
    return;
  }
  if (key->rate_limit_count > 0) {
    const RateDecision decision =
        rate_limiter_.Check(key->key_id, key->rate_limit_count, key->rate_limit_window_seconds, NowMillis());
    if (!decision.allowed) {
      metrics_.rejected.With({ReasonLabel(IngestErrorCode::kRateLimited)}).Inc();
      http::Response response = MakeIngestErrorResponse(MakeIngestError(IngestErrorCode::kRateLimited));
      const std::string seconds =
          std::to_string(std::min<std::int64_t>(decision.retry_after_seconds, kMaxAdvertisedRetrySeconds));
      response.set(bhttp::field::retry_after, seconds);
      // All categories, scoped to the key (sentry-protocol.md §5.4); integers, as SDKs parse them.
      response.set("X-Sentry-Rate-Limits", seconds + "::key");
      Answer(std::move(response), exchange);
      return;
    }
  }

  protocol::RawEvent event;
  event.event_id = payload->event_id;
  event.project_id = key->project_id;
  event.key_id = key->key_id;
  event.received_at_ms = NowMillis();
  event.client_ip = ClientIp(incoming);
  event.endpoint = route.endpoint;
  const std::string_view client = auth && !auth->client.empty() ? std::string_view(auth->client)
                                                                : std::string_view(request[bhttp::field::user_agent]);
  const auto sdk = protocol::ParseSdkIdentity(client);
  event.sdk_name = sdk.name;
  event.sdk_version = sdk.version;
  event.body = is_store ? std::move(*body) : std::move(payload->forward_body);
  Produce(std::move(event), exchange, route.security);
}

void IngestHandler::Produce(protocol::RawEvent event, const Exchange& exchange, bool empty_success) {
  const auto unavailable = [this, &exchange](const char* detail, const char* retry_after) {
    metrics_.rejected.With({"broker_unavailable"}).Inc();
    http::Response response = RelayError(http::Status::service_unavailable, detail);
    response.set(bhttp::field::retry_after, retry_after);
    Answer(std::move(response), exchange);
  };
  // Never 200 for an event the broker does not have; and no queueing into a cluster that has been
  // gone for a while, where the answer would only come after the delivery timeout.
  if (producer_.Failed() || producer_.UnreachableFor() >= config_.broker_down_grace) {
    unavailable("event queue unavailable", "10");
    return;
  }
  const EventId event_id = event.event_id;
  MallocBuffer message = protocol::EncodeRawEventForProducer(std::move(event));
  const kafka::Headers headers = {
      {std::string(protocol::kContractHeader), std::to_string(protocol::kRawEventContractVersion)}};
  auto on_delivery = [this, exchange, event_id, empty_success](const kafka::DeliveryReport& report) {
    bool first = false;
    {
      std::lock_guard lock(acknowledged_mutex_);
      first = acknowledged_.empty();
      acknowledged_.push_back(Acknowledgement{exchange, event_id, empty_success, report.delivered, report.error});
    }
    if (first) boost::asio::post(ioc_, [this] { AnswerAcknowledged(); });
  };
  {
    // librdkafka's idempotent producer holds messages while no broker is reachable, past
    // message.timeout.ms; the SDK gets its 503 at this deadline all the same (ExpireOverdue).
    // Should the message still be delivered later, the SDK's retry carries the same event id and is
    // deduplicated. Registered before Send, so no answer can escape it.
    const auto deadline =
        std::chrono::steady_clock::now() + config_.producer.delivery_timeout + std::chrono::seconds(1);
    std::lock_guard lock(pending_mutex_);
    pending_.push_back(PendingAnswer{deadline, exchange});
  }
  // Key: the event id's 16 bytes, so load spreads evenly over partitions (docs/architecture.md).
  switch (producer_.Send(config_.topic, event_id.AsBytes(), std::move(message), headers, std::move(on_delivery))) {
    case kafka::SendStatus::kEnqueued: return;
    case kafka::SendStatus::kTooLarge: Reject(MakeIngestError(IngestErrorCode::kTooLarge), exchange); break;
    case kafka::SendStatus::kQueueFull: unavailable("event queue full, retry later", "1"); break;
    case kafka::SendStatus::kError: unavailable("event queue unavailable", "10"); break;
  }
}

void IngestHandler::AnswerAcknowledged() {
  std::vector<Acknowledgement> batch;
  {
    std::lock_guard lock(acknowledged_mutex_);
    batch.swap(acknowledged_);
  }
  for (const Acknowledgement& ack : batch) {
    if (ack.delivered) {
      metrics_.accepted.Inc();
      Answer(ack.empty_success ? http::MakeResponse(http::Status::ok, "", "text/plain")
                               : http::MakeJsonResponse(http::Status::ok, "{\"id\":\"" + ack.event_id.ToHex() + "\"}"),
             ack.exchange);
      continue;
    }
    spdlog::warn("event {} not acknowledged by kafka: {}", ack.event_id.ToHex(), ack.error);
    metrics_.rejected.With({"broker_unavailable"}).Inc();
    http::Response response = RelayError(http::Status::service_unavailable, "event queue unavailable");
    response.set(bhttp::field::retry_after, "10");
    Answer(std::move(response), ack.exchange);
  }
}

void IngestHandler::CountServerAnswer(unsigned status, std::string_view target) {
  metrics_.Requests(target.empty() ? RouteLabel::kOther : LabelOf(MatchRoute(target)), status).Inc();
  const char* reason = status == 413   ? ReasonLabel(IngestErrorCode::kTooLarge)
                       : status == 431 ? "headers_too_large"
                       : status == 429 ? "ip_rate_limited"
                                       : "malformed_http";
  metrics_.rejected.With({reason}).Inc();
}

void IngestHandler::CountRefusedConnection(std::string_view reason) {
  metrics_.connections_refused.With({std::string(reason)}).Inc();
}

void IngestHandler::ExpireOverdue(std::chrono::steady_clock::time_point now) {
  std::vector<Exchange> overdue;
  {
    std::lock_guard lock(pending_mutex_);
    // Answered entries leave from the front as they come; acknowledgements arrive roughly in order,
    // so the queue stays short unless a message is stuck, and then only until its deadline.
    while (!pending_.empty() && (pending_.front().exchange.answered->load() || pending_.front().deadline <= now)) {
      if (!pending_.front().exchange.answered->load()) overdue.push_back(std::move(pending_.front().exchange));
      pending_.pop_front();
    }
  }
  for (const Exchange& exchange : overdue) {
    metrics_.rejected.With({"broker_timeout"}).Inc();
    http::Response response = RelayError(http::Status::service_unavailable, "event queue unavailable");
    response.set(bhttp::field::retry_after, "10");
    Answer(std::move(response), exchange);
  }
}

}  // namespace rookery::relay
