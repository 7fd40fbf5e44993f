#include "domain/checkout.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace visitpay::domain {
namespace {

using common::FieldError;
using std::chrono::hours;
using std::chrono::microseconds;

Timestamp utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{mo},
                                        std::chrono::day{d}};
  return Timestamp{std::chrono::sys_days{ymd}} + hours{h} + std::chrono::minutes{mi};
}

const Timestamp kNow = utc(2026, 11, 22, 13, 5);

CheckoutRequest valid_request() {
  CheckoutRequest r;
  r.clinic_id = "oslo-sentrum";
  r.visit_id = "V-2026-000123";
  r.checked_out_at = kNow - hours{1};
  r.currency = "NOK";
  r.lines = {{"Konsultasjon spesialist", 65000, 0}};
  r.payer.name = "Kari Nordmann";
  r.payer.national_id = "13097248022";
  r.payer.phone = "+4741234567";
  r.payer.address = {"Storgata 1", "0155", "Oslo", "NO"};
  return r;
}

std::vector<FieldError> validate(const CheckoutRequest& r, const CheckoutRules& rules = {}) {
  std::vector<FieldError> errors;
  validate_checkout(
      r, rules, [](std::string_view id) { return id == "oslo-sentrum"; }, kNow, errors);
  return errors;
}

std::vector<std::string> pointers(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors)
    out.push_back(e.pointer);
  return out;
}

// Asserts that exactly one error was reported, at `pointer`, and returns its detail.
std::string only_error_at(const CheckoutRequest& r, const std::string& pointer,
                          const CheckoutRules& rules = {}) {
  const auto errors = validate(r, rules);
  EXPECT_EQ(pointers(errors), std::vector<std::string>{pointer});
  return errors.empty() ? std::string() : errors.front().detail;
}

std::string repeat(std::string_view unit, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out += unit;
  return out;
}

TEST(ValidateCheckout, FullyValidRequestHasNoErrors) {
  EXPECT_TRUE(validate(valid_request()).empty());
  auto minimal = valid_request();
  minimal.payer.national_id.reset();
  minimal.payer.phone.reset();
  EXPECT_TRUE(validate(minimal).empty());
}

TEST(ValidateCheckout, ClinicIdPatternViolationsAreReportedAtClinicId) {
  for (const std::string& id : std::vector<std::string>{"", "Oslo-Sentrum", "-oslo", "oslo_sentrum",
                                                        "oslo sentrum", std::string(65, 'a')}) {
    auto r = valid_request();
    r.clinic_id = id;
    SCOPED_TRACE(id);
    EXPECT_EQ(only_error_at(r, "/clinic_id"), "must be 1-64 characters of a-z, 0-9 and '-'");
  }
}

TEST(ValidateCheckout, UnknownClinicIsReportedAtClinicId) {
  auto r = valid_request();
  r.clinic_id = "bergen-brygge";
  EXPECT_EQ(only_error_at(r, "/clinic_id"), "is not a clinic configured in this service");
}

TEST(ValidateCheckout, ClinicExistsIsNotAskedForMalformedIds) {
  auto r = valid_request();
  r.clinic_id = "BAD ID";
  int calls = 0;
  std::vector<FieldError> errors;
  validate_checkout(
      r, {},
      [&calls](std::string_view) {
        ++calls;
        return true;
      },
      kNow, errors);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(pointers(errors), std::vector<std::string>{"/clinic_id"});
}

TEST(ValidateCheckout, VisitIdPatternAndLengthViolationsAreReportedAtVisitId) {
  for (const std::string& id : std::vector<std::string>{
           "", "-V1", ".V1", "V 1", "V#1", "V-æ", std::string("V1\n"), std::string(65, 'V')}) {
    auto r = valid_request();
    r.visit_id = id;
    SCOPED_TRACE(id);
    only_error_at(r, "/visit_id");
  }
}

TEST(ValidateCheckout, VisitIdAcceptsAllowedPunctuationAndSixtyFourCharacters) {
  for (const std::string& id :
       std::vector<std::string>{"a", "0", "V.2026_01:ab/c-d", std::string(64, 'Z')}) {
    auto r = valid_request();
    r.visit_id = id;
    EXPECT_TRUE(validate(r).empty()) << id;
  }
}

TEST(ValidateCheckout, CheckedOutAtMayBeUpToTwentyFourHoursAhead) {
  auto r = valid_request();
  r.checked_out_at = kNow + hours{24};
  EXPECT_TRUE(validate(r).empty());
  r.checked_out_at = kNow - hours{24 * 365};
  EXPECT_TRUE(validate(r).empty());
}

TEST(ValidateCheckout, CheckedOutAtBeyondTwentyFourHoursAheadIsRejected) {
  auto r = valid_request();
  r.checked_out_at = kNow + hours{24} + microseconds{1};
  EXPECT_EQ(only_error_at(r, "/checked_out_at"), "must not be in the future");
}

TEST(ValidateCheckout, FutureSkewComesFromRules) {
  CheckoutRules rules;
  rules.max_future_skew = hours{1};
  auto r = valid_request();
  r.checked_out_at = kNow + hours{2};
  only_error_at(r, "/checked_out_at", rules);
}

TEST(ValidateCheckout, CurrencyOtherThanNokIsRejected) {
  for (const std::string& currency : std::vector<std::string>{"SEK", "nok", "", "NOK "}) {
    auto r = valid_request();
    r.currency = currency;
    SCOPED_TRACE(currency);
    only_error_at(r, "/currency");
  }
}

TEST(ValidateCheckout, ZeroLinesIsRejectedAtLines) {
  auto r = valid_request();
  r.lines.clear();
  EXPECT_EQ(only_error_at(r, "/lines"), "must hold at least one line");
}

TEST(ValidateCheckout, MoreLinesThanTheMaximumIsRejectedAtLines) {
  CheckoutRules rules;
  rules.max_lines = 3;
  auto r = valid_request();
  r.lines.assign(3, {"Line", 100, 0});
  EXPECT_TRUE(validate(r, rules).empty());
  r.lines.assign(4, {"Line", 100, 0});
  EXPECT_EQ(only_error_at(r, "/lines", rules), "must hold at most 3 lines");
}

TEST(ValidateCheckout, DefaultMaximumIsFiftyLines) {
  auto r = valid_request();
  r.lines.assign(50, {"Line", 100, 0});
  EXPECT_TRUE(validate(r).empty());
  r.lines.assign(51, {"Line", 100, 0});
  only_error_at(r, "/lines");
}

TEST(ValidateCheckout, BlankDescriptionIsRejectedAtItsLine) {
  for (const std::string& text : std::vector<std::string>{"", " ", "    "}) {
    auto r = valid_request();
    r.lines.push_back({text, 100, 0});
    SCOPED_TRACE("[" + text + "]");
    EXPECT_EQ(only_error_at(r, "/lines/1/description"), "must not be empty");
  }
}

TEST(ValidateCheckout, DescriptionWithControlCharactersIsRejected) {
  for (const std::string& text : std::vector<std::string>{
           std::string("Konsultasjon\n"), std::string("a\tb"), std::string("a\x7f"),
           std::string("a\x1b[31m"), std::string("a\0b", 3)}) {
    auto r = valid_request();
    r.lines[0].description = text;
    EXPECT_EQ(only_error_at(r, "/lines/0/description"), "must not contain control characters");
  }
}

TEST(ValidateCheckout, DescriptionLengthIsCountedInUtf8Characters) {
  auto r = valid_request();
  // 200 two-byte characters are 400 bytes but exactly the limit.
  r.lines[0].description = repeat("æ", 200);
  EXPECT_TRUE(validate(r).empty());
  r.lines[0].description = repeat("øå", 100);
  EXPECT_TRUE(validate(r).empty());
  r.lines[0].description = repeat("å", 201);
  EXPECT_EQ(only_error_at(r, "/lines/0/description"), "must be at most 200 characters");
  r.lines[0].description = std::string(201, 'a');
  only_error_at(r, "/lines/0/description");
}

TEST(ValidateCheckout, DescriptionLimitComesFromRules) {
  CheckoutRules rules;
  rules.max_description_length = 5;
  auto r = valid_request();
  r.lines[0].description = "æøåæø";
  EXPECT_TRUE(validate(r, rules).empty());
  r.lines[0].description = "æøåæøå";
  EXPECT_EQ(only_error_at(r, "/lines/0/description", rules), "must be at most 5 characters");
}

TEST(ValidateCheckout, NonPositiveAmountIsRejectedAtItsLine) {
  for (Ore amount : {Ore{0}, Ore{-1}, std::numeric_limits<Ore>::min()}) {
    auto r = valid_request();
    r.lines.push_back({"Line", amount, 0});
    SCOPED_TRACE(amount);
    EXPECT_EQ(only_error_at(r, "/lines/1/amount"), "must be a positive integer number of øre");
  }
}

TEST(ValidateCheckout, AmountAboveMaximumIsRejected) {
  auto r = valid_request();
  r.lines[0].amount = CheckoutRules{}.max_line_amount;
  EXPECT_TRUE(validate(r).empty());
  r.lines[0].amount = CheckoutRules{}.max_line_amount + 1;
  EXPECT_EQ(only_error_at(r, "/lines/0/amount"), "must be at most 100000000 øre");
}

TEST(ValidateCheckout, NegativeVatIsRejected) {
  auto r = valid_request();
  r.lines[0].vat_amount = -1;
  EXPECT_EQ(only_error_at(r, "/lines/0/vat_amount"),
            "must be zero or a positive integer number of øre");
}

TEST(ValidateCheckout, VatAboveAmountIsRejectedButEqualIsAllowed) {
  auto r = valid_request();
  r.lines[0].vat_amount = r.lines[0].amount;
  EXPECT_TRUE(validate(r).empty());
  r.lines[0].vat_amount = r.lines[0].amount + 1;
  EXPECT_EQ(only_error_at(r, "/lines/0/vat_amount"), "must not exceed the line amount");
}

TEST(ValidateCheckout, VatIsNotComparedWithAnInvalidAmount) {
  auto r = valid_request();
  r.lines[0].amount = 0;
  r.lines[0].vat_amount = 10;
  only_error_at(r, "/lines/0/amount");
}

TEST(ValidateCheckout, EveryOffendingLineIsReported) {
  auto r = valid_request();
  r.lines = {{"", 100, 0}, {"ok", 100, 0}, {"ok", -5, -1}};
  EXPECT_EQ(
      pointers(validate(r)),
      (std::vector<std::string>{"/lines/0/description", "/lines/2/amount", "/lines/2/vat_amount"}));
}

TEST(ValidateCheckout, TotalAmountMustEqualSumOfLines) {
  auto r = valid_request();
  r.lines = {{"A", 65000, 0}, {"B", 1500, 300}};
  r.total_amount = 66500;
  EXPECT_TRUE(validate(r).empty());
  r.total_amount = 66499;
  EXPECT_EQ(only_error_at(r, "/total_amount"),
            "must equal the sum of the line amounts (66500 øre)");
}

TEST(ValidateCheckout, TotalAmountIsOnlyCheckedWhenLinesAreFine) {
  auto r = valid_request();
  r.lines = {{"A", 65000, 0}, {"B", 0, 0}};
  r.total_amount = 1;
  only_error_at(r, "/lines/1/amount");

  r.lines.clear();
  only_error_at(r, "/lines");
}

TEST(ValidateCheckout, TotalAmountIsNotCheckedWhenThereAreTooManyLines) {
  // Lines beyond max_lines are never validated, yet CheckoutRequest::amount() sums all of them
  // for the total check. With an unchecked huge amount the sum overflows (signed overflow: UB).
  CheckoutRules rules;
  rules.max_lines = 2;
  auto r = valid_request();
  r.lines = {{"A", 100, 0}, {"B", 100, 0}, {"C", 100, 0}};
  r.total_amount = 1;
  only_error_at(r, "/lines", rules);
}

TEST(ValidateCheckout, PayerNameMustBePresentPrintableAndAtMostTwoHundredCharacters) {
  auto r = valid_request();
  r.payer.name = "  ";
  EXPECT_EQ(only_error_at(r, "/payer/name"), "must not be empty");
  r.payer.name = "Kari\nNordmann";
  EXPECT_EQ(only_error_at(r, "/payer/name"), "must not contain control characters");
  r.payer.name = repeat("Ø", 200);
  EXPECT_TRUE(validate(r).empty());
  r.payer.name = repeat("Ø", 201);
  EXPECT_EQ(only_error_at(r, "/payer/name"), "must be at most 200 characters");
}

TEST(ValidateCheckout, InvalidNationalIdIsRejected) {
  for (const std::string& id :
       std::vector<std::string>{"13097248032", "13097248023", "15108695077", "1309724802",
                                "130972480222", "1309724802x"}) {
    auto r = valid_request();
    r.payer.national_id = id;
    SCOPED_TRACE(id);
    const std::string detail = only_error_at(r, "/payer/national_id");
    EXPECT_FALSE(detail.empty());
    // The detail goes into error bodies: it must never echo the number.
    EXPECT_EQ(detail.find(id), std::string::npos);
  }
}

TEST(ValidateCheckout, ValidNationalIdsAreAccepted) {
  for (const std::string& id :
       std::vector<std::string>{"13097248022", "31129956715", "53097248016", "30108299939"}) {
    auto r = valid_request();
    r.payer.national_id = id;
    EXPECT_TRUE(validate(r).empty()) << id;
  }
}

TEST(ValidateCheckout, SyntheticNationalIdNeedsTheRuleToAllowIt) {
  for (const std::string& id :
       std::vector<std::string>{"10915596784", "50846202355", "71529000000"}) {
    auto r = valid_request();
    r.payer.national_id = id;
    SCOPED_TRACE(id);
    only_error_at(r, "/payer/national_id");
    CheckoutRules allow;
    allow.allow_synthetic_national_ids = true;
    EXPECT_TRUE(validate(r, allow).empty());
  }
}

TEST(ValidateCheckout, HealthSectorNumbersAreAcceptedWithoutTheSyntheticRule) {
  // H-number (month + 40) and FH-number (first digit 8 or 9).
  for (const std::string& id : std::vector<std::string>{"13527248013", "81234500090"}) {
    auto r = valid_request();
    r.payer.national_id = id;
    EXPECT_TRUE(validate(r).empty()) << id;
  }
}

TEST(ValidateCheckout, BirthDateMustBeRealAndNotAfterTodayInOslo) {
  auto r = valid_request();
  r.payer.national_id = "29022350097";  // 29 February 2023
  EXPECT_EQ(only_error_at(r, "/payer/national_id"), "not a valid date");
  r.payer.national_id = "23112650083";  // 23 November 2026, the day after kNow
  EXPECT_EQ(only_error_at(r, "/payer/national_id"), "the birth date is in the future");
  r.payer.national_id = "22112650044";  // born on kNow's day
  EXPECT_TRUE(validate(r).empty());
}

TEST(ValidateCheckout, PhoneMustBeNorwegianMobile) {
  auto r = valid_request();
  r.payer.phone = "+4740612345";
  EXPECT_TRUE(validate(r).empty());
  for (const std::string& phone :
       std::vector<std::string>{"+4721234567", "+4758123456", "+4759123456", "4741234567",
                                "+47 41234567", "+474123456", "+46412345678"}) {
    r.payer.phone = phone;
    SCOPED_TRACE(phone);
    const std::string detail = only_error_at(r, "/payer/phone");
    EXPECT_EQ(detail.find(phone), std::string::npos);
  }
}

TEST(ValidateCheckout, EmailMustBeAPlainAddress) {
  auto r = valid_request();
  r.payer.email = "kari.nordmann@example.no";
  EXPECT_TRUE(validate(r).empty());
  for (const std::string& email : std::vector<std::string>{
           "kari", "kari@example", "kari@@example.no", "kari nordmann@example.no",
           "kari@example.no\r\nBcc: x@y.no", "kåri@example.no", ""}) {
    r.payer.email = email;
    SCOPED_TRACE(email);
    const std::string detail = only_error_at(r, "/payer/email");
    if (!email.empty()) {
      EXPECT_EQ(detail.find(email), std::string::npos);
    }
  }
}

TEST(ValidateCheckout, AddressPostalCodeMustBeFourDigits) {
  for (const std::string& code :
       std::vector<std::string>{"155", "01555", "01a5", "", "0 55", "０１５５"}) {
    auto r = valid_request();
    r.payer.address.postal_code = code;
    SCOPED_TRACE(code);
    EXPECT_EQ(only_error_at(r, "/payer/address/postal_code"), "must be 4 digits");
  }
}

TEST(ValidateCheckout, AddressCountryMustBeNo) {
  for (const std::string& country : std::vector<std::string>{"SE", "no", "", "NOR"}) {
    auto r = valid_request();
    r.payer.address.country = country;
    only_error_at(r, "/payer/address/country");
  }
}

TEST(ValidateCheckout, AddressCityAndStreetAreRequiredTexts) {
  auto r = valid_request();
  r.payer.address.city = "";
  EXPECT_EQ(only_error_at(r, "/payer/address/city"), "must not be empty");
  r.payer.address.city = repeat("å", 100);
  EXPECT_TRUE(validate(r).empty());
  r.payer.address.city = repeat("å", 101);
  EXPECT_EQ(only_error_at(r, "/payer/address/city"), "must be at most 100 characters");

  r = valid_request();
  r.payer.address.street = " ";
  only_error_at(r, "/payer/address/street");
  r.payer.address.street = "Storgata\r1";
  only_error_at(r, "/payer/address/street");
  r.payer.address.street = std::string(201, 's');
  only_error_at(r, "/payer/address/street");
}

TEST(ValidateCheckout, ReportsEveryFieldAtOnceInDocumentOrder) {
  CheckoutRequest r;  // everything empty
  r.checked_out_at = kNow + hours{48};
  r.payer.national_id = "13097248032";
  r.payer.phone = "+4721234567";
  EXPECT_EQ(pointers(validate(r)),
            (std::vector<std::string>{"/clinic_id", "/visit_id", "/checked_out_at", "/currency",
                                      "/lines", "/payer/name", "/payer/national_id", "/payer/phone",
                                      "/payer/address/street", "/payer/address/postal_code",
                                      "/payer/address/city", "/payer/address/country"}));
}

TEST(ValidateCheckout, AppendsToExistingErrors) {
  std::vector<FieldError> errors{{"/earlier", "kept"}};
  auto r = valid_request();
  r.currency = "EUR";
  validate_checkout(
      r, {}, [](std::string_view) { return true; }, kNow, errors);
  EXPECT_EQ(pointers(errors), (std::vector<std::string>{"/earlier", "/currency"}));
}

TEST(CheckoutRequest, AmountAndVatAreSumsOfLines) {
  CheckoutRequest r;
  EXPECT_EQ(r.amount(), 0);
  EXPECT_EQ(r.vat_amount(), 0);
  r.lines = {{"A", 65000, 0}, {"B", 12500, 2500}, {"C", 1, 1}};
  EXPECT_EQ(r.amount(), 77501);
  EXPECT_EQ(r.vat_amount(), 2501);
}

TEST(Utf8Length, CountsCodePointsNotBytes) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("æøå"), 3u);
  EXPECT_EQ(utf8_length("ÆØÅ"), 3u);
  EXPECT_EQ(utf8_length("Bærum"), 5u);
  EXPECT_EQ(utf8_length("€"), 1u);                 // 3 bytes
  EXPECT_EQ(utf8_length("\xF0\x9F\x98\x80"), 1u);  // U+1F600, 4 bytes
  EXPECT_EQ(std::string("æøå").size(), 6u);
}

TEST(CanonicalForm, EqualRequestsHaveEqualForms) {
  EXPECT_EQ(canonical_form(valid_request()), canonical_form(valid_request()));
  EXPECT_FALSE(canonical_form(valid_request()).empty());
}

TEST(CanonicalForm, EverySingleFieldChangeChangesTheForm) {
  const std::string base = canonical_form(valid_request());
  const std::vector<std::pair<std::string, std::function<void(CheckoutRequest&)>>> changes = {
      {"clinic_id", [](CheckoutRequest& r) { r.clinic_id = "bergen-brygge"; }},
      {"visit_id", [](CheckoutRequest& r) { r.visit_id += "1"; }},
      {"checked_out_at", [](CheckoutRequest& r) { r.checked_out_at += microseconds{1}; }},
      {"currency", [](CheckoutRequest& r) { r.currency = "SEK"; }},
      {"add line",
       [](CheckoutRequest& r) {
         r.lines.push_back({"Ekstra", 100, 0});
       }},
      {"remove line", [](CheckoutRequest& r) { r.lines.clear(); }},
      {"line description", [](CheckoutRequest& r) { r.lines[0].description += "."; }},
      {"line amount", [](CheckoutRequest& r) { r.lines[0].amount += 1; }},
      {"line vat", [](CheckoutRequest& r) { r.lines[0].vat_amount = 1; }},
      {"total present", [](CheckoutRequest& r) { r.total_amount = 65000; }},
      {"payer name", [](CheckoutRequest& r) { r.payer.name = "Ola Nordmann"; }},
      {"national_id absent", [](CheckoutRequest& r) { r.payer.national_id.reset(); }},
      {"national_id other", [](CheckoutRequest& r) { r.payer.national_id = "31129956715"; }},
      {"national_id empty", [](CheckoutRequest& r) { r.payer.national_id = ""; }},
      {"phone absent", [](CheckoutRequest& r) { r.payer.phone.reset(); }},
      {"email", [](CheckoutRequest& r) { r.payer.email = "kari@example.no"; }},
      {"phone other", [](CheckoutRequest& r) { r.payer.phone = "+4740612345"; }},
      {"street", [](CheckoutRequest& r) { r.payer.address.street = "Storgata 2"; }},
      {"postal_code", [](CheckoutRequest& r) { r.payer.address.postal_code = "0156"; }},
      {"city", [](CheckoutRequest& r) { r.payer.address.city = "Bergen"; }},
      {"country", [](CheckoutRequest& r) { r.payer.address.country = "SE"; }},
  };
  for (const auto& [name, change] : changes) {
    auto r = valid_request();
    change(r);
    EXPECT_NE(canonical_form(r), base) << name;
  }
}

TEST(CanonicalForm, TotalAmountValueMatters) {
  auto a = valid_request();
  auto b = valid_request();
  a.total_amount = 65000;
  b.total_amount = 65001;
  EXPECT_NE(canonical_form(a), canonical_form(b));
}

TEST(CanonicalForm, AbsentOptionalDiffersFromAnyPresentValue) {
  auto absent = valid_request();
  absent.payer.national_id.reset();
  for (const std::string& v : std::vector<std::string>{"", "-", "-;", "0:;"}) {
    auto present = valid_request();
    present.payer.national_id = v;
    EXPECT_NE(canonical_form(present), canonical_form(absent)) << v;
  }
}

TEST(CanonicalForm, ConcatenationOfAdjacentFieldsIsNotAmbiguous) {
  auto a = valid_request();
  auto b = valid_request();
  a.payer.name = "ab";
  a.payer.address.street = "c";
  b.payer.name = "a";
  b.payer.address.street = "bc";
  // Both would be "abc" if fields were simply concatenated.
  EXPECT_NE(canonical_form(a), canonical_form(b));

  a = valid_request();
  b = valid_request();
  a.payer.national_id.reset();
  a.payer.phone = "+4741234567";
  b.payer.national_id = "+4741234567";
  b.payer.phone.reset();
  EXPECT_NE(canonical_form(a), canonical_form(b));

  a = valid_request();
  b = valid_request();
  a.lines = {{"x;1", 2, 0}};
  b.lines = {{"x", 1, 2}};
  EXPECT_NE(canonical_form(a), canonical_form(b));

  a = valid_request();
  b = valid_request();
  a.clinic_id = "a:1";
  a.visit_id = "b";
  b.clinic_id = "a";
  b.visit_id = "1:b";
  EXPECT_NE(canonical_form(a), canonical_form(b));
}

TEST(CanonicalForm, LineOrderAndBoundariesMatter) {
  auto a = valid_request();
  auto b = valid_request();
  a.lines = {{"A", 100, 0}, {"B", 200, 0}};
  b.lines = {{"B", 200, 0}, {"A", 100, 0}};
  EXPECT_NE(canonical_form(a), canonical_form(b));

  // Moving text across a line boundary must change the form.
  a.lines = {{"AB", 100, 0}, {"C", 100, 0}};
  b.lines = {{"A", 100, 0}, {"BC", 100, 0}};
  EXPECT_NE(canonical_form(a), canonical_form(b));
}

TEST(ValidateCheckout, FeeTermsAcceptedBeforeTheVisitWithAVersion) {
  auto r = valid_request();
  r.fee_terms = FeeTerms{r.checked_out_at - hours{2}, "2026-01"};
  EXPECT_TRUE(validate(r).empty());
  r.fee_terms->accepted_at = r.checked_out_at;  // at the check-out desk, before leaving
  EXPECT_TRUE(validate(r).empty());

  r.fee_terms->accepted_at = r.checked_out_at + std::chrono::seconds{1};
  EXPECT_NE(only_error_at(r, "/fee_terms/accepted_at").find("before the visit"), std::string::npos);
  r.fee_terms->accepted_at = r.checked_out_at;
  r.fee_terms->version = " ";
  EXPECT_EQ(only_error_at(r, "/fee_terms/version"), "must not be empty");
  r.fee_terms->version = repeat("v", 41);
  EXPECT_EQ(only_error_at(r, "/fee_terms/version"), "must be at most 40 characters");
}

TEST(CanonicalForm, FeeTermsCountOnlyWhenSent) {
  auto r = valid_request();
  const auto without = canonical_form(r);  // as before fee terms existed: the same fingerprint
  EXPECT_EQ(without.find("fee_terms"), std::string::npos);
  r.fee_terms = FeeTerms{r.checked_out_at, "2026-01"};
  const auto with = canonical_form(r);
  EXPECT_NE(with, without);
  r.fee_terms->version = "2026-02";
  EXPECT_NE(canonical_form(r), with);
}

}  // namespace
}  // namespace visitpay::domain
