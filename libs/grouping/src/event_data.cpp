#include "event_data.hpp"

#include <cmath>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "function_names.hpp"
#include "py_regex.hpp"

namespace rookery::grouping::detail {
namespace {

using rapidjson::Value;

// Relay's field limits (MaxChars): values longer than limit + allowance are cut to limit - 3
// characters plus "...".
struct Limit {
  std::size_t limit;
  std::size_t allowance;
};
constexpr Limit kSymbolLimit{256, 20};
constexpr Limit kPathLimit{256, 40};
constexpr Limit kMessageLimit{8192, 200};
constexpr std::size_t kMaxFrames = 250;

constexpr std::string_view kValidPlatforms[] = {"as3",   "c",      "cfml", "cocoa",      "csharp", "elixir", "haskell",
                                                "go",    "groovy", "java", "javascript", "native", "node",   "objc",
                                                "other", "perl",   "php",  "python",     "ruby"};

const Value* Member(const Value& object, const char* key) {
  if (!object.IsObject()) return nullptr;
  const auto it = object.FindMember(key);
  if (it == object.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

OptStr String(const Value& object, const char* key) {
  const Value* value = Member(object, key);
  if (value == nullptr || !value->IsString()) return std::nullopt;
  return std::string_view(value->GetString(), value->GetStringLength());
}

std::optional<bool> Bool(const Value& object, const char* key) {
  const Value* value = Member(object, key);
  if (value == nullptr || !value->IsBool()) return std::nullopt;
  return value->GetBool();
}

std::optional<std::int64_t> Int(const Value& object, const char* key) {
  const Value* value = Member(object, key);
  if (value == nullptr) return std::nullopt;
  if (value->IsInt64()) return value->GetInt64();
  if (value->IsDouble()) {
    const double d = value->GetDouble();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

std::size_t CountChars(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return count;
}

OptStr TrimToLimit(EventData& event, OptStr value, Limit limit) {
  if (!value || value->size() <= limit.limit + limit.allowance) return value;
  if (CountChars(*value) <= limit.limit + limit.allowance) return value;
  std::size_t chars = 0;
  std::size_t end = 0;
  while (end < value->size() && chars < limit.limit - 3) {
    std::size_t length = 0;
    DecodeUtf8At(*value, end, &length);
    end += length;
    ++chars;
  }
  return event.Store(std::string(value->substr(0, end)) + "...");
}

std::string CompactJson(const Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Relay's JsonLenientString: non-string scalars and containers become their JSON text.
OptStr LenientString(EventData& event, const Value& object, const char* key) {
  const Value* value = Member(object, key);
  if (value == nullptr) return std::nullopt;
  if (value->IsString()) return std::string_view(value->GetString(), value->GetStringLength());
  return event.Store(CompactJson(*value));
}

// Relay's `Values<T>`: a list, `{"values": [...]}`, or a single object.
std::vector<const Value*> ValuesOf(const Value* value) {
  std::vector<const Value*> out;
  if (value == nullptr) return out;
  const Value* list = value;
  if (value->IsObject()) {
    if (const auto it = value->FindMember("values"); it != value->MemberEnd()) {
      list = &it->value;
    } else if (value->MemberCount() > 0) {
      out.push_back(value);
      return out;
    } else {
      return out;
    }
  }
  if (!list->IsArray()) return out;
  for (const auto& item : list->GetArray()) {
    if (item.IsObject()) out.push_back(&item);
  }
  return out;
}

bool IsEmpty(OptStr value) {
  return !value || value->empty();
}

// `url.path()` of the Rust url crate, for the schemes Relay treats as URLs; nullopt if the URL does
// not parse.
std::optional<std::string_view> UrlPath(std::string_view url) {
  const std::size_t colon = url.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = url.substr(0, colon);
  std::string_view rest = url.substr(colon + 1);
  const bool special = scheme != "applewebdata";
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
    const std::size_t end = rest.find_first_of("/?#");
    const std::string_view host = rest.substr(0, end);
    if (host.empty() && scheme != "file" && special) return std::nullopt;
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  } else if (special) {
    return std::string_view("/");
  }
  return rest.substr(0, rest.find_first_of("?#"));
}

void FixFramePaths(FrameData& frame) {
  // Relay: abs_path falls back to filename, filename to abs_path (the path part for URLs).
  if (IsEmpty(frame.abs_path)) {
    frame.abs_path = frame.filename;
    frame.filename.reset();
  }
  if (IsEmpty(frame.filename) && frame.abs_path) {
    frame.filename = frame.abs_path;
    const std::string_view abs = *frame.abs_path;
    if (abs.starts_with("file:") || abs.starts_with("http:") || abs.starts_with("https:") ||
        abs.starts_with("applewebdata:")) {
      if (const auto path = UrlPath(abs); path && !path->empty() && *path != "/") frame.filename = *path;
    }
  }
}

std::optional<FrameData> ParseFrame(EventData& event, const Value& value) {
  if (!value.IsObject() || value.MemberCount() == 0) return std::nullopt;
  FrameData frame;
  const auto text = [](const Value& v) -> OptStr {
    if (!v.IsString()) return std::nullopt;
    return std::string_view(v.GetString(), v.GetStringLength());
  };
  const auto number = [](const Value& v) -> std::optional<std::uint64_t> {
    if (v.IsUint64()) return v.GetUint64();
    if (v.IsDouble()) {
      const double d = v.GetDouble();
      if (std::isfinite(d) && d >= 0 && d == std::floor(d) && d < 9.0e15) return static_cast<std::uint64_t>(d);
    }
    return std::nullopt;
  };
  const Value* data = nullptr;
  // One pass over the members; frames are the bulk of an event.
  for (const auto& member : value.GetObject()) {
    const std::string_view key(member.name.GetString(), member.name.GetStringLength());
    const Value& v = member.value;
    switch (key.size()) {
      case 4:
        if (key == "data" && v.IsObject()) data = &v;
        break;
      case 5:
        if (key == "colno") frame.colno = number(v);
        break;
      case 6:
        if (key == "module") frame.module = text(v);
        if (key == "lineno") frame.lineno = number(v);
        if (key == "in_app" && v.IsBool()) frame.in_app = v.GetBool();
        break;
      case 7:
        if (key == "package") frame.package = text(v);
        break;
      case 8:
        if (key == "function") frame.function = text(v);
        if (key == "filename") frame.filename = text(v);
        if (key == "abs_path") frame.abs_path = text(v);
        if (key == "platform") frame.platform = text(v);
        break;
      case 12:
        if (key == "raw_function") frame.raw_function = text(v);
        if (key == "context_line") frame.context_line = text(v);
        break;
      default: break;
    }
  }
  frame.function = TrimToLimit(event, frame.function, kSymbolLimit);
  frame.raw_function = TrimToLimit(event, frame.raw_function, kSymbolLimit);
  frame.filename = TrimToLimit(event, frame.filename, kPathLimit);
  frame.abs_path = TrimToLimit(event, frame.abs_path, kPathLimit);
  if (data != nullptr) {
    frame.category = String(*data, "category");
    frame.sourcemap = Member(*data, "sourcemap") != nullptr;
    // A re-processed event carries the in_app value from before the rules ran; start from it.
    if (const auto orig = Int(*data, "orig_in_app")) {
      frame.in_app = *orig == -1 ? std::optional<bool>() : std::optional<bool>(*orig != 0);
    }
  }
  FixFramePaths(frame);
  return frame;
}

std::optional<StacktraceData> ParseStacktrace(EventData& event, const Value* value) {
  if (value == nullptr || !value->IsObject()) return std::nullopt;
  const Value* frames = Member(*value, "frames");
  if (frames == nullptr || !frames->IsArray()) return std::nullopt;
  StacktraceData stacktrace;
  const auto& array = frames->GetArray();
  const std::size_t skip = array.Size() > kMaxFrames ? array.Size() - kMaxFrames : 0;
  stacktrace.frames.reserve(array.Size() - skip);
  for (rapidjson::SizeType i = static_cast<rapidjson::SizeType>(skip); i < array.Size(); ++i) {
    if (auto frame = ParseFrame(event, array[i])) stacktrace.frames.push_back(std::move(*frame));
  }
  // Relay requires a non-empty frame list; an empty one drops the stack trace.
  if (stacktrace.frames.empty()) return std::nullopt;
  return stacktrace;
}

const Value* StacktraceMember(const Value& object) {
  if (const Value* value = Member(object, "stacktrace")) return value;
  return Member(object, "sentry.interfaces.Stacktrace");
}

std::string_view Stringify(EventData& event, const Value& value) {
  if (value.IsString()) return {value.GetString(), value.GetStringLength()};
  return event.Store(CompactJson(value));
}

std::optional<MechanismData> ParseMechanism(EventData& event, const Value* value) {
  if (value == nullptr || !value->IsObject()) return std::nullopt;
  MechanismData mechanism;
  mechanism.type = String(*value, "type");
  mechanism.source = String(*value, "source");
  mechanism.synthetic = Bool(*value, "synthetic").value_or(false);
  mechanism.is_exception_group = Bool(*value, "is_exception_group").value_or(false);
  mechanism.exception_id = Int(*value, "exception_id");
  mechanism.parent_id = Int(*value, "parent_id");
  if (const Value* meta = Member(*value, "meta"); meta != nullptr && meta->IsObject()) {
    if (const Value* ns_error = Member(*meta, "ns_error"); ns_error != nullptr && ns_error->IsObject()) {
      mechanism.has_ns_error = true;
      if (const Value* domain = Member(*ns_error, "domain")) mechanism.ns_error_domain = Stringify(event, *domain);
      if (const Value* code = Member(*ns_error, "code")) mechanism.ns_error_code = Stringify(event, *code);
    }
  }
  return mechanism;
}

bool IsUnicodeWordForRust(char32_t cp) {
  return IsPythonWord(cp);
}

// Relay: an exception without a type whose value looks like `Type: message` is split.
void SplitTypeFromValue(EventData& event, ExceptionData& exception) {
  OptStr& exception_value = exception.value.Parsing();
  if (!IsEmpty(exception.type) || !exception_value) return;
  const std::string_view value = *exception_value;
  std::size_t pos = 0;
  while (pos < value.size()) {
    std::size_t length = 0;
    const char32_t cp = DecodeUtf8At(value, pos, &length);
    if (!IsUnicodeWordForRust(cp)) break;
    pos += length;
  }
  if (pos == 0 || pos >= value.size() || value[pos] != ':') return;
  const std::string_view rest = value.substr(pos + 1);
  if (rest.find('\n') != std::string_view::npos) return;
  exception.type = value.substr(0, pos);
  exception_value = event.Store(std::string(StripPython(rest)));
}

std::string_view NormalizeLevel(const Value* value) {
  if (value == nullptr) return "error";
  if (value->IsString()) {
    const std::string_view level(value->GetString(), value->GetStringLength());
    if (level == "debug" || level == "info" || level == "warning" || level == "error" || level == "fatal") {
      return level;
    }
    if (level == "log") return "info";
    if (level == "critical") return "fatal";
    return "error";
  }
  if (value->IsInt64()) {
    switch (value->GetInt64()) {
      case 10: return "debug";
      case 20: return "info";
      case 30: return "warning";
      case 40: return "error";
      case 50: return "fatal";
      default: return "error";
    }
  }
  return "error";
}

OptStr TagValue(EventData& event, const Value& value) {
  if (value.IsString()) return std::string_view(value.GetString(), value.GetStringLength());
  if (value.IsBool() || value.IsNumber()) return event.Store(CompactJson(value));
  return std::nullopt;
}

void AddTag(EventData& event, std::string_view key, OptStr value) {
  if (key.empty() || IsEmpty(value)) return;
  if (key == "release" || key == "dist" || key == "user" || key == "filename" || key == "function") return;
  for (const auto& [existing, unused] : event.tags.Parsing()) {
    if (existing == key) return;
  }
  event.tags.Parsing().emplace_back(key, *value);
}

void ParseTags(EventData& event, const Value& root) {
  if (const Value* tags = Member(root, "tags")) {
    if (tags->IsObject()) {
      for (const auto& member : tags->GetObject()) {
        AddTag(event, {member.name.GetString(), member.name.GetStringLength()}, TagValue(event, member.value));
      }
    } else if (tags->IsArray()) {
      for (const auto& pair : tags->GetArray()) {
        if (!pair.IsArray() || pair.Size() != 2 || !pair[0].IsString()) continue;
        AddTag(event, {pair[0].GetString(), pair[0].GetStringLength()}, TagValue(event, pair[1]));
      }
    }
  }
  AddTag(event, "server_name", String(root, "server_name"));
  AddTag(event, "site", String(root, "site"));
}

std::optional<std::vector<std::string_view>> ParseFingerprint(EventData& event, const Value* value) {
  if (value == nullptr || !value->IsArray()) return std::nullopt;
  std::vector<std::string_view> out;
  for (const auto& item : value->GetArray()) {
    if (item.IsString()) {
      out.emplace_back(item.GetString(), item.GetStringLength());
    } else if (item.IsBool()) {
      out.emplace_back(item.GetBool() ? "True" : "False");
    } else if (item.IsInt64() || item.IsUint64()) {
      out.push_back(event.Store(CompactJson(item)));
    } else if (item.IsDouble()) {
      const double d = item.GetDouble();
      if (!std::isfinite(d) || std::fabs(d) >= 9007199254740992.0) return std::nullopt;
      out.push_back(event.Store(std::to_string(static_cast<std::int64_t>(std::trunc(d)))));
    } else if (!item.IsNull()) {
      return std::nullopt;  // Relay rejects the whole fingerprint
    }
  }
  return out;
}

void ParseLogEntry(EventData& event, const Value& root) {
  const Value* logentry = Member(root, "logentry");
  if (logentry == nullptr) logentry = Member(root, "sentry.interfaces.Message");
  const Value* message = Member(root, "message");
  OptStr formatted;
  OptStr template_message;
  bool has_params = false;
  if (logentry != nullptr && logentry->IsString()) {
    formatted = std::string_view(logentry->GetString(), logentry->GetStringLength());
  } else if (logentry != nullptr && logentry->IsObject()) {
    formatted = String(*logentry, "formatted");
    template_message = String(*logentry, "message");
    has_params = Member(*logentry, "params") != nullptr;
  } else if (message != nullptr && message->IsObject()) {
    formatted = String(*message, "formatted");
    template_message = String(*message, "message");
    has_params = Member(*message, "params") != nullptr;
    message = nullptr;
  }
  // A plain top-level `message` string fills `formatted`.
  if (message != nullptr && message->IsString() && !formatted) {
    formatted = std::string_view(message->GetString(), message->GetStringLength());
  }
  if (!formatted && !template_message) return;
  // Relay keeps `message` only when it differs from `formatted` (a template with params); the
  // parameters themselves are not substituted here, so the template also serves as `formatted`.
  (void)has_params;
  if (!formatted || template_message == formatted) {
    formatted = template_message;
    template_message.reset();
  }
  event.has_logentry = true;
  event.logentry_formatted.Parsing() = TrimToLimit(event, formatted, kMessageLimit);
  event.logentry_message = TrimToLimit(event, template_message, kMessageLimit);
}

std::string StripQueryString(std::string_view filename) {
  std::string_view url = filename.substr(0, filename.find('#'));
  const std::size_t question = url.find('?');
  if (question == std::string_view::npos) return std::string(filename);
  const std::string_view query = url.substr(question + 1);
  if (query.empty()) return std::string(filename);
  const std::string needle = "?" + std::string(query);
  std::string out(filename);
  for (std::size_t pos = out.find(needle); pos != std::string::npos; pos = out.find(needle, pos)) {
    out.erase(pos, needle.size());
  }
  return out;
}

// Sentry's normalize_stacktraces_for_grouping, the part that does not need the rules: function
// names are trimmed (keeping the original in raw_function) and, for JavaScript events, query
// strings are removed from filenames.
void NormalizeFrames(EventData& event, StacktraceData& stacktrace) {
  for (FrameData& frame : stacktrace.frames) {
    if (!IsEmpty(frame.function) && !frame.raw_function) {
      const std::string_view platform = frame.platform ? *frame.platform : event.platform;
      std::string trimmed = TrimFunctionName(*frame.function, platform);
      if (trimmed != *frame.function) {
        frame.raw_function = frame.function;
        frame.function = event.Store(std::move(trimmed));
      }
    }
    if (event.platform == "javascript" && frame.filename && frame.filename->find('?') != std::string_view::npos) {
      std::string stripped = StripQueryString(*frame.filename);
      if (stripped != *frame.filename) frame.filename = event.Store(std::move(stripped));
    }
  }
}

}  // namespace

bool HasUrlOrigin(OptStr path, bool files_count_as_urls) {
  if (IsEmpty(path)) return false;
  const std::string_view p = *path;
  if (p.starts_with("http:") || p.starts_with("https:") || p.starts_with("applewebdata:") || p.starts_with("blob:")) {
    return true;
  }
  return p.starts_with("file:") && files_count_as_urls;
}

EventData ParseEvent(const Value& root) {
  EventData event;
  if (!root.IsObject()) return event;

  if (const auto platform = String(root, "platform")) {
    for (const auto valid : kValidPlatforms) {
      if (*platform == valid) event.platform = valid;
    }
  }

  const Value* exception_value = Member(root, "exception");
  if (exception_value == nullptr) exception_value = Member(root, "sentry.interfaces.Exception");
  for (const Value* item : ValuesOf(exception_value)) {
    ExceptionData exception;
    exception.type = String(*item, "type");
    OptStr& value = exception.value.Parsing();
    value = LenientString(event, *item, "value");
    exception.module = String(*item, "module");
    exception.mechanism = ParseMechanism(event, Member(*item, "mechanism"));
    exception.stacktrace = ParseStacktrace(event, StacktraceMember(*item));
    SplitTypeFromValue(event, exception);
    if (IsEmpty(exception.type) && IsEmpty(value)) continue;
    exception.type = TrimToLimit(event, exception.type, kSymbolLimit);
    value = TrimToLimit(event, value, kMessageLimit);
    exception.module = TrimToLimit(event, exception.module, kSymbolLimit);
    event.exceptions.push_back(std::move(exception));
  }

  event.stacktrace = ParseStacktrace(event, StacktraceMember(root));
  if (event.stacktrace && event.exceptions.size() == 1 && !event.exceptions[0].stacktrace) {
    event.exceptions[0].stacktrace = std::move(event.stacktrace);
    event.stacktrace.reset();
  }

  const Value* threads_value = Member(root, "threads");
  if (threads_value == nullptr) threads_value = Member(root, "sentry.interfaces.Threads");
  if (threads_value != nullptr) {
    const auto items = ValuesOf(threads_value);
    if (!items.empty()) {
      std::vector<ThreadData> threads;
      for (const Value* item : items) {
        ThreadData thread;
        thread.stacktrace = ParseStacktrace(event, StacktraceMember(*item));
        thread.crashed = Bool(*item, "crashed").value_or(false);
        thread.current = Bool(*item, "current").value_or(false);
        if (const Value* id = Member(*item, "id")) thread.id = Stringify(event, *id);
        thread.name = String(*item, "name");
        thread.state = String(*item, "state");
        threads.push_back(std::move(thread));
      }
      event.threads = std::move(threads);
    }
  }

  ParseLogEntry(event, root);

  const Value* template_value = Member(root, "template");
  if (template_value == nullptr) template_value = Member(root, "sentry.interfaces.Template");
  if (template_value != nullptr && template_value->IsObject()) {
    event.has_template = true;
    event.template_filename = String(*template_value, "filename");
    event.template_context_line = String(*template_value, "context_line");
  }

  event.fingerprint = ParseFingerprint(event, Member(root, "fingerprint"));
  event.checksum = String(root, "checksum");
  OptStr& transaction = event.transaction.Parsing();
  OptStr& logger = event.logger.Parsing();
  std::string_view& level = event.level.Parsing();
  OptStr& release = event.release.Parsing();
  transaction = String(root, "transaction");
  logger = String(root, "logger");
  level = NormalizeLevel(Member(root, "level"));
  if (const auto sent_release = String(root, "release")) {
    const std::string_view trimmed = StripPython(*sent_release);
    if (!trimmed.empty()) release = trimmed;
  }
  if (const Value* sdk = Member(root, "sdk"); sdk != nullptr && sdk->IsObject()) {
    event.sdk_name = String(*sdk, "name");
    event.sdk_version = String(*sdk, "version");
  }
  ParseTags(event, root);
  // Sentry derives these tags from the event before grouping (event_manager's _pull_out_data),
  // replacing any the SDK sent, so `tags.transaction` and friends see them.
  const auto set_tag = [&event](std::string_view key, OptStr value) {
    if (!value || value->empty()) return;
    for (auto& [existing, existing_value] : event.tags.Parsing()) {
      if (existing == key) {
        existing_value = *value;
        return;
      }
    }
    event.tags.Parsing().emplace_back(key, *value);
  };
  set_tag("level", level);
  set_tag("logger", logger);
  set_tag("environment", String(root, "environment"));
  set_tag("transaction", transaction);
  set_tag("sentry:release", release);
  if (release) set_tag("sentry:dist", String(root, "dist"));

  for (auto& exception : event.exceptions) {
    if (exception.stacktrace) NormalizeFrames(event, *exception.stacktrace);
  }
  if (event.stacktrace) NormalizeFrames(event, *event.stacktrace);
  if (event.threads) {
    for (auto& thread : *event.threads) {
      if (thread.stacktrace) NormalizeFrames(event, *thread.stacktrace);
    }
  }
  return event;
}

}  // namespace rookery::grouping::detail
