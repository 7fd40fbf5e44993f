#pragma once

#include <gmock/gmock.h>

#include <boost/asio/awaitable.hpp>

#include "ports/sms_gateway.hpp"

namespace visitpay::mocks {

// `send` forwards to the synchronous mock `send_now` (see mocks/README.md).
class MockSmsGateway : public ports::SmsGateway {
 public:
  MOCK_METHOD(common::Result<ports::SmsAccepted>, send_now, (const ports::SmsMessage& message));

  boost::asio::awaitable<common::Result<ports::SmsAccepted>> send(
      const ports::SmsMessage& message) override {
    co_return send_now(message);
  }
};

}  // namespace visitpay::mocks
