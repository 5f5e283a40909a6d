// What an issue shows of an event, derived as Sentry derives it when it saves one, from the event
// as Relay normalized it: the culprit (event_manager.get_culprit and sentry/culprit.py), the title
// and the metadata (the event types' extract_metadata and compute_title, sentry/eventtypes/).
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "internal.hpp"
#include "rookery/core/strings.hpp"
#include "rookery/normalize/event.hpp"

namespace rookery::normalize::detail {
namespace {

constexpr std::size_t kMaxCulpritChars = 200;  // Sentry's MAX_CULPRIT_LENGTH
// How much of the first line of an exception's value or of a message a title shows (256 only with
// the option sentry.save-event.title-char-limit-256.enabled, off by default).
constexpr std::size_t kTitleTextChars = 100;
// ErrorEvent's limits on the exception's type and value it keeps.
constexpr std::size_t kMaxTypeChars = 128;
constexpr std::size_t kMaxValueChars = 1024;

// A member that is present and not null.
const Value* Member(const Value& object, const char* key) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(key);
  return it == object.MemberEnd() || it->value.IsNull() ? nullptr : &it->value;
}

std::string String(const Value& object, const char* key) {
  const Value* value = Member(object, key);
  if (value == nullptr || !value->IsString()) return {};
  return {value->GetString(), value->GetStringLength()};
}

// Canonical key first, then the legacy raven interface name.
const Value* Aliased(const Value& doc, const char* key, const char* legacy) {
  const Value* value = Member(doc, key);
  return value != nullptr ? value : Member(doc, legacy);
}

// Sentry's truncatechars: text longer than `limit` characters keeps limit - 3 of them and "...".
std::string TruncateChars(std::string_view text, std::size_t limit) {
  if (text.size() <= limit || CountChars(text) <= limit) return std::string(text);
  return TruncateUtf8(text, limit - 3) + "...";
}

// The length of the character at text[i] if Python's str.isspace() holds for it, else 0.
std::size_t SpaceAt(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f)) return 1;
  if (c == 0xC2 && i + 1 < text.size()) return byte(i + 1) == 0x85 || byte(i + 1) == 0xA0 ? 2 : 0;  // NEL, NBSP
  if (c < 0xE1 || c > 0xE3 || i + 2 >= text.size()) return 0;
  const unsigned char b1 = byte(i + 1);
  const unsigned char b2 = byte(i + 2);
  if (c == 0xE1) return b1 == 0x9A && b2 == 0x80 ? 3 : 0;  // U+1680
  if (c == 0xE3) return b1 == 0x80 && b2 == 0x80 ? 3 : 0;  // U+3000
  // U+2000..U+200A, U+2028, U+2029, U+202F, U+205F
  const bool space =
      (b1 == 0x80 && (b2 <= 0x8A || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF)) || (b1 == 0x81 && b2 == 0x9F);
  return space ? 3 : 0;
}

// Python's str.strip().
std::string_view StripPython(std::string_view text) {
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t space = SpaceAt(text, start);
    if (space == 0) break;
    start += space;
  }
  std::size_t end = start;
  for (std::size_t i = start; i < text.size();) {
    const std::size_t space = SpaceAt(text, i);
    i += space == 0 ? 1 : space;
    if (space == 0) end = i;
  }
  return text.substr(start, end - start);
}

// The first line as Python's text.splitlines()[0] gives it: up to \n, \r, \v, \f, \x1c..\x1e,
// U+0085, U+2028 or U+2029.
std::string_view FirstLine(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::string_view rest = text.substr(i);
    if ((c >= '\n' && c <= '\r') || (c >= 0x1c && c <= 0x1e) || rest.starts_with("\xC2\x85") ||
        rest.starts_with("\xE2\x80\xA8") || rest.starts_with("\xE2\x80\xA9")) {
      return text.substr(0, i);
    }
  }
  return text;
}

// Relay: an exception sent without a type whose value reads `Type: text` on one line is split
// into the two (word characters are taken as ASCII here).
void SplitTypeFromValue(std::string& type, std::string& value) {
  if (!type.empty()) return;
  std::size_t pos = 0;
  while (pos < value.size() && (std::isalnum(static_cast<unsigned char>(value[pos])) != 0 || value[pos] == '_')) {
    ++pos;
  }
  if (pos == 0 || pos >= value.size() || value[pos] != ':') return;
  const std::string_view rest = std::string_view(value).substr(pos + 1);
  if (rest.find('\n') != std::string_view::npos) return;
  type = value.substr(0, pos);
  value = std::string(StripPython(rest));
}

// A message's title: its first line, or <unlabeled event> (DefaultEvent).
std::string MessageTitle(std::string_view message) {
  message = StripPython(message);
  return message.empty() ? std::string("<unlabeled event>") : TruncateChars(FirstLine(message), kTitleTextChars);
}

// get_crash_frame_from_event_data: the newest in-app frame that names a function, else the newest
// frame that does.
const Frame* CrashFrame(const std::vector<Frame>& frames) {
  const Frame* fallback = nullptr;
  for (auto frame = frames.rbegin(); frame != frames.rend(); ++frame) {
    if (frame->function.empty() || frame->function == "<redacted>" || frame->function == "<unknown>") continue;
    if (frame->in_app) return &*frame;
    if (fallback == nullptr) fallback = &*frame;
  }
  return fallback;
}

// Relay keeps only exceptions with a type or a value.
bool Kept(const Exception& exception) {
  return !exception.type.empty() || !exception.value.empty();
}

// The exception that was raised: the last one Relay keeps.
const Exception* Raised(const Event& event) {
  for (auto exception = event.exceptions.rbegin(); exception != event.exceptions.rend(); ++exception) {
    if (Kept(*exception)) return &*exception;
  }
  return nullptr;
}

// The frames get_crash_location looks at: the raised exception's, else the event's own stack
// trace, else the stack trace of its only thread (read into `own`).
const std::vector<Frame>& CrashFrames(const Value& doc, const Exception& raised, std::vector<Frame>& own) {
  if (!raised.frames.empty()) return raised.frames;
  own = ReadFrames(Aliased(doc, "stacktrace", "sentry.interfaces.Stacktrace"));
  if (!own.empty()) return own;
  const Value* threads = Aliased(doc, "threads", "sentry.interfaces.Threads");
  if (threads != nullptr && threads->IsObject()) threads = Member(*threads, "values");
  if (threads != nullptr && threads->IsArray() && threads->Size() == 1) {
    own = ReadFrames(Member((*threads)[0], "stacktrace"));
  }
  return own;
}

// get_frame_culprit: where a frame is, as the frame's platform (else the event's) writes it.
std::string FrameCulprit(const Frame& frame, std::string_view platform) {
  if (!frame.platform.empty()) platform = frame.platform;
  if (platform == "objc" || platform == "cocoa" || platform == "native") {
    return frame.function.empty() ? "?" : frame.function;
  }
  const std::string& fileloc = frame.module.empty() ? frame.filename : frame.module;
  if (fileloc.empty()) return {};
  const std::string_view function = frame.function.empty() ? std::string_view("?") : frame.function;
  if (platform == "javascript" || platform == "node") {
    std::string culprit(function);
    return culprit.append("(").append(fileloc).append(")");
  }
  std::string culprit(fileloc);
  return culprit.append(" in ").append(function);
}

// get_stacktrace_culprit: the newest in-app frame that names a place; failing that, whatever the
// newest frame that is not in-app gives (which may be nothing).
std::optional<std::string> StacktraceCulprit(const std::vector<Frame>& frames, std::string_view platform) {
  std::optional<std::string> fallback;
  for (auto frame = frames.rbegin(); frame != frames.rend(); ++frame) {
    if (frame->in_app) {
      std::string culprit = FrameCulprit(*frame, platform);
      if (!culprit.empty()) return culprit;
    } else if (!fallback) {
      fallback = FrameCulprit(*frame, platform);
    }
  }
  return fallback;
}

// generate_culprit: nothing for a synthetic exception; else from the last stack trace (of the
// exceptions, or the event's own when it has none), falling back on the request's URL.
std::string GenerateCulprit(const Value& doc, const Event& event) {
  const Exception* raised = nullptr;
  const std::vector<Frame>* frames = nullptr;
  for (auto exception = event.exceptions.rbegin(); exception != event.exceptions.rend(); ++exception) {
    if (!Kept(*exception)) continue;
    if (raised == nullptr) raised = &*exception;
    if (!exception->frames.empty()) {
      frames = &exception->frames;
      break;
    }
  }
  if (raised != nullptr && raised->synthetic) return {};
  std::vector<Frame> own;
  if (raised == nullptr) {
    own = ReadFrames(Aliased(doc, "stacktrace", "sentry.interfaces.Stacktrace"));
    if (!own.empty()) frames = &own;
  }
  std::string culprit;
  if (frames != nullptr) culprit = StacktraceCulprit(*frames, event.platform).value_or(std::string());
  if (culprit.empty()) {
    // Relay keeps a URL's query string and fragment in fields of their own.
    if (const Value* request = Member(doc, "request"); request != nullptr && request->IsObject()) {
      const std::string url = String(*request, "url");
      culprit = url.substr(0, url.find_first_of("?#"));
    }
  }
  return TruncateChars(culprit, kMaxCulpritChars);
}

}  // namespace

std::vector<Frame> ReadFrames(const Value* stacktrace) {
  std::vector<Frame> frames;
  if (stacktrace == nullptr || !stacktrace->IsObject()) return frames;
  auto it = stacktrace->FindMember("frames");
  if (it == stacktrace->MemberEnd() || !it->value.IsArray()) return frames;
  frames.reserve(it->value.Size());
  for (const Value& raw : it->value.GetArray()) {
    // Relay drops empty frames, and Sentry skips them.
    if (!raw.IsObject() || raw.MemberCount() == 0) continue;
    Frame frame;
    frame.filename = String(raw, "filename");
    frame.abs_path = String(raw, "abs_path");
    frame.module = String(raw, "module");
    frame.function = String(raw, "function");
    frame.platform = String(raw, "platform");
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
  const Value* container = Aliased(doc, "exception", "sentry.interfaces.Exception");
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
    exception.type = String(raw, "type");
    exception.value = String(raw, "value");
    exception.module = String(raw, "module");
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
    exceptions[0].frames = ReadFrames(Aliased(doc, "stacktrace", "sentry.interfaces.Stacktrace"));
  }
  return exceptions;
}

void Summarize(const Value& doc, Event& event) {
  // The SDK's own culprit (raven clients send one), else the transaction, else one made up.
  event.culprit = String(doc, "culprit");
  if (event.culprit.empty()) event.culprit = String(doc, "transaction");
  if (event.culprit.empty()) event.culprit = GenerateCulprit(doc, event);

  const Exception* raised = Raised(event);
  if (raised == nullptr) {
    event.title = MessageTitle(event.message);
    event.metadata.title = event.title;
    return;
  }
  std::string type = raised->type;
  std::string value = raised->value;
  SplitTypeFromValue(type, value);
  Metadata& metadata = event.metadata;
  metadata.value = TruncateChars(value, kMaxValueChars);
  // A synthetic exception's type says nothing: it is left out.
  if (!raised->synthetic) metadata.type = type.empty() ? std::string("Error") : TruncateChars(type, kMaxTypeChars);
  std::vector<Frame> own;
  if (const Frame* crash = CrashFrame(CrashFrames(doc, *raised, own)); crash != nullptr) {
    const std::string& filename = crash->filename.empty() ? crash->abs_path : crash->filename;
    if (!filename.empty()) metadata.filename = filename;
    metadata.function = crash->function;
  }

  if (metadata.type) {
    // ErrorEvent: "Type: the value's first line".
    event.title = *metadata.type;
    if (!metadata.value->empty()) event.title += ": " + TruncateChars(FirstLine(*metadata.value), kTitleTextChars);
  } else if (!event.message.empty()) {
    // A message with a stack trace attached as a synthetic exception (@sentry/node's and
    // @sentry/browser's captureMessage): Sentry names it after the crash frame's function, which
    // says little; Rookery keeps the message's title.
    event.title = MessageTitle(event.message);
  } else {
    event.title = metadata.function.value_or("<unknown>");
  }
}

}  // namespace rookery::normalize::detail

namespace rookery::normalize {

std::string MetadataJson(const Metadata& metadata) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  const auto add = [&writer](const char* key, const std::optional<std::string>& text) {
    if (!text) return;
    writer.Key(key);
    writer.String(text->data(), static_cast<rapidjson::SizeType>(text->size()));
  };
  add("type", metadata.type);
  add("value", metadata.value);
  add("filename", metadata.filename);
  add("function", metadata.function);
  add("title", metadata.title);
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace rookery::normalize
