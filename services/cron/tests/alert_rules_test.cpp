#include <catch2/catch.hpp>

#include "alert_rules.hpp"

using namespace rookery::cron;

namespace {

AlertRule DefaultRule() {
  AlertRule rule;
  rule.id = 5;
  rule.on_new = true;
  rule.on_regression = true;
  rule.email_members = true;
  return rule;
}

}  // namespace

TEST_CASE("a rule fires for the transitions it names", "[unit][cron]") {
  const AlertRule rule = DefaultRule();
  CHECK(RuleFires(rule, {"new", "error", "", {}}));
  CHECK(RuleFires(rule, {"regression", "error", "", {}}));
  CHECK_FALSE(RuleFires(rule, {"resurfaced", "error", "", {}}));
  CHECK_FALSE(RuleFires(rule, {"frequency", "error", "", {}}));
  AlertRule often = rule;
  often.frequency_count = 10;
  often.frequency_minutes = 5;
  CHECK(RuleFires(often, {"frequency", "error", "", {}}));
}

TEST_CASE("level, environment and tag filters must all hold", "[unit][cron]") {
  AlertRule rule = DefaultRule();
  rule.min_level = "error";
  CHECK(RuleFires(rule, {"new", "fatal", "", {}}));
  CHECK(RuleFires(rule, {"new", "error", "", {}}));
  CHECK_FALSE(RuleFires(rule, {"new", "warning", "", {}}));
  CHECK_FALSE(RuleFires(rule, {"new", "nonsense", "", {}}));

  rule.environment = "production";
  CHECK(RuleFires(rule, {"new", "error", "production", {}}));
  CHECK_FALSE(RuleFires(rule, {"new", "error", "staging", {}}));

  rule.tag_filters = {{"customer", "acme"}, {"region", "eu"}};
  CHECK(RuleFires(rule, {"new", "error", "production", {{"region", "eu"}, {"customer", "acme"}, {"x", "y"}}}));
  CHECK_FALSE(RuleFires(rule, {"new", "error", "production", {{"customer", "acme"}}}));
  CHECK_FALSE(RuleFires(rule, {"new", "error", "production", {{"customer", "acme"}, {"region", "us"}}}));
}

TEST_CASE("channels: members and given addresses once each, then webhooks", "[unit][cron]") {
  AlertRule rule = DefaultRule();
  rule.email_addresses = {"oncall@example.com", "Ada@Example.com"};
  rule.webhook_url = "https://hooks.example.com/x";
  rule.slack_url = "https://hooks.slack.com/services/x";
  const auto channels = RuleChannels(rule, {"ada@example.com", "bob@example.com"});
  CHECK(channels == std::vector<std::string>{"email:ada@example.com", "email:bob@example.com",
                                             "email:oncall@example.com", "webhook:5", "slack:5"});
  rule.email_members = false;
  rule.webhook_url.clear();
  rule.slack_url.clear();
  CHECK(RuleChannels(rule, {"ada@example.com"}) ==
        std::vector<std::string>{"email:oncall@example.com", "email:ada@example.com"});
}

TEST_CASE("tag objects parse leniently", "[unit][cron]") {
  CHECK(ParseTagObject(R"({"a":"1","b":2,"c":"3"})") == TagPairs{{"a", "1"}, {"c", "3"}});
  CHECK(ParseTagObject("[]").empty());
  CHECK(ParseTagObject("{broken").empty());
  CHECK(LevelRank("fatal") > LevelRank("error"));
  CHECK(LevelRank("debug") > LevelRank("unknown"));
}
