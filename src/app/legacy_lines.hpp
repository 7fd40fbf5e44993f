#pragma once

#include <cstdint>

#include "app/payer_vault.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "store/pg_sync.hpp"

namespace visitpay::app {

// Lines written before their descriptions were encrypted (migration 0019) still hold plaintext:
// seals each session line's description under its session's retained key (field "line:<n>",
// app/line_descriptions.hpp) and empties the plaintext, a session at a time (safe to interrupt
// and repeat); invoice and credit-note lines then take the session line's ciphertext. A
// description whose session has no retained key any more (purged) is emptied, as the purge would
// have done. Run by `migrate` and `serve` after encrypt_legacy_payers (which gives pre-0005
// sessions their keys), so rows an instance of the previous version wrote during a rolling upgrade
// are mended at the next start. Returns how many lines it changed.
common::Result<std::int64_t> seal_legacy_lines(store::PgSyncConnection& db, const PayerVault& vault,
                                               common::Logger& log);

}  // namespace visitpay::app
