#pragma once

#include <string>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "http/router.hpp"

namespace visitpay::http {

// RFC 9457 application/problem+json from an Error: type, title, status, detail, request_id and
// one entry per offending field in "errors".
Response problem_response(const common::Error& error, const RequestContext& context,
                          unsigned version);

// problem_response, and a warning in the log (`event`, with the request id, route and the
// error's detail) when the fault is ours: an internal error or the database being unavailable.
Response logged_problem(common::Logger& log, std::string_view event, const common::Error& error,
                        const RequestContext& context, unsigned version);

Response json_response(bhttp::status status, std::string body, unsigned version);

}  // namespace visitpay::http
