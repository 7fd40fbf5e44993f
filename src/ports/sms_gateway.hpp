#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "common/result.hpp"

namespace visitpay::ports {

struct SmsMessage {
  std::string to;         // E.164, e.g. +4741234567 (personal data: never log)
  std::string text;       // already composed, GSM-7
  std::string reference;  // our reference (the outbox item id); no personal data
};

struct SmsAccepted {
  std::string message_id;  // the gateway's id; delivery reports refer to it
  int segments = 1;
};

// Failures as in PaymentProvider: provider_unavailable (retry), provider_rejected (permanent,
// e.g. an invalid destination).
class SmsGateway {
 public:
  virtual ~SmsGateway() = default;
  virtual boost::asio::awaitable<common::Result<SmsAccepted>> send(const SmsMessage& message) = 0;
};

}  // namespace visitpay::ports
