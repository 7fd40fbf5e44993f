#pragma once

#include <atomic>
#include <chrono>

namespace visitpay::ports {

// Wall-clock time for business rules (deadlines, quiet hours, retention). Tests use ManualClock
// and move time explicitly instead of sleeping.
class Clock {
 public:
  using time_point = std::chrono::sys_time<std::chrono::microseconds>;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
};

class SystemClock final : public Clock {
 public:
  time_point now() const override {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(time_point start) : now_(start.time_since_epoch().count()) {}
  time_point now() const override { return time_point(std::chrono::microseconds(now_.load())); }
  void advance(std::chrono::microseconds by) { now_ += by.count(); }
  void set(time_point t) { now_ = t.time_since_epoch().count(); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace visitpay::ports
