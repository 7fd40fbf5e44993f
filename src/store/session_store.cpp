#include "store/session_store.hpp"

#include "common/time_format.hpp"
#include "store/wrapped_key_column.hpp"

namespace visitpay::store {

using common::Result;

namespace {

// With a phone, the payment link's first step is queued in the same statement; without one the
// session waits for its invoice. The lines' descriptions go in sealed ($11, bytea[]).
// The session starts in the state domain::start_of gives ($23, reason $24) with its work ($25)
// queued in the same statement. (No SQL comments inside: the benchmark's pgbench script puts the
// statement on one line.)
constexpr Statement kInsert{"session.insert", R"sql(
WITH s AS (
  INSERT INTO sessions (id, clinic_id, visit_id, state, invoice_reason, currency, amount_ore,
                        vat_amount_ore, checked_out_at, has_phone, request_fingerprint,
                        created_at, updated_at, state_since, fee_terms_accepted_at,
                        fee_terms_version)
  VALUES ($1, $2, $3, $23, nullif($24, ''), $4, $5, $6, $7, $8, $9, $10, $10, $10, $26::timestamptz,
          $27::text)
  ON CONFLICT (clinic_id, visit_id) DO NOTHING
  RETURNING id
), o AS (
  INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
  SELECT s.id, w.kind, $10, $10, $10 FROM s, unnest($25::text[]) AS w (kind)
), l AS (
  INSERT INTO session_lines (session_id, line_no, description_enc, amount_ore, vat_amount_ore)
  SELECT s.id, x.line_no, x.description_enc, x.amount, x.vat
  FROM s, unnest($11::bytea[], $12::bigint[], $13::bigint[])
          WITH ORDINALITY AS x (description_enc, amount, vat, line_no)
), p AS (
  INSERT INTO payers (session_id, national_id_hmac, national_id_enc, phone_enc, name_enc,
                      address_enc, email_enc)
  SELECT s.id, $14::bytea, $15::bytea, $16::bytea, $17::bytea, $18::bytea, $28::bytea FROM s
), k AS (
  INSERT INTO payer_keys (session_id, key_class, master_key_id, wrapped_key, created_at)
  SELECT s.id, x.key_class, x.master_key_id, x.wrapped_key, $10
  FROM s, (VALUES ('transient', $19::text, $20::bytea), ('retained', $21::text, $22::bytea))
          AS x (key_class, master_key_id, wrapped_key)
)
SELECT id FROM s)sql"};

// One row per line; the session columns repeat.
#define VISITPAY_SESSION_SELECT                                                           \
  "SELECT s.id, s.clinic_id, s.visit_id, s.state, s.currency, s.amount_ore, "             \
  "s.vat_amount_ore, s.checked_out_at, s.has_phone, s.created_at, s.updated_at, "         \
  "encode(s.request_fingerprint, 'hex'), l.description, l.amount_ore, l.vat_amount_ore, " \
  "s.deadline_at, s.fee_disclosed_ore, coalesce(s.invoice_reason, ''), s.paid_at, "       \
  "s.cancelled_at, coalesce(o.status, ''), coalesce(o.instrument, ''), "                  \
  "coalesce(i.id::text, ''), i.number, coalesce(i.status, ''), s.link_error, "            \
  "s.fee_terms_accepted_at, s.fee_terms_version, l.line_no, l.description_enc, "          \
  "rk.master_key_id, rk.wrapped_key "                                                     \
  "FROM sessions s JOIN session_lines l ON l.session_id = s.id "                          \
  "LEFT JOIN payment_orders o ON o.session_id = s.id "                                    \
  "LEFT JOIN invoices i ON i.session_id = s.id AND i.kind = 'invoice' "                   \
  "LEFT JOIN payer_keys rk ON rk.session_id = s.id AND rk.key_class = 'retained' "

constexpr Statement kFindById{"session.find_by_id",
                              VISITPAY_SESSION_SELECT "WHERE s.id = $1 ORDER BY l.line_no"};
constexpr Statement kFindByVisit{"session.find_by_visit", VISITPAY_SESSION_SELECT
                                 "WHERE s.clinic_id = $1 AND s.visit_id = $2 ORDER BY l.line_no"};
#undef VISITPAY_SESSION_SELECT

domain::Timestamp timestamp(const PgResult& r, int row, int col) {
  return common::parse_pg_timestamptz(r.text(row, col)).value_or(domain::Timestamp{});
}

std::optional<domain::Timestamp> optional_timestamp(const PgResult& r, int row, int col) {
  if (r.is_null(row, col)) return std::nullopt;
  return common::parse_pg_timestamptz(r.text(row, col));
}

std::optional<StoredSession> read_session(const PgResult& r) {
  if (r.empty()) return std::nullopt;
  StoredSession s;
  auto& v = s.view;
  v.id = r.string(0, 0);
  v.clinic_id = r.string(0, 1);
  v.visit_id = r.string(0, 2);
  v.state = domain::parse_session_state(r.text(0, 3)).value_or(domain::SessionState::pending);
  v.currency = r.string(0, 4);
  v.amount = r.int64(0, 5);
  v.vat_amount = r.int64(0, 6);
  v.checked_out_at = timestamp(r, 0, 7);
  v.has_phone = r.boolean(0, 8);
  v.created_at = timestamp(r, 0, 9);
  v.updated_at = timestamp(r, 0, 10);
  s.fingerprint_hex = r.string(0, 11);
  v.deadline_at = optional_timestamp(r, 0, 15);
  if (!r.is_null(0, 16)) v.fee_disclosed = r.int64(0, 16);
  v.invoice_reason = r.string(0, 17);
  v.paid_at = optional_timestamp(r, 0, 18);
  v.cancelled_at = optional_timestamp(r, 0, 19);
  v.payment_status = r.string(0, 20);
  v.payment_instrument = r.string(0, 21);
  v.invoice_id = r.string(0, 22);
  if (!r.is_null(0, 23)) v.invoice_number = r.int64(0, 23);
  v.invoice_status = r.string(0, 24);
  v.link_error = r.optional_string(0, 25);
  if (auto accepted = optional_timestamp(r, 0, 26)) {
    v.fee_terms = domain::FeeTerms{*accepted, r.string(0, 27)};
  }
  for (int i = 0; i < r.rows(); ++i) {
    v.lines.push_back({r.optional_string(i, 12), r.int64(i, 13), r.int64(i, 14)});
    s.sealed_descriptions.push_back({static_cast<int>(r.int64(i, 28)), r.bytea(i, 29)});
  }
  s.retained_key = wrapped_key(r, 0, 30);
  return s;
}

}  // namespace

const Statement& SessionStore::insert_statement() {
  return kInsert;
}

PgParams SessionStore::insert_params(const NewSession& n) {
  const auto& r = n.request;
  std::vector<std::int64_t> amounts;
  std::vector<std::int64_t> vats;
  for (const auto& line : r.lines) {
    amounts.push_back(line.amount);
    vats.push_back(line.vat_amount);
  }
  PgParams p;
  p.add(n.id)
      .add(r.clinic_id)
      .add(r.visit_id)
      .add(r.currency)
      .add(r.amount())
      .add(r.vat_amount())
      .add(common::format_rfc3339_utc(r.checked_out_at))
      .add(r.payer.phone.has_value())
      .add_bytea(n.fingerprint)
      .add(common::format_rfc3339_utc(n.now))
      .add(pg_bytea_array(n.sealed_descriptions))
      .add(pg_int_array(amounts))
      .add(pg_int_array(vats))
      .add_bytea(n.national_id_hmac)
      .add_bytea(n.sealed.national_id)
      .add_bytea(n.sealed.phone)
      .add_bytea(n.sealed.name)
      .add_bytea(n.sealed.address)
      .add(n.sealed.transient_key.master_key_id)
      .add_bytea(n.sealed.transient_key.wrapped)
      .add(n.sealed.retained_key.master_key_id)
      .add_bytea(n.sealed.retained_key.wrapped);
  const auto start = domain::start_of(r.payer.phone.has_value());
  std::vector<std::string> work;
  for (auto k : start.queues.kinds())
    work.emplace_back(domain::to_string(k));
  p.add(domain::to_string(start.state))
      .add(start.reason ? domain::to_string(*start.reason) : "")
      .add(pg_text_array(work));
  if (r.fee_terms) {
    p.add(common::format_rfc3339_utc(r.fee_terms->accepted_at)).add(r.fee_terms->version);
  } else {
    p.add_null().add_null();
  }
  p.add_bytea(n.sealed.email);
  return p;
}

asio::awaitable<Result<bool>> SessionStore::insert(const NewSession& session) {
  auto r = co_await pool_.execute(kInsert, insert_params(session));
  if (!r) co_return std::move(r).error();
  co_return r->rows() == 1;
}

asio::awaitable<Result<std::optional<StoredSession>>> SessionStore::find_by_visit(
    std::string_view clinic_id, std::string_view visit_id) {
  PgParams p;
  p.add(clinic_id).add(visit_id);
  auto r = co_await pool_.execute(kFindByVisit, p);
  if (!r) co_return std::move(r).error();
  co_return read_session(*r);
}

asio::awaitable<Result<std::optional<StoredSession>>> SessionStore::find(std::string_view id) {
  PgParams p;
  p.add(id);
  auto r = co_await pool_.execute(kFindById, p);
  if (!r) co_return std::move(r).error();
  co_return read_session(*r);
}

}  // namespace visitpay::store
