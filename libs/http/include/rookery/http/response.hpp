// rookery::http — small builders for JSON answers.
#pragma once

#include <string>
#include <string_view>

#include "rookery/http/server.hpp"

namespace rookery::http {

Response MakeResponse(Status status, std::string body, std::string_view content_type);
Response MakeJsonResponse(Status status, std::string json);
/// {"detail": "..."} — the error shape of Sentry's API and Relay.
Response MakeErrorResponse(Status status, std::string_view detail);
/// Escapes a string for inclusion in JSON (quotes included).
std::string JsonQuote(std::string_view text);

/// The raw query string of a request target ("" when none).
std::string_view QueryString(std::string_view target);
/// The path of a request target, without the query.
std::string_view PathOf(std::string_view target);
/// One query parameter, URL-decoded; empty when absent.
std::string QueryParam(std::string_view target, std::string_view name);

}  // namespace rookery::http
