#include "adapters/sms/linkmobility/register.hpp"

#include <memory>

#include "adapters/common/settings_reader.hpp"
#include "adapters/sms/linkmobility/delivery_report.hpp"

namespace visitpay::adapters::sms::linkmobility {

namespace {

// Delivery reports arrive at the generic route /v1/webhooks/sms/linkmobility, which is also the
// path LINK gates were configured with before adapters had ids: no alias needed.
class Factory final : public ports::SmsAdapterFactory {
 public:
  explicit Factory(http::HttpClient& client) : client_(client) {}

  std::string_view id() const override { return kAdapterId; }
  const ports::SmsReports& reports() const override { return reports_; }

  common::Result<std::unique_ptr<ports::SmsGateway>> create(
      const ports::AdapterAccount& account, const ports::AdapterContext&) const override {
    auto config = parse_settings(account);
    if (!config) return std::move(config).error();
    return std::unique_ptr<ports::SmsGateway>(
        std::make_unique<LinkMobilitySmsGateway>(client_, std::move(config.value())));
  }

 private:
  http::HttpClient& client_;
  LinkMobilityReports reports_;
};

}  // namespace

common::Result<LinkMobilityConfig> parse_settings(const ports::AdapterAccount& account) {
  LinkMobilityConfig config;
  config.base_url = account.base_url;
  config.timeout = account.timeout;
  SettingsReader r(account);
  r.string("username", config.username, true);
  r.secret("password", config.password);
  r.string("platform_id", config.platform_id, true);
  r.string("platform_partner_id", config.platform_partner_id, true);
  r.string("source", config.source);
  r.string("delivery_report_gate", config.delivery_report_gate);
  auto done = r.finish();
  if (!done) return std::move(done).error();
  // Checked here, at start-up: LINK would refuse every SMS from a sender id it cannot use.
  std::string problem;
  if (sender_ton(config.source, &problem).empty()) {
    return common::make_error(common::ErrorCode::bad_request, account.path + "/source: " + problem +
                                                                  " (\"" + config.source + "\")");
  }
  return config;
}

common::Result<void> register_adapter(ports::AdapterRegistry& registry, http::HttpClient& client) {
  return registry.add(std::make_unique<Factory>(client));
}

}  // namespace visitpay::adapters::sms::linkmobility
