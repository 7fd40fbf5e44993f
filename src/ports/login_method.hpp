#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "common/result.hpp"

namespace visitpay::ports {

// What a person presents to log in to the console. A password login uses every field; another
// method (OpenID Connect: the authorization code and its PKCE verifier) would bring its own
// attempt type and answer with the same identity.
struct PasswordAttempt {
  std::string username;
  std::string password;
  std::string totp_code;  // empty: none given
  std::string peer_address;
};

// The console account a login resolved to. Sessions, roles and clinics follow from it alone, so
// every login method ends in the same web session.
struct LoginIdentity {
  std::string user_id;
  std::string username;
};

// A way for a person to prove who they are (passwords + TOTP today; OpenID Connect next).
class LoginMethod {
 public:
  virtual ~LoginMethod() = default;
  virtual boost::asio::awaitable<common::Result<LoginIdentity>> login(
      const PasswordAttempt& attempt) = 0;
};

}  // namespace visitpay::ports
