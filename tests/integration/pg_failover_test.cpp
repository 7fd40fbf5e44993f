// The database client against two real PostgreSQL clusters reached over TCP by host name
// ("localhost", looked up by the Asio resolver, not by libpq on an I/O thread): a multi-host
// conninfo connects to the first host, fails over to the second when the first refuses, and
// reconnect attempts while no host answers are damped (one probe at a time, jittered pauses).
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <memory>
#include <regex>
#include <thread>

#include "common/log.hpp"
#include "pg_cluster.hpp"
#include "store/pg_pool.hpp"
#include "store/pg_sync.hpp"

namespace visitpay::testing {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// Forwards TCP connections on 127.0.0.1 to a cluster's Unix socket (the test clusters listen on
// no TCP port). When the cluster is down, a connection is accepted and closed at once, as a
// server that is starting up or shutting down would.
class TcpToUnixProxy {
 public:
  explicit TcpToUnixProxy(std::string socket_path)
      : socket_path_(std::move(socket_path)),
        acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TcpToUnixProxy() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  struct Pipe : std::enable_shared_from_this<Pipe> {
    Pipe(tcp::socket c, asio::local::stream_protocol::socket s)
        : client(std::move(c)), server(std::move(s)) {}
    tcp::socket client;
    asio::local::stream_protocol::socket server;
    std::array<char, 16384> up{}, down{};
    template <typename From, typename To>
    void relay(From& from, To& to, std::array<char, 16384>& buf) {
      from.async_read_some(asio::buffer(buf), [self = shared_from_this(), &from, &to, &buf](
                                                  boost::system::error_code ec, std::size_t n) {
        if (ec) return self->close();
        asio::async_write(to, asio::buffer(buf, n),
                          [self, &from, &to, &buf](boost::system::error_code wec, std::size_t) {
                            if (wec) return self->close();
                            self->relay(from, to, buf);
                          });
      });
    }
    void close() {
      boost::system::error_code ignored;
      client.close(ignored);
      server.close(ignored);
    }
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket client) {
      if (ec) return;
      asio::local::stream_protocol::socket server(io_);
      boost::system::error_code connect_ec;
      server.connect(asio::local::stream_protocol::endpoint(socket_path_), connect_ec);
      if (!connect_ec) {
        auto pipe = std::make_shared<Pipe>(std::move(client), std::move(server));
        pipe->relay(pipe->client, pipe->server, pipe->up);
        pipe->relay(pipe->server, pipe->client, pipe->down);
      }  // else: the client sees the connection closed
      accept();
    });
  }

  std::string socket_path_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

std::string socket_path(const std::string& conninfo) {
  std::smatch m;
  if (!std::regex_search(conninfo, m, std::regex(R"(host=(\S+) port=(\d+))"))) {
    throw std::runtime_error("unexpected conninfo " + conninfo);
  }
  return m[1].str() + "/.s.PGSQL." + m[2].str();
}

class PgFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Each cluster's database says which cluster it is.
    for (auto* c : {&first_, &second_}) {
      const auto name = std::string(c == &first_ ? "first" : "second");
      auto db = store::PgSyncConnection::open(c->conninfo());
      ASSERT_TRUE(db);
      ASSERT_TRUE(db->exec("CREATE TABLE IF NOT EXISTS which (name text)"));
      ASSERT_TRUE(db->exec("DELETE FROM which"));
      ASSERT_TRUE(db->exec("INSERT INTO which VALUES ('" + name + "')"));
    }
    proxy_a_ = std::make_unique<TcpToUnixProxy>(socket_path(first_.conninfo()));
    proxy_b_ = std::make_unique<TcpToUnixProxy>(socket_path(second_.conninfo()));
  }

  store::PgPool::Options options() const {
    store::PgPool::Options o;
    o.connection.conninfo = "host=localhost,localhost port=" + std::to_string(proxy_a_->port()) +
                            "," + std::to_string(proxy_b_->port()) +
                            " dbname=visitpay user=visitpay";
    o.connection.connect_timeout = std::chrono::seconds(5);
    o.max_size = 2;
    return o;
  }

  // Which cluster a fresh connection of a fresh pool reaches ("error: ..." if none).
  std::string reached(store::PgPool::Options o) {
    asio::io_context io;
    common::Logger log(common::LogLevel::error);
    store::PgPool pool(io.get_executor(), std::move(o), log);
    static constexpr store::Statement kWhich{"test.which", "SELECT name FROM which"};
    const store::PgParams none;  // outlives the coroutine that refers to it
    auto f = asio::co_spawn(io, pool.execute(kWhich, none), asio::use_future);
    io.run();
    auto r = f.get();
    return r ? r->string(0, 0) : "error: " + r.error().detail;
  }

  static PgCluster& cluster(int n) {
    static PgCluster one, two;
    return n == 1 ? one : two;
  }
  PgCluster& first_ = cluster(1);
  PgCluster& second_ = cluster(2);
  std::unique_ptr<TcpToUnixProxy> proxy_a_, proxy_b_;
};

TEST_F(PgFailoverTest, ConnectsToTheFirstHostByName) {
  EXPECT_EQ(reached(options()), "first");
}

TEST_F(PgFailoverTest, FailsOverToTheNextHostWhenTheFirstIsDown) {
  first_.stop();
  auto o = options();
  proxy_a_.reset();  // the first host's port now refuses connections, as a stopped server's does
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(reached(o), "second");
  // Well within the connect timeout: the next host's socket was waited on, not the dead one's.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
  first_.start();
}

TEST_F(PgFailoverTest, WhileNoHostAnswersOneProbeAtATimeAfterAGrowingPause) {
  first_.stop();
  second_.stop();
  asio::io_context io;
  common::Logger log(common::LogLevel::error);
  auto o = options();
  proxy_a_.reset();  // refuses, as a stopped server's port does
  o.max_size = 8;
  o.reconnect_backoff_min = std::chrono::milliseconds(300);
  store::PgPool pool(io.get_executor(), o, log);
  static constexpr store::Statement kOne{"test.one", "SELECT 1"};
  const store::PgParams none;  // outlives every coroutine that refers to it
  const auto run = [&](int callers) {
    std::vector<std::future<common::Result<store::PgResult>>> calls;
    for (int i = 0; i < callers; ++i)
      calls.push_back(asio::co_spawn(io, pool.execute(kOne, none), asio::use_future));
    io.restart();
    io.run();
    int ok = 0;
    for (auto& c : calls)
      ok += c.get() ? 1 : 0;
    return ok;
  };
  EXPECT_EQ(run(1), 0);  // the first failure starts a pause of 150-300 ms
  EXPECT_EQ(pool.stats().connect_failures, 1u);

  // Fifty callers within the pause: refused at once, none of them dials.
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(run(50), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(150));
  EXPECT_EQ(pool.stats().connect_failures, 1u);

  // The database is back: after the pause one probe reconnects and everyone is served again.
  second_.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  EXPECT_EQ(run(1), 1);
  EXPECT_EQ(run(20), 20);
  first_.start();
}

}  // namespace
}  // namespace visitpay::testing
