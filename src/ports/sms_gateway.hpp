#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "common/result.hpp"

namespace visitpay::ports {

struct SmsMessage {
  std::string to;         // E.164, e.g. +4741234567 (personal data: never log)
  std::string text;       // already composed, GSM-7
  std::string reference;  // our reference (the send attempt); no personal data
  std::string sender;     // alphanumeric sender id; "" = the gateway account's default
};

struct SmsAccepted {
  std::string message_id;  // the gateway's id; delivery reports refer to it
  int segments = 1;
};

// Failures: provider_unavailable (an error answer: not sent, retry), provider_outcome_unknown (no
// usable answer: it may have been sent; its delivery report, which echoes `reference`, tells),
// provider_rejected (permanent, e.g. an invalid destination).
class SmsGateway {
 public:
  virtual ~SmsGateway() = default;
  virtual boost::asio::awaitable<common::Result<SmsAccepted>> send(const SmsMessage& message) = 0;
};

}  // namespace visitpay::ports
