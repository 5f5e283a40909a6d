#include "parameterize.hpp"

#include <array>
#include <vector>

#include "function_names.hpp"
#include "py_regex.hpp"

namespace rookery::grouping::detail {
namespace {

// The regex set is pinned to the one Sentry used while `newstyle:2023-01-11` snapshots were taken
// (getsentry/sentry parameterization.py at caa56edf, 2024): `int` is any digit run and `hex` needs a
// 0x prefix. Sentry's newer set (8+ digits become <hex>, plus traceparent and git_sha) changes
// hashes of existing issues; see the upstream fixture message_with_key_pair_values.
//
// Patterns are tried in order at every position and the first that matches wins, exactly like one
// big alternation. `required` lists bytes of which at least one must occur in the message for the
// pattern to be able to match at all; it lets most patterns skip most messages.
struct PatternSpec {
  const char* name;
  const char* required;
  const char* pattern;
};

constexpr PatternSpec kPatterns[] = {
    {"email", "@", R"re((?x) [a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+ @ [a-zA-Z0-9-]+ (?:\.[a-zA-Z0-9-]+)* )re"},
    {"url", ":", R"re((?x) \b (wss?|https?|ftp) :// [^\s/$.?#] . [^\s]* )re"},
    {"hostname", ".", R"re((?x)
        \b
        ([a-zA-Z0-9\-]{1,63}\.)+?
        (
          (COM|NET|ORG|JP|DE|UK|FR|BR|IT|RU|ES|ME|GOV|PL|CA|AU|CN|CO|IN|NL|EDU|INFO|EU|CH|ID|AT|KR|CZ|MX|BE|TV|SE|
           TR|TW|AL|UA|IR|VN|CL|SK|LY|CC|TO|NO|FI|US|PT|DK|AR|HU|TK|GR|IL|NEWS|RO|MY|BIZ|IE|ZA|NZ|SG|EE|TH|IO|XYZ|
           PE|BG|HK|RS|LT|LINK|PH|CLUB|SI|SITE|MOBI|BY|CAT|WIKI|LA|GA|XXX|CF|HR|NG|JOBS|ONLINE|KZ|UG|GQ|AE|IS|LV|
           PRO|FM|TIPS|MS|SA|APP)
          |
          (com|net|org|jp|de|uk|fr|br|it|ru|es|me|gov|pl|ca|au|cn|co|in|nl|edu|info|eu|ch|id|at|kr|cz|mx|be|tv|se|
           tr|tw|al|ua|ir|vn|cl|sk|ly|cc|to|no|fi|us|pt|dk|ar|hu|tk|gr|il|news|ro|my|biz|ie|za|nz|sg|ee|th|io|xyz|
           pe|bg|hk|rs|lt|link|ph|club|si|site|mobi|by|cat|wiki|la|ga|xxx|cf|hr|ng|jobs|online|kz|ug|gq|ae|is|lv|
           pro|fm|tips|ms|sa|app)
        )
        \b
    )re"},
    {"ip", ":.", R"re((?x)
        (
            ([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4} |
            ([0-9a-fA-F]{1,4}:){1,7}: |
            ([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4} |
            ([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2} |
            ([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3} |
            ([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4} |
            ([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5} |
            [0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6}) |
            :((:[0-9a-fA-F]{1,4}){1,7}|:) |
            fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]{1,} |
            ::(ffff(:0{1,4}){0,1}:){0,1}
              ((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}
              (25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9]) |
            ([0-9a-fA-F]{1,4}:){1,4}:
              ((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}
              (25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\b
        )
        |
        (
            \b((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}
            (25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\b
        )
    )re"},
    {"uuid", "-", R"re((?x) \b [0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12} \b )re"},
    {"sha1", nullptr, R"re((?x) \b [0-9a-fA-F]{40} \b )re"},
    {"md5", nullptr, R"re((?x) \b [0-9a-fA-F]{32} \b )re"},
    {"date", ":-,(", R"re((?x)
        # RFC 822 / 1123
        ((?:Sun|Mon|Tue|Wed|Thu|Fri|Sat),\s\d{1,2}\s(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s\d{2,4}\s
         \d{1,2}:\d{1,2}(:\d{1,2})?\s([-\+][\d]{2}[0-5][\d]|(?:UT|GMT|(?:E|C|M|P)(?:ST|DT)|[A-IK-Z])))
        |
        # "Mon Jan 02, 1999" and "Jan 02, 1999"
        (((?:Sun|Mon|Tue|Wed|Thu|Fri|Sat)\s)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s[0-3]\d,\s\d{2,4})
        |
        # RFC 850
        ((?:Sunday|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday),\s\d{2}-
         (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2}\s\d{2}:\d{2}:\d{2}\s
         (?:UT|GMT|(?:E|C|M|P)(?:ST|DT)|[A-IK-Z]))
        |
        # RFC 3339
        (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?([+-]?\d{2}:\d{2})?)
        |
        # date and time with a space
        (\d{4}-?[01]\d-?[0-3]\d\s[0-2]\d:[0-5]\d:[0-5]\d)(\.\d+)?
        |
        # clock time; verbose mode drops the space before am/pm, as in Sentry's pattern
        (\d{1,2}:\d{2}(:\d{2})?(?: [aApP][Mm])?)
        |
        (\d{4}-[01]\d-[0-3]\d)
        |
        ([0-2]\d:[0-5]\d:[0-5]\d)
        |
        (
          (\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d\.\d+([+-][0-2]\d:[0-5]\d|Z)) |
          (\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d([+-][0-2]\d:[0-5]\d|Z)) |
          (\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d([+-][0-2]\d:[0-5]\d|Z))
        )
        |
        (
          \b(?:(Sun|Mon|Tue|Wed|Thu|Fri|Sat)\s+)?
          (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+
          ([\d]{1,2})\s+
          ([\d]{2}:[\d]{2}:[\d]{2})\s+
          [\d]{4}
        )
        |
        (
          \b(?:(Sun|Mon|Tue|Wed|Thu|Fri|Sat),\s+)?
          (0[1-9]|[1-2]?[\d]|3[01])\s+
          (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+
          (19[\d]{2}|[2-9][\d]{3})\s+
          (2[0-3]|[0-1][\d]):([0-5][\d])
          (?::(60|[0-5][\d]))?\s+
          ([-\+][\d]{2}[0-5][\d]|(?:UT|GMT|(?:E|C|M|P)(?:ST|DT)|[A-IK-Z]))
        )
        |
        # Python's repr of a datetime
        (datetime.datetime\(.*?\))
    )re"},
    {"duration", "s", R"re((?x) \b(\d+ms) | (\d+(\.\d+)?s)\b )re"},
    {"hex", "xX", R"re((?x) \b0[xX][0-9a-fA-F]+\b )re"},
    {"float", ".", R"re((?x) -\d+\.\d+\b | \b\d+\.\d+\b )re"},
    {"int", "0123456789", R"re((?x) -\d+\b | \b\d+\b )re"},
    // Only the value half of key=value pairs.
    {"quoted_str", "=", R"re((?x) (?<==) ( '([^']+)' | "([^"]+)" ) )re"},
    {"bool", "=", R"re((?x) (?<==) ( True | true | False | false ) )re"},
};

struct CompiledPattern {
  std::string placeholder;
  std::string required;
  PyRegex regex;
};

const std::vector<CompiledPattern>& Patterns() {
  static const std::vector<CompiledPattern> patterns = [] {
    std::vector<CompiledPattern> out;
    for (const auto& spec : kPatterns) {
      auto regex = PyRegex::Compile(spec.pattern);
      // The patterns are constants; a failure here is a programming error caught by the tests.
      if (!regex) continue;
      out.push_back(
          CompiledPattern{std::string("<") + spec.name + ">", spec.required ? spec.required : "", std::move(*regex)});
    }
    return out;
  }();
  return patterns;
}

bool IsLineBreak(char32_t cp) {
  return cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || cp == 0x1C || cp == 0x1D || cp == 0x1E || cp == 0x85 ||
         cp == 0x2028 || cp == 0x2029;
}

}  // namespace

std::string ParameterizeMessage(std::string_view text) {
  const auto& patterns = Patterns();
  std::array<bool, 256> present{};
  for (const char c : text) present[static_cast<unsigned char>(c)] = true;
  // Which patterns can occur in this text at all.
  std::vector<const CompiledPattern*> candidates;
  candidates.reserve(patterns.size());
  for (const auto& pattern : patterns) {
    bool possible = pattern.required.empty();
    for (const char c : pattern.required) possible = possible || present[static_cast<unsigned char>(c)];
    if (possible) candidates.push_back(&pattern);
  }
  if (candidates.empty()) return std::string(text);

  std::vector<PyRegex::Memo> memos(candidates.size());
  std::string out;
  std::size_t last = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto byte = static_cast<unsigned char>(text[pos]);
    bool replaced = false;
    for (std::size_t c = 0; c < candidates.size(); ++c) {
      const CompiledPattern* pattern = candidates[c];
      if (!pattern->regex.MayStartWith(byte)) continue;
      const auto end = pattern->regex.ScanAt(text, pos, memos[c]);
      if (!end || *end == pos) continue;
      out.append(text.substr(last, pos - last));
      out.append(pattern->placeholder);
      pos = last = *end;
      replaced = true;
      break;
    }
    if (replaced) continue;
    std::size_t length = 0;
    DecodeUtf8At(text, pos, &length);
    pos += length;
  }
  if (last == 0) return std::string(text);
  out.append(text.substr(last));
  return out;
}

std::string NormalizeMessageForGrouping(std::string_view message) {
  // Python's str.splitlines(), keeping the first two lines that are not blank.
  std::string trimmed;
  int kept = 0;
  std::size_t line_start = 0;
  std::size_t pos = 0;
  const auto take_line = [&](std::size_t end) {
    if (kept >= 2) return;
    const std::string_view line = message.substr(line_start, end - line_start);
    if (StripPython(line).empty()) return;
    if (kept > 0) trimmed += '\n';
    trimmed.append(line);
    ++kept;
  };
  while (pos < message.size()) {
    std::size_t length = 0;
    const char32_t cp = DecodeUtf8At(message, pos, &length);
    if (IsLineBreak(cp)) {
      take_line(pos);
      pos += length;
      if (cp == '\r' && pos < message.size() && message[pos] == '\n') ++pos;
      line_start = pos;
    } else {
      pos += length;
    }
  }
  if (line_start < message.size()) take_line(message.size());
  if (trimmed != message) trimmed += "...";
  return ParameterizeMessage(trimmed);
}

}  // namespace rookery::grouping::detail
