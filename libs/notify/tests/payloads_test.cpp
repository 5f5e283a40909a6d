#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <string>

#include "rookery/core/strings.hpp"
#include "rookery/notify/payloads.hpp"

using rookery::notify::GenericAlertPayload;
using rookery::notify::IssueAlert;
using rookery::notify::SlackPayload;

namespace {

IssueAlert SampleAlert() {
  IssueAlert alert;
  alert.alert_id = "alert-42.7";
  alert.trigger = "new_issue";
  alert.project = "backend";
  alert.issue_id = 42;
  alert.short_id = "BACKEND-1A";
  alert.title = "TypeError: Cannot read properties of undefined (reading 'id')";
  alert.culprit = "app.handlers in load_user";
  alert.level = "error";
  alert.count = 17;
  alert.first_seen_ms = 1714566896000;
  alert.last_seen_ms = 1714570496789;
  alert.url = "https://rookery.example/organizations/acme/issues/42/";
  return alert;
}

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document document;
  document.Parse(json.c_str(), json.size());
  REQUIRE_FALSE(document.HasParseError());
  REQUIRE(document.IsObject());
  return document;
}

std::string Str(const rapidjson::Value& value) {
  REQUIRE(value.IsString());
  return {value.GetString(), value.GetStringLength()};
}

}  // namespace

TEST_CASE("Slack payload: fallback text and blocks with title, culprit, count and link", "[unit][notify]") {
  const auto doc = Parse(SlackPayload(SampleAlert()));
  const std::string text = Str(doc["text"]);
  CHECK(text.find("[backend] New issue: TypeError") != std::string::npos);
  CHECK(text.find("<https://rookery.example/organizations/acme/issues/42/|BACKEND-1A>") != std::string::npos);

  const auto& blocks = doc["blocks"];
  REQUIRE(blocks.IsArray());
  REQUIRE(blocks.Size() == 5);
  CHECK(Str(blocks[0]["type"]) == "header");
  CHECK(Str(blocks[0]["text"]["type"]) == "plain_text");
  CHECK(Str(blocks[0]["text"]["text"]) == SampleAlert().title);
  CHECK(Str(blocks[1]["type"]) == "section");
  const std::string summary = Str(blocks[1]["text"]["text"]);
  CHECK(summary.find("app.handlers in load_user") != std::string::npos);
  CHECK(summary.find("BACKEND-1A") != std::string::npos);
  const auto& fields = blocks[2]["fields"];
  REQUIRE(fields.Size() == 3);
  CHECK(Str(fields[0]["text"]) == "*Project*\nbackend");
  CHECK(Str(fields[1]["text"]) == "*Events*\n17");
  CHECK(Str(fields[2]["text"]) == "*Level*\nerror");
  CHECK(Str(blocks[3]["type"]) == "context");
  CHECK(Str(blocks[3]["elements"][0]["text"]).find("<!date^1714566896^") != std::string::npos);
  CHECK(Str(blocks[4]["type"]) == "actions");
  CHECK(Str(blocks[4]["elements"][0]["url"]) == SampleAlert().url);
}

TEST_CASE("Slack payload escapes markup, respects limits and survives broken text", "[unit][notify]") {
  IssueAlert alert = SampleAlert();
  alert.title = std::string(400, 'T') + " <script> & \xFF";
  alert.culprit = "a<b>&c <!channel>";
  alert.url = "https://rookery.example/x|<!everyone>";  // would break out of the link
  const auto doc = Parse(SlackPayload(alert));
  const std::string header = Str(doc["blocks"][0]["text"]["text"]);
  CHECK(header == std::string(150, 'T'));
  const std::string summary = Str(doc["blocks"][1]["text"]["text"]);
  CHECK(summary.find("a&lt;b&gt;&amp;c &lt;!channel&gt;") != std::string::npos);
  CHECK(summary.find("<!channel>") == std::string::npos);
  CHECK(Str(doc["text"]).find("<!everyone>") == std::string::npos);
  for (const auto& block : doc["blocks"].GetArray()) CHECK(Str(block["type"]) != "actions");

  alert = SampleAlert();
  alert.title = "bad \xC3( utf-8";
  const auto broken = Parse(SlackPayload(alert));
  CHECK(Str(broken["blocks"][0]["text"]["text"]) == "bad \xEF\xBF\xBD( utf-8");
}

TEST_CASE("generic alert payload carries the issue and stable ids", "[unit][notify]") {
  const std::string json = GenericAlertPayload(SampleAlert());
  CHECK(json == GenericAlertPayload(SampleAlert()));
  const auto doc = Parse(json);
  CHECK(doc["version"].GetInt() == 1);
  CHECK(Str(doc["type"]) == "issue.alert");
  CHECK(Str(doc["alert_id"]) == "alert-42.7");
  CHECK(Str(doc["trigger"]) == "new_issue");
  CHECK(Str(doc["project"]) == "backend");
  const auto& issue = doc["issue"];
  CHECK(issue["id"].GetInt64() == 42);
  CHECK(Str(issue["short_id"]) == "BACKEND-1A");
  CHECK(Str(issue["title"]) == SampleAlert().title);
  CHECK(Str(issue["culprit"]) == "app.handlers in load_user");
  CHECK(Str(issue["level"]) == "error");
  CHECK(issue["count"].GetInt64() == 17);
  CHECK(Str(issue["first_seen"]) == "2024-05-01T12:34:56.000Z");
  CHECK(Str(issue["last_seen"]) == "2024-05-01T13:34:56.789Z");
  CHECK(Str(issue["url"]) == SampleAlert().url);

  IssueAlert bare;
  bare.title = "x";
  const auto minimal = Parse(GenericAlertPayload(bare));
  CHECK(minimal["issue"]["first_seen"].IsNull());
  CHECK(minimal["issue"]["url"].IsNull());
}
