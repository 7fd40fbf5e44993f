// The HTTP edge over raw TCP against the real server (issue 15): every badly framed request is
// answered (400 problem+json, 501 for transfer codings, 505 for other HTTP versions) and the
// connection closed; Host rules, absolute-form, Expect: 100-continue, duplicate JSON keys;
// unauthenticated work stays cheap; connection limits.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "app/auth.hpp"
#include "http_client.hpp"
#include "raw_client.hpp"
#include "test_service.hpp"

namespace visitpay::testing {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;

std::string with_body(const std::string& head, const std::string& body) {
  return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

class HttpEdge : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto config = test_config(migrated_database());
    config.outbox.enabled = false;
    config.http.read_timeout = milliseconds(1500);
    service_ = new TestService(config);
    writer_ = service_->token("checkout:write,sessions:read");
  }
  static void TearDownTestSuite() {
    delete service_;
    service_ = nullptr;
  }

  static std::uint16_t port() { return service_->port(); }

  // The answer to a request whose framing cannot be trusted: one problem, then the close.
  static void expect_rejected(const std::string& bytes, int status) {
    SCOPED_TRACE(bytes);
    const auto a = raw_exchange(port(), bytes);
    EXPECT_EQ(a.status, status) << a.raw;
    EXPECT_EQ(a.responses, 1) << a.raw;
    EXPECT_NE(a.raw.find("Content-Type: application/problem+json"), std::string::npos) << a.raw;
    EXPECT_NE(a.raw.find("Connection: close"), std::string::npos) << a.raw;
    EXPECT_TRUE(a.closed) << "the connection stayed open after: " << a.raw;
  }

  static std::string checkout_head(const std::string& extra = {}) {
    return "POST /v1/checkouts HTTP/1.1\r\nHost: visitpay\r\nAuthorization: Bearer " + writer_ +
           "\r\nContent-Type: application/json\r\nConnection: close\r\n" + extra;
  }

  static TestService* service_;
  static std::string writer_;
};
TestService* HttpEdge::service_ = nullptr;
std::string HttpEdge::writer_;

constexpr const char* kPost = "POST /healthz HTTP/1.1\r\nHost: visitpay\r\n";

TEST_F(HttpEdge, ContentLengthWithTransferEncodingIs400) {
  expect_rejected(
      std::string(kPost) + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
  expect_rejected(
      std::string(kPost) + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400);
}

TEST_F(HttpEdge, TwoContentLengthsAre400EvenWhenEqual) {
  expect_rejected(std::string(kPost) + "Content-Length: 2\r\nContent-Length: 3\r\n\r\nabc", 400);
  expect_rejected(std::string(kPost) + "Content-Length: 2\r\nContent-Length: 2\r\n\r\nab", 400);
  expect_rejected(std::string(kPost) + "Content-Length: 2, 2\r\n\r\nab", 400);
}

TEST_F(HttpEdge, SignedOrNonDecimalContentLengthIs400) {
  expect_rejected(std::string(kPost) + "Content-Length: +2\r\n\r\nab", 400);
  expect_rejected(std::string(kPost) + "Content-Length: -1\r\n\r\n", 400);
  expect_rejected(std::string(kPost) + "Content-Length: 0x2\r\n\r\nab", 400);
}

TEST_F(HttpEdge, SpaceBeforeColonIs400) {
  expect_rejected(std::string(kPost) + "Content-Length : 2\r\n\r\nab", 400);
  expect_rejected("GET /healthz HTTP/1.1\r\nHost : visitpay\r\n\r\n", 400);
}

TEST_F(HttpEdge, FoldedHeaderIs400) {
  expect_rejected("GET /healthz HTTP/1.1\r\nHost: visitpay\r\nX-Note: a\r\n b\r\n\r\n", 400);
  expect_rejected("GET /healthz HTTP/1.1\r\nHost: visitpay\r\nX-Note: a\r\n\tb\r\n\r\n", 400);
}

TEST_F(HttpEdge, NulInTheHeadIs400) {
  static constexpr char kInValue[] =
      "GET /healthz HTTP/1.1\r\nHost: visitpay\r\nX-Note: a\0b\r\n\r\n";
  static constexpr char kInTarget[] = "GET /heal\0thz HTTP/1.1\r\nHost: visitpay\r\n\r\n";
  expect_rejected(std::string(kInValue, sizeof kInValue - 1), 400);
  expect_rejected(std::string(kInTarget, sizeof kInTarget - 1), 400);
}

TEST_F(HttpEdge, BadChunkSizesAre400) {
  const std::string head = std::string(kPost) + "Transfer-Encoding: chunked\r\n\r\n";
  expect_rejected(head + "zz\r\nab\r\n0\r\n\r\n", 400);
  expect_rejected(head + "-2\r\nab\r\n0\r\n\r\n", 400);
  expect_rejected(head + "0x2\r\nab\r\n0\r\n\r\n", 400);
  expect_rejected(head + "fffffffffffffffffffff\r\nab\r\n0\r\n\r\n", 400);
  expect_rejected(head + "2\r\nabcd\r\n0\r\n\r\n", 400);  // more data than the size says
}

// Beast looks for CR to end a chunk-size line: a bare LF there is refused once a CR arrives
// (here with a hidden second request that must not be answered); with no CR at all the request
// waits and is closed at the read timeout, unanswered.
TEST_F(HttpEdge, ABareLfInAChunkedBodyIsRefusedOrTimesOut) {
  const std::string head = std::string(kPost) + "Transfer-Encoding: chunked\r\n\r\n";
  expect_rejected(head + "2\nab\n0\n\nGET /healthz HTTP/1.1\r\nHost: visitpay\r\n\r\n", 400);
  const auto a = raw_exchange(port(), head + "2\nab\n0\n\n");
  EXPECT_EQ(a.responses, 0) << a.raw;
  EXPECT_TRUE(a.closed);
}

TEST_F(HttpEdge, BareLfIs400) {
  expect_rejected("GET /healthz HTTP/1.1\nHost: visitpay\n\n", 400);
  expect_rejected("GET /healthz HTTP/1.1\r\nHost: visitpay\nX-Note: a\r\n\r\n", 400);
  expect_rejected("GET /healthz HTTP/1.1\r\nHost: visitpay\rX-Note: a\r\n\r\n", 400);  // bare CR
}

TEST_F(HttpEdge, Http09IsAnsweredAt400WithoutWaitingForHeaders) {
  const auto started = std::chrono::steady_clock::now();
  expect_rejected("GET /healthz\r\n", 400);
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(1000));
}

TEST_F(HttpEdge, OtherHttpVersionsAre505) {
  expect_rejected("GET /healthz HTTP/2.0\r\nHost: visitpay\r\n\r\n", 505);
  expect_rejected("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505);  // the HTTP/2 connection preface
  expect_rejected("GET /healthz HTTP/1.2\r\nHost: visitpay\r\n\r\n", 505);
  expect_rejected("GET /healthz HTTP/11\r\nHost: visitpay\r\n\r\n", 400);
}

TEST_F(HttpEdge, TransferCodingsOtherThanChunkedAre501AndTheBodyIsNeverRead) {
  // A second request hidden in the body: answering it would be a smuggling primitive.
  const std::string hidden = "GET /healthz HTTP/1.1\r\nHost: visitpay\r\n\r\n";
  for (const std::string coding :
       {"xchunked", "identity", "gzip, chunked", "chunked, gzip", "gzip"}) {
    SCOPED_TRACE(coding);
    expect_rejected(std::string(kPost) + "Transfer-Encoding: " + coding + "\r\n\r\n" + hidden, 501);
  }
  // Two chunked codings: Beast refuses the second one itself (400, equally closed).
  expect_rejected(std::string(kPost) + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked" +
                      "\r\n\r\n0\r\n\r\n",
                  400);
  // HTTP/1.0 has no chunked coding at all (RFC 9112 §6.1): faulty framing.
  expect_rejected("POST /healthz HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
}

TEST_F(HttpEdge, ChunkedBodiesAreStillAccepted) {
  const std::string body = example_checkout("V-EDGE-CHUNKED");
  std::ostringstream chunked;
  chunked << std::hex << 10 << "\r\n"
          << body.substr(0, 10) << "\r\n"
          << std::hex << (body.size() - 10) << "\r\n"
          << body.substr(10) << "\r\n0\r\n\r\n";
  const auto a = raw_exchange(
      port(), checkout_head("Transfer-Encoding: chunked\r\n") + "\r\n" + chunked.str());
  EXPECT_EQ(a.status, 201) << a.raw;
}

TEST_F(HttpEdge, Http11NeedsExactlyOneHost) {
  expect_rejected("GET /healthz HTTP/1.1\r\n\r\n", 400);
  expect_rejected("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
  expect_rejected("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
  expect_rejected("GET /healthz HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
  // HTTP/1.0 may omit it.
  const auto a = raw_exchange(port(), "GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(a.status, 200) << a.raw;
  EXPECT_TRUE(a.closed);
}

TEST_F(HttpEdge, AbsoluteFormIsRoutedByItsPath) {
  auto a = raw_exchange(port(),
                        "GET http://visitpay.example:8080/healthz HTTP/1.1\r\n"
                        "Host: visitpay.example:8080\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(a.status, 200) << a.raw;
  a = raw_exchange(port(),
                   "GET HTTPS://visitpay.example/v1/sessions/x?y=1 HTTP/1.1\r\n"
                   "Host: visitpay.example\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(a.status, 401) << a.raw;  // the route was found; it wants a token
  expect_rejected("GET ftp://visitpay.example/healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect_rejected("GET healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400);
}

TEST_F(HttpEdge, ExpectContinueIsAnsweredBeforeTheBodyIsSent) {
  const std::string body = example_checkout("V-EDGE-CONTINUE");
  RawClient client(port());
  client.send(checkout_head("Expect: 100-continue\r\n") +
              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  const auto interim = client.read_until("\r\n\r\n", milliseconds(2000));
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  client.send(body);
  client.read_all(milliseconds(3000));
  const auto a = parse_raw_answer(client.received(), client.closed_by_peer());
  EXPECT_EQ(a.responses, 2) << a.raw;
  EXPECT_EQ(a.status, 201) << a.raw;
}

TEST_F(HttpEdge, ExpectContinueWithATooLargeBodyGetsOnlyTheFinalAnswer) {
  RawClient client(port());
  client.send(checkout_head("Expect: 100-continue\r\n") + "Content-Length: 100000000\r\n\r\n");
  client.read_all(milliseconds(3000));
  const auto a = parse_raw_answer(client.received(), client.closed_by_peer());
  EXPECT_EQ(a.responses, 1) << a.raw;
  EXPECT_EQ(a.status, 413) << a.raw;
  EXPECT_TRUE(a.closed);
}

TEST_F(HttpEdge, TooLargeHeadIs431) {
  expect_rejected(
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n", 431);
}

TEST_F(HttpEdge, DuplicateJsonKeysAre422NamingTheKey) {
  auto body = example_checkout("V-EDGE-DUP");
  body.insert(1, R"("visit_id":"V-OTHER",)");
  auto a = raw_exchange(port(), with_body(checkout_head(), body));
  EXPECT_EQ(a.status, 422) << a.raw;
  const auto doc = Json::parse(a.raw.substr(a.raw.find("\r\n\r\n") + 4));
  ASSERT_EQ(doc["errors"].size(), 1u) << doc;
  EXPECT_EQ(doc["errors"][0]["pointer"], "/visit_id");

  body = example_checkout("V-EDGE-DUP");
  const auto payer = body.find(R"("payer":{)") + 9;
  body.insert(payer, R"("name":"Other",)");
  a = raw_exchange(port(), with_body(checkout_head(), body));
  EXPECT_EQ(a.status, 422) << a.raw;
  EXPECT_NE(a.raw.find(R"("pointer":"/payer/name")"), std::string::npos) << a.raw;
  // Nothing was stored for either.
  auto db = service_->db();
  auto r = db.exec("SELECT count(*) FROM sessions WHERE visit_id IN ('V-EDGE-DUP', 'V-OTHER')");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->int64(0, 0), 0);
}

TEST_F(HttpEdge, AStalledHeadIsClosedAtTheReadTimeout) {
  RawClient client(port());
  client.send("GET /healthz HTTP/1.1\r\nHost: vis");
  const auto started = std::chrono::steady_clock::now();
  client.read_all(milliseconds(5000));
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(3000));
}

TEST_F(HttpEdge, ARequestAfterLeadingEmptyLinesIsServed) {
  const auto a =
      raw_exchange(port(), "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(a.status, 200) << a.raw;
}

// --- unauthenticated work ----------------------------------------------------------------------

class EdgeAuth : public ::testing::Test {
 protected:
  void start(int failures_burst) {
    auto config = test_config(migrated_database());
    config.outbox.enabled = false;
    config.auth.failures_burst = failures_burst;
    config.auth.failures_per_minute = 1;
    service_ = std::make_unique<TestService>(config);
  }
  int get_session(const std::string& token, HttpReply* reply = nullptr) {
    auto r =
        http_request(service_->port(), "GET", "/v1/sessions/00000000-0000-0000-0000-000000000000",
                     {}, {{"Authorization", "Bearer " + token}});
    if (reply) *reply = r;
    return r.status;
  }
  // Makes every token look-up fail: a request that reaches the database answers 5xx.
  void break_token_table() {
    auto db = service_->db();
    ASSERT_TRUE(db.exec("ALTER TABLE api_clients RENAME TO api_clients_away"));
  }
  void mend_token_table() {
    auto db = service_->db();
    ASSERT_TRUE(db.exec("ALTER TABLE api_clients_away RENAME TO api_clients"));
  }
  std::unique_ptr<TestService> service_;
};

// A well-formed token nobody issued: "vp_" + 43 base64url characters.
std::string unknown_token(char fill) {
  return "vp_" + std::string(42, fill) + "A";
}

TEST_F(EdgeAuth, MalformedTokensAreRefusedWithoutADatabaseQuery) {
  start(20);
  break_token_table();
  for (const std::string& garbage :
       std::vector<std::string>{"garbage", "vp_short", "vp_" + std::string(43, '!'),
                                "vp_" + std::string(43, 'B'),  // last character: 6 bits
                                "xx_" + std::string(43, 'A')}) {
    EXPECT_EQ(get_session(garbage), 401) << garbage;
  }
  // The control: a token of the right shape does reach the database.
  EXPECT_GE(get_session(unknown_token('a')), 500);
  mend_token_table();
}

TEST_F(EdgeAuth, AnUnknownTokenIsRememberedAndNotLookedUpAgain) {
  start(20);
  EXPECT_EQ(get_session(unknown_token('b')), 401);
  break_token_table();
  EXPECT_EQ(get_session(unknown_token('b')), 401);  // from the cache of failed tokens
  EXPECT_GE(get_session(unknown_token('c')), 500);  // another one is looked up
  mend_token_table();
}

TEST_F(EdgeAuth, AnAddressOutOfAttemptsGets429WithRetryAfterButKnownTokensStillWork) {
  start(4);
  const auto valid = service_->token("sessions:read");
  EXPECT_EQ(get_session(valid), 404);  // authenticated; no such session
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(get_session("garbage-" + std::to_string(i)), 401);
  HttpReply reply;
  EXPECT_EQ(get_session(unknown_token('d'), &reply), 429);
  EXPECT_EQ(Json::parse(reply.body)["type"], "https://visitpay.dev/problems/too-many-requests");
  ASSERT_TRUE(reply.headers.count("retry-after"));
  EXPECT_GE(std::stoi(reply.headers["retry-after"]), 1);
  EXPECT_LE(std::stoi(reply.headers["retry-after"]), 60);
  EXPECT_EQ(get_session("garbage"), 429);
  // No query was made for the refused token: it is not in the failed-token cache either, so
  // with the table gone it is refused with 429, not with a 5xx.
  break_token_table();
  EXPECT_EQ(get_session(unknown_token('e')), 429);
  mend_token_table();
  EXPECT_EQ(get_session(valid), 404);  // a token seen valid is served from the cache
}

TEST_F(EdgeAuth, AGarbageFloodLeavesTheDatabasePoolToRealClients) {
  start(20);
  const auto valid = service_->token("checkout:write,sessions:read");
  EXPECT_EQ(get_session(valid), 404);  // a client in service before the flood
  std::atomic<bool> stop{false};
  std::vector<std::thread> flood;
  for (int t = 0; t < 4; ++t) {
    flood.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        try {
          http_request(
              service_->port(), "GET", "/v1/sessions/x", {},
              {{"Authorization",
                "Bearer " + (i % 2 == 0 ? app::new_api_token() : "garbage-" + std::to_string(t))}});
        } catch (const std::exception&) {
        }
      }
    });
  }
  std::this_thread::sleep_for(milliseconds(300));
  for (int i = 0; i < 20; ++i) {
    const auto started = std::chrono::steady_clock::now();
    auto r = http_request(
        service_->port(), "POST", "/v1/checkouts", example_checkout("V-FLOOD-" + std::to_string(i)),
        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + valid}});
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(1000));
  }
  stop = true;
  for (auto& t : flood)
    t.join();
}

// --- connection limits -------------------------------------------------------------------------

class EdgeLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = test_config(migrated_database());
    config.outbox.enabled = false;
    config.http.max_connections = 4;
    config.http.max_requests_per_connection = 3;
    config.http.idle_timeout = milliseconds(400);
    service_ = std::make_unique<TestService>(config);
  }
  double open_connections() {
    const auto text = service_->service().metrics().render();
    const std::string key = "http_connections{state=\"open\"} ";
    const auto at = text.find(key);
    return at == std::string::npos ? -1 : std::stod(text.substr(at + key.size()));
  }
  bool eventually(const std::function<bool()>& condition) {
    for (int i = 0; i < 200; ++i) {
      if (condition()) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return condition();
  }
  std::unique_ptr<TestService> service_;
};

constexpr const char* kHealth = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_F(EdgeLimits, AKeepAliveConnectionServesAtMostTheLimitThenCloses) {
  RawClient client(service_->port());
  client.send(std::string(kHealth) + kHealth + kHealth + kHealth);  // pipelined
  client.read_all(milliseconds(3000));
  const auto a = parse_raw_answer(client.received(), client.closed_by_peer());
  EXPECT_EQ(a.responses, 3) << a.raw;
  EXPECT_TRUE(a.closed);
  EXPECT_EQ(a.raw.find("Connection: close"), a.raw.rfind("Connection: close")) << a.raw;
  EXPECT_GT(a.raw.rfind("Connection: close"), a.raw.rfind("HTTP/1.1 200")) << a.raw;
}

TEST_F(EdgeLimits, AnIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  RawClient client(service_->port());
  client.send(kHealth);
  client.read_until("\r\n\r\n", milliseconds(2000));
  const auto started = std::chrono::steady_clock::now();
  client.read_all(milliseconds(3000));
  EXPECT_TRUE(client.closed_by_peer());
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, milliseconds(300));
  EXPECT_LT(waited, milliseconds(1500));
}

TEST_F(EdgeLimits, AtTheCapTheOldestIdleConnectionMakesRoomForANewClient) {
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<RawClient>(service_->port()));
    ASSERT_TRUE(eventually([&] { return open_connections() == i + 1; }));
  }
  const auto reply =
      try_http_request(service_->port(), "GET", "/healthz", {}, {}, milliseconds(2000));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  idle.front()->read_all(milliseconds(1000));
  EXPECT_TRUE(idle.front()->closed_by_peer()) << "the oldest idle connection was kept";
  EXPECT_LE(open_connections(), 4);
}

TEST_F(EdgeLimits, AtTheCapWithNoIdleConnectionNewClientsWaitInTheBacklog) {
  // Four connections each in the middle of a request head: not idle, so never cut.
  std::vector<std::unique_ptr<RawClient>> busy;
  for (int i = 0; i < 4; ++i) {
    busy.push_back(std::make_unique<RawClient>(service_->port()));
    busy.back()->send("GET /healthz HTTP/1.1\r\n");
    ASSERT_TRUE(eventually([&] { return open_connections() == i + 1; }));
  }
  const auto waiting =
      try_http_request(service_->port(), "GET", "/healthz", {}, {}, milliseconds(300));
  EXPECT_FALSE(waiting.has_value()) << "a fifth connection was served above the cap";
  EXPECT_EQ(open_connections(), 4);
  busy.front()->send("Host: x\r\nConnection: close\r\n\r\n");  // one finishes and frees its slot
  busy.front()->read_all(milliseconds(2000));
  EXPECT_EQ(parse_raw_answer(busy.front()->received(), true).status, 200);
  const auto served =
      try_http_request(service_->port(), "GET", "/healthz", {}, {}, milliseconds(2000));
  ASSERT_TRUE(served.has_value());
  EXPECT_EQ(served->status, 200);
}

}  // namespace
}  // namespace visitpay::testing
