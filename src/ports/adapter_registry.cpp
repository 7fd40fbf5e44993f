#include "ports/adapter_registry.hpp"

namespace visitpay::ports {

using common::ErrorCode;
using common::make_error;

namespace {

bool matches(std::string_view id, std::string_view wanted) {
  return id == wanted || adapter_name(id) == wanted;
}

template <typename Factory>
const Factory* find(const std::vector<std::unique_ptr<Factory>>& list, std::string_view wanted) {
  for (const auto& f : list) {
    if (matches(f->id(), wanted)) return f.get();
  }
  return nullptr;
}

template <typename Factory>
const Factory* find_by_name(const std::vector<std::unique_ptr<Factory>>& list,
                            std::string_view name) {
  for (const auto& f : list) {
    if (adapter_name(f->id()) == name) return f.get();
  }
  return nullptr;
}

template <typename Factory>
common::Result<void> add_to(std::vector<std::unique_ptr<Factory>>& list,
                            std::unique_ptr<Factory> factory, std::string_view kind) {
  const std::string_view id = factory->id();
  if (id.size() <= kind.size() + 1 || id.substr(0, kind.size()) != kind || id[kind.size()] != '.') {
    return make_error(ErrorCode::internal_error, "adapter id " + std::string(id) +
                                                     " must start with " + std::string(kind) + ".");
  }
  if (find_by_name(list, adapter_name(id)) != nullptr) {
    return make_error(ErrorCode::internal_error,
                      "adapter " + std::string(id) + " is registered twice");
  }
  list.push_back(std::move(factory));
  return common::Ok{};
}

template <typename Factory>
std::string known(const std::vector<std::unique_ptr<Factory>>& list) {
  std::string out;
  for (const auto& f : list)
    out += (out.empty() ? "" : ", ") + std::string(f->id());
  return out.empty() ? "none" : out;
}

template <typename Factory, typename Port>
common::Result<std::unique_ptr<Port>> create(const std::vector<std::unique_ptr<Factory>>& list,
                                             std::string_view kind, std::string_view prefix,
                                             std::string_view provider,
                                             const AdapterAccount& account,
                                             std::string_view public_base_url) {
  const Factory* factory = find(list, provider);
  if (factory == nullptr) {
    return make_error(ErrorCode::bad_request,
                      account.path + "/provider: unknown " + std::string(kind) + " adapter \"" +
                          std::string(provider) + "\" (this build has: " + known(list) + ")");
  }
  AdapterContext context;
  context.webhook_url =
      std::string(public_base_url) + std::string(prefix) + std::string(adapter_name(factory->id()));
  if (!account.webhook_token.empty()) context.webhook_url += "/" + account.webhook_token;
  return factory->create(account, context);
}

}  // namespace

std::string_view adapter_name(std::string_view id) {
  const auto dot = id.find('.');
  return dot == std::string_view::npos ? id : id.substr(dot + 1);
}

common::Result<void> AdapterRegistry::add(std::unique_ptr<PaymentAdapterFactory> factory) {
  return add_to(payment_, std::move(factory), "payment");
}

common::Result<void> AdapterRegistry::add(std::unique_ptr<SmsAdapterFactory> factory) {
  return add_to(sms_, std::move(factory), "sms");
}

const PaymentAdapterFactory* AdapterRegistry::find_payment(std::string_view id) const {
  return find(payment_, id);
}

const SmsAdapterFactory* AdapterRegistry::find_sms(std::string_view id) const {
  return find(sms_, id);
}

common::Result<std::unique_ptr<PaymentProvider>> AdapterRegistry::create_payment(
    std::string_view provider, const AdapterAccount& account,
    std::string_view public_base_url) const {
  return create<PaymentAdapterFactory, PaymentProvider>(payment_, "payment", kPaymentWebhookPrefix,
                                                        provider, account, public_base_url);
}

common::Result<std::unique_ptr<SmsGateway>> AdapterRegistry::create_sms(
    std::string_view provider, const AdapterAccount& account,
    std::string_view public_base_url) const {
  return create<SmsAdapterFactory, SmsGateway>(sms_, "sms", kSmsWebhookPrefix, provider, account,
                                               public_base_url);
}

const PaymentNotifications* AdapterRegistry::payment_notifications(std::string_view name) const {
  const auto* f = find_by_name(payment_, name);
  return f ? &f->notifications() : nullptr;
}

const SmsReports* AdapterRegistry::sms_reports(std::string_view name) const {
  const auto* f = find_by_name(sms_, name);
  return f ? &f->reports() : nullptr;
}

std::vector<AdapterRegistry::PaymentAlias> AdapterRegistry::payment_aliases() const {
  std::vector<PaymentAlias> out;
  for (const auto& f : payment_) {
    for (auto& path : f->webhook_aliases())
      out.push_back({std::move(path), std::string(f->id()), &f->notifications()});
  }
  return out;
}

std::vector<AdapterRegistry::SmsAlias> AdapterRegistry::sms_aliases() const {
  std::vector<SmsAlias> out;
  for (const auto& f : sms_) {
    for (auto& path : f->webhook_aliases())
      out.push_back({std::move(path), std::string(f->id()), &f->reports()});
  }
  return out;
}

std::vector<std::string> AdapterRegistry::payment_ids() const {
  std::vector<std::string> out;
  for (const auto& f : payment_)
    out.emplace_back(f->id());
  return out;
}

std::vector<std::string> AdapterRegistry::sms_ids() const {
  std::vector<std::string> out;
  for (const auto& f : sms_)
    out.emplace_back(f->id());
  return out;
}

}  // namespace visitpay::ports
