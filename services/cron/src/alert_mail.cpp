#include "alert_mail.hpp"

#include <rapidjson/document.h>

#include "rookery/core/strings.hpp"

namespace rookery::cron {
namespace {

std::string StringMember(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return "";
  const auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsString()) return "";
  return {member->value.GetString(), member->value.GetStringLength()};
}

// Stored events keep the SDK's shape: exception as {values: [...]}, a bare list, or one object.
const rapidjson::Value* NewestException(const rapidjson::Document& event) {
  const auto exception = event.FindMember("exception");
  if (exception == event.MemberEnd()) return nullptr;
  const rapidjson::Value* values = &exception->value;
  if (values->IsObject()) {
    const auto list = values->FindMember("values");
    if (list == values->MemberEnd()) return values;
    values = &list->value;
  }
  if (!values->IsArray() || values->Empty()) return nullptr;
  return &(*values)[values->Size() - 1];
}

std::string Plural(std::int64_t count, std::string_view word) {
  return std::to_string(count) + " " + std::string(word) + (count == 1 ? "" : "s");
}

}  // namespace

std::string_view ReasonHeadline(std::string_view reason) {
  if (reason == "new") return "New issue";
  if (reason == "regression") return "Regression";
  if (reason == "resurfaced") return "Issue is back";
  if (reason == "frequency") return "Issue seen often";
  return "Issue";
}

std::vector<std::string> StackPreview(std::string_view event_json, std::size_t max_lines) {
  std::vector<std::string> lines;
  rapidjson::Document event;
  event.Parse(event_json.data(), event_json.size());
  if (event.HasParseError() || !event.IsObject()) return lines;
  const rapidjson::Value* exception = NewestException(event);
  if (exception == nullptr || !exception->IsObject()) return lines;
  const auto stacktrace = exception->FindMember("stacktrace");
  if (stacktrace == exception->MemberEnd() || !stacktrace->value.IsObject()) return lines;
  const auto frames = stacktrace->value.FindMember("frames");
  if (frames == stacktrace->value.MemberEnd() || !frames->value.IsArray()) return lines;
  // SDKs send frames oldest first; the reader wants where it broke.
  for (auto i = frames->value.Size(); i > 0 && lines.size() < max_lines; --i) {
    const auto& frame = frames->value[i - 1];
    std::string where = StringMember(frame, "module");
    const std::string function = StringMember(frame, "function");
    if (!function.empty()) where += (where.empty() ? "" : ".") + function;
    std::string file = StringMember(frame, "filename");
    if (file.empty()) file = StringMember(frame, "abs_path");
    if (frame.IsObject() && frame.HasMember("lineno") && frame["lineno"].IsInt64()) {
      file += ":" + std::to_string(frame["lineno"].GetInt64());
    }
    if (where.empty() && file.empty()) continue;
    lines.push_back(TruncateUtf8(where.empty() ? file : where + " in " + file, 200));
  }
  return lines;
}

AlertMail ComposeAlertMail(std::string_view project_slug, const std::vector<AlertedIssue>& issues,
                           std::string_view unsubscribe_url, std::string_view settings_url) {
  AlertMail mail;
  const std::string project(project_slug);
  if (issues.size() == 1) {
    const AlertedIssue& issue = issues.front();
    mail.subject = "[" + project + "] " + std::string(ReasonHeadline(issue.reason)) + ": " +
                   TruncateUtf8(issue.title, 150) + " (" + issue.short_id + ")";
  } else {
    mail.subject = "[" + project + "] " + Plural(static_cast<std::int64_t>(issues.size()), "issue") + " need attention";
  }

  std::string& text = mail.text;
  std::string& html = mail.html;
  html += "<!doctype html><html><body style=\"font-family:sans-serif;color:#222\">";
  if (issues.size() > 1) {
    text += "Rookery collected these issues in " + project + " since its last mail:\n\n";
    html += "<p>Rookery collected these issues in <b>" + EscapeHtml(project) + "</b> since its last mail:</p>";
  }
  for (const AlertedIssue& issue : issues) {
    text += std::string(ReasonHeadline(issue.reason)) + " " + issue.short_id + ": " + issue.title + "\n";
    if (!issue.culprit.empty()) text += "  in " + issue.culprit + "\n";
    text += "  " + Plural(issue.times_seen, "event") + ", " + Plural(issue.user_count, "user") + ", level " +
            issue.level + "\n";
    for (const auto& line : issue.stack) text += "    at " + line + "\n";
    text += "  " + issue.url + "\n\n";

    html += "<div style=\"margin:0 0 18px 0\"><div style=\"font-size:12px;color:#666\">" +
            EscapeHtml(ReasonHeadline(issue.reason)) + " &middot; " + EscapeHtml(issue.short_id) + " &middot; " +
            EscapeHtml(issue.level) + "</div><a href=\"" + EscapeHtml(issue.url) +
            "\" style=\"font-size:16px;font-weight:bold\">" + EscapeHtml(issue.title) + "</a>";
    if (!issue.culprit.empty()) html += "<div style=\"color:#555\">" + EscapeHtml(issue.culprit) + "</div>";
    html += "<div style=\"font-size:12px;color:#666\">" + EscapeHtml(Plural(issue.times_seen, "event")) + ", " +
            EscapeHtml(Plural(issue.user_count, "user")) + "</div>";
    if (!issue.stack.empty()) {
      html += "<pre style=\"background:#f6f6f6;padding:8px;font-size:12px\">";
      for (const auto& line : issue.stack) html += EscapeHtml(line) + "\n";
      html += "</pre>";
    }
    html += "</div>";
  }
  if (!unsubscribe_url.empty()) {
    text += "Stop these mails for " + project + ": " + std::string(unsubscribe_url) + "\n";
    html += "<p style=\"font-size:12px;color:#888\"><a href=\"" + EscapeHtml(unsubscribe_url) +
            "\">Unsubscribe</a> from alerts for " + EscapeHtml(project) + ".</p>";
  } else {
    text += "Notification settings: " + std::string(settings_url) + "\n";
    html += "<p style=\"font-size:12px;color:#888\"><a href=\"" + EscapeHtml(settings_url) +
            "\">Notification settings</a></p>";
  }
  html += "</body></html>";
  return mail;
}

}  // namespace rookery::cron
