#include "app.hpp"

#include <spdlog/spdlog.h>

#include "api.hpp"
#include "static_files.hpp"

namespace rookery::web {

int RunWeb(const WebConfig& config) {
  boost::asio::io_context ioc(config.io_threads);
  Api api(config);
  http::ServerOptions options = config.http;
  options.decorate_own_errors = [](http::Response& response, std::string_view, std::string_view) {
    AddSecurityHeaders(response);
  };
  http::Server server(ioc, options,
                      [&api](http::Incoming&& in, http::Responder out) { api.Handle(std::move(in), std::move(out)); });
  server.Start();
  spdlog::info("web listening on {}:{} (public URL {}, UI from {})", config.http.address, server.Port(),
               config.public_url, config.assets_dir.empty() ? "nowhere: API only" : config.assets_dir);

  http::RunUntilSignalled(ioc, server, config.io_threads, config.shutdown_grace);
  api.Stop();
  spdlog::info("web stopped");
  return 0;
}

}  // namespace rookery::web
