#pragma once

#include <string>
#include <string_view>

#include "app/payer_pages.hpp"
#include "common/log.hpp"
#include "http/router.hpp"

namespace visitpay::http {

// The payer's pages after Swedbank Pay's payment page, in Norwegian bokmål:
//   GET  /payment/complete?t=TOKEN   completeUrl: what the order really is now
//   GET  /payment/cancelled?t=TOKEN  cancelUrl: the same truth, worded for a cancel
//   POST /payment/pay (form t=TOKEN) a fresh payment after a cancel: 303 to the new order's page
// No script (a CSP forbids it), no personal data (the amount and the clinic's name only), every
// value escaped; the token never reaches logs (routes are logged by template).
void register_payer_pages(Router& router, app::PayerPages& pages, common::Logger& log);

// Which page the payer came back to.
enum class PayerPageOrigin { complete, cancelled };

// The HTML of a page; `token` goes into its links and form, `notice` (plain text) on top.
std::string render_payer_page(const app::PayerPageView& view, PayerPageOrigin origin,
                              std::string_view token, std::string_view notice = {});

// The value of `name` in a query string or form body (no percent-decoding: tokens are base64url).
std::string form_value(std::string_view text, std::string_view name);

}  // namespace visitpay::http
