#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "ports/payment_provider.hpp"
#include "ports/sms_gateway.hpp"
#include "ports/webhooks.hpp"

namespace visitpay::ports {

// One configured account as the core hands it to its adapter. The core reads only what every
// account has; everything else in the account's config section is the adapter's to parse.
struct AdapterAccount {
  std::string path;  // where the account is in the config ("/payment_accounts/main"), for errors
  std::string name;
  std::string base_url;
  std::chrono::milliseconds timeout{10000};
  std::string settings;  // a JSON object: the section's keys the core does not own
  // "<key>_file" / "<key>_env" references already resolved by the core, by <key> (secret).
  std::map<std::string, std::string, std::less<>> secrets;
  // The account's current webhook path token (secret): the last segment of its webhook URL, which
  // the core checks before a notification is read ("" = none: the token-less URL).
  std::string webhook_token;
};

struct AdapterContext {
  // Where the provider reaches this service's webhook route for this account (absolute URL,
  // ending in the account's path token; a secret, never to be logged).
  std::string webhook_url;
};

// Common to both kinds: a stable dotted id ("<kind>.<vendor>") that config uses to select
// the adapter, and extra public paths its webhooks arrive at (kept working for URLs the provider
// was given before the generic route existed).
class AdapterFactory {
 public:
  virtual ~AdapterFactory() = default;
  virtual std::string_view id() const = 0;
  virtual std::vector<std::string> webhook_aliases() const { return {}; }
};

// Failures of create(): bad_request with one line per problem, each naming its config key
// ("/payment_accounts/main/payee_id: required").
class PaymentAdapterFactory : public AdapterFactory {
 public:
  virtual const PaymentNotifications& notifications() const = 0;
  virtual common::Result<std::unique_ptr<PaymentProvider>> create(
      const AdapterAccount& account, const AdapterContext& context) const = 0;
};

class SmsAdapterFactory : public AdapterFactory {
 public:
  virtual const SmsReports& reports() const = 0;
  virtual common::Result<std::unique_ptr<SmsGateway>> create(
      const AdapterAccount& account, const AdapterContext& context) const = 0;
};

}  // namespace visitpay::ports
