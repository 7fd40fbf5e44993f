// The deployment artefacts in deploy/ against the service they deploy: every metric the alert
// rules and the dashboard name is one the service exposes, and the production config that the
// Kubernetes manifests mount is one the service accepts. (The tools' own checks, promtool,
// systemd-analyze and kustomize, run in tests/deploy/deploy_test.sh.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "config/config.hpp"
#include "http_client.hpp"
#include "pg_cluster.hpp"
#include "test_service.hpp"

namespace visitpay::testing {
namespace {

using Json = nlohmann::json;

std::string read(const std::string& relative) {
  std::ifstream in(std::string(VISITPAY_SOURCE_DIR) + "/" + relative);
  if (!in) throw std::runtime_error("cannot read " + relative);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Metric families declared by "# TYPE" lines, and the series names a histogram adds.
std::set<std::string> exposed_names(const std::string& exposition) {
  std::set<std::string> names;
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string hash, type, name, kind;
    if (!(words >> hash >> type >> name >> kind) || hash != "#" || type != "TYPE") continue;
    names.insert(name);
    if (kind == "histogram") {
      for (const char* suffix : {"_bucket", "_sum", "_count"})
        names.insert(name + suffix);
    }
  }
  return names;
}

// The visitpay_* and http_* names in a text of PromQL expressions.
std::set<std::string> referenced_names(const std::string& text) {
  static const std::regex name(R"(\b(visitpay_[a-z_]+|http_[a-z_]+)\b)");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator();
       ++it) {
    names.insert((*it)[1].str());
  }
  return names;
}

TEST(DeployArtefacts, AlertsAndDashboardNameOnlyMetricsTheServiceExposes) {
  TestService service(
      test_config(shared_cluster().create_database("deploy" + std::to_string(getpid()))));
  const auto reply = http_request(service.port(), "GET", "/metrics", {}, {});
  ASSERT_EQ(reply.status, 200);
  const auto exposed = exposed_names(reply.body);
  ASSERT_GT(exposed.size(), 20u) << reply.body;

  std::string expressions = read("deploy/monitoring/alerts.yaml");
  const auto dashboard = Json::parse(read("deploy/monitoring/grafana-dashboard.json"));
  for (const auto& panel : dashboard["panels"]) {
    const auto targets = panel.value("targets", Json::array());
    for (const auto& target : targets)
      expressions += "\n" + target.value("expr", std::string());
  }

  const auto referenced = referenced_names(expressions);
  EXPECT_GE(referenced.size(), 15u);
  for (const auto& metric : referenced) {
    // A name in a comment of the rules file ("visitpay_*") is no metric.
    if (metric.back() == '_') continue;
    EXPECT_TRUE(exposed.count(metric)) << metric << " is not in GET /metrics";
  }
}

TEST(DeployArtefacts, TheKubernetesConfigIsAValidProductionConfig) {
  auto config = Json::parse(read("deploy/k8s/base/config.json"));
  ASSERT_EQ(config.value("environment", ""), "production");

  // The secret files the manifests mount, stood in for by files with values of the right shape.
  const auto dir =
      std::filesystem::temp_directory_path() / ("visitpay-deploy-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  int files = 0;
  const auto stand_in = [&](Json& value, const std::string& key) {
    const auto path = dir / (key + std::to_string(++files));
    std::ofstream out(path);
    if (key == "master_keys_file") {
      out << "prod-1 " << std::string(64, 'a') << "\n";
    } else if (key == "lookup_key_file") {
      out << std::string(64, 'b') << "\n";
    } else if (key == "url_file") {
      out << "host=/nonexistent dbname=visitpay\n";
    } else if (key == "webhook_token_file") {
      out << std::string(63, 'c') << files << "\n";  // 64 characters, one per account
    } else {
      out << "secret-" << files << "\n";
    }
    value = path.string();
  };
  const std::function<void(Json&)> walk = [&](Json& node) {
    if (!node.is_object()) {
      if (node.is_array())
        for (auto& item : node)
          walk(item);
      return;
    }
    for (auto& [key, value] : node.items()) {
      if (key.size() > 5 && key.ends_with("_file") && value.is_string()) {
        stand_in(value, key);
      } else {
        walk(value);
      }
    }
  };
  walk(config);
  EXPECT_GE(files, 7);  // keys, lookup key, database, two provider secrets, two webhook tokens

  const auto no_env = [](const std::string&) -> std::optional<std::string> { return {}; };
  auto parsed = config::parse_config(config.dump(), no_env);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(parsed) << parsed.error().detail;
  EXPECT_EQ(parsed->environment, "production");
  EXPECT_EQ(parsed->database.url, "host=/nonexistent dbname=visitpay");
  EXPECT_FALSE(parsed->checkout.allow_synthetic_national_ids);
  // Webhooks need each account's token; Swedbank Pay's documented sources are the allowlist.
  for (const auto& account : parsed->payment_accounts)
    EXPECT_EQ(account.webhook_tokens.size(), 1u) << account.name;
  for (const auto& account : parsed->sms_accounts)
    EXPECT_EQ(account.webhook_tokens.size(), 1u) << account.name;
  EXPECT_EQ(parsed->webhooks.provider("swedbankpay").allowed_sources.size(), 3u);
  EXPECT_FALSE(parsed->webhooks.provider("swedbankpay").accept_tokenless);
}

}  // namespace
}  // namespace visitpay::testing
