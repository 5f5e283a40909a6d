#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "rookery/core/strings.hpp"
#include "rookery/core/time.hpp"
#include "rookery/normalize/event.hpp"

namespace rookery::normalize {
namespace {

using Value = rapidjson::Value;

constexpr std::size_t kMaxTitleChars = 200;     // Sentry's culprit/transaction limit
constexpr std::size_t kMaxMessageChars = 8192;  // logentry.formatted limit

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

std::string NormalizeLevel(const Value* level) {
  if (level == nullptr) return "error";
  if (level->IsNumber()) {
    // Python logging levels, as raven-python sends them.
    const double n = level->GetDouble();
    if (n >= 50) return "fatal";
    if (n >= 40) return "error";
    if (n >= 30) return "warning";
    if (n >= 20) return "info";
    return "debug";
  }
  if (!level->IsString()) return "error";
  std::string text(level->GetString(), level->GetStringLength());
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  if (text == "fatal" || text == "critical") return "fatal";
  if (text == "error") return "error";
  if (text == "warning" || text == "warn") return "warning";
  if (text == "info" || text == "log") return "info";
  if (text == "debug") return "debug";
  return "error";
}

std::string NormalizePlatform(const std::string& platform) {
  static constexpr std::array<std::string_view, 21> kKnown = {
      "as3",    "c",    "cfml", "cocoa", "csharp", "elixir", "haskell", "go",   "groovy", "java", "javascript",
      "native", "node", "objc", "other", "perl",   "php",    "python",  "ruby", "dart",   "rust"};
  return std::find(kKnown.begin(), kKnown.end(), platform) != kKnown.end() ? platform : "other";
}

// Sentry's rules: a timestamp more than a minute ahead of the receive time, or older than the
// maximum age, is replaced by the receive time (the SDK's clock is wrong, or the event is stale).
constexpr std::int64_t kMaxFutureMs = 60 * 1000;
constexpr std::int64_t kMaxAgeMs = 30LL * 24 * 3600 * 1000;

std::int64_t ReadTimestamp(const Value& doc, std::int64_t received) {
  auto it = doc.FindMember("timestamp");
  if (it == doc.MemberEnd()) return received;
  std::int64_t timestamp = received;
  if (it->value.IsNumber()) {
    const double seconds = it->value.GetDouble();
    // Bounded before converting: a double beyond int64 milliseconds is undefined behaviour.
    if (std::isfinite(seconds) && seconds > 0 && seconds < 1e14)
      timestamp = static_cast<std::int64_t>(seconds * 1000.0);
  } else if (it->value.IsString()) {
    if (auto parsed = ParseIso8601Millis({it->value.GetString(), it->value.GetStringLength()})) timestamp = *parsed;
  }
  if (received > 0 && (timestamp > received + kMaxFutureMs || timestamp < received - kMaxAgeMs)) return received;
  return timestamp;
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

std::vector<Frame> ReadFrames(const Value* stacktrace) {
  std::vector<Frame> frames;
  if (stacktrace == nullptr || !stacktrace->IsObject()) return frames;
  auto it = stacktrace->FindMember("frames");
  if (it == stacktrace->MemberEnd() || !it->value.IsArray()) return frames;
  for (const Value& raw : it->value.GetArray()) {
    if (!raw.IsObject()) continue;
    Frame frame;
    frame.filename = GetString(raw, "filename");
    frame.module = GetString(raw, "module");
    frame.function = GetString(raw, "function");
    if (auto line = raw.FindMember("lineno"); line != raw.MemberEnd() && line->value.IsInt64()) {
      frame.lineno = line->value.GetInt64();
    }
    if (auto in_app = raw.FindMember("in_app"); in_app != raw.MemberEnd() && in_app->value.IsBool()) {
      frame.in_app = in_app->value.GetBool();
      frame.has_in_app = true;
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

std::vector<Exception> ReadExceptions(const Value& doc) {
  std::vector<Exception> exceptions;
  const Value* container = FindAliased(doc, "exception", "sentry.interfaces.Exception");
  if (container == nullptr) return exceptions;
  // Three shapes: {"values":[...]}, a bare list, or one exception object.
  const Value* list = nullptr;
  if (container->IsObject()) {
    auto values = container->FindMember("values");
    if (values != container->MemberEnd() && values->value.IsArray()) list = &values->value;
  } else if (container->IsArray()) {
    list = container;
  }
  auto read_one = [&](const Value& raw) {
    if (!raw.IsObject()) return;
    Exception exception;
    exception.type = GetString(raw, "type");
    exception.value = GetString(raw, "value");
    exception.module = GetString(raw, "module");
    if (auto mechanism = raw.FindMember("mechanism"); mechanism != raw.MemberEnd() && mechanism->value.IsObject()) {
      auto synthetic = mechanism->value.FindMember("synthetic");
      exception.synthetic =
          synthetic != mechanism->value.MemberEnd() && synthetic->value.IsBool() && synthetic->value.GetBool();
    }
    if (auto st = raw.FindMember("stacktrace"); st != raw.MemberEnd()) exception.frames = ReadFrames(&st->value);
    if (exception.type.empty() && exception.value.empty() && exception.frames.empty()) return;
    exceptions.push_back(std::move(exception));
  };
  if (list != nullptr) {
    for (const Value& raw : list->GetArray()) read_one(raw);
  } else if (container->IsObject() && container->HasMember("type")) {
    read_one(*container);
  }
  // A lone top-level stacktrace belongs to the single exception (Relay moves it there).
  if (exceptions.size() == 1 && exceptions[0].frames.empty()) {
    exceptions[0].frames = ReadFrames(FindAliased(doc, "stacktrace", "sentry.interfaces.Stacktrace"));
  }
  return exceptions;
}

std::string FirstLine(std::string_view text) {
  text = TrimWhitespace(text);
  return std::string(text.substr(0, text.find('\n')));
}

std::string DeriveCulprit(const Event& event) {
  if (!event.transaction.empty()) return event.transaction;
  if (event.exceptions.empty()) return {};
  const auto& frames = event.exceptions.back().frames;
  if (frames.empty()) return {};
  // The newest in-app frame, else the newest frame: where the error surfaced in the user's code.
  auto chosen = std::find_if(frames.rbegin(), frames.rend(), [](const Frame& f) { return f.in_app; });
  const Frame& frame = chosen != frames.rend() ? *chosen : frames.back();
  const std::string& where = !frame.module.empty() ? frame.module : frame.filename;
  if (where.empty()) return frame.function;
  if (frame.function.empty()) return where;
  return where + " in " + frame.function;
}

// Length of the valid UTF-8 sequence at text[i], or 0 if there is none (overlongs, surrogates and
// code points above U+10FFFF are invalid too, as PostgreSQL judges them).
std::size_t Utf8SequenceLength(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length;
  unsigned char low = 0x80, high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

// Text PostgreSQL accepts: invalid UTF-8 becomes U+FFFD and NUL characters are removed. nullopt
// when the text is fine as it is (the common case, checked without copying).
std::optional<std::string> StorableText(std::string_view text) {
  bool clean = true;
  for (std::size_t i = 0; i < text.size() && clean;) {
    const std::size_t length = text[i] == '\0' ? 0 : Utf8SequenceLength(text, i);
    if (length == 0) clean = false;
    i += length;
  }
  if (clean) return std::nullopt;
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\0') {
      ++i;
      continue;
    }
    const std::size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

// Rewrites values jsonb cannot hold, in place.
void MakeStorable(Value& value, rapidjson::Document::AllocatorType& allocator) {
  if (value.IsDouble() && !std::isfinite(value.GetDouble())) {
    value.SetNull();
  } else if (value.IsString()) {
    if (auto cleaned = StorableText({value.GetString(), value.GetStringLength()})) {
      value.SetString(cleaned->c_str(), static_cast<rapidjson::SizeType>(cleaned->size()), allocator);
    }
  } else if (value.IsArray()) {
    for (Value& item : value.GetArray()) MakeStorable(item, allocator);
  } else if (value.IsObject()) {
    for (auto& member : value.GetObject()) {
      MakeStorable(member.name, allocator);
      MakeStorable(member.value, allocator);
    }
  }
}

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
  MakeStorable(doc, doc.GetAllocator());

  Event event;
  event.platform = NormalizePlatform(GetString(doc, "platform"));
  auto level = doc.FindMember("level");
  event.level = NormalizeLevel(level == doc.MemberEnd() ? nullptr : &level->value);
  event.timestamp_ms = ReadTimestamp(doc, context.received_at_ms);
  event.message = TruncateUtf8(ReadMessage(doc), kMaxMessageChars);
  event.exceptions = ReadExceptions(doc);
  event.environment = TruncateUtf8(GetString(doc, "environment"), 64);
  event.release = TruncateUtf8(GetString(doc, "release"), 200);
  event.logger = TruncateUtf8(GetString(doc, "logger"), 64);
  event.transaction = TruncateUtf8(GetString(doc, "transaction"), kMaxTitleChars);
  if (event.transaction.empty()) {
    event.transaction = TruncateUtf8(GetString(doc, "culprit"), kMaxTitleChars);
  }

  const std::string type = GetString(doc, "type");
  if (type == "transaction") {
    event.event_type = "transaction";
  } else {
    event.event_type = event.exceptions.empty() ? "default" : "error";
  }

  const bool typed_exception =
      !event.exceptions.empty() && !(event.exceptions.back().synthetic && !event.message.empty());
  if (typed_exception) {
    const Exception& raised = event.exceptions.back();
    const std::string value = FirstLine(raised.value);
    if (raised.synthetic || raised.type.empty()) {
      // No real type to show (a synthetic exception, or an SDK that sent none): the value is the title.
      event.title = value.empty() ? (raised.type.empty() ? "Error" : raised.type) : value;
    } else {
      event.title = value.empty() ? raised.type : raised.type + ": " + value;
    }
  } else if (!event.message.empty()) {
    event.title = FirstLine(event.message);
  } else {
    event.title = "<unlabeled event>";
  }
  event.title = TruncateUtf8(event.title, kMaxTitleChars);
  event.culprit = TruncateUtf8(DeriveCulprit(event), kMaxTitleChars);

  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  event.storable_json.assign(buffer.GetString(), buffer.GetSize());
  return event;
}

}  // namespace rookery::normalize
