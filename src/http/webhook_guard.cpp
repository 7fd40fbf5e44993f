#include "http/webhook_guard.hpp"

namespace visitpay::http {
namespace {

std::string_view as_view(const common::Sha256Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

// "payment.swedbankpay" -> "swedbankpay"; a bare name stays as it is (ports::adapter_name).
std::string bare_name(const std::string& provider) {
  const auto dot = provider.find('.');
  return dot == std::string::npos ? provider : provider.substr(dot + 1);
}

}  // namespace

WebhookGuard::WebhookGuard(const config::Config& config) : config_(config.webhooks) {
  proxies_.trusted_proxies = config_.trusted_proxies;
  proxies_.header = config_.forwarded_header == config::ForwardedHeaderKind::forwarded
                        ? ForwardedHeader::forwarded
                        : ForwardedHeader::x_forwarded_for;
  auto add = [this](WebhookKind kind, const config::ProviderAccount& a) {
    Account account{a.name, {}};
    for (const auto& token : a.webhook_tokens)
      account.tokens.push_back(common::sha256(token));
    accounts_[{kind, bare_name(a.provider)}].push_back(std::move(account));
  };
  for (const auto& a : config.payment_accounts)
    add(WebhookKind::payment, a);
  for (const auto& a : config.sms_accounts)
    add(WebhookKind::sms, a);
}

std::string_view WebhookGuard::forwarded_header_name() const {
  return proxies_.header == ForwardedHeader::forwarded ? "Forwarded" : "X-Forwarded-For";
}

// Both sides are hashed first, so the comparison always runs over 32 bytes whatever length was
// sent, and every token of every account is compared (no early exit that would time the match).
std::optional<std::string> WebhookGuard::match_token(WebhookKind kind, std::string_view provider,
                                                     std::string_view token) const {
  const auto it = accounts_.find(std::make_pair(kind, std::string(provider)));
  if (it == accounts_.end()) return std::nullopt;
  const auto presented = common::sha256(token);
  const Account* matched = nullptr;
  for (const auto& account : it->second) {
    for (const auto& digest : account.tokens) {
      if (common::constant_time_equal(as_view(digest), as_view(presented))) matched = &account;
    }
  }
  if (matched == nullptr) return std::nullopt;
  return matched->name;
}

WebhookGuard::Verdict WebhookGuard::check(
    WebhookKind kind, std::string_view provider, std::optional<std::string_view> token,
    std::string_view peer, const std::vector<std::string_view>& forwarded_fields) const {
  Verdict verdict;
  verdict.client = client_address(peer, forwarded_fields, proxies_);
  const auto& rules = config_.provider(provider);
  if (!rules.allowed_sources.empty() &&
      (!verdict.client || !common::any_contains(rules.allowed_sources, *verdict.client))) {
    verdict.outcome = "source_refused";
    return verdict;
  }
  if (!token) {
    verdict.allowed = rules.accept_tokenless;
    verdict.outcome = rules.accept_tokenless ? "tokenless" : "tokenless_refused";
    return verdict;
  }
  auto account = match_token(kind, provider, *token);
  if (!account) {
    verdict.outcome = "token_refused";
    return verdict;
  }
  verdict.allowed = true;
  verdict.outcome = "token";
  verdict.account = std::move(*account);
  return verdict;
}

}  // namespace visitpay::http
