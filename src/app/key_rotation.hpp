#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "app/payer_vault.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "store/pg_sync.hpp"

namespace visitpay::app {

// Master key rotation (`visitpay keys rotate`): every data key not wrapped under the key ring's
// active master key is unwrapped with its own (older) master key and wrapped again under the
// active one. Batches of rows are locked (FOR UPDATE SKIP LOCKED) and rewrapped in a transaction
// each, so it runs while the service serves: a reader sees the old or the new wrapping, and both
// unwrap as long as both keys are in the ring. Safe to interrupt and repeat.
//
// The procedure: add the new key as the ring's last line and restart the instances (they wrap new
// data keys under it and can still unwrap the old ones); run `keys rotate`; when `keys status`
// shows no data key under the old key, delete its line (retired) and restart again.
struct RotationReport {
  std::string active_key_id;
  std::int64_t rewrapped = 0;
  std::map<std::string, std::int64_t> from;  // per former master key id
};

common::Result<RotationReport> rotate_master_key(store::PgSyncConnection& db,
                                                 const PayerVault& vault,
                                                 const std::string& active_key_id,
                                                 common::Logger& log, int batch = 500);

// How many data keys each master key wraps (for `keys status`).
common::Result<std::map<std::string, std::int64_t>> data_keys_per_master_key(
    store::PgSyncConnection& db);

}  // namespace visitpay::app
