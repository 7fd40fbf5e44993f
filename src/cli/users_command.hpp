#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace visitpay::cli {

// `visitpay users add|list|disable|enable|reset-password|roles ...`: console accounts.
int cmd_users(const std::vector<std::string>& args, const config::Config& config);

inline constexpr const char* kUsersUsage =
    R"(  users add NAME --roles R1,R2 [--clinics C1,C2] [--totp] [--password-stdin] [--replace]
                              create a console account (roles finance, dpo, ops, admin); prints
                              the password once (random unless read from stdin) and, for dpo and
                              admin or with --totp, the TOTP secret for an authenticator app
  users list                  list console accounts (never passwords or TOTP secrets)
  users disable NAME          refuse the account's logins and end its sessions at once
  users enable NAME           allow a disabled account again
  users reset-password NAME [--totp] [--password-stdin]
                              a new password (and with --totp a new TOTP secret); ends sessions
  users roles NAME --roles R1,R2 [--clinics C1,C2]
                              replace the account's roles and clinics
)";

}  // namespace visitpay::cli
