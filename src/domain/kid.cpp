#include "domain/kid.hpp"

#include <array>
#include <charconv>
#include <system_error>

namespace visitpay::domain {
namespace {

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (!is_ascii_digit(c)) {
      return false;
    }
  }
  return true;
}

char check_for(std::string_view base_digits, KidAlgorithm alg) {
  return alg == KidAlgorithm::mod10 ? kid_mod10_check(base_digits) : kid_mod11_check(base_digits);
}

}  // namespace

char kid_mod10_check(std::string_view base_digits) {
  if (base_digits.empty() || !all_digits(base_digits)) {
    return '\0';
  }
  int sum = 0;
  int weight = 2;
  for (auto it = base_digits.rbegin(); it != base_digits.rend(); ++it) {
    const int product = (*it - '0') * weight;
    // A product is at most 18, so summing its digits is product - 9 when it has two.
    sum += product >= 10 ? product - 9 : product;
    weight = weight == 2 ? 1 : 2;
  }
  // The outer "% 10" maps a sum ending in 0 to check digit 0; some public validators get this
  // wrong and reject valid KIDs ending in 0.
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

char kid_mod11_check(std::string_view base_digits) {
  if (base_digits.empty() || !all_digits(base_digits)) {
    return '\0';
  }
  int sum = 0;
  int weight = 2;
  for (auto it = base_digits.rbegin(); it != base_digits.rend(); ++it) {
    sum += (*it - '0') * weight;
    weight = weight == 7 ? 2 : weight + 1;
  }
  const int r = sum % 11;
  if (r == 0) {
    return '0';
  }
  if (r == 1) {
    return '-';
  }
  return static_cast<char>('0' + (11 - r));
}

bool kid_checksum_ok(std::string_view kid, KidAlgorithm alg) {
  if (kid.size() < 2) {
    return false;
  }
  const std::string_view base = kid.substr(0, kid.size() - 1);
  const char check = check_for(base, alg);
  // check_for returns '\0' for a non-digit base, which never equals a real character here.
  return check != '\0' && check == kid.back();
}

bool is_valid_kid(std::string_view kid, KidAlgorithm alg, KidLength len) {
  return kid.size() >= len.min && kid.size() <= len.max && kid_checksum_ok(kid, alg);
}

std::optional<std::string> make_kid(std::string_view base_digits, KidAlgorithm alg,
                                    bool allow_dash) {
  if (base_digits.size() >= kKidMaxLength) {
    return std::nullopt;
  }
  const char check = check_for(base_digits, alg);
  if (check == '\0' || (check == '-' && !allow_dash)) {
    return std::nullopt;
  }
  std::string kid;
  kid.reserve(base_digits.size() + 1);
  kid.append(base_digits);
  kid.push_back(check);
  return kid;
}

std::optional<std::string> kid_for_invoice(std::uint64_t invoice_number, std::size_t base_width,
                                           KidAlgorithm alg, bool allow_dash) {
  // Checked before padding so an absurd width cannot trigger a huge allocation.
  if (base_width == 0 || base_width >= kKidMaxLength) {
    return std::nullopt;
  }
  std::array<char, 20> buf{};  // UINT64_MAX has 20 decimal digits.
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), invoice_number);
  const auto used = static_cast<std::size_t>(end - buf.data());
  if (ec != std::errc{} || used > base_width) {
    return std::nullopt;
  }
  std::string base(base_width - used, '0');
  base.append(buf.data(), used);
  return make_kid(base, alg, allow_dash);
}

std::optional<std::string> invoice_kid(std::uint64_t invoice_number, KidAlgorithm alg,
                                       std::size_t length, bool allow_dash) {
  if (length < KidLength{}.min || length > kKidMaxLength) return std::nullopt;
  if (alg == KidAlgorithm::mod10 || allow_dash) {
    return kid_for_invoice(invoice_number, length - 1, alg, allow_dash);
  }
  // MOD11 without '-': one variant digit, then the number in length - 2 digits.
  auto plain = kid_for_invoice(invoice_number, length - 2, alg, /*allow_dash=*/true);
  if (!plain) return std::nullopt;
  const std::string number_digits = plain->substr(0, plain->size() - 1);
  for (const char variant : {'0', '1'}) {
    if (auto kid = make_kid(std::string(1, variant) + number_digits, alg, false)) return kid;
  }
  return std::nullopt;  // unreachable: variant 1 never gives '-' when variant 0 did
}

}  // namespace visitpay::domain
