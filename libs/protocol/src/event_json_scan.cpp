#include "event_json_scan.hpp"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "rookery/core/strings.hpp"
#include "rookery/protocol/json_limits.hpp"

namespace rookery::protocol::internal {
namespace {

using Verdict = EventJsonScan::Verdict;

// RapidJSON's whitespace: no form feed, no vertical tab.
constexpr bool IsWhitespace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

constexpr std::array<bool, 256> MakeStringStopTable() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[static_cast<std::size_t>(c)] = true;
  table[static_cast<unsigned char>('"')] = true;
  table[static_cast<unsigned char>('\\')] = true;
  return table;
}
constexpr std::array<bool, 256> kStringStop = MakeStringStopTable();

class Scanner {
 public:
  explicit Scanner(std::string_view json) : p_(json.data()), end_(json.data() + json.size()) {}

  EventJsonScan Run() {
    SkipWhitespace();
    if (p_ == end_) return Fail();
    const bool top_is_object = *p_ == '{';
    enum class Next { kValue, kAfterValue, kKey };
    Next next = Next::kValue;
    for (;;) {
      switch (next) {
        case Next::kValue: {
          // p_ < end_ here, at the first byte of a value.
          const bool is_event_id = expect_event_id_;
          expect_event_id_ = false;
          const char c = *p_;
          if (c == '{' || c == '[') {
            if (is_event_id) result_.event_id_is_string = false;
            if (++depth_ > static_cast<int>(kMaxJsonDepth)) {
              result_.verdict = Verdict::kTooDeep;
              return result_;
            }
            in_object_[static_cast<std::size_t>(depth_)] = c == '{';
            ++p_;
            SkipWhitespace();
            if (p_ == end_) return Fail();
            if (*p_ == (c == '{' ? '}' : ']')) {
              ++p_;
              --depth_;
              next = Next::kAfterValue;
            } else {
              next = c == '{' ? Next::kKey : Next::kValue;
            }
            continue;
          }
          if (c == '"') {
            const char* const start = ++p_;
            bool escaped = false;
            if (!ScanString(escaped)) return Fail();
            if (is_event_id) {
              if (escaped) return Undecided();
              result_.event_id = std::string_view(start, static_cast<std::size_t>(p_ - 1 - start));
            }
          } else if (c == 't' || c == 'f' || c == 'n') {
            const std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
            if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
              return Fail();
            }
            p_ += word.size();
            if (is_event_id) (c == 'n' ? result_.event_id_null : result_.event_id_is_string) = c == 'n';
          } else {
            if (!ScanNumber()) return Fail();
            if (is_event_id) result_.event_id_is_string = false;
          }
          next = Next::kAfterValue;
          continue;
        }
        case Next::kAfterValue: {
          SkipWhitespace();
          if (depth_ == 0) {
            if (p_ != end_) return Fail();  // a second root value, or garbage after the first
            result_.verdict = top_is_object ? Verdict::kObject : Verdict::kNotObject;
            return result_;
          }
          if (p_ == end_) return Fail();
          const bool in_object = in_object_[static_cast<std::size_t>(depth_)];
          if (*p_ == ',') {
            ++p_;
            SkipWhitespace();
            if (p_ == end_) return Fail();
            next = in_object ? Next::kKey : Next::kValue;
          } else if (*p_ == (in_object ? '}' : ']')) {
            ++p_;
            --depth_;
          } else {
            return Fail();
          }
          continue;
        }
        case Next::kKey: {
          // p_ < end_ here.
          if (*p_ != '"') return Fail();
          const char* const start = ++p_;
          bool escaped = false;
          if (!ScanString(escaped)) return Fail();
          if (depth_ == 1) {
            if (escaped) return Undecided();  // might spell event_id
            if (std::string_view(start, static_cast<std::size_t>(p_ - 1 - start)) == "event_id") {
              result_.has_event_id_key = true;
              expect_event_id_ = true;
            }
          }
          SkipWhitespace();
          if (p_ == end_ || *p_ != ':') return Fail();
          ++p_;
          SkipWhitespace();
          if (p_ == end_) return Fail();
          next = Next::kValue;
          continue;
        }
      }
    }
  }

 private:
  EventJsonScan Fail() {
    result_.verdict = Verdict::kInvalid;
    return result_;
  }
  EventJsonScan Undecided() {
    result_.verdict = Verdict::kUndecided;
    return result_;
  }

  void SkipWhitespace() {
    while (p_ != end_ && IsWhitespace(*p_)) ++p_;
  }

  // From just after the opening quote to just after the closing one. Strings are most of an
  // event's bytes, so the plain stretches are skipped 16 bytes at a time.
  bool ScanString(bool& escaped) {
    for (;;) {
      SkipPlain();
      if (p_ == end_) return false;
      const char c = *p_;
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c != '\\') return false;  // a control character
      escaped = true;
      if (++p_ == end_) return false;
      switch (*p_) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't': ++p_; break;
        case 'u': {
          ++p_;
          const int unit = ReadHex4();
          if (unit < 0) return false;
          if (unit >= 0xD800 && unit <= 0xDBFF) {
            // A high surrogate must be followed by an escaped low one; a lone low one passes.
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            const int low = ReadHex4();
            if (low < 0xDC00 || low > 0xDFFF) return false;
          }
          break;
        }
        default: return false;
      }
    }
  }

  void SkipPlain() {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i control_max = _mm_set1_epi8(0x1F);
    while (end_ - p_ >= 16) {
      const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
      // max(c, 0x1F) == 0x1F exactly when c <= 0x1F as an unsigned byte.
      const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(chunk, control_max), control_max);
      const __m128i stop =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)), control);
      const int mask = _mm_movemask_epi8(stop);
      if (mask != 0) {
        p_ += __builtin_ctz(static_cast<unsigned>(mask));
        return;
      }
      p_ += 16;
    }
#endif
    while (p_ != end_ && !kStringStop[static_cast<unsigned char>(*p_)]) ++p_;
  }

  int ReadHex4() {
    if (end_ - p_ < 4) return -1;
    int value = 0;
    for (int i = 0; i < 4; ++i) {
      const int digit = HexDigitValue(p_[i]);
      if (digit < 0) return -1;
      value = value * 16 + digit;
    }
    p_ += 4;
    return value;
  }

  // NaN and Infinity as RapidJSON's kParseNanAndInfFlag reads them (a sign is allowed before
  // either, and so, oddly, are a fraction and an exponent after). Any other number is cut at the
  // first byte that cannot belong to one; the plain ones are checked here, the rest (exponents,
  // a double that overflows) handed to RapidJSON itself for its exact answer.
  bool ScanNumber() {
    const auto is_number_byte = [](char c) {
      return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
    };
    const char* const start = p_;
    const char* q = p_;
    if (q != end_ && *q == '-') ++q;
    if (q != end_ && (*q == 'N' || *q == 'I')) {
      // Byte by byte as RapidJSON consumes them, quirks included: "NInf" and "NaInf" read as Inf.
      const auto consume = [&](char c) {
        if (q == end_ || *q != c) return false;
        ++q;
        return true;
      };
      const bool nan = consume('N') && consume('a') && consume('N');
      if (!nan) {
        if (!(consume('I') && consume('n') && consume('f'))) return false;
        if (q != end_ && *q == 'i' && !(consume('i') && consume('n') && consume('i') && consume('t') && consume('y'))) {
          return false;
        }
      }
      if (q == end_ || !is_number_byte(*q)) {
        p_ = q;
        return true;
      }
    }
    while (q != end_ && is_number_byte(*q)) ++q;
    if (q == start) return false;
    if (IsPlainNumber(start, q)) {
      p_ = q;
      return true;
    }
    rapidjson::Reader reader;
    rapidjson::BaseReaderHandler<> ignore;
    rapidjson::MemoryStream stream(start, static_cast<std::size_t>(q - start));
    const bool ok = !reader.Parse<rapidjson::kParseNanAndInfFlag>(stream, ignore).IsError() &&
                    stream.Tell() == static_cast<std::size_t>(q - start);
    p_ = q;
    return ok;
  }

  // The common numbers (line numbers, timestamps): JSON's grammar without an exponent, short
  // enough that no double overflows. Anything else goes to RapidJSON.
  static bool IsPlainNumber(const char* p, const char* end) {
    const auto digits = [&p, end] {
      const char* const from = p;
      while (p != end && *p >= '0' && *p <= '9') ++p;
      return p - from;
    };
    if (end - p > 300) return false;
    if (*p == '-') ++p;
    if (p == end) return false;
    if (*p == '0') {
      ++p;
    } else if (digits() == 0) {
      return false;
    }
    if (p != end && *p == '.') {
      ++p;
      if (digits() == 0) return false;
    }
    return p == end;
  }

  const char* p_;
  const char* const end_;
  int depth_ = 0;
  bool expect_event_id_ = false;
  std::array<bool, kMaxJsonDepth + 1> in_object_{};
  EventJsonScan result_;
};

// The reader-based check: RapidJSON validates, this handler records the top-level "event_id".
class EventIdScanner : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, EventIdScanner> {
 public:
  bool Default() {
    if (depth_ == 0) top_level_is_object_ = false;
    expect_event_id_ = false;
    return true;
  }
  bool String(const char* text, rapidjson::SizeType length, bool) {
    if (expect_event_id_) event_id_.assign(text, length);
    if (depth_ == 0) top_level_is_object_ = false;
    expect_event_id_ = false;
    return true;
  }
  bool Null() {
    if (expect_event_id_) event_id_null_ = true;
    expect_event_id_ = false;
    return true;
  }
  bool Key(const char* text, rapidjson::SizeType length, bool) {
    expect_event_id_ = depth_ == 1 && std::string_view(text, length) == "event_id";
    if (expect_event_id_) has_event_id_key_ = true;
    return true;
  }
  bool StartObject() { return Open(true); }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool StartArray() { return Open(false); }
  bool EndArray(rapidjson::SizeType) { return Close(); }
  // Numbers and booleans as event_id are not strings.
  bool Bool(bool) { return Scalar(); }
  bool Int(int) { return Scalar(); }
  bool Uint(unsigned) { return Scalar(); }
  bool Int64(std::int64_t) { return Scalar(); }
  bool Uint64(std::uint64_t) { return Scalar(); }
  bool Double(double) { return Scalar(); }

  bool too_deep_ = false;
  bool top_level_is_object_ = false;
  bool has_event_id_key_ = false;
  bool event_id_null_ = false;
  bool event_id_is_string_ = true;
  std::string event_id_;  // empty when absent or null

 private:
  bool Scalar() {
    if (expect_event_id_) event_id_is_string_ = false;
    if (depth_ == 0) top_level_is_object_ = false;
    expect_event_id_ = false;
    return true;
  }
  // An object or array opens: as a value it is not a string event_id, and at the top only an
  // object is an event.
  bool Open(bool object) {
    if (depth_ == 0) top_level_is_object_ = object;
    if (expect_event_id_) event_id_is_string_ = false;
    expect_event_id_ = false;
    if (++depth_ > static_cast<int>(kMaxJsonDepth)) {
      too_deep_ = true;
      return false;  // stops the parse
    }
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }
  int depth_ = 0;
  bool expect_event_id_ = false;
};

}  // namespace

EventJsonScan ScanEventJson(std::string_view json) {
  return Scanner(json).Run();
}

EventJsonScan ReadEventJson(std::string_view json, std::string& event_id_storage) {
  EventIdScanner scanner;
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(json.data(), json.size());
  // Iterative, and depth-capped by the handler: the body is untrusted. The whole text must be one
  // value: a NUL inside it reads as the end of input, hence the position check.
  const auto parsed = reader.Parse<rapidjson::kParseNanAndInfFlag | rapidjson::kParseIterativeFlag>(stream, scanner);
  EventJsonScan result;
  if (scanner.too_deep_) {
    result.verdict = EventJsonScan::Verdict::kTooDeep;
  } else if (parsed.IsError() || stream.Tell() != json.size()) {
    result.verdict = EventJsonScan::Verdict::kInvalid;
  } else {
    result.verdict =
        scanner.top_level_is_object_ ? EventJsonScan::Verdict::kObject : EventJsonScan::Verdict::kNotObject;
  }
  result.has_event_id_key = scanner.has_event_id_key_;
  result.event_id_null = scanner.event_id_null_;
  result.event_id_is_string = scanner.event_id_is_string_;
  event_id_storage = std::move(scanner.event_id_);
  result.event_id = event_id_storage;
  return result;
}

}  // namespace rookery::protocol::internal
