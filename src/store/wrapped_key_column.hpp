#pragma once

#include <optional>

#include "domain/sealed_payer.hpp"
#include "store/pg_result.hpp"

namespace visitpay::store {

// A payer_keys row selected as two columns (master_key_id, wrapped_key) from `col`, typically
// through a LEFT JOIN: nullopt when there is none (the class was purged).
inline std::optional<domain::WrappedKey> wrapped_key(const PgResult& r, int row, int col) {
  if (r.is_null(row, col)) return std::nullopt;
  auto wrapped = r.bytea(row, col + 1);
  if (!wrapped) return std::nullopt;
  return domain::WrappedKey{r.string(row, col), std::move(*wrapped)};
}

}  // namespace visitpay::store
