// rookery::http — an asynchronous HTTP/1.1 server on Boost.Beast.
//
// Every connection runs on its own strand over a shared io_context. Each request has a header
// limit, a body limit and read/write deadlines; a handler may answer later from any thread (the
// relay answers only after Kafka acknowledged the event). Shutdown stops accepting, closes idle
// keep-alive connections, lets in-flight requests finish, and reports when none is left.
#pragma once

#include <utility>  // Boost 1.74's asio headers need it first under g++ 12

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace rookery::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using Status = boost::beast::http::status;

struct ServerOptions {
  std::string address = "0.0.0.0";
  std::uint16_t port = 0;  // 0 = any free port (tests)
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 20 * 1024 * 1024;  // larger bodies get 413 without being read
  std::chrono::milliseconds read_timeout{30000};  // one whole request, headers and body (slowloris)
  std::chrono::milliseconds idle_timeout{60000};  // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30000};
  std::size_t max_connections = 10000;       // further connections are closed at once
  std::size_t max_connections_per_ip = 512;  // from one peer address; 0 = no cap
  // Requests per second from one peer address (token bucket, burst of one second's worth);
  // over it: 429 with Retry-After. 0 = no cap. Behind a proxy every request shares its address.
  std::size_t max_requests_per_second_per_ip = 0;
  /// Applied to the answers the server gives by itself (413, 431, 400 for malformed HTTP, 429 over
  /// the per-address rate), so a service can add the headers its clients expect on every answer
  /// (the relay: CORS, X-Sentry-Error) and count them. `target` is empty when no request line was read.
  std::function<void(Response&, std::string_view detail, std::string_view target)> decorate_own_errors;
  /// Told of each connection closed at accept: "max_connections" or "max_connections_per_ip".
  std::function<void(std::string_view reason)> on_connection_refused;
};

struct Incoming {
  Request request;
  std::string peer_ip;
};

class Session;

/// Answers one request. Call Send exactly once, from any thread; later calls are ignored. Called on
/// an I/O thread, it may start writing before it returns.
class Responder {
 public:
  explicit Responder(std::shared_ptr<Session> session) : session_(std::move(session)) {}
  void Send(Response response) const;

 private:
  std::shared_ptr<Session> session_;
};

/// Called on the connection's strand. Must not block: hand slow work to another executor.
using Handler = std::function<void(Incoming&&, Responder)>;

class Server {
 public:
  Server(boost::asio::io_context& ioc, ServerOptions options, Handler handler);
  ~Server();

  /// Binds and starts accepting. Throws boost::system::system_error (e.g. port in use).
  void Start();
  std::uint16_t Port() const;
  /// Stops accepting and drains; `on_drained` runs once no connection is left or after `grace`.
  void BeginShutdown(std::chrono::milliseconds grace, std::function<void()> on_drained);
  std::size_t OpenConnections() const;

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

/// Runs `ioc` on `threads` threads until SIGINT or SIGTERM, then drains `server` (see
/// BeginShutdown) for up to `grace` and returns once every thread has left the io_context.
void RunUntilSignalled(boost::asio::io_context& ioc, Server& server, int threads, std::chrono::milliseconds grace);

}  // namespace rookery::http
