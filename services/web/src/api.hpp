// The REST API (/api/0/...) and, on every other path, the web UI's files. Requests are routed on
// the I/O thread and executed on a small pool of database threads, each with its own connection
// and prepared statements (file reads run there too, off the I/O thread).
#pragma once

#include <utility>

#include <boost/asio/thread_pool.hpp>
#include <pqxx/connection>

#include "config.hpp"
#include "rookery/http/server.hpp"
#include "router.hpp"
#include "sessions.hpp"
#include "static_files.hpp"

namespace rookery::web {

class Api {
 public:
  explicit Api(const WebConfig& config);
  ~Api();
  void Handle(http::Incoming&& incoming, http::Responder responder);
  /// Waits for queries in flight; call before the HTTP server's io_context goes away.
  void Stop();

 private:
  http::Response Execute(const Route& route, const http::Request& request, const std::string& peer_ip);
  /// What an authenticated caller asked for (logout aside).
  http::Response ExecuteAs(pqxx::connection& connection, const Route& route, const http::Request& request,
                           const Principal& principal);

  const WebConfig& config_;
  StaticFiles static_files_;
  boost::asio::thread_pool pool_;
};

}  // namespace rookery::web
