#include "mocks/swedbankpay/task_scheduler.hpp"

namespace visitpay::mocks::swedbankpay {

TaskScheduler::TaskScheduler(std::size_t workers) {
  workers_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i)
    workers_.emplace_back([this] { work(); });
}

TaskScheduler::~TaskScheduler() {
  stop();
}

void TaskScheduler::at(Clock::time_point when, std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    queue_.push(Item{when, next_sequence_++, std::move(task)});
  }
  wake_.notify_all();
}

void TaskScheduler::clear() {
  std::lock_guard lock(mutex_);
  queue_ = {};
}

void TaskScheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    queue_ = {};
  }
  wake_.notify_all();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

void TaskScheduler::work() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto when = queue_.top().when;
    if (when > Clock::now()) {
      wake_.wait_until(lock, when);
      continue;
    }
    auto task = queue_.top().task;
    queue_.pop();
    lock.unlock();
    try {
      task();
    } catch (...) {
      // A failing task must not take the worker (and the process) down.
    }
    lock.lock();
  }
}

}  // namespace visitpay::mocks::swedbankpay
