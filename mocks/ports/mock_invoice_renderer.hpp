#pragma once

#include <gmock/gmock.h>

#include <string>

#include "ports/invoice_channel.hpp"

namespace visitpay::mocks {

class MockInvoiceRenderer : public ports::InvoiceRenderer {
 public:
  MOCK_METHOD(common::Result<std::string>, render, (const domain::InvoiceDocument& document),
              (const, override));
};

}  // namespace visitpay::mocks
