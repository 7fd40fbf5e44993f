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

Logger::Logger(LogLevel min_level, Sink sink) : min_level_(min_level), sink_(std::move(sink)) {
  if (!sink_) {
    writer_ = std::make_shared<BackgroundWriter>();
    sink_ = [w = writer_.get()](std::string_view line) { w->write(line); };
  }
}

void Logger::log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (!enabled(level)) return;
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
