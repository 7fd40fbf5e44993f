#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace visitpay::http {

// The query string of a request target as decoded name -> value (the last of repeated names).
std::map<std::string, std::string, std::less<>> query_params(std::string_view target);

// "YYYY-MM-DD" -> its parts; nullopt unless a real calendar date.
std::optional<std::chrono::year_month_day> parse_iso_date(std::string_view s);

}  // namespace visitpay::http
