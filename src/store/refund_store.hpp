#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "domain/refund.hpp"
#include "store/lifecycle_store.hpp"
#include "store/pg_pool.hpp"
#include "store/pg_transaction.hpp"

namespace visitpay::store {

// One row of payment_operations: a cancel or reversal on a session's payment order.
struct PaymentOperationRecord {
  std::string id;
  std::string session_id;
  domain::PaymentOperationKind kind = domain::PaymentOperationKind::reversal;
  std::string purpose;  // release | refund
  domain::Ore amount = 0;
  domain::Ore vat_amount = 0;
  std::string payee_reference;
  domain::PaymentOperationStatus status = domain::PaymentOperationStatus::requested;
  std::optional<std::string> reason;
  std::string requested_by;
  domain::Timestamp requested_at;
  std::optional<std::string> provider_reference;
  std::optional<std::string> error;
  std::optional<domain::Timestamp> completed_at;
};

// Finance's refund as asked (the API has checked its form).
struct RefundInput {
  std::optional<domain::Ore> amount;  // nullopt: all that is left
  bool at_most = false;               // `amount` is a bound: what is left, if that is less
  std::string reason;
  std::optional<std::string> idempotency_key;
  std::string actor;  // the API client's name or "user:<name>"
};

// What a refund request came to.
struct RefundRequested {
  PaymentOperationRecord operation;
  bool replayed = false;  // the Idempotency-Key's earlier refund, returned again
};

// What a session's refunds add up to (GET /v1/sessions/{id}/refunds).
struct RefundSummary {
  std::string clinic_id;
  domain::Ore paid = 0;      // captured or sold through the link
  domain::Ore refunded = 0;  // reversals requested or done
  std::vector<PaymentOperationRecord> operations;
};

// payment_operations and their audit log (payment_operation_events): every statement on them.
// A request locks the session row first (LifecycleStore::lock), decides with domain::plan_refund
// on what it sees then, and records the operation, its audit entry and the lifecycle step that
// queues the work (refund_requested) in one transaction: nothing is half-written.
class RefundStore {
 public:
  explicit RefundStore(PgPool& pool) : pool_(pool), lifecycle_(pool) {}

  // The clinic of a session (nullopt: no such session), to check the caller may act for it.
  asio::awaitable<common::Result<std::optional<std::string>>> clinic_of(
      std::string_view session_id);

  // A refund of the session's link payment. Errors: invalid_state (not paid through the link,
  // nothing left), validation_failed (/amount_ore), idempotency_conflict (the key was used for
  // another amount), not_found.
  asio::awaitable<common::Result<RefundRequested>> request_refund(std::string_view session_id,
                                                                  const RefundInput& input,
                                                                  domain::Timestamp now);

  // The same in a transaction that has locked the session (InvoiceStore::credit: a credit note
  // on an invoice that was paid twice). Nothing is written on an error: the caller rolls back.
  static asio::awaitable<common::Result<RefundRequested>> request_refund(
      PgTransaction& tx, LifecycleStore& lifecycle, std::string_view session_id,
      const RefundInput& input, domain::Timestamp now);

  // In a transaction that has locked the session (PaymentStore::record_order_status): the
  // release of a payment confirmed after the session was cancelled: a cancel of the
  // authorisation, or a reversal of a one-phase Sale. At most one per session; audited.
  static asio::awaitable<common::Result<void>> request_release(PgTransaction& tx,
                                                               std::string_view session_id,
                                                               domain::Timestamp now);

  // The session's operations still to be carried out, oldest first.
  asio::awaitable<common::Result<std::vector<PaymentOperationRecord>>> requested(
      std::string_view session_id);
  // The provider carried it out (done) or it cannot be (failed, `error` says why); audited as
  // the system's. False when it was no longer requested.
  asio::awaitable<common::Result<bool>> finish(const std::string& operation_id,
                                               domain::PaymentOperationStatus status,
                                               const std::optional<std::string>& provider_reference,
                                               const std::optional<std::string>& error,
                                               domain::Timestamp now);

  asio::awaitable<common::Result<std::optional<RefundSummary>>> summary(
      std::string_view session_id);

  // The repair pass (LifecycleStore::repair_stranded): operations requested before
  // `quiet_before` whose session has no live cancel/reverse work (a request that committed while
  // the last run of that work was finishing) get reverse_payment queued again. Returns how many.
  static asio::awaitable<common::Result<std::int64_t>> requeue_stranded(
      PgPool& pool, domain::Timestamp quiet_before, domain::Timestamp now, int limit);

 private:
  PgPool& pool_;
  LifecycleStore lifecycle_;
};

}  // namespace visitpay::store
