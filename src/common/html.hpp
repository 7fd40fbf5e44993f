#pragma once

#include <string>
#include <string_view>

namespace visitpay::common {

// Text made safe for HTML element content and quoted attribute values: & < > " ' escaped.
std::string html_escape(std::string_view text);

}  // namespace visitpay::common
