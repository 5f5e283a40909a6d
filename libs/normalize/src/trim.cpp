// One walk over the event's interfaces that applies the data scrubber and Sentry's size limits
// (sentry-protocol.md §7.5) together, so every string is looked at once.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstddef>
#include <optional>

#include "internal.hpp"
#include "rookery/core/strings.hpp"

namespace rookery::normalize::detail {
namespace {

// Over the limit only the newest frames (where it failed) are kept, as Relay does: grouping reads
// the trimmed frames, so keeping any other set (older Relay kept the first 249 and the last) would
// put a deep recursion into another issue than Sentry does.
constexpr std::size_t kMaxFrames = 250;
// Beyond this many frames only this many keep their source context and variables.
constexpr std::size_t kFramesWithData = 50;
// SDKs send at most 100 breadcrumbs by default; the newest are kept.
constexpr std::size_t kMaxBreadcrumbs = 100;
// request.data given as a JSON string is parsed only when it is this shallow.
constexpr int kMaxParsedBodyDepth = 32;

constexpr const char* kAnythingFilterRule = "@anything:filter";
constexpr const char* kAnythingRemoveRule = "@anything:remove";
constexpr const char* kCreditCardRule = "@creditcard:filter";

std::string_view View(const Value& value) {
  return {value.GetString(), value.GetStringLength()};
}

bool IsPair(const Value& value) {
  return value.IsArray() && value.Size() == 2 && value[0].IsString();
}

// Nesting depth of JSON text, strings skipped; stops counting past the limit.
int Nesting(std::string_view text) {
  int depth = 0, deepest = 0;
  ScanBrackets(text, 0, [&](bool opens) {
    if (!opens) {
      --depth;
      return false;
    }
    deepest = std::max(deepest, ++depth);
    return deepest > kMaxParsedBodyDepth;
  });
  return deepest;
}

// application/x-www-form-urlencoded, as far as one can tell without the content type.
bool LooksLikeForm(std::string_view text) {
  if (text.find('=') == std::string_view::npos) return false;
  return std::none_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; });
}

class Walker {
 public:
  Walker(rapidjson::Document& document, const Scrubber& scrubber, MetaCollector& meta)
      : allocator_(document.GetAllocator()), scrubber_(scrubber), meta_(meta) {}

  void Run(Value& document) {
    for (auto& member : document.GetObject()) {
      const std::string_view key = View(member.name);
      Value& value = member.value;
      const Scope scope(*this, key);
      if (key == "logentry") {
        LogEntry(value);
      } else if (key == "message") {
        if (value.IsObject()) {
          LogEntry(value);
        } else {
          Text(value, kMessageChars, true);
        }
      } else if (key == "exception") {
        Exceptions(value);
      } else if (key == "stacktrace") {
        Stacktrace(value);
      } else if (key == "threads") {
        Threads(value);
      } else if (key == "breadcrumbs") {
        Breadcrumbs(value);
      } else if (key == "request") {
        Request(value);
      } else if (key == "user") {
        User(value);
      } else if (key == "contexts") {
        Contexts(value);
      } else if (key == "tags") {
        Tags(value);
      } else if (key == "modules") {
        Bag(value, kLargeBag, false);
      } else if (key == "sdk") {
        if (scrubber_.ScrubsIps() && value.IsObject()) RemoveMember(value, "client_ip");
      } else if (key == "_meta") {
        // The SDK's own annotations: scrubbed like any data, but not annotated in turn.
        recording_ = false;
        Bag(value, kMassiveBag, true);
        recording_ = true;
      } else if (!IsPlainField(key)) {
        // `extra`, and unknown or legacy duplicate keys (kept, but treated as free-form data).
        Bag(value, kMassiveBag, true);
      }
    }
  }

 private:
  class Scope {
   public:
    Scope(Walker& walker, std::string_view key) : walker_(walker) { walker_.path_.push_back({key, 0, false}); }
    Scope(Walker& walker, std::size_t index) : walker_(walker) { walker_.path_.push_back({{}, index, true}); }
    ~Scope() { walker_.path_.pop_back(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Walker& walker_;
  };

  struct BagState {
    std::size_t max_depth;
    std::ptrdiff_t remaining;
  };

  // Scalars the normalizer itself validated, and structures that hold no user data.
  static bool IsPlainField(std::string_view key) {
    static constexpr std::string_view kPlain[] = {
        "event_id",        "timestamp",  "start_timestamp", "received",     "level",
        "platform",        "logger",     "release",         "dist",         "environment",
        "server_name",     "site",       "transaction",     "culprit",      "type",
        "fingerprint",     "debug_meta", "errors",          "checksum",     "project",
        "time_spent",      "key_id",     "version",         "measurements", "spans",
        "transaction_info"};
    return std::find(std::begin(kPlain), std::end(kPlain), key) != std::end(kPlain);
  }

  void AddRemark(Remark remark) {
    if (recording_) meta_.AddRemark(path_, std::move(remark));
  }
  void SetLength(std::size_t length) {
    if (recording_) meta_.SetOriginalLength(path_, length);
  }

  void ScrubString(Value& value) {
    if (!value.IsString() || !scrubber_.Active()) return;
    remarks_.clear();
    if (!scrubber_.ScrubText(View(value), buffer_, remarks_)) return;
    Replace(value, remarks_);
  }

  void Replace(Value& value, std::vector<Remark>& remarks) {
    SetLength(CountChars(View(value)));
    for (Remark& remark : remarks) AddRemark(std::move(remark));
    value.SetString(buffer_.data(), static_cast<rapidjson::SizeType>(buffer_.size()), allocator_);
  }

  void Trim(Value& value, CharLimit limit) {
    if (value.IsString()) TrimString(value, limit, path_, recording_ ? &meta_ : nullptr, allocator_);
  }

  // Free text of a known field: scrubbed (when it may hold user data), then cut to its limit.
  void Text(Value& value, CharLimit limit, bool scrub) {
    if (!value.IsString()) return;
    if (scrub) ScrubString(value);
    Trim(value, limit);
  }

  void Filter(Value& value, const char* rule) {
    if (value.IsString()) {
      if (View(value) == kFiltered) return;  // an SDK that filtered it already
      SetLength(CountChars(View(value)));
    }
    AddRemark({rule, 's', 0, kFiltered.size(), true});
    value.SetString(rapidjson::StringRef(kFiltered.data(), kFiltered.size()));
  }

  // The value under a sensitive key is replaced whole, containers included (Relay does not filter
  // booleans, and there is nothing to filter in null).
  bool FilterByKey(Value& value, std::string_view key) {
    const char* rule = scrubber_.KeyRule(key);
    if (rule == nullptr || value.IsNull() || value.IsBool()) return false;
    Filter(value, rule);
    return true;
  }

  void RemoveMember(Value& object, std::string_view name) {
    for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
      if (View(it->name) != name) continue;
      const Scope scope(*this, name);
      AddRemark({kAnythingRemoveRule, 'x', 0, 0, false});
      object.EraseMember(it);
      return;
    }
  }

  void Bag(Value& value, BagSize size, bool pii) {
    BagState state{size.max_depth, static_cast<std::ptrdiff_t>(size.max_bytes)};
    BagItem(value, state, 0, pii);
  }

  // Relay's databag trimming: the JSON size is counted as the walk goes, items past the budget
  // are dropped (the container's original length is recorded) and too deep values are flattened
  // into their JSON text.
  void BagItem(Value& value, BagState& state, std::size_t depth, bool pii) {
    if (value.IsString()) {
      if (pii) ScrubString(value);
      const auto budget = static_cast<std::size_t>(std::max<std::ptrdiff_t>(state.remaining, 4));
      if (value.GetStringLength() > budget) Trim(value, {budget, 0});
      state.remaining -= static_cast<std::ptrdiff_t>(value.GetStringLength()) + 2;
      return;
    }
    if (value.IsNumber()) {
      if (pii && scrubber_.Enabled() && (value.IsUint64() || value.IsInt64())) {
        const std::string digits =
            value.IsUint64() ? std::to_string(value.GetUint64()) : std::to_string(value.GetInt64());
        if (scrubber_.IsCardNumber(digits)) Filter(value, kCreditCardRule);
      }
      state.remaining -= 8;
      return;
    }
    if (!value.IsObject() && !value.IsArray()) {
      state.remaining -= 5;
      return;
    }
    if (depth >= state.max_depth) {
      rapidjson::StringBuffer text;
      rapidjson::Writer<rapidjson::StringBuffer> writer(text);
      value.Accept(writer);
      value.SetString(text.GetString(), static_cast<rapidjson::SizeType>(text.GetSize()), allocator_);
      BagItem(value, state, depth, pii);
      return;
    }
    state.remaining -= 2;
    if (value.IsObject()) {
      const std::size_t count = value.MemberCount();
      for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it) {
        if (state.remaining <= 0) {
          SetLength(count);
          value.EraseMember(it, value.MemberEnd());
          break;
        }
        const std::string_view key = View(it->name);
        state.remaining -= static_cast<std::ptrdiff_t>(key.size()) + 3;
        const Scope scope(*this, key);
        if (pii && FilterByKey(it->value, key)) {
          state.remaining -= static_cast<std::ptrdiff_t>(kFiltered.size()) + 2;
          continue;
        }
        BagItem(it->value, state, depth + 1, pii);
      }
    } else {
      const std::size_t count = value.Size();
      for (std::size_t i = 0; i < value.Size(); ++i) {
        if (state.remaining <= 0) {
          SetLength(count);
          value.Erase(value.Begin() + i, value.End());
          break;
        }
        const Scope scope(*this, i);
        BagItem(value[static_cast<rapidjson::SizeType>(i)], state, depth + 1, pii);
        state.remaining -= 1;
      }
    }
  }

  // The list behind Sentry's `Values` shapes: {"values": [...]} or a bare list (its path entered).
  template <typename Function>
  void ForEachValue(Value& container, Function&& function) {
    Value* list = &container;
    if (container.IsObject()) {
      auto values = container.FindMember("values");
      if (values == container.MemberEnd() || !values->value.IsArray()) return;
      list = &values->value;
      const Scope scope(*this, "values");
      ForEachIn(*list, function);
      return;
    }
    if (list->IsArray()) ForEachIn(*list, function);
  }

  template <typename Function>
  void ForEachIn(Value& list, Function&& function) {
    for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
      const Scope scope(*this, i);
      function(list[i]);
    }
  }

  void LogEntry(Value& entry) {
    if (!entry.IsObject()) return;
    for (auto& member : entry.GetObject()) {
      const std::string_view key = View(member.name);
      const Scope scope(*this, key);
      if (key == "formatted" || key == "message") {
        Text(member.value, kMessageChars, true);
      } else if (key == "params") {
        Bag(member.value, kMediumBag, true);
      }
    }
  }

  void Exceptions(Value& container) {
    if (container.IsObject() && !container.HasMember("values")) {
      Exception(container);  // one exception object, as old raven clients send it
      return;
    }
    ForEachValue(container, [this](Value& exception) { Exception(exception); });
  }

  void Exception(Value& exception) {
    if (!exception.IsObject()) return;
    for (auto& member : exception.GetObject()) {
      const std::string_view key = View(member.name);
      const Scope scope(*this, key);
      if (key == "type" || key == "module") {
        Text(member.value, kSymbolChars, false);
      } else if (key == "value") {
        Text(member.value, kMessageChars, true);
      } else if (key == "stacktrace" || key == "raw_stacktrace") {
        Stacktrace(member.value);
      } else if (key == "mechanism" && member.value.IsObject()) {
        Mechanism(member.value);
      }
    }
  }

  void Mechanism(Value& mechanism) {
    for (auto& member : mechanism.GetObject()) {
      const std::string_view key = View(member.name);
      const Scope scope(*this, key);
      if (key == "type") {
        Text(member.value, kEnumlikeChars, false);
      } else if (key == "description") {
        Text(member.value, kSummaryChars, true);
      } else if (key == "help_link") {
        Text(member.value, kPathChars, false);
      } else if (key == "data") {
        Bag(member.value, kMediumBag, true);
      }
    }
  }

  void Threads(Value& container) {
    ForEachValue(container, [this](Value& thread) {
      if (!thread.IsObject()) return;
      for (auto& member : thread.GetObject()) {
        const std::string_view key = View(member.name);
        const Scope scope(*this, key);
        if (key == "name") {
          Text(member.value, kSymbolChars, true);
        } else if (key == "stacktrace" || key == "raw_stacktrace") {
          Stacktrace(member.value);
        }
      }
    });
  }

  void Stacktrace(Value& stacktrace) {
    if (!stacktrace.IsObject()) return;
    auto frames_member = stacktrace.FindMember("frames");
    if (frames_member == stacktrace.MemberEnd() || !frames_member->value.IsArray()) return;
    Value& frames = frames_member->value;
    const std::size_t count = frames.Size();
    const Scope scope(*this, "frames");
    if (count > kMaxFrames) {
      SetLength(count);
      frames.Erase(frames.Begin(), frames.Begin() + static_cast<std::ptrdiff_t>(count - kMaxFrames));
    }
    SlimFrames(frames);
    for (rapidjson::SizeType i = 0; i < frames.Size(); ++i) {
      const Scope index(*this, i);
      Frame(frames[i]);
    }
  }

  // Relay's slim_frame_data: source context and variables stay on the in-app frames first, then on
  // the outermost of the others.
  static void SlimFrames(Value& frames) {
    const std::size_t count = frames.Size();
    if (count <= kFramesWithData) return;
    std::vector<std::size_t> app, other;
    for (rapidjson::SizeType i = 0; i < count; ++i) {
      const Value& frame = frames[i];
      bool in_app = false;
      if (frame.IsObject()) {
        auto it = frame.FindMember("in_app");
        in_app = it != frame.MemberEnd() && it->value.IsBool() && it->value.GetBool();
      }
      (in_app ? app : other).push_back(i);
    }
    std::vector<bool> keep(count, false);
    const auto keep_outermost = [&keep](const std::vector<std::size_t>& indices, std::size_t budget) {
      if (indices.size() <= budget) {
        for (std::size_t i : indices) keep[i] = true;
        return;
      }
      const std::size_t head = budget / 2;
      for (std::size_t k = 0; k < head; ++k) keep[indices[k]] = true;
      for (std::size_t k = indices.size() - (budget - head); k < indices.size(); ++k) keep[indices[k]] = true;
    };
    keep_outermost(app, kFramesWithData);
    if (app.size() < kFramesWithData) keep_outermost(other, kFramesWithData - app.size());
    for (rapidjson::SizeType i = 0; i < count; ++i) {
      if (keep[i] || !frames[i].IsObject()) continue;
      frames[i].RemoveMember("vars");
      frames[i].RemoveMember("pre_context");
      frames[i].RemoveMember("post_context");
    }
  }

  void Frame(Value& frame) {
    if (!frame.IsObject()) return;
    for (auto& member : frame.GetObject()) {
      const std::string_view key = View(member.name);
      const Scope scope(*this, key);
      if (key == "filename" || key == "abs_path") {
        Text(member.value, kPathChars, false);
      } else if (key == "function" || key == "raw_function" || key == "module" || key == "package" || key == "symbol") {
        Text(member.value, kSymbolChars, false);
      } else if (key == "context_line") {
        Text(member.value, kSummaryChars, true);
      } else if ((key == "pre_context" || key == "post_context") && member.value.IsArray()) {
        for (rapidjson::SizeType i = 0; i < member.value.Size(); ++i) {
          const Scope index(*this, i);
          Text(member.value[i], kSummaryChars, true);
        }
      } else if (key == "vars") {
        Bag(member.value, kLargeBag, true);
      }
    }
  }

  void Breadcrumbs(Value& container) {
    Value* list = &container;
    std::string_view list_key;
    if (container.IsObject()) {
      auto values = container.FindMember("values");
      if (values == container.MemberEnd() || !values->value.IsArray()) return;
      list = &values->value;
      list_key = "values";
    }
    if (!list->IsArray()) return;
    std::optional<Scope> scope;
    if (!list_key.empty()) scope.emplace(*this, list_key);
    const std::size_t count = list->Size();
    if (count > kMaxBreadcrumbs) {
      SetLength(count);
      list->Erase(list->Begin(), list->End() - kMaxBreadcrumbs);
    }
    ForEachIn(*list, [this](Value& crumb) { Breadcrumb(crumb); });
  }

  void Breadcrumb(Value& crumb) {
    if (!crumb.IsObject()) return;
    for (auto& member : crumb.GetObject()) {
      const std::string_view key = View(member.name);
      const Scope scope(*this, key);
      if (key == "message") {
        Text(member.value, kMessageChars, true);
      } else if (key == "category" || key == "type" || key == "level") {
        Text(member.value, kEnumlikeChars, false);
      } else if (key == "data") {
        Bag(member.value, kMediumBag, true);
      }
    }
  }

  void Request(Value& request) {
    if (!request.IsObject()) return;
    for (auto& member : request.GetObject()) {
      const std::string_view key = View(member.name);
      Value& value = member.value;
      const Scope scope(*this, key);
      if (key == "url") {
        if (!value.IsString()) continue;
        remarks_.clear();
        if (scrubber_.ScrubUrl(View(value), buffer_, remarks_)) Replace(value, remarks_);
        Trim(value, kPathChars);
      } else if (key == "method") {
        Text(value, kEnumlikeChars, false);
      } else if (key == "query_string") {
        Query(value);
      } else if (key == "data") {
        Body(value);
      } else if (key == "cookies") {
        Cookies(value);
      } else if (key == "headers") {
        Headers(value);
      } else if (key == "env") {
        if (value.IsObject() && scrubber_.ScrubsIps()) RemoveMember(value, "REMOTE_ADDR");
        Bag(value, kLargeBag, true);
      } else if (value.IsString()) {
        Text(value, kSummaryChars, true);
      } else {
        Bag(value, kLargeBag, true);
      }
    }
  }

  void Query(Value& value) {
    if (value.IsString()) {
      remarks_.clear();
      if (scrubber_.ScrubQuery(View(value), buffer_, remarks_)) Replace(value, remarks_);
      Trim(value, kMessageChars);
    } else if (value.IsArray()) {
      Pairs(value);
    } else {
      Bag(value, kLargeBag, true);
    }
  }

  void Body(Value& value) {
    if (value.IsString()) {
      const std::string_view text = TrimWhitespace(View(value));
      if (!text.empty() && (text.front() == '{' || text.front() == '[') && Nesting(text) <= kMaxParsedBodyDepth) {
        // A JSON body sent as text: parsed, so that its keys are scrubbed like any data.
        rapidjson::Document parsed(&allocator_);
        parsed.Parse(text.data(), text.size());
        if (!parsed.HasParseError()) {
          static_cast<Value&>(value) = static_cast<Value&&>(parsed);
          MakeStorable(value, allocator_);
        }
      } else if (LooksLikeForm(text)) {
        remarks_.clear();
        if (scrubber_.ScrubQuery(View(value), buffer_, remarks_)) Replace(value, remarks_);
      }
    }
    Bag(value, kLargeBag, true);
  }

  void Cookies(Value& value) {
    if (value.IsString()) {
      if (!scrubber_.Enabled()) return Trim(value, kMessageChars);
      // "a=1; b=2": the names stay, every value is filtered.
      const std::string_view text = View(value);
      std::string out;
      remarks_.clear();
      std::size_t start = 0, chars = 0;
      while (start < text.size()) {
        std::size_t end = text.find(';', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view cookie = text.substr(start, end - start);
        const std::size_t equals = cookie.find('=');
        std::string_view keep = equals == std::string_view::npos ? cookie : cookie.substr(0, equals + 1);
        out.append(keep);
        chars += CountChars(keep);
        if (equals != std::string_view::npos && equals + 1 < cookie.size()) {
          remarks_.push_back({kAnythingFilterRule, 's', chars, chars + kFiltered.size(), true});
          out.append(kFiltered);
          chars += kFiltered.size();
        }
        if (end < text.size()) {
          out.push_back(';');
          ++chars;
        }
        start = end + 1;
      }
      if (remarks_.empty()) return;
      buffer_ = std::move(out);
      Replace(value, remarks_);
    } else if (value.IsObject()) {
      for (auto& member : value.GetObject()) {
        const Scope scope(*this, View(member.name));
        CookieValue(member.value, View(member.name));
      }
    } else if (value.IsArray()) {
      for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
        if (!IsPair(value[i])) continue;
        const Scope index(*this, i);
        const Scope second(*this, std::size_t{1});
        CookieValue(value[i][1], View(value[i][0]));
      }
    }
  }

  void CookieValue(Value& value, std::string_view name) {
    if (!scrubber_.Enabled()) return Text(value, kMessageChars, false);
    if (FilterByKey(value, name) || value.IsNull() || value.IsBool()) return;
    Filter(value, kAnythingFilterRule);
  }

  void Headers(Value& value) {
    if (value.IsObject()) {
      for (auto& member : value.GetObject()) {
        const Scope scope(*this, View(member.name));
        Header(member.value, View(member.name));
      }
    } else if (value.IsArray()) {
      for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
        if (!IsPair(value[i])) continue;
        const Scope index(*this, i);
        const Scope second(*this, std::size_t{1});
        Header(value[i][1], View(value[i][0]));
      }
    }
  }

  void Header(Value& value, std::string_view name) {
    // Relay leaves the user agent alone: its version numbers look like IP addresses.
    if (EqualsIgnoreCase(name, "user-agent")) return Text(value, kMessageChars, false);
    if (FilterByKey(value, name)) return;
    Text(value, kMessageChars, true);
  }

  // Pair lists ([[key, value], ...]) of free-form data.
  void Pairs(Value& list) {
    for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
      if (!IsPair(list[i])) continue;
      const Scope index(*this, i);
      const Scope second(*this, std::size_t{1});
      if (FilterByKey(list[i][1], View(list[i][0]))) continue;
      Text(list[i][1], kMessageChars, true);
    }
  }

  void User(Value& user) {
    if (!user.IsObject()) return;
    if (scrubber_.ScrubsIps()) RemoveMember(user, "ip_address");
    for (auto& member : user.GetObject()) {
      const std::string_view key = View(member.name);
      const Scope scope(*this, key);
      if (key == "email") {
        Text(member.value, kEmailChars, true);
      } else if (key == "id" || key == "username" || key == "name" || key == "segment") {
        Text(member.value, kEnumlikeChars, true);
      } else if (key == "geo") {
        Bag(member.value, kSmallBag, false);
      } else if (key != "ip_address") {
        Bag(member.value, kMediumBag, true);
      }
    }
  }

  void Contexts(Value& contexts) {
    if (!contexts.IsObject()) return;
    for (auto& member : contexts.GetObject()) {
      const std::string_view key = View(member.name);
      const Scope scope(*this, key);
      if (FilterByKey(member.value, key)) continue;
      Bag(member.value, kLargeBag, true);
    }
  }

  void Tags(Value& tags) {
    if (tags.IsObject()) {
      for (auto& member : tags.GetObject()) {
        const Scope scope(*this, View(member.name));
        if (!FilterByKey(member.value, View(member.name))) ScrubString(member.value);
      }
    } else if (tags.IsArray()) {
      for (rapidjson::SizeType i = 0; i < tags.Size(); ++i) {
        if (!IsPair(tags[i])) continue;
        const Scope index(*this, i);
        const Scope second(*this, std::size_t{1});
        if (!FilterByKey(tags[i][1], View(tags[i][0]))) ScrubString(tags[i][1]);
      }
    }
  }

  Allocator& allocator_;
  const Scrubber& scrubber_;
  MetaCollector& meta_;
  Path path_;
  bool recording_ = true;
  std::string buffer_;
  std::vector<Remark> remarks_;
};

}  // namespace

bool TrimString(Value& value, CharLimit limit, const Path& path, MetaCollector* meta, Allocator& allocator) {
  const std::string_view text(value.GetString(), value.GetStringLength());
  const std::size_t hard_limit = limit.limit + limit.allowance;
  if (text.size() <= hard_limit) return false;  // bytes >= characters
  const std::size_t chars = CountChars(text);
  if (chars <= hard_limit) return false;
  const std::size_t keep = limit.limit >= 3 ? limit.limit - 3 : 0;
  std::string cut = TruncateUtf8(text, keep);
  cut += "...";
  if (meta != nullptr) {
    meta->SetOriginalLength(path, chars);
    meta->AddRemark(path, {"!limit", 's', keep, keep + 3, true});
  }
  value.SetString(cut.c_str(), static_cast<rapidjson::SizeType>(cut.size()), allocator);
  return true;
}

void ScrubAndTrim(rapidjson::Document& document, const Scrubber& scrubber, MetaCollector& meta) {
  Walker(document, scrubber, meta).Run(document);
}

}  // namespace rookery::normalize::detail
