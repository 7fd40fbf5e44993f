#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "ports/payment_provider.hpp"
#include "store/refund_store.hpp"

namespace visitpay::app {

// What carrying out one cancel or reversal at the provider came to.
struct OperationResult {
  enum class Kind {
    done,    // the provider holds it (now, or already: an earlier answer was lost)
    failed,  // impossible (the order's state, a refusal): finance must see why
    retry,   // no answer, or a transient one: look again later (the order says if it happened)
  };
  Kind kind = Kind::retry;
  std::optional<std::string> provider_reference;  // done: the provider's transaction id, if shown
  common::Error error;                            // failed, retry: why (no personal data)
};

// Looks at the order first (a transaction with the operation's payeeReference means it was done
// already), decides with domain::decide_operation, and only then asks the provider. Never sends
// an operation the order cannot take; never sends one twice once the provider lists it.
boost::asio::awaitable<OperationResult> carry_out(ports::PaymentProvider& provider,
                                                  const std::string& order_id,
                                                  const store::PaymentOperationRecord& operation);

}  // namespace visitpay::app
