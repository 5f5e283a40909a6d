#include "rookery/db/binary_copy.hpp"

#include <arpa/inet.h>
#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <pqxx/except>
#include <pqxx/largeobject>

namespace rookery::db {
namespace {

// PostgreSQL's epoch for timestamps and dates: 2000-01-01 00:00 UTC.
constexpr std::int64_t kPostgresEpochMillis = 946'684'800'000;
constexpr std::int64_t kMillisPerDay = 86'400'000;
constexpr std::uint32_t kTextOid = 25;
// inet's family byte: PostgreSQL's own numbering, not the platform's AF_* values.
constexpr std::uint8_t kPgsqlAfInet = 2;
constexpr std::uint8_t kPgsqlAfInet6 = 3;

template <class T>
void AppendBigEndian(std::string& out, T value) {
  auto bits = static_cast<std::uint64_t>(value);
  char bytes[sizeof(T)];
  for (std::size_t i = sizeof(T); i-- > 0;) {
    bytes[i] = static_cast<char>(bits & 0xff);
    bits >>= 8;
  }
  out.append(bytes, sizeof(T));
}

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// The transaction's libpq connection: pqxx 6.4 hands it to large-object classes only.
class RawConnection : public pqxx::largeobject {
 public:
  static PGconn* Of(const pqxx::dbtransaction& tx) { return raw_connection(tx); }
};

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

[[noreturn]] void Throw(PGconn* connection, const PGresult* result, const std::string& query) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string message = result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(connection);
  if (PQstatus(connection) == CONNECTION_BAD) throw pqxx::broken_connection(message);
  const std::string_view code = state != nullptr ? state : "";
  if (code == "23505") throw pqxx::unique_violation(message, query, state);
  if (code == "23503") throw pqxx::foreign_key_violation(message, query, state);
  if (code == "23502") throw pqxx::not_null_violation(message, query, state);
  if (code == "23514") throw pqxx::check_violation(message, query, state);
  if (code.starts_with("23")) throw pqxx::integrity_constraint_violation(message, query, state);
  if (code.starts_with("22")) throw pqxx::data_exception(message, query, state);
  if (code == "40001") throw pqxx::serialization_failure(message);
  if (code == "40P01") throw pqxx::deadlock_detected(message);
  if (code.starts_with("08")) throw pqxx::broken_connection(message);
  throw pqxx::sql_error(message, query, state);
}

}  // namespace

void BinaryRow::Length(std::int32_t length) {
  AppendBigEndian(out_, length);
}

void BinaryRow::Start(std::int16_t fields) {
  AppendBigEndian(out_, fields);
}

void BinaryRow::Null() {
  Length(-1);
}

void BinaryRow::Int64(std::int64_t value) {
  Length(8);
  AppendBigEndian(out_, value);
}

void BinaryRow::Bytes(std::string_view bytes) {
  Length(static_cast<std::int32_t>(bytes.size()));
  out_.append(bytes);
}

void BinaryRow::TimestampMillis(std::int64_t unix_millis) {
  Length(8);
  AppendBigEndian(out_, (unix_millis - kPostgresEpochMillis) * 1000);
}

void BinaryRow::DateOfMillis(std::int64_t unix_millis) {
  Length(4);
  AppendBigEndian(out_, static_cast<std::int32_t>(FloorDiv(unix_millis - kPostgresEpochMillis, kMillisPerDay)));
}

bool BinaryRow::Inet(const std::string& address) {
  std::array<unsigned char, 16> bytes{};
  std::uint8_t family = 0;
  std::uint8_t size = 0;
  if (inet_pton(AF_INET, address.c_str(), bytes.data()) == 1) {
    family = kPgsqlAfInet;
    size = 4;
  } else if (inet_pton(AF_INET6, address.c_str(), bytes.data()) == 1) {
    family = kPgsqlAfInet6;
    size = 16;
  } else {
    return false;
  }
  Length(4 + size);
  out_ += static_cast<char>(family);
  out_ += static_cast<char>(size * 8);  // bits: a host address
  out_ += '\0';                         // not cidr
  out_ += static_cast<char>(size);
  out_.append(reinterpret_cast<const char*>(bytes.data()), size);
  return true;
}

void BinaryRow::TextArray(const std::vector<std::string>& values) {
  std::size_t size = 20;
  for (const std::string& value : values) size += 4 + value.size();
  Length(static_cast<std::int32_t>(size));
  AppendBigEndian<std::int32_t>(out_, 1);  // dimensions
  AppendBigEndian<std::int32_t>(out_, 0);  // no NULL elements
  AppendBigEndian(out_, kTextOid);
  AppendBigEndian(out_, static_cast<std::int32_t>(values.size()));
  AppendBigEndian<std::int32_t>(out_, 1);  // lower bound
  for (const std::string& value : values) {
    AppendBigEndian(out_, static_cast<std::int32_t>(value.size()));
    out_ += value;
  }
}

void BinaryRow::Jsonb(std::string_view json) {
  Length(static_cast<std::int32_t>(json.size() + 1));
  out_ += '\1';  // jsonb's binary format version
  out_.append(json);
}

void CopyBinary(pqxx::dbtransaction& tx, std::string_view table, const std::vector<std::string>& columns,
                const std::vector<std::string_view>& pieces) {
  PGconn* connection = RawConnection::Of(tx);
  std::string query = "COPY " + std::string(table) + " (";
  for (std::size_t i = 0; i < columns.size(); ++i) query += (i > 0 ? ", " : "") + columns[i];
  query += ") FROM STDIN (FORMAT binary)";
  Result started(PQexec(connection, query.c_str()));
  if (PQresultStatus(started.get()) != PGRES_COPY_IN) Throw(connection, started.get(), query);

  // Signature, flags, header extension length; no trailer: the end of the COPY data ends it.
  static constexpr char kHeader[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
  bool sent = PQputCopyData(connection, kHeader, sizeof(kHeader) - 1) == 1;
  // Bounded messages: the server refuses a CopyData message over 1 GB, and libpq's length is an int.
  constexpr std::size_t kMaxMessage = 1 << 20;
  for (std::size_t i = 0; sent && i < pieces.size(); ++i) {
    for (std::size_t at = 0; sent && at < pieces[i].size(); at += kMaxMessage) {
      const std::size_t size = std::min(kMaxMessage, pieces[i].size() - at);
      sent = PQputCopyData(connection, pieces[i].data() + at, static_cast<int>(size)) == 1;
    }
  }
  if (PQputCopyEnd(connection, sent ? nullptr : "client failed to send the rows") != 1) {
    Throw(connection, nullptr, query);
  }
  // Every result is read, so that the connection is ready for the transaction's next statement.
  Result failed;
  while (Result result{PQgetResult(connection)}) {
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK && !failed) failed = std::move(result);
  }
  if (failed) Throw(connection, failed.get(), query);
  if (!sent) Throw(connection, nullptr, query);
}

}  // namespace rookery::db
