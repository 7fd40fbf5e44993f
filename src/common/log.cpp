#include "common/log.hpp"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "common/time_format.hpp"

namespace visitpay::common {

namespace {
constexpr std::size_t kWakeAt = std::size_t{64} * 1024;
constexpr std::chrono::milliseconds kDrainEvery{20};
}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::debug;
  if (text == "info") return LogLevel::info;
  if (text == "warn") return LogLevel::warn;
  if (text == "error") return LogLevel::error;
  return std::nullopt;
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void LogField::append_to(std::string& line) const {
  line += ',';
  append_json_string(line, key_);
  line += ':';
  switch (kind_) {
    case Kind::text:
      append_json_string(line, text_);
      break;
    case Kind::integer:
      line += std::to_string(int_);
      break;
    case Kind::real:
      if (std::isfinite(real_)) {
        char buf[32];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, real_);
        line.append(buf, ec == std::errc() ? end : buf);
      } else {
        line += "null";  // JSON has no NaN or infinity
      }
      break;
    case Kind::boolean:
      line += int_ != 0 ? "true" : "false";
      break;
  }
}

BackgroundWriter::BackgroundWriter(int fd, std::size_t max_pending)
    : fd_(fd), max_pending_(max_pending), thread_([this] { run(); }) {}

BackgroundWriter::~BackgroundWriter() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void BackgroundWriter::write(std::string_view line) {
  {
    std::lock_guard lock(mutex_);
    if (pending_.size() + line.size() > max_pending_) {
      ++dropped_;
      return;
    }
    pending_.append(line);
    ++queued_;
    // The writer drains on its own every few milliseconds; waking it per line would cost a
    // futex call per request. Only a large backlog wakes it early.
    if (pending_.size() < kWakeAt) return;
  }
  wake_.notify_one();
}

void BackgroundWriter::flush() {
  std::unique_lock lock(mutex_);
  const auto target = queued_;
  flush_requested_ = true;
  wake_.notify_one();
  drained_.wait(lock, [&] { return written_ >= target || stop_; });
}

void BackgroundWriter::run() {
  std::string batch;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, kDrainEvery,
                   [&] { return stop_ || pending_.size() >= kWakeAt || flush_requested_; });
    flush_requested_ = false;
    if (pending_.empty() && dropped_ == 0) {
      if (stop_) return;
      continue;
    }
    if (dropped_ > 0) {
      pending_ +=
          "{\"level\":\"warn\",\"event\":\"log.dropped\",\"lines\":" + std::to_string(dropped_) +
          "}\n";
      dropped_ = 0;
    }
    batch.swap(pending_);
    const auto lines = queued_;
    const bool stopping = stop_;
    lock.unlock();
    std::size_t off = 0;
    while (off < batch.size()) {
      const auto n = ::write(fd_, batch.data() + off, batch.size() - off);
      if (n <= 0) break;  // nowhere to log to; never fail the service over it
      off += static_cast<std::size_t>(n);
    }
    batch.clear();
    lock.lock();
    written_ = lines;
    drained_.notify_all();
    if (stopping && pending_.empty()) return;
  }
}

bool LogRateLimiter::admit(std::string_view event, std::chrono::steady_clock::time_point now,
                           std::vector<Suppressed>& ended) {
  std::lock_guard lock(mutex_);
  auto close_if_ended = [&](const std::string& name, Window& w) {
    if (now - w.start < limit_.window) return false;
    if (w.dropped > 0) ended.push_back({name, w.dropped});
    w = Window{now, 0, 0};
    return true;
  };
  if (now >= next_sweep_) {
    // Without this an event that stopped would never report what it dropped.
    next_sweep_ = now + std::chrono::seconds(1);
    for (auto& [name, w] : windows_) {
      if (w.dropped > 0) close_if_ended(name, w);
    }
  }
  auto it = windows_.find(event);
  if (it == windows_.end()) {
    if (windows_.size() >= kMaxEvents) return true;
    it = windows_.emplace(std::string(event), Window{now, 0, 0}).first;
  }
  close_if_ended(it->first, it->second);
  if (it->second.written < limit_.burst) {
    ++it->second.written;
    return true;
  }
  ++it->second.dropped;
  return false;
}

std::vector<LogRateLimiter::Suppressed> LogRateLimiter::drain() {
  std::lock_guard lock(mutex_);
  std::vector<Suppressed> out;
  for (auto& [name, w] : windows_) {
    if (w.dropped == 0) continue;
    out.push_back({name, w.dropped});
    w.dropped = 0;
  }
  return out;
}

Logger::Logger(LogLevel min_level, Sink sink, LogRateLimit rate_limit)
    : min_level_(min_level), sink_(std::move(sink)) {
  if (!sink_) {
    writer_ = std::make_shared<BackgroundWriter>();
    sink_ = [w = writer_.get()](std::string_view line) { w->write(line); };
  }
  if (rate_limit.burst > 0) limiter_ = std::make_shared<LogRateLimiter>(rate_limit);
}

void Logger::flush() {
  if (limiter_) report(limiter_->drain());
  if (writer_) writer_->flush();
}

void Logger::report(const std::vector<LogRateLimiter::Suppressed>& suppressed) {
  const auto window_ms = limiter_->limit().window.count();
  for (const auto& s : suppressed) {
    write_line(LogLevel::warn, "log.suppressed",
               {{"suppressed_event", s.event},
                {"dropped", static_cast<long long>(s.dropped)},
                {"window_ms", static_cast<long long>(window_ms)}});
  }
}

void Logger::log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (!enabled(level)) return;
  if (limiter_ && level >= limiter_->limit().from) {
    std::vector<LogRateLimiter::Suppressed> ended;
    const bool admitted = limiter_->admit(event, std::chrono::steady_clock::now(), ended);
    if (!ended.empty()) report(ended);
    if (!admitted) return;
  }
  write_line(level, event, fields);
}

void Logger::write_line(LogLevel level, std::string_view event,
                        std::initializer_list<LogField> fields) {
  static constexpr std::string_view kLevels[] = {"debug", "info", "warn", "error"};
  std::string line;
  line.reserve(160);
  line += "{\"ts\":";
  append_json_string(line,
                     format_rfc3339_utc(std::chrono::time_point_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now())));
  line += ",\"level\":";
  append_json_string(line, kLevels[static_cast<int>(level)]);
  line += ",\"event\":";
  append_json_string(line, event);
  for (const auto& f : fields)
    f.append_to(line);
  line += "}\n";
  sink_(line);
}

}  // namespace visitpay::common
