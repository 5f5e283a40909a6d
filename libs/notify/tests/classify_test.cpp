#include <catch2/catch.hpp>

#include <curl/curl.h>

#include "rookery/notify/send_error.hpp"
#include "rookery/notify/smtp.hpp"

using rookery::notify::ClassifyHttpStatus;
using rookery::notify::ClassifySmtpReply;
using rookery::notify::FailureKind;
using rookery::notify::internal::ClassifySmtpFailure;

TEST_CASE("webhook statuses: 2xx delivered, 408/429/5xx retried, other 4xx given up", "[unit][notify]") {
  CHECK_FALSE(ClassifyHttpStatus(200).has_value());
  CHECK_FALSE(ClassifyHttpStatus(204).has_value());
  CHECK(ClassifyHttpStatus(400) == FailureKind::kPermanent);
  CHECK(ClassifyHttpStatus(401) == FailureKind::kPermanent);
  CHECK(ClassifyHttpStatus(404) == FailureKind::kPermanent);
  CHECK(ClassifyHttpStatus(410) == FailureKind::kPermanent);
  CHECK(ClassifyHttpStatus(408) == FailureKind::kTransient);
  CHECK(ClassifyHttpStatus(429) == FailureKind::kTransient);
  CHECK(ClassifyHttpStatus(500) == FailureKind::kTransient);
  CHECK(ClassifyHttpStatus(503) == FailureKind::kTransient);
  CHECK(ClassifyHttpStatus(301) == FailureKind::kPermanent);  // redirects are not followed
}

TEST_CASE("SMTP failures: the relay's reply decides, else libcurl's reason", "[unit][notify]") {
  CHECK(ClassifySmtpReply(451) == FailureKind::kTransient);
  CHECK(ClassifySmtpReply(550) == FailureKind::kPermanent);
  CHECK_FALSE(ClassifySmtpReply(250).has_value());
  CHECK_FALSE(ClassifySmtpReply(0).has_value());

  CHECK(ClassifySmtpFailure(CURLE_SEND_ERROR, 550, "RCPT failed: 550").kind == FailureKind::kPermanent);
  CHECK(ClassifySmtpFailure(CURLE_SEND_ERROR, 452, "RCPT failed: 452").kind == FailureKind::kTransient);
  CHECK(ClassifySmtpFailure(CURLE_LOGIN_DENIED, 535, "").kind == FailureKind::kPermanent);
  CHECK(ClassifySmtpFailure(CURLE_LOGIN_DENIED, 454, "").kind == FailureKind::kTransient);
  CHECK(ClassifySmtpFailure(CURLE_COULDNT_CONNECT, 0, "").kind == FailureKind::kTransient);
  CHECK(ClassifySmtpFailure(CURLE_OPERATION_TIMEDOUT, 0, "").kind == FailureKind::kTransient);
  CHECK(ClassifySmtpFailure(CURLE_COULDNT_RESOLVE_HOST, 0, "").kind == FailureKind::kTransient);
  CHECK(ClassifySmtpFailure(CURLE_RECV_ERROR, 250, "").kind == FailureKind::kTransient);
  CHECK(ClassifySmtpFailure(CURLE_USE_SSL_FAILED, 250, "").kind == FailureKind::kPermanent);
  CHECK(ClassifySmtpFailure(CURLE_PEER_FAILED_VERIFICATION, 0, "").kind == FailureKind::kPermanent);
  CHECK(ClassifySmtpFailure(CURLE_UNSUPPORTED_PROTOCOL, 0, "").kind == FailureKind::kPermanent);
  const auto error = ClassifySmtpFailure(CURLE_SEND_ERROR, 550, "RCPT failed: 550");
  CHECK(error.status == 550);
  CHECK(error.detail == "RCPT failed: 550");
}

TEST_CASE("the SMTP description for logs carries no password", "[unit][notify]") {
  rookery::notify::SmtpConfig config;
  config.url = "smtp://mailer:s3cret@relay.example:587/rookery.example";
  config.username = "alerts";
  config.password = "hunter2";
  const std::string text = rookery::notify::DescribeSmtpConfig(config);
  CHECK(text == "smtp://relay.example:587/rookery.example starttls=required user=alerts");
  CHECK(text.find("s3cret") == std::string::npos);
  CHECK(text.find("hunter2") == std::string::npos);
}
