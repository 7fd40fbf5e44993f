#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/payer_vault.hpp"
#include "app/payment_orders.hpp"
#include "app/provider_health.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "ports/clock.hpp"
#include "ports/payment_provider.hpp"
#include "ports/sms_gateway.hpp"
#include "store/payment_store.hpp"
#include "workers/outbox_dispatcher.hpp"

namespace visitpay::workers {

// The adapters of each configured account, by account name.
struct ProviderDirectory {
  app::PaymentProviders payment;
  std::map<std::string, ports::SmsGateway*, std::less<>> sms;
};

// What the provider said about an order once it was looked at (and aborted or captured).
struct SettledOrder {
  ports::PaymentStatus status = ports::PaymentStatus::unknown;
  domain::SessionState session_state = domain::SessionState::pending;  // after recording it
  std::optional<common::Error> capture_error;  // paid, recorded, but the capture must be retried
};

struct PaymentWorkDeps {
  store::PaymentStore& payments;
  const app::PayerVault& vault;
  const config::Config& config;
  const ProviderDirectory& providers;
  const ports::Clock& clock;
  common::Logger& log;
  common::Metrics& metrics;
  app::ProviderHealth& health;  // configuration errors the providers report, for /readyz
};

// The outbox work of the payment-link flow. Every step is safe to repeat (the outbox delivers
// at least once) and acts on what the database and the provider say now, never on a hint:
//   create_payment_order  create the order (each try an attempt with its own payeeReference:
//                         app::PaymentOrders), save it, queue the SMS
//   send_payment_sms      compose and send the link (after quiet hours); accepted -> the session
//                         awaits payment until the deadline the text states; refused for our
//                         own configuration -> waits for ops (never an invoice)
//   payment_callback,     GET the order; paid -> capture an authorisation -> session paid; and
//   sync_payment          orders a callback named that are not the current one (an orphan of a
//                         lost create, an order a fresh payment replaced): open -> aborted,
//                         paid -> adopted as the current order (or flagged when both are paid)
//   abort_payment         after a cancel: abort the order unless it was paid (then flag it)
class PaymentWork {
 public:
  explicit PaymentWork(PaymentWorkDeps deps);
  PaymentWork(const PaymentWork&) = delete;
  PaymentWork& operator=(const PaymentWork&) = delete;

  void register_with(OutboxDispatcher& dispatcher);

  asio::awaitable<OutboxOutcome> create_order(const store::OutboxItem& item);
  asio::awaitable<OutboxOutcome> send_sms(const store::OutboxItem& item);
  asio::awaitable<OutboxOutcome> sync(const store::OutboxItem& item, bool from_callback);
  asio::awaitable<OutboxOutcome> abort(const store::OutboxItem& item);

  // GETs the order and records what it says: paid -> an authorisation is captured (unless the
  // session was cancelled) and the session is paid; a payment on a closed session is flagged.
  // With `abort_if_open` an order still payable is aborted first (provider_conflict when the
  // payer is in the Vipps app right now).
  asio::awaitable<common::Result<SettledOrder>> settle(const store::OrderRef& order,
                                                       bool abort_if_open);

 private:
  // The link cannot be created or sent: the session moves on to the invoice path without fee
  // (link_failed, `why` kept on the session for ops) and this work ends.
  asio::awaitable<OutboxOutcome> link_failed(const store::OutboxItem& item, std::string why);
  // A permanent refusal, or any failure once the budget is spent, is an exit; else a retry.
  asio::awaitable<OutboxOutcome> fail_or_exit(const store::OutboxItem& item,
                                              const common::Error& error);
  ports::PaymentProvider* payment_provider(std::string_view account) const;
  ports::SmsGateway* sms_gateway(std::string_view account) const;
  // How long an unconfirmed send waits for its delivery report before it is sent again.
  std::chrono::microseconds resend_wait(std::string_view account) const;
  // The gateway refused our credentials or account settings: recorded (metric, /readyz) and the
  // SMS waits for ops to fix it, spending no retry budget: a configuration error is no reason to
  // send the payer an invoice instead.
  asio::awaitable<OutboxOutcome> sms_misconfigured(const store::OutboxItem& item,
                                                   std::int64_t sms_id, const std::string& account,
                                                   const common::Error& error);

  // The orders a callback named besides the current one (PaymentStore::order_checks): each is
  // GET, and only one whose payeeReference is one of the session's attempts is touched.
  asio::awaitable<common::Result<void>> check_other_orders(const store::OutboxItem& item);
  asio::awaitable<common::Result<void>> check_other_order(const store::OutboxItem& item,
                                                          const std::string& order_id);
  void count_other_order(std::string_view outcome);
  // Forgets a check that touches nothing (`outcome` counted).
  asio::awaitable<common::Result<void>> drop_check(const std::string& session_id,
                                                   const std::string& order_id,
                                                   std::string_view outcome);

  PaymentWorkDeps d_;
  app::PaymentOrders orders_;
};

}  // namespace visitpay::workers
