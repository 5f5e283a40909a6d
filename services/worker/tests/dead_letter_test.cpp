#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "dead_letter.hpp"
#include "event_processor.hpp"
#include "test_support.hpp"

using namespace rookery::worker;
using rookery::protocol::EncodeRawEvent;
using rookery::protocol::IngestEndpoint;
using rookery::protocol::RawEvent;
using rookery::worker::testing::kRules;
using rookery::worker::testing::MakeRaw;

namespace {

// The secrets the events below carry; none may reach a dead letter.
const char* const kSecrets[] = {"hunter2",          "s3cr3t-t0ken",     "c00kie-secret",  "4111 1111 1111 1111",
                                "4111111111111111", "5500005555555559", "pr1vate-api-key"};

// A login error with a password, an Authorization header (as an object and as pairs), a session
// cookie and card numbers (in text and as a number).
const std::string kEvent =
    R"({"message":"login failed for card 4111 1111 1111 1111","level":"error",)"
    R"("extra":{"password":"hunter2","order_ref":"A-77","card_number":5500005555555559},)"
    R"("request":{"url":"https://shop.example/login?user=bob&api_key=pr1vate-api-key",)"
    R"("headers":{"Authorization":"Bearer s3cr3t-t0ken","Cookie":"sessionid=c00kie-secret","Accept":"text/html"},)"
    R"("data":"user=bob&password=hunter2"},)"
    R"("breadcrumbs":{"values":[{"message":"headers","data":{"pairs":[["Authorization","Bearer s3cr3t-t0ken"]]}}]},)"
    R"("user":{"id":"u-1"}})";

DeadLetter Dead(const std::string& value, std::string_view header, const SettingsLookup& settings = kRules) {
  ProcessResult result = ProcessRecord(value, header, settings);
  REQUIRE(std::holds_alternative<DeadLetter>(result));
  return std::get<DeadLetter>(result);
}

// What the worker stored before: the message itself. Checked so that each test below would fail
// on it, and so that a test whose input lost its secrets does not pass vacuously.
void CheckHasSecrets(const std::string& message, std::initializer_list<const char*> secrets) {
  for (const char* secret : secrets) {
    INFO(secret);
    CHECK(message.find(secret) != std::string::npos);
  }
}

void CheckNoSecrets(const std::string& payload) {
  INFO(payload);
  for (const char* secret : kSecrets) {
    INFO(secret);
    CHECK(payload.find(secret) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("a message of an unknown contract version is dead-lettered scrubbed", "[unit][worker]") {
  SECTION("the header names an unknown version") {
    const std::string value = EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, kEvent));
    CheckHasSecrets(value, {"hunter2", "s3cr3t-t0ken", "c00kie-secret", "4111 1111 1111 1111", "pr1vate-api-key"});
    const DeadLetter dead = Dead(value, "2");
    CheckNoSecrets(dead.payload);
    CHECK_THAT(dead.reason, Catch::StartsWith("unsupported contract version header '2'"));
    CHECK_THAT(dead.reason, Catch::Contains("message of " + std::to_string(value.size()) + " bytes"));
    CHECK_THAT(dead.reason, Catch::Contains("project 3, event fc6d8c0c43fc4630ad850ee518f1b9d0"));
    CHECK_THAT(dead.reason, Catch::EndsWith("payload: scrubbed JSON of the event]"));
    // Still useful: the event's shape and harmless values, the names of the filtered fields.
    CHECK_THAT(dead.payload, Catch::Contains(R"("password":"[Filtered]")"));
    CHECK_THAT(dead.payload, Catch::Contains(R"("Authorization":"[Filtered]")"));
    CHECK_THAT(dead.payload, Catch::Contains(R"("order_ref":"A-77")"));
    CHECK_THAT(dead.payload, Catch::Contains(R"("Accept":"text/html")"));
    CHECK_THAT(dead.payload, Catch::Contains("login failed for card [Filtered]"));
    CHECK_THAT(dead.payload, Catch::Contains("user=bob"));
  }
  SECTION("the message itself says a newer version (a rolling upgrade)") {
    RawEvent raw = MakeRaw(IngestEndpoint::kStore, kEvent);
    raw.contract_version = 2;
    const std::string value = EncodeRawEvent(raw);
    CheckHasSecrets(value, {"hunter2", "s3cr3t-t0ken", "c00kie-secret", "4111 1111 1111 1111"});
    const DeadLetter dead = Dead(value, "");
    CheckNoSecrets(dead.payload);
    CHECK_THAT(dead.reason, Catch::Contains("contract version 2"));
    CHECK_THAT(dead.payload, Catch::Contains(R"("order_ref":"A-77")"));
  }
  SECTION("an envelope of an unknown version: its event item") {
    const std::string value =
        EncodeRawEvent(MakeRaw(IngestEndpoint::kEnvelope, "{}\n{\"type\":\"event\"}\n" + kEvent + "\n"));
    const DeadLetter dead = Dead(value, "99");
    CheckNoSecrets(dead.payload);
    CHECK_THAT(dead.reason, Catch::EndsWith("payload: scrubbed JSON of the envelope's event item]"));
    CHECK_THAT(dead.payload, Catch::Contains(R"("order_ref":"A-77")"));
  }
}

TEST_CASE("a broken envelope is dead-lettered as redacted text", "[unit][worker]") {
  // The item claims more bytes than there are: not an envelope, and its event JSON unreachable.
  const std::string body =
      "{\"event_id\":\"fc6d8c0c43fc4630ad850ee518f1b9d0\"}\n{\"type\":\"event\",\"length\":99999}\n" + kEvent +
      "\nAuthorization: Bearer s3cr3t-t0ken\n";
  const std::string value = EncodeRawEvent(MakeRaw(IngestEndpoint::kEnvelope, body));
  CheckHasSecrets(value, {"hunter2", "s3cr3t-t0ken", "c00kie-secret", "4111 1111 1111 1111", "pr1vate-api-key"});
  const DeadLetter dead = Dead(value, "1");
  CHECK_THAT(dead.reason, Catch::StartsWith("envelope: "));
  CHECK_THAT(dead.reason, Catch::EndsWith("payload: redacted text of the envelope]"));
  CheckNoSecrets(dead.payload);
  CHECK_THAT(dead.payload, Catch::Contains(R"("password":"[Filtered]")"));
  CHECK_THAT(dead.payload, Catch::Contains("Authorization: [Filtered]\n"));
  CHECK_THAT(dead.payload, Catch::Contains(R"("order_ref":"A-77")"));
  CHECK_THAT(dead.payload, Catch::Contains(R"({"type":"event","length":99999})"));
}

TEST_CASE("garbage that is not a raw event is dead-lettered as redacted text", "[unit][worker]") {
  SECTION("text") {
    const std::string value =
        "POST /login user=bob password=hunter2&remember=1\r\nCookie: sessionid=c00kie-secret\r\n"
        "X-Api-Key: pr1vate-api-key\r\ncard 4111-1111-1111-1111 and {\"token\": \"s3cr3t-t0ken\"}";
    CheckHasSecrets(value, {"hunter2", "c00kie-secret", "pr1vate-api-key", "s3cr3t-t0ken"});
    const DeadLetter dead = Dead(value, "");
    CHECK_THAT(dead.reason, Catch::StartsWith("message is not a RawEvent protobuf"));
    CHECK_THAT(dead.reason, Catch::EndsWith("[message of " + std::to_string(value.size()) +
                                            " bytes; payload: redacted text of the message]"));
    CheckNoSecrets(dead.payload);
    CHECK(dead.payload.find("4111-1111-1111-1111") == std::string::npos);
    CHECK(dead.payload ==
          "POST /login user=bob password=[Filtered]&remember=1\r\nCookie: [Filtered]\r\n"
          "X-Api-Key: [Filtered]\r\ncard [Filtered] and {\"token\": \"[Filtered]\"}");
  }
  SECTION("the simplest case") {
    const DeadLetter dead = Dead("password=hunter2", "");
    CHECK(dead.payload == "password=[Filtered]");
  }
  SECTION("text without secrets is kept as it was") {
    CHECK(Dead("first, read before the gap", "").payload == "first, read before the gap");
  }
  SECTION("bytes that are not text become '?': compressed or binary data cannot be recovered") {
    const std::string value = std::string("\x1f\x8b\x08\x00password=hunter2 \xff\xfe", 23) + "caf\xc3\xa9";
    const DeadLetter dead = Dead(value, "");
    CHECK(dead.payload == "????password=[Filtered] ??caf\xc3\xa9");
  }
  SECTION("kept up to 64 KiB, redacted before it is cut") {
    const std::string value = std::string(70000, 'x') + " password=hunter2";
    const DeadLetter dead = Dead("password=hunter2 " + value, "");
    CHECK(dead.payload.size() == kMaxRedactedPayloadBytes);
    CHECK_THAT(dead.payload, Catch::StartsWith("password=[Filtered] xxx"));
    CHECK_THAT(dead.reason, Catch::Contains("its first 65536 of "));
  }
}

TEST_CASE("a current message that cannot be processed is dead-lettered scrubbed", "[unit][worker]") {
  SECTION("a store body that is not JSON") {
    const std::string body = "password=hunter2&card=4111111111111111&note=not json";
    const DeadLetter dead = Dead(EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, body)), "1");
    CHECK_THAT(dead.reason, Catch::StartsWith("event is not valid JSON"));
    CHECK(dead.payload == "password=[Filtered]&card=[Filtered]&note=not json");
  }
  SECTION("JSON nested too deep: the secrets filtered, the depth cut") {
    const std::string body = R"({"password":"hunter2","a":)" + std::string(5000, '[') + "\"4111111111111111\"" +
                             std::string(5000, ']') + "}";
    const DeadLetter dead = Dead(EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, body)), "1");
    CHECK_THAT(dead.reason, Catch::StartsWith("event JSON nested too deep"));
    CheckNoSecrets(dead.payload);
    CHECK_THAT(dead.payload, Catch::StartsWith(R"({"password":"[Filtered]","a":[[[)"));
    CHECK_THAT(dead.payload, Catch::Contains("\"[too deep]\""));
    CHECK(dead.payload.size() < 1000);
  }
  SECTION("JSON that is not an object") {
    const DeadLetter dead =
        Dead(EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, R"([["Authorization","Bearer s3cr3t-t0ken"],42])")), "1");
    CHECK(dead.payload == R"([["Authorization","[Filtered]"],42])");
  }
}

TEST_CASE("the project's scrubbing settings add to the defaults in dead letters", "[unit][worker]") {
  ProjectSettings project;
  project.scrubbing.enabled = false;               // the defaults apply anyway
  project.scrubbing.safe_fields = {"password"};    // not honoured either
  project.scrubbing.extra_fields = {"order_ref"};  // honoured
  project.scrubbing.scrub_ip_addresses = true;     // honoured
  std::int64_t asked_for = 0;
  const SettingsLookup lookup = [&](std::int64_t id) -> const ProjectSettings& {
    asked_for = id;
    return project;
  };
  const std::string body = R"({"extra":{"password":"hunter2","order_ref":"A-77","peer":"203.0.113.9"}})";
  const DeadLetter dead = Dead(EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, body)), "7", lookup);
  CHECK(asked_for == 3);
  CHECK(dead.payload == R"({"extra":{"password":"[Filtered]","order_ref":"[Filtered]","peer":"[ip]"}})");
}

TEST_CASE("an event the database refused is scrubbed with the default rules too", "[unit][worker]") {
  // What a project with scrubbing off stores: the dead letter still filters it.
  CHECK(RefusedEventPayload(R"({"message":"m","extra":{"password":"hunter2","n":1}})") ==
        R"({"message":"m","extra":{"password":"[Filtered]","n":1}})");
}
