#include <catch2/catch.hpp>

#include "account_mail.hpp"

using namespace rookery::cron;

TEST_CASE("an invitation names the organization and the inviter, and carries the link", "[unit][cron]") {
  const AccountMail mail =
      ComposeAccountMail("invite", "https://rookery.example.com/accept/ab12/", "Acme & Co", "Olive <owner>");
  CHECK(mail.subject == "Join Acme & Co on Rookery");
  CHECK(mail.text.find("Olive <owner> invited you to Acme & Co") != std::string::npos);
  CHECK(mail.text.find("https://rookery.example.com/accept/ab12/") != std::string::npos);
  CHECK(mail.text.find("7 days") != std::string::npos);
  // Names come from users: HTML gets them escaped.
  CHECK(mail.html.find("Olive &lt;owner&gt;") != std::string::npos);
  CHECK(mail.html.find("<b>Acme &amp; Co</b>") != std::string::npos);
  CHECK(mail.html.find("href=\"https://rookery.example.com/accept/ab12/\"") != std::string::npos);
}

TEST_CASE("a reset mail says how long the link works and what to do when it was not asked for", "[unit][cron]") {
  const AccountMail mail = ComposeAccountMail("reset", "https://r.example/reset/cd34/", "", "");
  CHECK(mail.subject == "Reset your Rookery password");
  CHECK(mail.text.find("https://r.example/reset/cd34/") != std::string::npos);
  CHECK(mail.text.find("one hour") != std::string::npos);
  CHECK(mail.text.find("ignore this mail") != std::string::npos);
  CHECK(mail.html.find("href=\"https://r.example/reset/cd34/\"") != std::string::npos);
}
