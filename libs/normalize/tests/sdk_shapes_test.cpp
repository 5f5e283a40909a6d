// One event per real client shape (sentry-protocol.md §8), written for these tests.
#include <catch2/catch.hpp>

#include <algorithm>

#include "rookery/normalize/event.hpp"
#include "test_support.hpp"

using rookery::normalize::Context;
using rookery::normalize::Event;
using rookery::normalize::NormalizeEvent;
using rookery::normalize::testing::At;
using rookery::normalize::testing::Json;
using rookery::normalize::testing::ParseStored;
using rookery::normalize::testing::StringAt;

namespace {

std::string TagOf(const Event& event, const std::string& key) {
  auto it = std::find_if(event.tags.begin(), event.tags.end(), [&](const auto& tag) { return tag.first == key; });
  return it == event.tags.end() ? "<absent>" : it->second;
}

std::size_t CountTag(const Event& event, const std::string& key) {
  return static_cast<std::size_t>(
      std::count_if(event.tags.begin(), event.tags.end(), [&](const auto& tag) { return tag.first == key; }));
}

}  // namespace

TEST_CASE("sentry-python: a Django error with request, user, breadcrumbs and its own _meta", "[unit][normalize]") {
  auto event = NormalizeEvent(R"({
    "event_id":"6b1f3a9c2d4e4f5a8b7c9d0e1f2a3b4c","level":"error","platform":"python",
    "timestamp":"2024-03-01T12:00:00.250000Z","server_name":"web-3","release":" shop@2.4.1 ",
    "environment":"production","logger":"django.request","transaction":"/checkout/{id}",
    "exception":{"values":[{"type":"KeyError","value":"'cart'","module":null,
      "mechanism":{"type":"django","handled":false},
      "stacktrace":{"frames":[
        {"filename":"django/core/handlers/base.py","module":"django.core.handlers.base","function":"_get_response",
         "lineno":197,"in_app":false,"vars":{"request":"<WSGIRequest>"}},
        {"filename":"shop/views.py","module":"shop.views","function":"checkout","lineno":42,"in_app":true,
         "context_line":"    cart = session['cart']","vars":{"session_key":"abc123","user_password":"hunter2","n":3}}]}}]},
    "request":{"url":"https://shop.example/checkout/7","method":"post","query_string":"step=2&token=deadbeef",
      "headers":{"Authorization":"Bearer s3cr3t","User-Agent":"Mozilla/5.0 (X11) Chrome/120.0.0.0","Accept":"*/*"},
      "cookies":{"sessionid":"zxcv","theme":"dark"},"data":{"card":"4111 1111 1111 1111","qty":"2"},
      "env":{"SERVER_NAME":"web-3"}},
    "user":{"id":42,"email":"ann@example.com","plan":"gold"},
    "breadcrumbs":{"values":[{"timestamp":1709294390.0,"category":"query","message":"SELECT 1"}]},
    "contexts":{"runtime":{"name":"CPython","version":"3.11.4"},"os":{"name":"Linux"}},
    "tags":{"tenant":"acme","release":"ignored"},"extra":{"sys.argv":["manage.py"]},
    "sdk":{"name":"sentry.python.django","version":"1.9.10"},
    "_meta":{"extra":{"big":{"":{"len":2000,"rem":[["!limit","x",0,512]]}}}}})",
                              {.received_at_ms = 1709294401000, .sent_at_ms = 1709294400900});
  REQUIRE(event.has_value());
  CHECK(event->title == "KeyError: 'cart'");
  CHECK(event->culprit == "/checkout/{id}");
  CHECK(event->timestamp_ms == 1709294400250);
  CHECK(event->release == "shop@2.4.1");
  CHECK(event->user.id == "42");
  CHECK(event->user.email == "ann@example.com");
  CHECK(event->user.ip_address.empty());  // python, no {{auto}}: nothing inferred

  CHECK(TagOf(*event, "tenant") == "acme");
  CHECK(TagOf(*event, "release") == "shop@2.4.1");  // derived, never the SDK's
  CHECK(CountTag(*event, "release") == 1);
  CHECK(TagOf(*event, "level") == "error");
  CHECK(TagOf(*event, "environment") == "production");
  CHECK(TagOf(*event, "logger") == "django.request");
  CHECK(TagOf(*event, "server_name") == "web-3");
  CHECK(TagOf(*event, "transaction") == "/checkout/{id}");
  CHECK(TagOf(*event, "url") == "https://shop.example/checkout/7");
  CHECK(TagOf(*event, "user") == "id:42");
  CHECK(TagOf(*event, "handled") == "no");
  CHECK(TagOf(*event, "mechanism") == "django");
  CHECK(TagOf(*event, "runtime") == "CPython 3.11.4");
  CHECK(TagOf(*event, "os.name") == "Linux");

  const auto stored = ParseStored(event->storable_json);
  CHECK(StringAt(stored, "/release") == "shop@2.4.1");
  CHECK(StringAt(stored, "/request/headers/Authorization") == "[Filtered]");
  CHECK(StringAt(stored, "/request/headers/User-Agent") == "Mozilla/5.0 (X11) Chrome/120.0.0.0");
  CHECK(StringAt(stored, "/request/query_string") == "step=2&token=[Filtered]");
  CHECK(StringAt(stored, "/request/cookies/theme") == "[Filtered]");
  CHECK(StringAt(stored, "/request/data/card") == "[Filtered]");
  CHECK(StringAt(stored, "/request/data/qty") == "2");
  CHECK(StringAt(stored, "/exception/values/0/stacktrace/frames/1/vars/user_password") == "[Filtered]");
  CHECK(StringAt(stored, "/exception/values/0/stacktrace/frames/1/vars/session_key") == "[Filtered]");
  CHECK(Json(At(stored, "/exception/values/0/stacktrace/frames/1/vars/n")) == "3");
  CHECK(StringAt(stored, "/user/data/plan") == "gold");  // unknown user keys move to user.data
  CHECK(At(stored, "/user/plan") == nullptr);
  CHECK(Json(At(stored, "/tags")) == R"({"tenant":"acme"})");
  // The SDK's own annotations survive next to the server's.
  CHECK(Json(At(stored, "/_meta/extra/big/")) == R"({"len":2000,"rem":[["!limit","x",0,512]]})");
  CHECK(Json(At(stored, "/_meta/request/headers/Authorization/")) ==
        R"({"rem":[["@password:filter","s",0,10]],"len":13})");
  CHECK(event->storable_json.find("hunter2") == std::string::npos);
  CHECK(event->storable_json.find("deadbeef") == std::string::npos);
  CHECK(event->storable_json.find("4111 1111") == std::string::npos);
  CHECK(At(stored, "/errors") == nullptr);  // 100 ms of drift is no drift
}

TEST_CASE("raven-python: legacy interfaces, numeric level, cookie header", "[unit][normalize]") {
  const std::string json = R"({
    "project":"3","level":40,"logger":"root","platform":"python","time_spent":null,
    "timestamp":"2024-03-01T11:59:58Z","culprit":"billing.tasks in charge","server_name":"worker-1",
    "message":"Charge failed for %s",
    "sentry.interfaces.Message":{"message":"Charge failed for %s","params":["ann"],"formatted":"Charge failed for ann"},
    "sentry.interfaces.Http":{"url":"http://shop.example/pay","method":"POST",
      "headers":{"Cookie":"sessionid=abc; csrftoken=def","Content-Type":"application/x-www-form-urlencoded"},
      "data":"amount=10&password=pw1&note=hi","cookies":"sessionid=abc; csrftoken=def",
      "env":{"REMOTE_ADDR":"10.1.2.3"}},
    "sentry.interfaces.User":{"id":"u-7","username":"ann"},
    "tags":{"queue":"billing"},"modules":{"django":"1.11"},
    "sdk":{"name":"raven-python","version":"6.10.0"}})";
  auto event = NormalizeEvent(json, {.received_at_ms = 1709294400000});
  REQUIRE(event.has_value());
  CHECK(event->level == "error");
  CHECK(event->title == "Charge failed for ann");
  CHECK(event->culprit == "billing.tasks in charge");  // the SDK's own culprit is kept
  // Without one, a message without a stack trace is blamed on the request's URL.
  const std::string culprit = R"("culprit":"billing.tasks in charge",)";
  std::string without = json;
  without.erase(without.find(culprit), culprit.size());
  auto derived = NormalizeEvent(without, {.received_at_ms = 1709294400000});
  REQUIRE(derived.has_value());
  CHECK(derived->culprit == "http://shop.example/pay");
  CHECK(event->user.username == "ann");
  // REMOTE_ADDR is a valid address and the user has none: Relay copies it over.
  CHECK(event->user.ip_address == "10.1.2.3");
  CHECK(TagOf(*event, "user") == "id:u-7");
  CHECK(TagOf(*event, "queue") == "billing");
  CHECK(TagOf(*event, "server_name") == "worker-1");

  const auto stored = ParseStored(event->storable_json);
  CHECK(Json(At(stored, "/level")) == R"("error")");
  CHECK(At(stored, "/sentry.interfaces.Http") == nullptr);  // stored under the canonical names
  CHECK(StringAt(stored, "/request/headers/Cookie") == "[Filtered]");
  CHECK(StringAt(stored, "/request/data") == "amount=10&password=[Filtered]&note=hi");
  CHECK(StringAt(stored, "/request/cookies") == "sessionid=[Filtered]; csrftoken=[Filtered]");
  CHECK(StringAt(stored, "/logentry/formatted") == "Charge failed for ann");
  CHECK(StringAt(stored, "/modules/django") == "1.11");
  CHECK(event->storable_json.find("pw1") == std::string::npos);
}

TEST_CASE("raven-ruby: exception values, extra and a garbage type", "[unit][normalize]") {
  auto event = NormalizeEvent(R"({
    "event_id":"0f6c3b1a9e8d4c7b8a6f5e4d3c2b1a09","type":"event","level":"warn","platform":"ruby",
    "logger":"","timestamp":"2024-03-01T12:00:00","server_name":"app-1","environment":"stag/ing",
    "exception":{"values":[{"type":"NoMethodError","value":"undefined method `name' for nil:NilClass",
      "module":"","stacktrace":{"frames":[
        {"abs_path":"/app/vendor/bundle/rack.rb","filename":"rack.rb","function":"call","lineno":12,"in_app":false},
        {"abs_path":"/app/app/models/user.rb","filename":"app/models/user.rb","function":"display_name",
         "lineno":8,"in_app":true,"pre_context":["def display_name"],"context_line":"  profile.name",
         "post_context":["end"]}]}}]},
    "extra":{"api_key":"k-1","retries":2},
    "tags":[["host","app-1"],["host","dup"],["", "x"]],
    "sdk":{"name":"raven-ruby","version":"3.1.2"}})",
                              {.received_at_ms = 1709294405000});
  REQUIRE(event.has_value());
  CHECK(event->level == "warning");
  CHECK(event->event_type == "error");
  CHECK(event->title == "NoMethodError: undefined method `name' for nil:NilClass");
  CHECK(event->culprit == "app/models/user.rb in display_name");
  CHECK(event->environment.empty());  // a slash makes it invalid
  CHECK(TagOf(*event, "host") == "app-1");
  CHECK(CountTag(*event, "host") == 1);

  const auto stored = ParseStored(event->storable_json);
  CHECK(Json(At(stored, "/level")) == R"("warning")");
  CHECK(At(stored, "/environment") == nullptr);
  CHECK(Json(At(stored, "/_meta/environment/")) == R"({"err":["invalid_data"],"val":"stag/ing"})");
  CHECK(Json(At(stored, "/tags")) == R"([["host","app-1"]])");
  CHECK(Json(At(stored, "/_meta/tags/2/")) == R"({"err":["nonempty"]})");
  CHECK(StringAt(stored, "/extra/api_key") == "[Filtered]");
  CHECK(Json(At(stored, "/extra/retries")) == "2");
}

TEST_CASE("@sentry/node: unhandled exception with contexts and breadcrumbs as a list", "[unit][normalize]") {
  auto event =
      NormalizeEvent(R"json({
    "exception":{"values":[{"type":"TypeError","value":"Cannot read properties of undefined (reading 'id')",
      "stacktrace":{"frames":[
        {"filename":"node:internal/process/task_queues","function":"process.processTicksAndRejections",
         "lineno":95,"colno":5,"in_app":false,"module":"task_queues"},
        {"filename":"/srv/api/dist/orders.js","function":"loadOrder","lineno":31,"colno":17,"in_app":true,
         "module":"orders"}]},
      "mechanism":{"type":"auto.node.onuncaughtexception","handled":false}}]},
    "level":"fatal","platform":"node","event_id":"c3d1f0e9b8a74c6d9e2f1a0b3c4d5e6f",
    "timestamp":1709294399.512,"environment":"production","release":"api@5.0.0","server_name":"api-7f9c",
    "contexts":{"trace":{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331"},
      "runtime":{"name":"node","version":"v20.11.1"},"os":{"kernel_version":"6.1","name":"Linux","version":"6.1"},
      "app":{"app_start_time":"2024-03-01T11:00:00.000Z"},"cloud_resource":{"cloud.provider":"aws"}},
    "breadcrumbs":[{"timestamp":1709294398.1,"category":"http","data":{"url":"https://pay.example/v1?api_key=xyz",
      "method":"GET","status_code":200},"type":"http"}],
    "sdk":{"name":"sentry.javascript.node","version":"11.12.0","integrations":["Http"]},
    "modules":{"express":"4.18.2"}})json",
                     {.received_at_ms = 1709294400000, .sent_at_ms = 1709294399600, .client_ip = "203.0.113.5"});
  REQUIRE(event.has_value());
  CHECK(event->title == "TypeError: Cannot read properties of undefined (reading 'id')");
  CHECK(event->culprit == "loadOrder(orders)");  // JavaScript's way: function(module)
  CHECK(event->level == "fatal");
  CHECK(event->timestamp_ms == 1709294399512);
  CHECK(event->user.ip_address.empty());  // node is not a client platform: no IP inferred
  CHECK(TagOf(*event, "handled") == "no");
  CHECK(TagOf(*event, "mechanism") == "auto.node.onuncaughtexception");
  CHECK(TagOf(*event, "runtime") == "node v20.11.1");
  CHECK(TagOf(*event, "os") == "Linux 6.1");
  CHECK(TagOf(*event, "user") == "<absent>");

  const auto stored = ParseStored(event->storable_json);
  CHECK(At(stored, "/user") == nullptr);
  CHECK(StringAt(stored, "/breadcrumbs/0/data/url") == "https://pay.example/v1?api_key=xyz");  // not a key
  CHECK(StringAt(stored, "/contexts/trace/trace_id") == "0af7651916cd43dd8448eb211c80319c");
}

TEST_CASE("@sentry/browser: IP inference follows sdk.settings.infer_ip", "[unit][normalize]") {
  const std::string base = R"({"platform":"javascript","level":"error","message":"x",
      "request":{"url":"https://app.example/#/cart","headers":{"User-Agent":"Mozilla/5.0 Safari/605.1.15"}},
      "sdk":{"name":"sentry.javascript.browser","version":"11.12.0","settings":{"infer_ip":"INFER"}})";
  const auto with = [&](const std::string& infer, const std::string& user) {
    std::string json = base;
    json.replace(json.find("INFER"), 5, infer);
    return NormalizeEvent(json + user + "}", {.received_at_ms = 1, .client_ip = "198.51.100.23"});
  };
  auto inferred = with("auto", "");
  REQUIRE(inferred.has_value());
  CHECK(inferred->user.ip_address == "198.51.100.23");
  CHECK(TagOf(*inferred, "user") == "ip:198.51.100.23");
  CHECK(TagOf(*inferred, "url") == "https://app.example/");
  CHECK(StringAt(ParseStored(inferred->storable_json), "/user/ip_address") == "198.51.100.23");

  auto never = with("never", R"(,"user":{"ip_address":"{{auto}}","id":"9"})");
  REQUIRE(never.has_value());
  CHECK(never->user.ip_address.empty());
  CHECK(never->user.id == "9");
  CHECK(At(ParseStored(never->storable_json), "/user/ip_address") == nullptr);
}
