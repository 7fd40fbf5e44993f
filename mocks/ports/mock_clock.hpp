#pragma once

#include <gmock/gmock.h>

#include "ports/clock.hpp"

namespace visitpay::mocks {

// Most tests want ports::ManualClock (time moved explicitly); this is for asserting how often,
// or in what order, a class reads the time.
class MockClock : public ports::Clock {
 public:
  MOCK_METHOD(time_point, now, (), (const, override));
};

}  // namespace visitpay::mocks
