// Prints a pgbench script that runs the service's own invoice transaction (the same SQL text,
// taken from InvoiceStore::creation_statements): lock the session, take the legal entity's next
// gapless number, insert the invoice with its lines. Each transaction first claims one session
// marked for an invoice (SKIP LOCKED, as the sweeper does), so the run consumes seeded sessions.
//   invoice_pgbench_script ORG_NUMBER CLINIC_ID
#include <iostream>
#include <string>

#include "pgbench_line.hpp"
#include "store/invoice_store.hpp"

using visitpay::bench::pgbench_line;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: invoice_pgbench_script ORG_NUMBER CLINIC_ID\n";
    return 2;
  }
  const std::string org = std::string("'") + argv[1] + "'";
  const std::string clinic = std::string("'") + argv[2] + "'";
  const auto statements = visitpay::store::InvoiceStore::creation_statements();
  for (const auto& s : statements) {
    if (s.sql.find("--") != std::string_view::npos) {
      std::cerr << "invoice_pgbench_script: " << s.name << " has an SQL comment\n";
      return 1;
    }
  }
  std::cout << "BEGIN;\n"
            << "SELECT id AS sid FROM sessions WHERE state = 'invoicing' AND clinic_id = "
            << clinic << " LIMIT 1 FOR UPDATE SKIP LOCKED \\gset\n"
            << pgbench_line(statements[0].sql, {{1, "':sid'"}}) << ";\n"
            << pgbench_line(statements[1].sql, {{1, org}}) << " \\gset\n"
            << pgbench_line(statements[2].sql, {{1, "gen_random_uuid()"},
                                                {2, org},
                                                {3, ":last_number"},
                                                {4, "'no_phone'"},
                                                {5, "0"},
                                                {6, "true"},
                                                {7, "lpad(:last_number::text, 10, '0')"},
                                                {8, "14"},
                                                {9, "'Oslo Sentrum Klinikk AS'"},
                                                {10, "true"},
                                                {11, "false"},
                                                {12, "'15032080003'"},
                                                {13, "'Oslo Sentrum Klinikk'"},
                                                {14, "now()"},
                                                {15, "':sid'"},
                                                {16, "false"}})
            << ";\n"
            << "COMMIT;\n";
  return 0;
}
