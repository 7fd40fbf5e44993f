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
  std::string password;  // secret: never logged
  std::string source = "Klinikk";
  std::string platform_id;
  std::string platform_partner_id;
  std::string delivery_report_gate;  // empty: no deliveryReportGates
  std::chrono::milliseconds timeout{10000};
};

// `sms.linkmobility`: LINK Mobility Common Platform SMS REST (providers.md §3.1). One attempt per
// send: LINK documents no idempotency, so a retry could send the SMS twice; the caller decides.
class LinkMobilitySmsGateway final : public ports::SmsGateway {
 public:
  LinkMobilitySmsGateway(http::HttpClient& client, LinkMobilityConfig config);

  boost::asio::awaitable<common::Result<ports::SmsAccepted>> send(
      const ports::SmsMessage& message) override;

 private:
  http::HttpClient& client_;
  LinkMobilityConfig config_;
  std::string authorization_;  // "Basic ..."
};

// The request body of POST /sms/send (exposed for tests).
std::string send_request_body(const LinkMobilityConfig& config, const ports::SmsMessage& message);

}  // namespace visitpay::adapters::sms::linkmobility
