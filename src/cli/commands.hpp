#pragma once

#include <string>
#include <vector>

namespace visitpay::cli {

// `visitpay [--config FILE] <command> ...`; returns the process exit code.
int run(const std::vector<std::string>& args, char** environ_list);

}  // namespace visitpay::cli
