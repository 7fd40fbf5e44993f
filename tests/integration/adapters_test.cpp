// The outbound adapters over real HTTP against canned servers (mocks::MockHttpServer): the
// libcurl-multi/Asio client (timeouts, faults, retries, connection reuse, completion on the
// caller's executor), the Swedbank Pay Payment Order v3.1 adapter and the LINK Mobility SMS
// adapter with its delivery-report parser.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <ctime>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/http/http_client.hpp"
#include "adapters/payment/swedbankpay/swedbankpay_provider.hpp"
#include "adapters/sms/linkmobility/delivery_report.hpp"
#include "adapters/sms/linkmobility/linkmobility_gateway.hpp"
#include "mocks/common/mock_http_server.hpp"

namespace visitpay::adapters {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using common::ErrorCode;
using Json = nlohmann::json;
using mocks::MockRequest;
using mocks::MockResponse;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// ---- harness ---------------------------------------------------------------------------------

// An io_context run by two threads, as in the service.
class IoRunner {
 public:
  IoRunner() : work_(asio::make_work_guard(ioc_)) {
    for (int i = 0; i < 2; ++i)
      threads_.emplace_back([this] { ioc_.run(); });
  }
  ~IoRunner() {
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_)
      t.join();
  }
  IoRunner(const IoRunner&) = delete;
  IoRunner& operator=(const IoRunner&) = delete;

  asio::any_io_executor executor() { return ioc_.get_executor(); }

  // Starts make() (which returns an awaitable) as a coroutine on `executor`.
  template <typename Make>
  auto spawn(Make make, asio::any_io_executor executor = {}) {
    using T = typename decltype(make())::value_type;
    auto promise = std::make_shared<std::promise<T>>();
    auto future = promise->get_future();
    if (!executor) executor = ioc_.get_executor();
    asio::co_spawn(
        executor,
        [promise, make = std::move(make)]() mutable -> asio::awaitable<void> {
          promise->set_value(co_await make());
        },
        [promise](std::exception_ptr e) {
          if (e) promise->set_exception(e);
        });
    return future;
  }

  template <typename Make>
  auto run(Make make) {
    auto future = spawn(std::move(make));
    if (future.wait_for(15s) != std::future_status::ready) {
      ADD_FAILURE() << "the coroutine did not complete";
      std::abort();  // a hang would otherwise block the whole binary
    }
    return future.get();
  }

 private:
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

// A MockHttpServer that records what it was sent. The responder runs on the server's
// connection threads, so shared state in it must be atomic or locked.
class CannedServer {
 public:
  explicit CannedServer(std::function<MockResponse(const MockRequest&)> responder)
      : responder_(std::move(responder)),
        server_("127.0.0.1", 0, [this](const MockRequest& request) {
          {
            std::lock_guard lock(mutex_);
            requests_.push_back(request);
          }
          return responder_(request);
        }) {}

  ~CannedServer() { server_.stop(); }
  CannedServer(const CannedServer&) = delete;
  CannedServer& operator=(const CannedServer&) = delete;

  std::string base_url() const { return server_.base_url(); }
  std::uint16_t port() const { return server_.port(); }
  std::vector<MockRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<MockRequest> requests_;
  std::function<MockResponse(const MockRequest&)> responder_;
  mocks::MockHttpServer server_;  // last: its threads use the members above
};

// A TCP relay in front of a server that counts the connections it accepts, so tests can see
// whether the client reuses keep-alive connections.
class CountingProxy {
 public:
  explicit CountingProxy(std::uint16_t upstream_port)
      : acceptor_(ioc_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
        upstream_(asio::ip::address_v4::loopback(), upstream_port) {
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~CountingProxy() {
    ioc_.stop();
    thread_.join();
  }
  CountingProxy(const CountingProxy&) = delete;
  CountingProxy& operator=(const CountingProxy&) = delete;

  std::string base_url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  int accepted() const { return accepted_.load(); }

 private:
  using Socket = std::shared_ptr<tcp::socket>;

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto accepted = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (std::get<0>(accepted)) co_return;
      accepted_++;
      auto down = std::make_shared<tcp::socket>(std::move(std::get<1>(accepted)));
      asio::co_spawn(ioc_, bridge(down), asio::detached);
    }
  }

  asio::awaitable<void> bridge(Socket down) {
    auto up = std::make_shared<tcp::socket>(ioc_);
    auto connected = co_await up->async_connect(upstream_, asio::as_tuple(asio::use_awaitable));
    if (std::get<0>(connected)) co_return;
    asio::co_spawn(ioc_, pipe(down, up), asio::detached);
    asio::co_spawn(ioc_, pipe(up, down), asio::detached);
  }

  static asio::awaitable<void> pipe(Socket from, Socket to) {
    std::array<char, 16384> buffer{};
    for (;;) {
      auto read =
          co_await from->async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
      if (std::get<0>(read)) break;
      auto written = co_await asio::async_write(*to, asio::buffer(buffer.data(), std::get<1>(read)),
                                                asio::as_tuple(asio::use_awaitable));
      if (std::get<0>(written)) break;
    }
    boost::system::error_code ignored;
    to->shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  tcp::endpoint upstream_;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

MockResponse json_response(int status, const Json& body, std::string content_type = {}) {
  MockResponse response;
  response.status = status;
  response.content_type = content_type.empty() ? "application/json" : std::move(content_type);
  response.body = body.dump();
  return response;
}

MockResponse problem_response(int status, const std::string& kind,
                              const std::vector<std::pair<std::string, std::string>>& problems,
                              const std::string& instance = "/psp/errors/1") {
  Json list = Json::array();
  for (const auto& [name, description] : problems) {
    list.push_back(Json{{"name", name}, {"description", description}});
  }
  Json body{{"type", "https://api.payex.com/psp/errordetail/paymentorders/" + kind},
            {"title", "Error"},
            {"status", status},
            {"detail", "The request failed"},
            {"instance", instance},
            {"problems", list}};
  return json_response(status, body, "application/problem+json");
}

std::uint16_t closed_port() {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  return acceptor.local_endpoint().port();  // closed again when the acceptor goes
}

http::HttpRequest get(const std::string& url) {
  http::HttpRequest request;
  request.url = url;
  request.timeout = 3s;
  return request;
}

// ---- HttpClient ------------------------------------------------------------------------------

TEST(HttpClient, SendsMethodHeadersAndBodyAndReadsTheResponse) {
  CannedServer server([](const MockRequest&) {
    MockResponse response;
    response.status = 201;
    response.body = R"({"ok":true})";
    response.headers.emplace_back("X-Request-Echo", "yes");
    return response;
  });
  IoRunner runner;
  http::HttpClient client(runner.executor());
  http::HttpRequest request;
  request.method = "PATCH";
  request.url = server.base_url() + "/things/7?x=1";
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("X-Custom", "value 1");
  request.body = R"({"a":1})";
  auto response = runner.run([&] { return client.send(request); });
  ASSERT_TRUE(response) << response.error().detail;
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, R"({"ok":true})");
  EXPECT_EQ(response->header("x-request-echo"), "yes");  // case-insensitive
  EXPECT_EQ(response->header("X-REQUEST-ECHO"), "yes");
  EXPECT_EQ(response->header("absent"), "");

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "PATCH");
  EXPECT_EQ(seen[0].path, "/things/7");
  EXPECT_EQ(seen[0].header("x-custom"), "value 1");
  EXPECT_EQ(seen[0].header("content-type"), "application/json");
  EXPECT_EQ(seen[0].header("expect"), "");  // no 100-continue round trip
  EXPECT_EQ(seen[0].body, R"({"a":1})");
}

TEST(HttpClient, ResolvesHostNamesWithoutBlocking) {
  // curl resolves names on its own resolver thread and polls it through our timer callback.
  CannedServer server([](const MockRequest&) {
    MockResponse response;
    response.body = "resolved";
    return response;
  });
  IoRunner runner;
  http::HttpClient client(runner.executor());
  const auto url = "http://localhost:" + std::to_string(server.port()) + "/";
  auto response = runner.run([&] { return client.send(get(url)); });
  ASSERT_TRUE(response) << response.error().detail;
  EXPECT_EQ(response->body, "resolved");
}

TEST(HttpClient, RejectsHeaderInjectionWithoutSending) {
  CannedServer server([](const MockRequest&) { return MockResponse{}; });
  IoRunner runner;
  http::HttpClient client(runner.executor());
  auto request = get(server.base_url() + "/");
  request.headers.emplace_back("X-Evil", "a\r\nInjected: yes");
  auto response = runner.run([&] { return client.send(request); });
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::internal_error);
  EXPECT_EQ(server.count(), 0u);
}

TEST(HttpClient, RetryAfterAcceptsSecondsAndHttpDates) {
  http::HttpResponse response;
  response.headers.emplace_back("retry-after", "7");
  EXPECT_EQ(response.retry_after(), std::chrono::milliseconds(7000));

  const std::time_t later = std::time(nullptr) + 30;
  std::tm tm{};
  gmtime_r(&later, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  response.headers = {{"Retry-After", date}};
  auto delay = response.retry_after();
  ASSERT_TRUE(delay);
  EXPECT_GT(*delay, 27s);
  EXPECT_LE(*delay, 31s);

  response.headers = {{"Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"}};
  EXPECT_EQ(response.retry_after(), std::chrono::milliseconds(0));
  response.headers = {{"Retry-After", "soon"}};
  EXPECT_FALSE(response.retry_after());
  response.headers.clear();
  EXPECT_FALSE(response.retry_after());
}

TEST(HttpClient, TimeoutIsProviderUnavailable) {
  CannedServer server([](const MockRequest&) {
    MockResponse response;
    response.delay = 1000ms;
    return response;
  });
  IoRunner runner;
  http::HttpClient client(runner.executor());
  auto request = get(server.base_url() + "/slow");
  request.timeout = 250ms;
  const auto started = Clock::now();
  auto response = runner.run([&] { return client.send(request); });
  const auto elapsed = Clock::now() - started;
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::provider_unavailable);
  EXPECT_NE(response.error().detail.find("Timeout"), std::string::npos) << response.error().detail;
  EXPECT_GE(elapsed, 240ms);
  EXPECT_LT(elapsed, 900ms);
}

TEST(HttpClient, RefusedAndDroppedConnectionsAreProviderUnavailable) {
  IoRunner runner;
  http::HttpClient client(runner.executor());
  const auto refused_url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
  auto refused = runner.run([&] { return client.send(get(refused_url)); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::provider_unavailable);

  CannedServer server([](const MockRequest&) {
    MockResponse response;
    response.drop_connection = true;
    return response;
  });
  auto dropped = runner.run([&] { return client.send(get(server.base_url() + "/lost")); });
  ASSERT_FALSE(dropped);
  EXPECT_EQ(dropped.error().code, ErrorCode::provider_unavailable);
  EXPECT_GE(client.stats().transport_failures, 2u);
}

TEST(HttpClient, OversizedResponseFailsTheRequest) {
  CannedServer server([](const MockRequest&) {
    MockResponse response;
    response.body = std::string(5000, 'x');
    return response;
  });
  IoRunner runner;
  http::HttpClientOptions options;
  options.max_response_bytes = 4096;
  http::HttpClient client(runner.executor(), options);
  auto response = runner.run([&] { return client.send(get(server.base_url() + "/big")); });
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::provider_unavailable);
  EXPECT_NE(response.error().detail.find("larger than 4096"), std::string::npos);
  // Not a transient fault: never retried.
  http::RetryPolicy policy{3, 1ms, 5ms};
  auto again = runner.run([&] { return client.send_with_retries(get(server.base_url()), policy); });
  EXPECT_FALSE(again);
  EXPECT_EQ(server.count(), 2u);
}

TEST(HttpClient, SendWithRetriesRetries5xxThenSucceeds) {
  std::atomic<int> calls{0};
  CannedServer server([&](const MockRequest&) {
    const int n = ++calls;
    MockResponse response;
    response.status = n == 1 ? 500 : n == 2 ? 502 : 200;
    response.body = n == 3 ? "done" : "";
    return response;
  });
  IoRunner runner;
  http::HttpClient client(runner.executor());
  http::RetryPolicy policy{4, 10ms, 50ms};
  auto response =
      runner.run([&] { return client.send_with_retries(get(server.base_url() + "/"), policy); });
  ASSERT_TRUE(response) << response.error().detail;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "done");
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(client.stats().retries, 2u);
}

TEST(HttpClient, SendWithRetriesHonoursRetryAfter) {
  std::atomic<int> calls{0};
  CannedServer server([&](const MockRequest&) {
    MockResponse response;
    if (++calls == 1) {
      response.status = 429;
      response.headers.emplace_back("Retry-After", "1");
    }
    return response;
  });
  IoRunner runner;
  http::HttpClient client(runner.executor());
  http::RetryPolicy policy{3, 1ms, 5000ms};  // backoff alone would retry within 1 ms
  const auto started = Clock::now();
  auto response =
      runner.run([&] { return client.send_with_retries(get(server.base_url() + "/"), policy); });
  const auto elapsed = Clock::now() - started;
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(calls.load(), 2);
  EXPECT_GE(elapsed, 1000ms);
}

TEST(HttpClient, SendWithRetriesCapsRetryAfterAndGivesUpWithTheLastResponse) {
  std::atomic<int> calls{0};
  CannedServer server([&](const MockRequest&) {
    ++calls;
    MockResponse response;
    response.status = 503;
    response.headers.emplace_back("Retry-After", "3600");
    return response;
  });
  IoRunner runner;
  http::HttpClient client(runner.executor());
  http::RetryPolicy policy{3, 1ms, 20ms};
  const auto started = Clock::now();
  auto response =
      runner.run([&] { return client.send_with_retries(get(server.base_url() + "/"), policy); });
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(calls.load(), 3);
  EXPECT_LT(Clock::now() - started, 2s);
}

TEST(HttpClient, SendWithRetriesNeverRetriesA400) {
  std::atomic<int> calls{0};
  CannedServer server([&](const MockRequest&) {
    ++calls;
    MockResponse response;
    response.status = 400;
    return response;
  });
  IoRunner runner;
  http::HttpClient client(runner.executor());
  http::RetryPolicy policy{5, 1ms, 5ms};
  auto response =
      runner.run([&] { return client.send_with_retries(get(server.base_url() + "/"), policy); });
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpClient, SendWithRetriesRetriesRefusedConnections) {
  IoRunner runner;
  http::HttpClient client(runner.executor());
  const auto url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
  http::RetryPolicy policy{3, 1ms, 5ms};
  auto response = runner.run([&] { return client.send_with_retries(get(url), policy); });
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::provider_unavailable);
  EXPECT_EQ(client.stats().requests, 3u);
}

TEST(HttpClient, FiftyParallelRequestsShareKeepAliveConnections) {
  CannedServer server([](const MockRequest& request) {
    MockResponse response;
    response.delay = 20ms;  // keeps requests overlapping
    response.body = request.path;
    return response;
  });
  CountingProxy proxy(server.port());
  IoRunner runner;
  http::HttpClient client(runner.executor());  // 8 connections per host by default

  std::vector<std::future<common::Result<http::HttpResponse>>> futures;
  for (int i = 0; i < 50; ++i) {
    const auto url = proxy.base_url() + "/r" + std::to_string(i);
    futures.push_back(runner.spawn([&client, url] { return client.send(get(url)); }));
  }
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(futures[i].wait_for(15s), std::future_status::ready);
    auto response = futures[i].get();
    ASSERT_TRUE(response) << response.error().detail;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "/r" + std::to_string(i));
  }
  EXPECT_EQ(server.count(), 50u);
  const int after_burst = proxy.accepted();
  EXPECT_GE(after_burst, 1);
  EXPECT_LE(after_burst, 8);
  EXPECT_EQ(client.stats().connections_opened, static_cast<std::uint64_t>(after_burst));

  // Sequential requests afterwards reuse the cached connections too.
  for (int i = 0; i < 5; ++i) {
    auto response = runner.run([&] { return client.send(get(proxy.base_url() + "/again")); });
    ASSERT_TRUE(response);
  }
  EXPECT_EQ(proxy.accepted(), after_burst);
}

TEST(HttpClient, CompletesOnTheCallersExecutor) {
  CannedServer server([](const MockRequest&) { return MockResponse{}; });
  IoRunner runner;
  http::HttpClient client(runner.executor());

  // A coroutine on another io_context (one thread) resumes on that thread.
  asio::io_context other;
  auto guard = asio::make_work_guard(other);
  std::thread other_thread([&] { other.run(); });
  const auto other_id = other_thread.get_id();
  const auto url = server.base_url() + "/";
  auto on_other = runner.spawn(
      [&]() -> asio::awaitable<bool> {
        auto response = co_await client.send(get(url));
        co_return response.ok() && std::this_thread::get_id() == other_id;
      },
      other.get_executor());
  ASSERT_EQ(on_other.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(on_other.get());

  // A coroutine on a strand resumes inside that strand.
  auto strand = asio::make_strand(runner.executor());
  auto on_strand = runner.spawn(
      [&]() -> asio::awaitable<bool> {
        auto response = co_await client.send(get(url));
        co_return response.ok() && strand.running_in_this_thread();
      },
      strand);
  ASSERT_EQ(on_strand.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(on_strand.get());

  guard.reset();
  other_thread.join();
}

TEST(HttpClient, DestroyingTheClientCompletesRequestsInFlight) {
  CannedServer server([](const MockRequest&) {
    MockResponse response;
    response.delay = 1000ms;
    return response;
  });
  IoRunner runner;
  auto client = std::make_unique<http::HttpClient>(runner.executor());
  auto request = get(server.base_url() + "/slow");
  request.timeout = 5s;
  auto future = runner.spawn([&client, request] { return client->send(request); });
  while (server.count() == 0)
    std::this_thread::sleep_for(5ms);
  const auto started = Clock::now();
  client.reset();
  ASSERT_EQ(future.wait_for(2s), std::future_status::ready);
  auto response = future.get();
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::provider_unavailable);
  EXPECT_LT(Clock::now() - started, 500ms);
}

// ---- Swedbank Pay ----------------------------------------------------------------------------

using payment::swedbankpay::SwedbankPayConfig;
using payment::swedbankpay::SwedbankPayProvider;

// Port methods take references and start lazily: arguments must outlive the awaitable, so the
// tests pass named strings, never temporaries.
const std::string& order_id() {
  static const std::string id = "/psp/paymentorders/5adc265f-f87f-4313-577e-08d3dca1a26c";
  return id;
}

Json operation(const std::string& rel, const std::string& method, const std::string& href,
               const std::string& content_type = "application/json") {
  return Json{{"rel", rel}, {"method", method}, {"href", href}, {"contentType", content_type}};
}

Json order_json(const std::string& id, const std::string& status, const Json& operations,
                const Json& paid = nullptr, std::int64_t remaining_capture = 0) {
  Json order{{"id", id},
             {"created", "2026-03-01T10:00:00Z"},
             {"operation", "Purchase"},
             {"status", status},
             {"currency", "NOK"},
             {"amount", 150000},
             {"vatAmount", 0},
             {"remainingCaptureAmount", remaining_capture},
             {"description", "Konsultasjon"},
             {"someFutureField", {{"ignored", true}}},
             {"paid", paid.is_null() ? Json{{"id", id + "/paid"}} : paid}};
  return Json{{"paymentOrder", order}, {"operations", operations}};
}

class SwedbankPayTest : public ::testing::Test {
 protected:
  SwedbankPayConfig config_for(const std::string& base_url) const {
    SwedbankPayConfig config;
    config.base_url = base_url;
    config.token = "test-token";
    config.payee_id = "payee-123";
    config.payee_name = "Klinikk AS";
    config.user_agent = "visitpay-test/1";
    config.timeout = 2s;
    config.read_retry = http::RetryPolicy{3, 5ms, 20ms};
    return config;
  }

  static ports::PaymentOrderRequest order_request() {
    ports::PaymentOrderRequest request;
    request.payee_reference = "VP0001A";
    request.order_reference = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    request.amount = 150000;
    request.vat_amount = 0;
    request.description = "Konsultasjon";
    request.callback_url = "https://visitpay.example/v1/webhooks/swedbankpay";
    request.complete_url = "https://visitpay.example/paid";
    request.cancel_url = "https://visitpay.example/cancelled";
    request.terms_of_service_url = "https://klinikk.example/vilkar";
    request.host_urls = {"https://visitpay.example"};
    return request;
  }

  IoRunner runner_;
  http::HttpClient client_{runner_.executor()};
};

TEST_F(SwedbankPayTest, CreateSendsV31HeadersAndAGuestModeOrder) {
  CannedServer server([](const MockRequest&) {
    Json ops =
        Json::array({operation("redirect-checkout", "GET",
                               "https://ecom.example/checkout/a8f3?_tc_tid=30f2", "text/html"),
                     operation("view-checkout", "GET", "https://ecom.example/core/js/x.js",
                               "application/javascript"),
                     operation("update-order", "PATCH", "https://x" + order_id()),
                     operation("abort", "PATCH", "https://x" + order_id())});
    return json_response(201, order_json(order_id(), "Initialized", ops));
  });
  SwedbankPayProvider provider(client_, config_for(server.base_url()));
  const auto request = order_request();
  auto first = runner_.run([&] { return provider.create_order(request); });
  auto second = runner_.run([&] { return provider.create_order(request); });
  ASSERT_TRUE(first) << first.error().detail;
  ASSERT_TRUE(second);
  EXPECT_EQ(first->id, order_id());
  EXPECT_EQ(first->status, ports::PaymentStatus::open);
  EXPECT_EQ(first->payment_url, "https://ecom.example/checkout/a8f3?_tc_tid=30f2");
  EXPECT_TRUE(first->can_abort);
  EXPECT_FALSE(first->can_capture);
  EXPECT_EQ(first->amount, 150000);

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (const auto& r : seen) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.path, "/psp/paymentorders");
    EXPECT_EQ(r.header("authorization"), "Bearer test-token");
    EXPECT_EQ(r.header("content-type"), "application/json;version=3.1");
    EXPECT_EQ(r.header("accept"), "application/problem+json; q=1.0, application/json; q=0.9");
    EXPECT_EQ(r.header("user-agent"), "visitpay-test/1");
    EXPECT_TRUE(std::regex_match(r.header("session-id"), uuid)) << r.header("session-id");
  }
  EXPECT_NE(seen[0].header("session-id"), seen[1].header("session-id"));

  const Json body = Json::parse(seen[0].body);
  ASSERT_TRUE(body.contains("paymentorder"));
  const Json& po = body["paymentorder"];
  EXPECT_EQ(po["operation"], "Purchase");
  EXPECT_EQ(po["currency"], "NOK");
  EXPECT_EQ(po["amount"], 150000);
  EXPECT_EQ(po["vatAmount"], 0);
  EXPECT_EQ(po["description"], "Konsultasjon");
  EXPECT_EQ(po["userAgent"], "visitpay-test/1");
  EXPECT_EQ(po["language"], "nb-NO");
  EXPECT_EQ(po["urls"]["hostUrls"], Json::array({"https://visitpay.example"}));
  EXPECT_EQ(po["urls"]["completeUrl"], "https://visitpay.example/paid");
  EXPECT_EQ(po["urls"]["cancelUrl"], "https://visitpay.example/cancelled");
  EXPECT_EQ(po["urls"]["callbackUrl"], "https://visitpay.example/v1/webhooks/swedbankpay");
  EXPECT_EQ(po["urls"]["termsOfServiceUrl"], "https://klinikk.example/vilkar");
  EXPECT_EQ(po["payeeInfo"]["payeeId"], "payee-123");
  EXPECT_EQ(po["payeeInfo"]["payeeReference"], "VP0001A");
  EXPECT_EQ(po["payeeInfo"]["payeeName"], "Klinikk AS");
  EXPECT_EQ(po["payeeInfo"]["orderReference"], "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  EXPECT_FALSE(po.contains("payer"));  // guest mode: no personal data
}

TEST_F(SwedbankPayTest, GetOrderExpandsPaidAndReadsACardAuthorization) {
  CannedServer server([](const MockRequest&) {
    Json paid{
        {"id", order_id() + "/paid"},  {"instrument", "CreditCard"},         {"number", 1234567890},
        {"payeeReference", "VP0001A"}, {"transactionType", "Authorization"}, {"amount", 150000}};
    Json ops = Json::array({operation("capture", "POST", "/psp/paymentorders/x/captures"),
                            operation("cancel", "POST", "/psp/paymentorders/x/cancellations")});
    return json_response(200, order_json(order_id(), "Paid", ops, paid, 150000));
  });
  SwedbankPayProvider provider(client_, config_for(server.base_url()));
  auto order = runner_.run([&] { return provider.get_order(order_id()); });
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(order->status, ports::PaymentStatus::paid);
  EXPECT_EQ(order->instrument, "CreditCard");
  EXPECT_EQ(order->transaction_type, ports::TransactionType::authorization);
  EXPECT_EQ(order->remaining_capture_amount, 150000);
  EXPECT_TRUE(order->can_capture);
  EXPECT_FALSE(order->can_abort);

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].path, order_id());
  EXPECT_EQ(seen[0].query.at("$expand"), "paid,payeeinfo,financialtransactions");
  EXPECT_EQ(seen[0].header("accept"),
            "application/problem+json; q=1.0, application/json;version=3.1; q=0.9");
  EXPECT_EQ(seen[0].header("authorization"), "Bearer test-token");
  EXPECT_FALSE(seen[0].header("session-id").empty());
}

TEST_F(SwedbankPayTest, GetOrderReadsVippsAuthorizationAndSwishSale) {
  CannedServer server([](const MockRequest& request) {
    const bool vipps = request.path.ends_with("vipps");
    Json paid{{"instrument", vipps ? "Vipps" : "Swish"},
              {"transactionType", vipps ? "Authorization" : "Sale"},
              {"amount", 150000}};
    Json ops = vipps ? Json::array({operation("capture", "POST", request.path + "/captures")})
                     : Json::array();
    return json_response(200, order_json(request.path, "Paid", ops, paid, vipps ? 150000 : 0));
  });
  SwedbankPayProvider provider(client_, config_for(server.base_url()));
  const std::string vipps_id = "/psp/paymentorders/vipps";
  const std::string swish_id = "/psp/paymentorders/swish";
  auto vipps = runner_.run([&] { return provider.get_order(vipps_id); });
  auto swish = runner_.run([&] { return provider.get_order(swish_id); });
  ASSERT_TRUE(vipps);
  ASSERT_TRUE(swish);
  EXPECT_EQ(vipps->instrument, "Vipps");
  EXPECT_EQ(vipps->transaction_type, ports::TransactionType::authorization);
  EXPECT_TRUE(vipps->can_capture);
  EXPECT_EQ(swish->instrument, "Swish");
  EXPECT_EQ(swish->transaction_type, ports::TransactionType::sale);
  EXPECT_FALSE(swish->can_capture);
  EXPECT_EQ(swish->remaining_capture_amount, 0);
}

TEST_F(SwedbankPayTest, AbortPatchesTheHrefTheOrderOffers) {
  // The abort href deliberately differs from the order id: only a client that follows
  // operations[].href finds it.
  const std::string abort_path = "/psp/paymentorders/opaque/abort-here-7f3a";
  std::string base;
  CannedServer server([&](const MockRequest& request) {
    if (request.method == "GET") {
      Json ops = Json::array({operation("abort", "PATCH", base + abort_path),
                              operation("redirect-checkout", "GET", "https://ecom.example/c")});
      return json_response(200, order_json(order_id(), "Initialized", ops));
    }
    if (request.method == "PATCH" && request.path == abort_path) {
      return json_response(200, order_json(order_id(), "Aborted", Json::array()));
    }
    return problem_response(404, "notfound", {});
  });
  base = server.base_url();
  SwedbankPayProvider provider(client_, config_for(server.base_url()));
  auto order = runner_.run([&] { return provider.abort_order(order_id()); });
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(order->status, ports::PaymentStatus::aborted);

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].path, order_id());
  EXPECT_EQ(seen[1].method, "PATCH");
  EXPECT_EQ(seen[1].path, abort_path);
  EXPECT_EQ(seen[1].header("content-type"), "application/json;version=3.1");
  EXPECT_EQ(Json::parse(seen[1].body), Json::parse(R"({"paymentorder":{"operation":"Abort",
                             "abortReason":"CancelledByConsumer"}})"));
}

TEST_F(SwedbankPayTest, AbortWithoutAnAbortOperationIsAConflict) {
  CannedServer server([](const MockRequest&) {
    Json ops = Json::array({operation("capture", "POST", "/psp/paymentorders/x/captures")});
    return json_response(200, order_json(order_id(), "Paid", ops));
  });
  SwedbankPayProvider provider(client_, config_for(server.base_url()));
  auto order = runner_.run([&] { return provider.abort_order(order_id()); });
  ASSERT_FALSE(order);
  EXPECT_EQ(order.error().code, ErrorCode::provider_conflict);
  EXPECT_NE(order.error().detail.find("Paid"), std::string::npos) << order.error().detail;
  EXPECT_EQ(server.count(), 1u);  // no PATCH was attempted
}

TEST_F(SwedbankPayTest, AbortRefusedByTheProviderIsAConflict) {
  // E.g. the payer is in the Vipps app: a 409, or a problem whose type names the state.
  std::atomic<int> patches{0};
  CannedServer server([&](const MockRequest& request) {
    if (request.method == "GET") {
      Json ops = Json::array({operation("abort", "PATCH", order_id())});
      return json_response(200, order_json(order_id(), "Initialized", ops));
    }
    return ++patches == 1 ? problem_response(409, "conflict", {})
                          : problem_response(403, "operationnotallowed", {});
  });
  SwedbankPayProvider provider(client_, config_for(server.base_url()));
  for (int i = 0; i < 2; ++i) {
    auto order = runner_.run([&] { return provider.abort_order(order_id()); });
    ASSERT_FALSE(order);
    EXPECT_EQ(order.error().code, ErrorCode::provider_conflict) << order.error().detail;
  }
  EXPECT_EQ(patches.load(), 2);
}

TEST_F(SwedbankPayTest, OperationHrefsOffTheApiHostAreNotFollowed) {
  CannedServer server([](const MockRequest&) {
    Json ops = Json::array({operation("abort", "PATCH", "https://elsewhere.example/steal")});
    return json_response(200, order_json(order_id(), "Initialized", ops));
  });
  SwedbankPayProvider provider(client_, config_for(server.base_url()));
  auto order = runner_.run([&] { return provider.abort_order(order_id()); });
  ASSERT_FALSE(order);
  EXPECT_EQ(order.error().code, ErrorCode::provider_rejected);
  EXPECT_EQ(server.count(), 1u);
}

TEST_F(SwedbankPayTest, DuplicatePayeeReferenceIsARefusalAndTheInstanceIsNeverFollowed) {
  // Even a problem whose instance looks like an order: Swedbank Pay documents `instance` as a
  // trace id for its support (providers.md §9), so nothing is read from it.
  const std::string existing = "/psp/paymentorders/0b4c5e1a-0000-4000-8000-000000000001";
  CannedServer server([&](const MockRequest&) {
    return problem_response(
        409, "inputerror",
        {{"paymentorder.payeeInfo.payeeReference", "The payeeReference is already in use"}},
        existing);
  });
  SwedbankPayProvider provider(client_, config_for(server.base_url()));
  const auto request = order_request();
  auto order = runner_.run([&] { return provider.create_order(request); });
  ASSERT_FALSE(order);
  EXPECT_EQ(order.error().code, ErrorCode::provider_conflict);
  EXPECT_NE(order.error().detail.find("paymentorder.payeeInfo.payeeReference"), std::string::npos);
  EXPECT_EQ(server.count(), 1u);  // no GET of the "instance"
}

TEST_F(SwedbankPayTest, GetReadsThePayeeReferenceTheOrderWasCreatedWith) {
  CannedServer server([](const MockRequest& request) {
    Json body = order_json(request.path, "Initialized", Json::array());
    body["paymentOrder"]["payeeInfo"] = {{"id", request.path + "/payeeinfo"},
                                         {"payeeId", "payee-123"},
                                         {"payeeReference", "PO0000000000000000000000000007"}};
    return json_response(200, body);
  });
  SwedbankPayProvider provider(client_, config_for(server.base_url()));
  auto order = runner_.run([&] { return provider.get_order(order_id()); });
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(order->payee_reference, "PO0000000000000000000000000007");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].query.at("$expand"), "paid,payeeinfo,financialtransactions");
}

TEST_F(SwedbankPayTest, CreateFailuresAreClassifiedAndNeverRetried) {
  std::atomic<int> mode{0};
  CannedServer server([&](const MockRequest&) {
    switch (mode.load()) {
      case 0:
        return problem_response(500, "systemerror", {});
      case 1:
        return problem_response(502, "badgateway", {});
      case 2: {
        auto response = problem_response(429, "velocitycheck", {});
        response.headers.emplace_back("Retry-After", "7");
        return response;
      }
      case 3:
        return problem_response(400, "inputerror",
                                {{"paymentorder.description", "'Ola Nordmann' is too long"}});
      case 4:
        return problem_response(401, "unauthorized", {});
      case 5: {
        MockResponse response;
        response.body = R"({"paymentOrder": {"id": "/psp/pay)";
        return response;
      }
      case 6: {
        MockResponse response;
        response.delay = 800ms;
        return response;
      }
      default: {
        MockResponse response;
        response.drop_connection = true;
        return response;
      }
    }
  });
  auto config = config_for(server.base_url());
  config.timeout = 250ms;
  SwedbankPayProvider provider(client_, config);
  const auto request = order_request();
  auto attempt = [&](int m) {
    mode = m;
    const auto before = server.count();
    auto result = runner_.run([&] { return provider.create_order(request); });
    EXPECT_EQ(server.count(), before + 1) << "mode " << m;  // a single attempt
    return result;
  };

  // A 5xx says nothing about whether the order was made: outcome unknown (the caller's next
  // attempt uses a new payeeReference).
  for (int m : {0, 1}) {
    auto r = attempt(m);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::provider_outcome_unknown) << m;
    EXPECT_FALSE(r.error().retry_after) << m;
  }
  auto throttled = attempt(2);
  ASSERT_FALSE(throttled);
  EXPECT_EQ(throttled.error().code, ErrorCode::provider_unavailable);
  EXPECT_EQ(throttled.error().retry_after, std::chrono::milliseconds(7000));

  auto invalid = attempt(3);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, ErrorCode::provider_rejected);
  EXPECT_NE(invalid.error().detail.find("HTTP 400"), std::string::npos);
  EXPECT_NE(invalid.error().detail.find("inputerror"), std::string::npos);
  EXPECT_NE(invalid.error().detail.find("paymentorder.description"), std::string::npos);
  EXPECT_EQ(invalid.error().detail.find("Ola"), std::string::npos);  // never values

  auto unauthorized = attempt(4);
  ASSERT_FALSE(unauthorized);
  EXPECT_EQ(unauthorized.error().code, ErrorCode::provider_rejected);

  // No usable answer (unreadable body, timeout, dropped connection): the order may exist.
  for (int m : {5, 6, 7}) {
    auto r = attempt(m);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::provider_outcome_unknown) << m;
  }
}

TEST_F(SwedbankPayTest, GetOrderRetriesServerErrorsButNotNotFound) {
  std::atomic<int> calls{0};
  CannedServer server([&](const MockRequest& request) {
    if (request.path.ends_with("missing")) return problem_response(404, "notfound", {});
    if (++calls < 3) return problem_response(503, "systemerror", {});
    return json_response(200, order_json(order_id(), "Initialized", Json::array()));
  });
  SwedbankPayProvider provider(client_, config_for(server.base_url()));
  auto order = runner_.run([&] { return provider.get_order(order_id()); });
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(calls.load(), 3);

  const std::string missing_id = "/psp/paymentorders/missing";
  auto missing = runner_.run([&] { return provider.get_order(missing_id); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::provider_rejected);
  EXPECT_EQ(server.count(), 4u);

  const std::string bogus_id = "https://elsewhere/x";
  auto bogus = runner_.run([&] { return provider.get_order(bogus_id); });
  ASSERT_FALSE(bogus);
  EXPECT_EQ(server.count(), 4u);
}

TEST_F(SwedbankPayTest, CapturePostsToTheOfferedHrefThenReadsTheOrderAgain) {
  const std::string capture_path = "/psp/paymentorders/opaque/captures-7f3a";
  std::atomic<bool> captured{false};
  CannedServer server([&](const MockRequest& request) {
    Json paid{{"instrument", "Vipps"}, {"transactionType", "Authorization"}, {"amount", 150000}};
    if (request.method == "POST") {
      captured = true;
      return json_response(200, Json{{"capture", {{"id", "c1"}}}});
    }
    Json ops = captured ? Json::array() : Json::array({operation("capture", "POST", capture_path)});
    return json_response(200, order_json(order_id(), "Paid", ops, paid, captured ? 0 : 150000));
  });
  SwedbankPayProvider provider(client_, config_for(server.base_url()));
  ports::CaptureRequest capture;
  capture.payee_reference = "VP0001C";
  capture.amount = 150000;
  capture.vat_amount = 0;
  capture.description = "Konsultasjon";
  auto order = runner_.run([&] { return provider.capture(order_id(), capture); });
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(order->remaining_capture_amount, 0);
  EXPECT_FALSE(order->can_capture);

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[1].method, "POST");
  EXPECT_EQ(seen[1].path, capture_path);
  EXPECT_EQ(seen[1].header("content-type"), "application/json;version=3.1");
  EXPECT_EQ(Json::parse(seen[1].body),
            Json::parse(R"({"transaction":{"description":"Konsultasjon","amount":150000,
                            "vatAmount":0,"payeeReference":"VP0001C"}})"));
  EXPECT_EQ(seen[2].method, "GET");

  // Nothing left to capture: the order offers no capture operation any more.
  auto again = runner_.run([&] { return provider.capture(order_id(), capture); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::provider_conflict);
}

TEST_F(SwedbankPayTest, ReversalPostsItsOwnReferenceAmountAndVatToTheOfferedHref) {
  const std::string reversal_path = "/psp/paymentorders/opaque/reversals-9c1e";
  std::atomic<bool> reversed{false};
  CannedServer server([&](const MockRequest& request) {
    Json paid{{"instrument", "CreditCard"}, {"transactionType", "Authorization"}};
    if (request.method == "POST") {
      reversed = true;
      return json_response(200, Json{{"reversal", {{"id", "r1"}}}});
    }
    Json ops =
        reversed ? Json::array() : Json::array({operation("reversal", "POST", reversal_path)});
    Json body = order_json(order_id(), reversed ? "Reversed" : "Paid", ops, paid);
    body["paymentOrder"]["remainingReversalAmount"] = reversed ? 0 : 150000;
    Json list = Json::array({{{"id", order_id() + "/financialtransactions/c1"},
                              {"type", "Capture"},
                              {"payeeReference", "CP1"}}});
    if (reversed) {
      list.push_back({{"id", order_id() + "/financialtransactions/r1"},
                      {"type", "Reversal"},
                      {"payeeReference", "RV1"}});
    }
    body["paymentOrder"]["financialTransactions"] = {{"id", order_id() + "/financialtransactions"},
                                                     {"financialTransactionsList", list}};
    return json_response(200, body);
  });
  SwedbankPayProvider provider(client_, config_for(server.base_url()));
  ports::ReversalRequest reversal{"RV1", 150000, 30000, "Refusjon"};
  auto order = runner_.run([&] { return provider.reverse(order_id(), reversal); });
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(order->status, ports::PaymentStatus::reversed);
  ASSERT_EQ(order->transactions.size(), 2u);
  EXPECT_EQ(order->transactions[1].payee_reference, "RV1");
  EXPECT_EQ(order->transactions[1].id, order_id() + "/financialtransactions/r1");

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].query.at("$expand"), "paid,payeeinfo,financialtransactions");
  EXPECT_EQ(seen[1].path, reversal_path);
  EXPECT_EQ(Json::parse(seen[1].body),
            Json::parse(R"({"transaction":{"description":"Refusjon","amount":150000,
                            "vatAmount":30000,"payeeReference":"RV1"}})"));

  // Asked again (a retry after a lost answer): the order lists RV1, nothing is sent.
  auto again = runner_.run([&] { return provider.reverse(order_id(), reversal); });
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_EQ(server.requests().size(), 4u);
  EXPECT_EQ(server.requests().back().method, "GET");
}

TEST_F(SwedbankPayTest, CancelSendsNoAmountAndARefusalAfterItLandedIsSuccess) {
  const std::string cancel_path = "/psp/paymentorders/opaque/cancellations-1";
  std::atomic<int> posts{0};
  CannedServer server([&](const MockRequest& request) {
    Json paid{{"instrument", "Vipps"}, {"transactionType", "Authorization"}};
    if (request.method == "POST") {
      ++posts;
      // The cancel was carried out, but this answer is a problem (what a resend of a used
      // payeeReference answers is undocumented).
      return json_response(
          409, Json{{"type", "https://api.payex.com/psp/errordetail/inputerror"}, {"status", 409}},
          "application/problem+json");
    }
    const bool done = posts > 0;
    Json ops = done ? Json::array() : Json::array({operation("cancel", "POST", cancel_path)});
    Json body = order_json(order_id(), done ? "Cancelled" : "Paid", ops, paid, 150000);
    Json list = Json::array();
    if (done) list.push_back({{"id", "x1"}, {"type", "Cancellation"}, {"payeeReference", "CN1"}});
    body["paymentOrder"]["financialTransactions"] = {{"financialTransactionsList", list}};
    return json_response(200, body);
  });
  SwedbankPayProvider provider(client_, config_for(server.base_url()));
  ports::CancelRequest cancel{"CN1", "Kansellert betaling"};
  auto order = runner_.run([&] { return provider.cancel(order_id(), cancel); });
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(order->status, ports::PaymentStatus::cancelled);
  const auto seen = server.requests();
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(Json::parse(seen[1].body),
            Json::parse(R"({"transaction":{"description":"Kansellert betaling",
                            "payeeReference":"CN1"}})"));
}

// ---- LINK Mobility ---------------------------------------------------------------------------

using sms::linkmobility::LinkMobilityConfig;
using sms::linkmobility::LinkMobilitySmsGateway;
using sms::linkmobility::parse_delivery_report;

class LinkMobilityTest : public ::testing::Test {
 protected:
  static LinkMobilityConfig config_for(const std::string& base_url) {
    LinkMobilityConfig config;
    config.base_url = base_url;
    config.username = "linkuser";
    config.password = "s3cret!";
    config.source = "Klinikk";
    config.platform_id = "COMMON_API";
    config.platform_partner_id = "12345";
    config.delivery_report_gate = "gate-1";
    config.timeout = 2s;
    return config;
  }

  static ports::SmsMessage message() {
    ports::SmsMessage m;
    m.to = "+4741234567";
    m.text = "Betal her: https://ecom.example/c/1";
    m.reference = "outbox-42";
    return m;
  }

  IoRunner runner_;
  http::HttpClient client_{runner_.executor()};
};

TEST_F(LinkMobilityTest, SendUsesBasicAuthAndTheDocumentedFields) {
  CannedServer server([](const MockRequest&) {
    return json_response(200, Json{{"messageId", "fPJFgT+ZqikAAAFXlRC29Rfq"},
                                   {"resultCode", 1005},
                                   {"description", "Queued"},
                                   {"smsCount", 2}});
  });
  LinkMobilitySmsGateway gateway(client_, config_for(server.base_url()));
  const auto m = message();
  auto accepted = runner_.run([&] { return gateway.send(m); });
  ASSERT_TRUE(accepted) << accepted.error().detail;
  EXPECT_EQ(accepted->message_id, "fPJFgT+ZqikAAAFXlRC29Rfq");
  EXPECT_EQ(accepted->segments, 2);

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].path, "/sms/send");
  EXPECT_EQ(seen[0].header("authorization"), "Basic bGlua3VzZXI6czNjcmV0IQ==");
  EXPECT_EQ(seen[0].header("content-type"), "application/json");
  const Json body = Json::parse(seen[0].body);
  EXPECT_EQ(body["source"], "Klinikk");
  EXPECT_EQ(body["sourceTON"], "ALPHANUMERIC");
  EXPECT_EQ(body["destination"], "+4741234567");
  EXPECT_EQ(body["userData"], "Betal her: https://ecom.example/c/1");
  EXPECT_EQ(body["platformId"], "COMMON_API");
  EXPECT_EQ(body["platformPartnerId"], "12345");
  EXPECT_EQ(body["refId"], "outbox-42");
  EXPECT_EQ(body["useDeliveryReport"], true);
  EXPECT_EQ(body["deliveryReportGates"], Json::array({"gate-1"}));
  // LINK's default is a 204 without the messageId, and smsCount only when asked (PDF pp. 9-11).
  EXPECT_EQ(body["ignoreResponse"], false);
  EXPECT_EQ(body["customParameters"], (Json{{"replySmsCount", "true"}}));
}

TEST_F(LinkMobilityTest, GatesAreOmittedWhenNoneIsConfigured) {
  CannedServer server([](const MockRequest&) {
    return json_response(200, Json{{"messageId", "m2"}, {"resultCode", 1000}});
  });
  auto config = config_for(server.base_url());
  config.delivery_report_gate.clear();
  config.username = "ab";
  config.password = "c";
  LinkMobilitySmsGateway gateway(client_, config);
  const auto m = message();
  auto accepted = runner_.run([&] { return gateway.send(m); });
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->message_id, "m2");
  EXPECT_EQ(accepted->segments, 0);  // no smsCount: the service keeps its own count
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_FALSE(Json::parse(seen[0].body).contains("deliveryReportGates"));
  // Without a gate no reports may be asked for (PDF p. 7).
  EXPECT_EQ(Json::parse(seen[0].body)["useDeliveryReport"], false);
  EXPECT_EQ(seen[0].header("authorization"), "Basic YWI6Yw==");
}

TEST_F(LinkMobilityTest, ResultCodesAndHttpErrorsAreClassifiedWithoutRetries) {
  std::atomic<int> mode{0};
  CannedServer server([&](const MockRequest&) {
    switch (mode.load()) {
      case 0:
        return json_response(200, Json{{"resultCode", 3}, {"description", "Throttled"}});
      case 1:
        return json_response(200, Json{{"resultCode", 2106}, {"description", "+4741234567"}});
      case 2:
        return json_response(500, Json{{"error", "internal"}});
      case 3: {
        auto response = json_response(429, Json::object());
        response.headers.emplace_back("Retry-After", "2");
        return response;
      }
      case 4:
        return json_response(401, Json{{"status", 106100},
                                       {"description", "Invalid authentication"},
                                       {"translatedDescription", "Invalid authentication"}});
      case 5:
        return json_response(400, Json{{"resultCode", 2105}});
      case 7: {
        MockResponse response;
        response.status = 204;
        response.content_type.clear();
        return response;
      }
      default: {
        MockResponse response;
        response.body = "not json";
        return response;
      }
    }
  });
  LinkMobilitySmsGateway gateway(client_, config_for(server.base_url()));
  const auto m = message();
  auto attempt = [&](int which) {
    mode = which;
    const auto before = server.count();
    auto result = runner_.run([&] { return gateway.send(m); });
    EXPECT_EQ(server.count(), before + 1) << "mode " << which;  // single attempt
    if (!result) {
      EXPECT_EQ(result.error().detail.find("4741234567"), std::string::npos);  // no phone number
    }
    return result;
  };

  auto throttled = attempt(0);
  ASSERT_FALSE(throttled);
  EXPECT_EQ(throttled.error().code, ErrorCode::provider_unavailable);

  auto unknown_subscriber = attempt(1);
  ASSERT_FALSE(unknown_subscriber);
  EXPECT_EQ(unknown_subscriber.error().code, ErrorCode::provider_rejected);
  EXPECT_NE(unknown_subscriber.error().detail.find("2106"), std::string::npos);

  auto server_error = attempt(2);
  ASSERT_FALSE(server_error);
  EXPECT_EQ(server_error.error().code, ErrorCode::provider_unavailable);

  auto too_many = attempt(3);
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().code, ErrorCode::provider_unavailable);
  EXPECT_EQ(too_many.error().retry_after, std::chrono::milliseconds(2000));

  // Our credentials, not the message: never a reason to give up on the payer.
  auto unauthorized = attempt(4);
  ASSERT_FALSE(unauthorized);
  EXPECT_EQ(unauthorized.error().code, ErrorCode::provider_misconfigured);
  EXPECT_EQ(unauthorized.error().provider_code, "106100");

  auto blocked = attempt(5);
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().code, ErrorCode::provider_rejected);
  EXPECT_NE(blocked.error().detail.find("2105"), std::string::npos);

  // A 2xx without a readable result: the SMS may have been sent.
  auto garbled = attempt(6);
  ASSERT_FALSE(garbled);
  EXPECT_EQ(garbled.error().code, ErrorCode::provider_outcome_unknown);

  // "Sent, no response" (ignoreResponse): taken, but without the id its reports carry.
  auto no_content = attempt(7);
  ASSERT_FALSE(no_content);
  EXPECT_EQ(no_content.error().code, ErrorCode::provider_outcome_unknown);
}

TEST(LinkMobilityDeliveryReport, ParsesTheDocumentedFields) {
  auto report = parse_delivery_report(R"({
      "refId": "outbox-42", "id": "fPJFgT+ZqikAAAFXlRC29Rfq", "operator": "no.telenor",
      "sendTimestamp": "2026-03-01T10:00:00Z", "timestamp": "2026-03-01T10:00:05Z",
      "resultCode": 1001, "operatorResultCode": "000", "segments": 2,
      "gateCustomParameters": {}, "customParameters": {"x": 1}})");
  ASSERT_TRUE(report) << report.error().detail;
  EXPECT_EQ(report->message_id, "fPJFgT+ZqikAAAFXlRC29Rfq");
  EXPECT_EQ(report->ref_id, "outbox-42");
  EXPECT_EQ(report->result_code, 1001);
  EXPECT_EQ(report->segments, 2);
  EXPECT_EQ(report->timestamp, "2026-03-01T10:00:05Z");

  auto as_string = parse_delivery_report(R"({"id":"m1","resultCode":"1005"})");
  ASSERT_TRUE(as_string);
  EXPECT_EQ(as_string->result_code, 1005);
  EXPECT_EQ(as_string->segments, 0);
  EXPECT_EQ(as_string->part, 0);

  // One report per part of a multi-part message: "<id>$<n>" (PDF pp. 22-23).
  auto part = parse_delivery_report(R"({"id":"fPJFgT+ZqikAAAFXlRC29Rfq$1","resultCode":1001,
                                        "refId":null,"segments":2})");
  ASSERT_TRUE(part) << part.error().detail;
  EXPECT_EQ(part->message_id, "fPJFgT+ZqikAAAFXlRC29Rfq");
  EXPECT_EQ(part->part, 1);
  EXPECT_EQ(part->ref_id, "");
  // A suffix that is no part number keeps the id whole (it then matches nothing sent).
  auto odd = parse_delivery_report(R"({"id":"abc$x","resultCode":1001})");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->message_id, "abc$x");
  EXPECT_EQ(odd->part, 0);
}

TEST(LinkMobilityDeliveryReport, NamesTheBadField) {
  struct Case {
    const char* json;
    const char* pointer;
  };
  const Case cases[] = {
      {R"({"resultCode":1001})", "/id"},
      {R"({"id":42,"resultCode":1001})", "/id"},
      {R"({"id":"m1"})", "/resultCode"},
      {R"({"id":"m1","resultCode":"soon"})", "/resultCode"},
      {R"({"id":"m1","resultCode":1001,"segments":-1})", "/segments"},
      {R"({"id":"m1","resultCode":1001,"refId":7})", "/refId"},
  };
  for (const auto& c : cases) {
    auto report = parse_delivery_report(c.json);
    ASSERT_FALSE(report) << c.json;
    EXPECT_EQ(report.error().code, ErrorCode::validation_failed) << c.json;
    ASSERT_EQ(report.error().fields.size(), 1u) << c.json;
    EXPECT_EQ(report.error().fields[0].pointer, c.pointer) << c.json;
    EXPECT_NE(report.error().detail.find(c.pointer), std::string::npos) << c.json;
  }
  auto garbage = parse_delivery_report("{not json");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code, ErrorCode::malformed_json);
  auto array = parse_delivery_report("[]");
  ASSERT_FALSE(array);
  EXPECT_EQ(array.error().code, ErrorCode::validation_failed);
}

}  // namespace
}  // namespace visitpay::adapters
