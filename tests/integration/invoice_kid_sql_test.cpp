// The database computes an invoice's KID in the statement that takes its number (migration 0023),
// so the series row is not held across a round trip. Its invoice_kid() must agree with
// domain::invoice_kid, the rules the unit tests check against the banks' examples: for every
// algorithm, every length the configuration accepts and both dash settings, over numbers near
// every power of ten (where padding and "does not fit" change) and a spread in between; a number
// that does not fit is refused, never truncated.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "domain/kid.hpp"
#include "store/pg_sync.hpp"
#include "test_service.hpp"

namespace visitpay::testing {
namespace {

using domain::KidAlgorithm;

std::vector<std::uint64_t> numbers_for(std::size_t length) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t n = 0; n < 2000; n += 7)
    out.push_back(n);
  std::uint64_t power = 1;
  for (std::size_t digits = 1; digits < length && digits < 19; ++digits) {
    power *= 10;
    for (std::uint64_t d = 0; d < 25; ++d) {
      out.push_back(power + d);
      out.push_back(power - 1 - d % power);
    }
  }
  return out;
}

TEST(InvoiceKidSql, AgreesWithTheDomainForEveryAlgorithmLengthAndDashSetting) {
  auto db = store::PgSyncConnection::open(migrated_database());
  ASSERT_TRUE(db) << db.error().detail;
  int compared = 0, refused = 0;
  for (const auto alg : {KidAlgorithm::mod10, KidAlgorithm::mod11}) {
    for (std::size_t length = 4; length <= domain::kKidMaxLength; ++length) {
      for (const bool dash : {false, true}) {
        // One statement per combination: every number's SQL answer (NULL when refused).
        std::string values;
        const auto numbers = numbers_for(length);
        for (const auto n : numbers)
          values += (values.empty() ? "(" : ",(") + std::to_string(n) + ")";
        const std::string sql =
            "SELECT n, CASE WHEN length(n::text) <= " + std::to_string(length - 2) + " OR (" +
            (alg == KidAlgorithm::mod10 || dash ? "true" : "false") +
            " AND length(n::text) <= " + std::to_string(length - 1) + ") THEN invoice_kid(n, '" +
            std::string(domain::to_string(alg)) + "', " + std::to_string(length) + ", " +
            (dash ? "true" : "false") + ") END FROM (VALUES " + values + ") v(n) ORDER BY n";
        auto r = db->exec(sql);
        ASSERT_TRUE(r) << r.error().detail;
        for (int row = 0; row < r->rows(); ++row) {
          const auto n = static_cast<std::uint64_t>(r->int64(row, 0));
          const auto expected = domain::invoice_kid(n, alg, length, dash);
          const auto sql_kid = r->optional_string(row, 1);
          ASSERT_EQ(sql_kid, expected)
              << domain::to_string(alg) << " length " << length << " dash " << dash << " n " << n;
          ++(expected ? compared : refused);
        }
      }
    }
  }
  EXPECT_GT(compared, 50000);
  EXPECT_GT(refused, 1000);
}

TEST(InvoiceKidSql, ANumberThatDoesNotFitIsAnErrorNotATruncatedKid) {
  auto db = store::PgSyncConnection::open(migrated_database());
  ASSERT_TRUE(db) << db.error().detail;
  for (const char* sql :
       {"SELECT invoice_kid(100000, 'mod10', 6, false)",
        "SELECT invoice_kid(10000, 'mod11', 6, false)", "SELECT invoice_kid(1, 'mod10', 3, false)",
        "SELECT invoice_kid(1, 'mod12', 10, false)"}) {
    auto r = db->exec(sql);
    ASSERT_FALSE(r) << sql;
    EXPECT_NE(r.error().detail.find("does not fit"), std::string::npos) << r.error().detail;
  }
}

}  // namespace
}  // namespace visitpay::testing
