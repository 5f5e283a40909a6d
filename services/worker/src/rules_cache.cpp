#include "rules_cache.hpp"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>

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

const grouping::ProjectRules& RulesCache::Get(pqxx::connection& connection, std::int64_t project_id) {
  const auto now = std::chrono::steady_clock::now();
  auto it = entries_.find(project_id);
  if (it != entries_.end() && now - it->second.loaded < max_age_) return it->second.rules;

  pqxx::read_transaction tx(connection);
  const auto rows =
      tx.exec_params("SELECT fingerprinting_rules, stacktrace_rules FROM projects WHERE id = $1", project_id);
  Entry entry{{}, now};
  if (!rows.empty()) {
    auto parsed = Parse(rows[0][0].as<std::string>(), rows[0][1].as<std::string>());
    if (parsed) {
      entry.rules = std::move(*parsed);
    } else {
      spdlog::warn("project {}: ignoring its grouping rules: {}", project_id, parsed.error());
    }
  }
  return (entries_[project_id] = std::move(entry)).rules;
}

}  // namespace rookery::worker
