#include "cli/commands.hpp"

#include <algorithm>
#include <iostream>
#include <sstream>

#include "adapters/keys/file/file_key_store.hpp"
#include "app/auth.hpp"
#include "app/key_rotation.hpp"
#include "app/legacy_payers.hpp"
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

namespace {

constexpr std::string_view kUsage = R"(usage: visitpay [--config FILE] <command>

commands:
  serve                       run the HTTP service (applies pending migrations first)
  migrate                     apply pending database migrations and exit
  clients add NAME --scopes S1,S2 [--clinics C1,C2] [--replace]
                              create an API client; prints its token once (only its hash is kept)
  clients list                list API clients (never their tokens)
  clients revoke NAME         revoke a client's token
  keys status                 data keys per master key; which key is active
  keys rotate                 rewrap every data key under the key ring's active (last) master key,
                              while the service runs; then the old key can be retired
  keys generate ID            print a new key-ring line "ID <64 hex>" to append to the ring file
  privacy check               report personal data held past the retention policy (per rule);
                              exit 1 if there is any (for cron), 0 if none
  sessions check              list sessions past their state's time bound (lifecycle.bounds);
                              exit 1 if there are any (for cron and alerts), 0 if none
  version                     print the version

The config file defaults to $VISITPAY_CONFIG, else /etc/visitpay/config.json.
DATABASE_URL and VISITPAY_* variables override it (see README.md).
)";

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

// Schema migrations, then the data migration that needs the master keys: payer rows written
// before encryption are encrypted now. An empty string when all went well.
std::string migrate_all(store::PgSyncConnection& db, const config::Config& config,
                        common::Logger& log) {
  auto version = store::migrate(db, log);
  if (!version) return version.error().detail;
  auto keys = adapters::keys::load_key_ring(config.master_keys, config.master_keys_file);
  if (!keys) return keys.error().detail;
  const app::PayerVault vault(*keys);
  auto encrypted = app::encrypt_legacy_payers(db, vault, config.lookup_key, log);
  if (!encrypted) return "encrypting earlier payer rows: " + encrypted.error().detail;
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
    std::cout << kUsage;
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
  if (command == "serve") return cmd_serve(*config, log);
  if (command == "migrate") return cmd_migrate(*config, log);
  if (command == "clients") return cmd_clients(rest, *config);
  if (command == "privacy") return cmd_privacy(rest, *config);
  if (command == "sessions") return cmd_sessions(rest, *config);
  if (command == "keys") return cmd_keys(rest, *config, log);
  std::cerr << kUsage;
  return fail("unknown command " + command, 2);
}

}  // namespace visitpay::cli
