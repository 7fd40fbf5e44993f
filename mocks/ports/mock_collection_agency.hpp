#pragma once

#include <gmock/gmock.h>

#include <boost/asio/awaitable.hpp>

#include "ports/collection_agency.hpp"

namespace visitpay::mocks {

// `hand_over` forwards to the synchronous mock `hand_over_now` (see mocks/README.md).
class MockCollectionAgency : public ports::CollectionAgency {
 public:
  MOCK_METHOD(common::Result<std::string>, hand_over_now, (const ports::CollectionCase& claim));

  boost::asio::awaitable<common::Result<std::string>> hand_over(
      const ports::CollectionCase& claim) override {
    co_return hand_over_now(claim);
  }
};

}  // namespace visitpay::mocks
