#include "store/overview_store.hpp"

#include "common/time_format.hpp"

namespace visitpay::store {

using common::Result;

namespace {

// $1 from, $2 to, $3 clinic (NULL = any), $4 the caller's clinics ('{}' = all).
#define VISITPAY_OVERVIEW_SESSIONS                                                     \
  "WITH s AS (SELECT s.id, s.state, s.amount_ore, s.created_at, s.paid_at, "           \
  "po.instrument FROM sessions s LEFT JOIN payment_orders po ON po.session_id = s.id " \
  "WHERE s.created_at >= $1 AND s.created_at < $2 AND ($3::text IS NULL OR "           \
  "s.clinic_id = $3) AND (cardinality($4::text[]) = 0 OR s.clinic_id = ANY ($4::text[]))) "

constexpr Statement kTotals{
    "overview.totals", VISITPAY_OVERVIEW_SESSIONS
    "SELECT count(*), "
    "count(*) FILTER (WHERE state = 'paid' AND instrument ILIKE '%card%'), "
    "count(*) FILTER (WHERE state = 'paid' AND instrument ILIKE '%vipps%'), "
    "count(*) FILTER (WHERE state = 'paid' AND (instrument IS NULL OR NOT (instrument ILIKE "
    "'%card%' OR instrument ILIKE '%vipps%'))), "
    "(SELECT count(*) FROM invoices i JOIN s ON s.id = i.session_id WHERE i.kind = 'invoice' "
    "AND i.fee_ore > 0), "
    "(SELECT count(*) FROM invoices i JOIN s ON s.id = i.session_id WHERE i.kind = 'invoice' "
    "AND i.fee_ore = 0), "
    "count(*) FILTER (WHERE state = 'cancelled'), "
    "count(*) FILTER (WHERE state IN ('pending', 'awaiting_payment', 'invoicing')), "
    "round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM paid_at - created_at)) "
    "FILTER (WHERE state = 'paid' AND paid_at IS NOT NULL))::bigint, "
    "coalesce(sum(amount_ore) FILTER (WHERE state IN ('pending', 'awaiting_payment', "
    "'invoicing')), 0) + (SELECT coalesce(sum(i.total_ore - i.paid_ore), 0) FROM invoices i JOIN s "
    "ON s.id = i.session_id WHERE i.kind = 'invoice' AND i.status IN ('pending_review', 'issued', "
    "'partially_paid'))::bigint "
    "FROM s"};

constexpr Statement kDaily{
    "overview.daily", VISITPAY_OVERVIEW_SESSIONS
    "SELECT to_char(created_at AT TIME ZONE 'Europe/Oslo', 'YYYY-MM-DD') AS day, count(*), "
    "count(*) FILTER (WHERE state = 'paid') FROM s GROUP BY day ORDER BY day"};

#undef VISITPAY_OVERVIEW_SESSIONS

PgParams filter_params(const OverviewFilter& f) {
  PgParams p;
  p.add(common::format_rfc3339_utc(f.from)).add(common::format_rfc3339_utc(f.to));
  if (f.clinic_id.empty()) {
    p.add_null();
  } else {
    p.add(f.clinic_id);
  }
  p.add(pg_text_array(f.clinics));
  return p;
}

}  // namespace

asio::awaitable<Result<Overview>> OverviewStore::overview(const OverviewFilter& filter) {
  const auto params = filter_params(filter);
  auto t = co_await pool_.execute(kTotals, params);
  if (!t) co_return std::move(t).error();
  Overview o;
  o.checkouts = t->int64(0, 0);
  o.paid_card = t->int64(0, 1);
  o.paid_vipps = t->int64(0, 2);
  o.paid_other = t->int64(0, 3);
  o.invoiced_with_fee = t->int64(0, 4);
  o.invoiced_without_fee = t->int64(0, 5);
  o.cancelled = t->int64(0, 6);
  o.open = t->int64(0, 7);
  if (!t->is_null(0, 8)) o.median_seconds_to_pay = t->int64(0, 8);
  o.open_amount_ore = t->int64(0, 9);
  auto d = co_await pool_.execute(kDaily, params);
  if (!d) co_return std::move(d).error();
  o.days.reserve(static_cast<std::size_t>(d->rows()));
  for (int i = 0; i < d->rows(); ++i)
    o.days.push_back({d->string(i, 0), d->int64(i, 1), d->int64(i, 2)});
  co_return o;
}

}  // namespace visitpay::store
