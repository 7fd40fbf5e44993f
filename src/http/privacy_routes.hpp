#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "app/auth.hpp"
#include "app/privacy_service.hpp"
#include "common/log.hpp"
#include "http/router.hpp"

namespace visitpay::http {

struct PrivacyRouteDeps {
  app::Authenticator& auth;
  app::PrivacyService& privacy;
  common::Logger& log;
  // The check also counts letters and hand-off files left in these folders past the retention,
  // looked at on `blocking` (a thread pool).
  std::vector<std::string> delivery_folders;
  std::chrono::seconds delivered_files_retention;
  boost::asio::any_io_executor blocking;
};

// Data-subject requests under /v1/privacy (scope privacy): access (GDPR Art. 15) and erasure
// (Art. 17), each by the person's national id in the body (never in a URL, which gets logged).
void register_privacy_routes(Router& router, PrivacyRouteDeps deps);

}  // namespace visitpay::http
