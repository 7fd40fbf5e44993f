#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

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

// Structured JSON-lines logger. Thread-safe; one write per line.
class Logger {
 public:
  using Sink = std::function<void(std::string_view line)>;

  explicit Logger(LogLevel min_level = LogLevel::info, Sink sink = {});

  bool enabled(LogLevel level) const { return level >= min_level_; }
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
  LogLevel min_level_;
  Sink sink_;
  std::mutex mutex_;
};

}  // namespace visitpay::common
