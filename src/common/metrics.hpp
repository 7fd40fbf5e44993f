#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace visitpay::common {

// A small Prometheus registry: counters and histograms keyed by a rendered label set, plus
// collectors that append gauges at scrape time. Label values must never carry personal data;
// use route templates, statuses and outcome names only.
class Metrics {
 public:
  enum class Type { counter, histogram };

  void describe(std::string name, Type type, std::string help);
  void add(const std::string& name, const std::string& labels, double by = 1);
  void observe(const std::string& name, const std::string& labels, double value);
  void add_collector(std::function<void(std::string& out)> collector);

  double value(const std::string& name, const std::string& labels) const;  // tests
  std::string render() const;

  static std::string label(std::string_view key, std::string_view value);  // key="value"

 private:
  struct Histogram {
    std::vector<std::uint64_t> buckets;
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    Type type = Type::counter;
    std::string help;
    std::map<std::string, double> counters;
    std::map<std::string, Histogram> histograms;
  };
  static const std::vector<double>& bounds();

  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;
  std::vector<std::function<void(std::string&)>> collectors_;
};

}  // namespace visitpay::common
