#pragma once

#include <gmock/gmock.h>

#include <boost/asio/awaitable.hpp>
#include <string>

#include "ports/payment_provider.hpp"

namespace visitpay::mocks {

// gmock cannot return an awaitable: each coroutine of the port forwards to a synchronous
// `<name>_now` mock method that tests set expectations on (see mocks/README.md).
class MockPaymentProvider : public ports::PaymentProvider {
 public:
  MOCK_METHOD(common::Result<ports::PaymentOrder>, create_order_now,
              (const ports::PaymentOrderRequest& request));
  MOCK_METHOD(common::Result<ports::PaymentOrder>, get_order_now, (const std::string& order_id));
  MOCK_METHOD(common::Result<ports::PaymentOrder>, abort_order_now, (const std::string& order_id));
  MOCK_METHOD(common::Result<ports::PaymentOrder>, capture_now,
              (const std::string& order_id, const ports::CaptureRequest& request));
  MOCK_METHOD(common::Result<ports::PaymentOrder>, cancel_now,
              (const std::string& order_id, const ports::CancelRequest& request));
  MOCK_METHOD(common::Result<ports::PaymentOrder>, reverse_now,
              (const std::string& order_id, const ports::ReversalRequest& request));
  MOCK_METHOD(std::string, callback_url, (), (const, override));

  boost::asio::awaitable<common::Result<ports::PaymentOrder>> create_order(
      const ports::PaymentOrderRequest& request) override {
    co_return create_order_now(request);
  }
  boost::asio::awaitable<common::Result<ports::PaymentOrder>> get_order(
      const std::string& order_id) override {
    co_return get_order_now(order_id);
  }
  boost::asio::awaitable<common::Result<ports::PaymentOrder>> abort_order(
      const std::string& order_id) override {
    co_return abort_order_now(order_id);
  }
  boost::asio::awaitable<common::Result<ports::PaymentOrder>> capture(
      const std::string& order_id, const ports::CaptureRequest& request) override {
    co_return capture_now(order_id, request);
  }
  boost::asio::awaitable<common::Result<ports::PaymentOrder>> cancel(
      const std::string& order_id, const ports::CancelRequest& request) override {
    co_return cancel_now(order_id, request);
  }
  boost::asio::awaitable<common::Result<ports::PaymentOrder>> reverse(
      const std::string& order_id, const ports::ReversalRequest& request) override {
    co_return reverse_now(order_id, request);
  }
};

}  // namespace visitpay::mocks
