#include "rookery/notify/smtp.hpp"

#include <algorithm>
#include <cstring>

#include "curl_util.hpp"
#include "rookery/core/env.hpp"

namespace rookery::notify {
namespace {

struct UploadCursor {
  std::string_view data;
  std::size_t offset = 0;
};

std::size_t ReadUpload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* cursor = static_cast<UploadCursor*>(user);
  const std::size_t n = std::min(size * count, cursor->data.size() - cursor->offset);
  std::memcpy(buffer, cursor->data.data() + cursor->offset, n);
  cursor->offset += n;
  return n;
}

long UseSslOption(StartTls policy) {
  switch (policy) {
    case StartTls::kNone: return CURLUSESSL_NONE;
    case StartTls::kOpportunistic: return CURLUSESSL_TRY;
    case StartTls::kRequired: return CURLUSESSL_ALL;
  }
  return CURLUSESSL_ALL;
}

const char* StartTlsName(StartTls policy) {
  switch (policy) {
    case StartTls::kNone: return "none";
    case StartTls::kOpportunistic: return "opportunistic";
    case StartTls::kRequired: return "required";
  }
  return "required";
}

Unexpected<SendError> Permanent(std::string detail) {
  return MakeUnexpected(SendError{FailureKind::kPermanent, 0, std::move(detail), std::nullopt});
}

}  // namespace

namespace internal {

SendError ClassifySmtpFailure(int curl_code, long reply_code, std::string detail) {
  // The relay's own verdict comes first: 454 on AUTH is "try later" even though libcurl calls it
  // a login failure, and 550 on RCPT is final even though libcurl calls it a send error.
  if (auto kind = ClassifySmtpReply(reply_code)) {
    return SendError{*kind, reply_code, std::move(detail), std::nullopt};
  }
  const auto kind =
      IsPermanentCurlFailure(static_cast<CURLcode>(curl_code)) ? FailureKind::kPermanent : FailureKind::kTransient;
  return SendError{kind, reply_code, std::move(detail), std::nullopt};
}

}  // namespace internal

SmtpConfig SmtpConfigFromEnv() {
  SmtpConfig config;
  config.url = EnvString("ROOKERY_SMTP_URL", config.url);
  if (!config.url.starts_with("smtp://") && !config.url.starts_with("smtps://")) {
    throw ConfigError("ROOKERY_SMTP_URL must start with smtp:// or smtps://");
  }
  const std::string starttls = EnvString("ROOKERY_SMTP_STARTTLS", "required");
  if (starttls == "none") {
    config.starttls = StartTls::kNone;
  } else if (starttls == "opportunistic") {
    config.starttls = StartTls::kOpportunistic;
  } else if (starttls == "required") {
    config.starttls = StartTls::kRequired;
  } else {
    throw ConfigError("ROOKERY_SMTP_STARTTLS must be none, opportunistic or required");
  }
  config.username = EnvString("ROOKERY_SMTP_USERNAME", "");
  config.password = EnvString("ROOKERY_SMTP_PASSWORD", "");
  config.from.address = EnvString("ROOKERY_SMTP_FROM", "");
  if (!config.from.address.empty() && !IsValidMailAddress(config.from.address)) {
    throw ConfigError("ROOKERY_SMTP_FROM is not a valid address");
  }
  config.from.display_name = EnvString("ROOKERY_SMTP_FROM_NAME", "Rookery");
  config.connect_timeout = std::chrono::milliseconds(EnvInt("ROOKERY_SMTP_CONNECT_TIMEOUT_MS", 10000, 100, 300000));
  config.timeout = std::chrono::milliseconds(EnvInt("ROOKERY_SMTP_TIMEOUT_MS", 30000, 100, 600000));
  config.verify_tls = EnvInt("ROOKERY_SMTP_VERIFY_TLS", 1, 0, 1) == 1;
  config.ca_file = EnvString("ROOKERY_SMTP_CA_FILE", "");
  return config;
}

std::string DescribeSmtpConfig(const SmtpConfig& config) {
  std::string url = config.url;
  const std::size_t scheme_end = url.find("://");
  if (scheme_end != std::string::npos) {
    const std::size_t host_start = scheme_end + 3;
    const std::size_t path_start = std::min(url.find('/', host_start), url.size());
    const std::size_t at = url.rfind('@', path_start);
    if (at != std::string::npos && at >= host_start) url.erase(host_start, at + 1 - host_start);
  }
  std::string text = url + " starttls=" + StartTlsName(config.starttls);
  if (!config.username.empty()) text += " user=" + config.username;
  if (!config.verify_tls) text += " verify_tls=off";
  return text;
}

SmtpSender::SmtpSender(SmtpConfig config) : config_(std::move(config)) {}

Expected<SmtpDelivery, SendError> SmtpSender::Send(Email email) const {
  if (email.from.address.empty()) email.from = config_.from;
  auto built = BuildEmail(email);
  if (!built) return Permanent("message not built: " + built.error().detail);
  return Send(*built);
}

Expected<SmtpDelivery, SendError> SmtpSender::Send(const BuiltEmail& message) const {
  // BuiltEmail is a plain struct; an address with CR or LF here would be an SMTP command injection.
  if (!IsValidMailAddress(message.envelope_from)) return Permanent("invalid envelope sender");
  if (message.envelope_to.empty()) return Permanent("no recipients");
  internal::CurlList recipients;
  for (const auto& address : message.envelope_to) {
    if (!IsValidMailAddress(address)) return Permanent("invalid envelope recipient");
    if (!recipients.Append("<" + address + ">")) {
      return MakeUnexpected(SendError{FailureKind::kTransient, 0, "out of memory", std::nullopt});
    }
  }

  internal::CurlErrorBuffer error{};
  internal::CurlEasy curl = internal::NewEasy("smtp,smtps", config_.connect_timeout, config_.timeout,
                                              config_.verify_tls, config_.ca_file, error);
  if (!curl) return MakeUnexpected(SendError{FailureKind::kTransient, 0, "libcurl unavailable", std::nullopt});
  CURL* handle = curl.get();
  const std::string mail_from = "<" + message.envelope_from + ">";
  UploadCursor cursor{message.data, 0};
  curl_easy_setopt(handle, CURLOPT_URL, config_.url.c_str());
  curl_easy_setopt(handle, CURLOPT_USE_SSL, UseSslOption(config_.starttls));
  curl_easy_setopt(handle, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(handle, CURLOPT_MAIL_RCPT, recipients.Get());
  curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(handle, CURLOPT_READFUNCTION, &ReadUpload);
  curl_easy_setopt(handle, CURLOPT_READDATA, &cursor);
  curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.data.size()));
  if (!config_.username.empty()) {
    curl_easy_setopt(handle, CURLOPT_USERNAME, config_.username.c_str());
    curl_easy_setopt(handle, CURLOPT_PASSWORD, config_.password.c_str());
  }

  const CURLcode code = curl_easy_perform(handle);
  long reply = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &reply);
  if (code == CURLE_OK) return SmtpDelivery{reply};
  return MakeUnexpected(internal::ClassifySmtpFailure(code, reply, internal::FailureText(code, error)));
}

}  // namespace rookery::notify
