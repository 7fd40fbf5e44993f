#pragma once

// Wire-level helpers of the mock Swedbank Pay: RFC 7807 problems, v3.1 content types, ids and
// timestamps as the real API writes them. Internal to mocks/swedbankpay/.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "mocks/common/mock_http_server.hpp"

namespace visitpay::mocks::swedbankpay {

using OrderedJson = nlohmann::ordered_json;

// "application/json; charset=utf-8; version=3.1", what the real API answers with.
inline constexpr const char* kJsonContentType = "application/json; charset=utf-8; version=3.1";
inline constexpr const char* kProblemContentType = "application/problem+json; charset=utf-8";

// One entry of a problem's `problems` array: the field (e.g. "PaymentOrder.Amount") and why.
struct ProblemItem {
  std::string name;
  std::string description;
};

// RFC 7807 answer `{type:"https://api.payex.com/psp/errordetail/paymentorders/<kind>", title,
// status, detail, instance, problems:[...]}` (providers.md §1.8, §9). `title` is derived from the
// kind; `instance` should come from problem_instance().
MockResponse problem_response(int status, std::string_view kind, const std::string& detail,
                              const std::string& instance,
                              const std::vector<ProblemItem>& problems = {});

// A problem's `instance` as the real API writes it for payment orders: a trace id for its
// support, "<base>/psp/probleminstance/00-<32 hex>-<16 hex>-01" (providers.md §9), never the
// resource the problem is about.
std::string problem_instance(const std::string& base_url);

// A v3.1 JSON answer with the `api-supported-versions` header.
MockResponse json_response(int status, const OrderedJson& body);

// True for `application/json;version=3.1`, case-insensitive, tolerating spaces and other
// parameters such as charset.
bool is_json_v31(std::string_view content_type);

// `Bearer <token>` (scheme case-insensitive) carrying exactly `expected`.
bool bearer_matches(std::string_view authorization, std::string_view expected);

// Swedbank Pay's payeeReference when Swedbank settles: [A-Za-z0-9]{1,30}.
bool valid_payee_reference(std::string_view text);

// Number of code points in UTF-8 text (field lengths such as description(40) count characters).
std::size_t utf8_length(std::string_view text);

// ISO-8601 UTC with 7 fractional digits, e.g. "2022-01-07T07:58:26.1300282Z".
std::string now_iso8601();

// A random RFC 4122 version-4 GUID in lower-case 8-4-4-4-12 form.
std::string new_guid(std::mt19937_64& rng);

// 64 random lower-case hex characters (payer page tokens). providers.md §1.2 shows the link as
// `https://ecom.../checkout/<token>?...` and says to treat it as opaque; it gives no token length.
// 64 hex is what Swedbank Pay's public examples show (not checked against the live service).
std::string new_token(std::mt19937_64& rng);

// 32 random lower-case hex characters: the `_tc_tid` query the documented example links carry
// (providers.md §1.2: `https://ecom.../payment/menu/<token>?_tc_tid=...`).
std::string new_trace_id(std::mt19937_64& rng);

}  // namespace visitpay::mocks::swedbankpay
