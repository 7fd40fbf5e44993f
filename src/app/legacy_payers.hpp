#pragma once

#include <cstdint>

#include "app/payer_vault.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "store/pg_sync.hpp"

namespace visitpay::app {

// Payer rows written before payer data was encrypted (migration 0005) still hold plaintext:
// encrypts each under fresh data keys of its session and empties the plaintext columns, one row
// per statement (safe to interrupt and repeat). Run by `migrate` and `serve` after the schema
// migrations. Returns how many rows it encrypted.
common::Result<std::int64_t> encrypt_legacy_payers(store::PgSyncConnection& db,
                                                   const PayerVault& vault,
                                                   const common::Bytes& lookup_key,
                                                   common::Logger& log);

}  // namespace visitpay::app
