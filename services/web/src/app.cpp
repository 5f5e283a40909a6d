#include "app.hpp"

#include <spdlog/spdlog.h>

#include "api.hpp"

namespace rookery::web {

int RunWeb(const WebConfig& config) {
  boost::asio::io_context ioc(config.io_threads);
  Api api(config);
  http::Server server(ioc, config.http,
                      [&api](http::Incoming&& in, http::Responder out) { api.Handle(std::move(in), std::move(out)); });
  server.Start();
  spdlog::info("web listening on {}:{} (public URL {})", config.http.address, server.Port(), config.public_url);

  http::RunUntilSignalled(ioc, server, config.io_threads, config.shutdown_grace);
  api.Stop();
  spdlog::info("web stopped");
  return 0;
}

}  // namespace rookery::web
