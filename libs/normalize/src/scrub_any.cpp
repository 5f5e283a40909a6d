// The data scrubber applied to data of unknown shape (see scrub.hpp): every key, every string,
// every integer, wherever it is, since nothing says which field holds what.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>

#include "internal.hpp"
#include "rookery/core/strings.hpp"
#include "rookery/normalize/scrub.hpp"

namespace rookery::normalize {
namespace {

using detail::kFiltered;
using detail::Scrubber;
using detail::Value;

constexpr std::string_view kTooDeep = "[too deep]";

std::string_view View(const Value& value) {
  return {value.GetString(), value.GetStringLength()};
}

// The default rules always, with the project's additions: a dead letter is for operators, and a
// project that turned scrubbing off or declared a field safe did so for its events.
ScrubbingConfig Strict(const ScrubbingConfig& config) {
  ScrubbingConfig strict;
  strict.enabled = true;
  strict.scrub_ip_addresses = config.scrub_ip_addresses;
  strict.extra_fields = config.extra_fields;
  return strict;
}

bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
}

bool IsBlank(char c) {
  return c == ' ' || c == '\t';
}

// Where an unquoted value after '=' ends (form data, query strings, cookies, "k=v" in prose).
bool EndsEqualsValue(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("&;,\"'<>()[]{}").find(c) != std::string_view::npos;
}

// The closing `quote` of a quoted value whose text starts at `start` (backslash escapes skipped);
// the end of the text when it is missing.
std::size_t QuotedEnd(std::string_view text, std::size_t start, char quote) {
  for (std::size_t i = start; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == quote) {
      return i;
    }
  }
  return text.size();
}

// The same for a value quoted with \" (JSON inside a JSON string): the first \" that is not
// itself escaped one level down (\\\" is an escaped quote there).
std::size_t EscapedQuoteEnd(std::string_view text, std::size_t start) {
  bool escaped = false;  // one level down
  for (std::size_t i = start; i < text.size();) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      escaped = false;
      ++i;
      continue;
    }
    const char next = text[i + 1];
    if (next == '"' && !escaped) return i;
    escaped = next == '\\' && !escaped;
    i += 2;
  }
  return text.size();
}

// Just past the bracket that closes the one at `open` (strings in double quotes skipped); the end
// of the text when it is missing.
std::size_t BracketEnd(std::string_view text, std::size_t open) {
  int depth = 0;
  const std::size_t close = detail::ScanBrackets(text, open, [&](bool opens) {
    depth += opens ? 1 : -1;
    return depth == 0;
  });
  return close == text.size() ? close : close + 1;
}

// Whether the quoted key starting at `start` is the first item of a list: `["key"` or `[\"key\"`.
bool OpensPair(std::string_view text, std::size_t start) {
  if (start == 0 || (text[start - 1] != '"' && text[start - 1] != '\'')) return false;
  std::size_t i = start - 1;
  if (i > 0 && text[i - 1] == '\\') --i;
  while (i > 0 && IsBlank(text[i - 1])) --i;
  return i > 0 && text[i - 1] == '[';
}

// "password=hunter2", "Authorization: Bearer x", "\"token\": \"x\"", "[\"auth\", \"x\"]": the value
// after a token the scrubber filters as a key becomes "[Filtered]". Returns whether `out` holds a changed text.
bool RedactKeyValues(std::string_view text, const Scrubber& scrubber, std::string& out) {
  out.clear();
  std::size_t copied = 0;
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    if (!IsKeyChar(text[i])) {
      ++i;
      continue;
    }
    std::size_t k = i;
    while (k < n && IsKeyChar(text[k])) ++k;
    const std::string_view token = text.substr(i, k - i);
    const std::size_t token_start = i;
    i = k;
    if (scrubber.KeyRule(token) == nullptr) continue;
    bool quoted_key = false;
    if (k + 1 < n && text[k] == '\\' && text[k + 1] == '"') {
      k += 2;
      quoted_key = true;
    } else if (k < n && (text[k] == '"' || text[k] == '\'')) {
      ++k;
      quoted_key = true;
    }
    while (k < n && IsBlank(text[k])) ++k;
    if (k == n || (text[k] != '=' && text[k] != ':' && (text[k] != ',' || !quoted_key))) continue;
    const char separator = text[k++];
    while (k < n && IsBlank(text[k])) ++k;
    const bool quoted_value =
        k < n && (text[k] == '"' || text[k] == '\'' || (text[k] == '\\' && k + 1 < n && text[k + 1] == '"'));
    // ["key", "value"]: a pair in JSON text, filtered as the parsed JSON's pairs are.
    if (separator == ',' && (!quoted_value || !OpensPair(text, token_start))) continue;
    std::size_t start = k, end = k;
    if (k + 1 < n && text[k] == '\\' && text[k + 1] == '"') {
      start = k + 2;
      end = EscapedQuoteEnd(text, start);
    } else if (k < n && (text[k] == '"' || text[k] == '\'')) {
      start = k + 1;
      end = QuotedEnd(text, start, text[k]);
    } else if (k < n && (text[k] == '{' || text[k] == '[')) {
      end = BracketEnd(text, k);
    } else if (separator == '=') {
      while (end < n && !EndsEqualsValue(text[end])) ++end;
    } else if (quoted_key) {  // a JSON scalar
      while (end < n && std::string_view(",}]\r\n").find(text[end]) == std::string_view::npos) ++end;
    } else {  // a header line
      while (end < n && text[end] != '\r' && text[end] != '\n') ++end;
    }
    if (end > start && text.substr(start, end - start) != kFiltered) {
      out.append(text.substr(copied, start - copied));
      out.append(kFiltered);
      copied = end;
    }
    i = std::max(i, end);
  }
  if (copied == 0) return false;
  out.append(text.substr(copied));
  return true;
}

// IPv6 addresses inside text, which the scrubber finds only as whole strings: where the data's
// shape is unknown, a string's bounds are too. Returns whether `out` holds a changed text.
bool ReplaceIpv6(std::string_view text, std::string& out) {
  const auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  const auto is_ip_char = [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
  };
  out.clear();
  std::size_t copied = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (!is_ip_char(text[i]) || (i > 0 && is_word(text[i - 1]))) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && is_ip_char(text[end])) ++end;
    std::size_t last = end;
    while (last > i && text[last - 1] == '.') --last;  // the end of a sentence
    const std::string_view run = text.substr(i, last - i);
    if ((end == text.size() || !is_word(text[end])) && run.find(':') != std::string_view::npos &&
        detail::IsIpAddress(run)) {
      out.append(text.substr(copied, i - copied));
      out.append("[ip]");
      copied = last;
    }
    i = end;
  }
  if (copied == 0) return false;
  out.append(text.substr(copied));
  return true;
}

// application/x-www-form-urlencoded, as far as one can tell (trim.cpp's test).
bool LooksLikeForm(std::string_view text) {
  return text.find('=') != std::string_view::npos &&
         std::none_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; });
}

// Free text: what the normal path does to a URL, a query string or form data and to any text,
// then the key=value redaction on top. Returns whether `text` changed.
bool ScrubFreeText(std::string& text, const Scrubber& scrubber) {
  std::string out;
  std::vector<detail::Remark> remarks;
  bool changed = false;
  if (text.find('?') != std::string::npos) {
    changed = scrubber.ScrubUrl(text, out, remarks);
  } else if (LooksLikeForm(text)) {
    changed = scrubber.ScrubQuery(text, out, remarks);
  } else {
    changed = scrubber.ScrubText(text, out, remarks);
  }
  if (changed) text = std::move(out);
  if (RedactKeyValues(text, scrubber, out)) {
    text = std::move(out);
    changed = true;
  }
  if (scrubber.ScrubsIps() && ReplaceIpv6(text, out)) {
    text = std::move(out);
    changed = true;
  }
  return changed;
}

class AnyWalker {
 public:
  AnyWalker(const Scrubber& scrubber, detail::Allocator& allocator, std::size_t max_depth)
      : scrubber_(scrubber), allocator_(allocator), max_depth_(max_depth) {}

  // `depth`: the containers around `value`.
  void Walk(Value& value, std::size_t depth) {
    if (value.IsObject() || value.IsArray()) {
      if (depth >= max_depth_) {
        value.SetString(rapidjson::StringRef(kTooDeep.data(), kTooDeep.size()));
        return;
      }
      if (value.IsObject()) {
        for (auto& member : value.GetObject()) {
          if (!FilterByKey(member.value, View(member.name))) Walk(member.value, depth + 1);
        }
        return;
      }
      // [key, value] pairs: headers, cookies, query strings and tags as lists.
      if (value.Size() == 2 && value[0].IsString()) FilterByKey(value[1], View(value[0]));
      for (Value& item : value.GetArray()) Walk(item, depth + 1);
    } else if (value.IsString()) {
      String(value, depth);
    } else if (value.IsUint64() || value.IsInt64()) {
      const std::string digits =
          value.IsUint64() ? std::to_string(value.GetUint64()) : std::to_string(value.GetInt64());
      if (scrubber_.IsCardNumber(digits)) Filter(value);
    }
  }

 private:
  static void Filter(Value& value) { value.SetString(rapidjson::StringRef(kFiltered.data(), kFiltered.size())); }

  bool FilterByKey(Value& value, std::string_view key) {
    if (value.IsNull() || value.IsBool() || scrubber_.KeyRule(key) == nullptr) return false;
    Filter(value);
    return true;
  }

  void String(Value& value, std::size_t depth) {
    const std::string_view text = TrimWhitespace(View(value));
    if (!text.empty() && (text.front() == '{' || text.front() == '[')) {
      // JSON sent as text (a request body, say): scrubbed by its keys like any JSON, kept as text.
      rapidjson::Document inner(&allocator_);
      inner.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseNanAndInfFlag>(text.data(), text.size());
      if (!inner.HasParseError()) {
        Walk(inner, depth + 1);
        rapidjson::StringBuffer json;
        rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::CrtAllocator,
                          rapidjson::kWriteNanAndInfFlag>
            writer(json);
        inner.Accept(writer);
        value.SetString(json.GetString(), static_cast<rapidjson::SizeType>(json.GetSize()), allocator_);
        return;
      }
    }
    std::string scrubbed(View(value));
    if (ScrubFreeText(scrubbed, scrubber_)) {
      value.SetString(scrubbed.data(), static_cast<rapidjson::SizeType>(scrubbed.size()), allocator_);
    }
  }

  const Scrubber& scrubber_;
  detail::Allocator& allocator_;
  std::size_t max_depth_;
};

// Printable ASCII, tab, line feed, carriage return and valid UTF-8 sequences kept; every other
// byte becomes '?'.
std::string TextOnly(std::string_view bytes) {
  std::string text;
  text.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if (byte < 0x80) {
      const bool keep = (byte >= 0x20 && byte < 0x7F) || byte == '\t' || byte == '\n' || byte == '\r';
      text.push_back(keep ? static_cast<char>(byte) : '?');
      ++i;
      continue;
    }
    const std::size_t length = Utf8SequenceLength(bytes, i);
    if (length == 0) {
      text.push_back('?');
      ++i;
    } else {
      text.append(bytes.substr(i, length));
      i += length;
    }
  }
  return text;
}

}  // namespace

namespace detail {

namespace {

// `filtered`: a key on the way here is one the scrubber filters.
void ScrubOriginals(Value& meta, bool filtered, const Scrubber& scrubber, Allocator& allocator, std::size_t depth) {
  if (!meta.IsObject() || depth > kMaxMetaDepth) return;
  for (auto& member : meta.GetObject()) {
    const std::string_view key = View(member.name);
    if (key == "val") {
      if (filtered) {
        member.value.SetString(rapidjson::StringRef(kFiltered.data(), kFiltered.size()));
      } else {
        AnyWalker(scrubber, allocator, kMaxMetaDepth).Walk(member.value, 0);
      }
    } else {
      ScrubOriginals(member.value, filtered || scrubber.KeyRule(key) != nullptr, scrubber, allocator, depth + 1);
    }
  }
}

}  // namespace

void ScrubMetaOriginals(Value& meta, const ScrubbingConfig& config, Allocator& allocator) {
  if (!config.enabled && !config.scrub_ip_addresses) return;  // the event itself is not scrubbed either
  const Scrubber scrubber(Strict(config));
  ScrubOriginals(meta, false, scrubber, allocator, 0);
}

}  // namespace detail

std::string ScrubbedJson(rapidjson::Document& document, const ScrubbingConfig& config, std::size_t max_depth) {
  const Scrubber scrubber(Strict(config));
  AnyWalker(scrubber, document.GetAllocator(), max_depth).Walk(document, 0);
  detail::MakeStorable(document, document.GetAllocator());
  rapidjson::StringBuffer json;
  rapidjson::Writer<rapidjson::StringBuffer> writer(json);
  document.Accept(writer);
  return {json.GetString(), json.GetSize()};
}

std::string RedactText(std::string_view bytes, const ScrubbingConfig& config) {
  const Scrubber scrubber(Strict(config));
  std::string text = TextOnly(bytes);
  std::string out;
  if (RedactKeyValues(text, scrubber, out)) text = std::move(out);
  std::vector<detail::Remark> remarks;
  if (scrubber.ScrubText(text, out, remarks)) text = std::move(out);
  if (scrubber.ScrubsIps() && ReplaceIpv6(text, out)) text = std::move(out);
  return text;
}

}  // namespace rookery::normalize
