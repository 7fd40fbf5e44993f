#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace visitpay::common {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

std::optional<LogLevel> parse_log_level(std::string_view text);

// One key/value of a structured log line. Values are copied into the line at once, so views
// to temporaries are fine. Never pass personal data (names, national ids, phones, addresses).
class LogField {
 public:
  LogField(std::string_view key, std::string_view value) : key_(key), text_(value) {}
  LogField(std::string_view key, const char* value) : key_(key), text_(value) {}
  LogField(std::string_view key, const std::string& value) : key_(key), text_(value) {}
  LogField(std::string_view key, bool value) : key_(key), kind_(Kind::boolean), int_(value) {}
  LogField(std::string_view key, int value) : key_(key), kind_(Kind::integer), int_(value) {}
  LogField(std::string_view key, long value) : key_(key), kind_(Kind::integer), int_(value) {}
  LogField(std::string_view key, long long value) : key_(key), kind_(Kind::integer), int_(value) {}
  LogField(std::string_view key, unsigned value) : key_(key), kind_(Kind::integer), int_(value) {}
  LogField(std::string_view key, unsigned long value)
      : key_(key), kind_(Kind::integer), int_(static_cast<std::int64_t>(value)) {}
  LogField(std::string_view key, double value) : key_(key), kind_(Kind::real), real_(value) {}

  void append_to(std::string& line) const;

 private:
  enum class Kind { text, integer, real, boolean };
  std::string_view key_;
  Kind kind_ = Kind::text;
  std::string_view text_;
  std::int64_t int_ = 0;
  double real_ = 0;
};

void append_json_string(std::string& out, std::string_view text);

// Writes log lines to a file descriptor from a background thread, so request threads never
// block on the write. Bounded: past max_pending bytes lines are dropped and counted.
class BackgroundWriter {
 public:
  explicit BackgroundWriter(int fd = 2, std::size_t max_pending = std::size_t{8} << 20);
  ~BackgroundWriter();
  BackgroundWriter(const BackgroundWriter&) = delete;
  BackgroundWriter& operator=(const BackgroundWriter&) = delete;

  void write(std::string_view line);
  void flush();  // blocks until everything queued so far is written

 private:
  void run();

  int fd_;
  std::size_t max_pending_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::string pending_;
  std::uint64_t dropped_ = 0;
  std::uint64_t queued_ = 0;   // lines accepted
  std::uint64_t written_ = 0;  // lines written
  bool stop_ = false;
  bool flush_requested_ = false;
  std::thread thread_;
};

// How many lines one event may write. Warnings and errors come from faults, and a fault that
// repeats (out of descriptors, the database down) must not flood the log: per event name at most
// `burst` lines in each `window`; the rest are counted, and when the window has ended one
// "log.suppressed" line names the event and the count dropped. Info and debug lines describe
// work done (one per request or item) and are not limited.
struct LogRateLimit {
  std::size_t burst = 10;  // 0: no limit
  std::chrono::milliseconds window{10000};
  LogLevel from = LogLevel::warn;
};

// Counts per event name for LogRateLimit; thread-safe.
class LogRateLimiter {
 public:
  explicit LogRateLimiter(LogRateLimit limit) : limit_(limit) {}

  struct Suppressed {
    std::string event;
    std::uint64_t dropped;
  };
  // Whether a line of `event` may be written now; `ended` receives the counts of windows that
  // have ended with lines dropped (checked at most once a second, and for `event` itself).
  bool admit(std::string_view event, std::chrono::steady_clock::time_point now,
             std::vector<Suppressed>& ended);
  // Every count of lines dropped so far, windows ended or not (flush, shutdown).
  std::vector<Suppressed> drain();
  const LogRateLimit& limit() const { return limit_; }

 private:
  struct Window {
    std::chrono::steady_clock::time_point start;
    std::size_t written = 0;
    std::uint64_t dropped = 0;
  };
  static constexpr std::size_t kMaxEvents = 1024;  // event names are constants; a guard

  LogRateLimit limit_;
  std::mutex mutex_;
  std::map<std::string, Window, std::less<>> windows_;
  std::chrono::steady_clock::time_point next_sweep_{};
};

// Structured JSON-lines logger. Thread-safe; the default sink is a BackgroundWriter on stderr.
class Logger {
 public:
  // Called concurrently from any thread; a custom sink must be thread-safe.
  using Sink = std::function<void(std::string_view line)>;

  explicit Logger(LogLevel min_level = LogLevel::info, Sink sink = {},
                  LogRateLimit rate_limit = {});

  bool enabled(LogLevel level) const { return level >= min_level_; }
  // Writes the counts of suppressed lines, then waits for the writer.
  void flush();
  void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
  void debug(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::debug, event, fields);
  }
  void info(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::info, event, fields);
  }
  void warn(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::warn, event, fields);
  }
  void error(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::error, event, fields);
  }

 private:
  void write_line(LogLevel level, std::string_view event, std::initializer_list<LogField> fields);
  void report(const std::vector<LogRateLimiter::Suppressed>& suppressed);

  LogLevel min_level_;
  Sink sink_;
  std::shared_ptr<BackgroundWriter> writer_;
  std::shared_ptr<LogRateLimiter> limiter_;  // shared: copies of a logger share the counts
};

}  // namespace visitpay::common
