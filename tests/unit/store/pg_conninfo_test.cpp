// The conninfo rewriting that keeps libpq's host lookups off the I/O threads: parsing both
// conninfo forms, which entries need a lookup, and the rewritten text libpq reads back.
#include "store/pg_conninfo.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace visitpay::store {
namespace {

TEST(PgConninfo, SplitsAMultiHostListIntoEntries) {
  auto c = PgConninfo::parse("host=db-a.internal,db-b.internal port=5432,5433 dbname=visitpay");
  ASSERT_TRUE(c);
  ASSERT_EQ(c->hosts.size(), 2u);
  EXPECT_EQ(c->hosts[0].host, "db-a.internal");
  EXPECT_EQ(c->hosts[0].port, "5432");
  EXPECT_EQ(c->hosts[1].host, "db-b.internal");
  EXPECT_EQ(c->hosts[1].port, "5433");
  EXPECT_TRUE(PgConninfo::needs_lookup(c->hosts[0]));
}

TEST(PgConninfo, ReadsTheUriFormToo) {
  auto c = PgConninfo::parse("postgresql://app:s3cret@db-a:6432/visitpay?sslmode=require");
  ASSERT_TRUE(c);
  ASSERT_EQ(c->hosts.size(), 1u);
  EXPECT_EQ(c->hosts[0].host, "db-a");
  EXPECT_EQ(c->hosts[0].port, "6432");
  const auto text = c->format();
  EXPECT_NE(text.find("password='s3cret'"), std::string::npos);
  EXPECT_NE(text.find("sslmode='require'"), std::string::npos);
}

TEST(PgConninfo, SocketPathsLiteralAddressesAndGivenHostaddrsNeedNoLookup) {
  auto c = PgConninfo::parse("host=/run/postgresql,10.0.0.5,::1,db hostaddr=,,,192.0.2.7");
  ASSERT_TRUE(c);
  ASSERT_EQ(c->hosts.size(), 4u);
  for (const auto& e : c->hosts)
    EXPECT_FALSE(PgConninfo::needs_lookup(e)) << e.host;
}

TEST(PgConninfo, QuotesValuesSoLibpqReadsThemBack) {
  auto c = PgConninfo::parse("host=db password='it\\'s a \\\\ secret' application_name='a b'");
  ASSERT_TRUE(c);
  auto again = PgConninfo::parse(c->format());
  ASSERT_TRUE(again) << c->format();
  EXPECT_EQ(again->format(), c->format());
  EXPECT_NE(c->format().find("application_name='a b'"), std::string::npos);
}

TEST(PgConninfo, AnUnparsableConninfoIsAnErrorThatQuotesNothing) {
  auto c = PgConninfo::parse("host=db password=secret nonsense");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().detail.find("secret"), std::string::npos);
}

std::string resolved(const std::string& conninfo) {
  boost::asio::io_context io;
  auto f = boost::asio::co_spawn(
      io, resolve_conninfo(io.get_executor(), conninfo, std::chrono::seconds(5)),
      boost::asio::use_future);
  io.run();
  auto r = f.get();
  return r ? *r : "error: " + r.error().detail;
}

TEST(PgConninfo, ANameBecomesOneEntryPerAddressAndKeepsItsNameForTls) {
  const auto text = resolved("host=localhost,/tmp/sock port=6543 dbname=visitpay");
  auto c = PgConninfo::parse(text);
  ASSERT_TRUE(c) << text;
  ASSERT_GE(c->hosts.size(), 2u) << text;
  for (std::size_t i = 0; i + 1 < c->hosts.size(); ++i) {
    EXPECT_EQ(c->hosts[i].host, "localhost");
    EXPECT_TRUE(c->hosts[i].hostaddr == "127.0.0.1" || c->hosts[i].hostaddr == "::1") << text;
    EXPECT_EQ(c->hosts[i].port, "6543");
  }
  EXPECT_EQ(c->hosts.back().host, "/tmp/sock");
  EXPECT_EQ(c->hosts.back().hostaddr, "");
}

TEST(PgConninfo, NamesThatDoNotResolveAreDroppedAndNoneLeftIsAnError) {
  const auto kept = resolved("host=no-such-host.invalid,localhost dbname=visitpay");
  EXPECT_EQ(kept.find("no-such-host"), std::string::npos) << kept;
  EXPECT_NE(kept.find("localhost"), std::string::npos) << kept;
  EXPECT_EQ(resolved("host=no-such-host.invalid"), "error: no database host name resolved");
}

TEST(PgConninfo, AConninfoWithoutNamesIsLeftAsItIs) {
  EXPECT_EQ(resolved("host=/tmp/sock port=5432 dbname=visitpay"),
            "host=/tmp/sock port=5432 dbname=visitpay");
}

}  // namespace
}  // namespace visitpay::store
