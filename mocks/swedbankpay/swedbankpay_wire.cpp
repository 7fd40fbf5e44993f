#include "mocks/swedbankpay/swedbankpay_wire.hpp"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace visitpay::mocks::swedbankpay {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t");
  return std::string(text.substr(begin, end - begin + 1));
}

std::string title_for(std::string_view kind) {
  if (kind == "inputerror") return "Error in input data";
  if (kind == "forbidden") return "Operation not allowed";
  if (kind == "notfound") return "Not Found";
  if (kind == "unauthorized") return "Unauthorized";
  if (kind == "systemerror") return "Internal Server Error";
  if (kind == "badgateway") return "Bad Gateway";
  if (kind == "gatewaytimeout") return "Gateway Timeout";
  if (kind == "toomanyrequests") return "Too Many Requests";
  if (kind == "methodnotallowed") return "Method Not Allowed";
  return "Error";
}

std::string random_hex(std::mt19937_64& rng, std::size_t digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digits);
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    if (i % 16 == 0) bits = rng();
    out += kHex[bits & 0xfU];
    bits >>= 4U;
  }
  return out;
}

}  // namespace

MockResponse problem_response(int status, std::string_view kind, const std::string& detail,
                              const std::string& instance,
                              const std::vector<ProblemItem>& problems) {
  OrderedJson items = OrderedJson::array();
  for (const auto& p : problems)
    items.push_back({{"name", p.name}, {"description", p.description}});
  const OrderedJson body = {
      {"type", "https://api.payex.com/psp/errordetail/paymentorders/" + std::string(kind)},
      {"title", title_for(kind)},
      {"status", status},
      {"detail", detail},
      {"instance", instance},
      {"problems", items}};
  MockResponse out;
  out.status = status;
  out.content_type = kProblemContentType;
  out.body = body.dump();
  out.headers.emplace_back("api-supported-versions", "3.1");
  return out;
}

MockResponse json_response(int status, const OrderedJson& body) {
  MockResponse out;
  out.status = status;
  out.content_type = kJsonContentType;
  out.body = body.dump();
  out.headers.emplace_back("api-supported-versions", "3.1");
  return out;
}

bool is_json_v31(std::string_view content_type) {
  bool media_ok = false;
  bool version_ok = false;
  std::size_t start = 0;
  bool first = true;
  while (start <= content_type.size()) {
    auto end = content_type.find(';', start);
    if (end == std::string_view::npos) end = content_type.size();
    const std::string part = lower(trim(content_type.substr(start, end - start)));
    if (first) {
      media_ok = part == "application/json";
      first = false;
    } else {
      const auto eq = part.find('=');
      if (eq != std::string::npos && trim(part.substr(0, eq)) == "version") {
        std::string value = trim(part.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
          value = value.substr(1, value.size() - 2);
        }
        version_ok = value == "3.1";
      }
    }
    start = end + 1;
  }
  return media_ok && version_ok;
}

bool bearer_matches(std::string_view authorization, std::string_view expected) {
  const std::string value = trim(authorization);
  const auto space = value.find(' ');
  if (space == std::string::npos) return false;
  if (lower(value.substr(0, space)) != "bearer") return false;
  return trim(value.substr(space + 1)) == expected && !expected.empty();
}

bool valid_payee_reference(std::string_view text) {
  if (text.empty() || text.size() > 30) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
  }
  return n;
}

std::string now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const auto ticks =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() / 100;
  const std::time_t seconds = static_cast<std::time_t>(ticks / 10'000'000);
  const long fraction = static_cast<long>(ticks % 10'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%07ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fraction);
  return buffer;
}

std::string new_guid(std::mt19937_64& rng) {
  std::string hex = random_hex(rng, 32);
  hex[12] = '4';                // version 4
  hex[16] = "89ab"[rng() % 4];  // RFC 4122 variant
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

std::string problem_instance(const std::string& base_url) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return base_url + "/psp/probleminstance/00-" + random_hex(rng, 32) + "-" + random_hex(rng, 16) +
         "-01";
}

std::string new_token(std::mt19937_64& rng) {
  return random_hex(rng, 64);
}

std::string new_trace_id(std::mt19937_64& rng) {
  return random_hex(rng, 32);
}

}  // namespace visitpay::mocks::swedbankpay
