#include <catch2/catch.hpp>

#include "rookery/metrics/metrics.hpp"

using namespace rookery::metrics;

TEST_CASE("counters, gauges and histograms render as Prometheus text", "[unit][metrics]") {
  Registry registry;
  auto& requests = registry.AddCounter("rookery_requests_total", "Requests.", {"route", "status"});
  requests.With({"store", "200"}).Inc();
  requests.With({"store", "200"}).Inc(2);
  requests.With({"envelope", "4\"00"}).Inc();
  registry.AddGauge("rookery_queue_depth", "Queue depth.", [] { return 7.0; });
  auto& latency = registry.AddHistogram("rookery_latency_seconds", "Latency.");
  latency.With({}).Observe(0.0007);
  latency.With({}).Observe(2.0);

  const std::string text = registry.Render();
  CHECK(text.find("# TYPE rookery_requests_total counter\n") != std::string::npos);
  CHECK(text.find("rookery_requests_total{route=\"store\",status=\"200\"} 3\n") != std::string::npos);
  CHECK(text.find("rookery_requests_total{route=\"envelope\",status=\"4\\\"00\"} 1\n") != std::string::npos);
  CHECK(text.find("rookery_queue_depth 7\n") != std::string::npos);
  CHECK(text.find("rookery_latency_seconds_bucket{le=\"0.0005\"} 0\n") != std::string::npos);
  CHECK(text.find("rookery_latency_seconds_bucket{le=\"0.001\"} 1\n") != std::string::npos);
  CHECK(text.find("rookery_latency_seconds_bucket{le=\"1\"} 1\n") != std::string::npos);
  CHECK(text.find("rookery_latency_seconds_bucket{le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(text.find("rookery_latency_seconds_count 2\n") != std::string::npos);
}
