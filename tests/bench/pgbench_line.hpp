#pragma once

#include <cctype>
#include <map>
#include <string>
#include <string_view>

namespace visitpay::bench {

// A statement of the service as one pgbench command line: newlines become spaces and each $n
// becomes values.at(n) (a literal or a pgbench variable). Throws std::out_of_range for a
// parameter without a value.
inline std::string pgbench_line(std::string_view sql, const std::map<int, std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != '$' || i + 1 >= sql.size() ||
        !std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      out += sql[i] == '\n' ? ' ' : sql[i];
      continue;
    }
    std::size_t j = i + 1;
    int n = 0;
    while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j])))
      n = n * 10 + (sql[j++] - '0');
    out += values.at(n);
    i = j - 1;
  }
  return out;
}

}  // namespace visitpay::bench
