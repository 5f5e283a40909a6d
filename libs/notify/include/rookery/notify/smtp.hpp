// rookery::notify — e-mail delivery through one SMTP relay (libcurl).
//
// Every send opens its own connection: alerts are few, and a cached connection would be one more
// thing to time out, break and share between threads. Nothing here logs; results are values whose
// detail never carries the password (libcurl's protocol trace, which would, stays off).
#pragma once

#include <chrono>
#include <string>

#include "rookery/core/expected.hpp"
#include "rookery/notify/email.hpp"
#include "rookery/notify/send_error.hpp"

namespace rookery::notify {

enum class StartTls {
  kNone,           // plain SMTP (a local relay, a dev catcher)
  kOpportunistic,  // STARTTLS when offered, plain otherwise (CURLUSESSL_TRY)
  kRequired,       // STARTTLS or no delivery (CURLUSESSL_ALL); smtps:// is TLS from the start anyway
};

struct SmtpConfig {
  /// "smtp://host:587" or "smtps://host:465"; a path sets the EHLO name ("smtp://host:587/example.com").
  std::string url = "smtp://localhost:25";
  StartTls starttls = StartTls::kRequired;
  std::string username;  // empty: no AUTH
  std::string password;
  /// The From of messages sent with Send(Email) whose own from address is empty, and the envelope sender.
  Mailbox from;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds timeout{30000};  // the whole exchange, connect included
  bool verify_tls = true;                    // off only for development relays with self-signed certificates
  std::string ca_file;                       // empty: the system's CA store
};

/// ROOKERY_SMTP_URL, ROOKERY_SMTP_STARTTLS (none | opportunistic | required), ROOKERY_SMTP_USERNAME,
/// ROOKERY_SMTP_PASSWORD, ROOKERY_SMTP_FROM, ROOKERY_SMTP_FROM_NAME (default "Rookery"),
/// ROOKERY_SMTP_CONNECT_TIMEOUT_MS, ROOKERY_SMTP_TIMEOUT_MS, ROOKERY_SMTP_VERIFY_TLS (1 | 0),
/// ROOKERY_SMTP_CA_FILE. Throws ConfigError at start-up for values that cannot work.
SmtpConfig SmtpConfigFromEnv();

/// "smtp://relay.example:587 starttls=required user=alerts": for start-up logs; no password, and
/// credentials embedded in the URL are cut out.
std::string DescribeSmtpConfig(const SmtpConfig& config);

struct SmtpDelivery {
  long reply_code = 0;  // the relay's last reply, normally 250 for the accepted message
};

class SmtpSender {
 public:
  explicit SmtpSender(SmtpConfig config);

  /// Builds and sends `email`, taking the configured from when the email has none. A message
  /// that cannot be built is a permanent failure. Safe to call from several threads at once.
  [[nodiscard]] Expected<SmtpDelivery, SendError> Send(Email email) const;
  /// Sends an already built message. Every recipient must be accepted, or none gets it: a
  /// rejected recipient fails the whole send with the relay's code (550 → permanent).
  [[nodiscard]] Expected<SmtpDelivery, SendError> Send(const BuiltEmail& message) const;

 private:
  SmtpConfig config_;
};

namespace internal {
/// The outcome of a failed transfer from libcurl's result code and the relay's last reply.
SendError ClassifySmtpFailure(int curl_code, long reply_code, std::string detail);
}  // namespace internal

}  // namespace rookery::notify
