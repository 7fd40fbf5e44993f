#include "adapters/register_all.hpp"

#include "adapters/payment/swedbankpay/register.hpp"
#include "adapters/sms/linkmobility/register.hpp"

namespace visitpay::adapters {

common::Result<void> register_all(ports::AdapterRegistry& registry, AdapterDeps deps) {
  if (auto r = payment::swedbankpay::register_adapter(registry, deps.http); !r) return r;
  if (auto r = sms::linkmobility::register_adapter(registry, deps.http); !r) return r;
  return common::Ok{};
}

}  // namespace visitpay::adapters
