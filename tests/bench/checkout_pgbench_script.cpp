// Prints a pgbench script that runs the service's own check-out statement (the same SQL text,
// taken from SessionStore) with the example check-out's values. Only the session id and the
// visit id vary per transaction, as they do in the HTTP benchmark.
#include <cctype>
#include <iostream>
#include <string>

#include "adapters/keys/file/file_key_store.hpp"
#include "app/line_descriptions.hpp"
#include "app/payer_vault.hpp"
#include "common/crypto.hpp"
#include "common/time_format.hpp"
#include "store/session_store.hpp"

namespace {

using visitpay::domain::CheckoutRequest;

std::string quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace

int main() {
  CheckoutRequest r;
  r.clinic_id = "oslo-sentrum";
  r.visit_id = "unused";
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
  visitpay::store::NewSession session{"unused",
                                      r,
                                      fingerprint,
                                      *visitpay::common::parse_rfc3339("2026-11-22T14:06:00Z"),
                                      std::move(sealed.value()),
                                      visitpay::common::sha256("10915596784"),
                                      std::move(descriptions.value())};
  const auto params = visitpay::store::SessionStore::insert_params(session);
  const std::string sql(visitpay::store::SessionStore::insert_statement().sql);
  if (sql.find("--") != std::string::npos) {
    // pgbench reads one command per line: a line comment would swallow the rest of it.
    std::cerr << "checkout_pgbench_script: the insert statement has an SQL comment\n";
    return 1;
  }

  std::string out;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != '$' || i + 1 >= sql.size() ||
        !std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      out += sql[i] == '\n' ? ' ' : sql[i];  // pgbench wants one command per line
      continue;
    }
    std::size_t j = i + 1;
    int n = 0;
    while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j])))
      n = n * 10 + (sql[j++] - '0');
    i = j - 1;
    if (n == 1) {
      out += "('00000000-0000-7000-8000-' || lpad(:vid::text, 12, '0'))::uuid";
    } else if (n == 3) {
      out += "('PGB-' || :vid::text)";
    } else {
      const auto& v = params.values().at(static_cast<std::size_t>(n - 1));
      out += v ? quote(*v) : "NULL";
    }
  }
  std::cout << "\\set vid random(1, 999999999999)\n" << out << ";\n";
  return 0;
}
