// Sentry's default data scrubber, without regular expressions: each string is scanned once, and
// most strings are let through by a cheap look at their bytes.
#include <algorithm>
#include <array>
#include <cctype>

#include "internal.hpp"
#include "rookery/core/strings.hpp"

namespace rookery::normalize::detail {
namespace {

// Relay's `@password` key pattern (case-insensitive substrings), plus the session and CSRF cookie
// names and the cookie headers that Sentry filters as well.
constexpr std::array<std::string_view, 18> kSensitiveKeyParts = {
    "password",  "passwd",     "passphrase",  "secret",      "api_key", "api-key", "apikey", "auth", "credentials",
    "mysql_pwd", "privatekey", "private_key", "private-key", "token",   "session", "cookie", "csrf", "xsrf"};
// Matched as whole keys only: short words that appear inside harmless keys.
constexpr std::array<std::string_view, 3> kSensitiveKeys = {"otp", "two_factor", "two-factor"};

constexpr const char* kPasswordRule = "@password:filter";
constexpr const char* kExtraFieldsRule = "strip-fields";
constexpr const char* kCreditCardRule = "@creditcard:filter";
constexpr const char* kUrlAuthRule = "@urlauth:legacy";
constexpr const char* kIpRule = "@ip:replace";

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}
bool IsUrlAuthChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '%' || c == '_' || c == '.' || c == '-';
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool LuhnValid(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

// Issuer prefixes and lengths, so that ids and millisecond timestamps that happen to pass the Luhn
// check (one in ten does) stay readable.
bool HasCardPrefix(std::string_view d) {
  const std::size_t n = d.size();
  const auto prefix = [&](std::size_t length) {
    int value = 0;
    for (std::size_t k = 0; k < length; ++k) value = value * 10 + (d[k] - '0');
    return value;
  };
  switch (d[0]) {
    case '4': return n == 13 || n == 16 || n == 19;                      // Visa
    case '5': return n == 16 && d[1] >= '1' && d[1] <= '5';              // Mastercard
    case '2': return n == 16 && prefix(4) >= 2221 && prefix(4) <= 2720;  // Mastercard 2-series
    case '3':
      if (d[1] == '4' || d[1] == '7') return n == 15;                                // American Express
      if (d[1] == '5') return n >= 16;                                               // JCB
      return (d[1] == '0' || d[1] == '6' || d[1] == '8' || d[1] == '9') && n >= 14;  // Diners
    case '6':                                                                        // Discover, UnionPay, Maestro
      return n >= 16 &&
             (d.substr(0, 4) == "6011" || d[1] == '5' || d[1] == '2' || (prefix(3) >= 644 && prefix(3) <= 649));
    default: return false;
  }
}

// A dotted quad starting at `i`; its end, or 0.
std::size_t MatchIpv4(std::string_view text, std::size_t i) {
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= text.size() || text[i] != '.') return 0;
      ++i;
    }
    std::size_t digits = 0;
    int value = 0;
    while (i < text.size() && IsDigit(text[i]) && digits < 4) {
      value = value * 10 + (text[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0 || digits > 3 || value > 255) return 0;
  }
  if (i < text.size() && IsWordChar(text[i])) return 0;
  return i;
}

}  // namespace

std::size_t CountChars(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool IsIpAddress(std::string_view text) {
  if (text.empty() || text.size() > 45) return false;
  if (text.find(':') == std::string_view::npos) return MatchIpv4(text, 0) == text.size() && IsDigit(text[0]);
  // IPv6: at most eight 16-bit groups (an IPv4 tail counts as two), one "::" standing for the rest.
  std::size_t groups = 0;
  bool compressed = false;
  std::size_t i = 0;
  if (text.substr(0, 2) == "::") {
    compressed = true;
    i = 2;
    if (i == text.size()) return true;
  } else if (text[0] == ':') {
    return false;
  }
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i])) != 0) ++i;
    if (i < text.size() && text[i] == '.') {
      if (MatchIpv4(text, start) != text.size()) return false;
      groups += 2;
      i = text.size();
      break;
    }
    if (i == start || i - start > 4) return false;
    ++groups;
    if (i == text.size()) break;
    if (text[i] != ':') return false;
    ++i;
    if (i < text.size() && text[i] == ':') {
      if (compressed) return false;
      compressed = true;
      ++i;
      if (i == text.size()) break;
    } else if (i == text.size()) {
      return false;
    }
  }
  return compressed ? groups < 8 : groups == 8;
}

struct Scrubber::Builder {
  std::string& out;
  std::size_t chars = 0;
  void Append(std::string_view text) {
    out.append(text);
    chars += CountChars(text);
  }
  void Replace(std::string_view replacement, const char* rule, std::vector<Remark>& remarks) {
    remarks.push_back({rule, 's', chars, chars + replacement.size(), true});
    Append(replacement);
  }
};

Scrubber::Scrubber(const ScrubbingConfig& config) : enabled_(config.enabled), scrub_ips_(config.scrub_ip_addresses) {
  for (const std::string& field : config.extra_fields) {
    const std::string_view trimmed = TrimWhitespace(field);
    if (!trimmed.empty()) extra_fields_.push_back(Lower(trimmed));
  }
  for (const std::string& field : config.safe_fields) {
    const std::string_view trimmed = TrimWhitespace(field);
    if (!trimmed.empty()) safe_fields_.push_back(Lower(trimmed));
  }
}

namespace {

// Whether `lower` contains one of kSensitiveKeyParts: one pass over the key, trying the parts only
// where one can start, instead of a search per part (this runs for every key of every event).
bool HasSensitivePart(std::string_view lower) {
  static constexpr auto kStarts = [] {
    std::array<bool, 256> starts{};
    for (std::string_view part : kSensitiveKeyParts) starts[static_cast<unsigned char>(part[0])] = true;
    return starts;
  }();
  for (std::size_t i = 0; i < lower.size(); ++i) {
    if (!kStarts[static_cast<unsigned char>(lower[i])]) continue;
    const std::string_view rest = lower.substr(i);
    for (std::string_view part : kSensitiveKeyParts) {
      if (part[0] == rest[0] && rest.starts_with(part)) return true;
    }
  }
  return false;
}

}  // namespace

const char* Scrubber::KeyRule(std::string_view key) const {
  if (!enabled_ || key.empty()) return nullptr;
  // Folded on the stack when short, as nearly every key is; Lower (std::tolower in the C locale
  // the services run in) folds ASCII letters only, as this does.
  char folded[64];
  std::string long_key;
  std::string_view lower;
  if (key.size() <= sizeof folded) {
    for (std::size_t i = 0; i < key.size(); ++i) {
      const char c = key[i];
      folded[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
    }
    lower = std::string_view(folded, key.size());
  } else {
    long_key = Lower(key);
    lower = long_key;
  }
  if (std::find(safe_fields_.begin(), safe_fields_.end(), lower) != safe_fields_.end()) return nullptr;
  if (HasSensitivePart(lower)) return kPasswordRule;
  for (std::string_view whole : kSensitiveKeys) {
    if (lower == whole) return kPasswordRule;
  }
  for (const std::string& part : extra_fields_) {
    if (lower.find(part) != std::string::npos) return kExtraFieldsRule;
  }
  return nullptr;
}

bool Scrubber::IsCardNumber(std::string_view digits) const {
  return enabled_ && digits.size() >= 13 && digits.size() <= 19 && HasCardPrefix(digits) && LuhnValid(digits);
}

void Scrubber::ScrubTextInto(std::string_view text, Builder& builder, std::vector<Remark>& remarks) const {
  std::size_t copied = 0;
  const auto flush = [&](std::size_t until) {
    builder.Append(text.substr(copied, until - copied));
    copied = until;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (IsDigit(c) && (i == 0 || !IsWordChar(text[i - 1]))) {
      if (enabled_) {
        // Digit groups joined by single spaces or dashes; the longest prefix of them that is a
        // card number and ends at a word boundary wins.
        std::array<char, 19> digits{};
        std::size_t count = 0, j = i, best_end = 0, first_group_end = i;
        while (first_group_end < text.size() && IsDigit(text[first_group_end])) ++first_group_end;
        bool overflow = false;
        while (j < text.size() && !overflow) {
          while (j < text.size() && IsDigit(text[j])) {
            if (count == digits.size()) {
              overflow = true;
              break;
            }
            digits[count++] = text[j++];
          }
          if (overflow) break;
          const bool boundary = j == text.size() || !IsWordChar(text[j]);
          if (boundary && IsCardNumber(std::string_view(digits.data(), count))) best_end = j;
          if (!boundary) break;
          if (j + 1 < text.size() && (text[j] == ' ' || text[j] == '-') && IsDigit(text[j + 1])) {
            ++j;
          } else {
            break;
          }
        }
        if (best_end != 0) {
          flush(i);
          builder.Replace(kFiltered, kCreditCardRule, remarks);
          copied = i = best_end;
          continue;
        }
        if (scrub_ips_) {
          if (const std::size_t end = MatchIpv4(text, i); end != 0) {
            flush(i);
            builder.Replace("[ip]", kIpRule, remarks);
            copied = i = end;
            continue;
          }
        }
        i = first_group_end;
        continue;
      }
      if (scrub_ips_) {
        if (const std::size_t end = MatchIpv4(text, i); end != 0) {
          flush(i);
          builder.Replace("[ip]", kIpRule, remarks);
          copied = i = end;
          continue;
        }
      }
      while (i < text.size() && IsDigit(text[i])) ++i;
      continue;
    }
    if (enabled_ && c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      // Legacy Sentry's URL_PASSWORD_RE: //user:password@ keeps the user.
      std::size_t j = i + 2;
      while (j < text.size() && IsUrlAuthChar(text[j])) ++j;
      if (j > i + 2 && j < text.size() && text[j] == ':') {
        const std::size_t password_start = ++j;
        while (j < text.size() && IsUrlAuthChar(text[j])) ++j;
        if (j > password_start && j < text.size() && text[j] == '@') {
          flush(password_start);
          builder.Replace(kFiltered, kUrlAuthRule, remarks);
          copied = i = j;
          continue;
        }
      }
      i += 2;
      continue;
    }
    ++i;
  }
  flush(text.size());
}

bool Scrubber::ScrubText(std::string_view text, std::string& out, std::vector<Remark>& remarks) const {
  if (!Active()) return false;
  // Nothing to find without 13 digits, a "//" or (for IP scrubbing) an IP-looking character.
  std::size_t digits = 0;
  bool slashes = false, ip_like = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (IsDigit(c)) {
      ++digits;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      slashes = true;
    } else if (c == ':') {
      ip_like = true;
    }
  }
  const bool maybe_card = enabled_ && digits >= 13;
  const bool maybe_url = enabled_ && slashes;
  const bool maybe_ip = scrub_ips_ && (digits >= 4 || ip_like);
  if (!maybe_card && !maybe_url && !maybe_ip) return false;
  const std::size_t before = remarks.size();
  out.clear();
  Builder builder{out};
  if (scrub_ips_ && text.find(':') != std::string_view::npos && IsIpAddress(TrimWhitespace(text))) {
    builder.Replace("[ip]", kIpRule, remarks);
  } else {
    ScrubTextInto(text, builder, remarks);
  }
  return remarks.size() != before;
}

void Scrubber::ScrubQueryInto(std::string_view text, Builder& builder, std::vector<Remark>& remarks) const {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('&', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view param = text.substr(start, end - start);
    const std::size_t equals = param.find('=');
    const char* rule = equals == std::string_view::npos ? nullptr : KeyRule(UrlDecode(param.substr(0, equals)));
    if (rule != nullptr && equals + 1 < param.size()) {
      builder.Append(param.substr(0, equals + 1));
      builder.Replace(kFiltered, rule, remarks);
    } else {
      ScrubTextInto(param, builder, remarks);
    }
    if (end == text.size()) break;
    builder.Append("&");
    start = end + 1;
  }
}

bool Scrubber::ScrubQuery(std::string_view text, std::string& out, std::vector<Remark>& remarks) const {
  if (!Active() || text.empty()) return false;
  const std::size_t before = remarks.size();
  out.clear();
  Builder builder{out};
  ScrubQueryInto(text, builder, remarks);
  return remarks.size() != before;
}

bool Scrubber::ScrubUrl(std::string_view text, std::string& out, std::vector<Remark>& remarks) const {
  const std::size_t question = text.find('?');
  if (question == std::string_view::npos) return ScrubText(text, out, remarks);
  if (!Active()) return false;
  const std::size_t hash = text.find('#', question);
  const std::size_t query_end = hash == std::string_view::npos ? text.size() : hash;
  const std::size_t before = remarks.size();
  out.clear();
  Builder builder{out};
  ScrubTextInto(text.substr(0, question + 1), builder, remarks);
  ScrubQueryInto(text.substr(question + 1, query_end - question - 1), builder, remarks);
  ScrubTextInto(text.substr(query_end), builder, remarks);
  return remarks.size() != before;
}

}  // namespace rookery::normalize::detail
