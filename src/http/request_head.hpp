#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/result.hpp"
#include "http/router.hpp"

namespace visitpay::http {

// RFC 9112 framing rules that Beast's parser is more lenient about (obs-fold, bare LF, NUL,
// HTTP versions, Transfer-Encoding other than chunked, CL with TE, Host). Each violation is an
// Error: 400 (bad_request), 501 (not_implemented) or 505 (http_version_not_supported); the
// server answers it and closes the connection, since the message boundary is unknown.

// Checks the raw bytes of a request head line by line as they arrive, before Beast sees them.
// The request line is checked as soon as it is complete, so an HTTP/0.9 request ("GET /\r\n")
// is answered without waiting for a header section that never comes.
class HeadScanner {
 public:
  enum class State { need_more, complete, invalid };

  // `bytes` is everything received for this request so far (a prefix of the last call's bytes
  // plus more). Leading empty lines (RFC 9112 §2.2) must already be dropped.
  State scan(std::string_view bytes);

  std::size_t head_size() const { return head_size_; }  // with the final CRLF CRLF
  const common::Error& error() const { return error_; }

 private:
  State fail(common::ErrorCode code, std::string detail);
  bool check_request_line(std::string_view line);
  bool check_field_line(std::string_view line);

  std::size_t next_line_ = 0;  // start of the first line not yet checked
  bool request_line_done_ = false;
  std::size_t head_size_ = 0;
  common::Error error_;
};

// Leading CRLFs before a request line (RFC 9112 §2.2: a server SHOULD ignore at least one).
std::size_t leading_empty_lines(std::string_view bytes);

// What the server needs from a parsed head beyond the checks.
struct HeadFacts {
  bool expects_continue = false;  // "Expect: 100-continue"
};

// Semantic checks on a head Beast has parsed: version, Host, Content-Length, Transfer-Encoding,
// the request-target's form. Rewrites an absolute-form target ("http://host/path?q") to its
// origin form ("/path?q") so it routes by its path.
std::optional<common::Error> check_head(Request& request, HeadFacts& facts);

}  // namespace visitpay::http
