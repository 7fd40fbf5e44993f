#include "pg_cluster.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "store/pg_sync.hpp"

namespace visitpay::testing {

std::string run_command(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::string out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe.get())) > 0)
    out.append(buf.data(), n);
  const int status = pclose(pipe.release());
  if (status != 0)
    throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  return out;
}

namespace {
std::string script() {
  return std::string(VISITPAY_SOURCE_DIR) + "/deploy/pg-cluster.sh";
}
}  // namespace

PgCluster::PgCluster() {
  std::string templ = "/tmp/visitpay-test-XXXXXX";
  if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
  chmod(templ.c_str(), 0755);
  dir_ = templ;
  start();
}

PgCluster::~PgCluster() {
  try {
    run_command(script() + " stop " + dir_ + " >/dev/null 2>&1");
    run_command("rm -rf " + dir_);
  } catch (...) {  // NOLINT(bugprone-empty-catch): best effort in a destructor
  }
}

void PgCluster::start() {
  conninfo_ = run_command(script() + " start " + dir_ + " --fast 2>/dev/null");
}

void PgCluster::stop() {
  run_command(script() + " stop " + dir_ + " >/dev/null 2>&1");
}

std::string PgCluster::create_database(const std::string& name) {
  auto db = store::PgSyncConnection::open(conninfo_);
  if (!db) throw std::runtime_error("cannot connect to the test cluster");
  auto r = db->exec("CREATE DATABASE " + name);
  if (!r) throw std::runtime_error("CREATE DATABASE failed: " + r.error().detail);
  const auto pos = conninfo_.find("dbname=");
  std::string info = conninfo_;
  if (pos != std::string::npos) {
    const auto end = info.find(' ', pos);
    info.replace(pos, (end == std::string::npos ? info.size() : end) - pos, "dbname=" + name);
  } else {
    info += " dbname=" + name;
  }
  return info;
}

PgCluster& shared_cluster() {
  static PgCluster cluster;
  return cluster;
}

}  // namespace visitpay::testing
