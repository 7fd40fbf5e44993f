#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace visitpay::app {

// Passwords: Argon2id (libsodium crypto_pwhash_str, interactive limits). The hash string carries
// its own salt and parameters. Slow on purpose: call from a blocking thread, not an I/O thread.
std::optional<std::string> hash_password(std::string_view password);
bool verify_password(const std::string& hash, std::string_view password);
// What a chosen password must satisfy; nullopt when it does, else why not (Norwegian is for the
// page; this is for the CLI and the API's problem detail).
std::optional<std::string> password_problem(std::string_view password);
// A random password for `users add`/`reset-password` when none is given (20 characters).
std::string new_password();

// TOTP (RFC 6238): HMAC-SHA-1, 30-second steps, 6 digits; secrets are base32 (RFC 4648).
inline constexpr std::int64_t kTotpStepSeconds = 30;
std::string new_totp_secret();  // 160 random bits
std::optional<std::string> totp_code(std::string_view base32_secret, std::int64_t step);
// The step (of now-1, now, now+1) whose code is `code`, if any; compared in constant time.
std::optional<std::int64_t> matching_totp_step(std::string_view base32_secret,
                                               std::string_view code, std::int64_t unix_seconds);
// otpauth:// URI for authenticator apps.
std::string totp_uri(std::string_view username, std::string_view base32_secret);

}  // namespace visitpay::app
