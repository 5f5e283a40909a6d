#include <catch2/catch.hpp>

#include "rules_api.hpp"

using namespace rookery::web;

namespace {

std::string Error(std::string_view body) {
  RuleSpec spec;
  return ParseRuleSpec(body, spec);
}

}  // namespace

TEST_CASE("Sentry rule bodies map onto alert_rules", "[unit][web]") {
  RuleSpec spec;
  const std::string error = ParseRuleSpec(R"({
    "name": "Prod errors", "environment": "production", "actionMatch": "any", "filterMatch": "all", "frequency": 30,
    "conditions": [
      {"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"},
      {"id": "sentry.rules.conditions.regression_event.RegressionEventCondition"},
      {"id": "sentry.rules.conditions.reappeared_event.ReappearedEventCondition"},
      {"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "value": 100, "interval": "1h"}],
    "filters": [
      {"id": "sentry.rules.filters.level.LevelFilter", "match": "gte", "level": "40"},
      {"id": "sentry.rules.filters.tagged_event.TaggedEventFilter", "key": "region", "match": "eq", "value": "eu"}],
    "actions": [
      {"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners"},
      {"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "Member", "targetIdentifier": "ops@example.com"},
      {"id": "sentry.rules.actions.notify_event_service.NotifyEventServiceAction", "service": "webhooks",
       "url": "https://hooks.example.com/x", "secret": "s3"},
      {"id": "sentry.integrations.slack.notify_action.SlackNotifyServiceAction",
       "webhookUrl": "https://hooks.slack.com/services/T/B/C"}]})",
                                          spec);
  INFO(error);
  REQUIRE(error.empty());
  CHECK(spec.name == "Prod errors");
  CHECK(spec.environment == "production");
  CHECK(spec.on_new);
  CHECK(spec.on_regression);
  CHECK(spec.on_resurfaced);
  CHECK(spec.frequency_count == 100);
  CHECK(spec.frequency_minutes == 60);
  CHECK(spec.min_level == "error");
  CHECK(spec.tag_filters == std::vector<std::pair<std::string, std::string>>{{"region", "eu"}});
  CHECK(spec.email_members);
  CHECK(spec.email_addresses == std::vector<std::string>{"ops@example.com"});
  CHECK(spec.webhook_url == "https://hooks.example.com/x");
  CHECK(spec.webhook_secret == "s3");
  CHECK(spec.webhook_secret_given);
  CHECK(spec.slack_url == "https://hooks.slack.com/services/T/B/C");
}

TEST_CASE("bad rule bodies name what is wrong", "[unit][web]") {
  const std::string email = R"({"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners"})";
  const std::string first = R"({"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"})";
  CHECK(Error("[]").find("JSON object") != std::string::npos);
  CHECK(Error(R"({"conditions": [)" + first + R"(], "actions": [)" + email + "]}").find("name") == 0);
  CHECK(
      Error(R"({"name": "x", "conditions": [{"id": "sentry.rules.conditions.nope.Nope"}], "actions": [)" + email + "]}")
          .find("sentry.rules.conditions.nope.Nope") != std::string::npos);
  CHECK(Error(R"({"name": "x", "conditions": [)" + first + R"(], "actions": [{"id": "x.y.Z"}]})").find("x.y.Z") !=
        std::string::npos);
  CHECK(Error(R"({"name": "x", "conditions": [)" + first +
              R"(], "filters": [{"id": "sentry.rules.filters.age.AgeFilter"}], "actions": [)" + email + "]}")
            .find("AgeFilter") != std::string::npos);
  CHECK(Error(R"({"name": "x", "conditions": [], "actions": [)" + email + "]}").find("conditions") == 0);
  CHECK(Error(R"({"name": "x", "conditions": [)" + first + R"(], "actions": []})").find("actions") == 0);
  for (const char* url : {"ftp://x/", "javascript:alert(1)", "http://", "https://a b/", "file:///etc/passwd"}) {
    CHECK_FALSE(Error(R"({"name": "x", "conditions": [)" + first +
                      R"(], "actions": [{"id": "sentry.integrations.slack.notify_action.SlackNotifyServiceAction",
                       "webhookUrl": ")" +
                      url + "\"}]}")
                    .empty());
  }
  CHECK_FALSE(Error(R"({"name": "x", "conditions": [)" + first +
                    R"(], "actions": [{"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "Member",
                     "targetIdentifier": "a@b.c\r\nBcc: evil@x"}]})")
                  .empty());
  CHECK_FALSE(Error(R"({"name": "x", "conditions": [{"id":
    "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "value": 5, "interval": "2h"}],
    "actions": [)" + email +
                    "]}")
                  .empty());
  CHECK_FALSE(Error(R"({"name": "x", "conditions": [)" + first +
                    R"(], "filters": [{"id": "sentry.rules.filters.level.LevelFilter", "match": "gte", "level": "45"}],
                    "actions": [)" +
                    email + "]}")
                  .empty());
}
