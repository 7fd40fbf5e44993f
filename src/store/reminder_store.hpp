#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "domain/dunning.hpp"
#include "store/invoice_store.hpp"
#include "store/pg_pool.hpp"

namespace visitpay::store {

// An invoice whose reminder schedule is due for a look.
struct ReminderCandidate {
  std::string invoice_id;
  std::string clinic_id;
};

// What a look at one invoice did.
struct ReminderOutcome {
  enum class Kind { skipped, waiting, finished, taken } kind = Kind::skipped;
  std::optional<domain::DunningKind> step;  // taken: which
  domain::Ore fee = 0;
  std::string session_id;
};

// The reminder schedule's rows (invoice_reminders) and the invoice columns it keeps
// (reminder_fees_ore, reminder_due_on, status sent_to_collection). Each step is taken in one
// transaction with its history event and the delivery work; the invoice row is claimed with
// SKIP LOCKED and each (invoice, kind, sequence) is unique, so instances never send twice.
class ReminderStore {
 public:
  explicit ReminderStore(PgPool& pool) : pool_(pool) {}

  // Issued invoices of `clinics` whose next look is on or before `today` (Oslo date).
  asio::awaitable<common::Result<std::vector<ReminderCandidate>>> due(
      std::string_view today, const std::vector<std::string>& clinics, int limit);

  // Looks at one invoice: decides with domain::next_dunning_step and takes the step (or records
  // when to look again).
  asio::awaitable<common::Result<ReminderOutcome>> look(std::string_view invoice_id,
                                                        const domain::DunningPolicy& policy,
                                                        domain::Date today, domain::Timestamp now);

  // Records a letter's delivery (or the hand-off's export) with its history event.
  asio::awaitable<common::Result<void>> delivered(std::string_view invoice_id,
                                                  const ReminderRecord& reminder,
                                                  std::string_view reference,
                                                  domain::Timestamp now);

 private:
  PgPool& pool_;
};

// "2026-11-22" -> the day; nullopt if malformed.
std::optional<domain::Date> parse_iso_date(std::string_view text);
std::string format_iso_date(domain::Date day);

}  // namespace visitpay::store
