#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace visitpay::common {

// RFC 9562 UUIDv7: time-ordered, so new sessions land at the right edge of the primary key index.
std::string new_uuid_v7(std::chrono::system_clock::time_point now);

// Canonical lower-case 8-4-4-4-12 form, or nullopt.
std::optional<std::string> normalize_uuid(std::string_view text);

}  // namespace visitpay::common
