// Mail about accounts: the invitation of a new member and "reset your password", each carrying a
// set-password link that rookery-web queued in account_mails. Sent by the alert leader before its
// alert work (a person is waiting for it), retried like alert mail, and never sent once its link
// was used, replaced or has expired. The link leaves the database with the mail: the row's copy is
// cleared whatever the outcome. Links dead for 30 days are deleted, with their mail rows.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <pqxx/connection>

#include "rookery/notify/smtp.hpp"

namespace rookery::cron {

struct AccountMail {
  std::string subject;
  std::string text;
  std::string html;
};

/// `kind` "invite" (from `inviter` into `organization`) or "reset". Pure.
AccountMail ComposeAccountMail(std::string_view kind, std::string_view link, std::string_view organization,
                               std::string_view inviter);

struct AccountMailRound {
  std::size_t sent = 0;
  std::size_t retried = 0;
  std::size_t failed = 0;
  std::size_t cancelled = 0;  // their link was used, replaced or expired before the mail went
};

struct AccountMailOptions {
  int max_attempts = 10;
  std::chrono::seconds retry_base{10};
  std::string message_id_suffix;  // ".<installation>@<host>": Message-IDs stable across retries
};

void PrepareAccountMail(pqxx::connection& connection);

/// Sends what is due. Throws pqxx errors (the caller reconnects).
AccountMailRound SendAccountMail(pqxx::connection& connection, const notify::SmtpSender& smtp,
                                 const AccountMailOptions& options);

}  // namespace rookery::cron
