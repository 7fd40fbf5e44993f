// Prints a pgbench script that runs the service's own invoice transaction (the same SQL text,
// taken from InvoiceStore::creation_statements): lock the session, take the legal entity's next
// gapless number, insert the invoice with its lines. Each transaction first claims one session
// marked for an invoice (SKIP LOCKED, as the sweeper does), so the run consumes seeded sessions.
//   invoice_pgbench_script ORG_NUMBER CLINIC_ID
#include <cctype>
#include <iostream>
#include <map>
#include <string>

#include "store/invoice_store.hpp"

namespace {

// pgbench wants one command per line; $n becomes a literal or a pgbench variable.
std::string one_line(std::string_view sql, const std::map<int, std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != '$' || i + 1 >= sql.size() ||
        !std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      out += sql[i] == '\n' ? ' ' : sql[i];
      continue;
    }
    std::size_t j = i + 1;
    int n = 0;
    while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j])))
      n = n * 10 + (sql[j++] - '0');
    out += values.at(n);
    i = j - 1;
  }
  return out;
}

}  // namespace

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
            << "SELECT id AS sid FROM sessions WHERE state = 'invoicing' AND invoice_queued_at IS "
               "NULL AND clinic_id = "
            << clinic << " LIMIT 1 FOR UPDATE SKIP LOCKED \\gset\n"
            << one_line(statements[0].sql, {{1, "':sid'"}}) << ";\n"
            << one_line(statements[1].sql, {{1, org}}) << " \\gset\n"
            << one_line(statements[2].sql, {{1, "gen_random_uuid()"},
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
                                            {15, "':sid'"}})
            << ";\n"
            << "COMMIT;\n";
  return 0;
}
