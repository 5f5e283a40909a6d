#include "function_names.hpp"

#include <algorithm>
#include <functional>
#include <vector>

#include "py_regex.hpp"

namespace rookery::grouping::detail {
namespace {

// Placeholders Sentry swaps in while balancing brackets, so that `operator<` and friends do not
// open a generic argument list. The same code points are used so inputs that already contain
// them come out the same way.
constexpr std::string_view kLeftAngle = "\u27e8";  // ⟨
constexpr std::string_view kCallOp = "\u25ef";     // ◯
constexpr std::string_view kArrow = "\u27ff";      // ⟿
constexpr std::string_view kAnonNs = "\u3014anonymousnamespace\u3015";

const PyRegex& LambdaRegex() {
  static const PyRegex regex = *PyRegex::Compile(R"((?x)
      (?: \{ lambda\(.*?\) \#\d+ \} )   # gcc
    | (?: \b lambda_[a-f0-9]{32} \b )   # msvc
    | (?: \$_\d+\b )                    # clang
  )");
  return regex;
}

const PyRegex& AnonNamespaceRegex() {
  static const PyRegex regex = *PyRegex::Compile(R"(\?A0x[a-f0-9]{8}::)");
  return regex;
}

std::string ReplaceAll(std::string text, std::string_view from, std::string_view to) {
  std::size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

std::string_view RStripPython(std::string_view text) {
  while (!text.empty()) {
    std::size_t length = 0;
    const char32_t cp = DecodeUtf8Before(text, text.size(), &length);
    if (!IsPythonSpace(cp)) break;
    text.remove_suffix(length);
  }
  return text;
}

using Replacement = std::function<std::string(std::string_view inner, std::size_t start)>;

// Removes every top-level `start...end` span and substitutes the replacement's result. Like
// Sentry's helper, an unbalanced closing delimiter drives the depth negative and swallows the rest.
std::string ReplaceEnclosed(std::string_view s, char start, char end, const Replacement& replacement) {
  if (s.find(start) == std::string_view::npos) return std::string(s);
  int depth = 0;
  std::string out;
  std::size_t pair_start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == start) {
      if (depth == 0) pair_start = i;
      ++depth;
    } else if (c == end) {
      --depth;
      if (depth == 0) out += replacement(s.substr(pair_start + 1, i - pair_start - 1), pair_start);
    } else if (depth == 0) {
      out += c;
    }
  }
  return out;
}

char ClosingFor(char c) {
  switch (c) {
    case '(': return ')';
    case '{': return '}';
    case '[': return ']';
    case '<': return '>';
    default: return 0;
  }
}

std::vector<std::string> SplitFuncTokens(std::string_view s) {
  bool has_break = false;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t length = 0;
    const char32_t cp = DecodeUtf8At(s, i, &length);
    if (IsPythonSpace(cp) || cp == '(' || cp == '{' || cp == '<' || cp == '[') {
      has_break = true;
      break;
    }
    i += length;
  }
  if (!s.empty() && !has_break) return {std::string(s)};

  std::vector<std::string> tokens;
  std::string buf;
  bool buf_open = false;
  std::vector<char> stack;
  std::size_t end = 0;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t length = 0;
    const char32_t cp = DecodeUtf8At(s, i, &length);
    const char c = cp < 128 ? static_cast<char>(cp) : '\0';
    if (ClosingFor(c) != 0) {
      stack.push_back(ClosingFor(c));
    } else if (!stack.empty() && c != '\0' && c == stack.back()) {
      stack.pop_back();
      if (stack.empty()) {
        buf.append(s.substr(end, i + length - end));
        buf_open = true;
        end = i + length;
      }
    } else if (stack.empty()) {
      if (IsPythonSpace(cp)) {
        if (buf_open) tokens.push_back(std::move(buf));
        buf.clear();
        buf_open = false;
      } else {
        buf.append(s.substr(end, i + length - end));
        buf_open = true;
      }
      end = i + length;
    }
    i += length;
  }
  if (buf_open) tokens.push_back(std::move(buf));
  return tokens;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsAsciiWordByte(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// `(\bconst\b|&)$`: the start of a trailing `const` word or `&`, if any.
std::optional<std::size_t> CppTrailer(std::string_view s) {
  if (EndsWith(s, "const")) {
    const std::size_t start = s.size() - 5;
    if (start == 0 || !IsAsciiWordByte(s[start - 1])) return start;
  }
  if (EndsWith(s, "&")) return s.size() - 1;
  return std::nullopt;
}

// Python-style negative indexing for the token arithmetic Sentry does.
const std::string* TokenAt(const std::vector<std::string>& tokens, long index) {
  const long size = static_cast<long>(tokens.size());
  if (index < 0) index += size;
  if (index < 0 || index >= size) return nullptr;
  return &tokens[static_cast<std::size_t>(index)];
}

long LastIndexOf(const std::vector<std::string>& tokens, std::string_view value) {
  for (long i = static_cast<long>(tokens.size()) - 1; i >= 0; --i) {
    if (tokens[static_cast<std::size_t>(i)] == value) return i;
  }
  return -1;
}

bool IsAsciiDigit(char c) {
  return c >= '0' && c <= '9';
}

std::string StripRustHash(std::string function) {
  // ::h[a-z0-9]{16}$
  if (function.size() >= 19) {
    const std::size_t start = function.size() - 19;
    bool ok = function.compare(start, 3, "::h") == 0;
    for (std::size_t i = start + 3; ok && i < function.size(); ++i) {
      const char c = function[i];
      ok = IsAsciiDigit(c) || (c >= 'a' && c <= 'z');
    }
    if (ok) function.resize(start);
  }
  return function;
}

std::string StripGnuVersion(std::string function) {
  // @@?GLIBC_([0-9.]+)$, leftmost match
  for (std::size_t at = function.find('@'); at != std::string::npos; at = function.find('@', at + 1)) {
    std::size_t p = at + 1;
    if (p < function.size() && function[p] == '@') ++p;
    if (function.compare(p, 6, "GLIBC_") != 0) continue;
    p += 6;
    std::size_t q = p;
    while (q < function.size() && (IsAsciiDigit(function[q]) || function[q] == '.')) ++q;
    if (q > p && q == function.size()) {
      function.resize(at);
      return function;
    }
  }
  return function;
}

std::string StripWindowsDecoration(std::string function) {
  // ^@?(.*?)@[0-9]+$
  const std::size_t at = function.rfind('@');
  if (at == std::string::npos || at + 1 == function.size()) return function;
  for (std::size_t i = at + 1; i < function.size(); ++i) {
    if (!IsAsciiDigit(function[i])) return function;
  }
  const std::size_t begin = (function[0] == '@' && at > 0) ? 1 : 0;
  if (function.substr(begin, at - begin).find('\n') != std::string::npos) return function;
  return function.substr(begin, at - begin);
}

std::string TrimNativeFunctionName(std::string_view input, std::string_view platform) {
  if (input == "<redacted>" || input == "<unknown>") return std::string(input);
  std::string function(StripPython(input));
  if (function.starts_with("[") || function.starts_with("+[") || function.starts_with("-[")) return function;

  function = ReplaceEnclosed(function, '[', ']', [](std::string_view value, std::size_t) {
    if (value.starts_with("clone .")) return std::string();
    return "[" + std::string(value) + "]";
  });
  function = std::string(RStripPython(function));

  while (auto trailer = CppTrailer(function)) {
    function = std::string(RStripPython(std::string_view(function).substr(0, *trailer)));
  }

  function = ReplaceAll(std::move(function), "operator<<",
                        std::string("operator") + std::string(kLeftAngle) + std::string(kLeftAngle));
  function = ReplaceAll(std::move(function), "operator<", std::string("operator") + std::string(kLeftAngle));
  function = ReplaceAll(std::move(function), "operator()", std::string("operator") + std::string(kCallOp));
  function = ReplaceAll(std::move(function), "operator->", std::string("operator") + std::string(kArrow));
  function = ReplaceAll(std::move(function), " -> ", " " + std::string(kArrow) + " ");
  function = ReplaceAll(std::move(function), "`anonymous namespace'", kAnonNs);

  if (function.find("lambda") != std::string::npos || function.find("$_") != std::string::npos) {
    function = LambdaRegex().Replace(function, "lambda");
  }
  if (function.find("?A0x") != std::string::npos) {
    function = AnonNamespaceRegex().Replace(function, std::string(kAnonNs) + "::");
  }

  function = ReplaceEnclosed(function, '(', ')', [](std::string_view value, std::size_t) {
    const std::string_view stripped = StripPython(value);
    if (stripped == "anonymous namespace" || stripped == "operator") return "(" + std::string(stripped) + ")";
    return std::string();
  });

  std::function<std::string(std::string_view, std::size_t)> process_generics;
  process_generics = [&process_generics](std::string_view value, std::size_t start) -> std::string {
    if (value == "lambda" || LambdaRegex().MatchAt(value, 0)) return "<" + std::string(value) + ">";
    if (start > 0) return "<T>";
    std::string inner(value);
    // ^([A-Z] as ): prefer the trait for blanket implementations.
    if (inner.size() >= 5 && inner[0] >= 'A' && inner[0] <= 'Z' && inner.compare(1, 4, " as ") == 0) {
      inner.erase(0, 5);
    }
    inner = ReplaceEnclosed(inner, '<', '>', process_generics);
    const std::size_t as = inner.find(" as ");
    return as == std::string::npos ? inner : inner.substr(0, as);
  };
  function = ReplaceEnclosed(function, '<', '>', process_generics);

  const bool is_thunk = function.find("thunk for ") != std::string::npos;
  std::vector<std::string> tokens = SplitFuncTokens(function);
  if (tokens.size() > 1 && tokens.back() == "<T>") {
    tokens.pop_back();
    tokens.back() += " <T>";
  }

  std::optional<std::string> func_token;
  if (function.find("initialization expression of") != std::string::npos) {
    const long of = LastIndexOf(tokens, "of");
    const std::string* token = of >= 0 ? TokenAt(tokens, of + 1) : nullptr;
    if (token != nullptr && *token == "static") token = TokenAt(tokens, of + 2);
    if (token != nullptr) {
      std::string value = *token;
      if (value.starts_with(":")) value.erase(0, 1);
      func_token = "initializer expression of " + value;
    } else if (!tokens.empty()) {
      func_token = tokens.back();
    }
  } else if (!tokens.empty()) {
    const long arrow = LastIndexOf(tokens, kArrow);
    const std::string* token = nullptr;
    if (arrow >= 0) {
      token = TokenAt(tokens, arrow - 1);
      if (token != nullptr && *token == "throws") token = TokenAt(tokens, arrow - 2);
    }
    func_token = token != nullptr ? *token : tokens.back();
  }

  if (func_token && !func_token->empty()) {
    if (func_token->starts_with("@") && (platform == "cocoa" || platform == "swift")) {
      func_token = std::string(is_thunk ? "thunk for " : "") + "closure";
    } else if (std::find(tokens.begin(), tokens.end(), "closure") != tokens.end() && *func_token != "closure") {
      func_token = "closure in " + *func_token;
    }
    function = ReplaceAll(std::move(*func_token), kLeftAngle, "<");
    function = ReplaceAll(std::move(function), kCallOp, "()");
    function = ReplaceAll(std::move(function), kArrow, "->");
    function = ReplaceAll(std::move(function), kAnonNs, "`anonymous namespace'");
  } else {
    function = std::string(input);
  }

  if (function.find("::h") != std::string::npos) function = StripRustHash(std::move(function));
  if (function.find("@GLIBC_") != std::string::npos) function = StripGnuVersion(std::move(function));
  if (function.find('@') != std::string::npos) function = StripWindowsDecoration(std::move(function));
  return function;
}

}  // namespace

Family FamilyOfPlatform(std::string_view platform) {
  if (platform == "objc" || platform == "cocoa" || platform == "swift" || platform == "native" || platform == "c") {
    return Family::kNative;
  }
  if (platform == "javascript" || platform == "node") return Family::kJavascript;
  return Family::kOther;
}

std::string_view StripPython(std::string_view text) {
  text = RStripPython(text);
  while (!text.empty()) {
    std::size_t length = 0;
    const char32_t cp = DecodeUtf8At(text, 0, &length);
    if (!IsPythonSpace(cp)) break;
    text.remove_prefix(length);
  }
  return text;
}

std::string TrimFunctionName(std::string_view function, std::string_view platform) {
  if (platform == "csharp") {
    const std::size_t pos = function.find(" (");
    return std::string(pos == std::string_view::npos ? function : function.substr(0, pos));
  }
  if (FamilyOfPlatform(platform) == Family::kNative) return TrimNativeFunctionName(function, platform);
  return std::string(function);
}

}  // namespace rookery::grouping::detail
