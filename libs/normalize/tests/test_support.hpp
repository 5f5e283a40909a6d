// Helpers for reading back the stored JSON in normalize tests.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>

namespace rookery::normalize::testing {

inline rapidjson::Document ParseStored(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  return doc;
}

/// The value at a JSON pointer ("/_meta/message/"), or null when absent.
inline const rapidjson::Value* At(const rapidjson::Value& root, const char* pointer) {
  return rapidjson::Pointer(pointer).Get(root);
}

inline std::string Json(const rapidjson::Value* value) {
  if (value == nullptr) return "<absent>";
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value->Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

inline std::string StringAt(const rapidjson::Value& root, const char* pointer) {
  const rapidjson::Value* value = At(root, pointer);
  return value != nullptr && value->IsString() ? std::string(value->GetString(), value->GetStringLength())
                                               : std::string("<not a string>");
}

}  // namespace rookery::normalize::testing
