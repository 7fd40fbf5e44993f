#include "http/payer_pages.hpp"

#include <gtest/gtest.h>

#include "app/payment_orders.hpp"
#include "common/time_format.hpp"

namespace visitpay::http {
namespace {

using app::PayerPageKind;
using app::PayerPageView;

PayerPageView aborted_view() {
  PayerPageView v;
  v.kind = PayerPageKind::not_completed;
  v.clinic_name = "Oslo Sentrum Klinikk";
  v.amount = 65050;
  v.deadline = common::parse_rfc3339("2026-07-01T10:05:00Z");  // 12:05 in Oslo (summer time)
  v.invoice_fee = 3900;
  v.can_pay_now = true;
  return v;
}

TEST(PayerPages, EverythingIsEscapedAndThereIsNoScript) {
  auto v = aborted_view();
  v.clinic_name = "<script>alert(1)</script> & \"Co\"";
  const auto html = render_payer_page(v, PayerPageOrigin::cancelled, "tok\"en<", "Vent <litt>");
  EXPECT_EQ(html.find("<script"), std::string::npos) << html;
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("value=\"tok&quot;en&lt;\""), std::string::npos) << html;
  EXPECT_NE(html.find("Vent &lt;litt&gt;"), std::string::npos) << html;
}

TEST(PayerPages, AnAbortedOrderOffersAFreshPaymentUntilTheDeadlineInOsloTime) {
  const auto html = render_payer_page(aborted_view(), PayerPageOrigin::cancelled,
                                      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  EXPECT_NE(html.find("<title>Betalingen er avbrutt</title>"), std::string::npos) << html;
  EXPECT_NE(html.find("650,50 kr til Oslo Sentrum Klinikk"), std::string::npos) << html;
  EXPECT_NE(html.find("fram til 01.07.2026 kl. 12:05"), std::string::npos) << html;
  EXPECT_NE(html.find("<form method=\"post\" action=\"/payment/pay\">"), std::string::npos);
  EXPECT_NE(html.find("fakturagebyr på 39 kr"), std::string::npos);
  EXPECT_EQ(html.find("lenken i SMS"), std::string::npos);  // that order can no longer pay

  auto late = aborted_view();
  late.can_pay_now = false;
  const auto closed = render_payer_page(late, PayerPageOrigin::complete, "t");
  EXPECT_EQ(closed.find("<form"), std::string::npos) << closed;
  EXPECT_NE(closed.find("får du faktura fra Oslo Sentrum Klinikk"), std::string::npos) << closed;
  EXPECT_NE(closed.find("<title>Betalingen ble ikke fullført</title>"), std::string::npos);
}

TEST(PayerPages, ProcessingIsNeverCalledReceivedAndOffersToLookAgain) {
  PayerPageView v = aborted_view();
  v.kind = PayerPageKind::processing;
  v.can_pay_now = false;
  v.link_still_pays = true;
  const auto html = render_payer_page(v, PayerPageOrigin::complete, "abc");
  EXPECT_NE(html.find("Betalingen behandles"), std::string::npos) << html;
  EXPECT_EQ(html.find("mottatt"), std::string::npos);
  EXPECT_NE(html.find("href=\"/payment/complete?t=abc\""), std::string::npos);
  EXPECT_NE(html.find("lenken i SMS-en fram til 01.07.2026 kl. 12:05"), std::string::npos);
  // Cancelled while the order is still open: the SMS link still pays, and the page says so.
  const auto cancelled = render_payer_page(v, PayerPageOrigin::cancelled, "abc");
  EXPECT_NE(cancelled.find("Betalingen er ikke fullført"), std::string::npos) << cancelled;

  v.kind = PayerPageKind::paid;
  EXPECT_NE(render_payer_page(v, PayerPageOrigin::cancelled, "abc").find("er mottatt"),
            std::string::npos);
  v.kind = PayerPageKind::unknown_link;
  EXPECT_NE(render_payer_page(v, PayerPageOrigin::complete, "").find("Ukjent lenke"),
            std::string::npos);
}

TEST(PayerPages, FormValuesAreFoundByName) {
  EXPECT_EQ(form_value("a=1&t=xyz&b=2", "t"), "xyz");
  EXPECT_EQ(form_value("t=", "t"), "");
  EXPECT_EQ(form_value("tt=1&t=2", "t"), "2");
  EXPECT_EQ(form_value("", "t"), "");
}

TEST(PayerPages, TheTokenIsAKeyedDigestOfTheSessionNotTheSessionId) {
  const common::Bytes key(32, 7);
  const common::Bytes other(32, 8);
  const std::string session = "01a20360-b840-7915-9e90-aeb5cac0f7e6";
  const auto token = app::payer_page_token(key, session);
  EXPECT_EQ(token.size(), 43u);
  EXPECT_EQ(token, app::payer_page_token(key, session));  // every order of a session: same pages
  EXPECT_NE(token, app::payer_page_token(other, session));
  EXPECT_NE(token, app::payer_page_token(key, "01a20360-b840-7915-9e90-aeb5cac0f7e7"));
  EXPECT_EQ(token.find("01a20360"), std::string::npos);
}

}  // namespace
}  // namespace visitpay::http
