#include "domain/payment_sms.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

namespace visitpay::domain {

namespace {

// GSM 03.38 default alphabet beyond printable ASCII, and the ASCII characters it lacks or keeps
// only in the extension table.
constexpr std::array<char32_t, 38> kGsmBasicNonAscii = {
    0x00A3, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x00D8, 0x00F8,
    0x00C5, 0x00E5, 0x0394, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3,
    0x0398, 0x039E, 0x00C6, 0x00E6, 0x00DF, 0x00C9, 0x00A4, 0x00A1, 0x00C4, 0x00D6,
    0x00D1, 0x00DC, 0x00A7, 0x00BF, 0x00E4, 0x00F6, 0x00F1, 0x00FC};
constexpr char32_t kAGrave = 0x00E0;  // à, the last basic character
constexpr std::array<char32_t, 10> kGsmExtension = {'^', '{', '}', '\\',   '[',
                                                    ']', '~', '|', 0x20AC, '\f'};

// Septets a code point takes in GSM-7: 1, 2 (extension table) or 0 (not representable).
int gsm_septets(char32_t cp) {
  if (std::find(kGsmExtension.begin(), kGsmExtension.end(), cp) != kGsmExtension.end()) return 2;
  if (cp == '\n' || cp == '\r') return 1;
  if (cp >= 0x20 && cp < 0x7F) return cp == '`' ? 0 : 1;
  if (cp == kAGrave) return 1;
  return std::find(kGsmBasicNonAscii.begin(), kGsmBasicNonAscii.end(), cp) !=
                 kGsmBasicNonAscii.end()
             ? 1
             : 0;
}

// Lenient UTF-8 decoding (the input was validated when it entered the system).
std::vector<char32_t> decode(std::string_view s) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = 1;
    char32_t cp = c;
    if (c >= 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else if (c >= 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xC0) {
      len = 2;
      cp = c & 0x1F;
    }
    for (int k = 1; k < len && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

// Keeps only characters GSM-7 can carry, then cuts to at most `max_septets`.
std::string gsm_safe_prefix(std::string_view text, int max_septets) {
  std::string out;
  int used = 0;
  std::size_t i = 0;
  for (char32_t cp : decode(text)) {
    const int n = gsm_septets(cp);
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (n > 0 && cp != '\n' && cp != '\r') {
      if (used + n > max_septets) break;
      out.append(text.substr(i, len));
      used += n;
    }
    i += len;
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

std::string two_digits(unsigned v) {
  return std::string(1, static_cast<char>('0' + v / 10)) + static_cast<char>('0' + v % 10);
}

}  // namespace

SmsSize sms_size(std::string_view utf8_text) {
  const auto cps = decode(utf8_text);
  SmsSize size;
  int septets = 0;
  for (char32_t cp : cps) {
    const int n = gsm_septets(cp);
    if (n == 0) {
      size.gsm7 = false;
      break;
    }
    septets += n;
  }
  if (size.gsm7) {
    size.units = septets;
    size.segments = septets == 0 ? 0 : septets <= 160 ? 1 : (septets + 152) / 153;
  } else {
    int units = 0;
    for (char32_t cp : cps)
      units += cp > 0xFFFF ? 2 : 1;
    size.units = units;
    size.segments = units <= 70 ? 1 : (units + 66) / 67;
  }
  return size;
}

std::string format_kroner(Ore amount) {
  const bool negative = amount < 0;
  const auto abs = negative ? -amount : amount;
  std::string out = (negative ? "-" : "") + std::to_string(abs / 100);
  if (abs % 100 != 0) out += "," + two_digits(static_cast<unsigned>(abs % 100));
  return out + " kr";
}

std::string compose_payment_sms(const PaymentSmsInput& in) {
  const auto deadline = common::to_oslo(in.deadline);
  const std::string date = two_digits(deadline.day) + "." + two_digits(deadline.month) + "." +
                           std::to_string(deadline.year);
  const std::string time = two_digits(deadline.hour) + ":" + two_digits(deadline.minute);
  const std::string consequence =
      in.invoice_fee > 0 ? "Ubetalt etter fristen sendes faktura med fakturagebyr på " +
                               format_kroner(in.invoice_fee) + "."
                         : "Ubetalt etter fristen sendes faktura.";
  const std::string body = ": Betal " + format_kroner(in.amount) +
                           " for besøket ditt her: " + in.payment_url + "\nFrist: " + date +
                           " kl. " + time + ". " + consequence;
  const auto body_size = sms_size(body);
  if (!body_size.gsm7) return {};  // a non-GSM URL: refuse rather than silently go UCS-2
  const int room = kMaxPaymentSmsSegments * 153 - body_size.units;
  if (room < 3) return {};
  return gsm_safe_prefix(in.clinic_name, std::min(room, 40)) + body;
}

Timestamp next_send_time(Timestamp now, const QuietHours& quiet) {
  if (!quiet.enabled || quiet.start_minute == quiet.end_minute) return now;
  const auto local = common::to_oslo(now);
  const int minute = static_cast<int>(local.hour * 60 + local.minute);
  const bool wraps = quiet.start_minute > quiet.end_minute;  // e.g. 21:00-08:00
  const bool inside = wraps ? (minute >= quiet.start_minute || minute < quiet.end_minute)
                            : (minute >= quiet.start_minute && minute < quiet.end_minute);
  if (!inside) return now;
  // The quiet period ends today, or (after the evening start) tomorrow.
  auto day = std::chrono::year_month_day{
      std::chrono::year{local.year}, std::chrono::month{local.month}, std::chrono::day{local.day}};
  if (wraps && minute >= quiet.start_minute) {
    day = std::chrono::year_month_day{std::chrono::sys_days{day} + std::chrono::days{1}};
  }
  return common::from_oslo_local(static_cast<int>(day.year()), static_cast<unsigned>(day.month()),
                                 static_cast<unsigned>(day.day()),
                                 static_cast<unsigned>(quiet.end_minute / 60),
                                 static_cast<unsigned>(quiet.end_minute % 60));
}

}  // namespace visitpay::domain
