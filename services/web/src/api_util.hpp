// Small helpers shared by the accounts and tenancy endpoints: error answers, reading JSON bodies
// field by field (every failure names the field), and writing JSON.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rookery/http/response.hpp"

namespace rookery::web {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

http::Response BadRequest(std::string_view detail);
http::Response Forbidden();
http::Response NotFoundResponse();
http::Response NoContent();

/// Parses a request body that must be a JSON object of valid UTF-8 (every JSON body of the API goes
/// through here); on failure `error` holds the 400's detail.
bool ParseBody(std::string_view body, rapidjson::Document& document, std::string& error);

/// Readers for optional members: nullopt when absent (or null, for the nullable ones); `error` is
/// set ("field: why") when present but unusable. Strings are trimmed and at most `max_chars` long.
std::optional<std::string> ReadString(const rapidjson::Value& object, const char* field, std::size_t max_chars,
                                      std::string& error);
std::optional<bool> ReadBool(const rapidjson::Value& object, const char* field, std::string& error);
/// A list of strings, each at most `max_chars`, at most `max_items`.
std::optional<std::vector<std::string>> ReadStringList(const rapidjson::Value& object, const char* field,
                                                       std::size_t max_items, std::size_t max_chars,
                                                       std::string& error);
bool IsPresent(const rapidjson::Value& object, const char* field);
bool IsNull(const rapidjson::Value& object, const char* field);

/// A JSON array of strings, for text[] parameters: ARRAY(SELECT jsonb_array_elements_text($n::jsonb)).
std::string JsonStringArray(const std::vector<std::string>& items);
/// Parses array_to_json(...)::text of a text[] column.
std::vector<std::string> ParseStringArray(const std::string& json);

void WriteString(JsonWriter& w, const char* key, std::string_view value);
void WriteIdString(JsonWriter& w, const char* key, std::int64_t id);
void WriteTime(JsonWriter& w, const char* key, std::int64_t unix_millis);
void WriteStrings(JsonWriter& w, const char* key, const std::vector<std::string>& items);

}  // namespace rookery::web
