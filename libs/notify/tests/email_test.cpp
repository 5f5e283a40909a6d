#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "rookery/notify/email.hpp"

using rookery::notify::BuildEmail;
using rookery::notify::Email;
using rookery::notify::FormatRfc5322Date;
using rookery::notify::internal::EncodeQuotedPrintable;
using rookery::notify::internal::EncodeWords;
using rookery::notify::internal::SanitizeUtf8;

namespace {

// A deliberately independent reader of what the builder writes, strict where it matters: lines
// must end in CRLF, so splitting on "\r\n" leaves no stray CR or LF behind.
std::vector<std::string> SplitCrlf(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find("\r\n", start);
    if (end == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

struct Parsed {
  std::vector<std::string> raw_header_lines;
  std::multimap<std::string, std::string> headers;  // unfolded
  std::string body;
};

Parsed ParseMessage(const std::string& message) {
  Parsed parsed;
  const std::size_t split = message.find("\r\n\r\n");
  REQUIRE(split != std::string::npos);
  parsed.raw_header_lines = SplitCrlf(message.substr(0, split + 2));
  parsed.body = message.substr(split + 4);
  std::string name;
  std::string value;
  const auto flush = [&] {
    if (!name.empty()) parsed.headers.emplace(name, value);
  };
  for (const auto& line : parsed.raw_header_lines) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      value += line;  // unfolding removes only the CRLF
      continue;
    }
    flush();
    const std::size_t colon = line.find(':');
    REQUIRE(colon != std::string::npos);
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
  }
  flush();
  return parsed;
}

std::string Header(const Parsed& parsed, const std::string& name) {
  auto it = parsed.headers.find(name);
  return it == parsed.headers.end() ? std::string() : it->second;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string DecodeQp(const std::string& encoded) {
  std::string out;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '=') {
      out.push_back(encoded[i]);
      continue;
    }
    if (encoded.compare(i + 1, 2, "\r\n") == 0) {
      i += 2;
      continue;
    }
    REQUIRE(i + 2 < encoded.size());
    const int high = HexValue(encoded[i + 1]);
    const int low = HexValue(encoded[i + 2]);
    REQUIRE(high >= 0);
    REQUIRE(low >= 0);
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

std::string DecodeBase64(const std::string& text) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    const std::size_t v = kAlphabet.find(c);
    REQUIRE(v != std::string::npos);
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  return out;
}

// Decodes a header value made only of "=?UTF-8?B?…?=" words separated by folding whitespace.
std::string DecodeWords(const std::string& value) {
  std::string out;
  std::size_t pos = 0;
  while ((pos = value.find("=?UTF-8?B?", pos)) != std::string::npos) {
    const std::size_t end = value.find("?=", pos + 10);
    REQUIRE(end != std::string::npos);
    out += DecodeBase64(value.substr(pos + 10, end - pos - 10));
    pos = end + 2;
  }
  return out;
}

struct Part {
  std::multimap<std::string, std::string> headers;
  std::string body;
};

std::vector<Part> SplitMultipart(const std::string& body, const std::string& boundary) {
  const std::string delimiter = "\r\n--" + boundary;
  // The preamble is ended by the first delimiter, whose leading CRLF is the preamble's last.
  std::size_t pos = body.find(delimiter);
  REQUIRE(pos != std::string::npos);
  std::vector<Part> parts;
  while (true) {
    pos += delimiter.size();
    if (body.compare(pos, 2, "--") == 0) {
      CHECK(body.substr(pos + 2) == "\r\n");
      break;
    }
    REQUIRE(body.compare(pos, 2, "\r\n") == 0);
    pos += 2;
    const std::size_t next = body.find(delimiter, pos);
    REQUIRE(next != std::string::npos);
    const std::string part = body.substr(pos, next - pos);
    const Parsed parsed = ParseMessage(part);
    parts.push_back({parsed.headers, parsed.body});
    pos = next;
  }
  return parts;
}

Email SampleEmail() {
  Email email;
  email.from = {"alerts@rookery.example", "Rookery Alerts"};
  email.to = {{"dev@example.com", ""}, {"ops@example.com", "Ops Team"}};
  email.subject = "[backend] TypeError: x is undefined";
  email.text_body = "A new issue was seen.\nOpen it: https://rookery.example/issues/42/\n";
  email.html_body = "<p>A new issue was seen.</p>\n<p><a href=\"https://rookery.example/issues/42/\">Open it</a></p>\n";
  email.message_id = "alert-42.7@rookery.example";
  email.date_unix_seconds = 1714566896;
  email.list_unsubscribe_url = "https://rookery.example/unsubscribe?token=abc";
  return email;
}

std::string Boundary(const std::string& content_type) {
  const std::string key = "boundary=\"";
  const std::size_t start = content_type.find(key);
  REQUIRE(start != std::string::npos);
  const std::size_t end = content_type.find('"', start + key.size());
  REQUIRE(end != std::string::npos);
  return content_type.substr(start + key.size(), end - start - key.size());
}

std::string Crlf(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '\n')
      out += "\r\n";
    else
      out.push_back(c);
  }
  return out;
}

}  // namespace

TEST_CASE("an alert e-mail is multipart/alternative with both parts and CRLF lines", "[unit][notify]") {
  auto built = BuildEmail(SampleEmail());
  REQUIRE(built);
  const std::string& data = built->data;
  CHECK(built->envelope_from == "alerts@rookery.example");
  CHECK(built->envelope_to == std::vector<std::string>{"dev@example.com", "ops@example.com"});

  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\n') REQUIRE((i > 0 && data[i - 1] == '\r'));
    if (data[i] == '\r') REQUIRE((i + 1 < data.size() && data[i + 1] == '\n'));
  }
  CHECK(data.ends_with("\r\n"));
  for (const auto& line : SplitCrlf(data)) CHECK(line.size() <= 78);

  const Parsed parsed = ParseMessage(data);
  CHECK(Header(parsed, "Date") == "Wed, 01 May 2024 12:34:56 +0000");
  CHECK(Header(parsed, "From") == "Rookery Alerts <alerts@rookery.example>");
  CHECK(Header(parsed, "To") == "dev@example.com, Ops Team <ops@example.com>");
  CHECK(Header(parsed, "Subject") == "[backend] TypeError: x is undefined");
  CHECK(Header(parsed, "Message-ID") == "<alert-42.7@rookery.example>");
  CHECK(Header(parsed, "MIME-Version") == "1.0");
  CHECK(Header(parsed, "Auto-Submitted") == "auto-generated");
  CHECK(Header(parsed, "List-Unsubscribe") == "<https://rookery.example/unsubscribe?token=abc>");
  CHECK(Header(parsed, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click");
  const std::string content_type = Header(parsed, "Content-Type");
  CHECK(content_type.starts_with("multipart/alternative;"));

  const std::string boundary = Boundary(content_type);
  CHECK(boundary.starts_with("=_"));
  const auto parts = SplitMultipart(parsed.body, boundary);
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].headers.find("Content-Type")->second == "text/plain; charset=UTF-8");
  CHECK(parts[1].headers.find("Content-Type")->second == "text/html; charset=UTF-8");
  for (const auto& part : parts) {
    CHECK(part.headers.find("Content-Transfer-Encoding")->second == "quoted-printable");
  }
  CHECK(DecodeQp(parts[0].body) == Crlf(SampleEmail().text_body));
  CHECK(DecodeQp(parts[1].body) == Crlf(SampleEmail().html_body));
}

TEST_CASE("a retried alert is the same message, byte for byte", "[unit][notify]") {
  auto first = BuildEmail(SampleEmail());
  auto second = BuildEmail(SampleEmail());
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->data == second->data);
}

TEST_CASE("a text-only e-mail is a single text/plain part", "[unit][notify]") {
  Email email = SampleEmail();
  email.html_body.clear();
  auto built = BuildEmail(email);
  REQUIRE(built);
  const Parsed parsed = ParseMessage(built->data);
  CHECK(Header(parsed, "Content-Type") == "text/plain; charset=UTF-8");
  CHECK(Header(parsed, "Content-Transfer-Encoding") == "quoted-printable");
  CHECK(DecodeQp(parsed.body) == Crlf(email.text_body));
}

TEST_CASE("a non-ASCII subject becomes RFC 2047 encoded-words of at most 75 characters", "[unit][notify]") {
  Email email = SampleEmail();
  email.subject = "[backend] ZeroDivisionError: деление на ноль — ошибка в модуле платежей 💥 " + std::string(80, 'x');
  email.from.display_name = "Rookéry";
  auto built = BuildEmail(email);
  REQUIRE(built);
  const Parsed parsed = ParseMessage(built->data);
  const std::string subject = Header(parsed, "Subject");
  CHECK(subject.starts_with("=?UTF-8?B?"));
  CHECK(DecodeWords(subject) == email.subject);
  CHECK(DecodeWords(Header(parsed, "From")) == "Rookéry");
  CHECK(Header(parsed, "From").ends_with(" <alerts@rookery.example>"));
  for (const auto& line : parsed.raw_header_lines) {
    if (line.find("=?UTF-8?B?") != std::string::npos) CHECK(line.size() <= 76);
  }
  for (const auto& word : EncodeWords(email.subject, 9)) CHECK(word.size() <= 75);
}

TEST_CASE("encoded-words never split a UTF-8 sequence", "[unit][notify]") {
  const std::string text = "ééééééééééééééééééééééééééééééé💥💥💥💥💥💥💥💥💥💥💥💥💥💥";
  for (std::size_t used = 0; used < 80; used += 7) {
    for (const auto& word : EncodeWords(text, used)) {
      const std::string decoded = DecodeWords(word);
      CHECK(SanitizeUtf8(decoded) == decoded);
    }
  }
}

TEST_CASE("CR and LF in header values cannot add headers", "[unit][notify]") {
  Email email = SampleEmail();
  email.subject = "Hello\r\nBcc: victim@example.com\r\n\r\nbody injected";
  email.from.display_name = "Evil\nX-Injected: yes";
  email.extra_headers = {{"X-Rookery-Project", "backend\r\nX-Other: 1"}};
  auto built = BuildEmail(email);
  REQUIRE(built);
  const Parsed parsed = ParseMessage(built->data);
  CHECK(parsed.headers.count("Bcc") == 0);
  CHECK(parsed.headers.count("X-Injected") == 0);
  CHECK(parsed.headers.count("X-Other") == 0);
  CHECK(Header(parsed, "Subject") == "Hello Bcc: victim@example.com body injected");
  CHECK(Header(parsed, "X-Rookery-Project") == "backend X-Other: 1");
  CHECK(Header(parsed, "From") == "\"Evil X-Injected: yes\" <alerts@rookery.example>");
}

TEST_CASE("addresses, Message-IDs, URLs and header names that could inject are refused", "[unit][notify]") {
  const auto fails = [](auto mutate) {
    Email email = SampleEmail();
    mutate(email);
    return !BuildEmail(email).has_value();
  };
  CHECK(fails([](Email& e) { e.to[0].address = "dev@example.com>\r\nRCPT TO:<x@evil.example"; }));
  CHECK(fails([](Email& e) { e.to[0].address = "dev@example.com\n"; }));
  CHECK(fails([](Email& e) { e.from.address = "not an address"; }));
  CHECK(fails([](Email& e) { e.to.clear(); }));
  CHECK(fails([](Email& e) { e.message_id = "no-at-sign"; }));
  CHECK(fails([](Email& e) { e.message_id = "a b@example.com"; }));
  CHECK(fails([](Email& e) { e.list_unsubscribe_url = "http://rookery.example/unsubscribe"; }));
  CHECK(fails([](Email& e) { e.list_unsubscribe_url = "https://rookery.example/>\r\nBcc: x"; }));
  CHECK(fails([](Email& e) { e.extra_headers = {{"Bad Name", "x"}}; }));
  CHECK(fails([](Email& e) { e.extra_headers = {{"X-A\r\nBcc", "x"}}; }));
  CHECK(fails([](Email& e) { e.extra_headers = {{"bcc", "x@example.com"}}; }));
  CHECK(fails([](Email& e) { e.text_body.clear(); }));

  CHECK_FALSE(fails([](Email& e) { e.message_id = "<alert-42.7@rookery.example>"; }));
  CHECK_FALSE(fails([](Email& e) { e.list_unsubscribe_url.clear(); }));
  CHECK(rookery::notify::IsValidMailAddress("first.last+tag@mail.example.co.uk"));
  CHECK_FALSE(rookery::notify::IsValidMailAddress(".first@example.com"));
  CHECK_FALSE(rookery::notify::IsValidMailAddress("first@-example.com"));
  CHECK_FALSE(rookery::notify::IsValidMailAddress("ünï@example.com"));
}

TEST_CASE("long headers fold under 78 columns and long words never pass 998", "[unit][notify]") {
  Email email = SampleEmail();
  email.subject.clear();
  for (int i = 0; i < 40; ++i) email.subject += "word" + std::to_string(i) + " ";
  email.to.clear();
  for (int i = 0; i < 30; ++i)
    email.to.push_back({"user" + std::to_string(i) + "@example.com", "User " + std::to_string(i)});
  auto built = BuildEmail(email);
  REQUIRE(built);
  for (const auto& line : SplitCrlf(built->data)) CHECK(line.size() <= 78);
  const Parsed parsed = ParseMessage(built->data);
  CHECK(Header(parsed, "Subject") + " " == email.subject);

  email.subject = "prefix " + std::string(5000, 'A');
  built = BuildEmail(email);
  REQUIRE(built);
  for (const auto& line : SplitCrlf(built->data)) CHECK(line.size() <= 998);
  CHECK(DecodeWords(Header(ParseMessage(built->data), "Subject")) == email.subject);
}

TEST_CASE("quoted-printable keeps lines at 76 and round-trips any text", "[unit][notify]") {
  std::string text = "plain line\n";
  text += std::string(300, 'a') + "\n";
  text += "equals = sign and trailing space \n";
  text += "tab\tin the middle and at the end\t\n";
  text += ".\n.leading dot\n";
  text += "ünïcödé — 💥 " + std::string(100, 'z') + "\r\nwindows line\rold mac line";
  const std::string encoded = EncodeQuotedPrintable(text);
  for (const auto& line : SplitCrlf(encoded)) {
    CHECK(line.size() <= 76);
    CHECK_FALSE(line.starts_with("."));
    if (!line.empty()) {
      CHECK(line.back() != ' ');
      CHECK(line.back() != '\t');
    }
  }
  for (char c : encoded) CHECK(static_cast<unsigned char>(c) < 0x80);
  CHECK(encoded.find("=_") == std::string::npos);  // what keeps every boundary safe

  std::string expected;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (text[i] == '\r' || text[i] == '\n') {
      expected += "\r\n";
    } else {
      expected.push_back(text[i]);
    }
  }
  CHECK(DecodeQp(encoded) == expected);
}

TEST_CASE("a body that quotes the boundary cannot end its part", "[unit][notify]") {
  Email email = SampleEmail();
  auto first = BuildEmail(email);
  REQUIRE(first);
  const std::string boundary = Boundary(Header(ParseMessage(first->data), "Content-Type"));
  // The boundary depends on the body, but any "=_" text is encoded, so no variant can match.
  email.text_body = "--" + boundary + "\n--" + boundary + "--\n";
  auto built = BuildEmail(email);
  REQUIRE(built);
  const Parsed parsed = ParseMessage(built->data);
  const auto parts = SplitMultipart(parsed.body, Boundary(Header(parsed, "Content-Type")));
  REQUIRE(parts.size() == 2);
  CHECK(DecodeQp(parts[0].body) == Crlf(email.text_body));
}

TEST_CASE("invalid UTF-8 is replaced so the declared charset holds", "[unit][notify]") {
  CHECK(SanitizeUtf8("ok") == "ok");
  CHECK(SanitizeUtf8("a\xFF"
                     "b") ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(SanitizeUtf8("\xC3") == "\xEF\xBF\xBD");                                  // truncated sequence
  CHECK(SanitizeUtf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  CHECK(SanitizeUtf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  CHECK(SanitizeUtf8("é💥") == "é💥");
}

TEST_CASE("dates are RFC 5322 in UTC", "[unit][notify]") {
  CHECK(FormatRfc5322Date(0) == "Thu, 01 Jan 1970 00:00:00 +0000");
  CHECK(FormatRfc5322Date(1714566896) == "Wed, 01 May 2024 12:34:56 +0000");
  CHECK(FormatRfc5322Date(951782400) == "Tue, 29 Feb 2000 00:00:00 +0000");
}
