#include "rookery/notify/payloads.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "rookery/core/strings.hpp"
#include "rookery/core/time.hpp"
#include "rookery/notify/email.hpp"

namespace rookery::notify {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Slack's limits, in characters (https://api.slack.com/reference/block-kit/blocks).
constexpr std::size_t kSlackHeaderChars = 150;
constexpr std::size_t kSlackFieldChars = 2000;
constexpr std::size_t kSlackTextChars = 3000;
// Links go into the same section as the culprit; with both capped the section stays under
// kSlackTextChars, so its truncation never cuts a link in half.
constexpr std::size_t kMaxLinkChars = 900;
constexpr std::size_t kSlackCulpritChars = 1800;

void String(Writer& writer, std::string_view text) {
  const std::string clean = internal::SanitizeUtf8(text);
  writer.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
}

void MrkdwnText(Writer& writer, std::string_view text) {
  writer.StartObject();
  writer.Key("type");
  writer.String("mrkdwn");
  writer.Key("text");
  String(writer, TruncateUtf8(text, kSlackTextChars));
  writer.EndObject();
}

// Slack links are "<url|label>": a URL that could close the link early or is not web is left out.
bool IsLinkableUrl(std::string_view url) {
  if (url.size() > kMaxLinkChars) return false;
  if (!StartsWithIgnoreCase(url, "https://") && !StartsWithIgnoreCase(url, "http://")) return false;
  for (char c : url) {
    if (c <= 32 || c == '<' || c == '>' || c == '|' || c == 127) return false;
  }
  return true;
}

std::string IssueLabel(const IssueAlert& alert) {
  return alert.short_id.empty() ? "Issue #" + std::to_string(alert.issue_id) : TruncateUtf8(alert.short_id, 100);
}

std::string Title(const IssueAlert& alert) {
  return alert.title.empty() ? "(no title)" : alert.title;
}

// Slack renders "<!date^…>" in the reader's time zone and shows the fallback where it cannot.
std::string SlackDate(std::int64_t unix_millis) {
  return "<!date^" + std::to_string(unix_millis / 1000) + "^{date_short_pretty} {time}|" +
         FormatIso8601Millis(unix_millis) + ">";
}

std::string TriggerText(std::string_view trigger) {
  if (trigger == "new_issue") return "New issue";
  if (trigger == "regression") return "Regression";
  if (trigger == "frequency") return "Frequency alert";
  return trigger.empty() ? "Alert" : std::string(trigger);
}

void Field(Writer& writer, std::string_view label, std::string_view value) {
  MrkdwnText(writer, "*" + std::string(label) + "*\n" + EscapeSlackText(TruncateUtf8(value, kSlackFieldChars - 40)));
}

void IsoOrNull(Writer& writer, std::int64_t unix_millis) {
  if (unix_millis > 0) {
    String(writer, FormatIso8601Millis(unix_millis));
  } else {
    writer.Null();
  }
}

}  // namespace

std::string EscapeSlackText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string SlackPayload(const IssueAlert& alert) {
  const bool linkable = IsLinkableUrl(alert.url);
  const std::string title = Title(alert);
  const std::string label = EscapeSlackText(IssueLabel(alert));

  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartObject();
  writer.Key("text");
  std::string fallback = "[" + EscapeSlackText(alert.project) + "] " + TriggerText(alert.trigger) + ": " +
                         EscapeSlackText(TruncateUtf8(title, 500));
  if (linkable) fallback += " <" + alert.url + "|" + label + ">";
  String(writer, fallback);

  writer.Key("blocks");
  writer.StartArray();

  writer.StartObject();
  writer.Key("type");
  writer.String("header");
  writer.Key("text");
  writer.StartObject();
  writer.Key("type");
  writer.String("plain_text");
  writer.Key("text");
  String(writer, TruncateUtf8(title, kSlackHeaderChars));
  writer.Key("emoji");
  writer.Bool(false);
  writer.EndObject();
  writer.EndObject();

  writer.StartObject();
  writer.Key("type");
  writer.String("section");
  writer.Key("text");
  std::string summary = linkable ? "*<" + alert.url + "|" + label + ">*" : "*" + label + "*";
  summary += " · " + TriggerText(alert.trigger);
  if (!alert.culprit.empty()) summary += "\n" + EscapeSlackText(TruncateUtf8(alert.culprit, kSlackCulpritChars));
  MrkdwnText(writer, summary);
  writer.EndObject();

  writer.StartObject();
  writer.Key("type");
  writer.String("section");
  writer.Key("fields");
  writer.StartArray();
  Field(writer, "Project", alert.project);
  Field(writer, "Events", std::to_string(alert.count));
  if (!alert.level.empty()) Field(writer, "Level", alert.level);
  writer.EndArray();
  writer.EndObject();

  if (alert.first_seen_ms > 0 && alert.last_seen_ms > 0) {
    writer.StartObject();
    writer.Key("type");
    writer.String("context");
    writer.Key("elements");
    writer.StartArray();
    MrkdwnText(writer,
               "First seen " + SlackDate(alert.first_seen_ms) + " · last seen " + SlackDate(alert.last_seen_ms));
    writer.EndArray();
    writer.EndObject();
  }

  if (linkable) {
    writer.StartObject();
    writer.Key("type");
    writer.String("actions");
    writer.Key("elements");
    writer.StartArray();
    writer.StartObject();
    writer.Key("type");
    writer.String("button");
    writer.Key("text");
    writer.StartObject();
    writer.Key("type");
    writer.String("plain_text");
    writer.Key("text");
    writer.String("View issue");
    writer.EndObject();
    writer.Key("url");
    String(writer, alert.url);
    writer.EndObject();
    writer.EndArray();
    writer.EndObject();
  }

  writer.EndArray();
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string GenericAlertPayload(const IssueAlert& alert) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartObject();
  writer.Key("version");
  writer.Int(1);
  writer.Key("type");
  writer.String("issue.alert");
  writer.Key("alert_id");
  String(writer, alert.alert_id);
  writer.Key("trigger");
  String(writer, alert.trigger);
  writer.Key("project");
  String(writer, alert.project);
  writer.Key("issue");
  writer.StartObject();
  writer.Key("id");
  writer.Int64(alert.issue_id);
  writer.Key("short_id");
  String(writer, alert.short_id);
  writer.Key("title");
  String(writer, alert.title);
  writer.Key("culprit");
  String(writer, alert.culprit);
  writer.Key("level");
  String(writer, alert.level);
  writer.Key("count");
  writer.Int64(alert.count);
  writer.Key("first_seen");
  IsoOrNull(writer, alert.first_seen_ms);
  writer.Key("last_seen");
  IsoOrNull(writer, alert.last_seen_ms);
  writer.Key("url");
  if (alert.url.empty()) {
    writer.Null();
  } else {
    String(writer, alert.url);
  }
  writer.EndObject();
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace rookery::notify
