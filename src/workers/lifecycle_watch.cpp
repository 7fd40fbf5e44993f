#include "workers/lifecycle_watch.hpp"

namespace visitpay::workers {

namespace {

constexpr int kRepairBatch = 500;
// A session is looked at only after this long in its state, so work being queued right now by
// another statement is never mistaken for none.
constexpr auto kQuiet = std::chrono::minutes(1);

constexpr std::array kWatched = {domain::SessionState::pending,
                                 domain::SessionState::awaiting_payment,
                                 domain::SessionState::invoicing};

std::size_t slot(domain::SessionState state) {
  for (std::size_t i = 0; i < kWatched.size(); ++i) {
    if (kWatched[i] == state) return i;
  }
  return 0;
}

}  // namespace

LifecycleWatch::LifecycleWatch(const asio::any_io_executor& executor,
                               store::LifecycleStore& lifecycle,
                               const config::LifecycleConfig& config, const ports::Clock& clock,
                               common::Logger& log, common::Metrics& metrics,
                               std::function<void()> nudge)
    : lifecycle_(lifecycle),
      config_(config),
      clock_(clock),
      log_(log),
      metrics_(metrics),
      nudge_(std::move(nudge)),
      task_(
          executor, every("lifecycle_watch", config_.watch_interval),
          [this]() -> asio::awaitable<PassResult> {
            const auto repaired = co_await run_once();
            co_return PassResult{repaired >= kRepairBatch};
          },
          log, metrics) {
  metrics_.describe("visitpay_sessions_repaired_total", common::Metrics::Type::counter,
                    "Open sessions found without live work and given their exit (stranded)");
  metrics_.add_collector([this](std::string& out) {
    out +=
        "# HELP visitpay_sessions_overdue Sessions past their state's time bound (all "
        "instances, as of the last watch pass)\n";
    out += "# TYPE visitpay_sessions_overdue gauge\n";
    for (auto state : kWatched) {
      out += "visitpay_sessions_overdue{state=\"" + std::string(domain::to_string(state)) + "\"} " +
             std::to_string(overdue(state)) + "\n";
    }
  });
}

std::int64_t LifecycleWatch::overdue(domain::SessionState state) const {
  return overdue_[slot(state)].load();
}

asio::awaitable<std::int64_t> LifecycleWatch::run_once() {
  const auto now = clock_.now();
  auto repaired = co_await lifecycle_.repair_stranded(now - kQuiet, now, kRepairBatch);
  if (!repaired) {
    log_.warn("lifecycle.repair_failed", {{"detail", repaired.error().detail}});
  } else if (*repaired > 0) {
    metrics_.add("visitpay_sessions_repaired_total", "", static_cast<double>(*repaired));
    log_.warn("lifecycle.stranded_repaired", {{"sessions", static_cast<long long>(*repaired)}});
    if (nudge_) nudge_();
  }
  if (auto counts = co_await lifecycle_.count_overdue(config_.bounds, now)) {
    for (auto& o : overdue_)
      o = 0;
    for (const auto& [state, n] : *counts)
      overdue_[slot(state)] = n;
  }
  co_return repaired ? *repaired : 0;
}

}  // namespace visitpay::workers
