// COPY ... FROM STDIN (FORMAT binary): rows built field by field in PostgreSQL's binary wire
// forms, sent on the transaction's own connection. The text form makes the server parse every
// field (hex bytea, arrays, timestamps, JSON) and the client escape it; for the worker's event
// rows that was about a third of the COPY's cost (docs/benchmarks.md). pqxx 6.4 can send COPY
// data only as text lines, so the rows go through libpq.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/dbtransaction>

namespace rookery::db {

/// Appends fields to one binary COPY tuple. Start() writes the field count; each field is its
/// length and bytes, or -1 for NULL.
class BinaryRow {
 public:
  explicit BinaryRow(std::string& out) : out_(out) {}

  void Start(std::int16_t fields);
  void Null();
  void Int64(std::int64_t value);
  /// text, and anything else sent as its bytes (uuid's 16, bytea's).
  void Bytes(std::string_view bytes);
  /// timestamptz from Unix milliseconds.
  void TimestampMillis(std::int64_t unix_millis);
  /// date: the UTC day of Unix milliseconds.
  void DateOfMillis(std::int64_t unix_millis);
  /// inet from an IPv4 or IPv6 address in text; false (nothing written) if it is neither.
  bool Inet(const std::string& address);
  /// text[] of one dimension.
  void TextArray(const std::vector<std::string>& values);
  /// jsonb from JSON text.
  void Jsonb(std::string_view json);

 private:
  void Length(std::int32_t length);
  std::string& out_;
};

/// Sends `pieces` (tuples from BinaryRow, whole or in parts, in order) into `table`'s `columns`
/// within `tx`, each as COPY data messages of at most 1 MB. Throws
/// pqxx's exception for the server's SQLSTATE (data_exception, unique_violation, ...), as a
/// statement run through pqxx would.
void CopyBinary(pqxx::dbtransaction& tx, std::string_view table, const std::vector<std::string>& columns,
                const std::vector<std::string_view>& pieces);

}  // namespace rookery::db
