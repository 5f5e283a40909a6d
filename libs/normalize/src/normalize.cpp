#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "internal.hpp"
#include "rookery/core/strings.hpp"
#include "rookery/core/time.hpp"
#include "rookery/normalize/event.hpp"

namespace rookery::normalize {
namespace {

using detail::Allocator;
using detail::CountChars;
using detail::MetaCollector;
using detail::Path;
using detail::PathSegment;
using detail::TrimString;
using detail::Value;

constexpr std::size_t kMaxMessageChars = 8192;  // logentry.formatted limit

// Relay's processing defaults (sentry-protocol.md §7.1): a minute into the future, 30 days into
// the past, and clock drift corrected only from 55 minutes on (smaller offsets are timezone-free
// noise that shifting would make worse).
constexpr std::int64_t kMaxFutureMs = 60LL * 1000;
constexpr std::int64_t kMaxAgeMs = 30LL * 24 * 3600 * 1000;
constexpr std::int64_t kMinClockDriftMs = 55LL * 60 * 1000;

std::string_view View(const Value& value) {
  return {value.GetString(), value.GetStringLength()};
}

Path PathOf(std::string_view key) {
  return {PathSegment{key, 0, false}};
}

Value Text(std::string_view text, Allocator& allocator) {
  return Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), allocator);
}

std::string GetString(const Value& object, const char* key) {
  if (!object.IsObject()) return {};
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

// Canonical key first, then the legacy raven interface name.
const Value* FindAliased(const Value& doc, const char* key, const char* legacy) {
  auto it = doc.FindMember(key);
  if (it != doc.MemberEnd() && !it->value.IsNull()) return &it->value;
  it = doc.FindMember(legacy);
  if (it != doc.MemberEnd() && !it->value.IsNull()) return &it->value;
  return nullptr;
}

// A parameter as Python's %-formatting shows it, which is what logging SDKs send params for.
std::string ParamText(const Value& param) {
  if (param.IsString()) return {param.GetString(), param.GetStringLength()};
  if (param.IsNull()) return "None";
  if (param.IsBool()) return param.GetBool() ? "True" : "False";
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  param.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

// `message` with printf-style placeholders (%s, %d, %5.2f, %(name)s, %%) filled from `params` (a
// list, or an object for named ones), as Sentry fills logentry.formatted. A placeholder without a
// parameter is left as it is.
std::string FormatLogMessage(std::string_view message, const Value& params) {
  std::string out;
  std::size_t next = 0;
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] != '%' || i + 1 >= message.size()) {
      out.push_back(message[i]);
      continue;
    }
    if (message[i + 1] == '%') {
      out.push_back('%');
      ++i;
      continue;
    }
    std::size_t end = i + 1;
    const Value* param = nullptr;
    if (message[end] == '(') {
      const std::size_t close = message.find(')', end);
      if (close == std::string_view::npos || !params.IsObject()) {
        out.push_back('%');
        continue;
      }
      const std::string name(message.substr(end + 1, close - end - 1));
      if (auto it = params.FindMember(name.c_str()); it != params.MemberEnd()) param = &it->value;
      end = close + 1;
    }
    while (end < message.size() && std::string_view("#0- +.0123456789").find(message[end]) != std::string_view::npos) {
      ++end;
    }
    if (end >= message.size() || std::string_view("sdirfFgGeExXoc").find(message[end]) == std::string_view::npos) {
      out.push_back('%');
      continue;
    }
    if (param == nullptr && params.IsArray() && next < params.Size())
      param = &params[static_cast<rapidjson::SizeType>(next++)];
    if (param == nullptr) {
      out.append(message.substr(i, end - i + 1));
    } else {
      out += ParamText(*param);
    }
    i = end;
  }
  return out;
}

// Sets logentry.formatted (or message.formatted) from message and params when the SDK sent only
// those, after scrubbing, so a filtered parameter stays filtered in the text.
void FillFormattedMessage(rapidjson::Document& doc) {
  for (const char* key : {"logentry", "message"}) {
    auto entry = doc.FindMember(key);
    if (entry == doc.MemberEnd() || !entry->value.IsObject()) continue;
    Value& object = entry->value;
    if (!GetString(object, "formatted").empty()) continue;
    const std::string message = GetString(object, "message");
    auto params = object.FindMember("params");
    if (message.empty() || params == object.MemberEnd() || !(params->value.IsArray() || params->value.IsObject())) {
      continue;
    }
    const std::string formatted = TruncateUtf8(FormatLogMessage(message, params->value), kMaxMessageChars);
    object.AddMember("formatted",
                     Value(formatted.c_str(), static_cast<rapidjson::SizeType>(formatted.size()), doc.GetAllocator()),
                     doc.GetAllocator());
  }
}

std::string ReadMessage(const Value& doc) {
  // `logentry` / `sentry.interfaces.Message` objects, or a plain `message` string.
  if (const Value* entry = FindAliased(doc, "logentry", "sentry.interfaces.Message"); entry && entry->IsObject()) {
    std::string formatted = GetString(*entry, "formatted");
    if (formatted.empty()) formatted = GetString(*entry, "message");
    if (!formatted.empty()) return formatted;
  }
  auto it = doc.FindMember("message");
  if (it != doc.MemberEnd()) {
    if (it->value.IsString()) return {it->value.GetString(), it->value.GetStringLength()};
    if (it->value.IsObject()) {
      std::string formatted = GetString(it->value, "formatted");
      return formatted.empty() ? GetString(it->value, "message") : formatted;
    }
  }
  return {};
}

// Levels as Relay accepts them, plus "warn" (harmless leniency); nullopt for anything else.
std::optional<std::string_view> CanonicalLevel(const Value& level) {
  if (level.IsNumber()) {
    // Python logging levels, as raven-python sends them.
    const double n = level.GetDouble();
    if (n >= 50) return "fatal";
    if (n >= 40) return "error";
    if (n >= 30) return "warning";
    if (n >= 20) return "info";
    return "debug";
  }
  if (!level.IsString()) return std::nullopt;
  const std::string_view text = TrimWhitespace(View(level));
  static constexpr std::pair<std::string_view, std::string_view> kLevels[] = {
      {"fatal", "fatal"}, {"critical", "fatal"}, {"error", "error"}, {"warning", "warning"}, {"warn", "warning"},
      {"info", "info"},   {"log", "info"},       {"debug", "debug"}, {"trace", "debug"}};
  for (const auto& [name, canonical] : kLevels) {
    if (EqualsIgnoreCase(text, name)) return canonical;
  }
  return std::nullopt;
}

bool IsValidPlatform(std::string_view platform) {
  static constexpr std::array<std::string_view, 21> kKnown = {
      "as3",    "c",    "cfml", "cocoa", "csharp", "elixir", "haskell", "go",   "groovy", "java", "javascript",
      "native", "node", "objc", "other", "perl",   "php",    "python",  "ruby", "dart",   "rust"};
  return std::find(kKnown.begin(), kKnown.end(), platform) != kKnown.end();
}

// Relay maps every `sentry.interfaces.*` alias onto its canonical key at parse time; doing the same
// here lets every later pass (and the stored event) know one name only.
void CanonicalizeAliases(Value& doc) {
  static constexpr std::pair<std::string_view, const char*> kAliases[] = {
      {"sentry.interfaces.Message", "logentry"},
      {"sentry.interfaces.Exception", "exception"},
      {"sentry.interfaces.Stacktrace", "stacktrace"},
      {"sentry.interfaces.Http", "request"},
      {"sentry.interfaces.User", "user"},
      {"sentry.interfaces.Breadcrumbs", "breadcrumbs"},
      {"sentry.interfaces.Contexts", "contexts"},
      {"sentry.interfaces.Template", "template"},
      {"sentry.interfaces.Threads", "threads"},
      {"sentry.interfaces.DebugMeta", "debug_meta"}};
  for (auto& member : doc.GetObject()) {
    const std::string_view name = View(member.name);
    if (name.substr(0, 18) != "sentry.interfaces.") continue;
    for (const auto& [legacy, canonical] : kAliases) {
      if (name == legacy && !doc.HasMember(canonical)) member.name.SetString(rapidjson::StringRef(canonical));
    }
  }
}

// Seconds since the epoch (number) or RFC 3339 text; nullopt when unusable.
std::optional<std::int64_t> ParseTimestamp(const Value& value) {
  if (value.IsNumber()) {
    const double seconds = value.GetDouble();
    // Bounded before converting: a double beyond int64 milliseconds is undefined behaviour.
    if (std::isfinite(seconds) && seconds > 0 && seconds < 1e14) return static_cast<std::int64_t>(seconds * 1000.0);
    return std::nullopt;
  }
  if (value.IsString()) return ParseIso8601Millis(View(value));
  return std::nullopt;
}

// RapidJSON's Writer with a faster string writer and the same output: its WriteString puts every
// byte through the escape table one at a time, and it was the largest part of serializing the
// storable JSON. Here runs of bytes that need no escape (checked eight at a time) are copied whole.
class StorableWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
 public:
  using Writer::Writer;

  bool String(const Ch* text, rapidjson::SizeType length, bool /*copy*/ = false) {
    Prefix(rapidjson::kStringType);
    return EndValue(WriteText(text, length));
  }
  bool Key(const Ch* text, rapidjson::SizeType length, bool copy = false) { return String(text, length, copy); }

 private:
  bool WriteText(const char* text, std::size_t length) {
    static constexpr char kHexDigits[] = "0123456789ABCDEF";
    rapidjson::StringBuffer& out = *os_;
    char* at = out.Push(2 + 6 * length);  // the worst case, every byte as \u00XX
    char* const begin = at;
    *at++ = '"';
    std::size_t i = 0;
    while (i < length) {
      std::size_t run = i;
      while (length - run >= 8 && !NeedsEscapeIn8(text + run)) run += 8;
      while (run < length && !NeedsEscape(static_cast<unsigned char>(text[run]))) ++run;
      std::memcpy(at, text + i, run - i);
      at += run - i;
      i = run;
      if (i == length) break;
      const auto c = static_cast<unsigned char>(text[i++]);
      *at++ = '\\';
      switch (c) {
        case '"': *at++ = '"'; break;
        case '\\': *at++ = '\\'; break;
        case '\b': *at++ = 'b'; break;
        case '\t': *at++ = 't'; break;
        case '\n': *at++ = 'n'; break;
        case '\f': *at++ = 'f'; break;
        case '\r': *at++ = 'r'; break;
        default:
          *at++ = 'u';
          *at++ = '0';
          *at++ = '0';
          *at++ = kHexDigits[c >> 4];
          *at++ = kHexDigits[c & 0xF];
      }
    }
    *at++ = '"';
    out.Pop(2 + 6 * length - static_cast<std::size_t>(at - begin));
    return true;
  }

  static bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

  // Whether any of the eight bytes at `p` is a control character, '"' or '\\' (bytes >= 0x80 are
  // written as they are, as RapidJSON does).
  static bool NeedsEscapeIn8(const char* p) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);
    const auto has_zero = [](std::uint64_t v) { return ((v - kOnes) & ~v & kHighBits) != 0; };
    const bool control = ((word - kOnes * 0x20) & ~word & kHighBits) != 0;
    return control || has_zero(word ^ (kOnes * '"')) || has_zero(word ^ (kOnes * '\\'));
  }
};

class Normalizer {
 public:
  Normalizer(rapidjson::Document& doc, const Context& context, Event& event)
      : doc_(doc), allocator_(doc.GetAllocator()), context_(context), event_(event), meta_(allocator_) {}

  void Run() {
    CanonicalizeAliases(doc_);
    // Relay drops a request that is not an object (a string of headers, say), keeping it only in
    // _meta, scrubbed there: as text it would escape the request scrubbing.
    if (Value* request = Member("request"); request != nullptr && !request->IsObject()) Invalid("request");
    Level();
    Platform();
    Environment();
    Release();
    TrimField("dist", detail::kDistChars);
    TrimField("logger", detail::kLoggerChars);
    TrimField("transaction", detail::kCulpritChars);
    TrimField("culprit", detail::kCulpritChars);
    TrimField("server_name", detail::kSymbolChars);
    TrimField("site", detail::kSymbolChars);
    Timestamps();
    Tags();
    UserIp();

    const detail::Scrubber scrubber(context_.scrubbing);
    detail::ScrubAndTrim(doc_, scrubber, meta_);

    ReadBack();
    if (!errors_.Empty()) {
      auto it = doc_.FindMember("errors");
      if (it == doc_.MemberEnd()) {
        doc_.AddMember("errors", errors_, allocator_);
      } else {
        if (!it->value.IsArray()) it->value.SetArray();
        for (Value& error : errors_.GetArray()) it->value.PushBack(error, allocator_);
      }
    }
    meta_.WriteInto(doc_);
    if (auto meta = doc_.FindMember("_meta"); meta != doc_.MemberEnd()) {
      detail::ScrubMetaOriginals(meta->value, context_.scrubbing, allocator_);
    }
  }

 private:
  // Removes an invalid top-level value, keeping it in `_meta` as Relay does.
  void Invalid(const char* key) {
    auto it = doc_.FindMember(key);
    if (it == doc_.MemberEnd()) return;
    meta_.AddError(PathOf(key), "invalid_data", &it->value);
    doc_.EraseMember(it);
  }

  Value* Member(const char* key) {
    auto it = doc_.FindMember(key);
    return it == doc_.MemberEnd() || it->value.IsNull() ? nullptr : &it->value;
  }

  void Level() {
    Value* level = Member("level");
    if (level == nullptr) return;
    const auto canonical = CanonicalLevel(*level);
    if (!canonical) return Invalid("level");
    if (!level->IsString() || View(*level) != *canonical) level->SetString(rapidjson::StringRef(canonical->data()));
  }

  void Platform() {
    Value* platform = Member("platform");
    if (platform != nullptr && !(platform->IsString() && IsValidPlatform(View(*platform)))) Invalid("platform");
  }

  // Integers become text (Relay's LenientString); other non-strings are invalid.
  Value* LenientString(const char* key) {
    Value* value = Member(key);
    if (value == nullptr) return nullptr;
    if (value->IsInt64() || value->IsUint64()) {
      const std::string text =
          value->IsInt64() ? std::to_string(value->GetInt64()) : std::to_string(value->GetUint64());
      value->SetString(text.c_str(), static_cast<rapidjson::SizeType>(text.size()), allocator_);
    }
    if (!value->IsString()) {
      Invalid(key);
      return nullptr;
    }
    return value;
  }

  void Environment() {
    Value* environment = LenientString("environment");
    if (environment == nullptr) return;
    const std::string_view text = TrimWhitespace(View(*environment));
    const bool valid = !text.empty() && CountChars(text) <= detail::kMaxEnvironmentChars &&
                       text.find_first_of("\n\r\t\f/") == std::string_view::npos;
    if (!valid) return Invalid("environment");
    if (text.size() != environment->GetStringLength()) *environment = Text(text, allocator_);
  }

  // Sentry's release name rules (no line breaks, tabs or slashes; not "." or "..").
  void Release() {
    Value* release = LenientString("release");
    if (release == nullptr) return;
    const std::string_view text = TrimWhitespace(View(*release));
    const bool valid = !text.empty() && text != "." && text != ".." && CountChars(text) <= detail::kMaxReleaseChars &&
                       text.find_first_of("\n\r\t/\\") == std::string_view::npos;
    if (!valid) return Invalid("release");
    if (text.size() != release->GetStringLength()) *release = Text(text, allocator_);
  }

  void TrimField(const char* key, detail::CharLimit limit) {
    Value* value = key == std::string_view("dist") ? LenientString(key) : Member(key);
    if (value == nullptr) return;
    if (!value->IsString()) return Invalid(key);
    const std::string_view text = TrimWhitespace(View(*value));
    if (text.empty()) {
      doc_.RemoveMember(key);
      return;
    }
    if (text.size() != value->GetStringLength()) *value = Text(text, allocator_);
    TrimString(*value, limit, PathOf(key), &meta_, allocator_);
  }

  void AddError(const char* type, std::int64_t sdk_time, std::int64_t server_time) {
    Value error(rapidjson::kObjectType);
    error.AddMember("type", rapidjson::StringRef(type), allocator_);
    error.AddMember("name", "timestamp", allocator_);
    error.AddMember("sdk_time", Text(FormatIso8601Millis(sdk_time), allocator_), allocator_);
    error.AddMember("server_time", Text(FormatIso8601Millis(server_time), allocator_), allocator_);
    errors_.PushBack(error, allocator_);
  }

  void Timestamps() {
    const std::int64_t received = context_.received_at_ms;
    Value* raw = Member("timestamp");
    const std::optional<std::int64_t> sent = raw != nullptr ? ParseTimestamp(*raw) : std::nullopt;
    if (raw != nullptr && !sent) {
      Value error(rapidjson::kObjectType);
      error.AddMember("type", "invalid_data", allocator_);
      error.AddMember("name", "timestamp", allocator_);
      error.AddMember("value", Value(*raw, allocator_), allocator_);
      errors_.PushBack(error, allocator_);
    }
    std::int64_t timestamp = sent.value_or(received);
    bool changed = raw != nullptr && !sent && received > 0;

    // The SDK's clock is off by the difference between when it says it sent the envelope and when
    // the relay received it; every timestamp it made is shifted by that much.
    if (context_.sent_at_ms > 0 && received > 0) {
      const std::int64_t drift = received - context_.sent_at_ms;
      if (std::llabs(drift) >= kMinClockDriftMs) {
        AddError("clock_drift", context_.sent_at_ms, received);
        if (sent) {
          timestamp += drift;
          changed = true;
        }
        ShiftBreadcrumbs(drift);
      }
    }
    if (received > 0 && sent) {
      if (timestamp > received + kMaxFutureMs) {
        AddError("future_timestamp", timestamp, received);
        timestamp = received;
        changed = true;
      } else if (timestamp < received - kMaxAgeMs) {
        AddError("past_timestamp", timestamp, received);
        timestamp = received;
        changed = true;
      }
    }
    event_.timestamp_ms = timestamp;
    if (changed) Member("timestamp")->SetDouble(static_cast<double>(timestamp) / 1000.0);
  }

  void ShiftBreadcrumbs(std::int64_t drift) {
    Value* crumbs = Member("breadcrumbs");
    if (crumbs != nullptr && crumbs->IsObject()) {
      auto values = crumbs->FindMember("values");
      crumbs = values == crumbs->MemberEnd() ? nullptr : &values->value;
    }
    if (crumbs == nullptr || !crumbs->IsArray()) return;
    for (Value& crumb : crumbs->GetArray()) {
      if (!crumb.IsObject()) continue;
      auto it = crumb.FindMember("timestamp");
      if (it == crumb.MemberEnd()) continue;
      if (auto at = ParseTimestamp(it->value)) it->value.SetDouble(static_cast<double>(*at + drift) / 1000.0);
    }
  }

  // Sentry's tag rules (sentry-protocol.md §7.4): scalar values as text, whitespace trimmed, empty
  // or too long entries removed with their reason, reserved keys dropped, the first of duplicates kept.
  void Tags() {
    Value* tags = Member("tags");
    if (tags == nullptr) return;
    if (!tags->IsObject() && !tags->IsArray()) return Invalid("tags");
    const bool as_object = tags->IsObject();
    Value kept(as_object ? rapidjson::kObjectType : rapidjson::kArrayType);
    std::vector<std::string> seen;
    std::string environment;
    const auto consider = [&](const Path& path, const Value* key_value, const Value& value) {
      std::string text;
      if (value.IsString()) {
        text = TrimWhitespace(View(value));
      } else if (value.IsInt64()) {
        text = std::to_string(value.GetInt64());
      } else if (value.IsUint64()) {
        text = std::to_string(value.GetUint64());
      } else if (value.IsBool()) {
        text = value.GetBool() ? "True" : "False";
      } else if (value.IsDouble()) {
        rapidjson::StringBuffer buffer;
        rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
        value.Accept(writer);
        text.assign(buffer.GetString(), buffer.GetSize());
      } else {
        return meta_.AddError(path, "invalid_data", nullptr);
      }
      if (key_value == nullptr || !key_value->IsString()) return meta_.AddError(path, "invalid_data", nullptr);
      const std::string key(TrimWhitespace(View(*key_value)));
      if (key.empty() || text.empty()) return meta_.AddError(path, "nonempty", nullptr);
      if (CountChars(key) > detail::kMaxTagKeyChars || CountChars(text) > detail::kMaxTagValueChars) {
        return meta_.AddError(path, "value_too_long", nullptr);
      }
      // Derived from the event's own fields, never taken from the SDK's tags.
      if (key == "release" || key == "dist" || key == "user" || key == "filename" || key == "function") return;
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) return;
      seen.push_back(key);
      if (key == "environment") {
        environment = text;
        return;
      }
      if (as_object) {
        kept.AddMember(Text(key, allocator_), Text(text, allocator_), allocator_);
      } else {
        Value pair(rapidjson::kArrayType);
        pair.PushBack(Text(key, allocator_), allocator_).PushBack(Text(text, allocator_), allocator_);
        kept.PushBack(pair, allocator_);
      }
    };
    if (as_object) {
      for (const auto& member : tags->GetObject()) {
        consider({PathSegment{"tags"}, PathSegment{View(member.name)}}, &member.name, member.value);
      }
    } else {
      for (rapidjson::SizeType i = 0; i < tags->Size(); ++i) {
        const Value& pair = (*tags)[i];
        const Path path{PathSegment{"tags"}, PathSegment{{}, i, true}};
        if (pair.IsArray() && pair.Size() == 2) {
          consider(path, &pair[0], pair[1]);
        } else {
          meta_.AddError(path, "invalid_data", nullptr);
        }
      }
    }
    *tags = kept;
    if (!environment.empty() && Member("environment") == nullptr) {
      doc_.RemoveMember("environment");
      doc_.AddMember("environment", Text(environment, allocator_), allocator_);
    }
  }

  // sentry-protocol.md §7.7: `{{auto}}` and, for browser and Apple SDKs (or when the SDK asks for
  // it), a missing user address become the address the relay saw.
  void UserIp() {
    const std::string client_ip = detail::IsIpAddress(context_.client_ip) ? context_.client_ip : std::string();
    std::string infer_ip;
    if (Value* sdk = Member("sdk"); sdk != nullptr && sdk->IsObject()) {
      if (auto settings = sdk->FindMember("settings"); settings != sdk->MemberEnd() && settings->value.IsObject()) {
        infer_ip = GetString(settings->value, "infer_ip");
      }
    }
    const bool never = infer_ip == "never";

    std::string remote_addr;
    if (Value* request = Member("request"); request != nullptr && request->IsObject()) {
      if (auto env = request->FindMember("env"); env != request->MemberEnd() && env->value.IsObject()) {
        if (auto addr = env->value.FindMember("REMOTE_ADDR");
            addr != env->value.MemberEnd() && addr->value.IsString()) {
          if (View(addr->value) == "{{auto}}") {
            if (client_ip.empty() || never) {
              env->value.EraseMember(addr);
            } else {
              addr->value = Text(client_ip, allocator_);
            }
          }
        }
        remote_addr = GetString(env->value, "REMOTE_ADDR");
        if (!detail::IsIpAddress(remote_addr)) remote_addr.clear();
      }
    }

    Value* user = Member("user");
    if (user != nullptr && !user->IsObject()) {
      Invalid("user");
      user = nullptr;
    }
    if (user != nullptr) MoveUnknownUserKeys(*user);
    std::string ip;
    bool has_ip = false, is_auto = false;
    if (user != nullptr) {
      if (auto it = user->FindMember("ip_address"); it != user->MemberEnd() && !it->value.IsNull()) {
        has_ip = true;
        if (it->value.IsString() && View(it->value) == "{{auto}}") {
          is_auto = true;
        } else if (!it->value.IsString() || !detail::IsIpAddress(View(it->value))) {
          meta_.AddError({PathSegment{"user"}, PathSegment{"ip_address"}}, "invalid_data", &it->value);
          user->EraseMember(it);
          has_ip = false;
        }
      }
    }
    if (has_ip && !is_auto) return;
    if (is_auto) {
      ip = never ? std::string() : client_ip;
    } else if (!never) {
      const std::string platform = GetString(doc_, "platform");
      const bool legacy_infer =
          infer_ip.empty() && (platform == "javascript" || platform == "cocoa" || platform == "objc");
      ip = !remote_addr.empty() ? remote_addr : (infer_ip == "auto" || legacy_infer ? client_ip : std::string());
    }
    if (ip.empty()) {
      if (is_auto) user->RemoveMember("ip_address");
      return;
    }
    if (user == nullptr) {
      doc_.RemoveMember("user");
      doc_.AddMember("user", Value(rapidjson::kObjectType), allocator_);
      user = Member("user");
    }
    if (auto it = user->FindMember("ip_address"); it != user->MemberEnd()) {
      it->value = Text(ip, allocator_);
    } else {
      user->AddMember("ip_address", Text(ip, allocator_), allocator_);
    }
  }

  // Relay keeps only the user interface's own fields and moves the rest into `user.data`.
  void MoveUnknownUserKeys(Value& user) {
    static constexpr std::string_view kKnown[] = {"id",      "email", "ip_address", "username",   "name",
                                                  "segment", "geo",   "data",       "sentry_user"};
    Value moved(rapidjson::kObjectType);
    for (auto it = user.MemberBegin(); it != user.MemberEnd();) {
      if (std::find(std::begin(kKnown), std::end(kKnown), View(it->name)) != std::end(kKnown)) {
        ++it;
        continue;
      }
      moved.AddMember(it->name, it->value, allocator_);
      it = user.EraseMember(it);
    }
    if (moved.MemberCount() == 0) return;
    auto data = user.FindMember("data");
    if (data == user.MemberEnd()) {
      user.AddMember("data", moved, allocator_);
    } else if (data->value.IsObject()) {
      for (auto& member : moved.GetObject()) {
        if (!data->value.HasMember(member.name)) data->value.AddMember(member.name, member.value, allocator_);
      }
    } else {
      for (auto& member : moved.GetObject()) user.AddMember(member.name, member.value, allocator_);
    }
  }

  void SetTag(std::string_view key, std::string_view value) {
    value = TrimWhitespace(value);
    if (value.empty()) return;
    std::string text = TruncateUtf8(value, detail::kMaxTagValueChars);
    for (auto& [name, existing] : event_.tags) {
      if (name == key) {
        existing = std::move(text);
        return;
      }
    }
    event_.tags.emplace_back(key, std::move(text));
  }

  void ReadBack() {
    event_.platform = GetString(doc_, "platform");
    if (event_.platform.empty()) event_.platform = "other";
    event_.level = GetString(doc_, "level");
    if (event_.level.empty()) event_.level = "error";
    event_.environment = GetString(doc_, "environment");
    event_.release = GetString(doc_, "release");
    event_.dist = GetString(doc_, "dist");
    event_.logger = GetString(doc_, "logger");
    event_.server_name = GetString(doc_, "server_name");
    event_.transaction = GetString(doc_, "transaction");

    if (const Value* user = Member("user"); user != nullptr && user->IsObject()) {
      if (auto id = user->FindMember("id"); id != user->MemberEnd()) {
        if (id->value.IsString()) {
          event_.user.id = View(id->value);
        } else if (id->value.IsInt64()) {
          event_.user.id = std::to_string(id->value.GetInt64());
        } else if (id->value.IsUint64()) {
          event_.user.id = std::to_string(id->value.GetUint64());
        }
      }
      event_.user.email = GetString(*user, "email");
      event_.user.username = GetString(*user, "username");
      event_.user.ip_address = GetString(*user, "ip_address");
      event_.user.name = GetString(*user, "name");
    }

    if (const Value* tags = Member("tags"); tags != nullptr) {
      if (tags->IsObject()) {
        for (const auto& member : tags->GetObject()) {
          if (member.value.IsString()) event_.tags.emplace_back(View(member.name), View(member.value));
        }
      } else if (tags->IsArray()) {
        for (const Value& pair : tags->GetArray()) {
          if (pair.IsArray() && pair.Size() == 2 && pair[0].IsString() && pair[1].IsString()) {
            event_.tags.emplace_back(View(pair[0]), View(pair[1]));
          }
        }
      }
    }
  }

 public:
  // The tags Sentry derives from the event; called once title and exceptions are known.
  void DeriveTags() {
    SetTag("level", event_.level);
    SetTag("environment", event_.environment);
    SetTag("release", event_.release);
    SetTag("dist", event_.dist);
    SetTag("logger", event_.logger);
    SetTag("server_name", event_.server_name);
    SetTag("site", GetString(doc_, "site"));
    SetTag("transaction", GetString(doc_, "transaction"));
    if (const Value* request = Member("request"); request != nullptr) {
      const std::string url = GetString(*request, "url");
      SetTag("url", std::string_view(url).substr(0, url.find_first_of("?#")));
    }
    const User& user = event_.user;
    if (!user.id.empty()) {
      SetTag("user", "id:" + user.id);
    } else if (!user.email.empty()) {
      SetTag("user", "email:" + user.email);
    } else if (!user.username.empty()) {
      SetTag("user", "username:" + user.username);
    } else if (!user.ip_address.empty()) {
      SetTag("user", "ip:" + user.ip_address);
    }
    if (!event_.exceptions.empty()) {
      const Value* mechanism = RaisedMechanism();
      if (mechanism != nullptr) {
        if (auto handled = mechanism->FindMember("handled");
            handled != mechanism->MemberEnd() && handled->value.IsBool()) {
          SetTag("handled", handled->value.GetBool() ? "yes" : "no");
        }
        SetTag("mechanism", GetString(*mechanism, "type"));
      }
    }
    if (const Value* contexts = Member("contexts"); contexts != nullptr && contexts->IsObject()) {
      // "os": "Ubuntu 22.04", "os.name": "Ubuntu", and likewise for browser and runtime.
      for (const char* name : {"os", "browser", "runtime"}) {
        auto context = contexts->FindMember(name);
        if (context == contexts->MemberEnd() || !context->value.IsObject()) continue;
        const std::string product = GetString(context->value, "name");
        if (product.empty()) continue;
        const std::string version = GetString(context->value, "version");
        std::string shown = product;
        if (!version.empty()) shown.append(" ").append(version);
        SetTag(name, shown);
        SetTag(std::string(name) + ".name", product);
      }
      if (auto device = contexts->FindMember("device"); device != contexts->MemberEnd() && device->value.IsObject()) {
        SetTag("device", GetString(device->value, "model"));
        SetTag("device.family", GetString(device->value, "family"));
      }
    }
  }

 private:
  const Value* RaisedMechanism() {
    const Value* container = Member("exception");
    if (container == nullptr) return nullptr;
    const Value* last = nullptr;
    if (container->IsObject()) {
      auto values = container->FindMember("values");
      if (values != container->MemberEnd() && values->value.IsArray()) {
        if (!values->value.Empty()) last = &values->value[values->value.Size() - 1];
      } else {
        last = container;
      }
    } else if (container->IsArray() && !container->Empty()) {
      last = &(*container)[container->Size() - 1];
    }
    if (last == nullptr || !last->IsObject()) return nullptr;
    auto mechanism = last->FindMember("mechanism");
    return mechanism != last->MemberEnd() && mechanism->value.IsObject() ? &mechanism->value : nullptr;
  }

  rapidjson::Document& doc_;
  Allocator& allocator_;
  const Context& context_;
  Event& event_;
  MetaCollector meta_;
  Value errors_{rapidjson::kArrayType};
};

}  // namespace

Expected<Event, std::string> NormalizeEvent(std::string_view json, const Context& context) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseNanAndInfFlag | rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) return MakeUnexpected(std::string("event is not valid JSON"));
  return NormalizeEvent(doc, context);
}

Expected<Event, std::string> NormalizeEvent(rapidjson::Document& doc, const Context& context) {
  if (!doc.IsObject()) return MakeUnexpected(std::string("event is not a JSON object"));
  // First, so that every field taken from the document below is storable text as well.
  detail::MakeStorable(doc, doc.GetAllocator());

  Event event;
  Normalizer normalizer(doc, context, event);
  // Scrubbed and trimmed before anything is read for display: a secret in an exception message
  // must not reach the issue's title either.
  normalizer.Run();
  FillFormattedMessage(doc);
  event.message = TruncateUtf8(ReadMessage(doc), kMaxMessageChars);
  event.exceptions = detail::ReadExceptions(doc);

  const std::string type = GetString(doc, "type");
  if (type == "transaction") {
    event.event_type = "transaction";
  } else {
    event.event_type = event.exceptions.empty() ? "default" : "error";
  }

  detail::Summarize(doc, event);
  normalizer.DeriveTags();

  rapidjson::StringBuffer buffer;
  StorableWriter writer(buffer);
  doc.Accept(writer);
  event.storable_json.assign(buffer.GetString(), buffer.GetSize());
  return event;
}

}  // namespace rookery::normalize
