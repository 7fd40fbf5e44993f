#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace visitpay::ports {

struct SmsMessage {
  std::string to;    // E.164, e.g. +4741234567 (personal data: never log)
  std::string text;  // already composed, GSM-7
  // Our reference (the send attempt), echoed in delivery reports. It carries a secret part, so
  // a report naming it proves it came from the gateway; no personal data.
  std::string reference;
  std::string sender;  // sender id; "" = the gateway account's default
};

struct SmsAccepted {
  std::string message_id;  // the gateway's id; delivery reports refer to it
  int segments = 0;        // parts the gateway made of the text; 0: it did not say
};

// Failures: provider_unavailable (an error answer: not sent, retry), provider_outcome_unknown (no
// usable answer: it may have been sent; its delivery report, which echoes `reference`, tells),
// provider_rejected (permanent, e.g. an invalid destination), provider_misconfigured (our
// credentials or account settings are refused: not sent, nothing wrong with the message; retried
// once ops fixed it, never a reason to give up on the payer).
class SmsGateway {
 public:
  virtual ~SmsGateway() = default;
  virtual boost::asio::awaitable<common::Result<SmsAccepted>> send(const SmsMessage& message) = 0;
  // Why the gateway could not send from `sender` ("" if it can); checked at start-up for every
  // clinic's sender id, so a bad one stops the service instead of every SMS.
  virtual std::string sender_problem(std::string_view /*sender*/) const { return {}; }
};

}  // namespace visitpay::ports
