#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace visitpay::domain {

// Which check-character algorithm the bank/OCR agreement prescribes for KID references.
enum class KidAlgorithm { mod10, mod11 };

// As the configuration and the database's invoice_kid() spell it.
constexpr std::string_view to_string(KidAlgorithm alg) {
  return alg == KidAlgorithm::mod10 ? "mod10" : "mod11";
}

// Longest KID any Norwegian bank accepts, including the check character (all sources agree).
inline constexpr std::size_t kKidMaxLength = 25;

// Luhn: weights 2,1,2,1,... from the rightmost base digit, two-digit products summed digit-wise,
// check = (10 - sum % 10) % 10. Returns '\0' when `base_digits` is empty or contains anything but
// ASCII digits, because no check character exists for such a base.
char kid_mod10_check(std::string_view base_digits);

// Weights 2..7 cycling from the rightmost base digit; r = sum % 11; r == 0 -> '0', r == 1 -> '-'
// (the value 10), otherwise '0' + (11 - r). Returns '\0' for an empty or non-digit base.
char kid_mod11_check(std::string_view base_digits);

// True when `kid` is at least one base digit plus a matching check character. Only digits are
// accepted, plus a final '-' for MOD11. Length limits are NOT checked here; see is_valid_kid.
bool kid_checksum_ok(std::string_view kid, KidAlgorithm alg);

// Allowed KID length including the check character. The default 4..25 is the Mastercard Payment
// Services (ex-Nets) range; the exact length should come from the bank agreement.
struct KidLength {
  std::size_t min = 4;
  std::size_t max = kKidMaxLength;
};

// Length within `len` (inclusive) and checksum_ok.
bool is_valid_kid(std::string_view kid, KidAlgorithm alg, KidLength len = {});

// Builds base + check character. For MOD11 a '-' result is returned only when `allow_dash`,
// otherwise std::nullopt (the caller then picks another base or MOD10). Also std::nullopt when the
// base is empty, contains a non-digit, or the result would exceed kKidMaxLength.
std::optional<std::string> make_kid(std::string_view base_digits, KidAlgorithm alg,
                                    bool allow_dash);

// Zero-pads the invoice number to `base_width` digits and appends the check character, e.g.
// kid_for_invoice(60224, 5, KidAlgorithm::mod10) == "602243". std::nullopt when the invoice number
// needs more than `base_width` digits (truncating would make references collide) or in any case
// where make_kid returns std::nullopt.
std::optional<std::string> kid_for_invoice(std::uint64_t invoice_number, std::size_t base_width,
                                           KidAlgorithm alg, bool allow_dash);

// The KID printed on invoice `invoice_number`: exactly `length` characters including the check
// character, the zero-padded invoice number as its base. With MOD11 and a bank that does not take
// a '-' check character, the base's first digit is a variant digit instead: 0, or 1 when 0 would
// give '-'. Changing one digit by one moves the weighted sum by its weight (2..7), so variant 1
// never gives '-' again, and no invoice number has to be skipped (the series stays gapless).
// std::nullopt when the number does not fit or `length` is outside 4..25.
std::optional<std::string> invoice_kid(std::uint64_t invoice_number, KidAlgorithm alg,
                                       std::size_t length, bool allow_dash);

}  // namespace visitpay::domain
