#include "workers/reminder_scheduler.hpp"

#include "common/time_format.hpp"

namespace visitpay::workers {

namespace {

std::vector<std::string> clinics_with_reminders(const config::Config& config) {
  std::vector<std::string> out;
  for (const auto& clinic : config.clinics) {
    if (clinic.reminders.enabled) out.push_back(clinic.id);
  }
  return out;
}

}  // namespace

ReminderScheduler::ReminderScheduler(const asio::any_io_executor& executor,
                                     store::ReminderStore& reminders, const config::Config& config,
                                     const ports::Clock& clock, common::Logger& log,
                                     common::Metrics& metrics, std::function<void()> nudge)
    : reminders_(reminders),
      config_(config),
      clock_(clock),
      log_(log),
      metrics_(metrics),
      nudge_(std::move(nudge)),
      clinics_(clinics_with_reminders(config)),
      task_(
          executor, every("reminder_scheduler", config.invoices.reminder_interval),
          [this] { return pass(); }, log, metrics) {
  metrics_.describe("visitpay_reminder_steps_total", common::Metrics::Type::counter,
                    "Reminder steps taken (purring, inkassovarsel, collection), by fee charged");
}

asio::awaitable<std::int64_t> ReminderScheduler::run_once() {
  full_ = false;
  if (clinics_.empty()) co_return 0;
  const auto now = clock_.now();
  const auto today_text = common::format_oslo_iso_date(now);
  const auto today = store::parse_iso_date(today_text);
  if (!today) co_return 0;
  auto due = co_await reminders_.due(today_text, clinics_, config_.invoices.reminder_batch);
  if (!due) {
    log_.warn("reminder.due_failed", {{"detail", due.error().detail}});
    co_return 0;
  }
  full_ = static_cast<int>(due->size()) >= config_.invoices.reminder_batch;
  std::int64_t taken = 0;
  for (const auto& candidate : *due) {
    const config::Clinic* clinic = config_.find_clinic(candidate.clinic_id);
    if (clinic == nullptr) continue;
    auto outcome = co_await reminders_.look(candidate.invoice_id, clinic->reminders, *today, now);
    if (!outcome) {
      log_.warn("reminder.step_failed",
                {{"invoice_id", candidate.invoice_id}, {"detail", outcome.error().detail}});
      continue;
    }
    if (outcome->kind != store::ReminderOutcome::Kind::taken) continue;
    ++taken;
    const std::string kind(domain::to_string(*outcome->step));
    metrics_.add("visitpay_reminder_steps_total",
                 common::Metrics::label("kind", kind) + "," +
                     common::Metrics::label("fee", outcome->fee > 0 ? "charged" : "none"));
    log_.info("reminder.step", {{"invoice_id", candidate.invoice_id},
                                {"session_id", outcome->session_id},
                                {"kind", kind},
                                {"fee_ore", static_cast<long long>(outcome->fee)}});
  }
  if (taken > 0 && nudge_) nudge_();
  co_return taken;
}

asio::awaitable<PassResult> ReminderScheduler::pass() {
  co_await run_once();
  co_return PassResult{full_.load()};  // more are due: go on soon
}

}  // namespace visitpay::workers
