#include "app.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <thread>
#include <vector>

#include "api.hpp"

namespace rookery::web {

int RunWeb(const WebConfig& config) {
  boost::asio::io_context ioc(config.io_threads);
  Api api(config);
  http::Server server(ioc, config.http,
                      [&api](http::Incoming&& in, http::Responder out) { api.Handle(std::move(in), std::move(out)); });
  server.Start();
  spdlog::info("web listening on {}:{} (public URL {})", config.http.address, server.Port(), config.public_url);

  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: draining {} connections", signal, server.OpenConnections());
    server.BeginShutdown(config.shutdown_grace, [&ioc] { ioc.stop(); });
  });

  std::vector<std::thread> pool;
  for (int i = 1; i < config.io_threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& thread : pool) thread.join();
  api.Stop();
  spdlog::info("web stopped");
  return 0;
}

}  // namespace rookery::web
