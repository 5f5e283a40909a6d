// The events table's payload (migration 0011): the event JSON zstd-compressed by the worker, which
// PostgreSQL stores as bytes without parsing or compressing it again. Rows written before that
// migration carry the JSON as jsonb `data` instead; readers take whichever is set.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

namespace rookery::db {

/// The zstd frame of `json` (level 1: ~4:1 on event JSON at a few µs per event), written into
/// `out`. False only when zstd fails, which only a failed allocation makes it do.
bool CompressEventPayload(std::string_view json, std::string& out);

/// The JSON back from a payload; nullopt if it is not a zstd frame of a sane size.
std::optional<std::string> DecompressEventPayload(std::string_view payload);

/// An events row's JSON from its `data::text` and `payload` fields, in that order; "{}" when
/// neither reads, so one damaged row cannot fail a whole page or an alert.
std::string EventJson(const pqxx::field& data, const pqxx::field& payload);

}  // namespace rookery::db
