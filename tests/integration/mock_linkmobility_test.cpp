// The mock LINK Mobility SMS gateway, embedded, over real HTTP: GSM 03.38 / UCS-2 segment
// arithmetic, auth and validation of POST /sms/send, the inbox (JSON and HTML), delivery reports
// to a receiver (order, retries, final result codes), every fault, the control API and reset.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "mocks/common/mock_http_server.hpp"
#include "mocks/linkmobility/linkmobility_mock.hpp"

namespace visitpay::testing {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;
using mocks::sms_encoding;

constexpr const char* kAuth = "Basic dmlzaXRwYXk6c2VjcmV0";  // visitpay:secret
constexpr const char* kTo = "+4741234567";

// ---------------------------------------------------------------- segment arithmetic

TEST(SmsEncoding, AsciiBoundaries) {
  const auto empty = sms_encoding("");
  EXPECT_TRUE(empty.gsm7);
  EXPECT_EQ(empty.units, 0);
  EXPECT_EQ(empty.segments, 1);
  for (const auto& [length, segments] : std::vector<std::pair<int, int>>{
           {1, 1}, {160, 1}, {161, 2}, {306, 2}, {307, 3}, {459, 3}, {460, 4}}) {
    const auto e = sms_encoding(std::string(static_cast<std::size_t>(length), 'a'));
    EXPECT_TRUE(e.gsm7) << length;
    EXPECT_EQ(e.units, length);
    EXPECT_EQ(e.segments, segments) << length;
  }
}

TEST(SmsEncoding, NorwegianTextStaysGsm7) {
  const std::string text =
      "Hei Åse! Betal 450 kr til Ærlig Tannhelse før fredag. æøå ÆØÅ ÄÖÜ äöü é É ß Ñ ñ ¿¡ § £ ¥ "
      "$ @ Δ";
  const auto e = sms_encoding(text);
  EXPECT_TRUE(e.gsm7);
  EXPECT_EQ(e.units, 94);  // one septet per character
  EXPECT_EQ(e.segments, 1);
}

TEST(SmsEncoding, WholeDefaultAlphabetIsOneSeptetEach) {
  const std::string table =
      "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
      "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  const auto e = sms_encoding(table);
  EXPECT_TRUE(e.gsm7);
  EXPECT_EQ(e.units, 127);  // 128 septets less the escape
  EXPECT_EQ(e.segments, 1);
}

TEST(SmsEncoding, ExtensionTableCountsTwoSeptets) {
  EXPECT_EQ(sms_encoding("€").units, 2);
  EXPECT_EQ(sms_encoding("[").units, 2);
  const auto all = sms_encoding("^{}\\[~]|€\f");
  EXPECT_TRUE(all.gsm7);
  EXPECT_EQ(all.units, 20);
  EXPECT_EQ(sms_encoding("Pris: 10 € [inkl. mva]").units, 25);
  EXPECT_EQ(sms_encoding(std::string(158, 'a') + "€").segments, 1);  // 160 septets
  EXPECT_EQ(sms_encoding(std::string(159, 'a') + "€").segments, 2);  // 161 septets
  // An escape sequence never straddles a segment boundary: 152 + [2] + 152 = 306 septets need 3.
  const auto straddling = sms_encoding(std::string(152, 'a') + "€" + std::string(152, 'a'));
  EXPECT_EQ(straddling.units, 306);
  EXPECT_EQ(straddling.segments, 3);
  EXPECT_EQ(sms_encoding(std::string(151, 'a') + "€" + std::string(153, 'a')).segments, 2);
}

TEST(SmsEncoding, CharactersOutsideGsmForceUcs2) {
  for (const char* c : {"’", "“", "”", "–", "`", "ç", "á", "\t", "😀", "\xff"}) {
    const auto e = sms_encoding(std::string("Hei ") + c);
    EXPECT_FALSE(e.gsm7) << c;
  }
  const auto quote = sms_encoding("Det er klart’");
  EXPECT_EQ(quote.units, 13);  // æøå-free text of 13 characters, each one UCS-2 unit
  EXPECT_EQ(sms_encoding("😀").units, 2);
  EXPECT_EQ(sms_encoding("\xff").units, 1);  // invalid UTF-8 counts as U+FFFD
  EXPECT_EQ(sms_encoding("€’").units, 2);    // in UCS-2 the euro sign is one unit
}

TEST(SmsEncoding, Ucs2Boundaries) {
  const std::string q = "’";
  for (const auto& [length, segments] :
       std::vector<std::pair<int, int>>{{70, 1}, {71, 2}, {134, 2}, {135, 3}, {201, 3}, {202, 4}}) {
    const auto e = sms_encoding(q + std::string(static_cast<std::size_t>(length - 1), 'a'));
    EXPECT_FALSE(e.gsm7);
    EXPECT_EQ(e.units, length);
    EXPECT_EQ(e.segments, segments) << length;
  }
  EXPECT_EQ(sms_encoding(std::string(68, 'a') + "😀").segments, 1);  // 70 units
  EXPECT_EQ(sms_encoding(std::string(69, 'a') + "😀").segments, 2);  // 71 units
  // A surrogate pair is never split: 66 + [2] + 66 = 134 units need 3 segments.
  const auto straddling = sms_encoding(std::string(66, 'a') + "😀" + std::string(66, 'a'));
  EXPECT_EQ(straddling.units, 134);
  EXPECT_EQ(straddling.segments, 3);
}

// ---------------------------------------------------------------- helpers

// Polls `condition` until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 3s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

// A POST /sms/send with a short overall deadline; nullopt when it was not answered.
std::optional<HttpReply> timed_send(std::uint16_t port, const std::string& body,
                                    std::chrono::milliseconds timeout) {
  return try_http_request(port, "POST", "/sms/send", body,
                          {{"Content-Type", "application/json"}, {"Authorization", kAuth}},
                          timeout);
}

// The service's delivery-report endpoint, as a MockHttpServer that records what it receives.
class ReportReceiver {
 public:
  ReportReceiver() = default;
  ReportReceiver(const ReportReceiver&) = delete;
  ReportReceiver& operator=(const ReportReceiver&) = delete;
  ~ReportReceiver() { server_.stop(); }

  std::string url() const { return server_.base_url() + "/v1/webhooks/sms/linkmobility"; }

  // The next `n` reports are answered 500 (and not recorded).
  void fail_next(int n) {
    std::lock_guard lock(mutex_);
    failures_left_ = n;
  }

  // Waits until at least `n` reports were recorded; returns all recorded so far.
  std::vector<Json> wait_for(std::size_t n, std::chrono::milliseconds timeout = 3s) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return reports_.size() >= n; });
    return reports_;
  }

  std::vector<Json> reports() const {
    std::lock_guard lock(mutex_);
    return reports_;
  }
  int posts() const {
    std::lock_guard lock(mutex_);
    return posts_;
  }

 private:
  mocks::MockResponse receive(const mocks::MockRequest& request) {
    std::lock_guard lock(mutex_);
    ++posts_;
    mocks::MockResponse response;
    if (failures_left_ > 0) {
      --failures_left_;
      response.status = 500;
      return response;
    }
    if (request.method == "POST" && request.path == "/v1/webhooks/sms/linkmobility" &&
        request.header("content-type") == "application/json") {
      reports_.push_back(Json::parse(request.body));
    }
    cv_.notify_all();
    response.status = 204;
    return response;
  }

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Json> reports_;
  int posts_ = 0;
  int failures_left_ = 0;
  mocks::MockHttpServer server_{"127.0.0.1", 0,
                                [this](const mocks::MockRequest& r) { return receive(r); }};
};

// A request as the service sends it: the messageId and smsCount asked for (LINK answers 204
// and leaves smsCount out otherwise), reports to the gate the fixture configured.
Json message(const std::string& to = kTo, const std::string& text = "Hei") {
  return {{"source", "VisitPay"},
          {"destination", to},
          {"userData", text},
          {"platformId", "COMMON"},
          {"platformPartnerId", "1234"},
          {"refId", "outbox-1"},
          {"ignoreResponse", false},
          {"customParameters", {{"replySmsCount", "true"}}},
          {"deliveryReportGates", Json::array({mocks::LinkMobilityMock::kDefaultGate})}};
}

class LinkMobilityMockTest : public ::testing::Test {
 protected:
  static mocks::LinkMobilityMockOptions options() {
    mocks::LinkMobilityMockOptions o;
    o.dlr_delay = 30ms;
    return o;
  }

  LinkMobilityMockTest() { mock_.set_dlr_url(receiver_.url()); }

  HttpReply send(const Json& body, const std::string& auth = kAuth,
                 const std::string& path = "/sms/send") {
    std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
    if (!auth.empty()) headers["Authorization"] = auth;
    return http_request(mock_.port(), "POST", path, body.dump(), headers);
  }

  // The message's last_result_code once it is final (or 0 on timeout).
  int final_code(std::size_t index = 0) {
    int code = 0;
    eventually([&] {
      const auto all = mock_.messages();
      if (all.size() <= index) return false;
      code = all[index].last_result_code;
      return code != 1005 && code != 1000;
    });
    return code;
  }

  ReportReceiver receiver_;  // outlives the mock, whose reports it receives
  mocks::LinkMobilityMock mock_{options()};
};

// ---------------------------------------------------------------- send

TEST_F(LinkMobilityMockTest, RequiresBasicAuth) {
  EXPECT_EQ(send(message(), "").status, 401);
  EXPECT_EQ(send(message(), "Basic dmlzaXRwYXk6d3Jvbmc=").status, 401);  // visitpay:wrong
  EXPECT_EQ(send(message(), "Bearer dmlzaXRwYXk6c2VjcmV0").status, 401);
  const auto reply = send(message(), "");
  EXPECT_EQ(reply.headers.at("www-authenticate").rfind("Basic", 0), 0u);
  const auto error = Json::parse(reply.body);  // LINK's ErrorResponse and code (PDF p. 6)
  EXPECT_EQ(error["status"], 106100);
  EXPECT_TRUE(error["description"].is_string());
  EXPECT_TRUE(error["translatedDescription"].is_string());
  EXPECT_EQ(mock_.send_calls(), 4u);
  EXPECT_TRUE(mock_.messages().empty());
  EXPECT_EQ(send(message(), "basic  dmlzaXRwYXk6c2VjcmV0").status, 200);  // scheme is caseless
}

TEST_F(LinkMobilityMockTest, RejectsMissingAndInvalidFields) {
  // The platform first, with LINK's own codes.
  auto reply = send({{"userData", "Hei"}});
  ASSERT_EQ(reply.status, 400);
  EXPECT_EQ(Json::parse(reply.body)["status"], 106200);
  reply = send({{"userData", "Hei"}, {"platformId", "COMMON"}});
  ASSERT_EQ(reply.status, 400);
  EXPECT_EQ(Json::parse(reply.body)["status"], 106201);

  reply = send({{"userData", "Hei"}, {"platformId", "COMMON"}, {"platformPartnerId", "1234"}});
  ASSERT_EQ(reply.status, 400);
  auto body = Json::parse(reply.body);
  EXPECT_EQ(body["status"], 400);
  std::set<std::string> fields;
  for (const auto& e : body["errors"])
    fields.insert(e["field"].get<std::string>());
  EXPECT_EQ(fields, (std::set<std::string>{"source", "destination"}));
  EXPECT_NE(body["description"].get<std::string>().find("destination"), std::string::npos);

  for (const char* bad : {"4741234567", "+47123", "+47 412 34 567", "+4712345678901234"}) {
    reply = send(message(bad));
    ASSERT_EQ(reply.status, 400) << bad;
    EXPECT_EQ(Json::parse(reply.body)["errors"][0]["field"], "destination");
  }
  auto wrong_type = message();
  wrong_type["useDeliveryReport"] = "yes";
  EXPECT_EQ(send(wrong_type).status, 400);
  EXPECT_EQ(http_request(mock_.port(), "POST", "/sms/send", "{\"source\":",
                         {{"Authorization", kAuth}, {"Content-Type", "application/json"}})
                .status,
            400);
  EXPECT_TRUE(mock_.messages().empty());

  auto extra = message();  // optional and unknown fields are accepted
  extra["priority"] = "HIGH";
  extra["relativeValidityTime"] = 172800000;
  extra["somethingNew"] = {{"x", 1}};
  EXPECT_EQ(send(extra).status, 200);

  auto unknown_gate = message();  // a gate LINK has not configured for us
  unknown_gate["deliveryReportGates"] = Json::array({"gate1"});
  reply = send(unknown_gate);
  ASSERT_EQ(reply.status, 400);
  EXPECT_EQ(Json::parse(reply.body)["status"], 106301);
}

TEST_F(LinkMobilityMockTest, AcceptsAMessageAndShowsItInTheInbox) {
  const std::string text =
      "Hei <Kari> & co: betal 450 kr på https://pay.example/p/abc?x=1&y=2. Frist: fredag.";
  const auto reply = send(message(kTo, text));
  ASSERT_EQ(reply.status, 200);
  const auto body = Json::parse(reply.body);
  const std::string id = body["messageId"];
  EXPECT_EQ(id.size(), 24u);
  EXPECT_EQ(
      id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
      std::string::npos);
  EXPECT_EQ(body["resultCode"], 1005);
  EXPECT_EQ(body["description"], "Queued");
  EXPECT_EQ(body["smsCount"], 1);

  const auto all = mock_.messages();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].message_id, id);
  EXPECT_EQ(all[0].source, "VisitPay");
  EXPECT_EQ(all[0].destination, kTo);
  EXPECT_EQ(all[0].text, text);
  EXPECT_EQ(all[0].ref_id, "outbox-1");
  EXPECT_EQ(all[0].sms_count, 1);
  EXPECT_EQ(all[0].encoding, "GSM-7");
  EXPECT_EQ(all[0].received_at.size(), 24u);  // 2026-01-02T03:04:05.678Z
  EXPECT_EQ(mock_.inbox(kTo).size(), 1u);
  EXPECT_TRUE(mock_.inbox("+4799999999").empty());

  for (const char* target : {"/inbox?to=%2B4741234567", "/inbox?to=+4741234567"}) {
    const auto inbox = http_request(mock_.port(), "GET", target);
    ASSERT_EQ(inbox.status, 200);
    const auto list = Json::parse(inbox.body);
    ASSERT_EQ(list.size(), 1u) << target;
    EXPECT_EQ(list[0]["messageId"], id);
    EXPECT_EQ(list[0]["to"], kTo);
    EXPECT_EQ(list[0]["text"], text);
    EXPECT_EQ(list[0]["smsCount"], 1);
    EXPECT_EQ(list[0]["encoding"], "GSM-7");
    EXPECT_TRUE(list[0]["receivedAt"].is_string());
    EXPECT_TRUE(list[0]["status"].is_string());
    EXPECT_TRUE(list[0]["resultCode"].is_number_integer());
  }
  EXPECT_EQ(Json::parse(http_request(mock_.port(), "GET", "/inbox?to=%2B4799999999").body),
            Json::array());

  ASSERT_EQ(send(message("+4799999999", "Andre melding")).status, 200);
  const auto page = http_request(mock_.port(), "GET", "/inbox");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.headers.at("content-type"), "text/html; charset=utf-8");
  const auto& html = page.body;
  EXPECT_NE(html.find("<html lang=\"nb\">"), std::string::npos);
  EXPECT_NE(html.find("<title>SMS-innboks (mock)</title>"), std::string::npos);
  EXPECT_NE(html.find("Hei &lt;Kari&gt; &amp; co: betal 450 kr på "), std::string::npos);
  EXPECT_NE(html.find("<a href=\"https://pay.example/p/abc?x=1&amp;y=2\">"
                      "https://pay.example/p/abc?x=1&amp;y=2</a>. Frist"),
            std::string::npos);
  EXPECT_EQ(html.find("<Kari>"), std::string::npos);
  EXPECT_NE(html.find(kTo), std::string::npos);
  EXPECT_NE(html.find("1 SMS"), std::string::npos);
  EXPECT_LT(html.find("Andre melding"), html.find("Hei &lt;Kari"));  // newest first
}

TEST_F(LinkMobilityMockTest, SmsCountFollowsTheEncoding) {
  auto reply = send(message(kTo, std::string(161, 'a')));
  EXPECT_EQ(Json::parse(reply.body)["smsCount"], 2);
  reply = send(message(kTo, "Takk – vi ses’ 😀"));
  EXPECT_EQ(Json::parse(reply.body)["smsCount"], 1);
  reply = send(message(kTo, "’" + std::string(70, 'a')));
  EXPECT_EQ(Json::parse(reply.body)["smsCount"], 2);
  auto forced = message(kTo, "Hei");
  forced["dcs"] = "UC2";
  reply = send(forced);
  EXPECT_EQ(Json::parse(reply.body)["smsCount"], 1);
  const auto all = mock_.messages();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].encoding, "GSM-7");
  EXPECT_EQ(all[1].encoding, "UCS-2");
  EXPECT_EQ(all[2].sms_count, 2);
  EXPECT_EQ(all[3].encoding, "UCS-2");
}

TEST_F(LinkMobilityMockTest, IgnoreResponseAnswers204AndIsTheDefault) {
  auto body = message();
  body["ignoreResponse"] = true;
  auto reply = send(body);
  EXPECT_EQ(reply.status, 204);
  EXPECT_TRUE(reply.body.empty());
  body.erase("ignoreResponse");  // "Default is true" (PDF p. 9)
  reply = send(body);
  EXPECT_EQ(reply.status, 204);
  EXPECT_TRUE(reply.body.empty());
  EXPECT_EQ(mock_.messages().size(), 2u);  // sent all the same
}

TEST_F(LinkMobilityMockTest, SmsCountOnlyWhenAsked) {
  auto body = message(kTo, std::string(161, 'a'));
  body.erase("customParameters");
  EXPECT_FALSE(Json::parse(send(body).body).contains("smsCount"));
  body["customParameters"] = {{"replySmsCount", "false"}};
  EXPECT_FALSE(Json::parse(send(body).body).contains("smsCount"));
  body["customParameters"] = {{"replySmsCount", "TRUE"}};  // a case-insensitive string
  EXPECT_EQ(Json::parse(send(body).body)["smsCount"], 2);
}

TEST_F(LinkMobilityMockTest, MultiPartMessagesGetAReportPerPart) {
  mock_.set_final_result(kTo, 1006, 1);  // the second part is not delivered
  const auto reply = send(message(kTo, std::string(200, 'a')));
  const std::string id = Json::parse(reply.body)["messageId"];
  const auto reports = receiver_.wait_for(4);
  ASSERT_EQ(reports.size(), 4u);
  std::map<std::string, std::vector<int>> codes;
  for (const auto& r : reports) {
    codes[r["id"].get<std::string>()].push_back(r["resultCode"].get<int>());
    EXPECT_EQ(r["segments"], 2);
  }
  EXPECT_EQ(codes[id + "$0"], (std::vector<int>{1000, 1001}));
  EXPECT_EQ(codes[id + "$1"], (std::vector<int>{1000, 1006}));
  EXPECT_EQ(codes.count(id), 0u);  // no report carries the bare id of a multi-part message
  ASSERT_TRUE(eventually([&] { return mock_.messages()[0].reports_sent == 4; }));
  EXPECT_EQ(mock_.messages()[0].last_result_code, 1006);
  EXPECT_EQ(mock_.messages()[0].part_codes, (std::vector<int>{1001, 1006}));
}

TEST(LinkMobilityMockStrict, RefusesWhatTheRealApiRefuses) {
  mocks::LinkMobilityMockOptions options;
  options.strict = true;
  options.platform_id = "COMMON";
  options.platform_partner_id = "1234";
  mocks::LinkMobilityMock mock(options);
  mock.set_dlr_url("http://127.0.0.1:9/dlr");
  auto send = [&](const Json& body, const std::string& auth = kAuth) {
    return http_request(mock.port(), "POST", "/sms/send", body.dump(),
                        {{"Content-Type", "application/json"}, {"Authorization", auth}});
  };
  auto code = [](const HttpReply& reply) { return Json::parse(reply.body)["status"]; };
  EXPECT_EQ(send(message()).status, 200);

  auto no_gate = message();  // reports asked for (the default) without a gate
  no_gate.erase("deliveryReportGates");
  EXPECT_EQ(code(send(no_gate)), 106300);
  no_gate["useDeliveryReport"] = false;
  EXPECT_EQ(send(no_gate).status, 200);

  auto platform = message();
  platform["platformId"] = "OTHER";
  EXPECT_EQ(code(send(platform)), 106200);
  platform = message();
  platform["platformPartnerId"] = "9999";
  EXPECT_EQ(code(send(platform)), 106201);

  for (const char* bad : {"1Klinikk", "K", "Oslo Klinikk", "Klinikk12345"}) {
    auto sender = message();
    sender["source"] = bad;
    EXPECT_EQ(send(sender).status, 400) << bad;
  }
  auto numeric = message();
  numeric["source"] = "2222";
  numeric["sourceTON"] = "SHORTNUMBER";
  EXPECT_EQ(send(numeric).status, 200);
  numeric["sourceTON"] = "SHORTCODE";  // the deveel spelling; the PDF says SHORTNUMBER
  EXPECT_EQ(send(numeric).status, 400);
  auto dcs = message();
  dcs["dcs"] = "UC2";
  EXPECT_EQ(send(dcs).status, 400);
  dcs["dcs"] = "UCS2";
  EXPECT_EQ(send(dcs).status, 200);

  // A password changed under us: 401 106100 until the credentials match again.
  mock.set_credentials("visitpay", "rotated");
  const auto refused = send(message());
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(code(refused), 106100);
  mock.set_credentials("visitpay", "secret");
  EXPECT_EQ(send(message()).status, 200);
}

TEST_F(LinkMobilityMockTest, SendBatch) {
  Json batch = {{"platformId", "COMMON"},
                {"platformPartnerId", "1234"},
                {"ignoreResponse", false},
                {"sendRequestMessages",
                 {{{"source", "VisitPay"}, {"destination", kTo}, {"userData", "En"}},
                  {{"source", "VisitPay"}, {"destination", "+4799999999"}, {"userData", "To"}}}}};
  auto reply = send(batch, kAuth, "/sms/sendbatch");
  ASSERT_EQ(reply.status, 200);
  const auto results = Json::parse(reply.body);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1]["resultCode"], 1005);
  EXPECT_EQ(mock_.messages().size(), 2u);
  EXPECT_EQ(mock_.messages()[1].message_id, results[1]["messageId"]);

  batch["sendRequestMessages"][1].erase("destination");
  reply = send(batch, kAuth, "/sms/sendbatch");
  ASSERT_EQ(reply.status, 400);
  EXPECT_EQ(Json::parse(reply.body)["errors"][0]["field"], "sendRequestMessages[1].destination");
  EXPECT_EQ(mock_.messages().size(), 2u);
  EXPECT_EQ(mock_.send_calls(), 2u);
}

// ---------------------------------------------------------------- delivery reports

TEST_F(LinkMobilityMockTest, DeliveryReportsSentThenDelivered) {
  auto body = message();
  body["customParameters"] = {{"clinic", "c1"}};
  const auto reply = send(body);
  const std::string id = Json::parse(reply.body)["messageId"];
  const auto reports = receiver_.wait_for(2);
  ASSERT_EQ(reports.size(), 2u);
  for (const auto& r : reports) {
    EXPECT_EQ(r["id"], id);
    EXPECT_EQ(r["refId"], "outbox-1");
    EXPECT_EQ(r["operator"], "mock");
    EXPECT_EQ(r["operatorResultCode"], "0");
    EXPECT_EQ(r["segments"], 1);
    EXPECT_TRUE(r["sentTimestamp"].is_string());  // PDF pp. 23, 27 (not "sendTimestamp")
    EXPECT_TRUE(r["timestamp"].is_string());
    EXPECT_EQ(r["gateCustomParameters"], Json::object());
    EXPECT_EQ(r["customParameters"], (Json{{"clinic", "c1"}}));
  }
  EXPECT_EQ(reports[0]["resultCode"], 1000);
  EXPECT_EQ(reports[1]["resultCode"], 1001);
  ASSERT_TRUE(eventually([&] { return mock_.messages()[0].reports_sent == 2; }));
  EXPECT_EQ(mock_.messages()[0].last_result_code, 1001);
  const auto inbox = Json::parse(http_request(mock_.port(), "GET", "/inbox?to=%2B4741234567").body);
  EXPECT_EQ(inbox[0]["status"], "delivered");
  EXPECT_EQ(inbox[0]["resultCode"], 1001);
  EXPECT_NE(http_request(mock_.port(), "GET", "/inbox").body.find("Levert"), std::string::npos);
}

TEST_F(LinkMobilityMockTest, FinalResultPerDestination) {
  mock_.set_final_result(kTo, 2104);
  send(message());
  send(message("+4799999999"));
  const auto reports = receiver_.wait_for(4);
  ASSERT_EQ(reports.size(), 4u);
  EXPECT_EQ(final_code(0), 2104);
  EXPECT_EQ(final_code(1), 1001);
  const auto first_id = mock_.messages()[0].message_id;
  int final_for_first = 0;
  for (const auto& r : reports) {
    if (r["id"] == first_id && r["resultCode"] != 1000) final_for_first = r["resultCode"];
  }
  EXPECT_EQ(final_for_first, 2104);
  const auto inbox = Json::parse(http_request(mock_.port(), "GET", "/inbox?to=%2B4741234567").body);
  EXPECT_EQ(inbox[0]["status"], "failed");
  EXPECT_EQ(inbox[0]["resultCode"], 2104);
}

TEST_F(LinkMobilityMockTest, ReportRetriedWhenTheReceiverFails) {
  receiver_.fail_next(2);
  send(message());
  const auto reports = receiver_.wait_for(2);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0]["resultCode"], 1000);
  EXPECT_EQ(reports[1]["resultCode"], 1001);
  EXPECT_EQ(receiver_.posts(), 4);
  ASSERT_TRUE(eventually([&] { return mock_.messages()[0].reports_sent == 2; }));
}

TEST_F(LinkMobilityMockTest, NoReportWithoutAGateOrWhenNotWanted) {
  auto body = message();
  body["useDeliveryReport"] = false;
  send(body);
  EXPECT_EQ(final_code(0), 1001);  // delivered all the same

  auto no_gate = message();  // lenient mode: accepted, but no gate means no report
  no_gate.erase("deliveryReportGates");
  ASSERT_EQ(send(no_gate).status, 200);
  EXPECT_EQ(final_code(1), 1001);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(receiver_.posts(), 0);
  EXPECT_EQ(mock_.messages()[1].reports_sent, 0);

  // A gate that is no longer configured is refused up front (106301).
  mock_.set_dlr_url("");
  const auto refused = send(message());
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(Json::parse(refused.body)["status"], 106301);
  EXPECT_EQ(mock_.messages().size(), 2u);
}

TEST(LinkMobilityMockLifetime, DestructionDoesNotWaitForAHangingReceiver) {
  // A receiver that completes TCP handshakes (the listen backlog) but never answers.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor silent(
      ioc, {boost::asio::ip::make_address("127.0.0.1"), std::uint16_t{0}});
  mocks::LinkMobilityMockOptions options;
  options.dlr_delay = 1ms;
  options.dlr_url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/dlr";
  auto mock = std::make_unique<mocks::LinkMobilityMock>(options);
  std::map<std::string, std::string> headers{{"Authorization", kAuth}};
  ASSERT_EQ(http_request(mock->port(), "POST", "/sms/send", message().dump(), headers).status, 200);
  ASSERT_TRUE(eventually([&] { return mock->messages()[0].last_result_code == 1000; }));
  const auto started = std::chrono::steady_clock::now();
  mock.reset();  // the report POST is still waiting for an answer
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
}

// ---------------------------------------------------------------- faults

TEST_F(LinkMobilityMockTest, FaultHttp500ConsumesOneSendEach) {
  mock_.inject("http_500", 2);
  EXPECT_EQ(send(message(), "").status, 401);  // an unauthenticated call consumes no fault
  auto reply = send(message());
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(Json::parse(reply.body)["status"], 500);
  EXPECT_EQ(send(message()).status, 500);
  EXPECT_EQ(send(message()).status, 200);
  EXPECT_EQ(mock_.messages().size(), 1u);
  EXPECT_EQ(mock_.send_calls(), 4u);
}

TEST_F(LinkMobilityMockTest, FaultHttp503) {
  mock_.inject("http_503", 1, 3);
  const auto reply = send(message());
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.headers.at("retry-after"), "3");
  EXPECT_TRUE(mock_.messages().empty());
}

TEST_F(LinkMobilityMockTest, FaultRateLimit) {
  mock_.inject("rate_limit", 1, 7);
  mock_.inject("rate_limit");
  auto reply = send(message());
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(reply.headers.at("retry-after"), "7");
  reply = send(message());
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(reply.headers.count("retry-after"), 0u);
  EXPECT_TRUE(mock_.messages().empty());
  EXPECT_EQ(send(message()).status, 200);
}

TEST_F(LinkMobilityMockTest, FaultTimeoutAcceptsNothing) {
  mock_.inject("timeout");
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(timed_send(mock_.port(), message().dump(), 300ms).has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_EQ(mock_.send_calls(), 1u);
  EXPECT_TRUE(mock_.messages().empty());
  EXPECT_EQ(send(message()).status, 200);  // the next call is served while the first still hangs
  EXPECT_EQ(mock_.messages().size(), 1u);
}

TEST_F(LinkMobilityMockTest, FaultLoseResponseStillDelivers) {
  mock_.inject("lose_response");
  EXPECT_FALSE(timed_send(mock_.port(), message().dump(), 2s).has_value());
  ASSERT_EQ(mock_.inbox(kTo).size(), 1u);  // the possible double SMS: it was sent
  const auto reports = receiver_.wait_for(2);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1]["id"], mock_.messages()[0].message_id);
  EXPECT_EQ(Json::parse(http_request(mock_.port(), "GET", "/inbox?to=%2B4741234567").body).size(),
            1u);
}

TEST_F(LinkMobilityMockTest, FaultThrottle) {
  mock_.inject("throttle");
  const auto reply = send(message());
  ASSERT_EQ(reply.status, 200);
  const auto body = Json::parse(reply.body);
  EXPECT_EQ(body["resultCode"], 3);
  EXPECT_FALSE(body.contains("messageId"));
  EXPECT_TRUE(mock_.messages().empty());
}

TEST_F(LinkMobilityMockTest, FaultInvalidJson) {
  mock_.inject("invalid_json");
  const auto reply = send(message());
  EXPECT_EQ(reply.status, 200);
  EXPECT_FALSE(reply.body.empty());
  EXPECT_FALSE(Json::accept(reply.body));
  EXPECT_TRUE(mock_.messages().empty());
}

TEST_F(LinkMobilityMockTest, FaultDuplicateReport) {
  mock_.inject("duplicate_dlr");
  send(message());
  const auto reports = receiver_.wait_for(3);
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0]["resultCode"], 1000);
  EXPECT_EQ(reports[1]["resultCode"], 1001);
  EXPECT_EQ(reports[2], reports[1]);  // the same report, twice
  send(message());                    // the fault applied to one message only
  EXPECT_EQ(receiver_.wait_for(5).size(), 5u);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(receiver_.reports().size(), 5u);
}

TEST_F(LinkMobilityMockTest, FaultOutOfOrderReports) {
  mock_.inject("out_of_order_dlr");
  mock_.set_final_result(kTo, 1006);
  send(message());
  const auto reports = receiver_.wait_for(2);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0]["resultCode"], 1006);
  EXPECT_EQ(reports[1]["resultCode"], 1000);
  ASSERT_TRUE(eventually([&] { return mock_.messages()[0].reports_sent == 2; }));
  EXPECT_EQ(mock_.messages()[0].last_result_code, 1006);  // the mock's own state stays final
}

TEST_F(LinkMobilityMockTest, FaultNoReport) {
  mock_.inject("no_dlr");
  send(message());
  EXPECT_EQ(final_code(0), 1001);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(receiver_.posts(), 0);
}

TEST_F(LinkMobilityMockTest, FaultReportForUnknownId) {
  mock_.inject("dlr_unknown_id");
  const std::string id = Json::parse(send(message()).body)["messageId"];
  const auto reports = receiver_.wait_for(2);
  ASSERT_EQ(reports.size(), 2u);
  for (const auto& r : reports) {
    EXPECT_NE(r["id"], id);
    EXPECT_EQ(r["id"].get<std::string>().size(), 24u);
    EXPECT_EQ(r["refId"], "outbox-1");
  }
  EXPECT_EQ(reports[0]["id"], reports[1]["id"]);
  for (const auto& m : mock_.messages())
    EXPECT_NE(m.message_id, reports[0]["id"]);
}

TEST_F(LinkMobilityMockTest, UnknownFaultIsRejected) {
  EXPECT_THROW(mock_.inject("http_418"), std::invalid_argument);
  EXPECT_THROW(mock_.inject("http_500", 0), std::invalid_argument);
}

// ---------------------------------------------------------------- control API, reset

TEST_F(LinkMobilityMockTest, ControlApi) {
  auto post = [&](const std::string& path, const Json& body) {
    return http_request(mock_.port(), "POST", path, body.dump(),
                        {{"Content-Type", "application/json"}});
  };
  EXPECT_EQ(
      post("/_mock/faults", {{"fault", "rate_limit"}, {"count", 1}, {"retry_after_s", 2}}).status,
      200);
  EXPECT_EQ(post("/_mock/faults", {{"fault", "nope"}}).status, 400);
  auto reply = send(message());
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(reply.headers.at("retry-after"), "2");

  ReportReceiver other;
  EXPECT_EQ(post("/_mock/dlr-url", {{"url", other.url()}}).status, 200);
  EXPECT_EQ(post("/_mock/final-result", {{"destination", kTo}, {"resultCode", 1002}}).status, 200);
  EXPECT_EQ(post("/_mock/final-result", {{"destination", kTo}}).status, 400);
  send(message());
  const auto reports = other.wait_for(2);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1]["resultCode"], 1002);
  EXPECT_EQ(receiver_.posts(), 0);

  const auto listed = Json::parse(http_request(mock_.port(), "GET", "/_mock/messages").body);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["destination"], kTo);
  EXPECT_EQ(listed[0]["refId"], "outbox-1");
  const auto stats = Json::parse(http_request(mock_.port(), "GET", "/_mock/stats").body);
  EXPECT_EQ(stats["sendCalls"], 2);
  EXPECT_EQ(stats["messages"], 1);

  EXPECT_EQ(post("/_mock/reset", Json::object()).status, 200);
  EXPECT_TRUE(mock_.messages().empty());
  EXPECT_EQ(mock_.send_calls(), 0u);
  EXPECT_EQ(http_request(mock_.port(), "GET", "/_mock/health").status, 200);
  EXPECT_EQ(http_request(mock_.port(), "GET", "/nowhere").status, 404);
  EXPECT_EQ(http_request(mock_.port(), "GET", "/sms/send").status, 405);
}

TEST_F(LinkMobilityMockTest, HeldReportsWaitUntilReleased) {
  auto post = [&](const Json& body) {
    return http_request(mock_.port(), "POST", "/_mock/reports", body.dump(),
                        {{"Content-Type", "application/json"}});
  };
  EXPECT_EQ(post({{"held", "yes"}}).status, 400);
  ASSERT_EQ(post({{"held", true}}).status, 200);
  send(message());
  EXPECT_TRUE(receiver_.wait_for(1, 300ms).empty());  // due after 30 ms, but held
  const auto stats = Json::parse(http_request(mock_.port(), "GET", "/_mock/stats").body);
  EXPECT_EQ(stats["reportsHeld"], true);

  ASSERT_EQ(post({{"held", false}}).status, 200);
  const auto reports = receiver_.wait_for(2);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0]["resultCode"], 1000);
  EXPECT_EQ(reports[1]["resultCode"], 1001);
}

TEST_F(LinkMobilityMockTest, ResetForgetsEverything) {
  send(message());
  mock_.inject("http_500");
  mock_.inject("no_dlr");
  mock_.set_final_result(kTo, 2104);
  mock_.reset();
  EXPECT_TRUE(mock_.messages().empty());
  EXPECT_EQ(mock_.send_calls(), 0u);
  receiver_.wait_for(2, 200ms);  // reports of the forgotten message may or may not have gone out
  const auto before = receiver_.reports().size();

  const auto reply = send(message());
  ASSERT_EQ(reply.status, 200);  // no fault left
  const std::string id = Json::parse(reply.body)["messageId"];
  const auto reports = receiver_.wait_for(before + 2);
  ASSERT_EQ(reports.size(), before + 2);
  EXPECT_EQ(reports.back()["id"], id);
  EXPECT_EQ(reports.back()["resultCode"], 1001);  // the final result was forgotten too
  EXPECT_EQ(mock_.messages().size(), 1u);
  EXPECT_EQ(mock_.send_calls(), 1u);
}

}  // namespace
}  // namespace visitpay::testing
