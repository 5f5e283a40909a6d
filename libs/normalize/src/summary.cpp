// What an issue shows of an event, derived as Sentry derives it when it saves one, from the event
// as Relay normalized it: the culprit (event_manager.get_culprit and sentry/culprit.py).
#include <rapidjson/document.h>

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

// Relay keeps only exceptions with a type or a value.
bool Kept(const Exception& exception) {
  return !exception.type.empty() || !exception.value.empty();
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

std::string DeriveCulprit(const Value& doc, const Event& event) {
  // The SDK's own culprit (raven clients send one), else the transaction, else one made up.
  std::string culprit = String(doc, "culprit");
  if (culprit.empty()) culprit = String(doc, "transaction");
  if (culprit.empty()) culprit = GenerateCulprit(doc, event);
  return culprit;
}

}  // namespace rookery::normalize::detail
