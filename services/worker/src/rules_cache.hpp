// The worker's copy of each project's processing settings (grouping rules, data scrubbing), loaded
// from PostgreSQL on first use and refreshed after a short time, so a setting saved in the web app
// applies within seconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

#include <pqxx/connection>

#include "rookery/grouping/sentry_grouping.hpp"
#include "rookery/normalize/event.hpp"

namespace rookery::worker {

struct ProjectSettings {
  grouping::ProjectRules rules;
  /// Names `rules` for the grouping memo: a new id whenever a project's rule texts change.
  std::uint64_t rules_id = 0;
  normalize::ScrubbingConfig scrubbing;
};

class RulesCache {
 public:
  explicit RulesCache(std::chrono::seconds max_age = std::chrono::seconds(10)) : max_age_(max_age) {}

  /// The project's rules, from `connection` when missing or older than max_age. Throws pqxx
  /// errors. Rules that do not parse are logged and ignored (none apply) rather than blocking
  /// the project's events.
  const ProjectSettings& Get(pqxx::connection& connection, std::int64_t project_id);

  /// Parses both rule texts; the error names which one is broken. Exposed for tests.
  static Expected<grouping::ProjectRules, std::string> Parse(const std::string& fingerprinting,
                                                             const std::string& stacktrace);

 private:
  struct Entry {
    ProjectSettings settings;
    std::chrono::steady_clock::time_point loaded;
    std::string fingerprinting;  // the texts `settings.rules` were parsed from
    std::string stacktrace;
  };
  std::chrono::seconds max_age_;
  std::uint64_t last_rules_id_ = 0;
  std::unordered_map<std::int64_t, Entry> entries_;
};

}  // namespace rookery::worker
