#pragma once

// Helpers of the pgbench twins (checkout_, e2e_ and sweep_pgbench_script): a service statement
// with the parameters its own builder made, as one pgbench command. The builders are called with
// sentinel values (a fixed "now", a sentinel session id ...); each parameter whose value is a
// sentinel becomes a pgbench variable or expression (:sid, now() ...), every other one a constant
// variable: :k_ and a digest of the value (one name per value in every script), defined for
// pgbench by `-D name=value` from the file Constants::write makes. A change of a statement's text
// or of its parameters reaches the twin. The scripts are for `pgbench -M prepared`: each statement
// is prepared once per connection and every value is sent as a parameter, as the service sends
// its statements. (As literals in the SQL text the constants were parsed once, at prepare time,
// where the service's parameters are parsed at every execution: the check-out's twin ran 10-21 %
// faster that way.)
#include <chrono>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/crypto.hpp"
#include "common/time_format.hpp"
#include "config/config.hpp"
#include "pgbench_line.hpp"
#include "store/outbox_store.hpp"
#include "store/statement.hpp"

namespace visitpay::bench {

// A fixed instant standing for "now" in the builders' output (its rendering becomes now()).
// The retry budgets the service's claim sends, from its configuration.
inline store::RetryBudgets budgets_of(const config::Config& c) {
  store::RetryBudgets b;
  b.by_kind = c.outbox.budgets;
  b.fallback = c.outbox.default_budget;
  return b;
}

inline domain::Timestamp sentinel_now() {
  return *common::parse_rfc3339("2026-11-22T13:06:00Z");
}
inline const std::string kSentinelSession = "00000000-0000-7000-8000-00000000beef";

inline std::string quote_literal(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// The values a script sends as constant parameters: name -> value, for pgbench's `-D name=value`.
class Constants {
 public:
  // The variable that carries `value`; a literal where `-D` cannot carry it (pgbench refuses an
  // empty definition; the file has a line per definition).
  static std::string of(const std::string& value) {
    if (value.empty() || value.find('\n') != std::string::npos) return quote_literal(value);
    std::string name = "k_" + common::to_hex(common::sha256(value)).substr(0, 16);
    all()[name] = value;
    return ":" + name;
  }

  // Writes "name=value" lines, one per constant, for the benchmark's `-D` options.
  static void write(const std::string& path) {
    std::ofstream out(path, std::ios::trunc);
    for (const auto& [name, value] : all())
      out << name << '=' << value << '\n';
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
  }

 private:
  static std::map<std::string, std::string>& all() {
    static std::map<std::string, std::string> constants;
    return constants;
  }
};

// The constants file named by `--constants FILE` as the first two arguments (removed from argv),
// or empty.
inline std::string take_constants_option(int& argc, char**& argv) {
  if (argc < 3 || std::string(argv[1]) != "--constants") return {};
  std::string path = argv[2];
  argv[2] = argv[0];
  argv += 2;
  argc -= 2;
  return path;
}

// What sentinel values become: value -> pgbench expression.
using Substitutions = std::map<std::string, std::string>;

inline Substitutions now_is_now() {
  return {{common::format_rfc3339_utc(sentinel_now()), "now()"}};
}

// A value later than now by `d` (a deadline, the next status check), relative to the twin's now().
inline std::string now_plus(std::chrono::seconds d) {
  return "(now() + interval '" + std::to_string(d.count()) + " seconds')";
}

// The statement as one pgbench command (no terminator). Fails loudly on a statement pgbench
// cannot take on one line (an SQL comment) or a parameter without a value.
inline std::string command(const store::Statement& s, const store::PgParams& params,
                           const Substitutions& subst) {
  if (s.sql.find("--") != std::string_view::npos) {
    throw std::runtime_error(std::string(s.name) + " has an SQL comment");
  }
  std::map<int, std::string> values;
  int n = 1;
  for (const auto& v : params.values()) {
    if (!v) {
      values[n++] = "NULL";
      continue;
    }
    auto found = subst.find(*v);
    values[n++] = found != subst.end() ? found->second : Constants::of(*v);
  }
  return pgbench_line(s.sql, values);
}

// `sql` wrapped so that its rows come back as `select` (e.g. to turn a claim's kind into a
// number pgbench's \if can test): WITH x AS (sql) SELECT select FROM x.
inline std::string wrapped(const std::string& sql, const std::string& select) {
  return "WITH x AS (" + sql + ") SELECT " + select + " FROM x";
}

inline store::Statement named(const std::vector<store::Statement>& all, std::string_view name) {
  for (const auto& s : all) {
    if (s.name == name) return s;
  }
  throw std::runtime_error("no statement named " + std::string(name));
}

// A time-ordered uuid (like the service's uuid v7: its index stays append-mostly), from the clock.
inline const std::string kTimeOrderedUuid =
    "(lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000000)::bigint), 14, '0') || "
    "substr(md5(random()::text), 1, 18))::uuid";

}  // namespace visitpay::bench
