#include "scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <pqxx/pqxx>
#include <thread>

#include "rookery/core/env.hpp"
#include "rookery/db/migrations.hpp"
#include "rookery/http/side_server.hpp"
#include "rookery/metrics/metrics.hpp"

namespace rookery::cron {

CronConfig CronConfigFromEnv() {
  CronConfig config;
  config.database = db::DatabaseConfigFromEnv();
  config.http.address = EnvString("ROOKERY_CRON_BIND", "0.0.0.0");
  config.http.port = static_cast<std::uint16_t>(EnvInt("ROOKERY_CRON_PORT", 9100, 0, 65535));
  config.http.max_body_bytes = 4096;  // it only answers GETs
  config.heartbeat_interval = std::chrono::seconds(EnvInt("ROOKERY_CRON_HEARTBEAT_SECONDS", 60, 1, 86400));
  config.retention_interval = std::chrono::seconds(EnvInt("ROOKERY_CRON_RETENTION_INTERVAL_SECONDS", 3600, 1, 604800));
  config.retention = RetentionOptionsFromEnv();
  config.alerts = AlertConfigFromEnv();
  config.alert_poll = std::chrono::milliseconds(EnvInt("ROOKERY_ALERT_POLL_MS", 1000, 50, 60000));
  return config;
}

namespace {

// A failed pass (database down, schema not migrated yet) is retried sooner than the interval.
constexpr std::chrono::seconds kRetentionRetry{60};
// Distinct from the migration and retention locks. Session-level: it goes with the connection,
// so a replica that dies or loses its database connection hands leadership on by itself.
constexpr std::int64_t kAlertLeaderLockKey = 0x526f6f6b416c72;  // "RookAlr"

struct CronMetrics {
  metrics::Counter& partitions_dropped;
  metrics::Counter& partitions_created;
  metrics::Counter& events_deleted;
  metrics::Counter& issues_deleted;
  metrics::Counter& retention_runs;

  explicit CronMetrics(metrics::Registry& r)
      : partitions_dropped(
            r.AddCounter("rookery_cron_retention_partitions_dropped_total", "Event day partitions dropped by retention")
                .With({})),
        partitions_created(r.AddCounter("rookery_cron_retention_partitions_created_total",
                                        "Event day partitions created ahead by retention")
                               .With({})),
        events_deleted(r.AddCounter("rookery_cron_retention_rows_deleted_total",
                                    "Event rows deleted by retention (projects with a shorter retention)")
                           .With({})),
        issues_deleted(
            r.AddCounter("rookery_cron_retention_issues_deleted_total", "Expired issues deleted by retention")
                .With({})),
        retention_runs(r.AddCounter("rookery_cron_retention_runs_total", "Completed retention passes").With({})) {}
};

// A connection of its own per pass: the advisory lock and prepared statements live with it, and
// the heartbeat's connection stays free.
bool RunScheduledRetention(const CronConfig& config, const std::atomic<bool>& stop, CronMetrics& metrics) {
  try {
    auto connection = db::Connect(config.database);
    RetentionOptions options = config.retention;
    options.stop = &stop;
    const RetentionReport report = RunRetention(*connection, options);
    metrics.partitions_dropped.Inc(static_cast<std::uint64_t>(report.partitions_dropped));
    metrics.partitions_created.Inc(static_cast<std::uint64_t>(report.partitions_created));
    metrics.events_deleted.Inc(static_cast<std::uint64_t>(report.events_deleted));
    metrics.issues_deleted.Inc(static_cast<std::uint64_t>(report.issues_deleted));
    if (!report.skipped && !report.interrupted) metrics.retention_runs.Inc();
    return true;
  } catch (const std::exception& e) {
    spdlog::warn("retention failed (retried in {} s): {}", kRetentionRetry.count(), e.what());
    return false;
  }
}

// The alert leader: holds the advisory lock on its own connection and runs alert rounds on it.
class AlertLeader {
 public:
  AlertLeader(const CronConfig& config, metrics::Registry& registry)
      : config_(config), engine_(config.alerts, registry) {
    registry.AddGauge("rookery_cron_alerts_pending", "Alert deliveries waiting to be sent (or retried)",
                      [this] { return static_cast<double>(engine_.Pending()); });
    registry.AddGauge("rookery_cron_alert_leader", "1 while this replica sends alerts",
                      [this] { return leading_.load() ? 1.0 : 0.0; });
  }

  bool Leading() const { return leading_.load(); }

  void Tick() {
    const auto now = std::chrono::steady_clock::now();
    if (!leading_.load()) {
      if (now < next_attempt_) return;
      next_attempt_ = now + config_.leader_retry;
      TryToLead();
      if (!leading_.load()) return;
    }
    if (now < next_round_) return;
    next_round_ = now + config_.alert_poll;
    try {
      const AlertRound round = engine_.RunOnce(*connection_);
      if (round.activities + round.deliveries + round.sent + round.failed + round.retried > 0) {
        spdlog::info("alerts: activities={} notifications={} deliveries={} sent={} retried={} failed={}",
                     round.activities, round.notifications, round.deliveries, round.sent, round.retried, round.failed);
      }
    } catch (const std::exception& e) {
      // The lock may be gone with the connection: start over as a candidate.
      spdlog::warn("alerts: round failed, giving up the leader lock: {}", e.what());
      connection_.reset();
      leading_.store(false);
    }
  }

 private:
  void TryToLead() {
    try {
      if (!connection_ || !connection_->is_open()) {
        connection_ = db::Connect(config_.database);
        AlertEngine::PrepareStatements(*connection_);
      }
      pqxx::nontransaction tx(*connection_);
      const bool got = tx.exec_params1("SELECT pg_try_advisory_lock($1)", kAlertLeaderLockKey)[0].as<bool>();
      if (got) spdlog::info("alerts: this replica leads (sends alerts)");
      if (!got && !announced_standby_) spdlog::info("alerts: another replica leads; standing by");
      announced_standby_ = !got;
      leading_.store(got);
    } catch (const std::exception& e) {
      spdlog::warn("alerts: cannot reach the database to lead: {}", e.what());
      connection_.reset();
    }
  }

  const CronConfig& config_;
  AlertEngine engine_;
  std::unique_ptr<pqxx::connection> connection_;
  std::atomic<bool> leading_{false};
  bool announced_standby_ = false;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::steady_clock::time_point next_round_{};
};

}  // namespace

int RunCron(const CronConfig& config, const std::atomic<bool>& stop) {
  metrics::Registry registry;
  CronMetrics cron_metrics(registry);
  AlertLeader alerts(config, registry);

  http::SideServer side_server(
      config.http,
      [&alerts] { return alerts.Leading() ? R"({"status":"ok","leader":true})" : R"({"status":"ok","leader":false})"; },
      [&registry] { return registry.Render(); });
  spdlog::info("cron started on {}:{}; heartbeat every {} s, retention every {} s, alerts every {} ms",
               config.http.address, side_server.Port(), config.heartbeat_interval.count(),
               config.retention_interval.count(), config.alert_poll.count());

  // Retention on a thread of its own: a long pass (a project whose retention was just lowered
  // deletes in many batches) must not hold up alerts, which have a minute to go out.
  std::thread retention_thread([&config, &stop, &cron_metrics] {
    while (!stop.load()) {
      const bool done = RunScheduledRetention(config, stop, cron_metrics);
      const auto until = std::chrono::steady_clock::now() +
                         (done ? config.retention_interval : std::min(config.retention_interval, kRetentionRetry));
      while (!stop.load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  });

  std::unique_ptr<pqxx::connection> connection;
  auto next = std::chrono::steady_clock::now();
  while (!stop.load()) {
    if (std::chrono::steady_clock::now() >= next) {
      try {
        if (!connection || !connection->is_open()) connection = db::Connect(config.database);
        spdlog::info("heartbeat: database reachable, schema version {}", db::SchemaVersion(*connection));
      } catch (const std::exception& e) {
        connection.reset();
        spdlog::warn("heartbeat: database unreachable: {}", e.what());
      }
      next += config.heartbeat_interval;
    }
    if (!stop.load()) alerts.Tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  retention_thread.join();  // a pass checks `stop` between batches
  spdlog::info("cron stopped");
  return 0;
}

}  // namespace rookery::cron
