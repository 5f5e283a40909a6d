#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include "serialize.hpp"

using namespace rookery::web;

TEST_CASE("an issue looks like Sentry's", "[unit][web]") {
  IssueRow issue;
  issue.id = 5;
  issue.short_id = 3;
  issue.title = "ZeroDivisionError: division by zero";
  issue.culprit = "app in main";
  issue.level = "error";
  issue.type = "error";
  issue.status = "unresolved";
  issue.metadata_json = R"({"type":"ZeroDivisionError","value":"division by zero"})";
  issue.times_seen = 2;
  issue.first_seen_ms = 1700000000000;
  issue.last_seen_ms = 1700000060000;
  issue.project_id = 9;
  issue.project_slug = "backend";
  issue.project_name = "Backend";
  issue.org_slug = "acme";

  rapidjson::Document doc;
  doc.Parse(SerializeIssue(issue, "http://localhost:9000").c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(std::string(doc["id"].GetString()) == "5");
  CHECK(std::string(doc["shortId"].GetString()) == "BACKEND-3");
  CHECK(std::string(doc["count"].GetString()) == "2");
  CHECK(std::string(doc["metadata"]["type"].GetString()) == "ZeroDivisionError");
  CHECK(std::string(doc["project"]["slug"].GetString()) == "backend");
  CHECK(doc["platform"].IsNull());  // neither the issue nor the project has one
  CHECK(doc["logger"].IsNull());
  CHECK(std::string(doc["firstSeen"].GetString()) == "2023-11-14T22:13:20.000Z");
  CHECK(std::string(doc["permalink"].GetString()) == "http://localhost:9000/organizations/acme/issues/5/");
}

TEST_CASE("an issue shows its own platform and logger", "[unit][web]") {
  IssueRow issue;
  issue.metadata_json = "{}";
  issue.project_platform = "python";
  issue.platform = "node";
  issue.logger = "billing.payments";
  rapidjson::Document doc;
  doc.Parse(SerializeIssue(issue, "").c_str());
  CHECK(std::string(doc["platform"].GetString()) == "node");
  CHECK(std::string(doc["logger"].GetString()) == "billing.payments");
  CHECK(std::string(doc["project"]["platform"].GetString()) == "python");
}

TEST_CASE("an event's interfaces become entries", "[unit][web]") {
  EventRow event;
  event.event_id = "fc6d8c0c43fc4630ad850ee518f1b9d0";
  event.issue_id = 5;
  event.level = "error";
  event.environment = "production";
  event.data_json = R"({"exception":{"values":[{"type":"E","value":"v","stacktrace":{"frames":[
      {"filename":"app.py","abs_path":"/srv/app.py","lineno":10,"in_app":true,
       "pre_context":["a","b"],"context_line":"c","post_context":["d"]}]}}]},
      "tags":{"server":"web-1"},"user":{"id":"42"}})";
  rapidjson::Document doc;
  doc.Parse(SerializeEvent(event).c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(std::string(doc["eventID"].GetString()) == "fc6d8c0c43fc4630ad850ee518f1b9d0");
  CHECK(std::string(doc["groupID"].GetString()) == "5");
  const auto& entries = doc["entries"];
  REQUIRE(entries.Size() == 1);
  CHECK(std::string(entries[0]["type"].GetString()) == "exception");
  const auto& frame = entries[0]["data"]["values"][0]["stacktrace"]["frames"][0];
  CHECK(std::string(frame["absPath"].GetString()) == "/srv/app.py");
  CHECK(frame["lineNo"].GetInt() == 10);
  CHECK(frame["inApp"].GetBool());
  REQUIRE(frame["context"].Size() == 4);
  CHECK(frame["context"][0][0].GetInt() == 8);
  CHECK(std::string(frame["context"][2][1].GetString()) == "c");
  CHECK(std::string(doc["user"]["id"].GetString()) == "42");
  CHECK(doc["tags"].Size() == 3);  // environment, level, server
}

TEST_CASE("an event's extra is its context; a single event names its neighbours", "[unit][web]") {
  EventRow event;
  event.event_id = "fc6d8c0c43fc4630ad850ee518f1b9d0";
  event.data_json = R"({"message":"m","extra":{"order":42,"cart":{"items":["a"]}}})";
  rapidjson::Document doc;
  doc.Parse(SerializeEvent(event).c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(doc["context"]["order"].GetInt() == 42);
  CHECK(std::string(doc["context"]["cart"]["items"][0].GetString()) == "a");
  CHECK_FALSE(doc.HasMember("previousEventID"));  // the lists leave them out
  CHECK_FALSE(doc.HasMember("nextEventID"));

  event.data_json = R"({"message":"m"})";
  event.with_neighbours = true;
  event.next_event_id = "00000000000000000000000000000001";
  doc.Parse(SerializeEvent(event).c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(doc["context"].IsObject());
  CHECK(doc["context"].MemberCount() == 0);
  CHECK(doc["previousEventID"].IsNull());
  CHECK(std::string(doc["nextEventID"].GetString()) == "00000000000000000000000000000001");
}
