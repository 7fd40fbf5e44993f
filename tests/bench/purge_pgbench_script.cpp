// Prints a pgbench script that runs the purger's own statement for the paid_by_link rule (the
// same SQL text, from PrivacyStore::purge_statement): claim up to BATCH paid sessions past the
// refund margin (SKIP LOCKED), delete their data keys and ciphertexts, write the audit rows.
//   purge_pgbench_script BATCH
#include <iostream>
#include <string>

#include "pgbench_line.hpp"
#include "store/privacy_store.hpp"

int main(int argc, char** argv) {
  if (argc != 2 || std::stoi(argv[1]) < 1) {
    std::cerr << "usage: purge_pgbench_script BATCH\n";
    return 2;
  }
  const auto* statement = visitpay::store::PrivacyStore::purge_statement("paid_by_link");
  if (statement == nullptr || statement->sql.find("--") != std::string_view::npos) {
    std::cerr << "purge_pgbench_script: no paid_by_link statement, or one with an SQL comment\n";
    return 1;
  }
  std::cout << visitpay::bench::pgbench_line(statement->sql, {{1, "'paid_by_link'"},
                                                              {2, "now()"},
                                                              {3, "'purger'"},
                                                              {4, "(now() - interval '7 days')"},
                                                              {5, argv[1]}})
            << ";\n";
  return 0;
}
