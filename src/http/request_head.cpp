#include "http/request_head.hpp"

#include <algorithm>
#include <cstring>

namespace visitpay::http {

using common::ErrorCode;
using common::make_error;

namespace {

bool is_tchar(unsigned char c) {
  return std::isalnum(c) != 0 || (c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

// Controls other than HTAB (and DEL) never belong in a head: NUL, a lone CR, escape codes.
bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7f;
  });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// uri-host [":" port]: reg-name, IPv4 or an IP literal in brackets; no user info, no path.
bool valid_host(std::string_view host) {
  return std::all_of(host.begin(), host.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return std::isalnum(c) != 0 || std::strchr("-._~!$&'()*+,;=:[]%", c) != nullptr;
  });
}

common::Error bad(std::string detail) {
  return make_error(ErrorCode::bad_request, std::move(detail));
}

// "http://host:port/path?q" -> "/path?q" (absolute-form, RFC 9112 §3.2.2); nullopt if the
// target is not absolute-form.
std::optional<std::string> origin_of_absolute(std::string_view target) {
  const auto colon = target.find("://");
  if (colon == std::string_view::npos) return std::nullopt;
  const auto scheme = target.substr(0, colon);
  if (!iequals(scheme, "http") && !iequals(scheme, "https")) return std::nullopt;
  const auto rest = target.substr(colon + 3);
  const auto path = rest.find_first_of("/?");
  if (path == std::string_view::npos) return std::string("/");
  if (rest[path] == '?') return "/" + std::string(rest.substr(path));
  return std::string(rest.substr(path));
}

std::optional<common::Error> check_host(const Request& req) {
  const auto hosts = req.count(bhttp::field::host);
  if (req.version() == 11 && hosts != 1) {
    return bad(hosts == 0 ? "an HTTP/1.1 request needs a Host header"
                          : "a request must have one Host header, not " + std::to_string(hosts));
  }
  if (hosts > 1) return bad("a request must have one Host header");
  if (hosts == 1 && !valid_host(req[bhttp::field::host])) {
    return bad("the Host header is not a valid host[:port]");
  }
  return std::nullopt;
}

// Content-Length and Transfer-Encoding decide where the message ends; any doubt about them
// is a request-smuggling vector (RFC 9112 §6.1, §6.3), so the rules are strict.
std::optional<common::Error> check_framing(const Request& req) {
  const auto lengths = req.count(bhttp::field::content_length);
  const auto codings = req.count(bhttp::field::transfer_encoding);
  if (lengths > 0 && codings > 0) {
    return bad("a request must not have both Content-Length and Transfer-Encoding");
  }
  if (lengths > 1) return bad("a request must have at most one Content-Length");
  if (lengths == 1) {
    const auto value = trim(req[bhttp::field::content_length]);
    if (value.empty() ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return bad("Content-Length must be a decimal number of bytes");
    }
  }
  if (codings == 0) return std::nullopt;
  if (req.version() < 11) {
    return bad("Transfer-Encoding is not allowed in an HTTP/1.0 request");
  }
  if (codings > 1 || !iequals(trim(req[bhttp::field::transfer_encoding]), "chunked")) {
    return make_error(ErrorCode::not_implemented, "the only Transfer-Encoding accepted is chunked");
  }
  return std::nullopt;
}

std::optional<common::Error> check_target(Request& req) {
  const std::string_view target = req.target();
  if (!target.empty() && target.front() == '/') return std::nullopt;
  if (auto origin = origin_of_absolute(target)) {
    req.target(*origin);
    return std::nullopt;
  }
  if (target == "*" && req.method() == bhttp::verb::options) return std::nullopt;
  return bad("the request target must be a path (/...) or an absolute http(s) URL");
}

}  // namespace

std::size_t leading_empty_lines(std::string_view bytes) {
  std::size_t n = 0;
  while (bytes.substr(n, 2) == "\r\n")
    n += 2;
  return n;
}

HeadScanner::State HeadScanner::fail(ErrorCode code, std::string detail) {
  error_ = make_error(code, std::move(detail));
  return State::invalid;
}

HeadScanner::State HeadScanner::scan(std::string_view bytes) {
  for (;;) {
    const auto lf = bytes.find('\n', next_line_);
    if (lf == std::string_view::npos) {
      // A line that is not finished yet may still show a control character or a bare CR.
      const auto partial = bytes.substr(next_line_);
      const auto cr = partial.find('\r');
      if (cr != std::string_view::npos && cr + 1 < partial.size()) {
        return fail(ErrorCode::bad_request, "a CR not followed by LF in the request head");
      }
      if (has_control(partial.substr(0, cr))) {
        return fail(ErrorCode::bad_request, "a control character (e.g. NUL) in the request head");
      }
      return State::need_more;
    }
    if (lf == next_line_ || bytes[lf - 1] != '\r') {
      return fail(ErrorCode::bad_request, "a line of the request head ends in a bare LF");
    }
    const auto line = bytes.substr(next_line_, lf - 1 - next_line_);
    next_line_ = lf + 1;
    if (has_control(line)) {
      return fail(ErrorCode::bad_request,
                  "a control character (NUL, CR) inside a line of the request head");
    }
    if (!request_line_done_) {
      if (!check_request_line(line)) return State::invalid;
      request_line_done_ = true;
      continue;
    }
    if (line.empty()) {
      head_size_ = next_line_;
      return State::complete;
    }
    if (!check_field_line(line)) return State::invalid;
  }
}

bool HeadScanner::check_request_line(std::string_view line) {
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || !is_token(line.substr(0, sp1))) {
    fail(ErrorCode::bad_request, "the request line must be: METHOD target HTTP/1.1");
    return false;
  }
  if (sp2 == std::string_view::npos) {
    fail(ErrorCode::bad_request, "HTTP/0.9 requests (no version) are not supported");
    return false;
  }
  const auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto version = line.substr(sp2 + 1);
  if (target.empty() || has_control(target) || target.find(' ') != std::string_view::npos) {
    fail(ErrorCode::bad_request, "the request line must be: METHOD target HTTP/1.1");
    return false;
  }
  const bool well_formed = version.size() == 8 && version.substr(0, 5) == "HTTP/" &&
                           std::isdigit(static_cast<unsigned char>(version[5])) != 0 &&
                           version[6] == '.' &&
                           std::isdigit(static_cast<unsigned char>(version[7])) != 0;
  if (!well_formed) {
    fail(ErrorCode::bad_request, "the HTTP version must be HTTP/1.1 or HTTP/1.0");
    return false;
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    fail(ErrorCode::http_version_not_supported,
         "this server speaks HTTP/1.1 and HTTP/1.0, not " + std::string(version));
    return false;
  }
  return true;
}

bool HeadScanner::check_field_line(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') {
    fail(ErrorCode::bad_request, "obsolete line folding (a header line starting with a space)");
    return false;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) {
    fail(ErrorCode::bad_request, "a header line without a colon");
    return false;
  }
  if (!is_token(line.substr(0, colon))) {
    // RFC 9112 §5.1: no whitespace between the field name and the colon.
    fail(ErrorCode::bad_request, "a header name with a space or other invalid character");
    return false;
  }
  return true;
}

std::optional<common::Error> check_head(Request& request, HeadFacts& facts) {
  if (request.version() != 11 && request.version() != 10) {
    return make_error(ErrorCode::http_version_not_supported, "send HTTP/1.1");
  }
  if (auto e = check_host(request)) return e;
  if (auto e = check_framing(request)) return e;
  if (auto e = check_target(request)) return e;
  facts.expects_continue =
      request.version() == 11 && iequals(trim(request[bhttp::field::expect]), "100-continue");
  return std::nullopt;
}

}  // namespace visitpay::http
