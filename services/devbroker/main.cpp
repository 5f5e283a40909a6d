// rookery-devbroker: an in-memory Kafka broker (librdkafka's mock cluster) for development and
// tests ONLY. Nothing is persisted; see src/broker.hpp.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "broker.hpp"
#include "options.hpp"

int main(int argc, char** argv) {
  namespace devbroker = rookery::devbroker;
  // Plain (uncolored) stdout sink: output usually goes to a log file.
  spdlog::set_default_logger(spdlog::stdout_logger_mt("devbroker"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [devbroker] %v");

  devbroker::Options options;
  try {
    options = devbroker::ParseOptions(argc, argv);
  } catch (const devbroker::UsageError& e) {
    std::cerr << "rookery-devbroker: " << e.what() << "\n"
              << "Try 'rookery-devbroker --help'.\n";
    return devbroker::kExitUsage;
  }
  if (options.help) {
    std::cout << devbroker::kUsage;
    return 0;
  }
  try {
    const int rc = devbroker::Run(options);
    spdlog::info("devbroker stopped");
    return rc;
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}
