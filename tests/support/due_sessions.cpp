#include "due_sessions.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "app/legacy_lines.hpp"
#include "app/legacy_payers.hpp"
#include "http_client.hpp"

namespace visitpay::testing {

namespace {

using Json = nlohmann::json;

void exec(store::PgSyncConnection& db, const std::string& sql, const store::PgParams& params) {
  auto r = params.size() == 0 ? db.exec(sql) : db.exec(sql, params);
  if (!r) throw std::runtime_error("seeding failed: " + r.error().detail);
}

// Creates an order at the mock as the service would have, and returns its id.
std::string create_order(std::uint16_t port, const std::string& token,
                         const std::string& payee_reference) {
  const Json body = {{"paymentorder",
                      {{"operation", "Purchase"},
                       {"currency", "NOK"},
                       {"amount", 65000},
                       {"vatAmount", 0},
                       {"description", "Oslo Sentrum Klinikk"},
                       {"userAgent", "visitpay-seed"},
                       {"language", "nb-NO"},
                       {"urls",
                        {{"hostUrls", {"http://127.0.0.1:9"}},
                         {"completeUrl", "http://127.0.0.1:9/payment/complete"},
                         {"cancelUrl", "http://127.0.0.1:9/payment/cancelled"}}},
                       {"payeeInfo",
                        {{"payeeId", "5cabf558-5283-482f-b252-4d58e06f6f3b"},
                         {"payeeReference", payee_reference},
                         {"payeeName", "Oslo Sentrum Klinikk"}}}}}};
  auto reply = http_request(
      port, "POST", "/psp/paymentorders", body.dump(),
      {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json;version=3.1"}});
  if (reply.status != 200 && reply.status != 201) {
    throw std::runtime_error("the mock refused an order: " + reply.body);
  }
  return Json::parse(reply.body)["paymentOrder"]["id"].get<std::string>();
}

void pay(std::uint16_t port, const std::string& order_id) {
  const auto guid = order_id.substr(order_id.rfind('/') + 1);
  auto reply =
      http_request(port, "POST", "/_mock/orders/" + guid + "/pay", R"({"instrument":"CreditCard"})",
                   {{"Content-Type", "application/json"}});
  if (reply.status != 200) throw std::runtime_error("the mock did not pay: " + reply.body);
}

}  // namespace

void seed_due_sessions(store::PgSyncConnection& db, std::uint16_t mock_port,
                       const std::string& mock_token, const DueSessions& spec,
                       const app::PayerVault& vault) {
  store::PgParams p;
  p.add(spec.with_order).add(spec.with_order + spec.no_phone).add(spec.prefix).add(spec.deadline);
  exec(db, R"sql(
    WITH s AS (
      INSERT INTO sessions (id, clinic_id, visit_id, state, currency, amount_ore, vat_amount_ore,
                            checked_out_at, has_phone, request_fingerprint, created_at,
                            updated_at, state_since, deadline_at, fee_disclosed_ore,
                            invoice_reason, awaiting_since)
      SELECT gen_random_uuid(),
             CASE WHEN n % 2 = 0 THEN 'oslo-sentrum' ELSE 'bergen-brygge' END,
             $3 || '-' || lpad(n::text, 7, '0'),
             CASE WHEN n <= $1 THEN 'awaiting_payment' ELSE 'invoicing' END, 'NOK', 65000, 0,
             $4::timestamptz - interval '48 hours', n <= $1, '\x00'::bytea,
             $4::timestamptz - interval '48 hours', $4::timestamptz - interval '48 hours',
             $4::timestamptz - interval '48 hours',
             CASE WHEN n <= $1 THEN $4::timestamptz END, CASE WHEN n <= $1 THEN 3900 END,
             CASE WHEN n > $1 THEN 'no_phone' END,
             CASE WHEN n <= $1 THEN $4::timestamptz - interval '48 hours' END
      FROM generate_series(1, $2::int) AS n
      RETURNING id, state
    ), w AS (
      INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
      SELECT id, 'invoice_session', $4::timestamptz - interval '48 hours',
             $4::timestamptz - interval '48 hours', $4::timestamptz - interval '48 hours'
      FROM s WHERE state = 'invoicing'
    ), l AS (
      INSERT INTO session_lines (session_id, line_no, description, amount_ore, vat_amount_ore)
      SELECT id, 1, 'Konsultasjon', 65000, 0 FROM s
    )
    INSERT INTO payers (session_id, name, street, postal_code, city, country)
    SELECT id, 'Kari Nordmann', 'Storgata 1', '0155', 'Oslo', 'NO' FROM s)sql",
       p);
  // Written in plaintext above, encrypted now exactly as the data migration does it.
  common::Logger quiet(common::LogLevel::error);
  auto encrypted = app::encrypt_legacy_payers(db, vault, common::Bytes(32, 1), quiet);
  if (!encrypted) throw std::runtime_error("seeding failed: " + encrypted.error().detail);
  auto lines = app::seal_legacy_lines(db, vault, quiet);
  if (!lines) throw std::runtime_error("seeding failed: " + lines.error().detail);
  store::PgParams q;
  q.add(spec.prefix + "-%");
  auto ids = db.exec(
      "SELECT id::text FROM sessions WHERE visit_id LIKE $1 AND state = 'awaiting_payment' "
      "ORDER BY visit_id",
      q);
  if (!ids) throw std::runtime_error("seeding failed: " + ids.error().detail);
  for (int i = 0; i < ids->rows(); ++i) {
    const auto order_id =
        create_order(mock_port, mock_token, spec.prefix + "P" + std::to_string(i));
    if (i < spec.paid) pay(mock_port, order_id);
    store::PgParams o;
    o.add(ids->string(i, 0)).add(order_id).add(spec.account);
    exec(db,
         "INSERT INTO payment_orders (session_id, account, order_id, status, created_at, "
         "updated_at) VALUES ($1, $3, $2, 'open', now(), now())",
         o);
  }
}

}  // namespace visitpay::testing
