// rookery::notify — RFC 5322 / MIME alert e-mails, built without touching the network.
//
// The output is what goes after SMTP DATA: CRLF line endings, headers folded at 78 characters
// wherever the text has room to fold, body lines of at most 76, and no line anywhere over the
// 998-octet limit (over-long atoms are refused or encoded), UTF-8 everywhere. Bodies are
// quoted-printable, which cannot contain the boundary's "=_" prefix, so no body can end a part early.
// Header values are cut at CR and LF before anything else: whatever an event's title carries, it
// cannot add a header or start the body. Non-ASCII header text becomes RFC 2047 encoded-words.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rookery/core/expected.hpp"

namespace rookery::notify {

struct Mailbox {
  std::string address;       // "alerts@example.com": ASCII only, no display part
  std::string display_name;  // optional, any UTF-8
};

struct Email {
  Mailbox from;
  std::vector<Mailbox> to;
  std::string subject;
  std::string text_body;  // required: the part every client can show
  std::string html_body;  // optional: without it the message is a single text/plain part
  /// Stable per alert and recipient list, e.g. "alert-42.7@rookery.example" (angle brackets
  /// optional): a retry carries the same Message-ID, so mail systems and people see one message.
  std::string message_id;
  /// Seconds since the Unix epoch for the Date header; 0 means now.
  std::int64_t date_unix_seconds = 0;
  /// An https URL that unsubscribes with one POST (RFC 8058): adds List-Unsubscribe and
  /// List-Unsubscribe-Post, which large mailbox providers require of bulk senders.
  std::string list_unsubscribe_url;
  /// Further headers, e.g. {"X-Rookery-Project", "backend"}. The headers this builder writes
  /// itself (From, To, Subject, Date, Message-ID, MIME and List-Unsubscribe ones) are refused.
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

/// A message ready for SMTP: the envelope apart from the content, as the protocol keeps them.
struct BuiltEmail {
  std::string envelope_from;
  std::vector<std::string> envelope_to;
  std::string data;  // the RFC 5322 message, CRLF line endings, without SMTP dot-stuffing
};

struct EmailError {
  std::string detail;
};

/// Validates and renders `email`. Fails (never throws) on an unusable address, Message-ID,
/// unsubscribe URL or extra header, or an empty recipient list or text body.
Expected<BuiltEmail, EmailError> BuildEmail(const Email& email);

/// "Wed, 01 May 2024 12:34:56 +0000" (RFC 5322 section 3.3, always UTC).
std::string FormatRfc5322Date(std::int64_t unix_seconds);

/// True for an address this builder accepts: dot-atom local part, '@', a DNS name, ASCII only.
bool IsValidMailAddress(std::string_view address);

namespace internal {
/// RFC 2045 quoted-printable of UTF-8 text; any of CRLF, LF or CR ends a line (emitted as CRLF).
std::string EncodeQuotedPrintable(std::string_view text);
/// RFC 2047 "B" encoded-words for `text`, each under 76 characters and never splitting a UTF-8
/// sequence; the first leaves room for `first_line_used` characters already on its line.
std::vector<std::string> EncodeWords(std::string_view text, std::size_t first_line_used);
/// Replaces invalid UTF-8 with U+FFFD, so that "charset=UTF-8" (or JSON) is never a lie.
std::string SanitizeUtf8(std::string_view text);
}  // namespace internal

}  // namespace rookery::notify
