#pragma once

#include <gmock/gmock.h>

#include <optional>
#include <string>
#include <string_view>

#include "ports/key_store.hpp"

namespace visitpay::mocks {

class MockKeyStore : public ports::KeyStore {
 public:
  MOCK_METHOD(std::string, active_key_id, (), (const, override));
  MOCK_METHOD(std::optional<common::DataKey>, master_key, (std::string_view key_id),
              (const, override));
};

}  // namespace visitpay::mocks
