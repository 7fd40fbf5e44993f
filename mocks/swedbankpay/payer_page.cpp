#include "mocks/swedbankpay/payer_page.hpp"

#include "mocks/common/mock_http_server.hpp"

namespace visitpay::mocks::swedbankpay {

namespace {

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f6f3ef;color:#1e1e1e;margin:0}
main{max-width:26rem;margin:2rem auto;background:#fff;border-radius:12px;padding:1.5rem 1.75rem;box-shadow:0 1px 4px rgba(0,0,0,.12)}
header{font-size:.8rem;color:#6b6b6b;letter-spacing:.04em;text-transform:uppercase}
h1{font-size:1.25rem;margin:.4rem 0 1rem}
.amount{font-size:2rem;font-weight:700;margin:.25rem 0 1.25rem}
.muted{color:#6b6b6b}
form{margin:0}
button{display:block;width:100%;font-size:1rem;padding:.8rem;margin:.5rem 0;border-radius:8px;border:0;cursor:pointer}
.card{background:#2f2a26;color:#fff}
.vipps{background:#ff5b24;color:#fff}
.cancel{background:transparent;color:#2f2a26;border:1px solid #b5aca4}
a.next{display:inline-block;margin-top:1rem;color:#2f2a26}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e4ded8}
.wide{max-width:60rem}
)";

std::string page(const std::string& title, const std::string& body, bool wide = false) {
  return "<!DOCTYPE html>\n<html lang=\"nb\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         html_escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<main" +
         (wide ? " class=\"wide\"" : "") + ">\n<header>Swedbank Pay (mock)</header>\n" + body +
         "</main>\n</body>\n</html>\n";
}

std::string summary(const PayerView& view) {
  return "<h1>" + html_escape(view.merchant) + "</h1>\n<p class=\"muted\">" +
         html_escape(view.description) + "</p>\n<p class=\"amount\">" +
         html_escape(format_kroner(view.amount)) + "</p>\n";
}

std::string link(const std::string& url, const std::string& text) {
  if (url.empty()) return {};
  return "<a class=\"next\" href=\"" + html_escape(url) + "\">" + html_escape(text) + "</a>\n";
}

std::string instrument_name(const std::string& instrument) {
  if (instrument == "CreditCard") return "kort";
  return instrument;
}

}  // namespace

std::string format_kroner(std::int64_t ore) {
  const bool negative = ore < 0;
  const std::uint64_t magnitude =
      negative ? 0 - static_cast<std::uint64_t>(ore) : static_cast<std::uint64_t>(ore);
  std::string kroner = std::to_string(magnitude / 100);
  for (int i = static_cast<int>(kroner.size()) - 3; i > 0; i -= 3) {
    kroner.insert(static_cast<std::size_t>(i), " ");
  }
  const auto cents = magnitude % 100;
  return std::string(negative ? "-" : "") + kroner + "," + (cents < 10 ? "0" : "") +
         std::to_string(cents) + " kr";
}

std::string render_payer_page(const PayerView& view) {
  if (view.payment_pending) {
    return page("Betalingen behandles", summary(view) + "<p>Betalingen behandles.</p>\n" +
                                            link(view.complete_url, "Tilbake til butikken"));
  }
  if (view.status == "Paid" || view.status == "Cancelled" || view.status == "Reversed") {
    return render_paid_page(view);
  }
  if (view.status == "Aborted") return render_cancelled_page(view);
  if (view.status == "Failed") {
    return page("Betalingen feilet",
                summary(view) + "<p>Betalingen feilet.</p>\n" +
                    link(view.cancel_url.empty() ? view.complete_url : view.cancel_url,
                         "Tilbake til butikken"));
  }
  const std::string action = html_escape(view.action_path);
  const std::string body =
      summary(view) + "<form method=\"post\" action=\"" + action +
      "\">\n<input type=\"hidden\" name=\"action\" value=\"pay\">\n"
      "<button class=\"card\" type=\"submit\" name=\"instrument\" value=\"CreditCard\">"
      "Betal med kort</button>\n"
      "<button class=\"vipps\" type=\"submit\" name=\"instrument\" value=\"Vipps\">"
      "Betal med Vipps</button>\n</form>\n<form method=\"post\" action=\"" +
      action +
      "\">\n<input type=\"hidden\" name=\"action\" value=\"cancel\">\n"
      "<button class=\"cancel\" type=\"submit\">Avbryt</button>\n</form>\n";
  return page("Betaling til " + view.merchant, body);
}

std::string render_paid_page(const PayerView& view) {
  std::string how;
  if (!view.instrument.empty()) how = " Betalt med " + instrument_name(view.instrument) + ".";
  return page("Betalingen er mottatt",
              summary(view) + "<p><strong>Betalingen er mottatt.</strong>" + html_escape(how) +
                  "</p>\n" + link(view.complete_url, "Tilbake til butikken"));
}

std::string render_cancelled_page(const PayerView& view) {
  return page("Betalingen er avbrutt", summary(view) +
                                           "<p><strong>Betalingen er avbrutt.</strong></p>\n" +
                                           link(view.cancel_url, "Tilbake til butikken"));
}

std::string render_message_page(const std::string& title, const std::string& message) {
  return page(title, "<h1>" + html_escape(title) + "</h1>\n<p>" + html_escape(message) + "</p>\n");
}

std::string render_index(const std::string& base_url, const std::vector<IndexRow>& rows,
                         const std::vector<std::string>& armed_faults) {
  std::string body = "<h1>Betalingsordrer</h1>\n<p class=\"muted\">" + html_escape(base_url) +
                     " &middot; <a href=\"/_mock/orders\">JSON</a></p>\n";
  if (rows.empty()) {
    body += "<p>Ingen ordrer enda.</p>\n";
  } else {
    body +=
        "<table>\n<tr><th>Ordre</th><th>payeeReference</th><th>Beskrivelse</th><th>Bel&oslash;p"
        "</th><th>Status</th><th>Betalingsside</th></tr>\n";
    for (const auto& row : rows) {
      std::string status = row.status;
      if (!row.instrument.empty()) status += " (" + row.instrument + ")";
      body += "<tr><td>" + html_escape(row.id) + "</td><td>" + html_escape(row.payee_reference) +
              "</td><td>" + html_escape(row.description) + "</td><td>" +
              html_escape(format_kroner(row.amount)) + "</td><td>" + html_escape(status) +
              "</td><td><a href=\"" + html_escape(row.payer_page) + "\">&aring;pne</a></td></tr>\n";
    }
    body += "</table>\n";
  }
  if (!armed_faults.empty()) {
    body += "<p class=\"muted\">Aktive feil:";
    for (const auto& fault : armed_faults)
      body += " " + html_escape(fault);
    body += "</p>\n";
  }
  return page("Swedbank Pay (mock)", body, true);
}

}  // namespace visitpay::mocks::swedbankpay
