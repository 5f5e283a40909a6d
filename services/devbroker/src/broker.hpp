// rookery-devbroker: an in-memory Kafka broker for development and tests ONLY.
//
// It wraps librdkafka's in-process mock cluster (rdkafka_mock.h), so
// `scripts/dev.sh up` and the integration tests get a Kafka-protocol endpoint
// without a JVM or Docker. It is NOT a Kafka replacement: nothing is
// persisted, each partition keeps only ~5 MB / 100k batches (older batches are
// silently dropped), and the mock is an experimental librdkafka API. Never
// point production traffic at it.
//
// Fault injection for tests: SIGUSR1 takes every broker down (connections are
// closed and refused), SIGUSR2 brings them back. SIGTERM/SIGINT shut down
// cleanly and remove the bootstrap file.

#pragma once

#include "options.hpp"

namespace rookery::devbroker {

/// Runs the mock cluster until SIGTERM/SIGINT; SIGUSR1/SIGUSR2 take the brokers down/up.
/// Returns the exit code; throws std::runtime_error when the cluster cannot start.
int Run(const Options& options);

}  // namespace rookery::devbroker
