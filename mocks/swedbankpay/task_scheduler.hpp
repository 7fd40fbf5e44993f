#pragma once

// Timed background work of the mock Swedbank Pay (callback deliveries and their retries, delayed
// status changes): a few worker threads run tasks when they are due, so no HTTP handler thread
// ever waits for a callback receiver. Internal to mocks/swedbankpay/.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace visitpay::mocks::swedbankpay {

class TaskScheduler {
 public:
  using Clock = std::chrono::steady_clock;

  explicit TaskScheduler(std::size_t workers);
  ~TaskScheduler();  // stop()
  TaskScheduler(const TaskScheduler&) = delete;
  TaskScheduler& operator=(const TaskScheduler&) = delete;

  // Runs `task` on a worker at or after `when`; tasks due at the same time run in FIFO order of
  // submission (on different workers when several are free).
  void at(Clock::time_point when, std::function<void()> task);
  void after(std::chrono::nanoseconds delay, std::function<void()> task) {
    at(Clock::now() + delay, std::move(task));
  }
  // Drops every task not yet started.
  void clear();
  // Drops pending tasks, waits for running ones and joins the workers. Idempotent.
  void stop();

 private:
  struct Item {
    Clock::time_point when;
    std::uint64_t sequence;
    std::function<void()> task;
  };
  struct Later {
    bool operator()(const Item& a, const Item& b) const {
      return a.when != b.when ? a.when > b.when : a.sequence > b.sequence;
    }
  };

  void work();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::priority_queue<Item, std::vector<Item>, Later> queue_;
  std::uint64_t next_sequence_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace visitpay::mocks::swedbankpay
