#pragma once

#include <gmock/gmock.h>

#include <boost/asio/awaitable.hpp>

#include "ports/invoice_channel.hpp"

namespace visitpay::mocks {

// `deliver` forwards to the synchronous mock `deliver_now` (see mocks/README.md).
class MockInvoiceChannel : public ports::InvoiceChannel {
 public:
  MOCK_METHOD(common::Result<ports::InvoiceDelivered>, deliver_now,
              (const ports::InvoiceDelivery& delivery));

  boost::asio::awaitable<common::Result<ports::InvoiceDelivered>> deliver(
      const ports::InvoiceDelivery& delivery) override {
    co_return deliver_now(delivery);
  }
};

}  // namespace visitpay::mocks
