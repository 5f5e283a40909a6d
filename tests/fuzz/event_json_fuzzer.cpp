// Fuzz target: the relay's one-pass event JSON check (ScanEventJson) against RapidJSON's reader
// (ReadEventJson), which the worker's parser agrees with. Whenever the scan decides, it must
// decide as the reader does and find the same event_id. Input: an event body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "event_json_scan.hpp"
#include "fuzz_check.hpp"

namespace rookery::protocol::internal {
namespace {

void CheckAgreement(std::string_view json) {
  const EventJsonScan scan = ScanEventJson(json);
  std::string storage;
  const EventJsonScan read = ReadEventJson(json, storage);
  ROOKERY_FUZZ_CHECK(read.verdict != EventJsonScan::Verdict::kUndecided);
  if (scan.verdict == EventJsonScan::Verdict::kUndecided) return;  // the relay asks the reader
  ROOKERY_FUZZ_CHECK(scan.verdict == read.verdict);
  if (scan.verdict != EventJsonScan::Verdict::kObject) return;
  ROOKERY_FUZZ_CHECK(scan.has_event_id_key == read.has_event_id_key);
  ROOKERY_FUZZ_CHECK(scan.event_id_null == read.event_id_null);
  ROOKERY_FUZZ_CHECK(scan.event_id_is_string == read.event_id_is_string);
  ROOKERY_FUZZ_CHECK(scan.event_id == read.event_id);
  ROOKERY_FUZZ_CHECK(scan.event_id.empty() || rookery::fuzz::IsInside(scan.event_id, json));
}

}  // namespace
}  // namespace rookery::protocol::internal

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  rookery::protocol::internal::CheckAgreement(json);
  return 0;
}
