#include "rookery/protocol/security_report.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>

#include "rookery/protocol/json_limits.hpp"

namespace rookery::protocol {
namespace {

using Value = rapidjson::Value;

std::string Get(const Value& object, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    auto it = object.FindMember(key);
    if (it != object.MemberEnd() && it->value.IsString()) return {it->value.GetString(), it->value.GetStringLength()};
  }
  return {};
}

// "script-src-elem" -> "script", "img-src" -> "image", as Sentry names the blocked kind.
std::string DirectiveKind(std::string directive) {
  directive = directive.substr(0, directive.find(' '));
  static const std::map<std::string, std::string> kKinds = {
      {"child-src", "child"},       {"connect-src", "connect"},    {"font-src", "font"},
      {"form-action", "form"},      {"frame-src", "frame"},        {"img-src", "image"},
      {"manifest-src", "manifest"}, {"media-src", "media"},        {"object-src", "object"},
      {"script-src", "script"},     {"script-src-elem", "script"}, {"script-src-attr", "script"},
      {"style-src", "style"},       {"style-src-elem", "style"},   {"style-src-attr", "style"},
      {"worker-src", "worker"},     {"default-src", "default"}};
  auto it = kKinds.find(directive);
  return it != kKinds.end() ? it->second : directive;
}

std::string BlockedTarget(const std::string& blocked_uri) {
  if (blocked_uri.empty() || blocked_uri == "self") return "self";
  if (blocked_uri == "inline" || blocked_uri == "eval" || blocked_uri == "data" || blocked_uri == "blob") {
    return blocked_uri;
  }
  std::string_view uri = blocked_uri;
  if (auto scheme = uri.find("://"); scheme != std::string_view::npos) {
    uri.remove_prefix(scheme + 3);
    return std::string(uri.substr(0, uri.find_first_of("/?#")));
  }
  return std::string(uri.substr(0, uri.find(':')));  // "data:..." and friends
}

void Str(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::string& text) {
  w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
}

}  // namespace

Expected<std::string, IngestError> SecurityReportToEvent(std::string_view body, const SecurityReportContext& context) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError()) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadJson, "security report is not valid JSON"));
  }
  if (JsonDepth(doc) > kMaxJsonDepth) {  // the report is copied with a recursive Accept() below
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadJson, "JSON nested too deep"));
  }
  const Value* report = nullptr;
  bool expect_ct = false;
  if (doc.IsObject()) {
    if (auto it = doc.FindMember("csp-report"); it != doc.MemberEnd() && it->value.IsObject()) {
      report = &it->value;
    } else if (auto ct = doc.FindMember("expect-ct-report"); ct != doc.MemberEnd() && ct->value.IsObject()) {
      report = &ct->value;
      expect_ct = true;
    }
  } else if (doc.IsArray()) {
    for (const Value& entry : doc.GetArray()) {
      if (!entry.IsObject() || Get(entry, {"type"}) != "csp-violation") continue;
      if (auto it = entry.FindMember("body"); it != entry.MemberEnd() && it->value.IsObject()) {
        report = &it->value;
        break;
      }
    }
  }
  if (report == nullptr) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadJson, "not a CSP or Expect-CT report"));
  }

  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("event_id");
  Str(w, context.event_id.ToHex());
  w.Key("platform");
  w.String("javascript");
  w.Key("level");
  w.String("error");
  std::string page;
  if (expect_ct) {
    const std::string host = Get(*report, {"hostname"});
    page = host;
    w.Key("logger");
    w.String("expect-ct");
    w.Key("message");
    Str(w, "Expect-CT failed for '" + host + "'");
    w.Key("culprit");
    Str(w, host);
    w.Key("expectct");
  } else {
    // Both vocabularies: the legacy report's dashed keys and the Reporting API's camelCase ones.
    const std::string directive = Get(*report, {"effective-directive", "effectiveDirective", "violated-directive"});
    const std::string violated = Get(*report, {"violated-directive", "effectiveDirective", "effective-directive"});
    const std::string blocked = Get(*report, {"blocked-uri", "blockedURL"});
    page = Get(*report, {"document-uri", "documentURL"});
    w.Key("logger");
    w.String("csp");
    w.Key("message");
    Str(w, "Blocked '" + DirectiveKind(directive) + "' from '" + BlockedTarget(blocked) + "'");
    w.Key("culprit");
    Str(w, violated);
    w.Key("tags");
    w.StartObject();
    w.Key("effective-directive");
    Str(w, directive);
    w.Key("blocked-uri");
    Str(w, blocked);
    w.EndObject();
    w.Key("csp");
  }
  report->Accept(w);
  w.Key("request");
  w.StartObject();
  w.Key("url");
  Str(w, page);
  w.Key("headers");
  w.StartObject();
  w.Key("User-Agent");
  Str(w, context.user_agent);
  w.EndObject();
  w.EndObject();
  if (!context.release.empty()) {
    w.Key("release");
    Str(w, context.release);
  }
  if (!context.environment.empty()) {
    w.Key("environment");
    Str(w, context.environment);
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace rookery::protocol
