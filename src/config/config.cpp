#include "config/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "domain/email_address.hpp"

namespace visitpay::config {
namespace {

using common::ErrorCode;
using common::make_error;
using Json = nlohmann::json;

// Walks one JSON object, remembering which keys were read so the rest can be reported.
class ObjectReader {
 public:
  ObjectReader(const Json& obj, std::string path, std::vector<std::string>& problems)
      : obj_(obj), path_(std::move(path)), problems_(problems) {
    if (!obj_.is_object()) problems_.push_back(path_ + ": must be an object");
  }
  ~ObjectReader() {
    if (!obj_.is_object()) return;
    for (const auto& [key, value] : obj_.items()) {
      if (!seen_.count(key)) problems_.push_back(path_ + "/" + key + ": unknown key");
    }
  }
  ObjectReader(const ObjectReader&) = delete;
  ObjectReader& operator=(const ObjectReader&) = delete;

  const Json* get(const std::string& key) {
    seen_.insert(key);
    if (!obj_.is_object()) return nullptr;
    auto it = obj_.find(key);
    return it == obj_.end() ? nullptr : &*it;
  }

  void string(const std::string& key, std::string& out, bool required = false) {
    const Json* v = get(key);
    if (!v) {
      if (required) problems_.push_back(path_ + "/" + key + ": required");
      return;
    }
    if (!v->is_string()) {
      problems_.push_back(path_ + "/" + key + ": must be a string");
      return;
    }
    out = v->get<std::string>();
  }

  template <typename Int>
  void integer(const std::string& key, Int& out, std::int64_t min, std::int64_t max) {
    const Json* v = get(key);
    if (!v) return;
    if (!v->is_number_integer() || v->get<std::int64_t>() < min || v->get<std::int64_t>() > max) {
      problems_.push_back(path_ + "/" + key + ": must be an integer from " + std::to_string(min) +
                          " to " + std::to_string(max));
      return;
    }
    out = static_cast<Int>(v->get<std::int64_t>());
  }

  void boolean(const std::string& key, bool& out) {
    const Json* v = get(key);
    if (!v) return;
    if (!v->is_boolean()) {
      problems_.push_back(path_ + "/" + key + ": must be true or false");
      return;
    }
    out = v->get<bool>();
  }

  template <typename Duration>
  void millis(const std::string& key, Duration& out) {
    std::int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(out).count();
    integer(key, ms, 1, 86'400'000);
    out = std::chrono::duration_cast<Duration>(std::chrono::milliseconds(ms));
  }

  // `allow_zero`: "0s" means at once (a retention period).
  void duration(const std::string& key, std::chrono::seconds& out, bool allow_zero = false) {
    std::string text;
    string(key, text);
    if (text.empty()) return;
    if (allow_zero && (text == "0" || text == "0s")) {
      out = std::chrono::seconds(0);
    } else if (auto d = parse_duration(text)) {
      out = *d;
    } else {
      problems_.push_back(path_ + "/" + key + ": must be a duration like \"48h\", \"2m\", \"7d\"");
    }
  }

  // The keys not read so far, as an object; they count as read (their owner checks them).
  Json rest() {
    Json out = Json::object();
    if (!obj_.is_object()) return out;
    for (const auto& [key, value] : obj_.items()) {
      if (seen_.insert(key).second) out[key] = value;
    }
    return out;
  }

  const std::string& path() const { return path_; }
  std::vector<std::string>& problems() { return problems_; }

 private:
  const Json& obj_;
  std::string path_;
  std::vector<std::string>& problems_;
  std::set<std::string> seen_;
};

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool mod11_ok(std::string_view digits, std::initializer_list<int> weights) {
  if (digits.size() != weights.size() + 1 || !all_digits(digits)) return false;
  int sum = 0;
  std::size_t i = 0;
  for (int w : weights)
    sum += w * (digits[i++] - '0');
  int check = 11 - sum % 11;
  if (check == 11) check = 0;
  return check != 10 && check == digits.back() - '0';
}

bool split_host_port(std::string_view text, std::string& host, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  unsigned value = 0;
  const auto digits = text.substr(colon + 1);
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || p != digits.data() + digits.size() || value > 65535) return false;
  host = std::string(text.substr(0, colon));
  port = static_cast<std::uint16_t>(value);
  return true;
}

// Retry budgets per work kind; "default" for the kinds not listed.
void read_budgets(const Json& j, OutboxConfig& outbox, std::vector<std::string>& problems) {
  if (!j.is_object()) {
    problems.emplace_back("/outbox/budgets: must be an object of durations by work kind");
    return;
  }
  for (const auto& [kind, value] : j.items()) {
    const auto d = value.is_string() ? parse_duration(value.get<std::string>()) : std::nullopt;
    if (!d) {
      problems.push_back("/outbox/budgets/" + kind + ": must be a duration like \"1h\", \"30m\"");
    } else if (kind == "default") {
      outbox.default_budget = *d;
    } else {
      outbox.budgets[kind] = *d;
    }
  }
}

void read_outbox(ObjectReader& r, OutboxConfig& outbox) {
  r.boolean("enabled", outbox.enabled);
  r.integer("claim_batch", outbox.claim_batch, 1, 1000);
  r.integer("max_in_flight", outbox.max_in_flight, 1, 1024);
  r.millis("lease_ms", outbox.lease);
  r.millis("poll_interval_ms", outbox.poll_interval);
  r.millis("base_backoff_ms", outbox.base_backoff);
  r.millis("max_backoff_ms", outbox.max_backoff);
  r.duration("retention", outbox.retention);
  r.millis("shutdown_grace_ms", outbox.shutdown_grace);
  if (const Json* b = r.get("budgets")) read_budgets(*b, outbox, r.problems());
  // Removed keys get a message that says what replaced them (an old config must not start
  // with a silently different retry policy).
  if (r.get("max_attempts")) {
    r.problems().emplace_back(
        "/outbox/max_attempts: removed; retry budgets are time horizons now: set "
        "outbox.budgets, e.g. {\"default\": \"1h\"}");
  }
  if (r.get("concurrency")) {
    r.problems().emplace_back(
        "/outbox/concurrency: removed; use outbox.max_in_flight (items at once) and "
        "outbox.claim_batch (items per claim)");
  }
}

// A clinic's reminder policy; the law's floors and fee counts are checked here as well as
// enforced by domain::next_dunning_step.
void read_reminders(const Json& j, const std::string& path, Clinic& c,
                    std::vector<std::string>& problems) {
  ObjectReader r(j, path, problems);
  auto& p = c.reminders;
  p.enabled = true;
  r.boolean("enabled", p.enabled);
  r.integer("fee_ore", p.fee, 0, 10'000);
  r.integer("purringer", p.purringer, 1, 2);
  r.integer("fee_purringer", p.fee_purringer, 0, 2);
  r.boolean("inkassovarsel", p.inkassovarsel);
  r.boolean("inkassovarsel_fee", p.inkassovarsel_fee);
  r.integer("first_after_days", p.first_after_days, 0, 365);
  r.integer("deadline_days", p.deadline_days, 0, 365);
  if (const Json* collection = r.get("collection")) {
    ObjectReader k(*collection, path + "/collection", problems);
    k.string("agency", c.collection_agency, true);
    k.string("dir", c.collection_dir, true);
    p.collection = true;
  }
  for (const auto& problem : domain::dunning_policy_problems(p))
    problems.push_back(path + "/" + problem);
}

void read_clinic(const Json& j, const std::string& path, Config& config,
                 std::vector<std::string>& problems) {
  ObjectReader r(j, path, problems);
  Clinic c;
  r.string("id", c.id, true);
  r.string("display_name", c.display_name, true);
  if (const Json* le = r.get("legal_entity")) {
    ObjectReader e(*le, path + "/legal_entity", problems);
    e.string("name", c.legal_entity.name, true);
    e.string("org_number", c.legal_entity.org_number, true);
    e.boolean("foretaksregisteret", c.legal_entity.foretaksregisteret);
    e.boolean("vat_registered", c.legal_entity.vat_registered);
    e.string("bank_account", c.legal_entity.bank_account, true);
    if (const Json* address = e.get("address")) {
      ObjectReader a(*address, path + "/legal_entity/address", problems);
      a.string("street", c.legal_entity.street, true);
      a.string("postal_code", c.legal_entity.postal_code, true);
      a.string("city", c.legal_entity.city, true);
      for (const char* key : {"street", "city"}) {
        const Json* value = a.get(key);
        if (value != nullptr && value->is_string() &&
            value->get_ref<const std::string&>().empty()) {
          problems.push_back(path + "/legal_entity/address/" + key + ": must not be empty");
        }
      }
      const auto& code = c.legal_entity.postal_code;
      if (!code.empty() && (code.size() != 4 || !std::all_of(code.begin(), code.end(), [](char ch) {
                              return ch >= '0' && ch <= '9';
                            }))) {
        problems.push_back(path + "/legal_entity/address/postal_code: must be 4 digits");
      }
    } else {
      problems.push_back(path +
                         "/legal_entity/address: required (the seller's business address "
                         "on every invoice and letter)");
    }
    if (const Json* kid = e.get("kid")) {
      ObjectReader k(*kid, path + "/legal_entity/kid", problems);
      std::string algorithm(domain::to_string(domain::KidAlgorithm::mod10));
      k.string("algorithm", algorithm);
      if (algorithm == domain::to_string(domain::KidAlgorithm::mod11)) {
        c.legal_entity.kid_algorithm = domain::KidAlgorithm::mod11;
      } else if (algorithm != domain::to_string(domain::KidAlgorithm::mod10)) {
        problems.push_back(path + "/legal_entity/kid/algorithm: must be mod10 or mod11");
      }
      k.integer("length", c.legal_entity.kid_length, 4, domain::kKidMaxLength);
      k.boolean("allow_dash", c.legal_entity.kid_allow_dash);
    }
    if (!c.legal_entity.org_number.empty() && !valid_org_number(c.legal_entity.org_number)) {
      problems.push_back(path + "/legal_entity/org_number: not a valid organisation number");
    }
    if (!c.legal_entity.bank_account.empty() && !valid_bank_account(c.legal_entity.bank_account)) {
      problems.push_back(path + "/legal_entity/bank_account: not a valid Norwegian account number");
    }
  } else {
    problems.push_back(path + "/legal_entity: required");
  }
  r.integer("invoice_fee_ore", c.invoice_fee_ore, 0, 100'000);
  if (r.get("invoice_fee_cost_ore")) {
    domain::Ore cost = 0;
    r.integer("invoice_fee_cost_ore", cost, 0, 100'000);
    c.invoice_fee_cost_ore = cost;
  }
  if (c.invoice_fee_ore > 0 && !c.invoice_fee_cost_ore) {
    problems.push_back(path +
                       "/invoice_fee_cost_ore: required with an invoice fee (the documented cost "
                       "of issuing and sending one bill, which the fee may not exceed)");
  } else if (c.invoice_fee_cost_ore && c.invoice_fee_ore > *c.invoice_fee_cost_ore) {
    problems.push_back(path + "/invoice_fee_ore: must not exceed invoice_fee_cost_ore (" +
                       std::to_string(*c.invoice_fee_cost_ore) +
                       " øre, the documented cost of a bill)");
  }
  r.duration("payment_window", c.payment_window);
  r.integer("invoice_due_days", c.invoice_due_days, 1, 90);
  r.string("payment_account", c.payment_account);
  r.string("sms_account", c.sms_account);
  r.string("sms_sender", c.sms_sender);
  r.string("terms_of_service_url", c.terms_of_service_url);
  std::string delivery = "post";
  r.string("invoice_delivery", delivery);
  if (delivery == "email") {
    c.invoice_delivery = InvoiceDelivery::email;
  } else if (delivery != "post") {
    problems.push_back(path + "/invoice_delivery: must be \"post\" or \"email\"");
  }
  if (const Json* reminders = r.get("reminders"))
    read_reminders(*reminders, path + "/reminders", c, problems);
  if (config.find_clinic(c.id)) problems.push_back(path + "/id: duplicate clinic id");
  config.clinics.push_back(std::move(c));
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
    ++i;
  return s.substr(i);
}

// A secret named by "<key>_file" (a file holding it) or "<key>_env" (an environment variable).
// Secrets written into the config itself are refused by the adapter that owns the key: config
// files end up in repositories.
void secret(const std::string& path, const std::string& key, const std::string& file,
            const std::string& var, std::string& out, const EnvLookup& env,
            std::vector<std::string>& problems) {
  if (!file.empty() && !var.empty()) {
    problems.push_back(path + ": give " + key + "_file or " + key + "_env, not both");
  } else if (!file.empty()) {
    if (auto text = read_file(file)) {
      out = trim(*text);
      if (out.empty()) problems.push_back(path + "/" + key + "_file: the file is empty");
    } else {
      problems.push_back(path + "/" + key + "_file: " + file + " cannot be read");
    }
  } else if (!var.empty()) {
    if (auto value = env(var); value && !trim(*value).empty()) {
      out = trim(*value);
    } else {
      problems.push_back(path + "/" + key + "_env: " + var + " is not set");
    }
  }
}

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

// invoices.email: an smtp:// or smtps:// URL; TLS may be off only towards the loopback (the
// local catcher), never for a relay that leaves the machine.
void read_email(const Json& j, EmailConfig& e, const EnvLookup& env,
                std::vector<std::string>& problems) {
  const std::string path = "/invoices/email";
  ObjectReader r(j, path, problems);
  r.string("smtp_url", e.smtp_url, true);
  r.boolean("require_tls", e.require_tls);
  r.string("from_address", e.from_address, true);
  r.string("reply_to", e.reply_to);
  r.string("username", e.username);
  std::string password_file, password_env;
  r.string("password_file", password_file);
  r.string("password_env", password_env);
  secret(path, "password", password_file, password_env, e.password, env, problems);
  if (r.get("password")) problems.push_back(path + "/password: give password_file or password_env");
  r.string("ca_file", e.ca_file);
  r.millis("timeout_ms", e.timeout);
  const bool smtps = e.smtp_url.rfind("smtps://", 0) == 0;
  if (!smtps && e.smtp_url.rfind("smtp://", 0) != 0) {
    problems.push_back(path + "/smtp_url: must start with smtp:// or smtps://");
  }
  const auto rest = std::string_view(e.smtp_url).substr(smtps ? 8 : 7);
  const auto host = rest.substr(0, std::min(rest.find(':'), rest.find('/')));
  if (!e.require_tls && !is_loopback_host(host)) {
    problems.push_back(path + "/require_tls: may be false only for a relay on the loopback " +
                       "(127.0.0.1, [::1], localhost)");
  }
  const std::pair<const char*, const std::string*> addresses[] = {{"from_address", &e.from_address},
                                                                  {"reply_to", &e.reply_to}};
  for (const auto& [key, value] : addresses) {
    if (!value->empty() && !domain::check_email_address(*value).valid) {
      problems.push_back(path + "/" + key + ": must be a plain address such as faktura@klinikk.no");
    }
  }
  if (!e.username.empty() && e.password.empty()) {
    problems.push_back(path + ": username needs password_file or password_env");
  }
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Moves the "<key>_file" / "<key>_env" references out of an adapter's settings and resolves
// them, so adapters never read files or the environment themselves.
void take_secrets(Json& settings, const std::string& path, ProviderAccount& account,
                  const EnvLookup& env, std::vector<std::string>& problems) {
  std::map<std::string, std::pair<std::string, std::string>> refs;  // key -> (file, var)
  for (auto it = settings.begin(); it != settings.end();) {
    const std::string& name = it.key();
    const bool file = ends_with(name, "_file");
    if (!file && !ends_with(name, "_env")) {
      ++it;
      continue;
    }
    const std::string key = name.substr(0, name.size() - (file ? 5 : 4));
    if (!it->is_string() || it->get<std::string>().empty()) {
      problems.push_back(path + "/" + name + ": must be a non-empty string");
    } else {
      (file ? refs[key].first : refs[key].second) = it->get<std::string>();
    }
    it = settings.erase(it);
  }
  for (const auto& [key, ref] : refs) {
    std::string value;
    secret(path, key, ref.first, ref.second, value, env, problems);
    account.secrets[key] = std::move(value);
  }
}

// A path token must be a URL path segment as it is (no escaping) and too long to guess.
bool valid_webhook_token(std::string_view token) {
  return token.size() >= 32 && token.size() <= 128 &&
         std::all_of(token.begin(), token.end(), [](char ch) {
           return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
         });
}

// The core's own secret of every account: the webhook path tokens, one per line (the last is the
// one given out). Taken out of the adapter's secrets, which the adapter would refuse as unknown.
void take_webhook_tokens(const std::string& path, ProviderAccount& account,
                         std::vector<std::string>& problems) {
  const auto it = account.secrets.find("webhook_token");
  if (it == account.secrets.end()) return;
  std::istringstream lines(it->second);
  std::string token;
  while (lines >> token) {
    if (!valid_webhook_token(token)) {
      // Never the token itself: it is a secret.
      problems.push_back(path +
                         "/webhook_token: each token must be 32-128 characters of A-Z, a-z, 0-9, "
                         "'-' and '_' (e.g. openssl rand -hex 32)");
      break;
    }
    account.webhook_tokens.push_back(token);
  }
  account.secrets.erase(it);
}

// The payment page links the clinic's terms: in production an https URL is required wherever a
// payment order can be made; in development any http(s) URL, or none.
void check_terms_url(const Clinic& clinic, bool production, const std::string& path,
                     std::vector<std::string>& problems) {
  const std::string& url = clinic.terms_of_service_url;
  const auto has_host = [&url](std::string_view scheme) {
    return url.rfind(scheme, 0) == 0 && url.size() > scheme.size() &&
           url.find_first_of(" \t\r\n\"<>") == std::string::npos;
  };
  if (production) {
    if (url.empty() && !clinic.payment_account.empty()) {
      problems.push_back(path +
                         "/terms_of_service_url: required for a clinic with a payment "
                         "account (the payment page links the clinic's terms)");
    } else if (!url.empty() && !has_host("https://")) {
      problems.push_back(path + "/terms_of_service_url: must be an https URL");
    }
  } else if (!url.empty() && !has_host("https://") && !has_host("http://")) {
    problems.push_back(path + "/terms_of_service_url: must be an http(s) URL");
  }
}

bool valid_base_url(std::string_view url) {
  return (url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0) && url.back() != '/';
}

void base_url(ObjectReader& r, const std::string& key, std::string& out) {
  r.string(key, out, true);
  if (!out.empty() && !valid_base_url(out)) {
    r.problems().push_back(r.path() + "/" + key +
                           ": must be an http(s) URL without a trailing slash");
  }
}

template <typename Account, typename ReadFields>
void read_accounts(const Json* obj, const std::string& path, std::vector<Account>& out,
                   std::vector<std::string>& problems, const EnvLookup& env,
                   ReadFields read_fields) {
  if (!obj) return;
  if (!obj->is_object()) {
    problems.push_back(path + ": must be an object of named accounts");
    return;
  }
  for (const auto& [name, value] : obj->items()) {
    const std::string account_path = path + "/" + name;
    ObjectReader r(value, account_path, problems);
    Account a;
    a.name = name;
    r.string("provider", a.provider, true);
    base_url(r, "base_url", a.base_url);
    r.millis("timeout_ms", a.timeout);
    read_fields(r, a);
    // The rest belongs to the adapter, which rejects what it does not know when it is built.
    Json settings = r.rest();
    take_secrets(settings, account_path, a, env, problems);
    take_webhook_tokens(account_path, a, problems);
    a.settings = settings.dump();
    out.push_back(std::move(a));
  }
}

// A list of CIDR ranges; each bad entry is named by its index.
void read_networks(const Json& list, const std::string& path, std::vector<common::IpNetwork>& out,
                   std::vector<std::string>& problems) {
  if (!list.is_array()) {
    problems.push_back(path + ": must be an array of IP addresses or CIDR ranges");
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string item_path = path + "/" + std::to_string(i);
    if (!list[i].is_string()) {
      problems.push_back(item_path + ": must be an IP address or CIDR range");
      continue;
    }
    auto network = common::parse_ip_network(list[i].get<std::string>());
    if (network) {
      out.push_back(*network);
    } else {
      problems.push_back(item_path + ": " + network.error().detail);
    }
  }
}

void read_webhooks(const Json& w, WebhookConfig& out, std::vector<std::string>& problems) {
  ObjectReader r(w, "/webhooks", problems);
  if (r.get("allowed_sources")) {
    problems.emplace_back(
        "/webhooks/allowed_sources: replaced by /webhooks/providers/<provider>/allowed_sources "
        "(one list per provider, CIDR ranges)");
  }
  if (const Json* list = r.get("trusted_proxies")) {
    read_networks(*list, "/webhooks/trusted_proxies", out.trusted_proxies, problems);
  }
  std::string header = "X-Forwarded-For";
  r.string("forwarded_header", header);
  std::transform(header.begin(), header.end(), header.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (header == "x-forwarded-for") {
    out.forwarded_header = ForwardedHeaderKind::x_forwarded_for;
  } else if (header == "forwarded") {
    out.forwarded_header = ForwardedHeaderKind::forwarded;
  } else {
    problems.emplace_back(
        "/webhooks/forwarded_header: must be \"X-Forwarded-For\" or \"Forwarded\"");
  }
  const Json* providers = r.get("providers");
  if (providers == nullptr) return;
  if (!providers->is_object()) {
    problems.emplace_back("/webhooks/providers: must be an object keyed by provider name");
    return;
  }
  for (const auto& [name, section] : providers->items()) {
    const std::string path = "/webhooks/providers/" + name;
    ObjectReader p(section, path, problems);
    WebhookProviderConfig provider;
    if (const Json* list = p.get("allowed_sources")) {
      read_networks(*list, path + "/allowed_sources", provider.allowed_sources, problems);
    }
    p.boolean("accept_tokenless", provider.accept_tokenless);
    out.providers[name] = std::move(provider);
  }
}

// Checks across sections: every provider named under /webhooks has an account, and in production
// every account has a webhook token. Two accounts of one provider never share a token.
void check_webhook_accounts(const Config& c, std::vector<std::string>& problems) {
  std::map<std::string, std::set<std::string>, std::less<>> tokens;  // by provider name
  auto check = [&](const ProviderAccount& a, const std::string& path) {
    // The bare name of "<kind>.<name>" (ports::adapter_name), as the webhook routes have it; a
    // bare name stays whole (npos + 1 == 0).
    const std::string name = a.provider.substr(a.provider.find('.') + 1);
    tokens[name];
    if (a.webhook_tokens.empty() && c.environment == "production") {
      problems.push_back(path +
                         ": webhook_token_file or webhook_token_env is required in production "
                         "(webhooks without the token are refused)");
    }
    for (const auto& token : a.webhook_tokens) {
      if (!tokens[name].insert(token).second) {
        problems.push_back(path + "/webhook_token: the same token as another " + name + " account");
      }
    }
  };
  for (const auto& a : c.payment_accounts)
    check(a, "/payment_accounts/" + a.name);
  for (const auto& a : c.sms_accounts)
    check(a, "/sms_accounts/" + a.name);
  for (const auto& [name, provider] : c.webhooks.providers) {
    if (!tokens.count(name)) {
      problems.push_back("/webhooks/providers/" + name +
                         ": no payment or SMS account uses this provider");
    }
  }
}

// "21:00" -> minutes after midnight
std::optional<int> parse_clock_time(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  int h = 0;
  int m = 0;
  auto [p1, e1] = std::from_chars(text.data(), text.data() + 2, h);
  auto [p2, e2] = std::from_chars(text.data() + 3, text.data() + 5, m);
  if (e1 != std::errc() || e2 != std::errc() || p1 != text.data() + 2 || p2 != text.data() + 5 ||
      h > 23 || m > 59) {
    return std::nullopt;
  }
  return h * 60 + m;
}

// "off", "on" or "21:00-08:00"
bool parse_quiet_hours(std::string_view text, domain::QuietHours& out) {
  if (text == "off") {
    out.enabled = false;
    return true;
  }
  if (text == "on") {
    out.enabled = true;
    return true;
  }
  if (text.size() != 11 || text[5] != '-') return false;
  auto start = parse_clock_time(text.substr(0, 5));
  auto end = parse_clock_time(text.substr(6));
  if (!start || !end) return false;
  out = {true, *start, *end};
  return true;
}

// The VISITPAY_* variables this build understands. Anything else with the prefix is a typo.
const std::set<std::string>& known_env() {
  static const std::set<std::string> names = {
      "VISITPAY_CONFIG",          "VISITPAY_DATABASE_URL",
      "VISITPAY_LISTEN",          "VISITPAY_THREADS",
      "VISITPAY_DB_POOL_SIZE",    "VISITPAY_LOOKUP_KEY_FILE",
      "VISITPAY_LOOKUP_KEY",      "VISITPAY_LOG_LEVEL",
      "VISITPAY_ENVIRONMENT",     "VISITPAY_ALLOW_SYNTHETIC_IDS",
      "VISITPAY_PAYMENT_WINDOW",  "VISITPAY_QUIET_HOURS",
      "VISITPAY_PUBLIC_BASE_URL", "VISITPAY_OUTBOX",
      "VISITPAY_INVOICE_DIR",     "VISITPAY_MASTER_KEYS_FILE",
      "VISITPAY_MASTER_KEYS",     "VISITPAY_RETENTION_PAID"};
  return names;
}

void apply_env(Config& c, const EnvLookup& env, std::string& key_file,
               std::vector<std::string>& problems) {
  auto get = [&env](const char* name) { return env(name); };
  if (auto v = get("DATABASE_URL")) c.database.url = *v;
  if (auto v = get("VISITPAY_DATABASE_URL")) c.database.url = *v;
  if (auto v = get("VISITPAY_LISTEN")) {
    if (!split_host_port(*v, c.http.host, c.http.port)) {
      problems.push_back("VISITPAY_LISTEN: must be host:port");
    }
  }
  auto positive = [&](const char* name, auto& out, long max) {
    if (const auto v = get(name)) {
      const std::string_view text = *v;
      long n = 0;
      const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || p != text.data() + text.size() || n < 1 || n > max) {
        problems.push_back(std::string(name) + ": must be an integer from 1 to " +
                           std::to_string(max));
      } else {
        out = static_cast<std::remove_reference_t<decltype(out)>>(n);
      }
    }
  };
  positive("VISITPAY_THREADS", c.http.threads, 256);
  positive("VISITPAY_DB_POOL_SIZE", c.database.pool_size, 1000);
  if (auto v = get("VISITPAY_LOOKUP_KEY_FILE")) key_file = *v;
  if (auto v = get("VISITPAY_LOG_LEVEL")) {
    if (auto l = common::parse_log_level(*v)) {
      c.log_level = *l;
    } else {
      problems.push_back("VISITPAY_LOG_LEVEL: must be debug, info, warn or error");
    }
  }
  if (auto v = get("VISITPAY_ENVIRONMENT")) c.environment = *v;
  if (auto v = get("VISITPAY_ALLOW_SYNTHETIC_IDS")) {
    if (*v == "true" || *v == "1") {
      c.checkout.allow_synthetic_national_ids = true;
    } else if (*v == "false" || *v == "0") {
      c.checkout.allow_synthetic_national_ids = false;
    } else {
      problems.push_back("VISITPAY_ALLOW_SYNTHETIC_IDS: must be true or false");
    }
  }
  if (auto v = get("VISITPAY_PAYMENT_WINDOW")) {
    if (auto d = parse_duration(*v)) {
      for (auto& clinic : c.clinics)
        clinic.payment_window = *d;
    } else {
      problems.push_back("VISITPAY_PAYMENT_WINDOW: must be a duration like \"48h\" or \"2m\"");
    }
  }
  if (auto v = get("VISITPAY_QUIET_HOURS")) {
    if (!parse_quiet_hours(*v, c.quiet_hours)) {
      problems.push_back("VISITPAY_QUIET_HOURS: must be off, on or HH:MM-HH:MM");
    }
  }
  if (auto v = get("VISITPAY_OUTBOX")) {
    if (*v == "on" || *v == "off") {
      c.outbox.enabled = *v == "on";
    } else {
      problems.push_back("VISITPAY_OUTBOX: must be on or off");
    }
  }
  if (auto v = get("VISITPAY_INVOICE_DIR")) c.invoices.delivery_dir = *v;
  if (auto v = get("VISITPAY_RETENTION_PAID")) {
    if (auto d = parse_duration(*v)) {
      c.privacy.retention.paid = *d;
    } else {
      problems.push_back("VISITPAY_RETENTION_PAID: must be a duration like \"7d\" or \"2m\"");
    }
  }
  if (auto v = get("VISITPAY_MASTER_KEYS_FILE")) c.master_keys_file = *v;
  if (auto v = get("VISITPAY_MASTER_KEYS")) c.master_keys = *v;
  if (auto v = get("VISITPAY_PUBLIC_BASE_URL")) {
    c.public_base_url = *v;
    if (!valid_base_url(*v)) {
      problems.push_back(
          "VISITPAY_PUBLIC_BASE_URL: must be an http(s) URL without a trailing slash");
    }
  }
}

}  // namespace

const Clinic* Config::find_clinic(std::string_view id) const {
  for (const auto& c : clinics) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

std::vector<std::string> Config::delivery_folders() const {
  std::vector<std::string> out{invoices.delivery_dir};
  for (const auto& c : clinics) {
    if (!c.collection_dir.empty() &&
        std::find(out.begin(), out.end(), c.collection_dir) == out.end())
      out.push_back(c.collection_dir);
  }
  return out;
}

const WebhookProviderConfig& WebhookConfig::provider(std::string_view name) const {
  static const WebhookProviderConfig defaults;
  const auto it = providers.find(name);
  return it == providers.end() ? defaults : it->second;
}

const PaymentAccount* Config::find_payment_account(std::string_view name) const {
  for (const auto& a : payment_accounts) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

const SmsAccount* Config::find_sms_account(std::string_view name) const {
  for (const auto& a : sms_accounts) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str())) return std::string(v);
    return std::nullopt;
  };
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  long long n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
  if (ec != std::errc() || p != text.data() + text.size() - 1 || n <= 0) return std::nullopt;
  long long unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return std::nullopt;
  }
  constexpr long long kMaxSeconds = 100LL * 366 * 86400;  // a century is plenty for any policy
  if (n > kMaxSeconds / unit) return std::nullopt;
  return std::chrono::seconds(n * unit);
}

bool valid_org_number(std::string_view digits) {
  return mod11_ok(digits, {3, 2, 7, 6, 5, 4, 3, 2});
}

bool valid_bank_account(std::string_view text) {
  std::string digits;
  for (char ch : text) {
    if (ch != '.' && ch != ' ') digits += ch;
  }
  return mod11_ok(digits, {5, 4, 3, 2, 7, 6, 5, 4, 3, 2});
}

common::Result<Config> parse_config(std::string_view json_text, const EnvLookup& env) {
  Json doc = Json::parse(json_text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (doc.is_discarded()) return make_error(ErrorCode::bad_request, "config: not valid JSON");

  Config c;
  std::vector<std::string> problems;
  std::string key_file;
  {
    ObjectReader root(doc, "", problems);
    root.string("environment", c.environment);
    std::string level = "info";
    root.string("log_level", level);
    if (auto l = common::parse_log_level(level)) {
      c.log_level = *l;
    } else {
      problems.push_back("/log_level: must be debug, info, warn or error");
    }
    if (const Json* h = root.get("http")) {
      ObjectReader r(*h, "/http", problems);
      std::string listen;
      r.string("listen", listen);
      if (!listen.empty() && !split_host_port(listen, c.http.host, c.http.port)) {
        problems.push_back("/http/listen: must be host:port");
      }
      r.integer("threads", c.http.threads, 1, 256);
      r.integer("body_limit_bytes", c.http.body_limit_bytes, 1024, std::int64_t{64} * 1024 * 1024);
      r.integer("header_limit_bytes", c.http.header_limit_bytes, 1024, std::int64_t{1024} * 1024);
      r.millis("read_timeout_ms", c.http.read_timeout);
      r.millis("write_timeout_ms", c.http.write_timeout);
      r.millis("idle_timeout_ms", c.http.idle_timeout);
      r.millis("shutdown_grace_ms", c.http.shutdown_grace);
      r.integer("max_connections", c.http.max_connections, 1, 1'000'000);
      r.integer("max_requests_per_connection", c.http.max_requests_per_connection, 1,
                1'000'000'000);
    }
    if (const Json* d = root.get("database")) {
      ObjectReader r(*d, "/database", problems);
      r.string("url", c.database.url);
      // The conninfo holds the password: in production it comes from a mounted secret file.
      std::string url_file;
      r.string("url_file", url_file);
      if (!url_file.empty() && !c.database.url.empty()) {
        problems.push_back("/database: give url or url_file, not both");
      } else {
        secret("/database", "url", url_file, "", c.database.url, env, problems);
      }
      r.integer("pool_size", c.database.pool_size, 1, 1000);
      r.millis("acquire_timeout_ms", c.database.acquire_timeout);
      r.millis("connect_timeout_ms", c.database.connect_timeout);
      r.millis("statement_timeout_ms", c.database.statement_timeout);
    }
    if (const Json* a = root.get("auth")) {
      ObjectReader r(*a, "/auth", problems);
      std::int64_t ttl = c.auth.token_cache_ttl.count();
      r.integer("token_cache_seconds", ttl, 0, 3600);
      c.auth.token_cache_ttl = std::chrono::seconds(ttl);
      std::int64_t failed_ttl = c.auth.failed_token_ttl.count();
      r.integer("failed_token_cache_seconds", failed_ttl, 0, 86400);
      c.auth.failed_token_ttl = std::chrono::seconds(failed_ttl);
      r.integer("failures_per_address_burst", c.auth.failures_burst, 0, 100'000);
      r.integer("failures_per_address_per_minute", c.auth.failures_per_minute, 1, 1'000'000);
      std::int64_t idle = c.auth.console_idle_timeout.count() / 60;
      std::int64_t absolute = c.auth.console_absolute_timeout.count() / 3600;
      r.integer("console_idle_minutes", idle, 1, std::int64_t{24} * 60);
      r.integer("console_absolute_hours", absolute, 1, std::int64_t{7} * 24);
      c.auth.console_idle_timeout = std::chrono::minutes(idle);
      c.auth.console_absolute_timeout = std::chrono::hours(absolute);
      r.integer("console_max_failures_per_account", c.auth.console_max_failures_per_account, 1,
                1000);
      r.integer("console_max_failures_per_address", c.auth.console_max_failures_per_address, 1,
                100000);
    }
    if (const Json* k = root.get("checkout")) {
      ObjectReader r(*k, "/checkout", problems);
      r.integer("max_lines", c.checkout.max_lines, 1, 1000);
      r.integer("max_description_length", c.checkout.max_description_length, 1, 1000);
      r.integer("max_line_amount_ore", c.checkout.max_line_amount, 1, 1'000'000'000'00);
      r.boolean("allow_synthetic_national_ids", c.checkout.allow_synthetic_national_ids);
    }
    if (const Json* s = root.get("secrets")) {
      ObjectReader r(*s, "/secrets", problems);
      r.string("lookup_key_file", key_file);
      r.string("master_keys_file", c.master_keys_file);
    }
    root.string("public_base_url", c.public_base_url);
    if (!valid_base_url(c.public_base_url)) {
      problems.push_back("/public_base_url: must be an http(s) URL without a trailing slash");
    }
    read_accounts(root.get("payment_accounts"), "/payment_accounts", c.payment_accounts, problems,
                  env, [](ObjectReader&, PaymentAccount&) {});
    read_accounts(root.get("sms_accounts"), "/sms_accounts", c.sms_accounts, problems, env,
                  [](ObjectReader& r, SmsAccount& a) {
                    r.duration("resend_unconfirmed_after", a.resend_unconfirmed_after);
                    r.duration("report_max_age", a.report_max_age);
                  });
    if (const Json* o = root.get("outbox")) {
      ObjectReader r(*o, "/outbox", problems);
      read_outbox(r, c.outbox);
    }
    if (const Json* o = root.get("reconcile")) {
      ObjectReader r(*o, "/reconcile", problems);
      auto interval = std::chrono::duration_cast<std::chrono::seconds>(c.reconcile.interval);
      r.duration("interval", interval);
      c.reconcile.interval = interval;
      r.integer("batch", c.reconcile.batch, 1, 100'000);
    }
    if (const Json* o = root.get("invoices")) {
      ObjectReader r(*o, "/invoices", problems);
      r.millis("sweep_interval_ms", c.invoices.sweep_interval);
      r.integer("sweep_batch", c.invoices.sweep_batch, 1, 100'000);
      r.millis("abort_retry_ms", c.invoices.abort_retry);
      r.duration("abort_give_up_after", c.invoices.abort_give_up_after);
      r.string("delivery_dir", c.invoices.delivery_dir);
      if (const Json* e = r.get("email")) read_email(*e, c.invoices.email, env, problems);
      r.millis("reminder_interval_ms", c.invoices.reminder_interval);
      r.integer("reminder_batch", c.invoices.reminder_batch, 1, 10'000);
    }
    if (const Json* o = root.get("lifecycle")) {
      ObjectReader r(*o, "/lifecycle", problems);
      r.millis("watch_interval_ms", c.lifecycle.watch_interval);
      if (const Json* bounds = r.get("bounds")) {
        ObjectReader b(*bounds, "/lifecycle/bounds", problems);
        b.duration("pending", c.lifecycle.bounds.pending);
        b.duration("awaiting_payment_after_deadline",
                   c.lifecycle.bounds.awaiting_payment_after_deadline);
        b.duration("invoicing", c.lifecycle.bounds.invoicing);
      }
    }
    if (const Json* o = root.get("privacy")) {
      ObjectReader r(*o, "/privacy", problems);
      r.millis("purge_interval_ms", c.privacy.purge_interval);
      r.integer("purge_batch", c.privacy.purge_batch, 1, 100'000);
      r.duration("delivered_files_retention", c.privacy.delivered_files_retention);
      if (const Json* policy = r.get("retention")) {
        ObjectReader p(*policy, "/privacy/retention", problems);
        auto& retention = c.privacy.retention;
        p.duration("paid", retention.paid, true);
        p.duration("cancelled", retention.cancelled, true);
        p.integer("bookkeeping_years", retention.bookkeeping_years, 0, 20);
        p.duration("safety_net", retention.safety_net);
        const auto bookkeeping = std::chrono::days(366) * (retention.bookkeeping_years + 1);
        if (retention.safety_net <= retention.paid || retention.safety_net <= bookkeeping) {
          problems.push_back(
              "/privacy/retention/safety_net: must be longer than every other period (paid, "
              "bookkeeping_years + 1 years)");
        }
      }
    }
    if (const Json* q = root.get("quiet_hours")) {
      if (!q->is_string() || !parse_quiet_hours(q->get<std::string>(), c.quiet_hours)) {
        problems.push_back("/quiet_hours: must be \"off\", \"on\" or \"HH:MM-HH:MM\" (Oslo time)");
      }
    }
    if (const Json* w = root.get("webhooks")) read_webhooks(*w, c.webhooks, problems);
    if (const Json* list = root.get("clinics")) {
      if (!list->is_array()) {
        problems.push_back("/clinics: must be an array");
      } else {
        for (std::size_t i = 0; i < list->size(); ++i) {
          read_clinic((*list)[i], "/clinics/" + std::to_string(i), c, problems);
        }
      }
    }
  }

  apply_env(c, env, key_file, problems);
  // Unknown VISITPAY_* variables cannot be enumerated through EnvLookup; process_env users
  // check them with check_unknown_env() in main.
  if (auto hex = env("VISITPAY_LOOKUP_KEY")) {
    if (!common::from_hex(trim(*hex), c.lookup_key) || c.lookup_key.size() < 32) {
      problems.push_back("VISITPAY_LOOKUP_KEY: must be at least 64 hex characters");
    }
  } else if (!key_file.empty()) {
    auto text = read_file(key_file);
    if (!text) {
      problems.push_back("lookup key file " + key_file + ": cannot be read");
    } else if (!common::from_hex(trim(*text), c.lookup_key) || c.lookup_key.size() < 32) {
      problems.push_back("lookup key file " + key_file + ": must hold at least 64 hex characters");
    }
  }
  if (c.environment != "production" && c.environment != "development") {
    problems.push_back("/environment: must be \"production\" or \"development\"");
  }
  if (c.database.url.empty()) problems.push_back("/database/url: required (or set DATABASE_URL)");
  check_webhook_accounts(c, problems);
  if (c.clinics.empty()) problems.push_back("/clinics: at least one clinic is required");
  for (std::size_t i = 0; i < c.clinics.size(); ++i) {
    const auto& clinic = c.clinics[i];
    const std::string path = "/clinics/" + std::to_string(i);
    if (!clinic.payment_account.empty() && !c.find_payment_account(clinic.payment_account)) {
      problems.push_back(path + "/payment_account: no such entry in /payment_accounts");
    }
    if (!clinic.sms_account.empty() && !c.find_sms_account(clinic.sms_account)) {
      problems.push_back(path + "/sms_account: no such entry in /sms_accounts");
    }
    if (clinic.payment_account.empty() != clinic.sms_account.empty()) {
      problems.push_back(path + ": payment_account and sms_account go together");
    }
    check_terms_url(clinic, c.environment == "production", path, problems);
    if (clinic.invoice_delivery == InvoiceDelivery::email && c.invoices.email.smtp_url.empty()) {
      problems.push_back(path + "/invoice_delivery: \"email\" needs /invoices/email");
    }
  }

  if (!problems.empty()) {
    std::string detail = "invalid configuration:";
    for (const auto& p : problems)
      detail += "\n  " + p;
    return make_error(ErrorCode::bad_request, detail);
  }
  return c;
}

common::Result<Config> load_config(const std::string& path, const EnvLookup& env) {
  auto text = read_file(path);
  if (!text) return make_error(ErrorCode::bad_request, "config file " + path + ": cannot be read");
  return parse_config(*text, env);
}

std::vector<std::string> unknown_visitpay_env(char** environ_list) {
  std::vector<std::string> unknown;
  for (char** e = environ_list; e && *e; ++e) {
    std::string_view entry(*e);
    if (entry.rfind("VISITPAY_", 0) != 0) continue;
    std::string name(entry.substr(0, entry.find('=')));
    if (!known_env().count(name)) unknown.push_back(name);
  }
  return unknown;
}

}  // namespace visitpay::config
