#include "rookery/http/server.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "rookery/http/response.hpp"

namespace rookery::http {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

// Per-peer accounting for the connection and request caps.
class PeerLimits {
 public:
  PeerLimits(std::size_t max_connections, std::size_t max_rate) : max_connections_(max_connections), rate_(max_rate) {}

  bool TryOpen(const std::string& ip) {
    if (max_connections_ == 0) return true;
    std::lock_guard lock(mutex_);
    auto& peer = peers_[ip];
    if (peer.connections >= max_connections_) return false;
    ++peer.connections;
    return true;
  }

  void Close(const std::string& ip) {
    if (max_connections_ == 0) return;
    std::lock_guard lock(mutex_);
    auto it = peers_.find(ip);
    if (it != peers_.end() && it->second.connections > 0) --it->second.connections;
  }

  bool TryRequest(const std::string& ip) {
    if (rate_ == 0) return true;
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (peers_.size() > kPruneAbove) Prune(now);
    auto& peer = peers_[ip];
    const double capacity = static_cast<double>(rate_);
    if (peer.refilled == std::chrono::steady_clock::time_point{}) {
      peer.tokens = capacity;
    } else {
      peer.tokens =
          std::min(capacity, peer.tokens + std::chrono::duration<double>(now - peer.refilled).count() * capacity);
    }
    peer.refilled = now;
    if (peer.tokens < 1.0) return false;
    peer.tokens -= 1.0;
    return true;
  }

 private:
  static constexpr std::size_t kPruneAbove = 100000;  // bounds the table under address churn

  struct Peer {
    std::size_t connections = 0;
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled{};
  };

  void Prune(std::chrono::steady_clock::time_point now) {
    for (auto it = peers_.begin(); it != peers_.end();) {
      const bool idle = it->second.connections == 0 && now - it->second.refilled > std::chrono::seconds(10);
      it = idle ? peers_.erase(it) : std::next(it);
    }
  }

  const std::size_t max_connections_;
  const std::size_t rate_;
  std::mutex mutex_;
  std::unordered_map<std::string, Peer> peers_;
};

struct Server::Shared {
  net::io_context& ioc;
  ServerOptions options;
  Handler handler;
  tcp::acceptor acceptor;
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> connections{0};
  std::mutex sessions_mutex;
  std::unordered_set<Session*> sessions;  // registry for closing idle connections on shutdown

  PeerLimits peers;

  Shared(net::io_context& io, ServerOptions opts, Handler h)
      : ioc(io),
        options(std::move(opts)),
        handler(std::move(h)),
        acceptor(net::make_strand(io)),
        peers(options.max_connections_per_ip, options.max_requests_per_second_per_ip) {}
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<Server::Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {
    boost::system::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ip_ = endpoint.address().to_string();
  }

  ~Session() {
    Release();
    std::lock_guard lock(shared_->sessions_mutex);
    shared_->sessions.erase(this);
  }

  void Start() {
    {
      std::lock_guard lock(shared_->sessions_mutex);
      shared_->sessions.insert(this);
    }
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Called from any thread via Responder. On an I/O thread with the connection idle (waiting for
  // its answer, the usual case) the write starts inline: no queueing, no other thread woken.
  void Reply(Response response) {
    net::dispatch(stream_.get_executor(), [self = shared_from_this(), response = std::move(response)]() mutable {
      self->Write(std::move(response));
    });
  }

  // Closes the connection if it is waiting for a new request; a busy one closes after its answer.
  void CloseIfIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      // Idle means no byte of a next request has arrived: not parsed, not buffered, not waiting
      // in the kernel. A request already on its way is served (and then the connection closes).
      beast::error_code ec;
      const std::size_t waiting = self->stream_.socket().available(ec);
      const bool started = self->buffer_.size() > 0 || (self->parser_ && self->parser_->got_some()) || waiting > 0;
      if (self->idle_ && !started) self->stream_.socket().close(ec);
    });
  }

 private:
  void ReadHeader() {
    if (shared_->draining.load()) {
      Close();
      return;
    }
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.max_header_bytes));
    parser_->body_limit(shared_->options.max_body_bytes);
    idle_ = true;
    replied_ = false;
    if (buffer_.size() > 0) {
      ReadRestOfHeader();  // a pipelined request is already here
      return;
    }
    // Waiting for the next request may take the idle timeout; from its first byte on, the whole
    // request must come within the read timeout, so a sender trickling bytes cannot hold the
    // connection for longer than that.
    stream_.expires_after(shared_->options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(beast::read_size(buffer_, kReadChunk)),
                            [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
                              if (ec) {
                                self->idle_ = false;
                                self->Close();  // closed by the peer, idle too long, or shutdown
                                return;
                              }
                              self->buffer_.commit(bytes);
                              self->ReadRestOfHeader();
                            });
  }

  void ReadRestOfHeader() {
    stream_.expires_after(shared_->options.read_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    idle_ = false;
    if (ec) {
      HandleReadError(ec);
      return;
    }
    stream_.expires_after(shared_->options.read_timeout);
    const auto& header = parser_->get();
    if (auto length = parser_->content_length(); length && *length > shared_->options.max_body_bytes) {
      RejectTooLarge();
      return;
    }
    if (!shared_->peers.TryRequest(peer_ip_)) {
      WriteOwnError(Status::too_many_requests, "too many requests from this address", "1");
      return;
    }
    if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
      // curl and other clients wait for this before sending a body.
      auto interim = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      bhttp::async_write(stream_, *interim,
                         [self = shared_from_this(), interim](beast::error_code write_ec, std::size_t) {
                           if (write_ec) {
                             self->Close();
                             return;
                           }
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    if (ec) {
      HandleReadError(ec);
      return;
    }
    keep_alive_ = parser_->get().keep_alive();
    Incoming incoming{parser_->release(), peer_ip_};
    try {
      shared_->handler(std::move(incoming), Responder(shared_from_this()));
    } catch (const std::exception& e) {
      spdlog::error("http handler threw: {}", e.what());
      Write(MakeErrorResponse(Status::internal_server_error, "internal error"));
    }
  }

  void HandleReadError(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      RejectTooLarge();
      return;
    }
    if (ec == bhttp::error::header_limit) {
      WriteOwnError(Status::request_header_fields_too_large, "request headers too large");
      return;
    }
    if (ec.category() == beast::error_code(bhttp::error::end_of_stream).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      WriteOwnError(Status::bad_request, "malformed HTTP request");
      return;
    }
    Close();  // peer went away, timed out, or was closed by shutdown
  }

  void RejectTooLarge() { WriteOwnError(Status::payload_too_large, "request body exceeded size limits"); }

  // The request was not read whole, so the connection cannot carry another one.
  void WriteOwnError(Status status, std::string_view detail, std::string_view retry_after = {}) {
    keep_alive_ = false;
    Response response = MakeErrorResponse(status, detail);
    if (!retry_after.empty()) response.set(bhttp::field::retry_after, retry_after);
    if (shared_->options.decorate_own_errors) {
      const std::string_view target = parser_ && parser_->got_some() && parser_->is_header_done()
                                          ? std::string_view(parser_->get().target())
                                          : std::string_view();
      shared_->options.decorate_own_errors(response, detail, target);
    }
    Write(std::move(response));
  }

  void Write(Response response) {
    if (replied_) return;
    replied_ = true;
    const bool keep_alive = keep_alive_ && !shared_->draining.load();
    response.version(11);
    response.keep_alive(keep_alive);
    response.set(bhttp::field::server, "rookery");
    response.prepare_payload();
    auto message = std::make_shared<Response>(std::move(response));
    stream_.expires_after(shared_->options.write_timeout);
    bhttp::async_write(stream_, *message,
                       [self = shared_from_this(), message, keep_alive](beast::error_code ec, std::size_t) {
                         if (ec || !keep_alive) {
                           self->Close();
                           return;
                         }
                         self->ReadHeader();
                       });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
    Release();
  }

  // A closed connection stops counting against the caps at once, although the session object
  // lives on while anything still holds it (an answer the broker has yet to acknowledge).
  void Release() {
    if (released_) return;
    released_ = true;
    shared_->peers.Close(peer_ip_);
    shared_->connections.fetch_sub(1);
  }

  static constexpr std::size_t kReadChunk = 64 * 1024;  // what Beast's own reads ask for

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<Server::Shared> shared_;
  std::string peer_ip_;
  bool keep_alive_ = true;
  bool idle_ = true;
  bool replied_ = false;
  bool released_ = false;
};

void Responder::Send(Response response) const {
  session_->Reply(std::move(response));
}

namespace {

void Accept(const std::shared_ptr<Server::Shared>& shared) {
  shared->acceptor.async_accept(net::make_strand(shared->ioc), [shared](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !shared->acceptor.is_open()) return;  // shutting down
      spdlog::warn("accept failed: {}", ec.message());
    } else if (shared->connections.load() >= shared->options.max_connections) {
      spdlog::warn("connection limit {} reached; closing new connection", shared->options.max_connections);
      socket.close(ec);
      if (shared->options.on_connection_refused) shared->options.on_connection_refused("max_connections");
    } else {
      beast::error_code endpoint_ec;
      const auto peer = socket.remote_endpoint(endpoint_ec);
      const std::string ip = endpoint_ec ? std::string() : peer.address().to_string();
      if (!shared->peers.TryOpen(ip)) {
        spdlog::warn("per-address connection limit {} reached for {}; closing new connection",
                     shared->options.max_connections_per_ip, ip);
        socket.close(ec);
        if (shared->options.on_connection_refused) shared->options.on_connection_refused("max_connections_per_ip");
      } else {
        shared->connections.fetch_add(1);
        std::make_shared<Session>(std::move(socket), shared)->Start();
      }
    }
    if (!shared->draining.load()) Accept(shared);
  });
}

void WaitForDrain(const std::shared_ptr<Server::Shared>& shared, std::shared_ptr<net::steady_timer> timer,
                  std::chrono::steady_clock::time_point deadline, std::function<void()> on_drained) {
  if (shared->connections.load() == 0 || std::chrono::steady_clock::now() >= deadline) {
    if (shared->connections.load() > 0) {
      spdlog::warn("shutdown grace expired with {} connections open", shared->connections.load());
    }
    on_drained();
    return;
  }
  timer->expires_after(std::chrono::milliseconds(20));
  timer->async_wait([shared, timer, deadline, on_drained = std::move(on_drained)](beast::error_code) mutable {
    WaitForDrain(shared, timer, deadline, std::move(on_drained));
  });
}

}  // namespace

Server::Server(net::io_context& ioc, ServerOptions options, Handler handler)
    : shared_(std::make_shared<Shared>(ioc, std::move(options), std::move(handler))) {}

Server::~Server() = default;

void Server::Start() {
  const tcp::endpoint endpoint(net::ip::make_address(shared_->options.address), shared_->options.port);
  shared_->acceptor.open(endpoint.protocol());
  shared_->acceptor.set_option(net::socket_base::reuse_address(true));
  shared_->acceptor.bind(endpoint);
  shared_->acceptor.listen(net::socket_base::max_listen_connections);
  Accept(shared_);
}

std::uint16_t Server::Port() const {
  return shared_->acceptor.local_endpoint().port();
}

std::size_t Server::OpenConnections() const {
  return shared_->connections.load();
}

void Server::BeginShutdown(std::chrono::milliseconds grace, std::function<void()> on_drained) {
  shared_->draining.store(true);
  net::post(shared_->acceptor.get_executor(), [shared = shared_] {
    beast::error_code ec;
    shared->acceptor.close(ec);
  });
  {
    std::lock_guard lock(shared_->sessions_mutex);
    for (Session* session : shared_->sessions) {
      // shared_from_this may fail for a session already being destroyed; skip it then.
      if (auto alive = session->weak_from_this().lock()) alive->CloseIfIdle();
    }
  }
  auto timer = std::make_shared<net::steady_timer>(shared_->ioc);
  WaitForDrain(shared_, timer, std::chrono::steady_clock::now() + grace, std::move(on_drained));
}

void RunUntilSignalled(net::io_context& ioc, Server& server, int threads, std::chrono::milliseconds grace) {
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const beast::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: draining {} connections", signal, server.OpenConnections());
    server.BeginShutdown(grace, [&ioc] { ioc.stop(); });
  });
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& thread : pool) thread.join();
}

}  // namespace rookery::http
