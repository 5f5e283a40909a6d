#include <catch2/catch.hpp>

#include "alert_mail.hpp"

using namespace rookery::cron;

namespace {

AlertedIssue Issue(std::string title, std::string reason) {
  AlertedIssue issue;
  issue.short_id = "BACKEND-3";
  issue.title = std::move(title);
  issue.culprit = "app.views in checkout";
  issue.level = "error";
  issue.reason = std::move(reason);
  issue.times_seen = 4;
  issue.user_count = 1;
  issue.url = "https://rookery.example.com/organizations/acme/issues/3/";
  issue.stack = {"app.views.checkout in app/views.py:42"};
  return issue;
}

}  // namespace

TEST_CASE("one issue: its headline, culprit, stack, link and unsubscribe link", "[unit][cron]") {
  const AlertMail mail = ComposeAlertMail("backend", {Issue("ValueError: <bad> & worse", "new")},
                                          "https://rookery.example.com/unsub?t=1", "https://x/settings");
  CHECK(mail.subject == "[backend] New issue: ValueError: <bad> & worse (BACKEND-3)");
  CHECK(mail.text.find("app.views in checkout") != std::string::npos);
  CHECK(mail.text.find("at app.views.checkout in app/views.py:42") != std::string::npos);
  CHECK(mail.text.find("https://rookery.example.com/organizations/acme/issues/3/") != std::string::npos);
  CHECK(mail.text.find("https://rookery.example.com/unsub?t=1") != std::string::npos);
  CHECK(mail.text.find("4 events, 1 user") != std::string::npos);
  // HTML escapes what the SDK sent.
  CHECK(mail.html.find("ValueError: &lt;bad&gt; &amp; worse") != std::string::npos);
  CHECK(mail.html.find("<bad>") == std::string::npos);
  CHECK(mail.html.find("href=\"https://rookery.example.com/organizations/acme/issues/3/\"") != std::string::npos);
}

TEST_CASE("several issues make one digest listing each", "[unit][cron]") {
  const AlertMail mail =
      ComposeAlertMail("backend", {Issue("First", "new"), Issue("Second", "regression"), Issue("Third", "resurfaced")},
                       "", "https://x/s");
  CHECK(mail.subject == "[backend] 3 issues need attention");
  CHECK(mail.text.find("New issue BACKEND-3: First") != std::string::npos);
  CHECK(mail.text.find("Regression BACKEND-3: Second") != std::string::npos);
  CHECK(mail.text.find("Issue is back BACKEND-3: Third") != std::string::npos);
  CHECK(mail.text.find("Notification settings: https://x/s") != std::string::npos);
}

TEST_CASE("stack preview: newest frame first, from any exception shape", "[unit][cron]") {
  const char* event = R"({"exception":{"values":[{"type":"A"},{"type":"B","stacktrace":{"frames":[
      {"module":"app.main","function":"run","filename":"app/main.py","lineno":10},
      {"function":"helper","filename":"app/util.py","lineno":3},
      {"filename":"lib.py"}]}}]}})";
  CHECK(StackPreview(event) ==
        std::vector<std::string>{"lib.py", "helper in app/util.py:3", "app.main.run in app/main.py:10"});
  CHECK(StackPreview(event, 1).size() == 1);
  CHECK(StackPreview(R"({"exception":[{"stacktrace":{"frames":[{"function":"f"}]}}]})") ==
        std::vector<std::string>{"f in "});
  CHECK(StackPreview(R"({"message":"no stack"})").empty());
  CHECK(StackPreview("not json").empty());
}
