// Alerts, from the worker's activity outbox to the team's inbox, in four idempotent steps that
// each commit before the next begins, so a crash anywhere loses nothing and repeats nothing:
//   1. dispatch: each new outbox row (new / regression / resurfaced issue) is matched against the
//      project's rules; every channel a firing rule reaches gets a notification row (unique
//      dedupe key), and the outbox row is marked dispatched in the same transaction;
//   2. frequency: rules "seen more than N times in M minutes" are evaluated against events, at
//      most one notification per rule, issue and M-minute window;
//   3. batching: a channel's waiting notifications become one delivery (one mail, or one webhook
//      call per issue). The first mail to a channel goes at once; later ones wait until the
//      digest window since the previous mail has passed and then go as one digest, so a burst
//      of new issues produces two mails, not thirty. An issue is never in two mails to the same
//      channel within the window;
//   4. sending: due deliveries are sent; a transient failure is retried with backoff, a
//      permanent one recorded. A delivery is marked sent right after the server accepted it.
// Each round first sends the account mail of account_mail.hpp (invitations, password resets).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <pqxx/connection>

#include "rookery/metrics/metrics.hpp"
#include "rookery/notify/smtp.hpp"
#include "rookery/notify/webhook.hpp"

namespace rookery::cron {

struct AlertConfig {
  std::chrono::seconds digest_window{300};
  std::chrono::seconds frequency_interval{10};  // how often frequency rules are evaluated
  int max_attempts = 10;                        // then a delivery is given up as failed
  std::chrono::seconds retry_base{10};          // first retry delay; doubles up to 10 minutes
  std::string web_public_url = "http://localhost:9000";
  std::string secret_key;  // signs unsubscribe links; empty: mails link to the settings instead
  notify::SmtpConfig smtp;
  notify::WebhookConfig webhook;
};

AlertConfig AlertConfigFromEnv();

struct AlertRound {
  std::size_t activities = 0;     // outbox rows dispatched
  std::size_t notifications = 0;  // created (activity and frequency)
  std::size_t deliveries = 0;     // created
  std::size_t sent = 0;
  std::size_t failed = 0;   // given up
  std::size_t retried = 0;  // transient failures, to be retried
};

class AlertEngine {
 public:
  AlertEngine(AlertConfig config, metrics::Registry& registry);
  ~AlertEngine();

  /// Once per (re)connection, before RunOnce.
  static void PrepareStatements(pqxx::connection& connection);

  /// One pass over the four steps. Throws pqxx errors (the caller reconnects and tries again).
  AlertRound RunOnce(pqxx::connection& connection);

  /// Deliveries waiting to be sent, as of the last round (a gauge).
  std::int64_t Pending() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rookery::cron
