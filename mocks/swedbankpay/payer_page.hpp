#pragma once

// HTML of the mock Swedbank Pay: the payer page behind the `redirect-checkout` link, its result
// pages, and the index of orders. Plain HTML forms, no JavaScript. Internal to
// mocks/swedbankpay/.

#include <cstdint>
#include <string>
#include <vector>

namespace visitpay::mocks::swedbankpay {

// 65000 -> "650,00 kr", 165000 -> "1 650,00 kr" (Norwegian notation).
std::string format_kroner(std::int64_t ore);

// What the payer page shows about one order.
struct PayerView {
  std::string action_path;  // "/checkout/<token>", where the buttons POST to
  std::string merchant;     // payeeInfo.payeeName (or payeeId)
  std::string description;
  std::int64_t amount = 0;
  std::string status;  // visible status: Initialized, Paid, ...
  bool payment_pending = false;
  std::string instrument;
  std::string complete_url;
  std::string cancel_url;
};

// The payment page while the order can be paid, otherwise a page telling its outcome.
std::string render_payer_page(const PayerView& view);
// After a successful pay action: "Betalingen er mottatt" with a link to completeUrl.
std::string render_paid_page(const PayerView& view);
// After the payer cancelled: a link to cancelUrl.
std::string render_cancelled_page(const PayerView& view);
// A short page with a heading and a sentence (errors, unknown links).
std::string render_message_page(const std::string& title, const std::string& message);

struct IndexRow {
  std::string id;
  std::string payee_reference;
  std::string description;
  std::int64_t amount = 0;
  std::string status;
  std::string instrument;
  std::string payer_page;  // absolute URL
};
std::string render_index(const std::string& base_url, const std::vector<IndexRow>& rows,
                         const std::vector<std::string>& armed_faults);

}  // namespace visitpay::mocks::swedbankpay
