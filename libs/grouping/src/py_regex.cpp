#include "py_regex.hpp"

#include <memory>
#include <utility>

namespace rookery::grouping::detail {
namespace {

// Enough for any realistic message; beyond it a single start position gives up instead of
// stalling the worker (Python would keep going).
constexpr std::size_t kStepBudget = 200000;
constexpr int kInfinite = -1;

void SetBit(std::array<std::uint64_t, 2>& bits, unsigned c) {
  bits[c >> 6] |= std::uint64_t{1} << (c & 63);
}
bool GetBit(const std::array<std::uint64_t, 2>& bits, unsigned c) {
  return (bits[c >> 6] >> (c & 63)) & 1U;
}

struct Node {
  enum class Kind { kEmpty, kByte, kClass, kAny, kConcat, kAlternate, kRepeat, kAssert, kLook };
  Kind kind = Kind::kEmpty;
  unsigned char byte = 0;
  std::uint32_t class_index = 0;
  PyRegex::Op assertion = PyRegex::Op::kWordBoundary;
  std::vector<Node> children;
  int min = 1;
  int max = 1;
  bool greedy = true;
  bool look_behind = false;
  bool look_negated = false;
};

bool IsVerboseSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsAsciiDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

class PyRegexCompiler {
 public:
  PyRegexCompiler(std::string_view pattern, PyRegex& regex) : pattern_(pattern), regex_(regex) {}

  Expected<PyRegex, std::string> Run() {
    if (pattern_.substr(0, 4) == "(?x)") {
      verbose_ = true;
      pos_ = 4;
    }
    Node root;
    if (auto error = ParseAlternation(root); !error.empty()) return Fail(error);
    SkipVerbose();
    if (pos_ != pattern_.size()) return Fail("unbalanced parenthesis");
    regex_.programs_.emplace_back();
    Emit(root, 0);
    regex_.programs_[0].push_back(PyRegex::Inst{PyRegex::Op::kMatch});
    if (!error_.empty()) return Fail(error_);
    ComputeFirstBytes();
    return std::move(regex_);
  }

 private:
  Unexpected<std::string> Fail(const std::string& message) const {
    return MakeUnexpected("regex error at " + std::to_string(pos_) + ": " + message);
  }

  bool AtEnd() const { return pos_ >= pattern_.size(); }
  char Peek() const { return pattern_[pos_]; }

  void SkipVerbose() {
    if (!verbose_) return;
    while (!AtEnd()) {
      if (IsVerboseSpace(Peek())) {
        ++pos_;
      } else if (Peek() == '#') {
        while (!AtEnd() && Peek() != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  std::string ParseAlternation(Node& out) {
    Node alternate;
    alternate.kind = Node::Kind::kAlternate;
    while (true) {
      Node concat;
      if (auto error = ParseConcat(concat); !error.empty()) return error;
      alternate.children.push_back(std::move(concat));
      SkipVerbose();
      if (!AtEnd() && Peek() == '|') {
        ++pos_;
        continue;
      }
      break;
    }
    if (alternate.children.size() == 1) {
      out = std::move(alternate.children.front());
    } else {
      out = std::move(alternate);
    }
    return {};
  }

  std::string ParseConcat(Node& out) {
    out.kind = Node::Kind::kConcat;
    while (true) {
      SkipVerbose();
      if (AtEnd() || Peek() == '|' || Peek() == ')') return {};
      Node atom;
      if (auto error = ParseAtom(atom); !error.empty()) return error;
      if (auto error = ParseQuantifier(atom); !error.empty()) return error;
      out.children.push_back(std::move(atom));
    }
  }

  // Parses `{n}`, `{n,}`, `{,m}` or `{n,m}` at pos_; anything else is a literal brace in Python.
  bool TryParseBraces(int& min, int& max) {
    std::size_t p = pos_ + 1;
    std::size_t start = p;
    while (p < pattern_.size() && IsAsciiDigit(pattern_[p])) ++p;
    const std::string low(pattern_.substr(start, p - start));
    std::string high;
    bool comma = false;
    if (p < pattern_.size() && pattern_[p] == ',') {
      comma = true;
      ++p;
      start = p;
      while (p < pattern_.size() && IsAsciiDigit(pattern_[p])) ++p;
      high.assign(pattern_.substr(start, p - start));
    }
    if (p >= pattern_.size() || pattern_[p] != '}') return false;
    if (low.empty() && !comma) return false;
    min = low.empty() ? 0 : std::stoi(low);
    max = comma ? (high.empty() ? kInfinite : std::stoi(high)) : min;
    pos_ = p + 1;
    return true;
  }

  std::string ParseQuantifier(Node& atom) {
    SkipVerbose();
    if (AtEnd()) return {};
    int min = 0;
    int max = 0;
    const char c = Peek();
    if (c == '*') {
      min = 0;
      max = kInfinite;
      ++pos_;
    } else if (c == '+') {
      min = 1;
      max = kInfinite;
      ++pos_;
    } else if (c == '?') {
      min = 0;
      max = 1;
      ++pos_;
    } else if (c == '{') {
      if (!TryParseBraces(min, max)) return {};
      if (max != kInfinite && max < min) return "min repeat greater than max repeat";
    } else {
      return {};
    }
    bool greedy = true;
    if (!AtEnd() && Peek() == '?') {
      greedy = false;
      ++pos_;
    }
    if (atom.kind == Node::Kind::kAssert || atom.kind == Node::Kind::kLook) return "nothing to repeat";
    Node repeat;
    repeat.kind = Node::Kind::kRepeat;
    repeat.min = min;
    repeat.max = max;
    repeat.greedy = greedy;
    repeat.children.push_back(std::move(atom));
    atom = std::move(repeat);
    SkipVerbose();
    if (!AtEnd() && (Peek() == '*' || Peek() == '+' || Peek() == '?')) return "multiple repeat";
    return {};
  }

  std::uint32_t AddClass(const PyRegex::CharClass& cls) {
    regex_.classes_.push_back(cls);
    return static_cast<std::uint32_t>(regex_.classes_.size() - 1);
  }

  static void AddCategory(PyRegex::CharClass& cls, char category) {
    switch (category) {
      case 'd':
        for (unsigned c = '0'; c <= '9'; ++c) SetBit(cls.ascii, c);
        break;
      case 'D':
        for (unsigned c = 0; c < 128; ++c) {
          if (c < '0' || c > '9') SetBit(cls.ascii, c);
        }
        cls.not_digit = true;
        break;
      case 'w':
        for (unsigned c = 0; c < 128; ++c) {
          if (IsPythonWord(c)) SetBit(cls.ascii, c);
        }
        cls.word = true;
        break;
      case 'W':
        for (unsigned c = 0; c < 128; ++c) {
          if (!IsPythonWord(c)) SetBit(cls.ascii, c);
        }
        cls.not_word = true;
        break;
      case 's':
        for (unsigned c = 0; c < 128; ++c) {
          if (IsPythonSpace(c)) SetBit(cls.ascii, c);
        }
        cls.space = true;
        break;
      case 'S':
        for (unsigned c = 0; c < 128; ++c) {
          if (!IsPythonSpace(c)) SetBit(cls.ascii, c);
        }
        cls.not_space = true;
        break;
      default: break;
    }
  }

  static bool IsCategory(char c) { return c == 'd' || c == 'D' || c == 'w' || c == 'W' || c == 's' || c == 'S'; }

  // Returns the byte for a simple escape (`\n`, `\.`, `\x41`, ...); `ok` is false if unsupported.
  std::optional<unsigned char> ParseSimpleEscape(char c, bool in_class) {
    switch (c) {
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      case 'f': return '\f';
      case 'v': return '\v';
      case 'a': return '\a';
      case 'b':
        if (in_class) return '\b';
        return std::nullopt;
      case 'x': {
        if (pos_ + 2 > pattern_.size()) return std::nullopt;
        const std::string hex(pattern_.substr(pos_, 2));
        pos_ += 2;
        return static_cast<unsigned char>(std::stoi(hex, nullptr, 16));
      }
      default: break;
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsAsciiDigit(c)) return std::nullopt;
    return static_cast<unsigned char>(c);
  }

  std::string ParseClass(Node& out) {
    PyRegex::CharClass cls;
    if (!AtEnd() && Peek() == '^') {
      cls.negated = true;
      ++pos_;
    }
    bool first = true;
    while (true) {
      if (AtEnd()) return "unterminated character set";
      char c = Peek();
      if (c == ']' && !first) {
        ++pos_;
        break;
      }
      first = false;
      ++pos_;
      unsigned lo = static_cast<unsigned char>(c);
      if (c == '\\') {
        if (AtEnd()) return "bad escape";
        const char e = Peek();
        ++pos_;
        if (IsCategory(e)) {
          AddCategory(cls, e);
          continue;
        }
        auto simple = ParseSimpleEscape(e, true);
        if (!simple) return std::string("unsupported escape \\") + e;
        lo = *simple;
      }
      unsigned hi = lo;
      if (pos_ + 1 < pattern_.size() && Peek() == '-' && pattern_[pos_ + 1] != ']') {
        ++pos_;
        char h = Peek();
        ++pos_;
        hi = static_cast<unsigned char>(h);
        if (h == '\\') {
          if (AtEnd()) return "bad escape";
          const char e = Peek();
          ++pos_;
          auto simple = ParseSimpleEscape(e, true);
          if (!simple) return "bad character range";
          hi = *simple;
        }
        if (hi < lo) return "bad character range";
      }
      if (lo >= 128 || hi >= 128) return "non-ASCII characters in classes are not supported";
      for (unsigned v = lo; v <= hi; ++v) SetBit(cls.ascii, v);
    }
    out.kind = Node::Kind::kClass;
    out.class_index = AddClass(cls);
    return {};
  }

  std::string ParseGroup(Node& out) {
    // pos_ is just after '('.
    bool keep = false;
    if (!AtEnd() && Peek() == '?') {
      ++pos_;
      if (AtEnd()) return "unexpected end of pattern";
      const char c = Peek();
      if (c == ':') {
        ++pos_;
      } else if (c == 'P') {
        ++pos_;
        if (AtEnd() || Peek() != '<') return "bad named group";
        const std::size_t name_begin = pos_ + 1;
        while (!AtEnd() && Peek() != '>') ++pos_;
        if (AtEnd()) return "bad named group";
        keep = pattern_.substr(name_begin, pos_ - name_begin) == "keep";
        ++pos_;
      } else if (c == '=' || c == '!') {
        ++pos_;
        out.kind = Node::Kind::kLook;
        out.look_negated = c == '!';
      } else if (c == '<' && pos_ + 1 < pattern_.size() && (pattern_[pos_ + 1] == '=' || pattern_[pos_ + 1] == '!')) {
        out.kind = Node::Kind::kLook;
        out.look_behind = true;
        out.look_negated = pattern_[pos_ + 1] == '!';
        pos_ += 2;
      } else {
        return "unsupported group syntax";
      }
    }
    Node body;
    if (auto error = ParseAlternation(body); !error.empty()) return error;
    SkipVerbose();
    if (AtEnd() || Peek() != ')') return "missing )";
    ++pos_;
    if (out.kind == Node::Kind::kLook) {
      out.children.push_back(std::move(body));
    } else if (keep) {
      // The end of the `keep` group is recorded by a save instruction after its body.
      Node save;
      save.kind = Node::Kind::kAssert;
      save.assertion = PyRegex::Op::kSave;
      out = Node{};
      out.kind = Node::Kind::kConcat;
      out.children.push_back(std::move(body));
      out.children.push_back(std::move(save));
    } else {
      out = std::move(body);
    }
    return {};
  }

  std::string ParseAtom(Node& out) {
    const char c = Peek();
    ++pos_;
    switch (c) {
      case '(': return ParseGroup(out);
      case '[': return ParseClass(out);
      case '.': out.kind = Node::Kind::kAny; return {};
      case '^':
        out.kind = Node::Kind::kAssert;
        out.assertion = PyRegex::Op::kBeginText;
        return {};
      case '$':
        out.kind = Node::Kind::kAssert;
        out.assertion = PyRegex::Op::kEndText;
        return {};
      case '*':
      case '+':
      case '?': return "nothing to repeat";
      case '{': {
        int min = 0;
        int max = 0;
        --pos_;
        if (TryParseBraces(min, max)) return "nothing to repeat";
        ++pos_;
        out.kind = Node::Kind::kByte;
        out.byte = '{';
        return {};
      }
      case '\\': {
        if (AtEnd()) return "bad escape (end of pattern)";
        const char e = Peek();
        ++pos_;
        if (e == 'b' || e == 'B') {
          out.kind = Node::Kind::kAssert;
          out.assertion = e == 'b' ? PyRegex::Op::kWordBoundary : PyRegex::Op::kNotWordBoundary;
          return {};
        }
        if (IsCategory(e)) {
          PyRegex::CharClass cls;
          AddCategory(cls, e);
          out.kind = Node::Kind::kClass;
          out.class_index = AddClass(cls);
          return {};
        }
        auto simple = ParseSimpleEscape(e, false);
        if (!simple) return std::string("unsupported escape \\") + e;
        out.kind = Node::Kind::kByte;
        out.byte = *simple;
        return {};
      }
      default:
        out.kind = Node::Kind::kByte;
        out.byte = static_cast<unsigned char>(c);
        return {};
    }
  }

  // Width in code points of a fixed-width node, or -1.
  static int FixedWidth(const Node& node) {
    switch (node.kind) {
      case Node::Kind::kEmpty:
      case Node::Kind::kAssert:
      case Node::Kind::kLook: return 0;
      case Node::Kind::kByte: return (node.byte & 0xC0) == 0x80 ? 0 : 1;
      case Node::Kind::kClass:
      case Node::Kind::kAny: return 1;
      case Node::Kind::kConcat: {
        int total = 0;
        for (const auto& child : node.children) {
          const int w = FixedWidth(child);
          if (w < 0) return -1;
          total += w;
        }
        return total;
      }
      case Node::Kind::kAlternate: {
        int width = -2;
        for (const auto& child : node.children) {
          const int w = FixedWidth(child);
          if (w < 0 || (width != -2 && w != width)) return -1;
          width = w;
        }
        return width < 0 ? 0 : width;
      }
      case Node::Kind::kRepeat: {
        if (node.min != node.max) return -1;
        const int w = FixedWidth(node.children.front());
        return w < 0 ? -1 : w * node.min;
      }
    }
    return -1;
  }

  PyRegex::Program& Prog(std::uint32_t program) { return regex_.programs_[program]; }
  std::uint32_t Here(std::uint32_t program) { return static_cast<std::uint32_t>(Prog(program).size()); }
  std::uint32_t Add(std::uint32_t program, PyRegex::Inst inst) {
    Prog(program).push_back(inst);
    return Here(program) - 1;
  }

  void Emit(const Node& node, std::uint32_t program) {
    switch (node.kind) {
      case Node::Kind::kEmpty: return;
      case Node::Kind::kByte: {
        PyRegex::Inst inst{PyRegex::Op::kByte};
        inst.byte = node.byte;
        Add(program, inst);
        return;
      }
      case Node::Kind::kClass: {
        PyRegex::Inst inst{PyRegex::Op::kClass};
        inst.x = node.class_index;
        Add(program, inst);
        return;
      }
      case Node::Kind::kAny: Add(program, PyRegex::Inst{PyRegex::Op::kAny}); return;
      case Node::Kind::kAssert: Add(program, PyRegex::Inst{node.assertion}); return;
      case Node::Kind::kConcat:
        for (const auto& child : node.children) Emit(child, program);
        return;
      case Node::Kind::kAlternate: {
        // split L1, next; L1: a; jmp end; next: split L2, next2; ...
        std::vector<std::uint32_t> jumps;
        for (std::size_t i = 0; i < node.children.size(); ++i) {
          if (i + 1 < node.children.size()) {
            const std::uint32_t split = Add(program, PyRegex::Inst{PyRegex::Op::kSplit});
            Prog(program)[split].x = Here(program);
            Emit(node.children[i], program);
            jumps.push_back(Add(program, PyRegex::Inst{PyRegex::Op::kJump}));
            Prog(program)[split].y = Here(program);
          } else {
            Emit(node.children[i], program);
          }
        }
        for (const auto jump : jumps) Prog(program)[jump].x = Here(program);
        return;
      }
      case Node::Kind::kRepeat: {
        const Node& body = node.children.front();
        for (int i = 0; i < node.min; ++i) Emit(body, program);
        if (node.max == kInfinite) {
          const std::uint32_t split = Add(program, PyRegex::Inst{PyRegex::Op::kSplit});
          const std::uint32_t body_start = Here(program);
          Emit(body, program);
          PyRegex::Inst jump{PyRegex::Op::kJump};
          jump.x = split;
          Add(program, jump);
          SetSplit(program, split, body_start, Here(program), node.greedy);
        } else {
          std::vector<std::uint32_t> splits;
          for (int i = node.min; i < node.max; ++i) {
            splits.push_back(Add(program, PyRegex::Inst{PyRegex::Op::kSplit}));
            Emit(body, program);
          }
          const std::uint32_t end = Here(program);
          for (const auto split : splits) SetSplit(program, split, split + 1, end, node.greedy);
        }
        return;
      }
      case Node::Kind::kLook: {
        const Node& body = node.children.front();
        int width = 0;
        if (node.look_behind) {
          width = FixedWidth(body);
          if (width < 0) {
            error_ = "look-behind requires fixed-width pattern";
            return;
          }
        }
        const auto sub = static_cast<std::uint32_t>(regex_.programs_.size());
        regex_.programs_.emplace_back();
        Emit(body, sub);
        regex_.programs_[sub].push_back(PyRegex::Inst{PyRegex::Op::kMatch});
        PyRegex::Inst inst{PyRegex::Op::kLook};
        inst.x = sub;
        inst.y = static_cast<std::uint32_t>(width);
        inst.look_behind = node.look_behind;
        inst.look_negated = node.look_negated;
        Add(program, inst);
        return;
      }
    }
  }

  void SetSplit(std::uint32_t program, std::uint32_t split, std::uint32_t take, std::uint32_t skip, bool greedy) {
    Prog(program)[split].x = greedy ? take : skip;
    Prog(program)[split].y = greedy ? skip : take;
  }

  // Bytes that can start a match, following epsilon edges from the entry of program 0.
  void ComputeFirstBytes() {
    const PyRegex::Program& program = regex_.programs_[0];
    std::vector<bool> seen(program.size(), false);
    std::vector<std::uint32_t> work{0};
    auto& first = regex_.first_bytes_;
    const auto add = [&first](unsigned c) { first[c >> 6] |= std::uint64_t{1} << (c & 63); };
    while (!work.empty()) {
      const std::uint32_t pc = work.back();
      work.pop_back();
      if (pc >= program.size() || seen[pc]) continue;
      seen[pc] = true;
      const PyRegex::Inst& inst = program[pc];
      switch (inst.op) {
        case PyRegex::Op::kByte: add(inst.byte); break;
        case PyRegex::Op::kClass: {
          const auto& cls = regex_.classes_[inst.x];
          for (unsigned c = 0; c < 128; ++c) {
            if (GetBit(cls.ascii, c) != cls.negated) add(c);
          }
          for (unsigned c = 128; c < 256; ++c) add(c);
          break;
        }
        case PyRegex::Op::kAny:
          for (unsigned c = 0; c < 256; ++c) {
            if (c != '\n') add(c);
          }
          break;
        case PyRegex::Op::kMatch:
          for (unsigned c = 0; c < 256; ++c) add(c);
          break;
        case PyRegex::Op::kSplit:
          work.push_back(inst.x);
          work.push_back(inst.y);
          break;
        case PyRegex::Op::kJump: work.push_back(inst.x); break;
        default: work.push_back(pc + 1); break;
      }
    }
  }

  std::string_view pattern_;
  PyRegex& regex_;
  std::size_t pos_ = 0;
  bool verbose_ = false;
  std::string error_;
};

Expected<PyRegex, std::string> PyRegex::Compile(std::string_view pattern) {
  PyRegex regex;
  PyRegexCompiler compiler(pattern, regex);
  return compiler.Run();
}

char32_t DecodeUtf8At(std::string_view text, std::size_t pos, std::size_t* length) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  const auto continuation = [&](std::size_t i) {
    return pos + i < text.size() && (static_cast<unsigned char>(text[pos + i]) & 0xC0) == 0x80;
  };
  const auto bits = [&](std::size_t i) {
    return static_cast<char32_t>(static_cast<unsigned char>(text[pos + i]) & 0x3F);
  };
  if (b0 < 0x80) {
    *length = 1;
    return b0;
  }
  if ((b0 & 0xE0) == 0xC0 && continuation(1)) {
    *length = 2;
    return (static_cast<char32_t>(b0 & 0x1F) << 6) | bits(1);
  }
  if ((b0 & 0xF0) == 0xE0 && continuation(1) && continuation(2)) {
    *length = 3;
    return (static_cast<char32_t>(b0 & 0x0F) << 12) | (bits(1) << 6) | bits(2);
  }
  if ((b0 & 0xF8) == 0xF0 && continuation(1) && continuation(2) && continuation(3)) {
    *length = 4;
    return (static_cast<char32_t>(b0 & 0x07) << 18) | (bits(1) << 12) | (bits(2) << 6) | bits(3);
  }
  // Invalid UTF-8: one byte, classified as a symbol.
  *length = 1;
  return 0xFFFD;
}

char32_t DecodeUtf8Before(std::string_view text, std::size_t pos, std::size_t* length) {
  std::size_t start = pos - 1;
  std::size_t steps = 0;
  while (start > 0 && steps < 3 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
    --start;
    ++steps;
  }
  std::size_t decoded_length = 0;
  const char32_t cp = DecodeUtf8At(text, start, &decoded_length);
  if (start + decoded_length != pos) {
    *length = 1;
    return 0xFFFD;
  }
  *length = decoded_length;
  return cp;
}

bool IsPythonSpace(char32_t cp) {
  if (cp < 128) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Python's \w is "alphanumeric in Unicode, or underscore". Without Unicode tables we take every
// code point above Latin-1 as a word character except the punctuation, symbol and space blocks
// that realistically show up in error messages (quotes, dashes, arrows, currency, box drawing,
// CJK punctuation, emoji).
bool IsPythonWord(char32_t cp) {
  if (cp < 128) {
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_';
  }
  if (cp < 0x100) {
    return cp == 0xAA || cp == 0xB2 || cp == 0xB3 || cp == 0xB5 || cp == 0xB9 || cp == 0xBA ||
           (cp >= 0xBC && cp <= 0xBE) || (cp >= 0xC0 && cp != 0xD7 && cp != 0xF7);
  }
  if (cp == 0xFFFD) return false;
  if (cp >= 0x0300 && cp <= 0x036F) return false;  // combining marks
  if (cp >= 0x2000 && cp <= 0x206F) return false;  // general punctuation
  if (cp >= 0x20A0 && cp <= 0x20CF) return false;  // currency
  if (cp >= 0x2190 && cp <= 0x245F) return false;  // arrows, math, technical
  if (cp >= 0x2500 && cp <= 0x2775) return false;  // box drawing, shapes, dingbats
  if (cp >= 0x2794 && cp <= 0x2BFF) return false;  // arrows and symbols
  if (cp >= 0x2E00 && cp <= 0x2E7F) return false;  // supplemental punctuation
  if (cp >= 0x3000 && cp <= 0x3004) return false;  // CJK symbols and punctuation (part)
  if (cp >= 0x3008 && cp <= 0x3020) return false;
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;  // CJK compatibility forms
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;  // fullwidth punctuation
  if (cp >= 0xFF1A && cp <= 0xFF20) return false;
  if (cp >= 0xFF3B && cp <= 0xFF40) return false;
  if (cp >= 0xFF5B && cp <= 0xFF65) return false;
  if (cp >= 0xFFF0 && cp <= 0xFFFF) return false;    // specials
  if (cp >= 0x1F000 && cp <= 0x1FAFF) return false;  // emoji and pictographs
  return true;
}

bool PyRegex::ClassMatches(const CharClass& cls, char32_t cp) const {
  bool member = false;
  if (cp < 128) {
    member = GetBit(cls.ascii, static_cast<unsigned>(cp));
  } else {
    const bool word = IsPythonWord(cp);
    const bool space = IsPythonSpace(cp);
    member = (cls.word && word) || (cls.not_word && !word) || (cls.space && space) || (cls.not_space && !space) ||
             cls.not_digit;
  }
  return member != cls.negated;
}

namespace {

struct Thread {
  std::uint32_t pc;
  std::size_t pos;
  std::size_t mark;
};

thread_local std::vector<Thread> t_stack;

}  // namespace

std::optional<PyRegex::RunResult> PyRegex::Run(std::uint32_t program_index, std::string_view text, std::size_t start,
                                               std::optional<std::size_t> required_end, std::size_t& budget,
                                               Memo* memo) const {
  const Program& program = programs_[program_index];
  std::vector<Thread>& stack = t_stack;
  const std::size_t base = stack.size();
  stack.push_back(Thread{0, start, start});
  const auto word_at = [&text](std::size_t pos) {
    std::size_t length = 0;
    return pos < text.size() && IsPythonWord(DecodeUtf8At(text, pos, &length));
  };
  const auto word_before = [&text](std::size_t pos) {
    std::size_t length = 0;
    return pos > 0 && IsPythonWord(DecodeUtf8Before(text, pos, &length));
  };
  while (stack.size() > base) {
    Thread thread = stack.back();
    stack.pop_back();
    while (true) {
      if (memo != nullptr) {
        if (memo->TestAndSet(thread.pc, thread.pos)) break;
      } else {
        if (budget == 0) {
          stack.resize(base);
          return std::nullopt;
        }
        --budget;
      }
      const Inst& inst = program[thread.pc];
      bool ok = true;
      switch (inst.op) {
        case Op::kByte:
          ok = thread.pos < text.size() && static_cast<unsigned char>(text[thread.pos]) == inst.byte;
          if (ok) {
            ++thread.pos;
            ++thread.pc;
          }
          break;
        case Op::kClass:
        case Op::kAny: {
          if (thread.pos >= text.size()) {
            ok = false;
            break;
          }
          std::size_t length = 0;
          const char32_t cp = DecodeUtf8At(text, thread.pos, &length);
          ok = inst.op == Op::kAny ? cp != '\n' : ClassMatches(classes_[inst.x], cp);
          if (ok) {
            thread.pos += length;
            ++thread.pc;
          }
          break;
        }
        case Op::kSplit:
          stack.push_back(Thread{inst.y, thread.pos, thread.mark});
          thread.pc = inst.x;
          break;
        case Op::kJump: thread.pc = inst.x; break;
        case Op::kWordBoundary:
        case Op::kNotWordBoundary: {
          const bool boundary = word_before(thread.pos) != word_at(thread.pos);
          ok = boundary == (inst.op == Op::kWordBoundary);
          ++thread.pc;
          break;
        }
        case Op::kBeginText:
          ok = thread.pos == 0;
          ++thread.pc;
          break;
        case Op::kEndText:
          // Python's `$` also matches before a final newline.
          ok = thread.pos == text.size() || (thread.pos + 1 == text.size() && text[thread.pos] == '\n');
          ++thread.pc;
          break;
        case Op::kLook: {
          bool matched = false;
          if (inst.look_behind) {
            std::size_t from = thread.pos;
            bool possible = true;
            for (std::uint32_t i = 0; i < inst.y; ++i) {
              if (from == 0) {
                possible = false;
                break;
              }
              std::size_t length = 0;
              DecodeUtf8Before(text, from, &length);
              from -= length;
            }
            matched = possible && Run(inst.x, text, from, thread.pos, budget).has_value();
          } else {
            matched = Run(inst.x, text, thread.pos, std::nullopt, budget).has_value();
          }
          ok = matched != inst.look_negated;
          ++thread.pc;
          break;
        }
        case Op::kSave:
          thread.mark = thread.pos;
          ++thread.pc;
          break;
        case Op::kMatch:
          if (!required_end || *required_end == thread.pos) {
            stack.resize(base);
            return RunResult{thread.pos, thread.mark};
          }
          ok = false;
          break;
      }
      if (!ok) break;
    }
  }
  return std::nullopt;
}

void PyRegex::Memo::Reset(std::size_t program_size, std::size_t text_size) {
  program_size_ = program_size;
  bits_.assign((program_size * (text_size + 1) + 63) / 64, 0);
}

void PyRegex::Memo::Forget(std::size_t pos) {
  for (std::size_t pc = 0; pc < program_size_; ++pc) {
    const std::size_t bit = pos * program_size_ + pc;
    bits_[bit / 64] &= ~(std::uint64_t{1} << (bit % 64));
  }
}

bool PyRegex::Memo::TestAndSet(std::uint32_t pc, std::size_t pos) {
  const std::size_t bit = pos * program_size_ + pc;
  std::uint64_t& word = bits_[bit / 64];
  const std::uint64_t mask = std::uint64_t{1} << (bit % 64);
  const bool seen = (word & mask) != 0;
  word |= mask;
  return seen;
}

std::optional<std::size_t> PyRegex::ScanAt(std::string_view text, std::size_t pos, Memo& memo) const {
  // Cheap attempts run without bookkeeping; one that gets expensive is redone with the memo.
  constexpr std::size_t kPlainBudget = 2000;
  std::optional<RunResult> result;
  std::size_t budget = kPlainBudget;
  if (!memo.Active()) {
    result = Run(0, text, pos, std::nullopt, budget);
    if (result || budget > 0) return result ? std::optional<std::size_t>(result->end) : std::nullopt;
    memo.Reset(programs_[0].size(), text.size());
  }
  budget = kStepBudget;
  result = Run(0, text, pos, std::nullopt, budget, &memo);
  if (!result) return std::nullopt;
  memo.Forget(result->end);
  return result->end;
}

std::optional<std::size_t> PyRegex::MatchAt(std::string_view text, std::size_t pos) const {
  std::size_t budget = kStepBudget;
  const auto result = Run(0, text, pos, std::nullopt, budget);
  if (!result) return std::nullopt;
  return result->end;
}

std::string PyRegex::ReplaceKeeping(std::string_view text, std::string_view suffix) const {
  std::string out;
  std::size_t last = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (MayStartWith(static_cast<unsigned char>(text[pos]))) {
      std::size_t budget = kStepBudget;
      if (const auto result = Run(0, text, pos, std::nullopt, budget); result && result->end > pos) {
        out.append(text.substr(last, pos - last));
        out.append(text.substr(pos, result->mark - pos));
        out.append(suffix);
        pos = last = result->end;
        continue;
      }
    }
    std::size_t length = 0;
    DecodeUtf8At(text, pos, &length);
    pos += length;
  }
  out.append(text.substr(last));
  return out;
}

bool PyRegex::Search(std::string_view text) const {
  for (std::size_t pos = 0; pos <= text.size(); ++pos) {
    if (pos < text.size() && !MayStartWith(static_cast<unsigned char>(text[pos]))) continue;
    if (MatchAt(text, pos)) return true;
  }
  return false;
}

std::string PyRegex::Replace(std::string_view text, std::string_view replacement) const {
  std::string out;
  std::size_t last = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::optional<std::size_t> end;
    if (pos == text.size() || MayStartWith(static_cast<unsigned char>(text[pos]))) end = MatchAt(text, pos);
    if (end) {
      out.append(text.substr(last, pos - last));
      out.append(replacement);
      last = *end;
      if (*end > pos) {
        pos = *end;
        continue;
      }
    }
    if (pos == text.size()) break;
    std::size_t length = 0;
    DecodeUtf8At(text, pos, &length);
    pos += length;
  }
  out.append(text.substr(last));
  return out;
}

}  // namespace rookery::grouping::detail
