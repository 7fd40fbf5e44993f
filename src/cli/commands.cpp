#include "cli/commands.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "adapters/keys/file/file_key_store.hpp"
#include "app/auth.hpp"
#include "app/bank_import.hpp"
#include "app/delivered_files.hpp"
#include "app/key_rotation.hpp"
#include "app/legacy_lines.hpp"
#include "app/legacy_payers.hpp"
#include "cli/users_command.hpp"
#include "common/time_format.hpp"
#include "common/uuid.hpp"
#include "config/config.hpp"
#include "ports/clock.hpp"
#include "service/service.hpp"
#include "store/client_store.hpp"
#include "store/lifecycle_store.hpp"
#include "store/migrations.hpp"
#include "store/pg_sync.hpp"
#include "store/privacy_store.hpp"

namespace visitpay::cli {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kUsage = R"(usage: visitpay [--config FILE] <command>

commands:
  serve                       run the HTTP service (applies pending migrations first)
  migrate                     apply pending database migrations and exit
  clients add NAME --scopes S1,S2 [--clinics C1,C2] [--replace]
                              create an API client; prints its token once (only its hash is kept)
  clients list                list API clients (never their tokens)
  clients revoke NAME         revoke a client's token
%USERS%  keys status                 data keys per master key; which key is active
  keys rotate                 rewrap every data key under the key ring's active (last) master key,
                              while the service runs; then the old key can be retired
  keys generate ID            print a new key-ring line "ID <64 hex>" to append to the ring file
  privacy check               report personal data held past the retention policy (per rule);
                              exit 1 if there is any (for cron), 0 if none
  sessions check              list sessions past their state's time bound (lifecycle.bounds);
                              exit 1 if there are any (for cron and alerts), 0 if none
  bank import FILE [--format ocr_giro|camt054]
                              import a bank file (Nets OCR giro or camt.054): payments matched to
                              invoices by KID; prints the outcome; exit 1 (naming the line) if
                              the file is malformed, and then nothing of it is imported
  bank payments [--status S]  list bank payments (S: unmatched, partial, overpaid, matched, reversed)
  bank match PAYMENT_ID INVOICE_ID
                              match a queued payment to an invoice (audited as cli:$USER)
  config check                validate the configuration (file and VISITPAY_* variables) and
                              exit: 0 if valid, 2 with every problem listed if not
  version                     print the version

The config file defaults to $VISITPAY_CONFIG, else /etc/visitpay/config.json.
DATABASE_URL and VISITPAY_* variables override it (see README.md).
)";

std::string usage() {
  std::string text(kUsage);
  text.replace(text.find("%USERS%"), 7, kUsersUsage);
  return text;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int fail(const std::string& message, int code = 1) {
  std::cerr << "visitpay: " << message << "\n";
  return code;
}

std::optional<config::Config> load(const std::string& path, char** environ_list) {
  auto unknown = config::unknown_visitpay_env(environ_list);
  if (!unknown.empty()) {
    std::string names;
    for (const auto& n : unknown)
      names += " " + n;
    fail("unknown environment variable(s):" + names + " (see README.md for the known ones)", 2);
    return std::nullopt;
  }
  auto config = config::load_config(path, config::process_env());
  if (!config) {
    fail(config.error().detail, 2);
    return std::nullopt;
  }
  return std::move(config.value());
}

common::Result<store::PgSyncConnection> open_db(const config::Config& config) {
  return store::PgSyncConnection::open(config.database.url);
}

// Schema migrations, then the data migrations that need the master keys: payer rows and line
// descriptions written before encryption are encrypted now. An empty string when all went well.
std::string migrate_all(store::PgSyncConnection& db, const config::Config& config,
                        common::Logger& log) {
  auto version = store::migrate(db, log);
  if (!version) return version.error().detail;
  auto keys = adapters::keys::load_key_ring(config.master_keys, config.master_keys_file);
  if (!keys) return keys.error().detail;
  const app::PayerVault vault(*keys);
  auto encrypted = app::encrypt_legacy_payers(db, vault, config.lookup_key, log);
  if (!encrypted) return "encrypting earlier payer rows: " + encrypted.error().detail;
  auto lines = app::seal_legacy_lines(db, vault, log);
  if (!lines) return "encrypting earlier line descriptions: " + lines.error().detail;
  return {};
}

int cmd_migrate(const config::Config& config, common::Logger& log) {
  auto db = open_db(config);
  if (!db) return fail("migrate: " + db.error().detail);
  if (auto problem = migrate_all(*db, config, log); !problem.empty()) {
    return fail("migrate: " + problem);
  }
  std::cerr << "database schema is at version " << store::latest_schema_version() << "\n";
  return 0;
}

int cmd_serve(const config::Config& config, common::Logger& log) {
  if (config.lookup_key.empty()) {
    return fail("no lookup key: set secrets.lookup_key_file or VISITPAY_LOOKUP_KEY_FILE", 2);
  }
  {
    auto db = open_db(config);
    if (!db) return fail("serve: " + db.error().detail);
    if (auto problem = migrate_all(*db, config, log); !problem.empty()) {
      return fail("serve: " + problem);
    }
  }
  ports::SystemClock clock;
  service::Service service(config, clock, log);
  auto port = service.start(/*handle_signals=*/true);
  if (!port) return fail(port.error().detail);
  service.wait();
  return 0;
}

int cmd_privacy(const std::vector<std::string>& args, const config::Config& config) {
  if (args.size() != 1 || args[0] != "check") return fail("privacy: expected check", 2);
  auto db = open_db(config);
  if (!db) return fail("privacy check: " + db.error().detail);
  const ports::SystemClock clock;
  auto overdue = store::PrivacyStore::overdue(*db, config.privacy.retention, clock.now());
  if (!overdue) return fail("privacy check: " + overdue.error().detail);
  std::int64_t total = 0;
  for (const auto& rule : *overdue) {
    std::cout << rule.rule << ": " << rule.sessions << "\n";
    total += rule.sessions;
  }
  // Letters and hand-off files left in their folders past privacy.delivered_files_retention.
  for (const auto& folder : config.delivery_folders()) {
    const auto held =
        app::sweep_folder(folder, config.privacy.delivered_files_retention, /*remove=*/false);
    std::cout << "delivered_files " << folder << ": " << held.past_retention << " (of "
              << held.files << " files" << (held.errors > 0 ? ", some unreadable" : "") << ")\n";
    total += held.past_retention + held.errors;
  }
  std::cout << (total == 0 ? "ok: no personal data held past its policy\n"
                           : "FAIL: personal data held past its policy\n");
  return total == 0 ? 0 : 1;
}

int cmd_sessions(const std::vector<std::string>& args, const config::Config& config) {
  if (args.size() != 1 || args[0] != "check") return fail("sessions: expected check", 2);
  auto db = open_db(config);
  if (!db) return fail("sessions check: " + db.error().detail);
  const ports::SystemClock clock;
  constexpr int kShown = 1000;
  auto overdue = store::LifecycleStore::overdue(*db, config.lifecycle.bounds, clock.now(), kShown);
  if (!overdue) return fail("sessions check: " + overdue.error().detail);
  for (const auto& s : *overdue) {
    std::cout << s.session_id << " " << domain::to_string(s.state) << " since "
              << common::format_rfc3339_oslo(s.since) << " clinic " << s.clinic_id;
    if (s.link_error) std::cout << " link_error: " << *s.link_error;
    std::cout << "\n";
  }
  if (overdue->empty()) {
    std::cout << "ok: every open session is within its state's bound\n";
    return 0;
  }
  std::cout << "FAIL: " << overdue->size() << (overdue->size() == kShown ? "+" : "")
            << " session(s) past their state's bound\n";
  return 1;
}

int cmd_keys(const std::vector<std::string>& args, const config::Config& config,
             common::Logger& log) {
  if (args.size() == 2 && args[0] == "generate") {
    const auto line = adapters::keys::FileKeyStore::generate_key_line(args[1]);
    if (line.empty()) return fail("keys generate: the id must be [A-Za-z0-9._-]{1,64}", 2);
    std::cout << line << "\n";
    return 0;
  }
  if (args.size() != 1 || (args[0] != "rotate" && args[0] != "status")) {
    return fail("keys: expected status, rotate or generate ID", 2);
  }
  auto keys = adapters::keys::load_key_ring(config.master_keys, config.master_keys_file);
  if (!keys) return fail("keys: " + keys.error().detail);
  auto db = open_db(config);
  if (!db) return fail("keys: " + db.error().detail);
  const std::string active = keys->active_key_id();
  if (args[0] == "rotate") {
    const app::PayerVault vault(*keys);
    auto report = app::rotate_master_key(*db, vault, active, log);
    if (!report) return fail("keys rotate: " + report.error().detail);
    for (const auto& [from, n] : report->from)
      std::cout << "rewrapped " << n << " data key(s) from " << from << " to " << active << "\n";
    std::cout << "every data key is wrapped under " << active << " (" << report->rewrapped
              << " rewrapped now)\n";
  }
  auto counts = app::data_keys_per_master_key(*db);
  if (!counts) return fail("keys: " + counts.error().detail);
  bool others = false;
  for (const auto& [id, n] : *counts) {
    const bool known = keys->master_key(id).has_value();
    std::cout << id << ": " << n << " data key(s)"
              << (id == active ? " (active)"
                  : known      ? " (in the ring: run keys rotate)"
                               : " (NOT in the key ring: unreadable)")
              << "\n";
    others = others || id != active;
  }
  if (!others) std::cout << "no data key under any other master key: older keys can be retired\n";
  return others && args[0] == "rotate" ? 1 : 0;
}

int cmd_clients(const std::vector<std::string>& args, const config::Config& config) {
  if (args.empty()) return fail("clients: expected add, list or revoke", 2);
  auto db = open_db(config);
  if (!db) return fail("clients: " + db.error().detail);
  const auto now = common::format_rfc3339_utc(ports::SystemClock().now());

  if (args[0] == "list") {
    auto list = store::ClientStore::list(*db);
    if (!list) return fail(list.error().detail);
    for (const auto& c : *list) {
      std::string scopes;
      for (const auto& s : c.scopes)
        scopes += (scopes.empty() ? "" : ",") + s;
      std::string clinics;
      for (const auto& s : c.clinic_ids)
        clinics += (clinics.empty() ? "" : ",") + s;
      std::cout << c.name << "\tscopes=" << scopes
                << "\tclinics=" << (clinics.empty() ? "*" : clinics) << "\tcreated=" << c.created_at
                << (c.revoked ? "\trevoked" : "") << "\n";
    }
    return 0;
  }
  if (args[0] == "revoke") {
    if (args.size() != 2) return fail("usage: clients revoke NAME", 2);
    auto revoked = store::ClientStore::revoke(*db, args[1], now);
    if (!revoked) return fail(revoked.error().detail);
    if (!*revoked) return fail("no active client named " + args[1]);
    std::cerr << "revoked " << args[1] << " (cached lookups expire within "
              << config.auth.token_cache_ttl.count() << " s)\n";
    return 0;
  }
  if (args[0] != "add" || args.size() < 2) return fail("usage: clients add NAME --scopes ...", 2);

  const std::string& name = args[1];
  std::vector<std::string> scopes;
  std::vector<std::string> clinics;
  bool replace = false;
  for (std::size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "--scopes" && i + 1 < args.size()) {
      scopes = split_list(args[++i]);
    } else if (args[i] == "--clinics" && i + 1 < args.size()) {
      clinics = split_list(args[++i]);
    } else if (args[i] == "--replace") {
      replace = true;
    } else {
      return fail("clients add: unexpected argument " + args[i], 2);
    }
  }
  if (scopes.empty()) return fail("clients add: --scopes is required", 2);
  for (const auto& s : scopes) {
    if (!app::is_known_scope(s)) return fail("clients add: unknown scope " + s, 2);
  }
  for (const auto& c : clinics) {
    if (!config.find_clinic(c)) return fail("clients add: unknown clinic " + c, 2);
  }
  const std::string token = app::new_api_token();
  auto added = store::ClientStore::add(*db, common::new_uuid_v7(std::chrono::system_clock::now()),
                                       name, common::sha256(token), scopes, clinics, now, replace);
  if (!added) {
    return fail("clients add: " + added.error().detail +
                (replace ? "" : " (does the client exist? use --replace to issue a new token)"));
  }
  std::cerr << "created client " << name << "; the token below is shown only once\n";
  std::cout << token << "\n";
  return 0;
}

// A file on disk, read in 1 MiB pieces (never whole).
class DiskChunks final : public app::FileChunks {
 public:
  explicit DiskChunks(const std::string& path) : in_(path, std::ios::binary), buffer_(1 << 20) {}
  bool is_open() const { return in_.is_open(); }
  common::Result<std::string_view> next() override {
    in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    if (in_.bad()) return common::make_error(common::ErrorCode::internal_error, "read failed");
    return std::string_view(buffer_.data(), static_cast<std::size_t>(in_.gcount()));
  }
  void rewind() override {
    in_.clear();
    in_.seekg(0);
  }

 private:
  std::ifstream in_;
  std::vector<char> buffer_;
};

std::string cli_actor() {
  const char* user = std::getenv("USER");
  return std::string("cli:") + (user != nullptr ? user : "unknown");
}

// Runs one use case of bank reconciliation on a private io_context and connection pool.
template <typename T, typename Op>
T run_bank(const config::Config& config, common::Logger& log, Op op) {
  asio::io_context ioc;
  store::PgPool::Options options;
  options.connection.conninfo = config.database.url;
  options.connection.connect_timeout = config.database.connect_timeout;
  options.connection.statement_timeout = std::chrono::minutes(10);  // a large file's matching
  options.max_size = 1;
  store::PgPool pool(ioc.get_executor(), options, log);
  common::Metrics metrics;
  const ports::SystemClock clock;
  app::BankReconciliation bank(pool, app::kid_rules(config), clock, log, metrics);
  auto future = asio::co_spawn(ioc, op(bank), asio::use_future);
  ioc.run();
  return future.get();
}

int print_import(const common::Result<app::BankImportResult>& r) {
  if (!r) return fail("bank import: " + r.error().detail);
  const auto& f = r->file;
  const auto& c = f.counts;
  if (r->duplicate_file) {
    std::cout << "already imported on " << common::format_rfc3339_oslo(f.imported_at) << " by "
              << f.imported_by << " (file " << f.id << "): nothing changed\n";
    return 0;
  }
  std::cout << "imported " << f.format << " file " << f.id << " (" << f.file_key
            << "): " << f.payments << " payment(s), NOK " << f.total / 100 << "."
            << (f.total % 100) / 10 << f.total % 10 << "\n"
            << "  matched " << c.matched << "\n  partial " << c.partial << "\n  overpaid "
            << c.overpaid << "\n  reversed " << c.reversed << "\n  unmatched (manual queue) "
            << c.unmatched << "\n  duplicates skipped " << c.duplicates << "\n";
  if (c.skipped > 0) std::cout << "  entries not booked yet (skipped) " << c.skipped << "\n";
  return 0;
}

int cmd_bank(const std::vector<std::string>& args, const config::Config& config,
             common::Logger& log) {
  if (args.size() >= 2 && args[0] == "import") {
    std::optional<bank::BankFormat> declared;
    if (args.size() == 4 && args[2] == "--format") {
      if (args[3] != "ocr_giro" && args[3] != "camt054")
        return fail("bank import: --format ocr_giro|camt054", 2);
      declared = args[3] == "ocr_giro" ? bank::BankFormat::ocr_giro : bank::BankFormat::camt054;
    } else if (args.size() != 2) {
      return fail("usage: bank import FILE [--format ocr_giro|camt054]", 2);
    }
    DiskChunks file(args[1]);
    if (!file.is_open()) return fail("bank import: cannot open " + args[1]);
    auto result = run_bank<common::Result<app::BankImportResult>>(
        config, log,
        [&](app::BankReconciliation& bank) { return bank.import(file, cli_actor(), declared); });
    return print_import(result);
  }
  if (args.size() == 3 && args[0] == "match") {
    std::int64_t id = 0;
    try {
      id = std::stoll(args[1]);
    } catch (const std::exception&) {
      return fail("bank match: PAYMENT_ID must be a number", 2);
    }
    auto r = run_bank<common::Result<store::BankPaymentRecord>>(
        config, log,
        [&](app::BankReconciliation& bank) { return bank.match(id, args[2], cli_actor()); });
    if (!r) return fail("bank match: " + r.error().detail);
    std::cout << "payment " << r->id << " is " << r->status << " against invoice "
              << r->invoice_number.value_or(0) << "\n";
    return 0;
  }
  if (!args.empty() && args[0] == "payments") {
    std::string status;
    if (args.size() == 3 && args[1] == "--status") status = args[2];
    auto r = run_bank<common::Result<std::vector<store::BankPaymentRecord>>>(
        config, log,
        [&](app::BankReconciliation& bank) { return bank.store().payments(status, 0, 1000); });
    if (!r) return fail("bank payments: " + r.error().detail);
    for (const auto& p : *r) {
      std::cout << p.id << "\t" << p.booking_date << "\t" << p.amount << " øre\tKID "
                << p.kid.value_or("-") << "\t" << p.status << "\t"
                << p.unmatched_reason.value_or("") << "\tref " << p.bank_reference.value_or("-")
                << "\n";
    }
    return 0;
  }
  return fail("bank: expected import FILE, payments [--status S] or match PAYMENT_ID INVOICE_ID",
              2);
}

}  // namespace

int run(const std::vector<std::string>& all_args, char** environ_list) {
  std::vector<std::string> args = all_args;
  std::string config_path = "/etc/visitpay/config.json";
  if (const char* env = std::getenv("VISITPAY_CONFIG")) config_path = env;
  if (args.size() >= 2 && args[0] == "--config") {
    config_path = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::cout << usage();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "version" || args[0] == "--version") {
    std::cout << "visitpay 0.1.0 (schema " << store::latest_schema_version() << ")\n";
    return 0;
  }

  auto config = load(config_path, environ_list);
  if (!config) return 2;
  common::Logger log(config->log_level);

  const std::string command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "config" && rest == std::vector<std::string>{"check"}) {
    std::cout << "ok: " << config_path << " is a valid configuration\n";
    return 0;  // load() above has printed every problem and returned 2 otherwise
  }
  if (command == "serve") return cmd_serve(*config, log);
  if (command == "migrate") return cmd_migrate(*config, log);
  if (command == "clients") return cmd_clients(rest, *config);
  if (command == "users") return cmd_users(rest, *config);
  if (command == "privacy") return cmd_privacy(rest, *config);
  if (command == "sessions") return cmd_sessions(rest, *config);
  if (command == "keys") return cmd_keys(rest, *config, log);
  if (command == "bank") return cmd_bank(rest, *config, log);
  std::cerr << usage();
  return fail("unknown command " + command, 2);
}

}  // namespace visitpay::cli
