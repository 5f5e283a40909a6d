// Helpers for reading back the stored JSON in normalize tests.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>

namespace rookery::normalize::testing {

/// An event with a secret under every kind of key the default scrubber filters, in every place
/// data can be: "p1" to "p23" (each written in quotes, "p7"), next to values that must stay.
inline constexpr const char* kSensitiveEvent = R"({
  "extra":{"password":"p1","db_passwd":"p2","Secret-Thing":"p3","apiKey":"p4","access_token":"p5",
    "auth":{"user":"u","pass":"p6"},"credentials":["p7"],"mysql_pwd":"p8","private_key":"p9","csrftoken":"p10",
    "sessionid":"p11","passphrase":"p12","otp":"p13","visible":"shown","enabled":true,"count":3,"nothing":null},
  "contexts":{"db":{"type":"db","connection_token":"p14","host":"db.internal"}},
  "breadcrumbs":{"values":[{"category":"auth","data":{"Authorization":"Basic p15","path":"/login"}}]},
  "user":{"id":"1","data":{"reset_token":"p16"}},
  "logentry":{"formatted":"login failed","params":{"password":"p17"}},
  "exception":{"values":[{"type":"E","mechanism":{"type":"x","data":{"secret":"p18"}}}]},
  "request":{"query_string":[["api_key","p19"],["page","2"]],"env":{"AUTH_HEADER":"p20"},
    "cookies":"theme=dark; sid=p21","headers":[["Cookie","a=p22"],["X-Csrf-Token","p23"]]}})";
inline constexpr int kSensitiveSecrets = 23;

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
