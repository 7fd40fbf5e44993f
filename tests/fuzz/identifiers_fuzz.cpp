// KID (MOD10/MOD11), national id and mobile number validation: arbitrary text plus a few
// parameters taken from the first bytes. The invariants are the promises in the headers.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "domain/kid.hpp"
#include "domain/national_id.hpp"
#include "domain/phone_number.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using namespace visitpay::domain;

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

void check_kid(std::string_view kid, KidAlgorithm alg) {
  const bool ok = kid_checksum_ok(kid, alg);
  if (kid.size() >= 2) {
    const auto base = kid.substr(0, kid.size() - 1);
    const char check = alg == KidAlgorithm::mod10 ? kid_mod10_check(base) : kid_mod11_check(base);
    FUZZ_CHECK(check == '\0' || (check >= '0' && check <= '9') ||
               (check == '-' && alg == KidAlgorithm::mod11));
    FUZZ_CHECK(ok == (check != '\0' && check == kid.back()));
    if (base.size() < kKidMaxLength) {
      const auto made = make_kid(base, alg, /*allow_dash=*/true);
      FUZZ_CHECK(ok == (made && *made == kid));
    }
  } else {
    FUZZ_CHECK(!ok);
  }
  if (!ok) return;
  FUZZ_CHECK(all_digits(kid.substr(0, kid.size() - 1)));
  // Both algorithms detect every single-digit substitution.
  std::string changed(kid);
  for (std::size_t i = 0; i < changed.size(); ++i) {
    const char original = changed[i];
    for (char c = '0'; c <= '9'; ++c) {
      if (c == original) continue;
      changed[i] = c;
      FUZZ_CHECK(!kid_checksum_ok(changed, alg));
    }
    changed[i] = original;
  }
  FUZZ_CHECK(is_valid_kid(kid, alg, {kid.size(), kid.size()}));
  FUZZ_CHECK(is_valid_kid(kid, alg) == (kid.size() >= 4 && kid.size() <= kKidMaxLength));
}

void check_invoice_kid(std::uint64_t number, KidAlgorithm alg, std::size_t length,
                       bool allow_dash) {
  const auto kid = invoice_kid(number, alg, length, allow_dash);
  const std::string digits = std::to_string(number);
  if (!kid) {
    // Refused only for a length outside 4..25 or a number that does not fit its base.
    const std::size_t room = alg == KidAlgorithm::mod11 && !allow_dash ? length - 2 : length - 1;
    FUZZ_CHECK(length < 4 || length > kKidMaxLength || digits.size() > room);
    return;
  }
  FUZZ_CHECK(kid->size() == length);
  FUZZ_CHECK(is_valid_kid(*kid, alg, {length, length}));
  FUZZ_CHECK(allow_dash || kid->back() != '-');
  // The invoice number, zero-padded, ends the base.
  const std::string_view base(kid->data(), kid->size() - 1);
  FUZZ_CHECK(base.size() >= digits.size() &&
             base.substr(base.size() - digits.size()) == std::string_view(digits));
  check_kid(*kid, alg);
}

void check_national(std::string_view id, std::chrono::year_month_day today) {
  const auto strict = check_national_id(id, false, today);
  const auto lenient = check_national_id(id, true, today);
  for (const auto& v : {strict, lenient}) {
    FUZZ_CHECK(v.valid == (v.problem == NationalIdProblem::none));
    FUZZ_CHECK(v.valid == v.reason.empty());
    if (v.valid) FUZZ_CHECK(id.size() == 11 && all_digits(id));
  }
  // Allowing synthetic numbers only ever accepts more.
  FUZZ_CHECK(!strict.valid || lenient.valid);
  FUZZ_CHECK(strict.valid || lenient.valid ||
             strict.problem == lenient.problem);  // the same fault either way
  if (strict.valid != lenient.valid) FUZZ_CHECK(strict.problem == NationalIdProblem::synthetic);
  // A birth date that is not in the future stays so: valid today, valid in ten years.
  const auto later =
      std::chrono::year_month_day{std::chrono::sys_days{today} + std::chrono::days{3653}};
  if (lenient.valid) FUZZ_CHECK(check_national_id(id, true, later).valid);
}

void check_phone(std::string_view number) {
  const auto v = check_norwegian_mobile(number);
  FUZZ_CHECK(v.valid == v.reason.empty());
  if (v.valid) {
    FUZZ_CHECK(number.size() == 11 && number.substr(0, 3) == "+47" &&
               (number[3] == '4' || number[3] == '9') && all_digits(number.substr(3)));
  }
}

}  // namespace

// Layout: flags, KID length, 8 bytes of invoice number, 2 bytes of day offset, then the text.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t kHeader = 12;
  if (size < kHeader) return 0;
  const std::uint8_t flags = data[0];
  const auto alg = (flags & 1) ? KidAlgorithm::mod11 : KidAlgorithm::mod10;
  const bool allow_dash = (flags & 2) != 0;
  const std::size_t length = data[1] % 32;
  std::uint64_t number = 0;
  std::memcpy(&number, data + 2, sizeof number);
  if (flags & 4) number %= 1'000'000;  // small numbers too, not only 20-digit ones
  std::uint16_t offset = 0;
  std::memcpy(&offset, data + 10, sizeof offset);
  // Any day from 1970 to 2149.
  const std::chrono::year_month_day today{std::chrono::sys_days{} + std::chrono::days{offset}};
  const std::string_view text(reinterpret_cast<const char*>(data + kHeader), size - kHeader);

  check_kid(text, alg);
  check_invoice_kid(number, alg, length, allow_dash);
  check_national(text, today);
  check_phone(text);
  return 0;
}
