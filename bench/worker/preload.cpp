// rookery-bench-preload: fills the raw-events topic with what the relay would have produced for
// a realistic mix of sentry-python events, so bench/worker measures the worker alone.
//
//   rookery-bench-preload --brokers B --topic T --count N --project ID:KEY_ID [--project ...]
//                         [--groups G] [--seed S]
//
// Events are store bodies as sentry-python 1.9 sends them: an exception with 5-30 frames (context
// lines, locals), breadcrumbs, request data, contexts; a third come from the logging integration
// (logentry with params); about half carry a user and custom tags. Each group (default 200) has a
// fixed exception type and stack, so Sentry grouping gives exactly one hash per group, and belongs
// to one project (group % projects). Only what grouping ignores varies per event (value, locals,
// breadcrumbs, request, user), and breadcrumbs pad each body to a size drawn from 2-8 KB.
// Messages are wrapped in the RawEvent contract and keyed by event id, as the relay does, by an
// idempotent producer; it waits for every delivery and prints how many were delivered.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "rookery/core/event_id.hpp"
#include "rookery/core/time.hpp"
#include "rookery/kafka/producer.hpp"
#include "rookery/protocol/raw_event.hpp"

namespace rookery::bench {
namespace {

constexpr int kExitUsage = 2;
constexpr std::size_t kMinBodyBytes = 2048;
constexpr std::size_t kMaxBodyBytes = 8192;
constexpr int kMinFrames = 5;
constexpr int kMaxFrames = 30;
// sentry-python's default max_breadcrumbs.
constexpr std::size_t kMaxBreadcrumbs = 100;

constexpr std::string_view kUsage = R"(Usage:
  rookery-bench-preload --brokers B --topic T --count N --project ID:KEY_ID [--project ID:KEY_ID ...]
                        [--groups G (default 200)] [--seed S (default 7)]
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ProjectKey {
  std::int64_t project_id = 0;
  std::int64_t key_id = 0;
};

struct Options {
  std::string brokers;
  std::string topic;
  std::int64_t count = 0;
  std::vector<ProjectKey> projects;
  int groups = 200;
  std::uint64_t seed = 7;
};

std::int64_t ParseInt(std::string_view what, std::string_view text, std::int64_t min_value) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end || value < min_value) {
    throw UsageError(std::string(what) + " must be an integer >= " + std::to_string(min_value) + ", got '" +
                     std::string(text) + "'");
  }
  return value;
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = argv[i];
    if (i + 1 >= argc) throw UsageError(std::string(name) + " requires a value");
    const std::string_view value = argv[++i];
    if (name == "--brokers") {
      options.brokers = value;
    } else if (name == "--topic") {
      options.topic = value;
    } else if (name == "--count") {
      options.count = ParseInt(name, value, 1);
    } else if (name == "--groups") {
      options.groups = static_cast<int>(std::min<std::int64_t>(ParseInt(name, value, 1), 100000));
    } else if (name == "--seed") {
      options.seed = static_cast<std::uint64_t>(ParseInt(name, value, 0));
    } else if (name == "--project") {
      const auto colon = value.find(':');
      if (colon == value.npos) throw UsageError("--project takes ID:KEY_ID");
      options.projects.push_back(
          {ParseInt("project id", value.substr(0, colon), 1), ParseInt("key id", value.substr(colon + 1), 1)});
    } else {
      throw UsageError("unknown argument '" + std::string(name) + "'");
    }
  }
  if (options.brokers.empty() || options.topic.empty() || options.count == 0 || options.projects.empty()) {
    throw UsageError("--brokers, --topic, --count and at least one --project are required");
  }
  return options;
}

constexpr std::array<std::string_view, 16> kExceptionTypes = {
    "ValueError",        "KeyError",      "TypeError",           "AttributeError",
    "IndexError",        "TimeoutError",  "ConnectionError",     "PermissionError",
    "ZeroDivisionError", "RuntimeError",  "NotImplementedError", "LookupError",
    "FileNotFoundError", "OverflowError", "UnicodeDecodeError",  "AssertionError"};
constexpr std::array<std::string_view, 10> kAreas = {"api",     "billing", "checkout", "search", "accounts",
                                                     "catalog", "orders",  "shipping", "emails", "reports"};
constexpr std::array<std::string_view, 12> kVerbs = {"load",  "save",     "render", "validate", "fetch", "apply",
                                                     "parse", "dispatch", "build",  "resolve",  "sync",  "compute"};
constexpr std::array<std::string_view, 12> kNouns = {"order",  "invoice", "cart",    "user",    "token", "price",
                                                     "report", "address", "session", "product", "quota", "refund"};
constexpr std::array<std::string_view, 6> kLibraryFrames = {
    "django.core.handlers.exception:inner", "django.core.handlers.base:_get_response",
    "django.views.generic.base:view",       "rest_framework.views:dispatch",
    "celery.app.trace:trace_task",          "sqlalchemy.orm.query:all"};
constexpr std::array<std::string_view, 8> kBreadcrumbCategories = {
    "django.request", "query", "httplib", "redis", "celery.task", "logging", "ui.click", "navigation"};

struct Frame {
  std::string module;
  std::string function;
  std::string filename;
  std::string context_line;
  int lineno = 0;
  bool in_app = false;
};

// Everything that makes a group a group: only this feeds Sentry's grouping.
struct Group {
  std::size_t project = 0;
  std::string type;
  std::string mechanism;
  std::vector<Frame> frames;  // oldest first, as Sentry orders them
};

std::string Pick(std::string_view a, std::string_view b) {
  return std::string(a) + "_" + std::string(b);
}

std::vector<Group> MakeGroups(int count, std::size_t projects) {
  std::vector<Group> groups;
  for (int g = 0; g < count; ++g) {
    Group group;
    const auto gu = static_cast<std::size_t>(g);
    group.project = gu % projects;
    group.type = std::string(kExceptionTypes[gu % kExceptionTypes.size()]);
    group.mechanism = g % 3 == 0 ? "logging" : "django";
    const int frame_count = kMinFrames + (g * 11) % (kMaxFrames - kMinFrames + 1);
    const std::string area(kAreas[gu % kAreas.size()]);
    for (int i = 0; i < frame_count; ++i) {
      Frame frame;
      const auto iu = static_cast<std::size_t>(i);
      if (i < 3) {
        // The framework's frames first: not in-app, shared by many groups, as in real stacks.
        const std::string_view lib = kLibraryFrames[(gu + iu) % kLibraryFrames.size()];
        const auto colon = lib.find(':');
        frame.module = std::string(lib.substr(0, colon));
        frame.function = std::string(lib.substr(colon + 1));
        frame.filename = frame.module;
        std::replace(frame.filename.begin(), frame.filename.end(), '.', '/');
        frame.filename += ".py";
        frame.context_line = "    response = " + frame.function + "(request)";
        frame.lineno = 40 + i * 13;
        frame.in_app = false;
      } else {
        // Group-specific in-app frames: the group number in the function name keeps 200 hashes apart.
        frame.module = "shop." + area + "." + std::string(kNouns[(gu + iu) % kNouns.size()]) + "s";
        frame.function = Pick(kVerbs[(gu * 7 + iu) % kVerbs.size()], kNouns[(gu + iu * 5) % kNouns.size()]) + "_" +
                         std::to_string(g);
        frame.filename = frame.module;
        std::replace(frame.filename.begin(), frame.filename.end(), '.', '/');
        frame.filename += ".py";
        frame.context_line = "    rv = " + frame.function + "(payload)";
        frame.lineno = 12 + (g * 31 + i * 17) % 400;
        frame.in_app = true;
      }
      group.frames.push_back(std::move(frame));
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Field(Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void Field(Writer& w, std::string_view key, std::int64_t value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Int64(value);
}

// One event's varying parts, drawn once so the body can be written twice (to measure, then to pad).
struct EventSpec {
  EventId event_id;
  const Group* group = nullptr;
  std::int64_t timestamp_ms = 0;
  std::string value;
  std::string environment;
  std::string release;
  std::string server_name;
  std::string url;
  std::string client_ip;
  bool logging = false;
  std::int64_t order_id = 0;
  bool with_user = false;
  std::int64_t user_id = 0;
  std::string tier;
  std::string region;
  std::vector<std::string> breadcrumbs;  // rendered JSON objects
};

std::string RenderBreadcrumb(std::mt19937_64& rng, std::int64_t now_ms, std::size_t index) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  const std::string_view category = kBreadcrumbCategories[rng() % kBreadcrumbCategories.size()];
  w.StartObject();
  Field(w, "timestamp", FormatIso8601Millis(now_ms - 60000 + static_cast<std::int64_t>(index) * 350));
  Field(w, "type", category == "httplib" ? "http" : "default");
  Field(w, "category", category);
  Field(w, "level", rng() % 5 == 0 ? "warning" : "info");
  if (category == "query") {
    Field(w, "message",
          "SELECT \"orders\".\"id\", \"orders\".\"status\", \"orders\".\"total\" FROM \"orders\" WHERE "
          "\"orders\".\"customer_id\" = " +
              std::to_string(rng() % 100000) + " LIMIT 21");
  } else if (category == "httplib") {
    w.Key("data");
    w.StartObject();
    Field(w, "url", "https://payments.example.com/v2/charges/" + std::to_string(rng() % 1000000));
    Field(w, "method", "POST");
    Field(w, "status_code", static_cast<std::int64_t>(rng() % 3 == 0 ? 502 : 200));
    w.EndObject();
  } else {
    Field(w, "message",
          std::string(category) + " step " + std::to_string(index) + " took " + std::to_string(rng() % 900) +
              " ms for request " + std::to_string(rng() % 1000000));
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string RenderBody(const EventSpec& spec, std::size_t breadcrumbs) {
  const Group& group = *spec.group;
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Field(w, "event_id", spec.event_id.ToHex());
  Field(w, "timestamp", FormatIso8601Millis(spec.timestamp_ms));
  Field(w, "platform", "python");
  Field(w, "level", "error");
  if (spec.logging) Field(w, "logger", "shop.tasks");
  Field(w, "server_name", spec.server_name);
  Field(w, "release", spec.release);
  Field(w, "environment", spec.environment);
  if (spec.logging) {
    w.Key("logentry");
    w.StartObject();
    Field(w, "message", "Failed to process order %s");
    w.Key("params");
    w.StartArray();
    w.String(std::to_string(spec.order_id));
    w.EndArray();
    w.EndObject();
  }
  w.Key("exception");
  w.StartObject();
  w.Key("values");
  w.StartArray();
  w.StartObject();
  Field(w, "type", group.type);
  Field(w, "value", spec.value);
  Field(w, "module", "builtins");
  w.Key("mechanism");
  w.StartObject();
  Field(w, "type", group.mechanism);
  w.Key("handled");
  w.Bool(spec.logging);
  w.EndObject();
  w.Key("stacktrace");
  w.StartObject();
  w.Key("frames");
  w.StartArray();
  for (std::size_t i = 0; i < group.frames.size(); ++i) {
    const Frame& frame = group.frames[i];
    const bool newest = i + 3 >= group.frames.size();
    w.StartObject();
    Field(w, "filename", frame.filename);
    Field(w, "module", frame.module);
    Field(w, "function", frame.function);
    Field(w, "lineno", frame.lineno);
    Field(w, "context_line", frame.context_line);
    w.Key("in_app");
    w.Bool(frame.in_app);
    // Surrounding lines and locals of the newest frames only, which keeps a 30-frame event within
    // 8 KB; locals differ per event.
    if (newest) {
      w.Key("pre_context");
      w.StartArray();
      w.String("def " + frame.function + "(payload):");
      w.String("    payload = normalize(payload)");
      w.EndArray();
      w.Key("post_context");
      w.StartArray();
      w.String("    return rv");
      w.EndArray();
      w.Key("vars");
      w.StartObject();
      Field(w, "order_id", std::to_string(spec.order_id));
      Field(w, "retries", static_cast<std::int64_t>(i % 4));
      Field(w, "payload", "{'sku': 'SKU-" + std::to_string(spec.order_id % 9973) + "', 'qty': 2}");
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  w.Key("breadcrumbs");
  w.StartObject();
  w.Key("values");
  w.StartArray();
  for (std::size_t i = 0; i < breadcrumbs && i < spec.breadcrumbs.size(); ++i) {
    const std::string& crumb = spec.breadcrumbs[i];
    w.RawValue(crumb.data(), crumb.size(), rapidjson::kObjectType);
  }
  w.EndArray();
  w.EndObject();
  w.Key("request");
  w.StartObject();
  Field(w, "url", spec.url);
  Field(w, "method", spec.logging ? "GET" : "POST");
  Field(w, "query_string", "page=2&sort=-created");
  w.Key("headers");
  w.StartObject();
  Field(w, "Host", "shop.example.com");
  Field(w, "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0");
  Field(w, "Accept", "application/json");
  Field(w, "Content-Type", "application/json");
  w.EndObject();
  w.Key("env");
  w.StartObject();
  Field(w, "REMOTE_ADDR", spec.client_ip);
  Field(w, "SERVER_NAME", spec.server_name);
  Field(w, "SERVER_PORT", "8000");
  w.EndObject();
  w.EndObject();
  if (spec.with_user) {
    w.Key("user");
    w.StartObject();
    Field(w, "id", std::to_string(spec.user_id));
    Field(w, "email", "customer" + std::to_string(spec.user_id) + "@example.com");
    Field(w, "ip_address", "{{auto}}");
    w.EndObject();
    w.Key("tags");
    w.StartObject();
    Field(w, "customer_tier", spec.tier);
    Field(w, "region", spec.region);
    w.EndObject();
  }
  w.Key("contexts");
  w.StartObject();
  w.Key("runtime");
  w.StartObject();
  Field(w, "name", "CPython");
  Field(w, "version", "3.11.2");
  w.EndObject();
  w.Key("os");
  w.StartObject();
  Field(w, "name", "Linux");
  w.EndObject();
  w.EndObject();
  w.Key("extra");
  w.StartObject();
  w.Key("sys.argv");
  w.StartArray();
  w.String("/srv/shop/manage.py");
  w.String("runserver");
  w.EndArray();
  w.EndObject();
  w.Key("sdk");
  w.StartObject();
  Field(w, "name", "sentry.python");
  Field(w, "version", "1.9.10");
  w.Key("integrations");
  w.StartArray();
  for (const char* integration : {"argv", "atexit", "dedupe", "django", "excepthook", "logging", "modules", "stdlib"}) {
    w.String(integration);
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

EventId RandomEventId(std::mt19937_64& rng) {
  EventId::Bytes bytes;
  for (auto& byte : bytes) byte = static_cast<std::uint8_t>(rng());
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);
  return EventId(bytes);
}

EventSpec DrawEvent(std::mt19937_64& rng, const std::vector<Group>& groups, std::int64_t now_ms) {
  EventSpec spec;
  spec.event_id = RandomEventId(rng);
  spec.group = &groups[rng() % groups.size()];
  spec.timestamp_ms = now_ms - static_cast<std::int64_t>(rng() % 2000);
  spec.order_id = static_cast<std::int64_t>(rng() % 10'000'000);
  spec.value = "order " + std::to_string(spec.order_id) + ": " + spec.group->type + " in " +
               spec.group->frames.back().function + " (attempt " + std::to_string(rng() % 5 + 1) + ")";
  spec.environment = rng() % 4 == 0 ? "staging" : "production";
  spec.release = "shop@2.14." + std::to_string(rng() % 5);
  spec.server_name = "web-" + std::to_string(rng() % 12 + 1);
  spec.url = "https://shop.example.com/api/" + spec.group->frames.back().module.substr(5) + "/" +
             std::to_string(spec.order_id);
  spec.client_ip =
      "10." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 254 + 1);
  spec.logging = spec.group->mechanism == "logging";
  spec.with_user = rng() % 2 == 0;
  spec.user_id = static_cast<std::int64_t>(rng() % 5000 + 1);
  static constexpr std::array<std::string_view, 3> kTiers = {"free", "pro", "enterprise"};
  static constexpr std::array<std::string_view, 3> kRegions = {"eu-west", "us-east", "ap-south"};
  spec.tier = std::string(kTiers[rng() % kTiers.size()]);
  spec.region = std::string(kRegions[rng() % kRegions.size()]);
  return spec;
}

// Draws a target size, then adds breadcrumbs until the body reaches it; a deep stack may already
// be over it, and then the event keeps no breadcrumbs.
std::string MakeBody(std::mt19937_64& rng, EventSpec& spec, std::int64_t now_ms) {
  const std::size_t target = kMinBodyBytes + rng() % (kMaxBodyBytes - kMinBodyBytes + 1);
  std::size_t size = RenderBody(spec, 0).size();
  while (size < target && spec.breadcrumbs.size() < kMaxBreadcrumbs) {
    std::string crumb = RenderBreadcrumb(rng, now_ms, spec.breadcrumbs.size());
    if (size + crumb.size() + 1 > kMaxBodyBytes) break;
    size += crumb.size() + 1;
    spec.breadcrumbs.push_back(std::move(crumb));
  }
  return RenderBody(spec, spec.breadcrumbs.size());
}

int Run(const Options& options) {
  const std::vector<Group> groups = MakeGroups(options.groups, options.projects.size());
  std::mt19937_64 rng(options.seed);

  std::atomic<std::int64_t> delivered{0};
  std::atomic<std::int64_t> failed{0};
  kafka::KafkaConfig config;
  config.brokers = options.brokers;
  kafka::ProducerOptions producer_options;
  producer_options.linger = std::chrono::milliseconds(20);  // throughput, not latency
  producer_options.delivery_timeout = std::chrono::milliseconds(120000);
  kafka::Producer producer(config, producer_options);
  const kafka::Headers headers = {
      {std::string(protocol::kContractHeader), std::to_string(protocol::kRawEventContractVersion)}};

  std::size_t min_body = SIZE_MAX;
  std::size_t max_body = 0;
  std::size_t total_body = 0;
  std::int64_t with_user = 0;
  std::vector<bool> used(groups.size(), false);
  const auto started = std::chrono::steady_clock::now();
  for (std::int64_t i = 0; i < options.count; ++i) {
    const std::int64_t now_ms = NowMillis();
    EventSpec spec = DrawEvent(rng, groups, now_ms);
    used[static_cast<std::size_t>(spec.group - groups.data())] = true;
    with_user += spec.with_user ? 1 : 0;
    const ProjectKey& project = options.projects[spec.group->project];
    protocol::RawEvent raw;
    raw.event_id = spec.event_id;
    raw.project_id = project.project_id;
    raw.key_id = project.key_id;
    raw.received_at_ms = now_ms;
    raw.client_ip = spec.client_ip;
    raw.endpoint = protocol::IngestEndpoint::kStore;
    raw.sdk_name = "sentry.python";
    raw.sdk_version = "1.9.10";
    raw.body = MakeBody(rng, spec, now_ms);
    min_body = std::min(min_body, raw.body.size());
    max_body = std::max(max_body, raw.body.size());
    total_body += raw.body.size();
    const std::string value = protocol::EncodeRawEvent(raw);
    for (;;) {
      const kafka::SendStatus status =
          producer.Send(options.topic, raw.event_id.AsBytes(), value, headers,
                        [&](const kafka::DeliveryReport& r) { (r.delivered ? delivered : failed).fetch_add(1); });
      if (status == kafka::SendStatus::kEnqueued) break;
      if (status != kafka::SendStatus::kQueueFull) throw std::runtime_error("produce failed");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  // Bounded by lack of progress, not total time: a large preload may take long, a dead broker not.
  std::int64_t last_delivered = -1;
  auto last_progress = std::chrono::steady_clock::now();
  while (producer.OutstandingMessages() > 0) {
    producer.Flush(std::chrono::milliseconds(500));
    if (delivered.load() != last_delivered) {
      last_delivered = delivered.load();
      last_progress = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - last_progress > std::chrono::seconds(60)) {
      throw std::runtime_error("deliveries stalled with " + std::to_string(producer.OutstandingMessages()) +
                               " outstanding");
    }
  }
  producer.Close(std::chrono::seconds(5));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto groups_used = std::count(used.begin(), used.end(), true);
  std::cerr << "preload: " << delivered.load() << " delivered, " << failed.load() << " failed in " << seconds
            << " s; body bytes min " << min_body << " mean " << total_body / static_cast<std::size_t>(options.count)
            << " max " << max_body << "; groups " << groups_used << "; with user " << with_user << "\n";
  std::cout << delivered.load() << " " << groups_used << " " << total_body / static_cast<std::size_t>(options.count)
            << std::endl;
  return failed.load() == 0 && delivered.load() == options.count ? 0 : 1;
}

}  // namespace
}  // namespace rookery::bench

int main(int argc, char** argv) {
  namespace bench = rookery::bench;
  try {
    return bench::Run(bench::ParseOptions(argc, argv));
  } catch (const bench::UsageError& e) {
    std::cerr << "rookery-bench-preload: " << e.what() << "\n" << bench::kUsage;
    return bench::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "rookery-bench-preload: " << e.what() << std::endl;
    return 1;
  }
}
