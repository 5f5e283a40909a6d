#include "rookery/notify/email.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>

#include "rookery/core/strings.hpp"

namespace rookery::notify {
namespace {

constexpr std::size_t kFoldAt = 78;         // RFC 5322 2.1.1 "SHOULD"
constexpr std::size_t kQpLineLimit = 76;    // RFC 2045 6.7, including the soft break's '='
constexpr std::size_t kWordLineLimit = 76;  // RFC 2047 2: a line holding encoded-words
constexpr std::size_t kMaxWordLength = 75;  // RFC 2047 2: one encoded-word
// The longest header atom kept as it is: with a header name of at most kMaxHeaderName characters
// the line stays under RFC 5322's 998 octets, folded or not.
constexpr std::size_t kMaxAtom = 900;
constexpr std::size_t kMaxHeaderName = 76;
constexpr std::string_view kWordPrefix = "=?UTF-8?B?";
constexpr std::string_view kWordSuffix = "?=";
constexpr std::string_view kCrlf = "\r\n";

std::string Base64(std::string_view bytes) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t chunk = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      chunk = (chunk << 8) | (j < n ? static_cast<unsigned char>(bytes[i + j]) : 0U);
    }
    for (std::size_t j = 0; j < 4; ++j) {
      out.push_back(j <= n ? kAlphabet[(chunk >> (18 - 6 * j)) & 0x3F] : '=');
    }
  }
  return out;
}

bool IsAtext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// RFC 5322 dot-atom-text: atext runs joined by single dots.
bool IsDotAtom(std::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.') return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '.') {
      if (text[i + 1] == '.') return false;
    } else if (!IsAtext(text[i])) {
      return false;
    }
  }
  return true;
}

bool IsDomainName(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  std::size_t start = 0;
  while (start <= domain.size()) {
    const std::size_t dot = std::min(domain.find('.', start), domain.size());
    const std::string_view label = domain.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
    start = dot + 1;
  }
  return true;
}

bool IsAscii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// Header text on one line: valid UTF-8, controls (CR and LF first of all) turned into spaces,
// runs of spaces folded into one. This is what makes header injection impossible.
std::string CleanHeaderText(std::string_view text) {
  const std::string utf8 = internal::SanitizeUtf8(text);
  std::string out;
  out.reserve(utf8.size());
  for (char c : utf8) {
    const auto byte = static_cast<unsigned char>(c);
    const char mapped = (byte < 0x20 || byte == 0x7F) ? ' ' : c;
    if (mapped == ' ' && (out.empty() || out.back() == ' ')) continue;
    out.push_back(mapped);
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::vector<std::string> SplitOnSpaces(std::string_view text) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t space = std::min(text.find(' ', start), text.size());
    if (space > start) words.emplace_back(text.substr(start, space - start));
    start = space + 1;
  }
  return words;
}

bool AllShorterThan(const std::vector<std::string>& atoms, std::size_t limit) {
  for (const auto& atom : atoms) {
    if (atom.size() >= limit) return false;
  }
  return true;
}

// Plain ASCII stays readable; anything else, text that would pass for an encoded-word, and words
// too long to fold are sent as encoded-words.
std::vector<std::string> UnstructuredAtoms(std::string_view value, std::size_t first_line_used) {
  const std::string clean = CleanHeaderText(value);
  if (IsAscii(clean) && clean.find("=?") == std::string::npos) {
    auto words = SplitOnSpaces(clean);
    if (AllShorterThan(words, kMaxAtom)) return words;
  }
  return internal::EncodeWords(clean, first_line_used);
}

std::vector<std::string> PhraseAtoms(std::string_view display_name, std::size_t first_line_used) {
  const std::string clean = CleanHeaderText(display_name);
  if (clean.empty()) return {};
  if (IsAscii(clean) && clean.find("=?") == std::string::npos && clean.size() < kMaxAtom) {
    bool plain = true;
    for (char c : clean) plain = plain && (IsAtext(c) || c == ' ');
    if (plain) return SplitOnSpaces(clean);
    std::string quoted = "\"";
    for (char c : clean) {
      if (c == '"' || c == '\\') quoted.push_back('\\');
      quoted.push_back(c);
    }
    quoted.push_back('"');
    return {quoted};
  }
  return internal::EncodeWords(clean, first_line_used);
}

// Appends the mailbox's atoms; the address goes in angle brackets only after a display name.
void AppendMailbox(std::vector<std::string>& atoms, const Mailbox& mailbox, std::size_t first_line_used) {
  auto phrase = PhraseAtoms(mailbox.display_name, first_line_used);
  if (phrase.empty()) {
    atoms.push_back(mailbox.address);
    return;
  }
  atoms.insert(atoms.end(), phrase.begin(), phrase.end());
  atoms.push_back("<" + mailbox.address + ">");
}

// "Name: atom atom\r\n atom\r\n": an atom moves to a continuation line when it would pass column
// 78, never the first one (a header line must carry some of its value).
void AppendHeader(std::string& out, std::string_view name, const std::vector<std::string>& atoms) {
  out += name;
  out += ':';
  std::size_t column = name.size() + 1;
  bool first = true;
  for (const auto& atom : atoms) {
    if (!first && column + 1 + atom.size() > kFoldAt) {
      out += kCrlf;
      column = 0;
    }
    out += ' ';
    out += atom;
    column += 1 + atom.size();
    first = false;
  }
  out += kCrlf;
}

bool IsReservedHeader(std::string_view name) {
  static constexpr std::array<std::string_view, 14> kReserved = {"From",
                                                                 "To",
                                                                 "Cc",
                                                                 "Bcc",
                                                                 "Subject",
                                                                 "Date",
                                                                 "Message-ID",
                                                                 "MIME-Version",
                                                                 "Content-Type",
                                                                 "Content-Transfer-Encoding",
                                                                 "List-Unsubscribe",
                                                                 "List-Unsubscribe-Post",
                                                                 "Auto-Submitted",
                                                                 "Sender"};
  for (auto reserved : kReserved) {
    if (EqualsIgnoreCase(name, reserved)) return true;
  }
  return false;
}

bool IsHeaderName(std::string_view name) {
  if (name.empty() || name.size() > kMaxHeaderName) return false;
  for (char c : name) {
    if (c < 33 || c > 126 || c == ':') return false;
  }
  return true;
}

bool IsHttpsUrl(std::string_view url) {
  if (!StartsWithIgnoreCase(url, "https://") || url.size() <= 8 || url.size() > kMaxAtom - 2) return false;
  for (char c : url) {
    if (c <= 32 || c >= 127 || c == '<' || c == '>' || c == '"') return false;
  }
  return true;
}

// Stable for the same message, so a retried alert is byte-for-byte the same mail. Quoted-printable
// never writes "=_", so no body can contain the boundary whatever its hash.
std::string Boundary(const Email& email) {
  std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a
  for (std::string_view part :
       {std::string_view(email.message_id), std::string_view(email.text_body), std::string_view(email.html_body)}) {
    for (char c : part) {
      hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    hash = (hash ^ 0xFFU) * 1099511628211ULL;
  }
  std::array<char, 17> hex{};
  std::snprintf(hex.data(), hex.size(), "%016llx", static_cast<unsigned long long>(hash));
  return "=_rookery_" + std::string(hex.data());
}

void AppendTextPart(std::string& out, std::string_view subtype, std::string_view body) {
  out += "Content-Type: text/";
  out += subtype;
  out += "; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
  // No CRLF after the body: in a multipart message it belongs to the next delimiter.
  out += internal::EncodeQuotedPrintable(internal::SanitizeUtf8(body));
}

Unexpected<EmailError> Fail(std::string detail) {
  return MakeUnexpected(EmailError{std::move(detail)});
}

}  // namespace

namespace internal {

std::string SanitizeUtf8(std::string_view text) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t length = Utf8SequenceLength(text, i);
    const bool valid = length > 0;
    if (valid) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

std::string EncodeQuotedPrintable(std::string_view text) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t column = 0;
  const auto emit = [&](std::string token) {
    if (column + token.size() > kQpLineLimit - 1) {
      out += "=\r\n";
      column = 0;
    }
    // A lone "." opening a line would end the SMTP DATA phase at a relay that forgot to
    // dot-stuff; encoded it is harmless everywhere.
    if (column == 0 && token == ".") token = "=2E";
    out += token;
    column += token.size();
  };
  const auto escaped = [&](unsigned char byte) { return std::string{'=', kHex[byte >> 4], kHex[byte & 0x0F]}; };
  std::size_t i = 0;
  while (i <= text.size()) {
    std::size_t end = i;
    while (end < text.size() && text[end] != '\r' && text[end] != '\n') ++end;
    for (std::size_t j = i; j < end; ++j) {
      const auto byte = static_cast<unsigned char>(text[j]);
      // Spaces and tabs stay literal except at a line's end, where transports may strip them.
      const bool blank = (byte == ' ' || byte == '\t') && j + 1 != end;
      const bool literal = blank || (byte >= 33 && byte <= 126 && byte != '=');
      emit(literal ? std::string(1, static_cast<char>(byte)) : escaped(byte));
    }
    if (end == text.size()) break;
    out += kCrlf;
    column = 0;
    i = end + ((text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n') ? 2 : 1);
  }
  return out;
}

std::vector<std::string> EncodeWords(std::string_view text, std::size_t first_line_used) {
  const auto bytes_for = [](std::size_t word_length) {
    const std::size_t base64 = (word_length - kWordPrefix.size() - kWordSuffix.size()) / 4 * 4;
    return base64 / 4 * 3;
  };
  // A 4-byte sequence must fit in a word; a first line too full for one spills past 76 instead.
  constexpr std::size_t kMinBytes = 4;
  std::size_t budget = kMaxWordLength;
  if (first_line_used < kWordLineLimit) budget = std::min(budget, kWordLineLimit - first_line_used);
  std::size_t max_bytes = budget > kWordPrefix.size() + kWordSuffix.size() ? bytes_for(budget) : 0;
  if (max_bytes < kMinBytes) max_bytes = bytes_for(kMaxWordLength);

  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = start;
    while (end < text.size()) {
      std::size_t next = end + 1;
      while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80) ++next;
      if (next - start > max_bytes) break;
      end = next;
    }
    if (end == start) end = start + 1;  // unreachable for valid UTF-8; guards the loop regardless
    words.push_back(std::string(kWordPrefix) + Base64(text.substr(start, end - start)) + std::string(kWordSuffix));
    start = end;
    max_bytes = bytes_for(kMaxWordLength);  // continuation lines hold " " and one word
  }
  return words;
}

}  // namespace internal

bool IsValidMailAddress(std::string_view address) {
  if (address.size() > 254) return false;
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return false;
  return IsDotAtom(address.substr(0, at)) && IsDomainName(address.substr(at + 1));
}

std::string FormatRfc5322Date(std::int64_t unix_seconds) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto seconds = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  std::array<char, 40> text{};
  std::snprintf(text.data(), text.size(), "%s, %02d %s %04d %02d:%02d:%02d +0000",
                kDays[static_cast<std::size_t>(tm.tm_wday) % 7], tm.tm_mday,
                kMonths[static_cast<std::size_t>(tm.tm_mon) % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return text.data();
}

Expected<BuiltEmail, EmailError> BuildEmail(const Email& email) {
  // Addresses also go into SMTP commands (MAIL FROM, RCPT TO), so they are refused, not cleaned.
  if (!IsValidMailAddress(email.from.address)) return Fail("invalid from address");
  if (email.to.empty()) return Fail("no recipients");
  for (const auto& mailbox : email.to) {
    if (!IsValidMailAddress(mailbox.address)) return Fail("invalid recipient address");
  }
  std::string_view message_id = email.message_id;
  if (message_id.size() >= 2 && message_id.front() == '<' && message_id.back() == '>') {
    message_id = message_id.substr(1, message_id.size() - 2);
  }
  const std::size_t id_at = message_id.rfind('@');
  if (message_id.size() > 250 || id_at == std::string_view::npos || !IsDotAtom(message_id.substr(0, id_at)) ||
      !IsDotAtom(message_id.substr(id_at + 1))) {
    return Fail("invalid Message-ID (expected id@domain)");
  }
  if (email.text_body.empty()) return Fail("empty text body");
  if (!email.list_unsubscribe_url.empty() && !IsHttpsUrl(email.list_unsubscribe_url)) {
    return Fail("List-Unsubscribe URL must be an https URL without spaces or angle brackets");
  }
  for (const auto& [name, value] : email.extra_headers) {
    if (!IsHeaderName(name)) return Fail("invalid header name");
    if (IsReservedHeader(name)) return Fail("header " + name + " is set by the builder");
  }

  BuiltEmail built;
  built.envelope_from = email.from.address;
  std::string& out = built.data;
  const std::int64_t date = email.date_unix_seconds != 0 ? email.date_unix_seconds : std::time(nullptr);
  out += "Date: " + FormatRfc5322Date(date) + "\r\n";
  std::vector<std::string> from;
  AppendMailbox(from, email.from, std::string_view("From: ").size());
  AppendHeader(out, "From", from);
  std::vector<std::string> to;
  for (std::size_t i = 0; i < email.to.size(); ++i) {
    // Later mailboxes start on whatever line the fold leaves; a full-length word fits any of them.
    AppendMailbox(to, email.to[i], i == 0 ? std::string_view("To: ").size() : kWordLineLimit);
    if (i + 1 < email.to.size()) to.back() += ',';
    built.envelope_to.push_back(email.to[i].address);
  }
  AppendHeader(out, "To", to);
  AppendHeader(out, "Subject", UnstructuredAtoms(email.subject, std::string_view("Subject: ").size()));
  out += "Message-ID: <" + std::string(message_id) + ">\r\n";
  // RFC 3834: keeps vacation responders and auto-forwarders from answering alerts.
  out += "Auto-Submitted: auto-generated\r\n";
  if (!email.list_unsubscribe_url.empty()) {
    out += "List-Unsubscribe: <" + email.list_unsubscribe_url + ">\r\n";
    out += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
  }
  for (const auto& [name, value] : email.extra_headers) {
    AppendHeader(out, name, UnstructuredAtoms(value, name.size() + 2));
  }
  out += "MIME-Version: 1.0\r\n";
  if (email.html_body.empty()) {
    AppendTextPart(out, "plain", email.text_body);
    if (!out.ends_with(kCrlf)) out += kCrlf;
    return built;
  }
  const std::string boundary = Boundary(email);
  out += "Content-Type: multipart/alternative;\r\n boundary=\"" + boundary + "\"\r\n\r\n";
  out += "This is a multi-part message in MIME format.";
  // RFC 2046 5.1.4: the last alternative is the preferred one, so HTML comes second.
  out += "\r\n--" + boundary + "\r\n";
  AppendTextPart(out, "plain", email.text_body);
  out += "\r\n--" + boundary + "\r\n";
  AppendTextPart(out, "html", email.html_body);
  out += "\r\n--" + boundary + "--\r\n";
  return built;
}

}  // namespace rookery::notify
