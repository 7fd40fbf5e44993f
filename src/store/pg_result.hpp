#pragma once

#include <libpq-fe.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/crypto.hpp"

namespace visitpay::store {

// Owns one PGresult (text format). Rows and columns are zero-based.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}

  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  bool empty() const { return rows() == 0; }
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col),
            static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
  }
  std::string string(int row, int col) const { return std::string(text(row, col)); }
  std::optional<std::string> optional_string(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return string(row, col);
  }
  std::int64_t int64(int row, int col) const {
    std::int64_t v = 0;
    auto t = text(row, col);
    std::from_chars(t.data(), t.data() + t.size(), v);
    return v;
  }
  bool boolean(int row, int col) const { return text(row, col) == "t"; }
  // A bytea column (text format "\x<hex>"); nullopt for NULL or a malformed value.
  std::optional<common::Bytes> bytea(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    auto t = text(row, col);
    common::Bytes out;
    if (t.size() < 2 || t.substr(0, 2) != "\\x" || !common::from_hex(t.substr(2), out)) {
      return std::nullopt;
    }
    return out;
  }
  PGresult* raw() const { return r_.get(); }
  std::int64_t affected_rows() const {
    const char* n = PQcmdTuples(r_.get());
    return n && *n ? std::strtoll(n, nullptr, 10) : 0;
  }

 private:
  std::shared_ptr<PGresult> r_;
};

}  // namespace visitpay::store
