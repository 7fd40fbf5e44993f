#pragma once

#include <string>

namespace visitpay::testing {

// A throwaway PostgreSQL cluster in a fresh temporary directory, managed through
// deploy/pg-cluster.sh (the same script the README's commands use). Stopped on destruction.
class PgCluster {
 public:
  PgCluster();
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  const std::string& conninfo() const { return conninfo_; }
  // A new, empty database in this cluster; returns its conninfo.
  std::string create_database(const std::string& name);
  void stop();
  void start();

 private:
  std::string dir_;
  std::string conninfo_;
};

// One cluster per test binary, started on first use.
PgCluster& shared_cluster();

// Runs a shell command, returns its stdout; fails the test (throws) on a non-zero exit.
std::string run_command(const std::string& command);

}  // namespace visitpay::testing
