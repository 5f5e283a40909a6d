#include "account_mail.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <pqxx/pqxx>

#include "rookery/core/strings.hpp"

namespace rookery::cron {
namespace {

constexpr const char* kDue = "account_mail_due";
constexpr const char* kCancel = "account_mail_cancel";
constexpr const char* kSent = "account_mail_sent";
constexpr const char* kRetry = "account_mail_retry";
constexpr const char* kFailed = "account_mail_failed";
constexpr const char* kPrune = "account_mail_prune";

std::string Paragraphs(const std::vector<std::string>& lines) {
  std::string html;
  for (const auto& line : lines) html += "<p>" + line + "</p>\n";
  return html;
}

}  // namespace

AccountMail ComposeAccountMail(std::string_view kind, std::string_view link, std::string_view organization,
                               std::string_view inviter) {
  AccountMail mail;
  const std::string button = "<p><a href=\"" + EscapeHtml(link) +
                             "\" style=\"display:inline-block;padding:10px 18px;background:#6c5fc7;color:#fff;"
                             "border-radius:6px;text-decoration:none\">";
  if (kind == "invite") {
    const std::string org = organization.empty() ? std::string("an organization") : std::string(organization);
    const std::string who = inviter.empty() ? std::string("Someone") : std::string(inviter);
    mail.subject = "Join " + org + " on Rookery";
    mail.text = who + " invited you to " + org +
                " on Rookery, where its applications' errors are collected.\n\n"
                "Choose a password to sign in:\n" +
                std::string(link) +
                "\n\nThe link works once and for 7 days. If you did not expect this invitation, ignore this mail.\n";
    mail.html = Paragraphs({EscapeHtml(who) + " invited you to <b>" + EscapeHtml(org) +
                            "</b> on Rookery, where its applications' errors are collected."}) +
                button + "Choose a password</a></p>\n" +
                Paragraphs({"Or open this link: " + EscapeHtml(link),
                            "The link works once and for 7 days. If you did not expect this invitation, ignore "
                            "this mail."});
  } else {
    mail.subject = "Reset your Rookery password";
    mail.text =
        "Someone (hopefully you) asked to reset the password of your Rookery account.\n\n"
        "Choose a new password:\n" +
        std::string(link) +
        "\n\nThe link works once and for one hour. If you did not ask for it, ignore this mail: your "
        "password stays as it is.\n";
    mail.html = Paragraphs({"Someone (hopefully you) asked to reset the password of your Rookery account."}) + button +
                "Choose a new password</a></p>\n" +
                Paragraphs({"Or open this link: " + EscapeHtml(link),
                            "The link works once and for one hour. If you did not ask for it, ignore this mail: "
                            "your password stays as it is."});
  }
  return mail;
}

void PrepareAccountMail(pqxx::connection& c) {
  c.prepare(kDue,
            "SELECT a.id, a.to_address, coalesce(a.link, ''), a.attempts, l.kind, coalesce(o.name, ''), "
            "coalesce(nullif(u.name, ''), u.email, ''), l.used_at IS NOT NULL OR l.expires_at <= now() "
            "FROM account_mails a JOIN password_links l ON l.id = a.link_id "
            "LEFT JOIN organizations o ON o.id = l.organization_id LEFT JOIN users u ON u.id = l.invited_by "
            "WHERE a.status = 'pending' AND a.next_attempt_at <= now() ORDER BY a.id LIMIT 20");
  c.prepare(kCancel, "UPDATE account_mails SET status = 'cancelled', link = NULL WHERE id = $1 AND status = 'pending'");
  c.prepare(kSent,
            "UPDATE account_mails SET status = 'sent', link = NULL, sent_at = now(), attempts = attempts + 1, "
            "last_error = NULL WHERE id = $1");
  c.prepare(kRetry,
            "UPDATE account_mails SET attempts = attempts + 1, last_error = $2, "
            "next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1 AND status = 'pending'");
  c.prepare(kFailed,
            "UPDATE account_mails SET status = 'failed', link = NULL, attempts = attempts + 1, last_error = $2 "
            "WHERE id = $1");
  // Dead links (and their mail) are kept a month for questions like "did the invitation go out?".
  c.prepare(kPrune,
            "DELETE FROM password_links WHERE id IN (SELECT id FROM password_links "
            "WHERE expires_at < now() - interval '30 days' LIMIT 1000)");
}

AccountMailRound SendAccountMail(pqxx::connection& connection, const notify::SmtpSender& smtp,
                                 const AccountMailOptions& options) {
  AccountMailRound round;
  pqxx::result due;
  {
    pqxx::work tx(connection);
    tx.exec_prepared(kPrune);
    due = tx.exec_prepared(kDue);
    tx.commit();
  }
  for (const auto& row : due) {
    const auto id = row[0].as<std::int64_t>();
    const std::string kind = row[4].as<std::string>();
    if (row[7].as<bool>() || row[2].as<std::string>().empty()) {
      pqxx::work tx(connection);
      tx.exec_prepared(kCancel, id);
      tx.commit();
      ++round.cancelled;
      spdlog::info("account mail {} ({}) not sent: its link was used, replaced or expired", id, kind);
      continue;
    }
    const AccountMail composed =
        ComposeAccountMail(kind, row[2].as<std::string>(), row[5].as<std::string>(), row[6].as<std::string>());
    notify::Email email;
    email.to.push_back({row[1].as<std::string>(), ""});
    email.subject = composed.subject;
    email.text_body = composed.text;
    email.html_body = composed.html;
    email.message_id = "<account-" + std::to_string(id) + options.message_id_suffix + ">";
    const auto result = smtp.Send(std::move(email));
    const int attempts = row[3].as<int>() + 1;
    pqxx::work tx(connection);
    // Logs name the mail by id and kind only: the link in it signs somebody in.
    if (result) {
      tx.exec_prepared(kSent, id);
      ++round.sent;
      spdlog::info("account mail {} ({}) sent (attempt {})", id, kind, attempts);
    } else if (result.error().Transient() && attempts < options.max_attempts) {
      const auto backoff = result.error().retry_after
                               ? std::clamp<std::int64_t>(result.error().retry_after->count(), 1, 3600)
                               : std::min<std::int64_t>(600, options.retry_base.count() << std::min(attempts - 1, 6));
      tx.exec_prepared(kRetry, id, result.error().detail, static_cast<double>(backoff));
      ++round.retried;
      spdlog::warn("account mail {} ({}) failed (attempt {}), retrying in {} s: {}", id, kind, attempts, backoff,
                   result.error().detail);
    } else {
      tx.exec_prepared(kFailed, id, result.error().detail);
      ++round.failed;
      spdlog::error("account mail {} ({}) given up after {} attempt(s): {}", id, kind, attempts, result.error().detail);
    }
    tx.commit();
  }
  return round;
}

}  // namespace rookery::cron
