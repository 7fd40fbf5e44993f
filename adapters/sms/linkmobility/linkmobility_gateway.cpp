#include "adapters/sms/linkmobility/linkmobility_gateway.hpp"

#include <nlohmann/json.hpp>
#include <optional>

#include "adapters/http/provider_errors.hpp"

namespace visitpay::adapters::sms::linkmobility {

namespace asio = boost::asio;
using common::ErrorCode;
using common::make_error;
using common::Result;
using Json = nlohmann::json;

namespace {

constexpr int kQueued = 1005;
constexpr int kSentToOperator = 1000;
constexpr int kThrottled = 3;

// RFC 4648 base64 with padding, for the Basic credentials.
std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16 |
                       static_cast<unsigned char>(in[i + 1]) << 8 |
                       static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v =
        static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<int> result_code_of(const Json& body) {
  if (!body.is_object()) return std::nullopt;
  auto it = body.find("resultCode");
  if (it == body.end() || !it->is_number_integer()) return std::nullopt;
  const auto v = it->get<std::int64_t>();
  if (v < -1000000 || v > 1000000) return std::nullopt;
  return static_cast<int>(v);
}

}  // namespace

std::string send_request_body(const LinkMobilityConfig& config, const ports::SmsMessage& message) {
  Json body = Json::object();
  body["source"] = message.sender.empty() ? config.source : message.sender;
  body["sourceTON"] = "ALPHANUMERIC";
  body["destination"] = message.to;
  body["userData"] = message.text;
  body["platformId"] = config.platform_id;
  body["platformPartnerId"] = config.platform_partner_id;
  if (!message.reference.empty()) body["refId"] = message.reference;
  body["useDeliveryReport"] = true;
  if (!config.delivery_report_gate.empty()) {
    Json gates = Json::array();
    gates.push_back(config.delivery_report_gate);
    body["deliveryReportGates"] = std::move(gates);
  }
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

LinkMobilitySmsGateway::LinkMobilitySmsGateway(http::HttpClient& client, LinkMobilityConfig config)
    : client_(client), config_(std::move(config)) {
  while (!config_.base_url.empty() && config_.base_url.back() == '/')
    config_.base_url.pop_back();
  authorization_ = "Basic " + base64(config_.username + ":" + config_.password);
}

asio::awaitable<Result<ports::SmsAccepted>> LinkMobilitySmsGateway::send(
    const ports::SmsMessage& message) {
  http::HttpRequest request;
  request.method = "POST";
  request.url = config_.base_url + "/sms/send";
  request.timeout = config_.timeout;
  request.idempotent = false;  // LINK documents no idempotency: never resent by libcurl
  request.headers.emplace_back("Authorization", authorization_);
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("Accept", "application/json");
  request.body = send_request_body(config_, message);

  // Single attempt (see the class comment). Details below name codes, never the destination.
  auto response = co_await client_.send(std::move(request));
  if (!response) {
    // No answer (timeout, reset): the gateway may have taken the SMS.
    auto error = std::move(response).error();
    error.code = ErrorCode::provider_outcome_unknown;
    co_return error;
  }
  const http::HttpResponse& r = response.value();
  const Json body = Json::parse(r.body, nullptr, false);
  const std::optional<int> code = body.is_discarded() ? std::nullopt : result_code_of(body);

  if (http::is_success(r.status)) {
    if (!code) {
      co_return make_error(ErrorCode::provider_outcome_unknown,
                           "LINK Mobility answered HTTP " + std::to_string(r.status) +
                               " without a readable resultCode; the SMS may have been sent");
    }
    if (*code == kQueued || *code == kSentToOperator) {
      ports::SmsAccepted accepted;
      if (auto id = body.find("messageId"); id != body.end() && id->is_string()) {
        accepted.message_id = id->get<std::string>();
      }
      if (auto count = body.find("smsCount"); count != body.end() && count->is_number_integer()) {
        accepted.segments =
            static_cast<int>(std::clamp<std::int64_t>(count->get<std::int64_t>(), 1, 255));
      }
      co_return accepted;
    }
    if (*code == kThrottled) {
      co_return make_error(ErrorCode::provider_unavailable,
                           "LINK Mobility is throttling (resultCode 3)");
    }
    co_return make_error(
        ErrorCode::provider_rejected,
        "LINK Mobility rejected the SMS (resultCode " + std::to_string(*code) + ")");
  }

  std::string detail = "LINK Mobility refused the SMS";
  if (code) detail += " (resultCode " + std::to_string(*code) + ")";
  auto error = http::classify_http_failure(r, detail);
  if (code == kThrottled) error.code = ErrorCode::provider_unavailable;
  co_return error;
}

}  // namespace visitpay::adapters::sms::linkmobility
