#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto.hpp"
#include "common/ip_network.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "domain/checkout.hpp"
#include "domain/dunning.hpp"
#include "domain/kid.hpp"
#include "domain/payment_sms.hpp"
#include "domain/retention.hpp"
#include "domain/session_lifecycle.hpp"

namespace visitpay::config {

// The company that issues the clinic's invoices (one gapless invoice series each).
struct LegalEntity {
  std::string name;
  std::string org_number;           // 9 digits, MOD11-checked
  bool foretaksregisteret = false;  // AS/ASA/NUF print "Foretaksregisteret"
  bool vat_registered = false;
  std::string bank_account;  // 11 digits, MOD11-checked
  // Its business address, printed on every invoice and letter (`legal_entity.address`).
  std::string street;
  std::string postal_code;  // 4 digits
  std::string city;
  // KIDs on its invoices, as the bank agreement prescribes: check scheme and total length.
  domain::KidAlgorithm kid_algorithm = domain::KidAlgorithm::mod10;
  std::size_t kid_length = 10;  // including the check character
  bool kid_allow_dash = false;  // MOD11: the bank accepts a '-' check character
};

// How a clinic's invoices and letters reach the payer: printed and posted (the PDFs land in
// invoices.delivery_dir), or e-mailed (through invoices.email) to a payer who gave an address,
// the others by post.
enum class InvoiceDelivery { post, email };

struct Clinic {
  std::string id;
  std::string display_name;  // used in SMS text
  LegalEntity legal_entity;
  // The invoice fee, charged only under accepted fee terms, and the clinic's documented cost of
  // issuing and sending one bill (finansavtaleloven § 2-4 (1): the fee may not exceed it).
  domain::Ore invoice_fee_ore = 0;
  std::optional<domain::Ore> invoice_fee_cost_ore;
  std::chrono::seconds payment_window{std::chrono::hours(48)};
  int invoice_due_days = 14;
  std::string payment_account;  // a key of Config::payment_accounts ("" = no payment flow)
  std::string sms_account;      // a key of Config::sms_accounts
  std::string sms_sender;       // alphanumeric sender id; "" = the SMS account's default
  // The clinic's terms the payment page links to (Swedbank Pay's termsOfServiceUrl). Required,
  // and https, in production for a clinic with a payment account.
  std::string terms_of_service_url;
  // Reminders and collection of unpaid invoices (`reminders`; off unless configured). The fee
  // is the regulation's rate (inkassoforskriften § 1-2), kept here because it changes.
  domain::DunningPolicy reminders;
  std::string collection_agency;  // reminders.collection.agency: named in the inkassovarsel
  std::string collection_dir;     // reminders.collection.dir: where hand-off files land
  InvoiceDelivery invoice_delivery = InvoiceDelivery::post;
};

// An account at a provider, as the core sees it: only what every account has. The adapter that
// `provider` names (an id such as "payment.<vendor>") parses the rest of the section, kept in
// `settings`, into its own typed config when the service starts (ports::AdapterRegistry).
// Secrets are read from a file or an environment variable named in the config ("<key>_file",
// "<key>_env"), never written in it, and never logged.
struct ProviderAccount {
  std::string name;
  std::string provider;  // adapter id, or its bare name as older files have it
  std::string base_url;  // no trailing slash
  std::chrono::milliseconds timeout{10000};
  std::string settings = "{}";  // JSON object: the section's keys the core does not own
  std::map<std::string, std::string, std::less<>> secrets;  // by <key>; secret
  // The path tokens of this account's webhook URL ("webhook_token_file" / "webhook_token_env": one
  // per line). Every one is accepted; the last is the one given out (callbackUrl), so a rotation
  // appends the new token and removes the old one once the provider uses the new URL. Empty: none
  // (refused in production). Secret, never logged; the core owns it, the adapter never sees it.
  std::vector<std::string> webhook_tokens;
};

struct PaymentAccount : ProviderAccount {};

struct SmsAccount : ProviderAccount {
  // After a send whose answer was lost, how long to wait for its delivery report (which shows
  // the gateway took it) before sending again.
  std::chrono::seconds resend_unconfirmed_after{std::chrono::minutes(2)};
  // A delivery report counts only for an attempt sent at most this long ago (LINK's reports come
  // within the message's validity, 48 h by default, and the gate's retry ttl, 48 h by default).
  std::chrono::seconds report_max_age{std::chrono::hours(24 * 7)};
};

struct OutboxConfig {
  // false: an API-only instance that runs no outbox workers and no reconciler (other instances,
  // or a later start, do the queued work).
  bool enabled = true;
  int claim_batch = 64;     // items per claim statement
  int max_in_flight = 128;  // handlers running at once on this instance
  std::chrono::milliseconds lease{15000};
  std::chrono::milliseconds poll_interval{500};
  std::chrono::milliseconds base_backoff{1000};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(10)};
  // Retry budgets: how long an item of a kind may go on failing before it is a dead letter
  // (outbox.budgets: {"default": "1h", "<kind>": "6h"}). Kinds are checked against the
  // registered handlers when the service starts.
  std::map<std::string, std::chrono::seconds, std::less<>> budgets;
  std::chrono::seconds default_budget{std::chrono::hours(1)};
  std::chrono::seconds retention{std::chrono::hours(24 * 7)};  // done/cancelled rows kept
  // On SIGTERM: how long items in flight may take to finish and be recorded.
  std::chrono::milliseconds shutdown_grace{20000};
};

// Callbacks are a fail-safe: sessions whose payment status has not been checked for `after` are
// polled at the provider.
struct ReconcileConfig {
  // How often due checks are looked for; each session's own schedule is
  // domain::next_status_check (10 and 30 minutes, then hourly, and once before the deadline).
  std::chrono::milliseconds interval{std::chrono::minutes(1)};
  int batch = 200;
};

// The SMTP relay that e-mails invoices and letters (`invoices.email`).
struct EmailConfig {
  std::string smtp_url;      // smtp://host:587 (STARTTLS) or smtps://host:465; "" = no e-mail
  bool require_tls = true;   // false is accepted only for a relay on the loopback interface
  std::string from_address;  // envelope sender and From: (bounces come back here)
  std::string reply_to;      // "" = none: replies go to from_address
  std::string username;      // "" = no SMTP AUTH
  std::string password;      // password_file / password_env; secret, never logged
  std::string ca_file;       // a CA bundle to trust instead of the system's ("" = the system's)
  std::chrono::milliseconds timeout{30000};
};

// Invoices: the deadline sweeper and the delivery of approved invoices.
struct InvoiceConfig {
  std::chrono::milliseconds sweep_interval{1000};  // how often due sessions are looked for
  int sweep_batch = 500;                           // sessions claimed per sweep statement
  // While the payer is in a wallet app the order cannot be aborted; the window's close looks
  // again this often (a wait, not a failure) ...
  std::chrono::milliseconds abort_retry{30000};
  // ... until the session has been on the invoice path this long: then the invoice is made
  // regardless, flagged order_not_aborted, with an alert.
  std::chrono::seconds abort_give_up_after{std::chrono::hours(1)};
  std::string delivery_dir = "var/invoices";  // print-and-post: PDFs land here
  EmailConfig email;                          // for clinics with invoice_delivery "email"
  // The reminder schedule (purring, inkassovarsel, hand-off): how often due invoices are looked
  // for, and how many per pass. Steps are dated by day, so hourly is plenty.
  std::chrono::milliseconds reminder_interval{std::chrono::hours(1)};
  int reminder_batch = 200;
};

// The session lifecycle's watchdog: the repair pass (stranded sessions get an exit) and the
// overdue gauges run every watch_interval on each instance.
struct LifecycleConfig {
  domain::LifecycleBounds bounds;
  std::chrono::milliseconds watch_interval{30000};
};

// Retention of the payer's personal data (the policy) and the purger that applies it.
struct PrivacyConfig {
  domain::RetentionPolicy retention;
  std::chrono::milliseconds purge_interval{60000};  // how often each instance looks
  int purge_batch = 500;                            // sessions per rule and statement
  // Delivered letters and collection hand-offs stay in their folders this long after they were
  // written (the pickup's time to take them), then the folder janitor removes them.
  std::chrono::seconds delivered_files_retention{std::chrono::hours(72)};
};

// Who may deliver a provider's webhooks (payment callbacks, SMS delivery reports), by the adapter's
// bare name ("swedbankpay", "linkmobility": the {provider} of the webhook routes).
struct WebhookProviderConfig {
  // Source ranges (CIDR; a bare address is a range of one) allowed to deliver; empty = any source
  // (the path token is then the only guard; production logs a warning at start).
  std::vector<common::IpNetwork> allowed_sources;
  // Migration only: also accept the paths without a token (/v1/webhooks/payment/{provider},
  // /v1/webhooks/sms/{provider}, and an adapter's own aliases such as /v1/webhooks/swedbankpay)
  // while the provider still holds URLs given out before the tokens (a LINK gate not yet changed,
  // Swedbank Pay orders created before it: their callbackUrl lives with the order).
  bool accept_tokenless = false;
};

// Which header the trusted proxies write the client's address into (only that one is read).
enum class ForwardedHeaderKind { x_forwarded_for, forwarded };

struct WebhookConfig {
  std::map<std::string, WebhookProviderConfig, std::less<>> providers;
  // Proxies (load balancers) whose forwarding header is believed when they are the TCP peer; the
  // client is the right-most address in that header that is not one of them.
  std::vector<common::IpNetwork> trusted_proxies;
  ForwardedHeaderKind forwarded_header = ForwardedHeaderKind::x_forwarded_for;

  const WebhookProviderConfig& provider(std::string_view name) const;  // defaults when absent
};

struct HttpConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  int threads = 2;
  std::size_t body_limit_bytes = std::size_t{64} * 1024;
  std::size_t header_limit_bytes = std::size_t{8} * 1024;
  std::chrono::milliseconds read_timeout{15000};
  std::chrono::milliseconds write_timeout{15000};
  // How long a keep-alive connection may wait for its next request. Behind a load balancer
  // that reuses connections, set it above the balancer's own idle timeout.
  std::chrono::milliseconds idle_timeout{15000};
  std::chrono::milliseconds shutdown_grace{10000};
  // Client connections at once (lowered at start to fit the descriptor limit); at the cap the
  // oldest idle connection is closed to make room, else accepting pauses.
  std::size_t max_connections = 1024;
  unsigned max_requests_per_connection = 1000;  // then the answer says Connection: close
};

struct DatabaseConfig {
  std::string url;  // libpq conninfo or URI
  std::size_t pool_size = 8;
  std::chrono::milliseconds acquire_timeout{3000};
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds statement_timeout{5000};
};

struct AuthConfig {
  std::chrono::seconds token_cache_ttl{30};
  // Unknown tokens are remembered this long, so repeating one costs no database query.
  std::chrono::seconds failed_token_ttl{300};
  // Failed authentications per client address (IPv6: per /64): a burst, then this many per
  // minute; beyond that 429 with Retry-After. burst 0 turns the limit off.
  int failures_burst = 20;
  int failures_per_minute = 30;
  // Browser console sessions and logins (auth.console_*).
  std::chrono::seconds console_idle_timeout{30 * 60};
  std::chrono::seconds console_absolute_timeout{12 * 60 * 60};
  int console_max_failures_per_account = 5;
  int console_max_failures_per_address = 30;
};

struct Config {
  std::string environment = "production";  // "production" | "development"
  common::LogLevel log_level = common::LogLevel::info;
  HttpConfig http;
  DatabaseConfig database;
  AuthConfig auth;
  domain::CheckoutRules checkout;
  common::Bytes lookup_key;  // HMAC key for fingerprints and look-ups; secret, never printed
  // The master keys that wrap each session's data keys (a key ring: "<id> <64 hex>" per line,
  // the last one active): from the file `secrets.master_keys_file` / VISITPAY_MASTER_KEYS_FILE,
  // or the ring itself in VISITPAY_MASTER_KEYS. Secret, never printed.
  std::string master_keys_file;
  std::string master_keys;
  std::vector<Clinic> clinics;
  // Where providers reach this service (callbackUrl, delivery reports), no trailing slash.
  std::string public_base_url = "http://127.0.0.1:8080";
  std::vector<PaymentAccount> payment_accounts;
  std::vector<SmsAccount> sms_accounts;
  OutboxConfig outbox;
  ReconcileConfig reconcile;
  InvoiceConfig invoices;
  LifecycleConfig lifecycle;
  PrivacyConfig privacy;
  domain::QuietHours quiet_hours;
  WebhookConfig webhooks;

  const Clinic* find_clinic(std::string_view id) const;
  // The folders where letters and hand-off files (personal data) land: invoices.delivery_dir
  // and each clinic's reminders.collection.dir, each once.
  std::vector<std::string> delivery_folders() const;
  const PaymentAccount* find_payment_account(std::string_view name) const;
  const SmsAccount* find_sms_account(std::string_view name) const;
};

// Reads the environment; injectable so tests need not touch the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

// Parses the config document, then applies VISITPAY_* overrides. Unknown keys and unknown
// VISITPAY_* variables are errors, so a typo never silently falls back to a default.
common::Result<Config> parse_config(std::string_view json_text, const EnvLookup& env);
common::Result<Config> load_config(const std::string& path, const EnvLookup& env);

std::optional<std::chrono::seconds> parse_duration(
    std::string_view text);  // "48h", "2m", "30s", "7d"
bool valid_org_number(std::string_view digits);
bool valid_bank_account(std::string_view text);  // "1234.56.78903" or "12345678903"

}  // namespace visitpay::config

namespace visitpay::config {
// Names of VISITPAY_* variables in `environ_list` that this build does not know.
std::vector<std::string> unknown_visitpay_env(char** environ_list);
}  // namespace visitpay::config
