// rookery::normalize — data scrubbing of data whose shape is not known: what the worker keeps of a
// message it could not process (a dead letter), so that no secret the normal path would scrub is
// stored through the back door. Stricter than NormalizeEvent's scrubbing, as it cannot know which
// field is which.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "rookery/normalize/event.hpp"

namespace rookery::normalize {

/// Every value of `document`, whatever its shape, scrubbed with the data scrubber's rules
/// (`config.enabled` is ignored: the default rules always apply; so are its extra fields and IP
/// address scrubbing; its safe fields are not honoured):
/// - a member whose key the scrubber filters (password, secret, token, auth, cookie, session, ...)
///   and the second item of a `[key, value]` pair whose key it filters become "[Filtered]", whole
///   (containers included; null and booleans are left);
/// - every other string is scrubbed as RedactText does (key=value / key: value text, credit card
///   numbers, URL passwords, IP addresses when asked, IPv6 ones inside text too);
/// - integers that are credit card numbers become "[Filtered]";
/// - containers nested `max_depth` deep become "[too deep]".
/// Returns the result as compact JSON text that PostgreSQL's jsonb accepts (NaN → null, invalid
/// UTF-8 → U+FFFD, no NULs). `document` is rewritten in place; parse it with kParseIterativeFlag
/// (and kParseNanAndInfFlag), as any untrusted JSON: this walk is recursive only to `max_depth`.
std::string ScrubbedJson(rapidjson::Document& document, const ScrubbingConfig& config, std::size_t max_depth);

/// Bytes of unknown structure (not JSON, a protobuf of an unknown contract, garbage) made into
/// text that keeps no secret the scrubber would filter:
/// - every byte that is not printable ASCII, tab, line feed, carriage return or part of a valid
///   UTF-8 sequence becomes '?' (so binary data, compressed data included, cannot be recovered);
/// - after a token (letters, digits, '_', '-', '.') the scrubber filters as a key, optionally
///   quoted, followed by '=' or ':' (or, after a quoted key, by ',' and a quoted value: a JSON
///   `["key", "value"]` pair), the value becomes "[Filtered]": a quoted value up to its closing
///   quote, a `{...}` or `[...]` value up to its matching bracket, an unquoted value after '=' up to
///   whitespace or one of `&;,"'<>()[]{}`, after ':' up to the end of the line (or, for a quoted
///   key as in JSON, up to ',', '}' or ']'). Keys are matched as written, not URL- or
///   JSON-unescaped;
/// - then credit card numbers, passwords in URLs and (when asked) IP addresses as in any event
///   text, IPv6 addresses included (the event scrubber replaces those only as whole strings).
std::string RedactText(std::string_view bytes, const ScrubbingConfig& config);

}  // namespace rookery::normalize
