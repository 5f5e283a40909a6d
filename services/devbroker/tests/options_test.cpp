#include <catch2/catch.hpp>

#include <cstdlib>
#include <vector>

#include "options.hpp"

using namespace rookery::devbroker;

namespace {

Options Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "rookery-devbroker");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  return ParseOptions(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("dev broker defaults and flags", "[unit][devbroker]") {
  ::unsetenv("ROOKERY_DEVBROKER_BROKERS");
  ::unsetenv("ROOKERY_DEVBROKER_PARTITIONS");
  ::unsetenv("ROOKERY_KAFKA_TOPIC");
  auto defaults = Parse({});
  CHECK(defaults.brokers == 1);
  CHECK(defaults.partitions == 64);
  CHECK(defaults.topics == std::vector<std::string>{"rookery.raw-events"});

  auto flags =
      Parse({"--brokers", "3", "--partitions=8", "--topic", "a", "--topic", "b", "--bootstrap-file", "/tmp/x"});
  CHECK(flags.brokers == 3);
  CHECK(flags.partitions == 8);
  CHECK(flags.topics == std::vector<std::string>{"a", "b"});
  CHECK(flags.bootstrap_file == "/tmp/x");
  CHECK(Parse({"--help"}).help);
}

TEST_CASE("flags win over the environment", "[unit][devbroker]") {
  ::setenv("ROOKERY_DEVBROKER_PARTITIONS", "16", 1);
  ::setenv("ROOKERY_KAFKA_TOPIC", "x,y", 1);
  CHECK(Parse({}).partitions == 16);
  CHECK(Parse({}).topics == std::vector<std::string>{"x", "y"});
  CHECK(Parse({"--partitions", "4"}).partitions == 4);
  ::unsetenv("ROOKERY_DEVBROKER_PARTITIONS");
  ::unsetenv("ROOKERY_KAFKA_TOPIC");
}

TEST_CASE("unusable arguments are usage errors", "[unit][devbroker]") {
  CHECK_THROWS_AS(Parse({"--brokers", "0"}), UsageError);
  CHECK_THROWS_AS(Parse({"--partitions", "99999"}), UsageError);
  CHECK_THROWS_AS(Parse({"--partitions", "abc"}), UsageError);
  CHECK_THROWS_AS(Parse({"--topic", "bad topic!"}), UsageError);
  CHECK_THROWS_AS(Parse({"--what"}), UsageError);
  CHECK_THROWS_AS(Parse({"--brokers"}), UsageError);
}
