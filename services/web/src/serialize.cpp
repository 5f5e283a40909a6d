#include "serialize.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <vector>

#include "rookery/core/strings.hpp"
#include "rookery/core/time.hpp"

namespace rookery::web {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using Value = rapidjson::Value;

void Key(Writer& w, const char* key) {
  w.Key(key);
}
void Str(Writer& w, const std::string& text) {
  w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
}
void StrOrNull(Writer& w, const std::string& text) {
  if (text.empty()) {
    w.Null();
  } else {
    Str(w, text);
  }
}

const Value* Member(const Value& object, const char* key) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(key);
  return it == object.MemberEnd() || it->value.IsNull() ? nullptr : &it->value;
}

const Value* Aliased(const Value& doc, const char* key, const char* legacy) {
  const Value* value = Member(doc, key);
  return value != nullptr ? value : Member(doc, legacy);
}

std::string CamelCase(const std::string& snake) {
  if (snake == "lineno") return "lineNo";
  if (snake == "colno") return "colNo";
  std::string out;
  bool upper = false;
  for (char c : snake) {
    if (c == '_') {
      upper = true;
    } else {
      out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
      upper = false;
    }
  }
  return out;
}

// Sentry's API shows frames in camelCase with source context as [[lineNo, line], ...].
void WriteFrame(Writer& w, const Value& frame) {
  w.StartObject();
  if (!frame.IsObject()) {
    w.EndObject();
    return;
  }
  for (const auto& member : frame.GetObject()) {
    const std::string name(member.name.GetString(), member.name.GetStringLength());
    if (name == "pre_context" || name == "context_line" || name == "post_context") continue;
    Key(w, CamelCase(name).c_str());
    member.value.Accept(w);
  }
  Key(w, "context");
  w.StartArray();
  const Value* line_value = Member(frame, "lineno");
  std::int64_t lineno = line_value != nullptr && line_value->IsInt64() ? line_value->GetInt64() : 0;
  const Value* pre = Member(frame, "pre_context");
  const Value* line = Member(frame, "context_line");
  const Value* post = Member(frame, "post_context");
  if (line != nullptr && line->IsString() && lineno > 0) {
    std::int64_t n = lineno - (pre != nullptr && pre->IsArray() ? pre->Size() : 0);
    auto emit = [&](const Value& text) {
      w.StartArray();
      w.Int64(n++);
      if (text.IsString()) {
        text.Accept(w);
      } else {
        w.Null();
      }
      w.EndArray();
    };
    if (pre != nullptr && pre->IsArray()) {
      for (const auto& text : pre->GetArray()) emit(text);
    }
    emit(*line);
    if (post != nullptr && post->IsArray()) {
      for (const auto& text : post->GetArray()) emit(text);
    }
  }
  w.EndArray();
  w.EndObject();
}

void WriteStacktrace(Writer& w, const Value* stacktrace) {
  if (stacktrace == nullptr || !stacktrace->IsObject()) {
    w.Null();
    return;
  }
  w.StartObject();
  Key(w, "frames");
  w.StartArray();
  if (const Value* frames = Member(*stacktrace, "frames"); frames != nullptr && frames->IsArray()) {
    for (const auto& frame : frames->GetArray()) WriteFrame(w, frame);
  }
  w.EndArray();
  w.EndObject();
}

void WriteExceptionEntry(Writer& w, const Value& doc) {
  const Value* container = Aliased(doc, "exception", "sentry.interfaces.Exception");
  if (container == nullptr) return;
  const Value* list = container->IsArray() ? container : Member(*container, "values");
  std::vector<const Value*> values;
  if (list != nullptr && list->IsArray()) {
    for (const auto& item : list->GetArray()) values.push_back(&item);
  } else if (container->IsObject() && Member(*container, "type") != nullptr) {
    values.push_back(container);
  }
  if (values.empty()) return;
  const Value* lone_stacktrace =
      values.size() == 1 ? Aliased(doc, "stacktrace", "sentry.interfaces.Stacktrace") : nullptr;
  w.StartObject();
  Key(w, "type");
  w.String("exception");
  Key(w, "data");
  w.StartObject();
  Key(w, "values");
  w.StartArray();
  for (const Value* exception : values) {
    w.StartObject();
    for (const char* field : {"type", "value", "module", "mechanism", "threadId"}) {
      Key(w, field);
      const Value* v = Member(*exception, std::string(field) == "threadId" ? "thread_id" : field);
      if (v != nullptr) {
        v->Accept(w);
      } else {
        w.Null();
      }
    }
    Key(w, "stacktrace");
    const Value* stacktrace = Member(*exception, "stacktrace");
    WriteStacktrace(w, stacktrace != nullptr ? stacktrace : lone_stacktrace);
    Key(w, "rawStacktrace");
    w.Null();
    w.EndObject();
  }
  w.EndArray();
  Key(w, "hasSystemFrames");
  w.Bool(false);
  w.EndObject();
  w.EndObject();
}

void WriteMessageEntry(Writer& w, const Value& doc) {
  const Value* entry = Aliased(doc, "logentry", "sentry.interfaces.Message");
  const Value* message = Member(doc, "message");
  std::string formatted;
  if (entry != nullptr && entry->IsObject()) {
    if (const Value* f = Member(*entry, "formatted"); f && f->IsString()) formatted = f->GetString();
    if (const Value* m = Member(*entry, "message"); formatted.empty() && m && m->IsString()) formatted = m->GetString();
  }
  if (formatted.empty() && message != nullptr && message->IsString()) formatted = message->GetString();
  if (formatted.empty()) return;
  w.StartObject();
  Key(w, "type");
  w.String("message");
  Key(w, "data");
  w.StartObject();
  Key(w, "formatted");
  Str(w, formatted);
  Key(w, "params");
  const Value* params = entry != nullptr ? Member(*entry, "params") : nullptr;
  if (params != nullptr) {
    params->Accept(w);
  } else {
    w.Null();
  }
  w.EndObject();
  w.EndObject();
}

void WritePassThroughEntry(Writer& w, const Value& doc, const char* key, const char* legacy, const char* type,
                           bool values_wrapper) {
  const Value* value = Aliased(doc, key, legacy);
  if (value == nullptr) return;
  w.StartObject();
  Key(w, "type");
  w.String(type);
  Key(w, "data");
  if (values_wrapper && value->IsArray()) {
    w.StartObject();
    Key(w, "values");
    value->Accept(w);
    w.EndObject();
  } else {
    value->Accept(w);
  }
  w.EndObject();
}

void WriteTag(Writer& w, const std::string& key, const std::string& value) {
  w.StartObject();
  Key(w, "key");
  Str(w, key);
  Key(w, "value");
  Str(w, value);
  w.EndObject();
}

void WriteTags(Writer& w, const Value& doc, const EventRow& event) {
  w.StartArray();
  if (!event.environment.empty()) WriteTag(w, "environment", event.environment);
  WriteTag(w, "level", event.level);
  if (!event.release.empty()) WriteTag(w, "release", event.release);
  if (const Value* tags = Member(doc, "tags")) {
    auto scalar = [](const Value& v) -> std::string {
      if (v.IsString()) return v.GetString();
      if (v.IsBool()) return v.GetBool() ? "true" : "false";
      if (v.IsInt64()) return std::to_string(v.GetInt64());
      if (v.IsNumber()) return std::to_string(v.GetDouble());
      return {};
    };
    if (tags->IsObject()) {
      for (const auto& m : tags->GetObject()) {
        const std::string key(m.name.GetString(), m.name.GetStringLength());
        if (key == "environment" || key == "level" || key == "release") continue;
        WriteTag(w, key, scalar(m.value));
      }
    } else if (tags->IsArray()) {
      for (const auto& pair : tags->GetArray()) {
        if (pair.IsArray() && pair.Size() == 2 && pair[0].IsString()) WriteTag(w, pair[0].GetString(), scalar(pair[1]));
      }
    }
  }
  if (const Value* server = Member(doc, "server_name"); server && server->IsString()) {
    WriteTag(w, "server_name", server->GetString());
  }
  w.EndArray();
}

}  // namespace

std::string SerializeIssue(const IssueRow& issue, const std::string& public_url) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  const std::string id = std::to_string(issue.id);
  w.StartObject();
  Key(w, "id");
  Str(w, id);
  Key(w, "shortId");
  Str(w, IssueShortId(issue.project_slug, issue.short_id));
  Key(w, "title");
  Str(w, issue.title);
  Key(w, "culprit");
  Str(w, issue.culprit);
  Key(w, "permalink");
  Str(w, public_url + "/organizations/" + issue.org_slug + "/issues/" + id + "/");
  Key(w, "logger");
  StrOrNull(w, issue.logger);
  Key(w, "level");
  Str(w, issue.level);
  Key(w, "status");
  Str(w, issue.status);
  Key(w, "statusDetails");
  w.StartObject();
  if (issue.status == "ignored") {
    if (issue.ignore_until_ms > 0) {
      Key(w, "ignoreUntil");
      Str(w, FormatIso8601Millis(issue.ignore_until_ms));
    }
    if (issue.ignore_count_left > 0) {
      Key(w, "ignoreCount");
      w.Int64(issue.ignore_count_left);
    }
    if (issue.ignore_user_count_left > 0) {
      Key(w, "ignoreUserCount");
      w.Int64(issue.ignore_user_count_left);
    }
  }
  w.EndObject();
  Key(w, "isPublic");
  w.Bool(false);
  Key(w, "platform");
  StrOrNull(w, issue.platform.empty() ? issue.project_platform : issue.platform);
  Key(w, "project");
  w.StartObject();
  Key(w, "id");
  Str(w, std::to_string(issue.project_id));
  Key(w, "name");
  Str(w, issue.project_name);
  Key(w, "slug");
  Str(w, issue.project_slug);
  Key(w, "platform");
  StrOrNull(w, issue.project_platform);
  w.EndObject();
  Key(w, "type");
  Str(w, issue.type);
  Key(w, "metadata");
  rapidjson::Document metadata;
  metadata.Parse<rapidjson::kParseIterativeFlag>(issue.metadata_json.c_str());
  if (metadata.HasParseError()) {
    w.StartObject();
    w.EndObject();
  } else {
    metadata.Accept(w);
  }
  Key(w, "numComments");
  w.Int(0);
  Key(w, "assignedTo");
  if (issue.assignee_id == 0) {
    w.Null();
  } else {
    // Sentry's actor shape.
    w.StartObject();
    Key(w, "type");
    w.String("user");
    Key(w, "id");
    Str(w, std::to_string(issue.assignee_id));
    Key(w, "name");
    Str(w, issue.assignee_name.empty() ? issue.assignee_email : issue.assignee_name);
    Key(w, "email");
    Str(w, issue.assignee_email);
    w.EndObject();
  }
  Key(w, "isBookmarked");
  w.Bool(false);
  Key(w, "isSubscribed");
  w.Bool(false);
  Key(w, "hasSeen");
  w.Bool(false);
  Key(w, "annotations");
  w.StartArray();
  w.EndArray();
  // Sentry sends the count as a string (it can exceed JavaScript's safe integers).
  Key(w, "count");
  Str(w, std::to_string(issue.times_seen));
  Key(w, "userCount");
  w.Int64(issue.user_count);
  Key(w, "firstSeen");
  Str(w, FormatIso8601Millis(issue.first_seen_ms));
  Key(w, "lastSeen");
  Str(w, FormatIso8601Millis(issue.last_seen_ms));
  if (!issue.stats_json.empty()) {
    Key(w, "stats");
    w.RawValue(issue.stats_json.c_str(), issue.stats_json.size(), rapidjson::kObjectType);
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string SerializeEvent(const EventRow& event) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(event.data_json.c_str());
  if (doc.HasParseError() || !doc.IsObject()) doc.SetObject();

  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Key(w, "id");
  Str(w, event.event_id);
  Key(w, "eventID");
  Str(w, event.event_id);
  Key(w, "groupID");
  Str(w, std::to_string(event.issue_id));
  Key(w, "projectID");
  Str(w, std::to_string(event.project_id));
  Key(w, "title");
  Str(w, event.title);
  Key(w, "culprit");
  Str(w, event.culprit);
  Key(w, "message");
  std::string message;
  if (const Value* m = Member(doc, "message"); m && m->IsString()) message = m->GetString();
  Str(w, message);
  Key(w, "platform");
  Str(w, event.platform);
  Key(w, "type");
  w.String(Aliased(doc, "exception", "sentry.interfaces.Exception") != nullptr ? "error" : "default");
  Key(w, "dateCreated");
  Str(w, FormatIso8601Millis(event.timestamp_ms));
  Key(w, "dateReceived");
  Str(w, FormatIso8601Millis(event.received_ms));
  Key(w, "size");
  w.Uint64(event.data_json.size());
  Key(w, "tags");
  WriteTags(w, doc, event);
  Key(w, "entries");
  w.StartArray();
  WriteExceptionEntry(w, doc);
  WriteMessageEntry(w, doc);
  WritePassThroughEntry(w, doc, "breadcrumbs", "sentry.interfaces.Breadcrumbs", "breadcrumbs", true);
  WritePassThroughEntry(w, doc, "request", "sentry.interfaces.Http", "request", false);
  w.EndArray();
  Key(w, "contexts");
  if (const Value* contexts = Member(doc, "contexts"); contexts && contexts->IsObject()) {
    contexts->Accept(w);
  } else {
    w.StartObject();
    w.EndObject();
  }
  Key(w, "user");
  if (const Value* user = Aliased(doc, "user", "sentry.interfaces.User"); user && user->IsObject()) {
    user->Accept(w);
  } else {
    w.Null();
  }
  Key(w, "sdk");
  if (const Value* sdk = Member(doc, "sdk"); sdk && sdk->IsObject()) {
    sdk->Accept(w);
  } else {
    w.StartObject();
    Key(w, "name");
    Str(w, event.sdk_name);
    Key(w, "version");
    Str(w, event.sdk_version);
    w.EndObject();
  }
  // Sentry's event API names the event's `extra` "context".
  Key(w, "context");
  if (const Value* extra = Aliased(doc, "extra", "sentry.interfaces.Extra"); extra && extra->IsObject()) {
    extra->Accept(w);
  } else {
    w.StartObject();
    w.EndObject();
  }
  if (event.with_neighbours) {
    for (const auto& [key, id] :
         {std::pair{"previousEventID", &event.previous_event_id}, std::pair{"nextEventID", &event.next_event_id}}) {
      Key(w, key);
      if (*id) {
        Str(w, **id);
      } else {
        w.Null();
      }
    }
  }
  Key(w, "errors");
  w.StartArray();
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace rookery::web
