// Prints the pgbench twin of tests/bench/sweep_bench.sh: the SQL the service issues per due
// session on the invoice path, provider HTTP (the order's GET and abort) excluded, built from the
// stores' own statements and parameter builders with the configured clinics' values:
//
//   outbox.claim (batch of 1, as each outbox worker claims); when nothing is due, the deadline
//     sweeper's close_windows instead: BEGIN; session.due_windows (sweep_batch, SKIP LOCKED);
//     session.transition window_closed for the batch (queues invoice_session); COMMIT; and the
//     claim again. The sweep is one statement pair per batch, amortised over its sessions as in
//     the service.
//   invoice_session: invoice.window_context; payment.order_of;
//     record_order_status: BEGIN; session.lock; payment.update_order (aborted);
//       payment.status_checked; COMMIT;
//     create_invoice: BEGIN; invoice.lock_session; invoice.insert (with the next number and
//       its KID); session.transition invoice_created; COMMIT
//   outbox.complete
//
// Each claim takes whichever item is due, as the service's workers do; run it until no session is
// left open.
//   sweep_pgbench_script --constants FILE CONFIG
#include <iostream>
#include <string>

#include "config/config.hpp"
#include "store/invoice_store.hpp"
#include "store/lifecycle_store.hpp"
#include "store/outbox_store.hpp"
#include "store/payment_store.hpp"
#include "twin_script.hpp"
#include "workers/invoice_work.hpp"

namespace {

using namespace visitpay;
using bench::command;
using bench::kSentinelSession;
using bench::Substitutions;

constexpr std::int64_t kSentinelItem = 987654321;
constexpr domain::Ore kSentinelFee = 765432198;
const std::string kSentinelInvoice = "00000000-0000-7000-8000-0000000face0";
const std::string kSentinelReason = "twin-sentinel-reason";
const std::string kOwner = "twin";

}  // namespace

int main(int argc, char** argv) {
  const std::string constants = bench::take_constants_option(argc, argv);
  if (constants.empty() || argc != 2) {
    std::cerr << "usage: sweep_pgbench_script --constants FILE CONFIG\n";
    return 2;
  }
  try {
    auto cfg = config::load_config(argv[1], config::process_env());
    if (!cfg) throw std::runtime_error(cfg.error().detail);
    if (cfg->clinics.empty()) throw std::runtime_error("no clinics configured");

    const auto now = bench::sentinel_now();
    const std::string sid_array = store::pg_text_array(std::vector<std::string>{kSentinelSession});
    Substitutions base = bench::now_is_now();
    base[kSentinelSession] = ":sid";
    base[sid_array] = "ARRAY[:sid::uuid]";
    store::PgParams by_session;
    by_session.add(kSentinelSession);
    const auto payment = store::PaymentStore::statements();
    const auto& lock = store::LifecycleStore::lock_statement();
    const auto& transition = store::LifecycleStore::transition_statement();

    // --- the claim of one item (c_id 0: nothing was due) ---
    Substitutions claim = base;
    claim[std::to_string(kSentinelItem)] = ":c_id";
    claim[store::pg_int_array({kSentinelItem})] = "ARRAY[:c_id]::bigint[]";  // the completion
    const std::string claim_one =
        "\\set c_id 0\n" +
        bench::wrapped(command(store::OutboxStore::claim_statement(),
                               store::OutboxStore::claim_params(kOwner, 1, now, cfg->outbox.lease,
                                                                bench::budgets_of(*cfg)),
                               claim),
                       "id AS c_id, session_id AS sid, (kind = '" +
                           std::string(to_string(domain::WorkKind::invoice_session)) +
                           "')::int AS is_invoice") +
        " \\aset\n";

    // --- the deadline sweeper's pass (LifecycleStore::close_windows) ---
    Substitutions closing = base;
    closing[sid_array] = ":due_ids";
    const std::string sweep =
        std::string("BEGIN;\n\\set due_n 0\n") +
        bench::wrapped(
            command(store::LifecycleStore::due_windows_statement(),
                    store::LifecycleStore::due_windows_params(now, cfg->invoices.sweep_batch),
                    base),
            "count(*) AS due_n, coalesce(array_agg(id)::text, '{}') AS due_ids") +
        " \\gset\n\\if :due_n > 0\n" +
        command(transition,
                store::LifecycleStore::transition_params(
                    {kSentinelSession}, domain::SessionEvent::window_closed, now, {}),
                closing) +
        ";\nCOMMIT;\n\\else\nROLLBACK;\n\\endif\n";

    // --- invoice_session: which clinic (its legal entity numbers the invoice) ---
    std::string clinic_no = "CASE clinic_id";
    for (std::size_t i = 0; i < cfg->clinics.size(); ++i) {
      clinic_no +=
          " WHEN " + bench::quote_literal(cfg->clinics[i].id) + " THEN " + std::to_string(i + 1);
    }
    clinic_no += " ELSE 0 END AS clinic_no";
    std::string work =
        bench::wrapped(command(store::InvoiceStore::window_context_statement(), by_session, base),
                       clinic_no) +
        " \\gset\n" + command(bench::named(payment, "payment.order_of"), by_session, base) + ";\n";

    // record_order_status: the mock's answer to the abort
    store::OrderStatusUpdate aborted;
    aborted.status = domain::OrderStatus::aborted;
    work += "BEGIN;\n" + command(lock, by_session, base) + ";\n" +
            command(bench::named(payment, "payment.update_order"),
                    store::PaymentStore::update_order_params(kSentinelSession, aborted, now, false),
                    base) +
            ";\n" +
            command(bench::named(payment, "payment.status_checked"),
                    store::PaymentStore::status_checked_params(kSentinelSession, now), base) +
            ";\nCOMMIT;\n";

    // create_invoice
    const auto creation = store::InvoiceStore::creation_statements();
    work += "BEGIN;\n" + command(creation.at(0), by_session, base) + " \\gset\n";
    for (std::size_t i = 0; i < cfg->clinics.size(); ++i) {
      const auto issuer = workers::invoice_issuer(cfg->clinics[i]);
      store::InvoiceCreated created;
      created.id = kSentinelInvoice;
      created.reason = kSentinelReason;
      created.fee = kSentinelFee;
      Substitutions insert = base;
      insert[kSentinelInvoice] = bench::kTimeOrderedUuid;
      insert[kSentinelReason] = ":invoice_reason";
      insert[std::to_string(kSentinelFee)] = "coalesce(:fee_disclosed_ore::bigint, 0)";
      work += std::string(i == 0 ? "\\if" : "\\elif") + " :clinic_no = " + std::to_string(i + 1) +
              "\n" +
              command(creation.at(1),
                      store::InvoiceStore::insert_params(created, issuer, false, now,
                                                         kSentinelSession, false),
                      insert) +
              ";\n";
    }
    work += "\\endif\n" +
            command(transition,
                    store::LifecycleStore::transition_params(
                        {kSentinelSession}, domain::SessionEvent::invoice_created, now, {}),
                    base) +
            ";\nCOMMIT;\n";

    std::cout << claim_one << "\\if :c_id = 0\n"
              << sweep << claim_one << "\\endif\n"
              << "\\if :c_id > 0\n\\if :is_invoice\n"
              << work << "\\endif\n"
              << command(store::OutboxStore::complete_statement(),
                         store::OutboxStore::complete_params({kSentinelItem}, kOwner, now), claim)
              << ";\n\\endif\n";
    bench::Constants::write(constants);
  } catch (const std::exception& e) {
    std::cerr << "sweep_pgbench_script: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
