#include "store/pg_conninfo.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace visitpay::store {

using common::ErrorCode;
using common::make_error;
using common::Result;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = list.find(',', start);
    out.push_back(list.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

std::string quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string join(const std::vector<PgHostEntry>& hosts, std::string PgHostEntry::*field) {
  std::string out;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (i > 0) out += ',';
    out += hosts[i].*field;
  }
  return out;
}

bool is_literal_address(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

Result<PgConninfo> PgConninfo::parse(const std::string& conninfo) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> parsed(
      PQconninfoParse(conninfo.c_str(), &error), &PQconninfoFree);
  if (!parsed) {
    // libpq's message may quote the conninfo (and so a password): only say that it failed.
    if (error) PQfreemem(error);
    return make_error(ErrorCode::database_unavailable, "the database conninfo cannot be parsed");
  }
  PgConninfo out;
  std::string host, hostaddr, port;
  for (const PQconninfoOption* o = parsed.get(); o->keyword; ++o) {
    if (!o->val) continue;
    const std::string key = o->keyword;
    if (key == "host") {
      host = o->val;
    } else if (key == "hostaddr") {
      hostaddr = o->val;
    } else if (key == "port") {
      port = o->val;
    } else {
      out.options.emplace_back(key, o->val);
    }
  }
  const auto hosts = split(host);
  const auto addrs = hostaddr.empty() ? std::vector<std::string>{} : split(hostaddr);
  const auto ports = port.empty() ? std::vector<std::string>{} : split(port);
  const std::size_t n = std::max({hosts.size(), addrs.size()});
  for (std::size_t i = 0; i < n; ++i) {
    PgHostEntry e;
    if (hosts.size() == n) e.host = hosts[i];
    if (addrs.size() == n) e.hostaddr = addrs[i];
    if (ports.size() == n) e.port = ports[i];
    if (ports.size() == 1) e.port = ports[0];
    out.hosts.push_back(std::move(e));
  }
  return out;
}

std::string PgConninfo::format() const {
  std::string out;
  for (const auto& [key, value] : options)
    out += key + "=" + quote(value) + " ";
  if (!hosts.empty()) {
    out += "host=" + quote(join(hosts, &PgHostEntry::host)) + " ";
    out += "hostaddr=" + quote(join(hosts, &PgHostEntry::hostaddr)) + " ";
    out += "port=" + quote(join(hosts, &PgHostEntry::port));
  }
  return out;
}

bool PgConninfo::needs_lookup(const PgHostEntry& entry) {
  if (!entry.hostaddr.empty() || entry.host.empty()) return false;
  if (entry.host.front() == '/' || entry.host.front() == '@') return false;  // Unix socket
  return !is_literal_address(entry.host);
}

asio::awaitable<Result<std::string>> resolve_conninfo(asio::any_io_executor executor,
                                                      const std::string& conninfo,
                                                      std::chrono::milliseconds timeout) {
  auto parsed = PgConninfo::parse(conninfo);
  if (!parsed) co_return std::move(parsed).error();
  bool lookups = false;
  for (const auto& e : parsed->hosts)
    lookups = lookups || PgConninfo::needs_lookup(e);
  if (!lookups) co_return conninfo;  // nothing libpq would look up: unchanged

  asio::ip::tcp::resolver resolver(executor);
  asio::steady_timer deadline(executor);
  deadline.expires_after(timeout);
  std::vector<PgHostEntry> resolved;
  for (const auto& entry : parsed->hosts) {
    if (!PgConninfo::needs_lookup(entry)) {
      resolved.push_back(entry);
      continue;
    }
    boost::system::error_code ec;
    const std::string service = entry.port.empty() ? "5432" : entry.port;
    auto lookup =
        resolver.async_resolve(entry.host, service, asio::redirect_error(asio::use_awaitable, ec));
    auto expired = deadline.async_wait(asio::use_awaitable);
    auto first = co_await (std::move(lookup) || std::move(expired));
    if (first.index() == 1) break;  // out of time: connect to what is resolved so far
    if (ec) continue;               // this name does not resolve: the next host may
    for (const auto& r : std::get<0>(first)) {
      PgHostEntry e = entry;
      e.hostaddr = r.endpoint().address().to_string();
      resolved.push_back(std::move(e));
    }
  }
  if (resolved.empty()) {
    co_return make_error(ErrorCode::database_unavailable, "no database host name resolved");
  }
  parsed->hosts = std::move(resolved);
  co_return parsed->format();
}

}  // namespace visitpay::store
