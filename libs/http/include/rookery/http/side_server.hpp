// The small HTTP server of a service that is not an HTTP service (worker, cron): /healthz and
// /metrics for orchestrators and Prometheus, on a thread of its own so a scrape never waits for
// the service's main loop and the main loop never waits for a scrape.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "rookery/http/server.hpp"

namespace rookery::http {

class SideServer {
 public:
  /// `health` answers /healthz (a JSON object); `metrics` answers /metrics (Prometheus text).
  /// Binds and starts at once; throws boost::system::system_error if the port is taken.
  SideServer(ServerOptions options, std::function<std::string()> health, std::function<std::string()> metrics);
  /// Stops accepting, lets requests in flight finish (up to a second) and joins the thread.
  ~SideServer();

  std::uint16_t Port() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rookery::http
