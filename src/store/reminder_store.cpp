#include "store/reminder_store.hpp"

#include <charconv>
#include <cstdio>

#include "common/time_format.hpp"
#include "domain/invoice_status.hpp"
#include "domain/session_lifecycle.hpp"
#include "store/outbox_queue.hpp"
#include "store/pg_transaction.hpp"

namespace visitpay::store {

using common::Ok;
using common::Result;

namespace {

// Who is chased: an issued invoice, and a partly paid one while part of the claim itself is
// unpaid (a token payment does not stop the schedule; when only reminder fees are left, finance
// decides). The literal statuses and `due_date + 14` match the partial expression index
// invoices_reminder_due (a parameter would hide it from a generic plan).
#define VISITPAY_CHASED                                                          \
  "(status = 'issued' OR (status = 'partially_paid' AND paid_ore < total_ore)) " \
  "AND kind = 'invoice' "

constexpr Statement kDue{"reminder.due", R"sql(
SELECT id, clinic_id FROM invoices
WHERE status IN ('issued', 'partially_paid') AND )sql" VISITPAY_CHASED R"sql(
  AND coalesce(reminder_due_on, due_date + 14) <= $1::date
  AND clinic_id = ANY ($2::text[])
ORDER BY coalesce(reminder_due_on, due_date + 14), id
LIMIT $3)sql"};

// The claim: still chased and still due, and nobody else looking at it right now.
constexpr Statement kClaim{"reminder.claim", R"sql(
SELECT due_date, org_number, number FROM invoices
WHERE id = $1 AND )sql" VISITPAY_CHASED R"sql(
  AND coalesce(reminder_due_on, due_date + 14) <= $2::date
FOR UPDATE SKIP LOCKED)sql"};

#undef VISITPAY_CHASED

constexpr Statement kSteps{"reminder.steps", R"sql(
SELECT kind, sent_on, deadline, fee_ore FROM invoice_reminders
WHERE invoice_id = $1 ORDER BY id)sql"};

constexpr Statement kLookAgain{"reminder.look_again", R"sql(
UPDATE invoices SET reminder_due_on = $2::date WHERE id = $1)sql"};

// The step, its fee on what is owed, the history event and the delivery work, together. $1
// invoice, $2 kind, $3 sequence, $4 now, $5 sent on, $6 deadline, $7 fee, $8 document name,
// $9 next look, $10 sent_to_collection for the hand-off (else the status stays), $11 the
// event's detail, $12 the outbox kind.
constexpr Statement kTake{"reminder.take",
                          R"sql(
WITH step AS (
  INSERT INTO invoice_reminders (invoice_id, kind, sequence, sent_at, sent_on, deadline, fee_ore,
                                 open_ore, document_name)
  SELECT i.id, $2, $3, $4::timestamptz, $5::date, $6::date, $7::bigint,
         i.total_ore + i.reminder_fees_ore + $7::bigint - i.paid_ore, $8
  FROM invoices i WHERE i.id = $1
  ON CONFLICT ON CONSTRAINT invoice_reminders_step_key DO NOTHING
  RETURNING invoice_id, open_ore
), inv AS (
  UPDATE invoices i
  SET reminder_fees_ore = i.reminder_fees_ore + $7::bigint, reminder_due_on = $9::date,
      status = coalesce($10, i.status), updated_at = $4::timestamptz
  FROM step WHERE i.id = step.invoice_id
  RETURNING i.id, i.session_id, i.status
), audit AS (
  -- from_status: the statement's snapshot still holds the status before the update
  INSERT INTO invoice_events (invoice_id, at, actor, action, from_status, to_status, detail)
  SELECT inv.id, $4::timestamptz, 'system', $2, (SELECT status FROM invoices WHERE id = $1),
         inv.status,
         $11 || ', open ' || step.open_ore || ' øre'
  FROM inv, step
), delivery AS (
  INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
  SELECT inv.session_id, $12, $4::timestamptz, $4::timestamptz, $4::timestamptz FROM inv
  )sql" VISITPAY_OUTBOX_ON_CONFLICT R"sql(
)
SELECT inv.session_id FROM inv)sql",
                          Repeat::once};

constexpr Statement kDelivered{"reminder.delivered", R"sql(
WITH u AS (
  UPDATE invoice_reminders SET delivery_reference = $3, delivered_at = $4::timestamptz
  WHERE id = $2 AND invoice_id = $1 AND delivered_at IS NULL
  RETURNING kind, sequence
)
INSERT INTO invoice_events (invoice_id, at, actor, action, detail)
SELECT $1, $4::timestamptz, 'system',
       CASE WHEN kind = 'collection' THEN 'collection_export' ELSE 'deliver' END,
       kind || ' ' || sequence || ': ' || $3
FROM u)sql"};

std::string status(domain::InvoiceStatus s) {
  return std::string(domain::to_string(s));
}

// "purring 1, fee 3500 øre, deadline 2026-12-20" (no personal data).
std::string step_detail(const domain::DunningDecision& d) {
  std::string out = std::string(domain::to_string(*d.step)) + " " + std::to_string(d.sequence);
  if (d.step == domain::DunningKind::collection) return out;
  out += ", fee " + std::to_string(d.fee) + " øre";
  if (d.deadline) out += ", deadline " + format_iso_date(*d.deadline);
  return out;
}

// "<org>-purring-<number>-<sequence>", "<org>-collection-<number>": stable, no personal data.
std::string document_name(const PgResult& claim, const domain::DunningDecision& d) {
  std::string name = claim.string(0, 1) + "-" + std::string(domain::to_string(*d.step)) + "-" +
                     std::to_string(claim.int64(0, 2));
  if (d.step != domain::DunningKind::collection) name += "-" + std::to_string(d.sequence);
  return name;
}

asio::awaitable<Result<std::vector<domain::DunningStepTaken>>> steps_of(
    PgTransaction& tx, std::string_view invoice_id) {
  PgParams p;
  p.add(invoice_id);
  auto r = co_await tx.execute(kSteps, p);
  if (!r) co_return std::move(r).error();
  std::vector<domain::DunningStepTaken> steps;
  for (int row = 0; row < r->rows(); ++row) {
    domain::DunningStepTaken s;
    s.kind = domain::parse_dunning_kind(r->text(row, 0)).value_or(domain::DunningKind::purring);
    s.sent_on = parse_iso_date(r->text(row, 1)).value_or(domain::Date{});
    if (!r->is_null(row, 2)) s.deadline = parse_iso_date(r->text(row, 2));
    s.fee = r->int64(row, 3);
    steps.push_back(s);
  }
  co_return steps;
}

PgParams take_params(std::string_view invoice_id, const domain::DunningDecision& d,
                     const PgResult& claim, domain::Date today, domain::Timestamp now) {
  const bool collection = d.step == domain::DunningKind::collection;
  PgParams p;
  p.add(invoice_id)
      .add(domain::to_string(*d.step))
      .add(d.sequence)
      .add(common::format_rfc3339_utc(now))
      .add(format_iso_date(today))
      .add(d.deadline ? std::optional<std::string>(format_iso_date(*d.deadline)) : std::nullopt)
      .add(d.fee)
      .add(document_name(claim, d))
      // The next look: the day after the new deadline (paying on the deadline is on time).
      .add(collection ? std::string("infinity")
                      : format_iso_date(*d.deadline + std::chrono::days(1)))
      .add(collection
               ? std::optional<std::string>(status(domain::InvoiceStatus::sent_to_collection))
               : std::nullopt)
      .add(step_detail(d))
      .add(domain::to_string(domain::WorkKind::deliver_invoice));
  return p;
}

}  // namespace

std::optional<domain::Date> parse_iso_date(std::string_view text) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (std::from_chars(text.data(), text.data() + 4, y).ec != std::errc() ||
      std::from_chars(text.data() + 5, text.data() + 7, m).ec != std::errc() ||
      std::from_chars(text.data() + 8, text.data() + 10, d).ec != std::errc()) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                        std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return domain::Date{ymd};
}

std::string format_iso_date(domain::Date day) {
  const std::chrono::year_month_day ymd{day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

asio::awaitable<Result<std::vector<ReminderCandidate>>> ReminderStore::due(
    std::string_view today, const std::vector<std::string>& clinics, int limit) {
  PgParams p;
  p.add(today).add(pg_text_array(clinics)).add(limit);
  auto r = co_await pool_.execute(kDue, p);
  if (!r) co_return std::move(r).error();
  std::vector<ReminderCandidate> out;
  out.reserve(static_cast<std::size_t>(r->rows()));
  for (int row = 0; row < r->rows(); ++row)
    out.push_back({r->string(row, 0), r->string(row, 1)});
  co_return out;
}

asio::awaitable<Result<ReminderOutcome>> ReminderStore::look(std::string_view invoice_id,
                                                             const domain::DunningPolicy& policy,
                                                             domain::Date today,
                                                             domain::Timestamp now) {
  using Kind = ReminderOutcome::Kind;
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  PgParams claim_params;
  claim_params.add(invoice_id).add(format_iso_date(today));
  auto claim = co_await tx->execute(kClaim, claim_params);
  if (!claim) co_return std::move(claim).error();
  if (claim->empty()) {
    auto ended = co_await tx->rollback();
    if (!ended) co_return std::move(ended).error();
    co_return ReminderOutcome{};  // paid, changed or taken by another instance meanwhile
  }
  const auto due_date = parse_iso_date(claim->text(0, 0));
  if (!due_date) {
    co_return common::make_error(common::ErrorCode::internal_error, "invoice without due date");
  }
  auto steps = co_await steps_of(*tx, invoice_id);
  if (!steps) co_return std::move(steps).error();
  const auto decision = domain::next_dunning_step(policy, *due_date, *steps, today);

  ReminderOutcome outcome;
  if (!decision.step) {
    outcome.kind = decision.finished ? Kind::finished : Kind::waiting;
    PgParams again;
    again.add(invoice_id)
        .add(decision.not_before ? format_iso_date(*decision.not_before) : std::string("infinity"));
    auto updated = co_await tx->execute(kLookAgain, again);
    if (!updated) co_return std::move(updated).error();
  } else {
    // A named argument: a temporary bound to a const& across co_await is a GCC 12 crash.
    const PgParams params = take_params(invoice_id, decision, *claim, today, now);
    auto taken = co_await tx->execute(kTake, params);
    if (!taken) co_return std::move(taken).error();
    if (taken->empty()) {  // the step exists already: another instance took it
      auto ended = co_await tx->rollback();
      if (!ended) co_return std::move(ended).error();
      co_return ReminderOutcome{};
    }
    outcome.kind = Kind::taken;
    outcome.step = decision.step;
    outcome.fee = decision.fee;
    outcome.session_id = taken->string(0, 0);
  }
  auto committed = co_await tx->commit();
  if (!committed) co_return std::move(committed).error();
  co_return outcome;
}

asio::awaitable<Result<void>> ReminderStore::delivered(std::string_view invoice_id,
                                                       const ReminderRecord& reminder,
                                                       std::string_view reference,
                                                       domain::Timestamp now) {
  PgParams p;
  p.add(invoice_id).add(reminder.id).add(reference).add(common::format_rfc3339_utc(now));
  auto r = co_await pool_.execute(kDelivered, p);
  if (!r) co_return std::move(r).error();
  co_return Ok{};
}

}  // namespace visitpay::store
