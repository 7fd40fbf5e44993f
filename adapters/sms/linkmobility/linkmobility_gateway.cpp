#include "adapters/sms/linkmobility/linkmobility_gateway.hpp"

#include <algorithm>
#include <charconv>
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

std::optional<int> int_field(const Json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end()) return std::nullopt;
  std::int64_t v = 0;
  if (it->is_number_integer()) {
    v = it->get<std::int64_t>();
  } else if (it->is_string()) {
    const auto& text = it->get_ref<const std::string&>();
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (v < -10000000 || v > 10000000) return std::nullopt;
  return static_cast<int>(v);
}

std::optional<int> result_code_of(const Json& body) {
  if (!body.is_object()) return std::nullopt;
  return int_field(body, "resultCode");
}

// The code of LINK's ErrorResponse: "status" as LINK's own clients read it, "errorCode" as the
// deveel model has it; "resultCode" when a send result came back with an error status.
std::optional<int> error_code_of(const Json& body) {
  if (!body.is_object()) return std::nullopt;
  for (const char* name : {"status", "errorCode", "resultCode"}) {
    // A "status" that merely repeats the HTTP status is no LINK code.
    if (auto code = int_field(body, name); code && *code >= 1000) return code;
  }
  return std::nullopt;
}

bool is_configuration_code(int code) {
  switch (code) {
    case 106100:  // invalid authentication
    case 106101:  // access denied
    case 106200:  // invalid or missing platformId
    case 106201:  // invalid or missing platformPartnerId
    case 106202:  // invalid or missing premium currency
    case 106300:  // no gates available
    case 106301:  // specified gate unavailable
      return true;
    default:
      return false;
  }
}

constexpr int kUnknownError = 106000;

// ASCII letters and single spaces, at most `max` characters.
std::string letters_only(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max) break;
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (letter) {
      out += c;
    } else if (!out.empty() && out.back() != ' ') {
      out += ' ';
    }
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

bool is_alnum_ascii(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_digit_ascii(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::string_view sender_ton(std::string_view sender, std::string* problem) {
  auto refuse = [&](const char* why) -> std::string_view {
    if (problem != nullptr) *problem = why;
    return {};
  };
  if (!sender.empty() && sender.front() == '+') {
    const auto digits = sender.substr(1);
    if (digits.size() < 8 || digits.size() > 15 ||
        !std::all_of(digits.begin(), digits.end(), is_digit_ascii)) {
      return refuse("an MSISDN sender must be + and 8 to 15 digits");
    }
    return "MSISDN";
  }
  if (!sender.empty() && std::all_of(sender.begin(), sender.end(), is_digit_ascii)) {
    if (sender.size() > 14) return refuse("a numeric (short number) sender has 1 to 14 digits");
    return "SHORTNUMBER";
  }
  if (sender.size() < 2 || sender.size() > 11) {
    return refuse("an alphanumeric sender id has 2 to 11 characters");
  }
  if (!std::all_of(sender.begin(), sender.end(), is_alnum_ascii)) {
    return refuse("an alphanumeric sender id may hold only a-z, A-Z and 0-9");
  }
  if (is_digit_ascii(sender.front())) {
    return refuse("an alphanumeric sender id must begin with a letter");
  }
  return "ALPHANUMERIC";
}

common::Error classify_send_failure(const http::HttpResponse& response) {
  const Json body = Json::parse(response.body, nullptr, false);
  // 0: no LINK code (an int, not an optional: GCC 12 warns falsely about the latter here).
  const int code = body.is_discarded() ? 0 : error_code_of(body).value_or(0);
  const int status = response.status;
  std::string detail = "LINK Mobility refused the SMS (HTTP " + std::to_string(status);
  if (code != 0) detail += ", code " + std::to_string(code);
  // LINK's description says what it refused ("Invalid authentication"); only its letters are
  // copied, so a destination it might echo can never reach our logs.
  if (!body.is_discarded() && body.is_object()) {
    if (auto d = body.find("description"); d != body.end() && d->is_string()) {
      const auto words = letters_only(d->get_ref<const std::string&>(), 48);
      if (!words.empty()) detail += ": " + words;
    }
  }
  detail += ")";

  if (status == 401 || status == 403 || is_configuration_code(code)) {
    auto error = make_error(ErrorCode::provider_misconfigured, std::move(detail));
    error.provider_code = code != 0 ? std::to_string(code) : "http_" + std::to_string(status);
    return error;
  }
  if (code == kUnknownError) {
    auto error = make_error(ErrorCode::provider_unavailable, std::move(detail));
    error.retry_after = response.retry_after();
    return error;
  }
  auto error = http::classify_http_failure(response, detail);
  error.detail = std::move(detail);  // classify_http_failure appends the status a second time
  return error;
}

std::string send_request_body(const LinkMobilityConfig& config, const ports::SmsMessage& message) {
  Json body = Json::object();
  const std::string& source = message.sender.empty() ? config.source : message.sender;
  body["source"] = source;
  body["sourceTON"] = std::string(sender_ton(source));
  body["destination"] = message.to;
  body["userData"] = message.text;
  body["platformId"] = config.platform_id;
  body["platformPartnerId"] = config.platform_partner_id;
  if (!message.reference.empty()) body["refId"] = message.reference;
  // LINK's default is true: a 204 without the messageId that reports are matched by (p. 9).
  body["ignoreResponse"] = false;
  // smsCount (the parts a report per part will come for) is answered only when asked (p. 10).
  body["customParameters"] = Json{{"replySmsCount", "true"}};
  // Reports go only to gates LINK configured; without one, asking for reports is an error
  // (106300) or reports nobody receives (p. 7).
  body["useDeliveryReport"] = !config.delivery_report_gate.empty();
  if (!config.delivery_report_gate.empty()) {
    body["deliveryReportGates"] = Json::array({config.delivery_report_gate});
  }
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

LinkMobilitySmsGateway::LinkMobilitySmsGateway(http::HttpClient& client, LinkMobilityConfig config)
    : client_(client), config_(std::move(config)) {
  while (!config_.base_url.empty() && config_.base_url.back() == '/')
    config_.base_url.pop_back();
  authorization_ = "Basic " + base64(config_.username + ":" + config_.password);
}

std::string LinkMobilitySmsGateway::sender_problem(std::string_view sender) const {
  std::string problem;
  sender_ton(sender, &problem);
  return problem;
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
  if (!http::is_success(r.status)) co_return classify_send_failure(r);

  const Json body = Json::parse(r.body, nullptr, false);
  const std::optional<int> code = body.is_discarded() ? std::nullopt : result_code_of(body);
  if (!code) {
    // 204 ("sent, no response") included: taken, but without the id reports are matched by.
    co_return make_error(ErrorCode::provider_outcome_unknown,
                         "LINK Mobility answered HTTP " + std::to_string(r.status) +
                             " without a readable resultCode; the SMS may have been sent");
  }
  if (*code == kQueued || *code == kSentToOperator) {
    ports::SmsAccepted accepted;
    if (auto id = body.find("messageId"); id != body.end() && id->is_string()) {
      accepted.message_id = id->get<std::string>();
    }
    if (accepted.message_id.empty()) {
      co_return make_error(ErrorCode::provider_outcome_unknown,
                           "LINK Mobility queued the SMS without a messageId");
    }
    if (auto count = int_field(body, "smsCount"); count && *count > 0) {
      accepted.segments = std::min(*count, 255);
    }
    co_return accepted;
  }
  if (*code == kThrottled) {
    co_return make_error(ErrorCode::provider_unavailable,
                         "LINK Mobility is throttling (resultCode 3)");
  }
  co_return make_error(ErrorCode::provider_rejected,
                       "LINK Mobility rejected the SMS (resultCode " + std::to_string(*code) + ")");
}

}  // namespace visitpay::adapters::sms::linkmobility
