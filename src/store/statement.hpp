#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace visitpay::store {

// '\x..' bytea input form.
std::string pg_bytea_hex(const std::uint8_t* data, std::size_t n);

// SQL text joined from parts at compile time, so statements that share a fragment stay constants:
//   constexpr char kPart[] = "...";  constexpr auto kSql = join_sql(kHead, kPart);
//   constexpr Statement kX{"name", kSql.view()};
template <std::size_t N>
struct JoinedSql {
  std::array<char, N> text{};
  constexpr std::string_view view() const { return {text.data(), N - 1}; }
};

template <std::size_t... N>
constexpr JoinedSql<(N + ...) - sizeof...(N) + 1> join_sql(const char (&... parts)[N]) {
  JoinedSql<(N + ...) - sizeof...(N) + 1> out;
  std::size_t at = 0;
  ((std::copy_n(parts, N - 1, out.text.begin() + at), at += N - 1), ...);
  return out;
}

// Whether PgPool may send a statement again when its connection was lost after it was sent
// (the answer never came, so it may have committed).
enum class Repeat {
  safe,  // reads, and writes whose repetition changes nothing and answers the same (fenced)
  // a second run would do the work twice, or answer differently (a compare-and-set that already
  // happened reads as refused): the caller hears "outcome unknown" instead
  once,
};

// A named, parameterised SQL statement. The name is used for PREPARE, logs and metrics; it
// must be unique and have static storage (statements are declared as constants next to their
// table's store). An aggregate, so `constexpr Statement kX{"name", "SQL"}` stays valid.
struct Statement {
  std::string_view name;
  std::string_view sql;
  Repeat repeat = Repeat::safe;
};

// Text-format parameters for $1..$n.
class PgParams {
 public:
  PgParams& add(std::string value) {
    values_.emplace_back(std::move(value));
    return *this;
  }
  PgParams& add(std::string_view value) { return add(std::string(value)); }
  PgParams& add(const char* value) { return add(std::string(value)); }
  PgParams& add(std::int64_t value) { return add(std::to_string(value)); }
  PgParams& add(int value) { return add(std::to_string(value)); }
  PgParams& add(bool value) { return add(std::string(value ? "t" : "f")); }
  PgParams& add(const std::optional<std::string>& value) {
    values_.push_back(value);
    return *this;
  }
  // Bytes (a vector or an array of std::uint8_t) as a bytea; an absent value is NULL.
  PgParams& add_bytea(std::span<const std::uint8_t> bytes) {
    return add(pg_bytea_hex(bytes.data(), bytes.size()));
  }
  template <typename Bytes>
  PgParams& add_bytea(const std::optional<Bytes>& bytes) {
    return bytes ? add_bytea(std::span<const std::uint8_t>(*bytes)) : add_null();
  }
  PgParams& add_null() {
    values_.emplace_back(std::nullopt);
    return *this;
  }

  std::size_t size() const { return values_.size(); }
  const std::vector<std::optional<std::string>>& values() const { return values_; }

 private:
  std::vector<std::optional<std::string>> values_;
};

// Encodes a one-dimensional PostgreSQL array literal of text values: {"a","b\"c"}.
std::string pg_text_array(const std::vector<std::string>& items);
// The same with NULL elements.
std::string pg_text_array(const std::vector<std::optional<std::string>>& items);
std::string pg_int_array(const std::vector<std::int64_t>& items);
// A bytea[] literal: each element in the hex input form, {"\\x0102",...}.
std::string pg_bytea_array(const std::vector<std::vector<std::uint8_t>>& items);

// Rows for COPY ... FROM STDIN in its text format: fields apart by tabs, a newline after each
// row, NULL as \N, and backslashes, tabs, newlines and carriage returns in values escaped.
class PgCopyRows {
 public:
  PgCopyRows& add(std::string_view value);
  PgCopyRows& add(std::int64_t value);
  // The empty string as NULL (a field the source left out).
  PgCopyRows& add_or_null(std::string_view value) {
    return value.empty() ? add_null() : add(value);
  }
  PgCopyRows& add_null();
  void end_row();

  const std::string& data() const { return data_; }

 private:
  void separate();

  std::string data_;
  bool row_open_ = false;
};
}  // namespace visitpay::store
