#include "domain/payment_sms.hpp"

#include <gtest/gtest.h>

namespace visitpay::domain {
namespace {

Timestamp at(const char* rfc3339) {
  return *common::parse_rfc3339(rfc3339);
}

PaymentSmsInput example() {
  PaymentSmsInput in;
  in.clinic_name = "Oslo Sentrum Klinikk";
  in.amount = 65000;
  in.payment_url = "http://127.0.0.1:8091/checkout/0b8f6c1e-2d3a-4f5b-9c7d-1a2b3c4d5e6f";
  in.deadline = at("2026-11-24T13:05:00Z");
  in.invoice_fee = 3900;
  return in;
}

TEST(SmsSize, CountsGsm7SeptetsAndSegments) {
  EXPECT_EQ(sms_size(std::string(160, 'a')).segments, 1);
  EXPECT_EQ(sms_size(std::string(161, 'a')).segments, 2);
  EXPECT_EQ(sms_size(std::string(306, 'a')).segments, 2);
  EXPECT_EQ(sms_size(std::string(307, 'a')).segments, 3);
  const auto norwegian = sms_size("Blåbærsyltetøy på Ærø, ÆØÅ");
  EXPECT_TRUE(norwegian.gsm7);
  EXPECT_EQ(norwegian.units, 26);
  EXPECT_EQ(sms_size("€[]").units, 6);  // extension table: two septets each
}

TEST(SmsSize, AnyNonGsmCharacterMakesTheWholeTextUcs2) {
  const auto quote = sms_size("Don’t");  // typographic apostrophe
  EXPECT_FALSE(quote.gsm7);
  EXPECT_EQ(quote.units, 5);
  EXPECT_EQ(sms_size(std::string(70, 'a') + "’").segments, 2);
  EXPECT_EQ(sms_size("😀").units, 2);  // a surrogate pair
  EXPECT_FALSE(sms_size("back`tick").gsm7);
}

TEST(FormatKroner, UsesWholeKronerOrADecimalComma) {
  EXPECT_EQ(format_kroner(65000), "650 kr");
  EXPECT_EQ(format_kroner(65050), "650,50 kr");
  EXPECT_EQ(format_kroner(3905), "39,05 kr");
  EXPECT_EQ(format_kroner(0), "0 kr");
}

TEST(PaymentSms, HoldsClinicAmountLinkDeadlineAndFeeInTwoGsm7Segments) {
  const auto text = compose_payment_sms(example());
  EXPECT_EQ(text.rfind("Oslo Sentrum Klinikk: ", 0), 0u) << text;
  EXPECT_NE(text.find("650 kr"), std::string::npos);
  EXPECT_NE(text.find(example().payment_url), std::string::npos);
  EXPECT_NE(text.find("Frist: 24.11.2026 kl. 14:05"), std::string::npos) << text;  // CET
  EXPECT_NE(text.find("fakturagebyr på 39 kr"), std::string::npos);
  const auto size = sms_size(text);
  EXPECT_TRUE(size.gsm7);
  EXPECT_LE(size.segments, kMaxPaymentSmsSegments);
}

TEST(PaymentSms, ShowsTheDeadlineInOsloTimeAcrossDaylightSaving) {
  auto in = example();
  in.deadline = at("2026-07-01T10:00:00Z");  // summer: UTC+2
  EXPECT_NE(compose_payment_sms(in).find("Frist: 01.07.2026 kl. 12:00"), std::string::npos);
  // Accepted on Friday 23 October 2026 at 14:00 in Oslo (CEST); 48 h later the clocks have gone
  // back, so the local deadline reads 13:00.
  in.deadline = at("2026-10-23T12:00:00Z") + std::chrono::hours(48);
  EXPECT_NE(compose_payment_sms(in).find("Frist: 25.10.2026 kl. 13:00"), std::string::npos);
}

TEST(PaymentSms, WithoutAFeeSaysOnlyThatAnInvoiceFollows) {
  auto in = example();
  in.invoice_fee = 0;
  const auto text = compose_payment_sms(in);
  EXPECT_NE(text.find("Ubetalt etter fristen sendes faktura."), std::string::npos);
  EXPECT_EQ(text.find("gebyr"), std::string::npos);
}

TEST(PaymentSms, ShortensOrCleansTheClinicNameToStayWithinTheLimit) {
  auto in = example();
  in.clinic_name = std::string(200, 'K') + " AS";
  auto text = compose_payment_sms(in);
  EXPECT_LE(sms_size(text).segments, kMaxPaymentSmsSegments);
  EXPECT_EQ(text.rfind(std::string(40, 'K') + ": ", 0), 0u) << text;
  in.clinic_name = "Klinikk 😀 “Sentrum”";
  text = compose_payment_sms(in);
  EXPECT_TRUE(sms_size(text).gsm7) << text;
  EXPECT_EQ(text.rfind("Klinikk  Sentrum: ", 0), 0u) << text;
}

TEST(PaymentSms, RefusesALinkThatCannotFit) {
  auto in = example();
  in.payment_url = "http://x/" + std::string(300, 'a');
  EXPECT_EQ(compose_payment_sms(in), "");
}

TEST(QuietHours, EveningWaitsForTheNextMorningInOslo) {
  const QuietHours quiet;  // 21:00-08:00
  // 22:30 Oslo (CET) on 22 November -> 08:00 Oslo on 23 November = 07:00Z.
  EXPECT_EQ(next_send_time(at("2026-11-22T21:30:00Z"), quiet), at("2026-11-23T07:00:00Z"));
  // 07:59 Oslo -> 08:00 the same morning.
  EXPECT_EQ(next_send_time(at("2026-11-23T06:59:00Z"), quiet), at("2026-11-23T07:00:00Z"));
  // Midday: now.
  EXPECT_EQ(next_send_time(at("2026-11-23T11:00:00Z"), quiet), at("2026-11-23T11:00:00Z"));
  // 21:00 sharp is quiet, 20:59 is not.
  EXPECT_EQ(next_send_time(at("2026-11-23T19:59:00Z"), quiet), at("2026-11-23T19:59:00Z"));
  EXPECT_EQ(next_send_time(at("2026-11-23T20:00:00Z"), quiet), at("2026-11-24T07:00:00Z"));
}

TEST(QuietHours, MorningEndFollowsDaylightSavingAndCanBeSwitchedOff) {
  const QuietHours quiet;
  // The night the clocks go back (25 October 2026): 08:00 Oslo is then 07:00Z.
  EXPECT_EQ(next_send_time(at("2026-10-24T20:30:00Z"), quiet), at("2026-10-25T07:00:00Z"));
  // The night they go forward (29 March 2026): 08:00 Oslo is 06:00Z.
  EXPECT_EQ(next_send_time(at("2026-03-28T21:00:00Z"), quiet), at("2026-03-29T06:00:00Z"));
  QuietHours off;
  off.enabled = false;
  EXPECT_EQ(next_send_time(at("2026-11-22T23:00:00Z"), off), at("2026-11-22T23:00:00Z"));
}

}  // namespace
}  // namespace visitpay::domain
