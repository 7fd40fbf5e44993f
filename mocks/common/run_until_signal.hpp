#pragma once

#include <pthread.h>
#include <signal.h>

#include <exception>
#include <iostream>
#include <string>

namespace visitpay::mocks {

// Runs a mock until SIGINT or SIGTERM: prints "<what> listening on <url>", then waits. The stop
// signals are blocked before the mock starts any thread, so only sigwait() receives them.
// Returns the process exit code (0 on a signal, 1 if the mock could not start).
template <typename Mock, typename Options>
int run_until_signal(const std::string& program, const std::string& what, const Options& options) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  try {
    Mock mock(options);
    std::cout << what << " listening on " << mock.base_url() << std::endl;
    int received = 0;
    sigwait(&stop_signals, &received);
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << '\n';
    return 1;
  }
  return 0;
}

}  // namespace visitpay::mocks
