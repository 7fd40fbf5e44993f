// PeriodicTask on a real io_context with short intervals, every wait bounded: the exception
// barrier (logged, counted, the loop goes on after a backoff), a full batch going on after the
// short pause instead of the interval, nudge, and stop() with ended() for shutdown.
#include "workers/periodic_task.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace visitpay::workers {
namespace {

using namespace std::chrono_literals;

class PeriodicTaskTest : public ::testing::Test {
 protected:
  void TearDown() override {
    work_.reset();
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }

  void run_io() {
    thread_ = std::thread([this] { ioc_.run(); });
  }

  // Polls a condition for up to two seconds.
  template <typename Condition>
  bool eventually(Condition condition) {
    for (int i = 0; i < 200 && !condition(); ++i)
      std::this_thread::sleep_for(10ms);
    return condition();
  }

  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ioc_);
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
  common::Logger log_{common::LogLevel::info, [this](std::string_view line) {
                        std::lock_guard lock(mutex_);
                        lines_.emplace_back(line);
                      }};
  common::Metrics metrics_;
};

TEST_F(PeriodicTaskTest, APassThatThrowsIsLoggedCountedAndTheLoopGoesOn) {
  std::atomic<int> calls{0};
  auto options = every("flaky", 5ms);
  options.first_backoff = 5ms;
  options.max_backoff = 20ms;
  PeriodicTask task(
      ioc_.get_executor(), options,
      [&]() -> asio::awaitable<PassResult> {
        if (++calls <= 3) throw std::runtime_error("database exploded");
        co_return PassResult{};
      },
      log_, metrics_);
  task.start();
  run_io();
  ASSERT_TRUE(eventually([&] { return task.passes() >= 2; }));
  EXPECT_EQ(task.failures(), 3);
  EXPECT_EQ(metrics_.value("visitpay_worker_failures_total", R"(worker="flaky")"), 3);
  int logged = 0;
  for (const auto& line : lines()) {
    if (line.find("\"worker.failed\"") == std::string::npos) continue;
    logged++;
    EXPECT_NE(line.find("\"worker\":\"flaky\""), std::string::npos) << line;
    EXPECT_NE(line.find("database exploded"), std::string::npos) << line;
  }
  EXPECT_EQ(logged, 3);
  task.stop();
  asio::co_spawn(ioc_, task.ended(), asio::use_future).get();
}

TEST_F(PeriodicTaskTest, AFullBatchGoesOnAfterTheShortPauseNotTheInterval) {
  std::atomic<int> calls{0};
  auto options = every("backlog", 1h);
  options.pause_after_full = 1ms;
  PeriodicTask task(
      ioc_.get_executor(), options,
      [&]() -> asio::awaitable<PassResult> { co_return PassResult{++calls < 5}; }, log_, metrics_);
  task.start();
  run_io();
  ASSERT_TRUE(eventually([&] { return calls.load() >= 5; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(calls.load(), 5);  // the backlog is drained; the next pass waits for the hour
  task.nudge();
  ASSERT_TRUE(eventually([&] { return calls.load() >= 6; }));
  task.stop();
  asio::co_spawn(ioc_, task.ended(), asio::use_future).get();
  EXPECT_EQ(task.failures(), 0);
}

TEST_F(PeriodicTaskTest, EndedCompletesAfterStopAndAtOnceWhenNeverStarted) {
  PeriodicTask idle(
      ioc_.get_executor(), every("idle", 1h),
      []() -> asio::awaitable<PassResult> { co_return PassResult{}; }, log_, metrics_);
  run_io();
  asio::co_spawn(ioc_, idle.ended(), asio::use_future).get();  // never started

  std::atomic<int> calls{0};
  PeriodicTask task(
      ioc_.get_executor(), every("hourly", 1h),
      [&]() -> asio::awaitable<PassResult> {
        ++calls;
        co_return PassResult{};
      },
      log_, metrics_);
  task.start();
  ASSERT_TRUE(eventually([&] { return calls.load() == 1; }));
  auto ended = asio::co_spawn(ioc_, task.ended(), asio::use_future);
  EXPECT_EQ(ended.wait_for(50ms), std::future_status::timeout);  // still waiting for the hour
  task.stop();
  EXPECT_EQ(ended.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(calls.load(), 1);
}

}  // namespace
}  // namespace visitpay::workers
