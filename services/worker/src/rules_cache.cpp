#include "rules_cache.hpp"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>
#include <tuple>
#include <vector>

namespace rookery::worker {

Expected<grouping::ProjectRules, std::string> RulesCache::Parse(const std::string& fingerprinting,
                                                                const std::string& stacktrace) {
  grouping::ProjectRules rules;
  auto fingerprint_rules = grouping::ParseFingerprintRules(fingerprinting);
  if (!fingerprint_rules) return MakeUnexpected("fingerprinting rules: " + fingerprint_rules.error());
  auto stacktrace_rules = grouping::ParseStacktraceRules(stacktrace);
  if (!stacktrace_rules) return MakeUnexpected("stack-trace rules: " + stacktrace_rules.error());
  rules.fingerprinting = std::move(*fingerprint_rules);
  rules.enhancements = std::move(*stacktrace_rules);
  return rules;
}

namespace {

std::vector<std::string> ReadTextArray(const pqxx::field& field) {
  std::vector<std::string> values;
  auto parser = field.as_array();
  for (auto [kind, value] = parser.get_next(); kind != pqxx::array_parser::done;
       std::tie(kind, value) = parser.get_next()) {
    if (kind == pqxx::array_parser::string_value) values.push_back(value);
  }
  return values;
}

constexpr const char* kLoadSettings = "worker_project_settings";

}  // namespace

const ProjectSettings& RulesCache::Get(pqxx::connection& connection, std::int64_t project_id) {
  const auto now = std::chrono::steady_clock::now();
  auto it = entries_.find(project_id);
  if (it != entries_.end() && now - it->second.loaded < max_age_) return it->second.settings;

  // pqxx keeps one definition per name: preparing it again with the same text is a no-op.
  connection.prepare(kLoadSettings,
                     "SELECT fingerprinting_rules, stacktrace_rules, scrub_data, scrub_ip_addresses, sensitive_fields, "
                     "safe_fields FROM projects WHERE id = $1");
  pqxx::read_transaction tx(connection);
  const auto rows = tx.exec_prepared(kLoadSettings, project_id);
  Entry entry{{}, now, {}, {}};
  if (!rows.empty()) {
    const auto& row = rows[0];
    entry.fingerprinting = row[0].as<std::string>();
    entry.stacktrace = row[1].as<std::string>();
    auto parsed = Parse(entry.fingerprinting, entry.stacktrace);
    if (parsed) {
      entry.settings.rules = std::move(*parsed);
    } else {
      spdlog::warn("project {}: ignoring its grouping rules: {}", project_id, parsed.error());
    }
    entry.settings.scrubbing.enabled = row[2].as<bool>();
    entry.settings.scrubbing.scrub_ip_addresses = row[3].as<bool>();
    entry.settings.scrubbing.extra_fields = ReadTextArray(row[4]);
    entry.settings.scrubbing.safe_fields = ReadTextArray(row[5]);
  }
  // Unchanged rules keep their id, so the memo's results for them stay valid across refreshes.
  const bool same_rules = it != entries_.end() && it->second.fingerprinting == entry.fingerprinting &&
                          it->second.stacktrace == entry.stacktrace;
  entry.settings.rules_id = same_rules ? it->second.settings.rules_id : ++last_rules_id_;
  return (entries_[project_id] = std::move(entry)).settings;
}

}  // namespace rookery::worker
