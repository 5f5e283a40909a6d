#include "ingest.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

#include "http_status.hpp"
#include "rookery/core/strings.hpp"
#include "rookery/core/time.hpp"
#include "rookery/http/response.hpp"
#include "rookery/protocol/auth.hpp"
#include "rookery/protocol/content_encoding.hpp"
#include "rookery/protocol/ingest_payload.hpp"

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

IngestHandler::IngestHandler(const RelayConfig& config, const KeyCache& keys, kafka::Producer& producer)
    : config_(config), keys_(keys), producer_(producer) {}

void IngestHandler::operator()(http::Incoming&& incoming, http::Responder responder) {
  const RouteMatch match = MatchRoute(incoming.request.target());
  const auto method = incoming.request.method();
  switch (match.kind) {
    case RouteKind::kHealth: responder.Send(http::MakeJsonResponse(http::Status::ok, "{\"status\":\"ok\"}")); return;
    case RouteKind::kReady: {
      const bool ready = keys_.Loaded() && !producer_.Failed();
      responder.Send(http::MakeJsonResponse(ready ? http::Status::ok : http::Status::service_unavailable,
                                            ready ? "{\"status\":\"ready\"}" : "{\"status\":\"not ready\"}"));
      return;
    }
    case RouteKind::kNotFound: responder.Send(http::MakeErrorResponse(http::Status::not_found, "not found")); return;
    case RouteKind::kBadProject:
    case RouteKind::kIngest: break;
  }
  if (method == bhttp::verb::options) {
    http::Response preflight = http::MakeResponse(http::Status::ok, "", "text/plain");
    AddCorsHeaders(preflight);
    preflight.set("Access-Control-Allow-Methods", "POST, OPTIONS");
    preflight.set("Access-Control-Allow-Headers",
                  "x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, "
                  "authentication, authorization, content-encoding, transfer-encoding");
    preflight.set("Access-Control-Max-Age", "3600");
    responder.Send(std::move(preflight));
    return;
  }
  if (method != bhttp::verb::post) {
    http::Response response = http::MakeErrorResponse(http::Status::method_not_allowed, "method not allowed");
    response.set(bhttp::field::allow, "POST, OPTIONS");
    AddCorsHeaders(response);
    responder.Send(std::move(response));
    return;
  }
  if (match.kind == RouteKind::kBadProject) {
    Reject(MakeIngestError(IngestErrorCode::kBadProjectPath), responder);
    return;
  }
  Ingest(match.ingest, std::move(incoming), responder);
}

void IngestHandler::Reject(const protocol::IngestError& error, const http::Responder& responder) {
  counters_.rejected.fetch_add(1);
  responder.Send(MakeIngestErrorResponse(error));
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

void IngestHandler::Ingest(const IngestRoute& route, http::Incoming&& incoming, const http::Responder& responder) {
  const auto& request = incoming.request;
  const bool is_store = route.endpoint == IngestEndpoint::kStore;
  auto auth = protocol::ExtractAuth(
      {request["X-Sentry-Auth"], request[bhttp::field::authorization], http::QueryString(request.target())});
  // An envelope may authenticate itself with a `dsn` header (tunnels, sentry-ruby); that needs
  // the body, so the key check waits until the envelope is parsed.
  const bool auth_from_envelope = !auth && !is_store && auth.error().code == IngestErrorCode::kMissingAuth;
  if (!auth && !auth_from_envelope) {
    Reject(auth.error(), responder);
    return;
  }
  std::optional<ProjectKey> key;
  if (!auth_from_envelope) {
    key = Authorize(auth->public_key, route);
    if (!key) {
      Reject(MakeIngestError(IngestErrorCode::kKeyRejected), responder);
      return;
    }
  }

  auto body = protocol::DecodeContentEncoding(request[bhttp::field::content_encoding], request.body(),
                                              is_store ? config_.max_event_bytes : config_.max_envelope_bytes);
  if (body && is_store) {
    body = protocol::DecodeLegacyStoreBody(std::move(*body), config_.max_event_bytes);
  }
  if (!body) {
    Reject(body.error(), responder);
    return;
  }
  auto payload = is_store ? protocol::InspectStoreBody(*body) : protocol::InspectEnvelopeBody(*body);
  if (!payload) {
    Reject(payload.error(), responder);
    return;
  }
  if (!payload->envelope_dsn.empty()) {
    auto dsn = protocol::ParseDsn(payload->envelope_dsn);
    if (!dsn) {
      Reject(auth_from_envelope ? dsn.error() : MakeIngestError(IngestErrorCode::kBadEnvelope, "invalid dsn header"),
             responder);
      return;
    }
    if (route.project_id != 0 && dsn->project_id != route.project_id) {
      Reject(MakeIngestError(IngestErrorCode::kBadEnvelope, "project id header mismatch between envelope and request"),
             responder);
      return;
    }
    if (auth_from_envelope) {
      key = Authorize(dsn->public_key, IngestRoute{dsn->project_id, route.endpoint});
      if (!key) {
        Reject(MakeIngestError(IngestErrorCode::kKeyRejected), responder);
        return;
      }
    } else if (dsn->public_key != auth->public_key) {
      Reject(MakeIngestError(IngestErrorCode::kBadEnvelope, "public key header mismatch between envelope and request"),
             responder);
      return;
    }
  } else if (auth_from_envelope) {
    Reject(MakeIngestError(IngestErrorCode::kMissingAuth), responder);
    return;
  }
  if (!payload->has_event) {
    // Sessions and client reports only: accepted so SDKs do not retry; nothing to group yet.
    http::Response response = http::MakeJsonResponse(http::Status::ok, "{}");
    AddCorsHeaders(response);
    responder.Send(std::move(response));
    return;
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
  event.body = std::move(*body);

  const std::string event_hex = event.event_id.ToHex();
  const std::string message = protocol::EncodeRawEvent(event);
  const kafka::Headers headers = {
      {std::string(protocol::kContractHeader), std::to_string(protocol::kRawEventContractVersion)}};
  auto on_delivery = [this, responder, event_hex](const kafka::DeliveryReport& report) {
    if (report.delivered) {
      counters_.accepted.fetch_add(1);
      http::Response response = http::MakeJsonResponse(http::Status::ok, "{\"id\":\"" + event_hex + "\"}");
      AddCorsHeaders(response);
      responder.Send(std::move(response));
      return;
    }
    counters_.broker_failures.fetch_add(1);
    spdlog::warn("event {} not acknowledged by kafka: {}", event_hex, report.error);
    http::Response response = http::MakeErrorResponse(http::Status::service_unavailable, "event queue unavailable");
    response.set(bhttp::field::retry_after, "5");
    AddCorsHeaders(response);
    responder.Send(std::move(response));
  };
  // Key: the event id's 16 bytes, so load spreads evenly over partitions (docs/architecture.md).
  switch (producer_.Send(config_.topic, event.event_id.AsBytes(), message, headers, std::move(on_delivery))) {
    case kafka::SendStatus::kEnqueued: return;
    case kafka::SendStatus::kTooLarge: Reject(MakeIngestError(IngestErrorCode::kTooLarge), responder); return;
    case kafka::SendStatus::kQueueFull:
    case kafka::SendStatus::kError: {
      counters_.broker_failures.fetch_add(1);
      http::Response response =
          http::MakeErrorResponse(http::Status::service_unavailable, "event queue full, retry later");
      response.set(bhttp::field::retry_after, "1");
      AddCorsHeaders(response);
      responder.Send(std::move(response));
      return;
    }
  }
}

}  // namespace rookery::relay
