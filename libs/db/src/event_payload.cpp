#include "rookery/db/event_payload.hpp"

#include <zstd.h>

#include <memory>
#include <pqxx/binarystring>

namespace rookery::db {
namespace {

// Far above the relay's 1 MiB event limit: a frame claiming more is not one the worker wrote.
constexpr unsigned long long kMaxEventJsonBytes = 64ULL << 20;

}  // namespace

bool CompressEventPayload(std::string_view json, std::string& out) {
  struct ContextDeleter {
    void operator()(ZSTD_CCtx* context) const { ZSTD_freeCCtx(context); }
  };
  // A context per thread: creating one per event would allocate its tables every time.
  thread_local std::unique_ptr<ZSTD_CCtx, ContextDeleter> context(ZSTD_createCCtx());
  if (!context) return false;
  out.resize(ZSTD_compressBound(json.size()));
  const std::size_t size = ZSTD_compressCCtx(context.get(), out.data(), out.size(), json.data(), json.size(), 1);
  if (ZSTD_isError(size) != 0) return false;
  out.resize(size);
  return true;
}

std::optional<std::string> DecompressEventPayload(std::string_view payload) {
  const unsigned long long size = ZSTD_getFrameContentSize(payload.data(), payload.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > kMaxEventJsonBytes) {
    return std::nullopt;
  }
  std::string json(static_cast<std::size_t>(size), '\0');
  const std::size_t written = ZSTD_decompress(json.data(), json.size(), payload.data(), payload.size());
  if (ZSTD_isError(written) != 0 || written != json.size()) return std::nullopt;
  return json;
}

std::string EventJson(const pqxx::field& data, const pqxx::field& payload) {
  if (payload.is_null()) return data.is_null() ? "{}" : data.as<std::string>();
  const pqxx::binarystring bytes(payload);
  auto json = DecompressEventPayload(std::string_view(bytes.get(), bytes.size()));
  return json ? std::move(*json) : "{}";
}

}  // namespace rookery::db
