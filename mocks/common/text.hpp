#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace visitpay::mocks {

// Base64 (RFC 4648 § 4, with padding).
std::string base64_encode(std::string_view bytes);
// nullopt on a character outside the alphabet; line breaks (a MIME body's) and padding are
// skipped.
std::optional<std::string> base64_decode(std::string_view text);

std::string lower_ascii(std::string text);

}  // namespace visitpay::mocks
