#include "common/metrics.hpp"

#include <charconv>

namespace visitpay::common {

namespace {
std::string format_number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}
}  // namespace

const std::vector<double>& Metrics::bounds() {
  // Seconds; from sub-millisecond handler work up to the client-visible timeout range.
  static const std::vector<double> b = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return b;
}

std::string Metrics::label(std::string_view key, std::string_view value) {
  std::string out(key);
  out += "=\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
  return out;
}

void Metrics::describe(std::string name, Type type, std::string help) {
  std::lock_guard lock(mutex_);
  auto& f = families_[std::move(name)];
  f.type = type;
  f.help = std::move(help);
}

void Metrics::add(const std::string& name, const std::string& labels, double by) {
  std::lock_guard lock(mutex_);
  families_[name].counters[labels] += by;
}

void Metrics::observe(const std::string& name, const std::string& labels, double value) {
  std::lock_guard lock(mutex_);
  auto& f = families_[name];
  f.type = Type::histogram;
  auto& h = f.histograms[labels];
  if (h.buckets.empty()) h.buckets.assign(bounds().size(), 0);
  for (std::size_t i = 0; i < bounds().size(); ++i) {
    if (value <= bounds()[i]) h.buckets[i]++;
  }
  h.count++;
  h.sum += value;
}

void Metrics::add_collector(std::function<void(std::string&)> collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

double Metrics::value(const std::string& name, const std::string& labels) const {
  std::lock_guard lock(mutex_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  auto c = f->second.counters.find(labels);
  return c == f->second.counters.end() ? 0 : c->second;
}

std::string Metrics::render() const {
  std::string out;
  std::vector<std::function<void(std::string&)>> collectors;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, f] : families_) {
      out += "# HELP " + name + " " + f.help + "\n";
      out += "# TYPE " + name + (f.type == Type::counter ? " counter\n" : " histogram\n");
      for (const auto& [labels, v] : f.counters) {
        out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + format_number(v) + "\n";
      }
      for (const auto& [labels, h] : f.histograms) {
        const std::string sep = labels.empty() ? "" : labels + ",";
        for (std::size_t i = 0; i < bounds().size(); ++i) {
          out += name + "_bucket{" + sep + "le=\"" + format_number(bounds()[i]) + "\"} " +
                 std::to_string(h.buckets[i]) + "\n";
        }
        out += name + "_bucket{" + sep + "le=\"+Inf\"} " + std::to_string(h.count) + "\n";
        const std::string braces = labels.empty() ? "" : "{" + labels + "}";
        out += name + "_sum" + braces + " " + format_number(h.sum) + "\n";
        out += name + "_count" + braces + " " + std::to_string(h.count) + "\n";
      }
    }
    collectors = collectors_;
  }
  for (const auto& c : collectors)
    c(out);
  return out;
}

}  // namespace visitpay::common
