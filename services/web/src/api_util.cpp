#include "api_util.hpp"

#include "rookery/core/strings.hpp"
#include "rookery/core/time.hpp"

namespace rookery::web {
namespace {

std::size_t Utf8Chars(std::string_view text) {
  std::size_t chars = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++chars;
  }
  return chars;
}

}  // namespace

http::Response BadRequest(std::string_view detail) {
  return http::MakeErrorResponse(http::Status::bad_request, detail);
}

http::Response Forbidden() {
  return http::MakeErrorResponse(http::Status::forbidden, "You do not have permission to perform this action.");
}

http::Response NotFoundResponse() {
  return http::MakeErrorResponse(http::Status::not_found, "The requested resource does not exist");
}

http::Response NoContent() {
  http::Response response = http::MakeResponse(http::Status::no_content, "", "application/json");
  response.content_length(0);
  return response;
}

bool ParseBody(std::string_view body, rapidjson::Document& document, std::string& error) {
  // Invalid UTF-8 inside a string is refused here, once for every endpoint: it must never reach
  // PostgreSQL (which refuses it with an error) or a JSON answer.
  document.Parse<rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) {
    error = "The request body must be a JSON object (UTF-8)";
    return false;
  }
  return true;
}

bool IsPresent(const rapidjson::Value& object, const char* field) {
  return object.FindMember(field) != object.MemberEnd();
}

bool IsNull(const rapidjson::Value& object, const char* field) {
  const auto member = object.FindMember(field);
  return member != object.MemberEnd() && member->value.IsNull();
}

std::optional<std::string> ReadString(const rapidjson::Value& object, const char* field, std::size_t max_chars,
                                      std::string& error) {
  const auto member = object.FindMember(field);
  if (member == object.MemberEnd() || member->value.IsNull()) return std::nullopt;
  if (!member->value.IsString()) {
    error = std::string(field) + ": must be a string";
    return std::nullopt;
  }
  std::string value(TrimWhitespace(std::string_view(member->value.GetString(), member->value.GetStringLength())));
  if (value.find('\0') != std::string::npos) {
    error = std::string(field) + ": must not contain NUL characters";
    return std::nullopt;
  }
  if (Utf8Chars(value) > max_chars) {
    error = std::string(field) + ": must be at most " + std::to_string(max_chars) + " characters";
    return std::nullopt;
  }
  return value;
}

std::optional<bool> ReadBool(const rapidjson::Value& object, const char* field, std::string& error) {
  const auto member = object.FindMember(field);
  if (member == object.MemberEnd() || member->value.IsNull()) return std::nullopt;
  if (!member->value.IsBool()) {
    error = std::string(field) + ": must be true or false";
    return std::nullopt;
  }
  return member->value.GetBool();
}

std::optional<std::vector<std::string>> ReadStringList(const rapidjson::Value& object, const char* field,
                                                       std::size_t max_items, std::size_t max_chars,
                                                       std::string& error) {
  const auto member = object.FindMember(field);
  if (member == object.MemberEnd() || member->value.IsNull()) return std::nullopt;
  if (!member->value.IsArray()) {
    error = std::string(field) + ": must be a list of strings";
    return std::nullopt;
  }
  if (member->value.Size() > max_items) {
    error = std::string(field) + ": at most " + std::to_string(max_items) + " items";
    return std::nullopt;
  }
  std::vector<std::string> items;
  for (const auto& item : member->value.GetArray()) {
    if (!item.IsString()) {
      error = std::string(field) + ": must be a list of strings";
      return std::nullopt;
    }
    std::string value(TrimWhitespace(std::string_view(item.GetString(), item.GetStringLength())));
    if (value.empty() || Utf8Chars(value) > max_chars || value.find('\0') != std::string::npos) {
      error = std::string(field) + ": items must be non-empty strings of at most " + std::to_string(max_chars) +
              " characters";
      return std::nullopt;
    }
    items.push_back(std::move(value));
  }
  return items;
}

std::string JsonStringArray(const std::vector<std::string>& items) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartArray();
  for (const auto& item : items) w.String(item.c_str(), static_cast<rapidjson::SizeType>(item.size()));
  w.EndArray();
  return buffer.GetString();
}

std::vector<std::string> ParseStringArray(const std::string& json) {
  std::vector<std::string> items;
  rapidjson::Document document;
  document.Parse(json.c_str(), json.size());
  if (document.HasParseError() || !document.IsArray()) return items;
  for (const auto& item : document.GetArray()) {
    if (item.IsString()) items.emplace_back(item.GetString(), item.GetStringLength());
  }
  return items;
}

void WriteString(JsonWriter& w, const char* key, std::string_view value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void WriteIdString(JsonWriter& w, const char* key, std::int64_t id) {
  WriteString(w, key, std::to_string(id));
}

void WriteTime(JsonWriter& w, const char* key, std::int64_t unix_millis) {
  WriteString(w, key, FormatIso8601Millis(unix_millis));
}

void WriteStrings(JsonWriter& w, const char* key, const std::vector<std::string>& items) {
  w.Key(key);
  w.StartArray();
  for (const auto& item : items) w.String(item.c_str(), static_cast<rapidjson::SizeType>(item.size()));
  w.EndArray();
}

}  // namespace rookery::web
