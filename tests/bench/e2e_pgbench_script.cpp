// Prints the pgbench twin of tests/bench/e2e_bench.sh: the SQL the service issues for one
// check-out up to "SMS accepted", provider HTTP excluded, built from the stores' own statements
// and parameter builders with the configured clinic's values:
//
//   session.insert (queues create_payment_order)
//   2 x [ outbox.claim (batch of 1, as each outbox worker claims)
//         create_payment_order: payment.order_context;
//                               BEGIN; session.lock; payment.record_legacy_order;
//                               payment.next_attempt; payment.insert_attempt;
//                               payment.insert_page_token; COMMIT  (the numbered attempt)
//                               BEGIN; session.lock; payment.attempt_created; payment.insert_order;
//                               session.transition order_created (queues send_payment_sms); COMMIT
//         send_payment_sms:     payment.sms_context; payment.begin_sms; BEGIN; session.lock;
//                               payment.sms_accepted; session.transition link_sent; COMMIT
//         outbox.complete ]
//
// Like the service's workers, each claim takes whichever item is due (not necessarily the one
// this transaction queued) and runs that item's handler. With `drain` only the two claim rounds
// are printed (no new check-out): run until no work is left.
//   e2e_pgbench_script --constants FILE CONFIG CLINIC_ID [drain]
#include <iostream>
#include <string>

#include "adapters/keys/file/file_key_store.hpp"
#include "app/line_descriptions.hpp"
#include "app/payer_vault.hpp"
#include "common/crypto.hpp"
#include "config/config.hpp"
#include "domain/provider_reference.hpp"
#include "store/lifecycle_store.hpp"
#include "store/outbox_store.hpp"
#include "store/payment_store.hpp"
#include "store/session_store.hpp"
#include "twin_script.hpp"

namespace {

using namespace visitpay;
using bench::command;
using bench::kSentinelSession;
using bench::now_plus;
using bench::Substitutions;

constexpr std::int64_t kSentinelItem = 987654321;
constexpr std::int64_t kSentinelSms = 876543219;
const std::string kSentinelOrder = "/psp/paymentorders/twin-sentinel";
const std::string kSentinelMessage = "twin-sentinel-message";
const std::string kSentinelVisit = "TWIN-SENTINEL-VISIT";
const std::string kOwner = "twin";

}  // namespace

int main(int argc, char** argv) {
  const std::string constants = bench::take_constants_option(argc, argv);
  if (constants.empty() || argc < 3 || argc > 4 || (argc == 4 && std::string(argv[3]) != "drain")) {
    std::cerr << "usage: e2e_pgbench_script --constants FILE CONFIG CLINIC_ID [drain]\n";
    return 2;
  }
  try {
    auto cfg = config::load_config(argv[1], config::process_env());
    if (!cfg) throw std::runtime_error(cfg.error().detail);
    const config::Clinic* clinic = cfg->find_clinic(argv[2]);
    if (clinic == nullptr) throw std::runtime_error(std::string("no clinic ") + argv[2]);
    const bool drain = argc == 4;

    const auto now = bench::sentinel_now();
    const auto deadline = now + clinic->payment_window;
    const std::string sid_array = store::pg_text_array(std::vector<std::string>{kSentinelSession});
    Substitutions base = bench::now_is_now();
    base[kSentinelSession] = ":sid";
    base[sid_array] = "ARRAY[:sid::uuid]";

    // The example check-out of tests/bench/checkout_body.lua, its payer sealed as the service
    // seals it (a throwaway master key: only the sizes matter).
    domain::CheckoutRequest r;
    r.clinic_id = clinic->id;
    r.visit_id = kSentinelVisit;
    r.checked_out_at = *common::parse_rfc3339("2026-11-22T14:05:00+01:00");
    r.currency = "NOK";
    r.lines = {{"Konsultasjon spesialist", 65000, 0}};
    r.fee_terms = domain::FeeTerms{*common::parse_rfc3339("2026-11-22T13:40:00+01:00"), "2026-01"};
    r.payer.name = "Kari Nordmann";
    r.payer.national_id = "10915596784";
    r.payer.phone = "+4741234567";
    r.payer.address = {"Storgata 1", "0155", "Oslo", "NO"};
    auto keys = adapters::keys::FileKeyStore::from_text(
        adapters::keys::FileKeyStore::generate_key_line("bench"));
    if (!keys) throw std::runtime_error(keys.error().detail);
    const app::PayerVault vault(*keys);
    auto sealed = vault.seal(kSentinelSession, r.payer);
    if (!sealed) throw std::runtime_error(sealed.error().detail);
    auto transient =
        vault.unlock(kSentinelSession, app::KeyClass::transient, sealed->transient_key);
    if (!transient) throw std::runtime_error(transient.error().detail);
    const auto link_enc = transient->seal(
        "payment_url", "http://127.0.0.1:8091/checkout/00000000000000000000000000000000000000");
    auto descriptions =
        app::seal_descriptions(vault, kSentinelSession, sealed->retained_key, r.lines);
    if (!descriptions) throw std::runtime_error(descriptions.error().detail);
    const store::NewSession session{kSentinelSession,
                                    r,
                                    common::sha256("bench"),
                                    now,
                                    std::move(sealed.value()),
                                    common::sha256("10915596784"),
                                    std::move(descriptions.value())};

    const auto payment = store::PaymentStore::statements();
    const auto& lock = store::LifecycleStore::lock_statement();
    const auto& transition = store::LifecycleStore::transition_statement();
    store::PgParams by_session;
    by_session.add(kSentinelSession);

    // --- the check-out ---
    Substitutions insert = base;
    insert[kSentinelSession] = bench::kTimeOrderedUuid;
    insert[kSentinelVisit] = "('TWIN-' || :vid::text)";
    if (!drain) {
      std::cout << "\\set vid random(1, 999999999999)\n"
                << command(store::SessionStore::insert_statement(),
                           store::SessionStore::insert_params(session), insert)
                << ";\n";
    }

    // --- create_payment_order: the numbered attempt, then the order it created ---
    // Per-session stand-ins of the same length for the values the service derives from the
    // session id: the attempt's payee reference, the pre-0010 reference, the page token digest.
    const std::string session_digits = "upper(substr(md5(:sid::text), 1, 25))";
    Substitutions attempt = base;
    attempt[domain::order_payee_reference(kSentinelSession, 1)] =
        "('PO' || " + session_digits + " || '001')";
    attempt[domain::payee_reference("PO", kSentinelSession)] = "('PO' || " + session_digits + ")";
    const auto page_digest = common::sha256("twin-page-token");
    store::PgParams page_token;
    page_token.add_bytea(std::span<const std::uint8_t>(page_digest)).add(kSentinelSession);
    attempt[*page_token.values().front()] = "sha256(:sid::text::bytea)";
    store::PgParams legacy;
    legacy.add(kSentinelSession).add(domain::payee_reference("PO", kSentinelSession));
    store::PgParams insert_attempt;
    insert_attempt.add(kSentinelSession)
        .add(1)
        .add(domain::order_payee_reference(kSentinelSession, 1))
        .add(clinic->payment_account)
        .add(common::format_rfc3339_utc(now));
    Substitutions order = base;
    order[kSentinelOrder] = "('/psp/paymentorders/' || :sid::text)";
    store::PgParams created;
    created.add(kSentinelSession)
        .add(1)
        .add(kSentinelOrder)
        .add(domain::to_string(domain::OrderStatus::open))
        .add(common::format_rfc3339_utc(now));
    const std::string create_order =
        command(bench::named(payment, "payment.order_context"), by_session, base) + ";\n" +
        "BEGIN;\n" + command(lock, by_session, base) + ";\n" +
        command(bench::named(payment, "payment.record_legacy_order"), legacy, attempt) + ";\n" +
        command(bench::named(payment, "payment.next_attempt"), by_session, base) + ";\n" +
        command(bench::named(payment, "payment.insert_attempt"), insert_attempt, attempt) + ";\n" +
        command(bench::named(payment, "payment.insert_page_token"), page_token, attempt) +
        ";\nCOMMIT;\n" + "BEGIN;\n" + command(lock, by_session, base) + ";\n" +
        command(bench::named(payment, "payment.attempt_created"), created, order) + ";\n" +
        command(bench::named(payment, "payment.insert_order"),
                store::PaymentStore::insert_order_params(kSentinelSession, clinic->payment_account,
                                                         kSentinelOrder, link_enc,
                                                         domain::OrderStatus::open, now),
                order) +
        ";\n" +
        command(transition,
                store::LifecycleStore::transition_params(
                    {kSentinelSession}, domain::SessionEvent::order_created, now, {}),
                base) +
        ";\nCOMMIT;\n";

    // --- send_payment_sms (the gateway accepts) ---
    Substitutions begin = base;
    begin[common::format_rfc3339_utc(deadline)] = now_plus(clinic->payment_window);
    Substitutions accepted = base;
    accepted[std::to_string(kSentinelSms)] = ":sms_id";
    accepted[kSentinelMessage] = "('twin-' || :sms_id::text)";
    // link_sent's facts come from what sms_accepted returned, as in the service.
    store::TransitionFacts facts;
    facts.deadline = deadline;
    facts.fee_disclosed = clinic->invoice_fee_ore;
    Substitutions sent = base;
    sent[common::format_rfc3339_utc(deadline)] = ":deadline_at";
    sent[std::to_string(clinic->invoice_fee_ore)] = ":fee_disclosed_ore";
    if (auto check = domain::next_status_check(now, deadline, now)) {
      sent[common::format_rfc3339_utc(*check)] =
          now_plus(std::chrono::duration_cast<std::chrono::seconds>(*check - now));
    }
    const std::string send_sms =
        command(bench::named(payment, "payment.sms_context"), by_session, base) + ";\n" +
        "\\set sms_id 0\n" +
        command(bench::named(payment, "payment.begin_sms"),
                store::PaymentStore::begin_sms_params(kSentinelSession, clinic->sms_account,
                                                      clinic->invoice_fee_ore, deadline, 2, now),
                begin) +
        " \\aset sms_\n" + "\\if :sms_id > 0\n" + "BEGIN;\n" + command(lock, by_session, base) +
        ";\n" +
        command(bench::named(payment, "payment.sms_accepted"),
                store::PaymentStore::sms_accepted_params(kSentinelSms, kSentinelMessage, 1, now),
                accepted) +
        " \\gset\n" +
        command(transition,
                store::LifecycleStore::transition_params(
                    {kSentinelSession}, domain::SessionEvent::link_sent, now, facts),
                sent) +
        ";\nCOMMIT;\n\\endif\n";

    // --- one outbox worker's round: claim one item, run its handler, complete it ---
    Substitutions claim = base;
    claim[std::to_string(kSentinelItem)] = ":c_id";
    claim[store::pg_int_array({kSentinelItem})] = "ARRAY[:c_id]::bigint[]";  // the completion
    const std::string round =
        "\\set c_id 0\n" +
        bench::wrapped(command(store::OutboxStore::claim_statement(),
                               store::OutboxStore::claim_params(kOwner, 1, now, cfg->outbox.lease,
                                                                bench::budgets_of(*cfg)),
                               claim),
                       "id AS c_id, session_id AS sid, "
                       "(kind = '" +
                           std::string(to_string(domain::WorkKind::create_payment_order)) +
                           "')::int AS is_order, (kind = '" +
                           std::string(to_string(domain::WorkKind::send_payment_sms)) +
                           "')::int AS is_sms") +
        " \\aset\n" + "\\if :c_id > 0\n" + "\\if :is_order\n" + create_order + "\\elif :is_sms\n" +
        send_sms + "\\endif\n" +
        command(store::OutboxStore::complete_statement(),
                store::OutboxStore::complete_params({kSentinelItem}, kOwner, now), claim) +
        ";\n\\endif\n";
    std::cout << round << round;
    bench::Constants::write(constants);
  } catch (const std::exception& e) {
    std::cerr << "e2e_pgbench_script: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
