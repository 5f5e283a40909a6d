#include "app.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <thread>
#include <vector>

#include "ingest.hpp"
#include "key_cache.hpp"
#include "key_loader.hpp"
#include "rookery/db/connection.hpp"

namespace rookery::relay {

int RunRelay(const RelayConfig& config) {
  // Declaration order matters for teardown: delivery callbacks post answers to `ioc` and count in
  // `ingest`, so both must outlive the producer's Close() below.
  boost::asio::io_context ioc(config.threads);
  KeyCache keys;
  KeyLoader loader(keys, config.database, config.key_full_reload);
  loader.Start();

  kafka::Producer producer(config.kafka, config.producer);
  IngestHandler ingest(config, keys, producer);

  http::Server server(ioc, config.http,
                      [&ingest](http::Incoming&& in, http::Responder out) { ingest(std::move(in), std::move(out)); });
  server.Start();
  spdlog::info("relay listening on {}:{} ({} threads), producing to {}", config.http.address, server.Port(),
               config.threads, config.topic);

  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: draining {} connections", signal, server.OpenConnections());
    server.BeginShutdown(config.shutdown_grace, [&ioc] { ioc.stop(); });
  });

  std::vector<std::thread> pool;
  for (int i = 1; i < config.threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& thread : pool) thread.join();

  loader.Stop();
  const bool flushed = producer.Close(config.shutdown_grace);
  spdlog::info("relay stopped: accepted={} rejected={} broker_failures={} flushed={}",
               ingest.Counters().accepted.load(), ingest.Counters().rejected.load(),
               ingest.Counters().broker_failures.load(), flushed);
  return flushed ? 0 : 1;
}

}  // namespace rookery::relay
