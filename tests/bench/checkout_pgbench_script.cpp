// Prints a pgbench script that runs the service's own check-out statement (the same SQL text,
// taken from SessionStore) with the example check-out's values, sent as parameters as the service
// sends them (twin_script.hpp). Only the session id and the visit id vary per transaction, as
// they do in the HTTP benchmark.
//
//   checkout_pgbench_script --constants FILE >checkout.pgbench
//   pgbench -M prepared ... -D name=value (for each line of FILE) -f checkout.pgbench
#include <iostream>
#include <string>

#include "adapters/keys/file/file_key_store.hpp"
#include "app/line_descriptions.hpp"
#include "app/payer_vault.hpp"
#include "common/crypto.hpp"
#include "common/time_format.hpp"
#include "store/session_store.hpp"
#include "twin_script.hpp"

namespace {

using visitpay::domain::CheckoutRequest;

const std::string kSentinelVisit = "twin-sentinel-visit";

}  // namespace

int main(int argc, char** argv) {
  const std::string constants = visitpay::bench::take_constants_option(argc, argv);
  if (constants.empty() || argc != 1) {
    std::cerr << "usage: checkout_pgbench_script --constants FILE\n";
    return 2;
  }
  CheckoutRequest r;
  r.clinic_id = "oslo-sentrum";
  r.visit_id = kSentinelVisit;
  r.checked_out_at = *visitpay::common::parse_rfc3339("2026-11-22T14:05:00+01:00");
  r.currency = "NOK";
  r.lines = {{"Konsultasjon spesialist", 65000, 0}};
  r.fee_terms = visitpay::domain::FeeTerms{
      *visitpay::common::parse_rfc3339("2026-11-22T13:40:00+01:00"), "2026-01"};
  r.payer.name = "Kari Nordmann";
  r.payer.national_id = "10915596784";
  r.payer.phone = "+4741234567";
  r.payer.address = {"Storgata 1", "0155", "Oslo", "NO"};
  const auto fingerprint = visitpay::common::sha256("bench");
  // The payer's data goes in encrypted, as the service writes it (a throwaway master key).
  auto keys = visitpay::adapters::keys::FileKeyStore::from_text(
      visitpay::adapters::keys::FileKeyStore::generate_key_line("bench"));
  if (!keys) return 1;
  const visitpay::app::PayerVault vault(*keys);
  const std::string sealed_as = "00000000-0000-7000-8000-000000000000";
  auto sealed = vault.seal(sealed_as, r.payer);
  if (!sealed) return 1;
  auto descriptions =
      visitpay::app::seal_descriptions(vault, sealed_as, sealed->retained_key, r.lines);
  if (!descriptions) return 1;
  visitpay::store::NewSession session{visitpay::bench::kSentinelSession,
                                      r,
                                      fingerprint,
                                      *visitpay::common::parse_rfc3339("2026-11-22T14:06:00Z"),
                                      std::move(sealed.value()),
                                      visitpay::common::sha256("10915596784"),
                                      std::move(descriptions.value())};
  visitpay::bench::Substitutions vary;
  vary[visitpay::bench::kSentinelSession] =
      "('00000000-0000-7000-8000-' || lpad(:vid::text, 12, '0'))::uuid";
  vary[kSentinelVisit] = "('PGB-' || :vid::text)";
  try {
    std::cout << "\\set vid random(1, 999999999999)\n"
              << visitpay::bench::command(visitpay::store::SessionStore::insert_statement(),
                                          visitpay::store::SessionStore::insert_params(session),
                                          vary)
              << ";\n";
    visitpay::bench::Constants::write(constants);
  } catch (const std::exception& e) {
    std::cerr << "checkout_pgbench_script: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
