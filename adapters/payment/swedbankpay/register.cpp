#include "adapters/payment/swedbankpay/register.hpp"

#include <memory>

#include "adapters/common/settings_reader.hpp"
#include "adapters/payment/swedbankpay/callback.hpp"

namespace visitpay::adapters::payment::swedbankpay {

namespace {

class Factory final : public ports::PaymentAdapterFactory {
 public:
  explicit Factory(http::HttpClient& client) : client_(client) {}

  std::string_view id() const override { return kAdapterId; }
  // Orders created before the generic route were given this callbackUrl; Swedbank Pay keeps
  // calling it for their whole life (a 28-day link), so it must keep working.
  std::vector<std::string> webhook_aliases() const override { return {"/v1/webhooks/swedbankpay"}; }
  const ports::PaymentNotifications& notifications() const override { return notifications_; }

  common::Result<std::unique_ptr<ports::PaymentProvider>> create(
      const ports::AdapterAccount& account, const ports::AdapterContext& context) const override {
    auto config = parse_settings(account, context);
    if (!config) return std::move(config).error();
    return std::unique_ptr<ports::PaymentProvider>(
        std::make_unique<SwedbankPayProvider>(client_, std::move(config.value())));
  }

 private:
  http::HttpClient& client_;
  SwedbankPayNotifications notifications_;
};

}  // namespace

common::Result<SwedbankPayConfig> parse_settings(const ports::AdapterAccount& account,
                                                 const ports::AdapterContext& context) {
  SwedbankPayConfig config;
  config.base_url = account.base_url;
  config.timeout = account.timeout;
  config.callback_url = context.webhook_url;
  SettingsReader r(account);
  r.secret("token", config.token);
  r.string("payee_id", config.payee_id, true);
  r.string("payee_name", config.payee_name, true);
  auto done = r.finish();
  if (!done) return std::move(done).error();
  return config;
}

common::Result<void> register_adapter(ports::AdapterRegistry& registry, http::HttpClient& client) {
  return registry.add(std::make_unique<Factory>(client));
}

}  // namespace visitpay::adapters::payment::swedbankpay
