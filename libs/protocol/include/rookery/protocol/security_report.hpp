// rookery::protocol — browser security reports (CSP, Expect-CT) posted to /api/<id>/security/,
// turned into ordinary event JSON so the rest of the pipeline treats them like any event.
#pragma once

#include <string>
#include <string_view>

#include "rookery/core/event_id.hpp"
#include "rookery/core/expected.hpp"
#include "rookery/protocol/ingest_error.hpp"

namespace rookery::protocol {

struct SecurityReportContext {
  EventId event_id;
  std::string release;      // ?sentry_release=
  std::string environment;  // ?sentry_environment=
  std::string user_agent;
};

/// Accepts the legacy `{"csp-report": {...}}` and `{"expect-ct-report": {...}}` bodies and the
/// Reporting API's `[{"type": "csp-violation", "body": {...}}, ...]` (the first CSP report of the
/// batch). Returns the event JSON: message "Blocked 'script' from 'evil.example'", culprit = the
/// violated directive, logger "csp", the report under "csp" / "expectct", the page as request.url.
/// kBadJson for anything else.
Expected<std::string, IngestError> SecurityReportToEvent(std::string_view body, const SecurityReportContext& context);

}  // namespace rookery::protocol
