#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <variant>
#include <vector>

#include "app/invoice_documents.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "ports/clock.hpp"
#include "ports/collection_agency.hpp"
#include "ports/invoice_channel.hpp"
#include "store/invoice_store.hpp"
#include "store/reminder_store.hpp"
#include "workers/outbox_dispatcher.hpp"
#include "workers/payment_work.hpp"

namespace visitpay::workers {

struct InvoiceWorkDeps {
  store::InvoiceStore& invoices;
  store::PaymentStore& payments;
  PaymentWork& payment_work;
  app::InvoiceDocuments& documents;
  const app::PayerVault& vault;    // opens the buyer's name and address for the letter
  ports::InvoiceChannel& channel;  // print-and-post
  ports::InvoiceChannel* email;    // for clinics with invoice_delivery "email"; null: none
  store::ReminderStore& reminders;
  ports::CollectionAgency& agency;  // the reminder schedule's hand-off
  const config::Config& config;
  const ports::Clock& clock;
  common::Logger& log;
  common::Metrics& metrics;
};

// The outbox work of the invoice path:
//   invoice_session      the window closed (or the link never reached the payer): GET the order;
//                        paid -> the session is paid; still payable -> abort it (refused while
//                        the payer is in the Vipps app: look again later); only an order that is
//                        confirmed unpaid and no longer payable leads to an invoice
//   deliver_invoice,     render the PDF and hand it to the clinic's channel (at least once; the
//   deliver_credit_note  channel makes a repeat harmless): e-mail to a payer who gave an address
//                        if the clinic mails invoices, else post; for an invoice, then its
//                        reminder letters not yet delivered (same renderer, same channels) and a
//                        hand-off to the collection agency (the reminder schedule queues this)
class InvoiceWork {
 public:
  explicit InvoiceWork(InvoiceWorkDeps deps);
  InvoiceWork(const InvoiceWork&) = delete;
  InvoiceWork& operator=(const InvoiceWork&) = delete;

  void register_with(OutboxDispatcher& dispatcher);

  asio::awaitable<OutboxOutcome> close_window(const store::OutboxItem& item);
  asio::awaitable<OutboxOutcome> deliver(const store::OutboxItem& item, std::string_view kind);

 private:
  // GETs the order and aborts it if still payable. An outcome ends this attempt (paid, a wait,
  // a retry); `true`: invoice regardless, the order could not be aborted within its bound;
  // `false`: the order is closed unpaid (or none), invoice now.
  asio::awaitable<std::variant<OutboxOutcome, bool>> settle_order(
      const store::OutboxItem& item, const store::WindowContext& session);

  // The invoice's letters and hand-off not delivered yet, in order.
  asio::awaitable<OutboxOutcome> deliver_reminders(const store::InvoiceRecord& invoice);
  asio::awaitable<common::Result<std::string>> send_letter(const store::InvoiceRecord& invoice,
                                                           const store::ReminderRecord& reminder);
  asio::awaitable<common::Result<std::string>> hand_over(const store::InvoiceRecord& invoice,
                                                         const store::ReminderRecord& handoff);
  std::string agency_of(const store::InvoiceRecord& invoice) const;
  // Sends one document the clinic's way; returns the channel's reference. A refused e-mail goes
  // by post at once; a failure that may pass is returned for a retry. Either is shown to
  // finance on the invoice (delivery_problem and its history), and cleared once one succeeds.
  asio::awaitable<common::Result<std::string>> send(const store::InvoiceRecord& invoice,
                                                    ports::InvoiceDelivery delivery);
  asio::awaitable<void> note_problem(const store::InvoiceRecord& invoice,
                                     std::optional<std::string> problem,
                                     std::optional<std::string> history);

  InvoiceWorkDeps d_;
};

// The issuer's facts for a clinic's invoices.
store::InvoiceIssuer invoice_issuer(const config::Clinic& clinic);

}  // namespace visitpay::workers
