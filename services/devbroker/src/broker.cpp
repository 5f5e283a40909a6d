#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "broker.hpp"

namespace rookery::devbroker {
namespace {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct MockClusterDeleter {
  void operator()(rd_kafka_mock_cluster_t* cluster) const { rd_kafka_mock_cluster_destroy(cluster); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using MockClusterPtr = std::unique_ptr<rd_kafka_mock_cluster_t, MockClusterDeleter>;

// librdkafka calls this from its own threads; spdlog loggers are thread-safe.
void LogFromKafka(const rd_kafka_t* /*rk*/, int level, const char* facility, const char* message) {
  // syslog levels: 0..3 error, 4 warning, 5..6 info, 7 debug.
  const auto spd_level = level <= 3   ? spdlog::level::err
                         : level == 4 ? spdlog::level::warn
                         : level <= 6 ? spdlog::level::info
                                      : spdlog::level::debug;
  spdlog::log(spd_level, "rdkafka {}: {}", facility, message);
}

// The mock cluster needs an rd_kafka_t for bookkeeping only; it never
// produces anything.
KafkaPtr MakeHostHandle() {
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  // The host handle has no bootstrap.servers of its own; don't let it warn
  // about that on every start.
  if (rd_kafka_conf_set(conf.get(), "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    throw std::runtime_error(std::string("log_level: ") + errstr);
  }
  if (rd_kafka_conf_set(conf.get(), "client.id", "rookery-devbroker", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    throw std::runtime_error(std::string("client.id: ") + errstr);
  }
  rd_kafka_conf_set_log_cb(conf.get(), LogFromKafka);
  // On success rd_kafka_new takes ownership of conf.
  KafkaPtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof(errstr)));
  if (!rk) throw std::runtime_error(std::string("rd_kafka_new: ") + errstr);
  static_cast<void>(conf.release());  // rk owns it now
  return rk;
}

// Readers (dev.sh, tests) poll for the file; rename() guarantees they never
// see a half-written address list.
void WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp_path = path + ".tmp";
  {
    std::ofstream out(tmp_path, std::ios::trunc);
    out << content << '\n';
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + tmp_path);
  }
  if (std::rename(tmp_path.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp_path.c_str());
    throw std::runtime_error("cannot rename " + tmp_path + " to " + path + ": " + std::strerror(err));
  }
}

// Owns the bootstrap file for the broker's lifetime, so that also a failure
// after it was written does not leave a stale address behind for dev.sh.
class BootstrapFile {
 public:
  BootstrapFile(std::string path, const std::string& content) : path_(std::move(path)) {
    if (!path_.empty()) WriteFileAtomically(path_, content);
  }
  BootstrapFile(const BootstrapFile&) = delete;
  BootstrapFile& operator=(const BootstrapFile&) = delete;
  ~BootstrapFile() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    if (ec) spdlog::warn("cannot remove {}: {}", path_, ec.message());
  }

 private:
  std::string path_;
};

bool SetAllBrokers(rd_kafka_mock_cluster_t* cluster, bool up) {
  // One call with broker id -1 ("all"): every mock call is a round trip to the
  // mock thread that can stall up to its 1 s poll interval, so per-broker
  // calls would make fault injection slow and non-atomic across brokers.
  constexpr int32_t kAllBrokers = -1;
  const rd_kafka_resp_err_t err =
      up ? rd_kafka_mock_broker_set_up(cluster, kAllBrokers) : rd_kafka_mock_broker_set_down(cluster, kAllBrokers);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Keep serving: a failed fault injection must not take the test stack down.
    spdlog::error("mock broker set_{} failed: {}", up ? "up" : "down", rd_kafka_err2str(err));
    return false;
  }
  return true;
}

}  // namespace

int Run(const Options& options) {
  // Block the control signals before any librdkafka thread exists so every
  // thread inherits the mask and only sigwait() below ever sees them; that
  // keeps all real work out of async-signal context.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2}) sigaddset(&signals, sig);
  if (const int err = pthread_sigmask(SIG_BLOCK, &signals, nullptr); err != 0) {
    throw std::runtime_error(std::string("pthread_sigmask: ") + std::strerror(err));
  }
  // A client vanishing mid-write must not kill the broker.
  std::signal(SIGPIPE, SIG_IGN);

  // Declaration order matters: the cluster must be destroyed before the
  // handle it was created on.
  KafkaPtr host = MakeHostHandle();
  MockClusterPtr cluster(rd_kafka_mock_cluster_new(host.get(), options.brokers));
  if (!cluster) throw std::runtime_error("rd_kafka_mock_cluster_new failed");

  const int replication_factor = std::min(kMaxReplicationFactor, options.brokers);
  for (const auto& topic : options.topics) {
    const rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(cluster.get(), topic.c_str(), options.partitions, replication_factor);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("creating topic " + topic + ": " + rd_kafka_err2str(err));
    }
    spdlog::info("created topic {} ({} partitions, replication factor {})", topic, options.partitions,
                 replication_factor);
  }

  const std::string bootstraps = rd_kafka_mock_cluster_bootstraps(cluster.get());
  const BootstrapFile bootstrap_file(options.bootstrap_file, bootstraps);
  spdlog::info("devbroker ready: {} broker(s), bootstrap {}{}", options.brokers, bootstraps,
               options.bootstrap_file.empty() ? std::string() : " (written to " + options.bootstrap_file + ")");
  // Bare line so scripts can capture the address without parsing log lines.
  std::cout << bootstraps << std::endl;

  bool brokers_up = true;
  for (;;) {
    int sig = 0;
    if (const int err = sigwait(&signals, &sig); err != 0) {
      throw std::runtime_error(std::string("sigwait: ") + std::strerror(err));
    }
    if (sig == SIGUSR1 || sig == SIGUSR2) {
      const bool want_up = sig == SIGUSR2;
      if (want_up == brokers_up) {
        spdlog::info("{}: brokers already {}", sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2", brokers_up ? "up" : "down");
        continue;
      }
      if (!SetAllBrokers(cluster.get(), want_up)) continue;
      brokers_up = want_up;
      spdlog::warn("{}: all {} broker(s) now {}", sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2", options.brokers,
                   want_up ? "UP" : "DOWN");
      continue;
    }
    spdlog::info("{}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }

  // bootstrap_file is removed first (reverse declaration order), so readers
  // stop picking up the address before its listeners close.
  return 0;
}

}  // namespace rookery::devbroker
