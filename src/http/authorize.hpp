#pragma once

#include <string_view>
#include <variant>

#include "app/auth.hpp"
#include "http/router.hpp"

namespace visitpay::http {

// Resolves the caller and checks it holds `scope` (or `alternative`); the error response otherwise.
asio::awaitable<std::variant<app::Principal, Response>> authorize(
    app::Authenticator& auth, const Request& req, const RequestContext& ctx, std::string_view scope,
    std::string_view alternative = {});

}  // namespace visitpay::http
