#include "rookery/http/side_server.hpp"

#include <thread>

#include "rookery/http/response.hpp"

namespace rookery::http {

struct SideServer::State {
  boost::asio::io_context ioc{1};
  std::unique_ptr<Server> server;
  std::thread thread;
};

SideServer::SideServer(ServerOptions options, std::function<std::string()> health, std::function<std::string()> metrics)
    : state_(std::make_unique<State>()) {
  state_->server = std::make_unique<Server>(
      state_->ioc, std::move(options),
      [health = std::move(health), metrics = std::move(metrics)](Incoming&& in, Responder out) {
        const std::string_view path = PathOf(in.request.target());
        if (path == "/healthz") {
          out.Send(MakeJsonResponse(Status::ok, health()));
        } else if (path == "/metrics") {
          out.Send(MakeResponse(Status::ok, metrics(), "text/plain; version=0.0.4"));
        } else {
          out.Send(MakeErrorResponse(Status::not_found, "The requested resource does not exist"));
        }
      });
  state_->server->Start();
  state_->thread = std::thread([state = state_.get()] { state->ioc.run(); });
}

SideServer::~SideServer() {
  state_->server->BeginShutdown(std::chrono::milliseconds(1000), [state = state_.get()] { state->ioc.stop(); });
  state_->thread.join();
}

std::uint16_t SideServer::Port() const {
  return state_->server->Port();
}

}  // namespace rookery::http
