#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>

#include "app/auth.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/result.hpp"
#include "ports/clock.hpp"
#include "store/refund_store.hpp"

namespace visitpay::app {

// Finance's refunds of payments made through the link (scope invoices:review): request one
// (reversal, in full or in part; the same Idempotency-Key returns the same refund) and list a
// session's payment operations. The provider is asked by the outbox (workers::RefundWork), so
// a request answers at once and an outage only delays the money. A session of a clinic the
// caller is not bound to is reported as absent. Counted in visitpay_refunds_total{kind,outcome}.
class RefundService {
 public:
  RefundService(store::RefundStore& refunds, const ports::Clock& clock, common::Logger& log,
                common::Metrics& metrics, std::function<void()> nudge);

  asio::awaitable<common::Result<store::RefundRequested>> request(std::string_view session_id,
                                                                  const Principal& principal,
                                                                  store::RefundInput input);
  asio::awaitable<common::Result<store::RefundSummary>> list(std::string_view session_id,
                                                             const Principal& principal);

 private:
  // The session's id in canonical form, if the caller may see it (else not_found).
  asio::awaitable<common::Result<std::string>> visible(std::string_view session_id,
                                                       const Principal& principal);

  store::RefundStore& refunds_;
  const ports::Clock& clock_;
  common::Logger& log_;
  common::Metrics& metrics_;
  std::function<void()> nudge_;
};

}  // namespace visitpay::app
