// rookery-notify-send: one e-mail or one webhook through rookery::notify, from the command line.
//
//   rookery-notify-send smtp --url smtp://host:port --from ADDR --to ADDR [--to ADDR …] --subject TEXT
//       --text TEXT [--html TEXT] --message-id ID [--from-name NAME] [--unsubscribe URL]
//       [--header NAME=VALUE …] [--date UNIX_SECONDS] [--starttls none|opportunistic|required]
//       [--username NAME] [--insecure] [--connect-timeout-ms N] [--timeout-ms N]
//   rookery-notify-send build-email  (the message options above): prints the message, sends nothing
//   rookery-notify-send webhook --url URL (--body JSON | --body-file PATH) [--timestamp N]
//       [--delivery-id ID] [--insecure] [--connect-timeout-ms N] [--timeout-ms N] [--max-response-bytes N]
//
// Secrets come from the environment, never from arguments (which any user can read in ps):
// ROOKERY_SMTP_PASSWORD and ROOKERY_WEBHOOK_SECRET.
// Prints one JSON line with the outcome; exits 0 when delivered, 75 (EX_TEMPFAIL) on a transient
// failure, 69 (EX_UNAVAILABLE) on a permanent one, 64 (EX_USAGE) on bad arguments.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "rookery/notify/email.hpp"
#include "rookery/notify/smtp.hpp"
#include "rookery/notify/webhook.hpp"

namespace {

using rookery::notify::SendError;

constexpr int kExitOk = 0;
constexpr int kExitUsage = 64;
constexpr int kExitPermanent = 69;
constexpr int kExitTransient = 75;

// Options that may repeat keep every value; the rest keep the last.
using Options = std::multimap<std::string, std::string>;

bool ParseOptions(int argc, char** argv, Options& options) {
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!arg.starts_with("--")) return false;
    if (arg == "--insecure") {
      options.emplace("insecure", "1");
      continue;
    }
    if (i + 1 >= argc) return false;
    options.emplace(arg.substr(2), argv[++i]);
  }
  return true;
}

std::string Get(const Options& options, const std::string& name, const std::string& fallback = "") {
  auto range = options.equal_range(name);
  return range.first == range.second ? fallback : std::prev(range.second)->second;
}

bool GetInt(const Options& options, const std::string& name, long long fallback, long long& out) {
  const std::string text = Get(options, name);
  if (text.empty()) {
    out = fallback;
    return true;
  }
  char* end = nullptr;
  out = std::strtoll(text.c_str(), &end, 10);
  return end != nullptr && *end == '\0';
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

int Usage(const std::string& why) {
  std::cerr << "rookery-notify-send: " << why << "\n"
            << "usage: rookery-notify-send smtp|build-email|webhook --url URL [options] (see the source's header)\n";
  return kExitUsage;
}

void PrintResult(long status, const SendError* error, const std::string* body, bool truncated) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("ok");
  writer.Bool(error == nullptr);
  writer.Key("status");
  writer.Int64(error != nullptr ? error->status : status);
  if (error != nullptr) {
    writer.Key("kind");
    writer.String(rookery::notify::FailureKindName(error->kind));
    writer.Key("detail");
    const std::string detail = rookery::notify::internal::SanitizeUtf8(error->detail);
    writer.String(detail.c_str(), static_cast<rapidjson::SizeType>(detail.size()));
    if (error->retry_after) {
      writer.Key("retry_after");
      writer.Int64(error->retry_after->count());
    }
  }
  if (body != nullptr) {
    writer.Key("body");
    const std::string clean = rookery::notify::internal::SanitizeUtf8(*body);
    writer.String(clean.c_str(), static_cast<rapidjson::SizeType>(clean.size()));
    writer.Key("body_truncated");
    writer.Bool(truncated);
  }
  writer.EndObject();
  std::cout << buffer.GetString() << std::endl;
}

int Failed(const SendError& error) {
  PrintResult(0, &error, nullptr, false);
  return error.Transient() ? kExitTransient : kExitPermanent;
}

int EmailCommand(const Options& options, bool send) {
  rookery::notify::Email email;
  email.from = {Get(options, "from"), Get(options, "from-name")};
  for (auto [it, end] = options.equal_range("to"); it != end; ++it) email.to.push_back({it->second, ""});
  email.subject = Get(options, "subject");
  email.text_body = Get(options, "text");
  email.html_body = Get(options, "html");
  email.message_id = Get(options, "message-id");
  email.list_unsubscribe_url = Get(options, "unsubscribe");
  for (auto [it, end] = options.equal_range("header"); it != end; ++it) {
    const std::size_t eq = it->second.find('=');
    if (eq == std::string::npos) return Usage("--header takes NAME=VALUE");
    email.extra_headers.emplace_back(it->second.substr(0, eq), it->second.substr(eq + 1));
  }
  long long date = 0;
  if (!GetInt(options, "date", 0, date)) return Usage("--date takes Unix seconds");
  email.date_unix_seconds = date;

  if (!send) {
    auto built = rookery::notify::BuildEmail(email);
    if (!built) {
      std::cerr << "rookery-notify-send: " << built.error().detail << "\n";
      return kExitPermanent;
    }
    std::cout << built->data;
    return kExitOk;
  }

  rookery::notify::SmtpConfig config;
  config.url = Get(options, "url");
  if (config.url.empty()) return Usage("--url is required");
  const std::string starttls = Get(options, "starttls", "required");
  if (starttls == "none") {
    config.starttls = rookery::notify::StartTls::kNone;
  } else if (starttls == "opportunistic") {
    config.starttls = rookery::notify::StartTls::kOpportunistic;
  } else if (starttls == "required") {
    config.starttls = rookery::notify::StartTls::kRequired;
  } else {
    return Usage("--starttls takes none, opportunistic or required");
  }
  config.username = Get(options, "username");
  config.password = Env("ROOKERY_SMTP_PASSWORD");
  config.verify_tls = Get(options, "insecure").empty();
  long long connect_ms = 0;
  long long total_ms = 0;
  if (!GetInt(options, "connect-timeout-ms", 10000, connect_ms) || !GetInt(options, "timeout-ms", 30000, total_ms)) {
    return Usage("timeouts take milliseconds");
  }
  config.connect_timeout = std::chrono::milliseconds(connect_ms);
  config.timeout = std::chrono::milliseconds(total_ms);

  const rookery::notify::SmtpSender sender(config);
  auto result = sender.Send(email);
  if (!result) return Failed(result.error());
  PrintResult(result->reply_code, nullptr, nullptr, false);
  return kExitOk;
}

int WebhookCommand(const Options& options) {
  rookery::notify::WebhookRequest request;
  request.url = Get(options, "url");
  if (request.url.empty()) return Usage("--url is required");
  request.body = Get(options, "body");
  const std::string body_file = Get(options, "body-file");
  if (!body_file.empty()) {
    std::ifstream file(body_file, std::ios::binary);
    if (!file) return Usage("cannot read " + body_file);
    std::ostringstream content;
    content << file.rdbuf();
    request.body = content.str();
  }
  request.secret = Env("ROOKERY_WEBHOOK_SECRET");
  request.delivery_id = Get(options, "delivery-id");
  long long timestamp = 0;
  long long connect_ms = 0;
  long long total_ms = 0;
  long long max_response = 0;
  if (!GetInt(options, "timestamp", 0, timestamp) || !GetInt(options, "connect-timeout-ms", 5000, connect_ms) ||
      !GetInt(options, "timeout-ms", 10000, total_ms) || !GetInt(options, "max-response-bytes", 65536, max_response) ||
      max_response < 0) {
    return Usage("numeric options take integers");
  }
  request.timestamp = timestamp;

  rookery::notify::WebhookConfig config;
  config.connect_timeout = std::chrono::milliseconds(connect_ms);
  config.timeout = std::chrono::milliseconds(total_ms);
  config.max_response_bytes = static_cast<std::size_t>(max_response);
  config.verify_tls = Get(options, "insecure").empty();

  const rookery::notify::WebhookSender sender(config);
  auto result = sender.Post(request);
  if (!result) return Failed(result.error());
  PrintResult(result->status, nullptr, &result->body, result->body_truncated);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage("missing command");
  const std::string command = argv[1];
  Options options;
  if (!ParseOptions(argc, argv, options)) return Usage("options are --name value pairs");
  if (command == "smtp") return EmailCommand(options, true);
  if (command == "build-email") return EmailCommand(options, false);
  if (command == "webhook") return WebhookCommand(options);
  return Usage("unknown command " + command);
}
