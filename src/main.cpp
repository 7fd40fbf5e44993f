#include <string>
#include <vector>

#include "cli/commands.hpp"

extern char** environ;

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return visitpay::cli::run(args, environ);
}
