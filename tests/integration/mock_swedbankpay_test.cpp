// The mock Swedbank Pay over real HTTP: the v3.1 wire protocol (create, GET with $expand=paid,
// abort, capture/cancel/reversal), the payer page, v3.1 callbacks with retries, and every
// injected fault. No database: the mock is what the adapter and service tests stand on.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "http_client.hpp"
#include "mocks/common/mock_http_server.hpp"
#include "mocks/swedbankpay/swedbankpay_mock.hpp"

namespace visitpay::testing {
namespace {

using Json = nlohmann::json;
using mocks::MockHttpServer;
using mocks::MockRequest;
using mocks::MockResponse;
using mocks::SwedbankPayMock;
using mocks::SwedbankPayMockOptions;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kToken = "secret-token";
constexpr const char* kV31 = "application/json;version=3.1";

// ---- Helpers ----------------------------------------------------------------------------------

// Records the callbacks POSTed to it; answers `fail_status` to the first `failures` of them.
class CallbackReceiver {
 public:
  struct Received {
    std::string body;
    std::string content_type;
    std::map<std::string, std::string> headers;
    SteadyClock::time_point at;
  };

  void fail_first(int failures, int status = 500) {
    std::lock_guard lock(mutex_);
    failures_ = failures;
    fail_status_ = status;
  }
  void answer_after(std::chrono::milliseconds delay) {
    std::lock_guard lock(mutex_);
    delay_ = delay;
  }
  // Runs inside the receiver's handler before it answers (e.g. to GET the order right away).
  void on_callback(std::function<void(const MockRequest&)> hook) {
    std::lock_guard lock(mutex_);
    hook_ = std::move(hook);
  }
  std::string url() const { return server_.base_url() + "/callbacks/swedbankpay"; }

  // Waits until at least `n` callbacks arrived (or `timeout` passed) and returns all of them.
  std::vector<Received> wait_for(std::size_t n, std::chrono::milliseconds timeout = 3s) {
    std::unique_lock lock(mutex_);
    arrived_.wait_for(lock, timeout, [&] { return received_.size() >= n; });
    return received_;
  }
  std::vector<Received> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  MockResponse handle(const MockRequest& request) {
    std::function<void(const MockRequest&)> hook;
    {
      std::lock_guard lock(mutex_);
      hook = hook_;
    }
    if (hook) hook(request);
    MockResponse response;
    response.content_type = "text/plain";
    {
      std::lock_guard lock(mutex_);
      received_.push_back(
          {request.body, request.header("content-type"), request.headers, SteadyClock::now()});
      if (failures_ > 0) {
        --failures_;
        response.status = fail_status_;
      }
      response.delay = delay_;
    }
    arrived_.notify_all();
    return response;
  }

  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<Received> received_;
  int failures_ = 0;
  int fail_status_ = 500;
  std::chrono::milliseconds delay_{0};
  std::function<void(const MockRequest&)> hook_;
  MockHttpServer server_{"127.0.0.1", 0, [this](const MockRequest& r) { return handle(r); }};
};

Json order_request(const std::string& payee_reference, const std::string& callback_url = {},
                   std::int64_t amount = 65000) {
  Json urls = {{"hostUrls", {"http://127.0.0.1:8080"}},
               {"completeUrl", "http://127.0.0.1:8080/betalt"},
               {"cancelUrl", "http://127.0.0.1:8080/avbrutt"}};
  if (!callback_url.empty()) urls["callbackUrl"] = callback_url;
  return {{"paymentorder",
           {{"operation", "Purchase"},
            {"currency", "NOK"},
            {"amount", amount},
            {"vatAmount", 0},
            {"description", "Legetime 12. mars"},
            {"userAgent", "visitpay/0.1"},
            {"language", "nb-NO"},
            {"urls", urls},
            {"payeeInfo",
             {{"payeeId", "5cabf558-5283-482f-b252-4d58e06f6f3b"},
              {"payeeReference", payee_reference},
              {"payeeName", "Fjordlegen AS"},
              {"orderReference", "session-" + payee_reference}}}}}};
}

std::string header(const HttpReply& reply, const std::string& lower_case_name) {
  const auto it = reply.headers.find(lower_case_name);
  return it == reply.headers.end() ? std::string() : it->second;
}

std::string path_of(const std::string& url) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

std::string form_encode(const std::map<std::string, std::string>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

const Json* operation(const Json& body, const std::string& rel) {
  for (const auto& op : body.at("operations")) {
    if (op.at("rel") == rel) return &op;
  }
  return nullptr;
}

std::set<std::string> rels(const Json& body) {
  std::set<std::string> out;
  for (const auto& op : body.at("operations"))
    out.insert(op.at("rel").get<std::string>());
  return out;
}

std::set<std::string> problem_names(const Json& problem) {
  std::set<std::string> out;
  for (const auto& p : problem.at("problems"))
    out.insert(p.at("name").get<std::string>());
  return out;
}

// Polls `condition` until it holds or `timeout` passes.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 3s) {
  const auto deadline = SteadyClock::now() + timeout;
  while (!condition()) {
    if (SteadyClock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class MockSwedbankPay : public ::testing::Test {
 protected:
  static SwedbankPayMockOptions options() {
    SwedbankPayMockOptions o;
    o.token = kToken;
    return o;
  }

  HttpReply psp(const std::string& method, const std::string& target, const Json& body = nullptr,
                std::map<std::string, std::string> headers = {}) {
    if (!headers.contains("Authorization"))
      headers["Authorization"] = std::string("Bearer ") + kToken;
    if (method != "GET" && !headers.contains("Content-Type")) headers["Content-Type"] = kV31;
    return http_request(mock_.port(), method, path_of(target), body.is_null() ? "" : body.dump(),
                        headers);
  }
  HttpReply create(const std::string& payee_reference, const std::string& callback_url = {},
                   std::int64_t amount = 65000) {
    return psp("POST", "/psp/paymentorders", order_request(payee_reference, callback_url, amount));
  }
  // Creates an order and returns the response body.
  Json created(const std::string& payee_reference, const std::string& callback_url = {},
               std::int64_t amount = 65000) {
    const auto reply = create(payee_reference, callback_url, amount);
    EXPECT_EQ(reply.status, 200) << reply.body;
    return Json::parse(reply.body);
  }
  Json get(const std::string& id, const std::string& query = "") {
    const auto reply = psp("GET", id + query);
    EXPECT_EQ(reply.status, 200) << reply.body;
    return Json::parse(reply.body);
  }
  HttpReply abort(const std::string& id) {
    return psp(
        "PATCH", id,
        {{"paymentorder", {{"operation", "Abort"}, {"abortReason", "CancelledByConsumer"}}}});
  }
  HttpReply transaction(const Json& order, const std::string& rel, std::int64_t amount,
                        const std::string& payee_reference) {
    const Json* op = operation(order, rel);
    const std::string href = op != nullptr ? op->at("href").get<std::string>()
                                           : order.at("paymentOrder").at("id").get<std::string>() +
                                                 (rel == "capture" ? "/captures" : "/reversals");
    Json t = {{"description", "Legetime"}, {"payeeReference", payee_reference}};
    if (amount > 0) {
      t["amount"] = amount;
      t["vatAmount"] = 0;
    }
    return psp("POST", href, {{"transaction", t}});
  }
  HttpReply payer_post(const std::string& href, const std::map<std::string, std::string>& form) {
    return http_request(mock_.port(), "POST", path_of(href), form_encode(form),
                        {{"Content-Type", "application/x-www-form-urlencoded"}});
  }

  SwedbankPayMock mock_{options()};
};

// ---- Create -----------------------------------------------------------------------------------

TEST_F(MockSwedbankPay, CreateReturnsInitializedOrderWithOperationsOnTheMockHost) {
  const auto reply = create("VP1001");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.headers.at("content-type").find("version=3.1"), std::string::npos);
  EXPECT_EQ(reply.headers.at("api-supported-versions"), "3.1");
  const Json body = Json::parse(reply.body);
  const Json& po = body.at("paymentOrder");
  const std::string id = po.at("id");
  EXPECT_EQ(id.rfind("/psp/paymentorders/", 0), 0U);
  EXPECT_EQ(po.at("status"), "Initialized");
  EXPECT_EQ(po.at("operation"), "Purchase");
  EXPECT_EQ(po.at("currency"), "NOK");
  EXPECT_EQ(po.at("amount"), 65000);
  EXPECT_EQ(po.at("vatAmount"), 0);
  EXPECT_EQ(po.at("initiatingSystemUserAgent"), "visitpay/0.1");
  EXPECT_EQ(po.at("language"), "nb-NO");
  EXPECT_EQ(po.at("availableInstruments"), Json({"CreditCard", "Vipps"}));
  EXPECT_EQ(po.at("implementation"), "PaymentsOnly");
  EXPECT_EQ(po.at("integration"), "Redirect");
  EXPECT_EQ(po.at("guestMode"), true);
  for (const char* sub : {"urls", "payeeInfo", "payer", "history", "failed", "aborted", "paid",
                          "cancelled", "reversed", "financialTransactions", "failedAttempts",
                          "postPurchaseFailedAttempts", "metadata"}) {
    EXPECT_EQ(po.at(sub).at("id").get<std::string>().rfind(id + "/", 0), 0U) << sub;
  }
  EXPECT_EQ(rels(body),
            (std::set<std::string>{"redirect-checkout", "view-checkout", "update-order", "abort"}));
  const Json* redirect = operation(body, "redirect-checkout");
  EXPECT_EQ((*redirect)["method"], "GET");
  EXPECT_EQ((*redirect)["contentType"], "text/html");
  EXPECT_EQ((*redirect)["href"].get<std::string>().rfind(mock_.base_url() + "/checkout/", 0), 0U);
  EXPECT_EQ((*operation(body, "abort"))["href"], mock_.base_url() + id);
  EXPECT_EQ((*operation(body, "abort"))["method"], "PATCH");
  EXPECT_EQ((*operation(body, "update-order"))["href"], mock_.base_url() + id);

  const auto orders = mock_.orders();
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(orders[0].id, id);
  EXPECT_EQ(orders[0].status, "Initialized");
  EXPECT_EQ(orders[0].payee_reference, "VP1001");
  EXPECT_EQ(orders[0].amount, 65000);
  EXPECT_EQ(mock_.create_calls(), 1U);
}

TEST_F(MockSwedbankPay, CreateStatusIsConfigurable) {
  auto o = options();
  o.create_status = 201;
  SwedbankPayMock mock(o);
  const auto reply =
      http_request(mock.port(), "POST", "/psp/paymentorders", order_request("VP1").dump(),
                   {{"Authorization", std::string("Bearer ") + kToken}, {"Content-Type", kV31}});
  EXPECT_EQ(reply.status, 201) << reply.body;
}

TEST_F(MockSwedbankPay, RejectsMissingOrWrongBearerToken) {
  for (const std::string auth : {"", "Bearer wrong", "Basic c2VjcmV0LXRva2Vu", "secret-token"}) {
    std::map<std::string, std::string> headers{{"Content-Type", kV31}};
    if (!auth.empty()) headers["Authorization"] = auth;
    const auto reply = http_request(mock_.port(), "POST", "/psp/paymentorders",
                                    order_request("VP2").dump(), headers);
    EXPECT_EQ(reply.status, 401) << auth;
    EXPECT_EQ(header(reply, "content-type").rfind("application/problem+json", 0), 0U);
    const Json problem = Json::parse(reply.body);
    EXPECT_EQ(problem.at("status"), 401);
    EXPECT_EQ(
        problem.at("type").get<std::string>().rfind("https://api.payex.com/psp/errordetail/", 0),
        0U);
  }
  EXPECT_EQ(psp("GET", "/psp/paymentorders/x", nullptr, {{"Authorization", "Bearer nope"}}).status,
            401);
  EXPECT_TRUE(mock_.orders().empty());
  EXPECT_EQ(mock_.create_calls(), 4U);  // counted even when rejected
}

TEST_F(MockSwedbankPay, RequiresTheVersion31ContentType) {
  for (const std::string type :
       {"application/json", "application/json;version=3.0", "text/plain", ""}) {
    const auto reply =
        psp("POST", "/psp/paymentorders", order_request("VP3"), {{"Content-Type", type}});
    EXPECT_EQ(reply.status, 400) << type;
    const Json problem = Json::parse(reply.body);
    EXPECT_EQ(problem.at("type"), "https://api.payex.com/psp/errordetail/paymentorders/inputerror");
    EXPECT_EQ(problem_names(problem), std::set<std::string>{"Content-Type"});
  }
  EXPECT_TRUE(mock_.orders().empty());
  // Spaces, case and extra parameters are tolerated.
  EXPECT_EQ(psp("POST", "/psp/paymentorders", order_request("VP3"),
                {{"Content-Type", "Application/JSON ; charset=utf-8 ; version = 3.1"}})
                .status,
            200);
}

TEST_F(MockSwedbankPay, ValidationReportsOneProblemPerField) {
  Json body = order_request("VP-4");  // '-' is not allowed
  auto& po = body["paymentorder"];
  po.erase("amount");
  po.erase("userAgent");
  po["vatAmount"] = "0";
  po["description"] = std::string(41, 'x');
  po["urls"].erase("completeUrl");
  po["payeeInfo"].erase("payeeId");
  const auto reply = psp("POST", "/psp/paymentorders", body);
  ASSERT_EQ(reply.status, 400) << reply.body;
  EXPECT_EQ(reply.headers.at("content-type").rfind("application/problem+json", 0), 0U);
  const Json problem = Json::parse(reply.body);
  EXPECT_EQ(problem.at("type"), "https://api.payex.com/psp/errordetail/paymentorders/inputerror");
  EXPECT_EQ(problem.at("status"), 400);
  EXPECT_TRUE(problem.contains("title"));
  EXPECT_TRUE(problem.contains("detail"));
  EXPECT_TRUE(problem.contains("instance"));
  EXPECT_EQ(problem_names(problem),
            (std::set<std::string>{
                "PaymentOrder.Amount", "PaymentOrder.UserAgent", "PaymentOrder.VatAmount",
                "PaymentOrder.Description", "PaymentOrder.Urls.CompleteUrl",
                "PaymentOrder.PayeeInfo.PayeeId", "PaymentOrder.PayeeInfo.PayeeReference"}));
  for (const auto& p : problem.at("problems"))
    EXPECT_FALSE(p.at("description").empty());

  EXPECT_EQ(problem_names(Json::parse(psp("POST", "/psp/paymentorders", Json::object()).body)),
            std::set<std::string>{"PaymentOrder"});
  const auto invalid =
      http_request(mock_.port(), "POST", "/psp/paymentorders", "{\"paymentorder\":",
                   {{"Authorization", std::string("Bearer ") + kToken}, {"Content-Type", kV31}});
  EXPECT_EQ(invalid.status, 400);
  EXPECT_TRUE(mock_.orders().empty());
}

TEST_F(MockSwedbankPay, StrictModeRefusesACreateWithoutCallbackAndTermsUrls) {
  // Lenient: what providers.md §1.2 lists as required is enough.
  EXPECT_EQ(create("VPS1").status, 200);
  auto o = options();
  o.strict = true;
  SwedbankPayMock strict(o);
  const std::map<std::string, std::string> headers{
      {"Authorization", std::string("Bearer ") + kToken}, {"Content-Type", kV31}};
  auto reply = http_request(strict.port(), "POST", "/psp/paymentorders",
                            order_request("VPS2").dump(), headers);
  ASSERT_EQ(reply.status, 400) << reply.body;
  EXPECT_EQ(problem_names(Json::parse(reply.body)),
            (std::set<std::string>{"PaymentOrder.Urls.CallbackUrl",
                                   "PaymentOrder.Urls.TermsOfServiceUrl"}));
  EXPECT_TRUE(strict.orders().empty());
  // The documented required fields are refused in strict mode as well, each by name.
  Json body = order_request("VPS3", "http://127.0.0.1:9/cb");
  body["paymentorder"]["urls"]["termsOfServiceUrl"] = "https://klinikk.example/vilkar";
  body["paymentorder"].erase("language");
  body["paymentorder"]["urls"].erase("cancelUrl");
  reply = http_request(strict.port(), "POST", "/psp/paymentorders", body.dump(), headers);
  ASSERT_EQ(reply.status, 400) << reply.body;
  EXPECT_EQ(problem_names(Json::parse(reply.body)),
            (std::set<std::string>{"PaymentOrder.Language", "PaymentOrder.Urls.CancelUrl"}));
  body["paymentorder"]["language"] = "nb-NO";
  body["paymentorder"]["urls"]["cancelUrl"] = "http://127.0.0.1:8080/avbrutt";
  reply = http_request(strict.port(), "POST", "/psp/paymentorders", body.dump(), headers);
  EXPECT_EQ(reply.status, 200) << reply.body;
  ASSERT_EQ(strict.orders().size(), 1U);
}

TEST_F(MockSwedbankPay, DuplicatePayeeReferenceIsRejectedWithATraceIdAsInstance) {
  const std::string id = created("VP5").at("paymentOrder").at("id");
  const auto reply = create("VP5");
  ASSERT_EQ(reply.status, 409) << reply.body;
  const Json problem = Json::parse(reply.body);
  EXPECT_EQ(problem.at("type"), "https://api.payex.com/psp/errordetail/paymentorders/inputerror");
  EXPECT_NE(problem.at("detail").get<std::string>().find("payeeReference"), std::string::npos);
  // As documented (providers.md §9): a trace id for Swedbank Pay's support, not the order.
  const std::string instance = problem.at("instance");
  EXPECT_TRUE(std::regex_match(
      instance, std::regex(".*/psp/probleminstance/00-[0-9a-f]{32}-[0-9a-f]{16}-01")))
      << instance;
  EXPECT_EQ(reply.body.find(id.substr(id.rfind('/') + 1)), std::string::npos) << reply.body;
  ASSERT_EQ(mock_.orders().size(), 1U);
  EXPECT_EQ(mock_.orders()[0].creates_with_same_payee_reference, 2);
  EXPECT_EQ(mock_.create_calls(), 2U);

  auto o = options();
  o.duplicate_status = 400;
  SwedbankPayMock other(o);
  const std::map<std::string, std::string> headers{
      {"Authorization", std::string("Bearer ") + kToken}, {"Content-Type", kV31}};
  const auto body = order_request("VP5").dump();
  EXPECT_EQ(http_request(other.port(), "POST", "/psp/paymentorders", body, headers).status, 200);
  EXPECT_EQ(http_request(other.port(), "POST", "/psp/paymentorders", body, headers).status, 400);
}

// ---- GET and payment ------------------------------------------------------------------------

TEST_F(MockSwedbankPay, GetUnknownOrderIsNotFound) {
  const auto reply = psp("GET", "/psp/paymentorders/4f1b4b0e-0000-4000-8000-000000000000");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(Json::parse(reply.body).at("type"),
            "https://api.payex.com/psp/errordetail/paymentorders/notfound");
}

TEST_F(MockSwedbankPay, PaidByCardShowsAuthorizationWithExpandPaid) {
  const std::string id = created("VP6").at("paymentOrder").at("id");
  const Json before = get(id, "?$expand=paid");
  EXPECT_EQ(before.at("paymentOrder").at("paid"), Json({{"id", id + "/paid"}}));
  EXPECT_EQ(before.at("paymentOrder").at("remainingCaptureAmount"), 0);

  ASSERT_TRUE(mock_.pay(id));
  const Json plain = get(id);
  EXPECT_EQ(plain.at("paymentOrder").at("status"), "Paid");
  EXPECT_EQ(plain.at("paymentOrder").at("paid"), Json({{"id", id + "/paid"}}));  // not expanded

  const Json body = get(id, "?$expand=paid");
  const Json& po = body.at("paymentOrder");
  EXPECT_EQ(po.at("status"), "Paid");
  EXPECT_EQ(po.at("remainingCaptureAmount"), 65000);
  EXPECT_EQ(po.at("remainingCancellationAmount"), 65000);
  EXPECT_EQ(po.at("remainingReversalAmount"), 0);
  const Json& paid = po.at("paid");
  EXPECT_EQ(paid.at("id"), id + "/paid");
  EXPECT_EQ(paid.at("instrument"), "CreditCard");
  EXPECT_EQ(paid.at("transactionType"), "Authorization");
  EXPECT_EQ(paid.at("amount"), 65000);
  EXPECT_EQ(paid.at("payeeReference"), "VP6");
  EXPECT_GT(paid.at("number").get<std::int64_t>(), 0);
  EXPECT_TRUE(paid.at("details").contains("maskedPan"));
  EXPECT_EQ(rels(body),
            (std::set<std::string>{"capture", "cancel", "redirect-checkout", "view-checkout"}));
  // URL-encoded $expand works the same.
  EXPECT_EQ(get(id, "?%24expand=paid").at("paymentOrder").at("paid").at("instrument"),
            "CreditCard");
  EXPECT_FALSE(mock_.pay(id));  // already paid

  const auto snapshot = mock_.orders().at(0);
  EXPECT_EQ(snapshot.status, "Paid");
  EXPECT_EQ(snapshot.instrument, "CreditCard");
  EXPECT_EQ(snapshot.transaction_type, "Authorization");
  EXPECT_EQ(snapshot.remaining_capture, 65000);
  EXPECT_EQ(snapshot.captured, 0);
}

TEST_F(MockSwedbankPay, PaidByVippsIsAnAuthorizationWithoutMaskedPan) {
  const std::string id = created("VP7").at("paymentOrder").at("id");
  ASSERT_TRUE(mock_.pay(id, "Vipps"));
  const Json body = get(id, "?$expand=paid");
  const Json& paid = body.at("paymentOrder").at("paid");
  EXPECT_EQ(paid.at("instrument"), "Vipps");
  EXPECT_EQ(paid.at("transactionType"), "Authorization");
  EXPECT_EQ(paid.at("details"), Json::object());
  EXPECT_NE(operation(body, "capture"), nullptr);
}

TEST_F(MockSwedbankPay, SaleNeedsNoCaptureAndCanBeReversed) {
  const std::string id = created("VP8").at("paymentOrder").at("id");
  ASSERT_TRUE(mock_.pay(id, "CreditCard", "Sale"));
  const Json body = get(id, "?$expand=paid");
  EXPECT_EQ(body.at("paymentOrder").at("paid").at("transactionType"), "Sale");
  EXPECT_EQ(body.at("paymentOrder").at("remainingCaptureAmount"), 0);
  EXPECT_EQ(body.at("paymentOrder").at("remainingReversalAmount"), 65000);
  EXPECT_EQ(rels(body), (std::set<std::string>{"reversal", "redirect-checkout", "view-checkout"}));
  EXPECT_EQ(transaction(body, "capture", 100, "CAP8").status, 403);

  const auto reversal = transaction(body, "reversal", 65000, "REV8");
  ASSERT_EQ(reversal.status, 200) << reversal.body;
  const Json reversed = Json::parse(reversal.body);
  EXPECT_EQ(reversed.at("reversal").at("transaction").at("type"), "Reversal");
  EXPECT_EQ(reversed.at("paymentOrder").at("status"), "Reversed");
  EXPECT_EQ(get(id).at("paymentOrder").at("status"), "Reversed");
}

// ---- Payer page and callbacks -----------------------------------------------------------------

TEST_F(MockSwedbankPay, PayerPageRendersTheOrderAndWorksWithoutJavaScript) {
  CallbackReceiver receiver;
  const Json order = created("VP9", receiver.url());
  const std::string href = (*operation(order, "redirect-checkout"))["href"];
  const auto page = http_request(mock_.port(), "GET", path_of(href));
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.headers.at("content-type").rfind("text/html", 0), 0U);
  for (const char* text : {"lang=\"nb\"", "Fjordlegen AS", "Legetime 12. mars", "650,00 kr",
                           "Betal med kort", "Betal med Vipps", "Avbryt", "method=\"post\"",
                           "name=\"action\" value=\"pay\"", "value=\"Vipps\""}) {
    EXPECT_NE(page.body.find(text), std::string::npos) << text;
  }
  EXPECT_EQ(page.body.find("<script"), std::string::npos);

  // A script POSTs exactly what the Vipps button submits.
  const auto paid = payer_post(href, {{"action", "pay"}, {"instrument", "Vipps"}});
  ASSERT_EQ(paid.status, 200);
  EXPECT_NE(paid.body.find("Betalingen er mottatt"), std::string::npos);
  EXPECT_NE(paid.body.find("http://127.0.0.1:8080/betalt"), std::string::npos);

  const auto callbacks = receiver.wait_for(1);
  ASSERT_EQ(callbacks.size(), 1U);
  const std::string id = order.at("paymentOrder").at("id");
  const Json status = get(id, "?$expand=paid");
  const Json expected = {{"orderReference", "session-VP9"},
                         {"paymentOrder",
                          {{"id", id},
                           {"instrument", "Vipps"},
                           {"number", status.at("paymentOrder").at("paid").at("number")}}}};
  EXPECT_EQ(Json::parse(callbacks[0].body), expected);
  EXPECT_EQ(callbacks[0].content_type.rfind("application/json", 0), 0U);
  EXPECT_EQ(status.at("paymentOrder").at("paid").at("instrument"), "Vipps");
  EXPECT_EQ(payer_post(href, {{"action", "pay"}, {"instrument", "CreditCard"}}).status, 409);

  // The page now tells the outcome.
  EXPECT_NE(http_request(mock_.port(), "GET", path_of(href)).body.find("Betalingen er mottatt"),
            std::string::npos);
  EXPECT_TRUE(eventually([&] { return mock_.orders()[0].callbacks_acknowledged == 1; }));
  EXPECT_EQ(mock_.orders()[0].callbacks_sent, 1);
}

TEST_F(MockSwedbankPay, PayerCancelAbortsAndLinksToCancelUrl) {
  CallbackReceiver receiver;
  const Json order = created("VP10", receiver.url());
  const std::string href = (*operation(order, "redirect-checkout"))["href"];
  const auto page = payer_post(href, {{"action", "cancel"}});
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("http://127.0.0.1:8080/avbrutt"), std::string::npos);
  const std::string id = order.at("paymentOrder").at("id");
  EXPECT_EQ(get(id).at("paymentOrder").at("status"), "Aborted");
  const auto callbacks = receiver.wait_for(1);
  ASSERT_EQ(callbacks.size(), 1U);
  EXPECT_EQ(Json::parse(callbacks[0].body).at("paymentOrder").at("id"), id);
}

TEST_F(MockSwedbankPay, CallbackIsRetriedOnTheScaledScheduleUntilAcknowledged) {
  CallbackReceiver receiver;
  receiver.fail_first(2, 500);
  const std::string id = created("VP11", receiver.url()).at("paymentOrder").at("id");
  const auto paid_at = SteadyClock::now();
  ASSERT_TRUE(mock_.pay(id));
  const auto callbacks = receiver.wait_for(3);
  ASSERT_EQ(callbacks.size(), 3U);
  EXPECT_EQ(callbacks[0].body, callbacks[1].body);
  EXPECT_EQ(callbacks[1].body, callbacks[2].body);
  // Retries at 30 and 60 s after the transaction, times 0.001.
  EXPECT_GE(callbacks[1].at - paid_at, 30ms);
  EXPECT_GE(callbacks[2].at - paid_at, 60ms);
  std::this_thread::sleep_for(450ms);  // past the 360 ms retry: nothing more after the 200
  EXPECT_EQ(receiver.received().size(), 3U);
  EXPECT_TRUE(eventually([&] { return mock_.orders()[0].callbacks_acknowledged == 1; }));
  EXPECT_EQ(mock_.orders()[0].callbacks_sent, 3);
}

TEST_F(MockSwedbankPay, CallbackGivesUpAfterSixRetries) {
  CallbackReceiver receiver;
  receiver.fail_first(100, 503);
  const std::string id = created("VP12", receiver.url()).at("paymentOrder").at("id");
  const auto failed_at = SteadyClock::now();
  ASSERT_TRUE(mock_.set_status(id, "Failed"));
  const auto callbacks = receiver.wait_for(7, 3s);
  ASSERT_EQ(callbacks.size(), 7U);
  EXPECT_GE(callbacks.back().at - failed_at, 1265ms);  // the last retry, scaled
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(receiver.received().size(), 7U);
  EXPECT_TRUE(eventually([&] { return mock_.orders()[0].callbacks_sent == 7; }));
  EXPECT_EQ(mock_.orders()[0].callbacks_acknowledged, 0);
  const Json failed = get(id, "?$expand=failed").at("paymentOrder").at("failed");
  EXPECT_EQ(failed.at("problem").at("status"), 403);
}

TEST_F(MockSwedbankPay, ASlowReceiverDoesNotBlockThePayer) {
  CallbackReceiver receiver;
  receiver.answer_after(800ms);
  const Json order = created("VP31", receiver.url());
  const std::string href = (*operation(order, "redirect-checkout"))["href"];
  const auto started = SteadyClock::now();
  const auto paid = http_request(mock_.port(), "POST", path_of(href), "action=pay",
                                 {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(paid.status, 200);
  EXPECT_LT(SteadyClock::now() - started, 400ms);  // the callback goes out in the background
  ASSERT_EQ(receiver.wait_for(1).size(), 1U);
  EXPECT_EQ(mock_.orders()[0].callbacks_acknowledged, 0);  // still waiting for the answer
  EXPECT_TRUE(eventually([&] { return mock_.orders()[0].callbacks_acknowledged == 1; }));
  EXPECT_EQ(mock_.orders()[0].status, "Paid");
}

TEST_F(MockSwedbankPay, OrdersWithoutCallbackUrlGetNoCallback) {
  const std::string id = created("VP13").at("paymentOrder").at("id");
  ASSERT_TRUE(mock_.pay(id));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(mock_.orders()[0].callbacks_sent, 0);
}

// ---- Abort ------------------------------------------------------------------------------------

TEST_F(MockSwedbankPay, AbortIsAllowedOnlyFromInitialized) {
  const std::string id = created("VP14").at("paymentOrder").at("id");
  const auto aborted = abort(id);
  ASSERT_EQ(aborted.status, 200) << aborted.body;
  const Json body = Json::parse(aborted.body);
  EXPECT_EQ(body.at("paymentOrder").at("status"), "Aborted");
  EXPECT_EQ(operation(body, "abort"), nullptr);
  EXPECT_EQ(get(id, "?$expand=aborted").at("paymentOrder").at("aborted").at("abortReason"),
            "CancelledByConsumer");
  const auto again = abort(id);
  EXPECT_EQ(again.status, 403);
  EXPECT_NE(Json::parse(again.body).at("detail").get<std::string>().find("Aborted"),
            std::string::npos);
  EXPECT_FALSE(mock_.pay(id));

  const std::string paid_id = created("VP15").at("paymentOrder").at("id");
  ASSERT_TRUE(mock_.pay(paid_id));
  const auto refused = abort(paid_id);
  EXPECT_EQ(refused.status, 403);
  const Json problem = Json::parse(refused.body);
  EXPECT_EQ(problem.at("type"), "https://api.payex.com/psp/errordetail/paymentorders/forbidden");
  EXPECT_NE(problem.at("detail").get<std::string>().find("Paid"), std::string::npos);
  EXPECT_EQ(get(paid_id).at("paymentOrder").at("status"), "Paid");

  EXPECT_EQ(psp("PATCH", id, {{"paymentorder", {{"operation", "Abort"}}}}).status, 400);
}

TEST_F(MockSwedbankPay, AbortRefusedWhileThePayerIsInTheVippsApp) {
  const std::string id = created("VP16").at("paymentOrder").at("id");
  mock_.inject("abort_refused_in_app");
  const auto refused = abort(id);
  ASSERT_EQ(refused.status, 403);
  EXPECT_EQ(Json::parse(refused.body).at("detail"), "The payer is in the Vipps app");
  const Json still = get(id);
  EXPECT_EQ(still.at("paymentOrder").at("status"), "Initialized");
  EXPECT_NE(operation(still, "abort"), nullptr);
  EXPECT_EQ(abort(id).status, 200);  // the fault is consumed
}

TEST_F(MockSwedbankPay, UpdateOrderChangesTheAmountWhileInitialized) {
  const std::string id = created("VP17").at("paymentOrder").at("id");
  const auto updated =
      psp("PATCH", id,
          {{"paymentorder", {{"operation", "UpdateOrder"}, {"amount", 70000}, {"vatAmount", 0}}}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(Json::parse(updated.body).at("paymentOrder").at("amount"), 70000);
}

// ---- Capture, cancel, reversal ------------------------------------------------------------

TEST_F(MockSwedbankPay, CaptureArithmeticAndPayeeReferenceUniqueness) {
  const std::string id = created("VP18").at("paymentOrder").at("id");
  Json order = get(id);
  EXPECT_EQ(transaction(order, "capture", 100, "CAP0").status, 403);  // not paid yet
  ASSERT_TRUE(mock_.pay(id));
  order = get(id);

  const auto first = transaction(order, "capture", 20000, "CAP1");
  ASSERT_EQ(first.status, 200) << first.body;
  const Json captured = Json::parse(first.body);
  const Json& capture = captured.at("capture");
  EXPECT_EQ(capture.at("id").get<std::string>().rfind(id + "/captures/", 0), 0U);
  EXPECT_EQ(capture.at("transaction").at("type"), "Capture");
  EXPECT_EQ(capture.at("transaction").at("state"), "Completed");
  EXPECT_EQ(capture.at("transaction").at("amount"), 20000);
  EXPECT_EQ(capture.at("transaction").at("payeeReference"), "CAP1");
  EXPECT_EQ(captured.at("paymentOrder").at("remainingCaptureAmount"), 45000);
  EXPECT_EQ(captured.at("paymentOrder").at("remainingCancellationAmount"), 45000);
  EXPECT_EQ(captured.at("paymentOrder").at("remainingReversalAmount"), 20000);

  const auto too_much = transaction(order, "capture", 45001, "CAP2");
  EXPECT_EQ(too_much.status, 400);
  EXPECT_EQ(problem_names(Json::parse(too_much.body)), std::set<std::string>{"Transaction.Amount"});
  const auto reused = transaction(order, "capture", 1000, "CAP1");
  EXPECT_EQ(reused.status, 409);
  EXPECT_NE(Json::parse(reused.body).at("detail").get<std::string>().find("payeeReference"),
            std::string::npos);
  EXPECT_EQ(transaction(order, "capture", 1000, "VP18").status, 409);  // the create's reference

  const auto rest = transaction(order, "capture", 45000, "CAP3");
  ASSERT_EQ(rest.status, 200) << rest.body;
  const Json done = Json::parse(rest.body);
  EXPECT_EQ(done.at("paymentOrder").at("status"), "Paid");
  EXPECT_EQ(done.at("paymentOrder").at("remainingCaptureAmount"), 0);
  EXPECT_EQ(rels(done), (std::set<std::string>{"reversal", "redirect-checkout", "view-checkout"}));
  EXPECT_EQ(transaction(order, "capture", 1, "CAP4").status, 403);
  EXPECT_EQ(mock_.orders()[0].captured, 65000);
  EXPECT_EQ(mock_.orders()[0].remaining_capture, 0);

  const auto partial_reversal = transaction(done, "reversal", 5000, "REV1");
  ASSERT_EQ(partial_reversal.status, 200);
  EXPECT_EQ(Json::parse(partial_reversal.body).at("paymentOrder").at("remainingReversalAmount"),
            60000);
  EXPECT_EQ(get(id).at("paymentOrder").at("status"), "Paid");
}

TEST_F(MockSwedbankPay, CancellationOfTheWholeAuthorizationCancelsTheOrder) {
  CallbackReceiver receiver;
  const std::string id = created("VP19", receiver.url()).at("paymentOrder").at("id");
  ASSERT_TRUE(mock_.pay(id, "Vipps"));
  const Json order = get(id);
  const auto cancel =
      psp("POST", (*operation(order, "cancel"))["href"],
          {{"transaction", {{"description", "Avlyst"}, {"payeeReference", "CAN1"}}}});
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  const Json body = Json::parse(cancel.body);
  EXPECT_EQ(body.at("cancellation").at("transaction").at("type"), "Cancellation");
  EXPECT_EQ(body.at("cancellation").at("transaction").at("amount"), 65000);
  EXPECT_EQ(body.at("paymentOrder").at("status"), "Cancelled");
  EXPECT_EQ(body.at("paymentOrder").at("remainingCaptureAmount"), 0);
  EXPECT_EQ(transaction(order, "capture", 100, "CAP19").status, 403);
  EXPECT_EQ(receiver.wait_for(2).size(), 2U);  // paid, then cancelled
}

TEST_F(MockSwedbankPay, AReversalsDescriptionIsAtMostFortyCharacters) {
  const std::string id = created("VP42").at("paymentOrder").at("id");
  ASSERT_TRUE(mock_.pay(id, "CreditCard"));
  Json order = get(id);
  ASSERT_EQ(transaction(order, "capture", 65000, "CAP42").status, 200);
  order = get(id);
  const auto reverse = [&](const std::string& description, const std::string& reference) {
    return psp("POST", (*operation(order, "reversal"))["href"],
               {{"transaction",
                 {{"description", description},
                  {"amount", 1000},
                  {"vatAmount", 0},
                  {"payeeReference", reference}}}});
  };
  const auto too_long = reverse(std::string(41, 'x'), "RV42A");  // string(40), providers.md §7.3
  ASSERT_EQ(too_long.status, 400) << too_long.body;
  EXPECT_EQ(problem_names(Json::parse(too_long.body)),
            std::set<std::string>{"Transaction.Description"});
  EXPECT_EQ(reverse(std::string(40, 'x'), "RV42B").status, 200);
}

TEST_F(MockSwedbankPay, ACancelHasNoAmountAndTheOrdersTransactionsListTheirReferences) {
  const std::string id = created("VP40").at("paymentOrder").at("id");
  ASSERT_TRUE(mock_.pay(id, "Vipps"));
  // An amount on a cancel changes nothing: it releases the whole authorisation (§7.2).
  const auto cancel = transaction(get(id), "cancel", 100, "CAN40");
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(Json::parse(cancel.body).at("cancellation").at("transaction").at("amount"), 65000);
  const Json body = get(id, "?$expand=financialtransactions");
  EXPECT_EQ(body.at("paymentOrder").at("status"), "Cancelled");
  EXPECT_TRUE(body.at("operations").empty());  // the documented example: operations: []
  const Json& list =
      body.at("paymentOrder").at("financialTransactions").at("financialTransactionsList");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].at("type"), "Cancellation");
  EXPECT_EQ(list[0].at("payeeReference"), "CAN40");
  ASSERT_EQ(mock_.orders().at(0).transactions.size(), 1u);
  EXPECT_EQ(mock_.orders().at(0).cancelled, 65000);
}

TEST_F(MockSwedbankPay, ALostPostPurchaseAnswerIsCarriedOutAndItsReferenceRefusedAfter) {
  const std::string id = created("VP41").at("paymentOrder").at("id");
  ASSERT_TRUE(mock_.pay(id, "CreditCard", "Sale"));
  mock_.inject("lose_post_purchase_response");
  const Json order = get(id);
  const auto lost =
      try_http_request(mock_.port(), "POST", path_of((*operation(order, "reversal"))["href"]),
                       Json{{"transaction",
                             {{"description", "Refusjon"},
                              {"amount", 1000},
                              {"vatAmount", 0},
                              {"payeeReference", "REV41"}}}}
                           .dump(),
                       {{"Authorization", std::string("Bearer ") + kToken}, {"Content-Type", kV31}},
                       std::chrono::milliseconds(5000));
  EXPECT_FALSE(lost.has_value());  // the connection dropped
  EXPECT_EQ(mock_.orders().at(0).reversed, 1000);
  const auto resent = transaction(order, "reversal", 1000, "REV41");
  EXPECT_EQ(resent.status, 409);  // options.duplicate_status: a used payeeReference
  EXPECT_EQ(mock_.orders().at(0).reversed, 1000);
  EXPECT_EQ(mock_.orders().at(0).post_purchase_refusals, 1);
  const auto over = transaction(order, "reversal", 64001, "REV42");
  EXPECT_EQ(over.status, 400);  // more than is left: refused, amounts unchanged
  EXPECT_EQ(mock_.orders().at(0).remaining_reversal, 64000);
}

// ---- HTTP faults ------------------------------------------------------------------------------

TEST_F(MockSwedbankPay, ServerErrorFaultsAnswerProblemsAndCreateNothing) {
  mock_.inject("http_500");
  mock_.inject("http_502");
  mock_.inject("http_504");
  const std::vector<std::pair<int, std::string>> expected = {
      {500, "systemerror"}, {502, "badgateway"}, {504, "gatewaytimeout"}};
  for (const auto& [status, kind] : expected) {
    const auto reply = create("VP20");
    EXPECT_EQ(reply.status, status);
    EXPECT_EQ(header(reply, "content-type").rfind("application/problem+json", 0), 0U);
    EXPECT_EQ(Json::parse(reply.body).at("type"),
              "https://api.payex.com/psp/errordetail/paymentorders/" + kind);
  }
  EXPECT_TRUE(mock_.orders().empty());
  EXPECT_EQ(create("VP20").status, 200);
  EXPECT_EQ(mock_.create_calls(), 4U);
}

TEST_F(MockSwedbankPay, RateLimitWithAndWithoutRetryAfter) {
  mock_.inject("rate_limit", 2, 7);
  mock_.inject("rate_limit");
  for (int i = 0; i < 2; ++i) {
    const auto reply = create("VP21");
    EXPECT_EQ(reply.status, 429);
    EXPECT_EQ(header(reply, "retry-after"), "7");
  }
  const auto bare = create("VP21");
  EXPECT_EQ(bare.status, 429);
  EXPECT_FALSE(bare.headers.contains("retry-after"));
  EXPECT_EQ(create("VP21").status, 200);
}

TEST_F(MockSwedbankPay, FaultsApplyToAnyPspRequestButNotToThePayerPage) {
  const Json order = created("VP22");
  const std::string id = order.at("paymentOrder").at("id");
  mock_.inject("http_500");
  const std::string href = (*operation(order, "redirect-checkout"))["href"];
  EXPECT_EQ(http_request(mock_.port(), "GET", path_of(href)).status, 200);
  EXPECT_EQ(psp("GET", id).status, 500);
  EXPECT_EQ(psp("GET", id).status, 200);
}

TEST_F(MockSwedbankPay, LostResponseCreatesTheOrderButAnswersNothing) {
  mock_.inject("lose_response");
  const auto lost = try_http_request(
      mock_.port(), "POST", "/psp/paymentorders", order_request("VP23").dump(),
      {{"Authorization", std::string("Bearer ") + kToken}, {"Content-Type", kV31}}, 2s);
  EXPECT_FALSE(lost.has_value());
  ASSERT_EQ(mock_.orders().size(), 1U);
  const std::string id = mock_.orders()[0].id;
  // A retry with the same reference hits the duplicate, which does not tell which order it was.
  const auto retry = create("VP23");
  EXPECT_EQ(retry.status, 409);
  EXPECT_EQ(retry.body.find(id.substr(id.rfind('/') + 1)), std::string::npos) << retry.body;
  EXPECT_EQ(get(id).at("paymentOrder").at("status"), "Initialized");
  EXPECT_EQ(mock_.create_calls(), 2U);
}

TEST_F(MockSwedbankPay, InvalidJsonFaultTruncatesAnOtherwiseSuccessfulAnswer) {
  mock_.inject("invalid_json");
  const auto reply = create("VP24");
  EXPECT_EQ(reply.status, 200);
  EXPECT_FALSE(reply.body.empty());
  EXPECT_TRUE(Json::parse(reply.body, nullptr, false).is_discarded());
  EXPECT_EQ(mock_.orders().size(), 1U);
}

TEST_F(MockSwedbankPay, TimeoutFaultAnswersLateAndCreatesNothing) {
  const auto started = SteadyClock::now();
  {
    SwedbankPayMock mock(options());
    mock.inject("timeout");
    const auto reply = try_http_request(
        mock.port(), "POST", "/psp/paymentorders", order_request("VP25").dump(),
        {{"Authorization", std::string("Bearer ") + kToken}, {"Content-Type", kV31}}, 300ms);
    EXPECT_FALSE(reply.has_value());
    EXPECT_TRUE(mock.orders().empty());
    EXPECT_EQ(mock.create_calls(), 1U);
  }  // the destructor does not wait out the 15 s
  EXPECT_LT(SteadyClock::now() - started, 3s);
}

TEST_F(MockSwedbankPay, UnknownFaultsAreRejected) {
  EXPECT_THROW(mock_.inject("http_418"), std::invalid_argument);
  EXPECT_THROW(mock_.inject("http_500", 0), std::invalid_argument);
}

// ---- Callback faults --------------------------------------------------------------------------

TEST_F(MockSwedbankPay, CallbackBeforeStatusIsVisibleOnGet) {
  CallbackReceiver receiver;
  const std::string id = created("VP26", receiver.url()).at("paymentOrder").at("id");
  std::string status_at_callback;
  receiver.on_callback([&](const MockRequest&) {
    const auto reply = http_request(mock_.port(), "GET", id, {},
                                    {{"Authorization", std::string("Bearer ") + kToken}});
    status_at_callback = Json::parse(reply.body).at("paymentOrder").at("status");
  });
  mock_.inject("callback_before_status");
  const auto paid_at = SteadyClock::now();
  ASSERT_TRUE(mock_.pay(id));
  ASSERT_EQ(receiver.wait_for(1).size(), 1U);
  EXPECT_EQ(status_at_callback, "Initialized");  // the receiver's GET came too early
  EXPECT_FALSE(mock_.pay(id));                   // the payment is in flight
  EXPECT_TRUE(eventually([&] { return mock_.orders()[0].status == "Paid"; }));
  EXPECT_GE(SteadyClock::now() - paid_at, 300ms);  // status_lag
  const Json body = get(id, "?$expand=paid");
  EXPECT_EQ(body.at("paymentOrder").at("status"), "Paid");
  EXPECT_EQ(body.at("paymentOrder").at("paid").at("number"),
            Json::parse(receiver.received()[0].body).at("paymentOrder").at("number"));
}

TEST_F(MockSwedbankPay, DuplicateCallbackSendsTheSameBodyTwice) {
  CallbackReceiver receiver;
  const std::string id = created("VP27", receiver.url()).at("paymentOrder").at("id");
  mock_.inject("duplicate_callback");
  ASSERT_TRUE(mock_.pay(id));
  const auto callbacks = receiver.wait_for(2);
  ASSERT_EQ(callbacks.size(), 2U);
  EXPECT_EQ(callbacks[0].body, callbacks[1].body);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(receiver.received().size(), 2U);
}

TEST_F(MockSwedbankPay, OutOfOrderCallbacksDeliverTheLaterAttemptFirst) {
  CallbackReceiver receiver;
  const std::string id = created("VP28", receiver.url()).at("paymentOrder").at("id");
  mock_.inject("out_of_order_callbacks");
  ASSERT_TRUE(mock_.pay(id));
  const std::int64_t paid_number =
      get(id, "?$expand=paid").at("paymentOrder").at("paid").at("number");
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(receiver.received().empty());  // held until the second exists
  ASSERT_TRUE(mock_.set_status(id, "Cancelled"));
  const auto callbacks = receiver.wait_for(2);
  ASSERT_EQ(callbacks.size(), 2U);
  const auto first = Json::parse(callbacks[0].body).at("paymentOrder").at("number");
  const auto second = Json::parse(callbacks[1].body).at("paymentOrder").at("number");
  EXPECT_NE(first, paid_number);
  EXPECT_EQ(second, paid_number);
  EXPECT_EQ(get(id).at("paymentOrder").at("status"), "Cancelled");
}

// ---- Control API over HTTP ------------------------------------------------------------------

TEST_F(MockSwedbankPay, ControlEndpointsOverHttp) {
  CallbackReceiver receiver;
  const std::string id = created("VP29", receiver.url()).at("paymentOrder").at("id");
  const std::string guid = id.substr(id.rfind('/') + 1);

  auto control = [&](const std::string& method, const std::string& target, const Json& body) {
    return http_request(mock_.port(), method, target, body.is_null() ? "" : body.dump(),
                        {{"Content-Type", "application/json"}});
  };
  EXPECT_EQ(control("POST", "/_mock/faults",
                    {{"fault", "rate_limit"}, {"count", 1}, {"retry_after_s", 3}})
                .status,
            200);
  EXPECT_EQ(control("POST", "/_mock/faults", {{"fault", "nonsense"}}).status, 400);
  const auto limited = psp("GET", id);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(header(limited, "retry-after"), "3");

  const auto paid = control("POST", "/_mock/orders/" + guid + "/pay",
                            {{"instrument", "Vipps"}, {"transaction_type", "Sale"}});
  ASSERT_EQ(paid.status, 200) << paid.body;
  EXPECT_EQ(Json::parse(paid.body).at("transaction_type"), "Sale");
  EXPECT_EQ(receiver.wait_for(1).size(), 1U);
  EXPECT_EQ(control("POST", "/_mock/orders/" + guid + "/pay", Json::object()).status, 409);

  const auto listed = control("GET", "/_mock/orders", nullptr);
  ASSERT_EQ(listed.status, 200);
  const Json orders = Json::parse(listed.body);
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(orders[0].at("id"), id);
  EXPECT_EQ(orders[0].at("status"), "Paid");
  EXPECT_EQ(orders[0].at("instrument"), "Vipps");
  EXPECT_EQ(orders[0].at("captured"), 65000);
  EXPECT_EQ(
      orders[0].at("payment_url").get<std::string>().rfind(mock_.base_url() + "/checkout/", 0), 0U);

  const auto index = control("GET", "/", nullptr);
  ASSERT_EQ(index.status, 200);
  EXPECT_NE(index.body.find(orders[0].at("payment_url").get<std::string>()), std::string::npos);

  const std::string other = created("VP30").at("paymentOrder").at("id");
  EXPECT_EQ(control("POST", "/_mock/orders/" + other.substr(other.rfind('/') + 1) + "/status",
                    {{"status", "Failed"}})
                .status,
            200);
  EXPECT_EQ(get(other).at("paymentOrder").at("status"), "Failed");
  EXPECT_EQ(control("POST", "/_mock/orders/nope/status", {{"status", "Failed"}}).status, 404);

  EXPECT_EQ(control("POST", "/_mock/reset", Json::object()).status, 200);
  EXPECT_TRUE(mock_.orders().empty());
  EXPECT_EQ(mock_.create_calls(), 0U);
  EXPECT_EQ(psp("GET", id).status, 404);
}

}  // namespace
}  // namespace visitpay::testing
