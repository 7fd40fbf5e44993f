// The text COPY FROM STDIN reads (bank payments are staged that way): separators, NULL, and the
// characters that would otherwise end a field or a row.
#include <gtest/gtest.h>

#include "store/statement.hpp"

namespace visitpay::store {
namespace {

TEST(PgCopyRows, SeparatesFieldsByTabsAndRowsByNewlines) {
  PgCopyRows rows;
  rows.add(std::int64_t{7}).add("camt/REF-1").add_null().end_row();
  rows.add(std::int64_t{-8}).add("").add_or_null("").end_row();
  EXPECT_EQ(rows.data(), "7\tcamt/REF-1\t\\N\n-8\t\t\\N\n");
}

TEST(PgCopyRows, EscapesWhatWouldEndAFieldOrARow) {
  PgCopyRows rows;
  rows.add("a\tb\nc\rd\\N").add_or_null("\\.").end_row();
  EXPECT_EQ(rows.data(), "a\\tb\\nc\\rd\\\\N\t\\\\.\n");
}

TEST(JoinedSql, JoinsItsPartsAtCompileTime) {
  static constexpr char kHead[] = "WITH a AS (SELECT 1)";
  static constexpr char kTail[] = " SELECT * FROM a";
  static constexpr auto kSql = join_sql(kHead, kTail);
  static_assert(kSql.view() == "WITH a AS (SELECT 1) SELECT * FROM a");
  EXPECT_EQ(kSql.view().size(), sizeof(kHead) + sizeof(kTail) - 2);
}

}  // namespace
}  // namespace visitpay::store
