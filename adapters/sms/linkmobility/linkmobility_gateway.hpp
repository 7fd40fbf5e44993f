#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "adapters/http/http_client.hpp"
#include "adapters/sms/linkmobility/delivery_report.hpp"
#include "common/result.hpp"
#include "ports/sms_gateway.hpp"

namespace visitpay::adapters::sms::linkmobility {

struct LinkMobilityConfig {
  std::string base_url;  // https://n-eu.linkmobility.io (no trailing slash)
  std::string username;
  std::string password;            // secret: never logged
  std::string source = "Klinikk";  // the default sender id (sender_problem() must accept it)
  std::string platform_id;
  std::string platform_partner_id;
  // The gate id LINK Support gave for our delivery-report URL. Empty: no gate, so no reports
  // are asked for (useDeliveryReport false, PDF p. 7), and no fee can ever count as disclosed.
  std::string delivery_report_gate;
  std::chrono::milliseconds timeout{10000};
};

// `sms.linkmobility`: LINK Mobility Common Platform SMS REST (providers.md §3.1). One attempt per
// send: LINK documents no idempotency, so a retry could send the SMS twice; the caller decides.
class LinkMobilitySmsGateway final : public ports::SmsGateway {
 public:
  LinkMobilitySmsGateway(http::HttpClient& client, LinkMobilityConfig config);

  boost::asio::awaitable<common::Result<ports::SmsAccepted>> send(
      const ports::SmsMessage& message) override;
  std::string sender_problem(std::string_view sender) const override;

 private:
  http::HttpClient& client_;
  LinkMobilityConfig config_;
  std::string authorization_;  // "Basic ..."
};

// The request body of POST /sms/send (exposed for tests).
std::string send_request_body(const LinkMobilityConfig& config, const ports::SmsMessage& message);

// The sender id's type of number (PDF pp. 4, 9): "+" and digits is an MSISDN, digits alone a
// SHORTNUMBER (1-14 digits), anything else ALPHANUMERIC, which must be 2-11 of a-z, A-Z, 0-9 and
// begin with a letter. Returns the TON, or "" with `problem` set.
std::string_view sender_ton(std::string_view sender, std::string* problem = nullptr);

// What a non-2xx answer of POST /sms/send means (exposed for tests). LINK's ErrorResponse is
// {status, description, translatedDescription} (the deveel model spells the code "errorCode"):
//   401, 403, and 400 with 106100 authentication, 106101 access denied, 106200/106201/106202
//   platform(Partner)Id or currency, 106300 no gates, 106301 gate unavailable
//       -> provider_misconfigured, provider_code = the LINK code (or "http_<status>")
//   5xx, 429, 400 with 106000 (unknown)   -> provider_unavailable (retried within the budget)
//   any other 4xx                         -> provider_rejected (this message cannot be sent)
common::Error classify_send_failure(const http::HttpResponse& response);

}  // namespace visitpay::adapters::sms::linkmobility
