// GSM 03.38 / 3GPP TS 23.038 segment arithmetic for the LINK Mobility mock (providers.md §3.3).
#include <array>
#include <string_view>
#include <vector>

#include "mocks/linkmobility/linkmobility_mock.hpp"
#include "mocks/linkmobility/sms_encoding_internal.hpp"

namespace visitpay::mocks {

namespace {

constexpr char32_t kNone = 0xFFFFFFFF;  // the escape slot 0x1B maps to no character

// The GSM 7-bit default alphabet: the Unicode code point of each septet 0x00..0x7F
// (3GPP TS 23.038 §6.2.1; 0x09 is capital C with cedilla as in the current table).
constexpr std::array<char32_t, 128> kDefaultAlphabet = {
    // 0x00: @ £ $ ¥ è é ù ì ò Ç LF Ø ø CR Å å
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x000A, 0x00D8,
    0x00F8, 0x000D, 0x00C5, 0x00E5,
    // 0x10: Δ _ Φ Γ Λ Ω Π Ψ Σ Θ Ξ ESC Æ æ ß É
    0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3, 0x0398, 0x039E, kNone,
    0x00C6, 0x00E6, 0x00DF, 0x00C9,
    // 0x20: SP ! " # ¤ % & ' ( ) * + , - . /
    0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027, 0x0028, 0x0029, 0x002A, 0x002B,
    0x002C, 0x002D, 0x002E, 0x002F,
    // 0x30: 0-9 : ; < = > ?
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, 0x0038, 0x0039, 0x003A, 0x003B,
    0x003C, 0x003D, 0x003E, 0x003F,
    // 0x40: ¡ A-O
    0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, 0x0048, 0x0049, 0x004A, 0x004B,
    0x004C, 0x004D, 0x004E, 0x004F,
    // 0x50: P-Z Ä Ö Ñ Ü §
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, 0x0058, 0x0059, 0x005A, 0x00C4,
    0x00D6, 0x00D1, 0x00DC, 0x00A7,
    // 0x60: ¿ a-o
    0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, 0x0068, 0x0069, 0x006A, 0x006B,
    0x006C, 0x006D, 0x006E, 0x006F,
    // 0x70: p-z ä ö ñ ü à
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, 0x0078, 0x0079, 0x007A, 0x00E4,
    0x00F6, 0x00F1, 0x00FC, 0x00E0};

// The extension table (escape 0x1B + septet): form feed ^ { } \ [ ~ ] | €.
constexpr std::array<char32_t, 10> kExtensionTable = {0x000C, 0x005E, 0x007B, 0x007D, 0x005C,
                                                      0x005B, 0x007E, 0x005D, 0x007C, 0x20AC};

// 1 or 2 septets, or 0 when the character is not representable in GSM-7.
int gsm_septets(char32_t cp) {
  for (char32_t c : kDefaultAlphabet) {
    if (c == cp) return 1;
  }
  for (char32_t c : kExtensionTable) {
    if (c == cp) return 2;
  }
  return 0;
}

// Strict UTF-8 decoding; each byte of an invalid sequence becomes U+FFFD.
std::vector<char32_t> decode_utf8(std::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    int length = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    }
    if ((b0 & 0xE0) == 0xC0) {
      length = 2;
      cp = b0 & 0x1F;
      min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      length = 3;
      cp = b0 & 0x0F;
      min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      length = 4;
      cp = b0 & 0x07;
      min = 0x10000;
    }
    bool ok = length > 0 && i + static_cast<std::size_t>(length) <= text.size();
    for (int k = 1; ok && k < length; ++k) {
      const auto b = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
      if ((b & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (ok) {
      out.push_back(cp);
      i += static_cast<std::size_t>(length);
    } else {
      out.push_back(0xFFFD);
      ++i;
    }
  }
  return out;
}

// Packs indivisible units (1 or 2 each) into segments without splitting one.
int count_segments(const std::vector<int>& sizes, int total, int single, int per_segment) {
  if (total <= single) return 1;
  int segments = 1;
  int used = 0;
  for (int size : sizes) {
    if (used + size > per_segment) {
      ++segments;
      used = 0;
    }
    used += size;
  }
  return segments;
}

SmsEncoding ucs2(const std::vector<char32_t>& code_points) {
  std::vector<int> sizes;
  sizes.reserve(code_points.size());
  int total = 0;
  for (char32_t cp : code_points) {
    const int units = cp > 0xFFFF ? 2 : 1;  // outside the BMP: a surrogate pair
    sizes.push_back(units);
    total += units;
  }
  return {false, total, count_segments(sizes, total, 70, 67)};
}

}  // namespace

SmsEncoding sms_encoding(std::string_view utf8_text) {
  const auto code_points = decode_utf8(utf8_text);
  std::vector<int> sizes;
  sizes.reserve(code_points.size());
  int total = 0;
  bool gsm7 = true;
  for (char32_t cp : code_points) {
    const int septets = gsm_septets(cp);
    if (septets == 0) {
      gsm7 = false;
      break;
    }
    sizes.push_back(septets);
    total += septets;
  }
  if (gsm7) return {true, total, count_segments(sizes, total, 160, 153)};
  return ucs2(code_points);
}

namespace detail {

SmsEncoding sms_encoding_ucs2(std::string_view utf8_text) {
  return ucs2(decode_utf8(utf8_text));
}

}  // namespace detail

}  // namespace visitpay::mocks
