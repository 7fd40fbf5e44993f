#pragma once

#include <string_view>

#include "mocks/linkmobility/linkmobility_mock.hpp"

namespace visitpay::mocks::detail {

// Segment arithmetic of a message forced to UCS-2 (LINK `dcs: "UC2"`), whatever its characters.
SmsEncoding sms_encoding_ucs2(std::string_view utf8_text);

}  // namespace visitpay::mocks::detail
