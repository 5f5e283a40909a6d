#include "app.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <functional>

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
  metrics::Registry registry;
  registry.AddGauge("rookery_relay_producer_queue_depth", "Messages waiting for a Kafka acknowledgement.",
                    [&producer] { return static_cast<double>(producer.OutstandingMessages()); });
  registry.AddGauge("rookery_relay_key_cache_keys", "DSN keys in the in-memory cache.",
                    [&keys] { return static_cast<double>(keys.Size()); });
  IngestHandler ingest(ioc, config, keys, producer, registry);

  http::ServerOptions http_options = config.http;
  http_options.decorate_own_errors = [&ingest, decorate = config.http.decorate_own_errors](
                                         http::Response& response, std::string_view detail, std::string_view target) {
    if (decorate) decorate(response, detail, target);
    ingest.CountServerAnswer(response.result_int(), target);
  };
  http_options.on_connection_refused = [&ingest](std::string_view reason) { ingest.CountRefusedConnection(reason); };
  http::Server server(ioc, std::move(http_options),
                      [&ingest](http::Incoming&& in, http::Responder out) { ingest(std::move(in), std::move(out)); });
  registry.AddGauge("rookery_relay_open_connections", "Open HTTP connections.",
                    [&server] { return static_cast<double>(server.OpenConnections()); });
  server.Start();
  spdlog::info("relay listening on {}:{} ({} threads), producing to {}", config.http.address, server.Port(),
               config.threads, config.topic);

  // Overdue broker acknowledgements are answered 503 by one periodic sweep.
  boost::asio::steady_timer sweeper(ioc);
  std::function<void()> sweep = [&] {
    sweeper.expires_after(std::chrono::milliseconds(200));
    sweeper.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      ingest.ExpireOverdue(std::chrono::steady_clock::now());
      sweep();
    });
  };
  sweep();

  http::RunUntilSignalled(ioc, server, config.threads, config.shutdown_grace);

  loader.Stop();
  const bool flushed = producer.Close(config.shutdown_grace);
  spdlog::info("relay stopped: producer flushed={}", flushed);
  return flushed ? 0 : 1;
}

}  // namespace rookery::relay
