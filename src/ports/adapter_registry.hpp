#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "ports/adapter_factory.hpp"

namespace visitpay::ports {

// The adapters this build knows, by stable id. Filled explicitly at start-up (main/service calls
// adapters::register_all), read-only afterwards, so the request path needs no locking. The core
// selects adapters by the id the config names and never by a vendor type.
//
// Ids are "<kind>.<name>" ("payment.<vendor>", "sms.<vendor>"). Config may also give the bare
// <name>, the form config files used before adapters had ids.
class AdapterRegistry {
 public:
  // Where the generic webhook routes live; an account's webhook URL is the prefix + its adapter's
  // <name> + "/" + the account's path token (AdapterAccount::webhook_token).
  static constexpr std::string_view kPaymentWebhookPrefix = "/v1/webhooks/payment/";
  static constexpr std::string_view kSmsWebhookPrefix = "/v1/webhooks/sms/";

  // internal_error for an id of the wrong kind or one registered twice (a wiring bug).
  common::Result<void> add(std::unique_ptr<PaymentAdapterFactory> factory);
  common::Result<void> add(std::unique_ptr<SmsAdapterFactory> factory);

  // By id or bare name; nullptr when unknown.
  const PaymentAdapterFactory* find_payment(std::string_view id) const;
  const SmsAdapterFactory* find_sms(std::string_view id) const;

  // Builds an account's adapter: the factory named by `provider` parses the account's settings.
  // bad_request naming `<account.path>/provider` for an unknown id, else the factory's problems.
  common::Result<std::unique_ptr<PaymentProvider>> create_payment(
      std::string_view provider, const AdapterAccount& account,
      std::string_view public_base_url) const;
  common::Result<std::unique_ptr<SmsGateway>> create_sms(std::string_view provider,
                                                         const AdapterAccount& account,
                                                         std::string_view public_base_url) const;

  // The parsers behind the generic webhook routes, by the route's {provider} (the bare name).
  const PaymentNotifications* payment_notifications(std::string_view name) const;
  const SmsReports* sms_reports(std::string_view name) const;

  // Extra public webhook paths the adapters declare, with the parser each dispatches to.
  struct PaymentAlias {
    std::string path;
    std::string adapter_id;
    const PaymentNotifications* parser;
  };
  struct SmsAlias {
    std::string path;
    std::string adapter_id;
    const SmsReports* parser;
  };
  std::vector<PaymentAlias> payment_aliases() const;
  std::vector<SmsAlias> sms_aliases() const;

  std::vector<std::string> payment_ids() const;
  std::vector<std::string> sms_ids() const;

 private:
  std::vector<std::unique_ptr<PaymentAdapterFactory>> payment_;
  std::vector<std::unique_ptr<SmsAdapterFactory>> sms_;
};

// "payment.<vendor>" -> "<vendor>" (what follows the kind).
std::string_view adapter_name(std::string_view id);

}  // namespace visitpay::ports
