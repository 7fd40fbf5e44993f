#include "cli/users_command.hpp"

#include <iostream>
#include <sstream>

#include "app/console_auth.hpp"
#include "app/credentials.hpp"
#include "common/time_format.hpp"
#include "common/uuid.hpp"
#include "ports/clock.hpp"
#include "store/pg_sync.hpp"
#include "store/user_store.hpp"

namespace visitpay::cli {

namespace {

struct UserOptions {
  std::vector<std::string> roles;
  std::vector<std::string> clinics;
  bool roles_given = false;
  bool totp = false;
  bool password_stdin = false;
  bool replace = false;
};

int fail(const std::string& message, int code = 1) {
  std::cerr << "visitpay users: " << message << "\n";
  return code;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string join(const std::vector<std::string>& items, const char* empty) {
  std::string out;
  for (const auto& s : items)
    out += (out.empty() ? "" : ",") + s;
  return out.empty() ? empty : out;
}

// Parses the options after NAME; an error message, or empty when all were understood.
std::string parse_options(const std::vector<std::string>& args, const config::Config& config,
                          UserOptions& o) {
  for (std::size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "--roles" && i + 1 < args.size()) {
      o.roles = split_list(args[++i]);
      o.roles_given = true;
    } else if (args[i] == "--clinics" && i + 1 < args.size()) {
      o.clinics = split_list(args[++i]);
    } else if (args[i] == "--totp") {
      o.totp = true;
    } else if (args[i] == "--password-stdin") {
      o.password_stdin = true;
    } else if (args[i] == "--replace") {
      o.replace = true;
    } else {
      return "unexpected argument " + args[i];
    }
  }
  for (const auto& r : o.roles) {
    if (!app::is_known_role(r)) return "unknown role " + r + " (finance, dpo, ops, admin)";
  }
  for (const auto& c : o.clinics) {
    if (!config.find_clinic(c)) return "unknown clinic " + c;
  }
  return {};
}

// The password to set: one line from stdin, or a random one (printed by the caller).
std::optional<std::string> choose_password(bool from_stdin, std::string& error) {
  if (!from_stdin) return app::new_password();
  std::string line;
  std::getline(std::cin, line);
  if (auto problem = app::password_problem(line)) {
    error = "the password " + *problem;
    return std::nullopt;
  }
  return line;
}

bool valid_username(const std::string& name) {
  if (name.size() < 2 || name.size() > 128) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == '@' || c == '+' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void print_credentials(const std::string& name, const std::optional<std::string>& password,
                       const std::optional<std::string>& totp) {
  if (password) std::cout << "password " << *password << "\n";
  if (totp) {
    std::cout << "totp-secret " << *totp << "\n";
    std::cout << "totp-uri " << app::totp_uri(name, *totp) << "\n";
  }
}

int add(store::PgSyncConnection& db, const std::vector<std::string>& args, const UserOptions& o,
        const std::string& now) {
  const std::string& name = args[1];
  if (!valid_username(name)) return fail("the name must be 2-128 of a-z 0-9 . _ @ + -", 2);
  if (o.roles.empty()) return fail("add: --roles is required", 2);
  std::string error;
  auto password = choose_password(o.password_stdin, error);
  if (!password) return fail(error, 2);
  auto hash = app::hash_password(*password);
  if (!hash) return fail("cannot hash the password (out of memory?)");
  store::UserRecord user;
  user.id = common::new_uuid_v7(std::chrono::system_clock::now());
  user.username = name;
  user.password_hash = *hash;
  user.roles = o.roles;
  user.clinic_ids = o.clinics;
  if (o.totp || app::roles_need_second_factor(o.roles)) user.totp_secret = app::new_totp_secret();
  auto added = store::UserStore::add(db, user, now, o.replace);
  if (!added) {
    return fail("add: " + added.error().detail + " (does the user exist? use --replace)");
  }
  std::cerr << "created console user " << name << " (" << join(o.roles, "") << "); shown once:\n";
  print_credentials(name, o.password_stdin ? std::nullopt : password, user.totp_secret);
  return 0;
}

int reset_password(store::PgSyncConnection& db, const std::string& name, const UserOptions& o,
                   const std::string& now) {
  std::string error;
  auto password = choose_password(o.password_stdin, error);
  if (!password) return fail(error, 2);
  auto hash = app::hash_password(*password);
  if (!hash) return fail("cannot hash the password (out of memory?)");
  std::optional<std::string> totp;
  if (o.totp) totp = app::new_totp_secret();
  auto reset = store::UserStore::reset_password(db, name, *hash, totp, now);
  if (!reset) return fail(reset.error().detail);
  if (!*reset) return fail("no user named " + name);
  std::cerr << "new credentials for " << name << " (their sessions ended); shown once:\n";
  print_credentials(name, o.password_stdin ? std::nullopt : password, totp);
  return 0;
}

int list(store::PgSyncConnection& db) {
  auto users = store::UserStore::list(db);
  if (!users) return fail(users.error().detail);
  for (const auto& u : *users) {
    std::cout << u.username << "\troles=" << join(u.roles, "-")
              << "\tclinics=" << join(u.clinic_ids, "*")
              << "\ttotp=" << (u.totp_secret ? "yes" : "no") << "\tcreated=" << u.created_at
              << (u.disabled ? "\tdisabled" : "") << "\n";
  }
  return 0;
}

}  // namespace

int cmd_users(const std::vector<std::string>& args, const config::Config& config) {
  if (args.empty()) return fail("expected add, list, disable, enable, reset-password or roles", 2);
  auto db = store::PgSyncConnection::open(config.database.url);
  if (!db) return fail(db.error().detail);
  const auto now = common::format_rfc3339_utc(ports::SystemClock().now());
  if (args[0] == "list") return list(*db);
  if (args.size() < 2) return fail("usage: users " + args[0] + " NAME ...", 2);
  UserOptions o;
  if (auto problem = parse_options(args, config, o); !problem.empty()) return fail(problem, 2);
  const std::string& name = args[1];
  if (args[0] == "add") return add(*db, args, o, now);
  if (args[0] == "reset-password") return reset_password(*db, name, o, now);
  if (args[0] == "disable" || args[0] == "enable") {
    auto changed = store::UserStore::set_disabled(*db, name, args[0] == "disable", now);
    if (!changed) return fail(changed.error().detail);
    if (!*changed) return fail("no user named " + name);
    std::cerr << name << (args[0] == "disable" ? " disabled\n" : " enabled\n");
    return 0;
  }
  if (args[0] == "roles") {
    if (!o.roles_given || o.roles.empty()) return fail("roles: --roles is required", 2);
    auto changed = store::UserStore::set_roles(*db, name, o.roles, o.clinics);
    if (!changed) return fail(changed.error().detail);
    if (!*changed) return fail("no user named " + name);
    std::cerr << name << ": roles " << join(o.roles, "") << ", clinics " << join(o.clinics, "*")
              << "\n";
    return 0;
  }
  return fail("unknown subcommand " + args[0], 2);
}

}  // namespace visitpay::cli
