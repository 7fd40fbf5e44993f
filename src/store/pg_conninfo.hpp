#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace visitpay::store {

namespace asio = boost::asio;

// One entry of a conninfo's host list: where libpq connects (hostaddr, empty for a socket path or
// a literal address) and the name it keeps for TLS verification and .pgpass (host).
struct PgHostEntry {
  std::string host;
  std::string hostaddr;
  std::string port;
};

// The conninfo's key=value pairs (URI or key=value form, as libpq parses it), with the host list
// split into entries. Throws nothing; an unparsable conninfo is an error.
struct PgConninfo {
  std::vector<std::pair<std::string, std::string>> options;  // without host, hostaddr, port
  std::vector<PgHostEntry> hosts;

  static common::Result<PgConninfo> parse(const std::string& conninfo);
  // Back to key=value text, values quoted; hosts, hostaddrs and ports as parallel lists.
  std::string format() const;
  // True when a host entry names a host that libpq would look up itself (getaddrinfo on the
  // calling thread): not a socket path, not a literal address, no hostaddr given.
  static bool needs_lookup(const PgHostEntry& entry);
};

// libpq resolves host names synchronously inside PQconnectStart/PQconnectPoll, which would block
// an I/O thread for as long as DNS takes. This resolves every host name of `conninfo` with Asio's
// resolver (off the I/O threads) within `timeout`, and returns a conninfo in which each name
// became one entry per address, with hostaddr set: libpq then tries them in order (a multi-host
// conninfo fails over to the next host) without a lookup of its own. Names that do not resolve
// are dropped; if none is left, the result is database_unavailable.
asio::awaitable<common::Result<std::string>> resolve_conninfo(asio::any_io_executor executor,
                                                              const std::string& conninfo,
                                                              std::chrono::milliseconds timeout);

}  // namespace visitpay::store
