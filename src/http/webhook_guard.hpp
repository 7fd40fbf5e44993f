#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/crypto.hpp"
#include "common/ip_network.hpp"
#include "config/config.hpp"
#include "http/client_address.hpp"

namespace visitpay::http {

enum class WebhookKind { payment, sms };

// Decides whether a provider's notification (a payment callback, an SMS delivery report) may be
// read at all, before its body is parsed. Two independent checks, both required:
// - the client address (config::WebhookConfig: behind trusted proxies, from their forwarding
//   header) is in the provider's allowlist, when it has one;
// - the path carries a webhook token of one of the provider's accounts of that kind, compared in
//   constant time; a token-less path only while the provider's accept_tokenless is on.
// A refusal must look the same from outside whatever failed (the route answers 404 as for a path
// that does not exist); `outcome` says which, for logs and metrics only.
class WebhookGuard {
 public:
  explicit WebhookGuard(const config::Config& config);

  struct Verdict {
    bool allowed = false;
    // "source_refused", "token_refused", "tokenless_refused", or "token" / "tokenless" when
    // allowed.
    std::string_view outcome;
    std::string account;  // the account whose token matched ("" for a token-less path)
    std::optional<common::IpAddress> client;  // nullopt: not known
  };

  // `token`: the path's last segment, nullopt on a token-less path. `forwarded_fields`: the values
  // of the header named by forwarded_header_name(), in order.
  Verdict check(WebhookKind kind, std::string_view provider, std::optional<std::string_view> token,
                std::string_view peer, const std::vector<std::string_view>& forwarded_fields) const;

  std::string_view forwarded_header_name() const;

 private:
  struct Account {
    std::string name;
    std::vector<common::Sha256Digest> tokens;  // only digests are kept in memory
  };
  std::optional<std::string> match_token(WebhookKind kind, std::string_view provider,
                                         std::string_view token) const;

  const config::WebhookConfig& config_;
  ClientAddressPolicy proxies_;
  std::map<std::pair<WebhookKind, std::string>, std::vector<Account>, std::less<>> accounts_;
};

}  // namespace visitpay::http
