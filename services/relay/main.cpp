// rookery-relay: the HTTP ingest door for Sentry SDKs. All logic lives in relay_core.
#include <malloc.h>
#include <spdlog/spdlog.h>

#include "app.hpp"
#include "config.hpp"
#include "rookery/log/log.hpp"

int main() {
  // Messages are allocated on the I/O threads and freed on librdkafka's threads. With glibc's
  // default (dynamic) trim threshold nearly every such free shrank an I/O thread's heap with
  // madvise, and the next requests faulted the pages back in: 8 % of the relay's CPU under load,
  // plus TLB shootdowns on the other core. Free memory at the top of a heap is now kept for reuse
  // up to 16 MiB; blocks up to 4 MiB (event bodies) come from the heaps rather than from mmap.
  mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
  mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
  try {
    rookery::log::Init("relay");
    const auto config = rookery::relay::RelayConfigFromEnv();
    return rookery::relay::RunRelay(config);
  } catch (const std::exception& e) {
    spdlog::critical("relay failed to start: {}", e.what());
    return 1;
  }
}
