#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include "rookery/protocol/security_report.hpp"

using namespace rookery::protocol;

namespace {

rapidjson::Document Convert(const std::string& body) {
  SecurityReportContext context{*rookery::EventId::Parse("fc6d8c0c43fc4630ad850ee518f1b9d0"), "web@1.2", "staging",
                                "Mozilla/5.0"};
  auto event = SecurityReportToEvent(body, context);
  REQUIRE(event.has_value());
  rapidjson::Document doc;
  doc.Parse(event->c_str());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

}  // namespace

TEST_CASE("a legacy CSP report becomes an event", "[unit][protocol]") {
  auto doc = Convert(R"({"csp-report":{"document-uri":"https://app.example.com/page","referrer":"",
      "violated-directive":"script-src 'self'","effective-directive":"script-src",
      "original-policy":"script-src 'self'; report-uri /api/1/security/?sentry_key=x",
      "blocked-uri":"https://evil.example/x.js","status-code":200}})");
  CHECK(std::string(doc["message"].GetString()) == "Blocked 'script' from 'evil.example'");
  CHECK(std::string(doc["culprit"].GetString()) == "script-src 'self'");
  CHECK(std::string(doc["logger"].GetString()) == "csp");
  CHECK(std::string(doc["event_id"].GetString()) == "fc6d8c0c43fc4630ad850ee518f1b9d0");
  CHECK(std::string(doc["request"]["url"].GetString()) == "https://app.example.com/page");
  CHECK(std::string(doc["csp"]["blocked-uri"].GetString()) == "https://evil.example/x.js");
  CHECK(std::string(doc["release"].GetString()) == "web@1.2");
  CHECK(std::string(doc["environment"].GetString()) == "staging");
}

TEST_CASE("Reporting API batches and inline violations", "[unit][protocol]") {
  auto doc = Convert(R"([{"type":"deprecation","body":{}},{"type":"csp-violation","url":"https://a.test/",
      "body":{"documentURL":"https://a.test/","blockedURL":"inline","effectiveDirective":"style-src-elem",
      "originalPolicy":"style-src 'self'","disposition":"enforce"}}])");
  CHECK(std::string(doc["message"].GetString()) == "Blocked 'style' from 'inline'");
  CHECK(std::string(doc["culprit"].GetString()) == "style-src-elem");
}

TEST_CASE("Expect-CT reports, and bodies that are no report", "[unit][protocol]") {
  auto doc = Convert(R"({"expect-ct-report":{"hostname":"www.example.com","port":443}})");
  CHECK(std::string(doc["message"].GetString()) == "Expect-CT failed for 'www.example.com'");
  SecurityReportContext context;
  CHECK(SecurityReportToEvent("not json", context).error().code == IngestErrorCode::kBadJson);
  CHECK(SecurityReportToEvent("{}", context).error().code == IngestErrorCode::kBadJson);
  CHECK(SecurityReportToEvent("[]", context).error().code == IngestErrorCode::kBadJson);
}
