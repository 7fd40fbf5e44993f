#pragma once

#include <string>
#include <string_view>

#include "domain/checkout.hpp"

namespace visitpay::domain {

// GSM 03.38 accounting of a text: whether it fits the 7-bit default alphabet (with its extension
// table), how many septets it takes, and how many SMS segments (160/153 per segment for GSM-7,
// 70/67 UCS-2 units otherwise).
struct SmsSize {
  bool gsm7 = true;
  int units = 0;
  int segments = 0;
};
SmsSize sms_size(std::string_view utf8_text);

// "650 kr" for whole kroner, "650,50 kr" otherwise (Norwegian decimal comma).
std::string format_kroner(Ore amount);

struct PaymentSmsInput {
  std::string clinic_name;
  Ore amount = 0;
  std::string payment_url;
  Timestamp deadline{};
  Ore invoice_fee = 0;  // disclosed in the text; 0 means "no fee"
};

inline constexpr int kMaxPaymentSmsSegments = 2;

// The payment-link SMS: clinic, amount, link, deadline in Oslo local time, and what happens if it
// is not paid (an invoice, with the fee amount when there is one). GSM-7 only so æøå stay
// single-septet; the clinic name is shortened (and non-GSM characters replaced) if needed to stay
// within two segments. Returns an empty string if even that cannot fit (an absurdly long URL).
std::string compose_payment_sms(const PaymentSmsInput& input);

// Quiet hours in Europe/Oslo, e.g. 21:00-08:00: no payment SMS is sent in between.
struct QuietHours {
  bool enabled = true;
  int start_minute = 21 * 60;  // minutes after local midnight
  int end_minute = 8 * 60;
};

// `now` if an SMS may be sent now, else the instant the quiet period ends (Oslo local time, DST
// aware).
Timestamp next_send_time(Timestamp now, const QuietHours& quiet);

}  // namespace visitpay::domain
