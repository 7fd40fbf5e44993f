#include <gtest/gtest.h>

#include "http_client.hpp"
#include "test_service.hpp"

namespace visitpay::testing {
namespace {

TEST(CheckoutApi, Placeholder) { SUCCEED(); }

}  // namespace
}  // namespace visitpay::testing
