#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "domain/checkout.hpp"
#include "store/pg_pool.hpp"

namespace visitpay::store {

struct OverviewFilter {
  domain::Timestamp from, to;        // check-outs committed in [from, to)
  std::string clinic_id;             // "" = every clinic the caller may see
  std::vector<std::string> clinics;  // the caller's clinics; empty = all
};

struct DailyConversion {
  std::string day;  // Oslo calendar day, YYYY-MM-DD
  std::int64_t checkouts = 0;
  std::int64_t paid = 0;
};

// What happened to the check-outs of a clinic and period (the console's overview), counted in
// the database: sessions, their payment orders and invoices.
struct Overview {
  std::int64_t checkouts = 0;
  std::int64_t paid_card = 0;
  std::int64_t paid_vipps = 0;
  std::int64_t paid_other = 0;
  std::int64_t invoiced_with_fee = 0;
  std::int64_t invoiced_without_fee = 0;
  std::int64_t cancelled = 0;
  std::int64_t open = 0;  // not final yet
  std::optional<std::int64_t> median_seconds_to_pay;
  std::int64_t open_amount_ore = 0;  // open sessions + what invoices waiting for review or
                                     // payment still lack (a partial payment counts as paid)
  std::vector<DailyConversion> days;
};

class OverviewStore {
 public:
  explicit OverviewStore(PgPool& pool) : pool_(pool) {}
  asio::awaitable<common::Result<Overview>> overview(const OverviewFilter& filter);

 private:
  PgPool& pool_;
};

}  // namespace visitpay::store
