#include "http/payer_pages.hpp"

#include <memory>

#include "common/crypto.hpp"
#include "common/html.hpp"
#include "common/time_format.hpp"
#include "domain/payment_sms.hpp"

namespace visitpay::http {

using app::PayerPageKind;
using app::PayerPageView;

namespace {

constexpr std::string_view kStyle =
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;"
    "line-height:1.5}button{font-size:1rem;padding:.7rem 1.2rem}";

// CSP 'sha256-...' source of the page's only style element: standard base64, padded.
std::string style_hash_source() {
  const auto digest = common::sha256(kStyle);
  std::string b64 = common::base64url(digest.data(), digest.size());
  for (auto& c : b64) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (b64.size() % 4 != 0)
    b64 += '=';
  return "'sha256-" + b64 + "'";
}

std::string deadline_text(domain::Timestamp t) {
  return common::format_oslo_date(t) + " kl. " + common::format_oslo_hhmm(t);
}

struct Wording {
  std::string title;
  std::string body;  // HTML (already escaped)
};

std::string who(const PayerPageView& v) {
  return common::html_escape(domain::format_kroner(v.amount)) +
         (v.clinic_name.empty() ? std::string() : " til " + common::html_escape(v.clinic_name));
}

std::string invoice_sentence(const PayerPageView& v) {
  std::string text = "Betaler du ikke innen fristen, får du faktura";
  if (v.invoice_fee && *v.invoice_fee > 0) {
    text += " med fakturagebyr på " + common::html_escape(domain::format_kroner(*v.invoice_fee));
  }
  return text + ".";
}

Wording wording(const PayerPageView& v, PayerPageOrigin origin, std::string_view token) {
  const std::string check_again =
      "<p><a href=\"/payment/complete?t=" + common::html_escape(token) + "\">Sjekk igjen</a></p>";
  switch (v.kind) {
    case PayerPageKind::paid:
      return {"Takk for betalingen",
              "<p>Betalingen på " + who(v) + " er mottatt. Du kan lukke denne siden.</p>"};
    case PayerPageKind::processing: {
      std::string body;
      if (origin == PayerPageOrigin::cancelled && v.link_still_pays) {
        body = "<p>Betalingen på " + who(v) + " er ikke fullført.</p>";
      } else {
        body = "<p>Betalingen på " + who(v) +
               " er ikke bekreftet ennå. Det tar som regel bare noen sekunder.</p>";
      }
      if (v.link_still_pays && v.deadline) {
        body += "<p>Har du ikke fullført betalingen, kan du betale med lenken i SMS-en fram til " +
                common::html_escape(deadline_text(*v.deadline)) + ".</p>";
      }
      return {origin == PayerPageOrigin::cancelled && v.link_still_pays
                  ? "Betalingen er ikke fullført"
                  : "Betalingen behandles",
              body + check_again};
    }
    case PayerPageKind::not_completed: {
      std::string body = "<p>Betalingen på " + who(v) + " ble avbrutt. Ingenting er trukket.</p>";
      if (v.can_pay_now && v.deadline) {
        body += "<p>Du kan betale nå, fram til " + common::html_escape(deadline_text(*v.deadline)) +
                ".</p><form method=\"post\" action=\"/payment/pay\"><input type=\"hidden\" "
                "name=\"t\" value=\"" +
                common::html_escape(token) +
                "\"><button type=\"submit\">Betal nå</button></form><p>" + invoice_sentence(v) +
                "</p>";
      } else {
        body += "<p>Blir beløpet ikke betalt, får du faktura fra " +
                (v.clinic_name.empty() ? std::string("klinikken")
                                       : common::html_escape(v.clinic_name)) +
                ".</p>";
      }
      return {origin == PayerPageOrigin::cancelled ? "Betalingen er avbrutt"
                                                   : "Betalingen ble ikke fullført",
              body};
    }
    case PayerPageKind::invoice:
      return {"Du får faktura",
              "<p>Fristen for å betale " + who(v) +
                  " med kort eller Vipps er ute. Du får faktura fra " +
                  (v.clinic_name.empty() ? "klinikken" : common::html_escape(v.clinic_name)) +
                  ".</p>"};
    case PayerPageKind::withdrawn:
      return {"Ingen betaling", "<p>Betalingskravet på " + who(v) +
                                    " er trukket tilbake. Du trenger ikke å gjøre noe.</p>"};
    case PayerPageKind::unknown_link:
      break;
  }
  return {"Ukjent lenke",
          "<p>Vi finner ikke denne betalingen. Bruk lenken i SMS-en du fikk fra klinikken.</p>"};
}

Response page_response(const Request& req, bhttp::status status, std::string body) {
  static const std::string csp = "default-src 'none'; style-src " + style_hash_source() +
                                 "; base-uri 'none'; frame-ancestors 'none'";
  Response res{status, req.version()};
  res.set(bhttp::field::content_type, "text/html; charset=utf-8");
  res.set(bhttp::field::cache_control, "no-store");
  res.set("Content-Security-Policy", csp);
  // The token is in this page's URL: it must not travel on to the payment page as a Referer.
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Content-Type-Options", "nosniff");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string_view query_of(const Request& req) {
  const std::string_view target(req.target().data(), req.target().size());
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

class PayerPageHandlers {
 public:
  PayerPageHandlers(app::PayerPages& pages, common::Logger& log) : pages_(pages), log_(log) {}

  asio::awaitable<Response> complete(const Request& req, RequestContext&) {
    co_return co_await show(req, PayerPageOrigin::complete);
  }
  asio::awaitable<Response> cancelled(const Request& req, RequestContext&) {
    co_return co_await show(req, PayerPageOrigin::cancelled);
  }

  asio::awaitable<Response> pay(const Request& req, RequestContext& ctx) {
    const std::string token = form_value(req.body(), "t");
    auto started = co_await pages_.pay_again(token);
    if (started) {
      Response res = page_response(req, bhttp::status::see_other, {});
      res.set(bhttp::field::location, *started);
      co_return res;
    }
    const auto code = started.error().code;
    std::string_view notice = "Vi kunne ikke starte en ny betaling nå.";
    auto status = bhttp::status::conflict;
    if (code == common::ErrorCode::not_found) {
      status = bhttp::status::not_found;
    } else if (code != common::ErrorCode::invalid_state) {
      // The provider or the database: the payer can try again in a moment.
      log_.warn("payer_page.pay_failed",
                {{"request_id", ctx.request_id}, {"error", started.error().detail}});
      notice = "Vi kunne ikke starte en ny betaling akkurat nå. Prøv igjen om litt.";
      status = bhttp::status::service_unavailable;
    }
    const auto view = co_await pages_.view(token);
    co_return page_response(req, status,
                            render_payer_page(view, PayerPageOrigin::cancelled, token, notice));
  }

 private:
  asio::awaitable<Response> show(const Request& req, PayerPageOrigin origin) {
    const std::string token = form_value(query_of(req), "t");
    const auto view = co_await pages_.view(token);
    const auto status =
        view.kind == PayerPageKind::unknown_link ? bhttp::status::not_found : bhttp::status::ok;
    co_return page_response(req, status, render_payer_page(view, origin, token));
  }

  app::PayerPages& pages_;
  common::Logger& log_;
};

}  // namespace

std::string form_value(std::string_view text, std::string_view name) {
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return std::string(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp + 1);
  }
  return {};
}

std::string render_payer_page(const PayerPageView& view, PayerPageOrigin origin,
                              std::string_view token, std::string_view notice) {
  const Wording w = wording(view, origin, token);
  std::string html =
      "<!doctype html><html lang=\"nb\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"referrer\" content=\"no-referrer\"><title>" +
      common::html_escape(w.title) + "</title><style>" + std::string(kStyle) +
      "</style></head><body>";
  if (!notice.empty()) html += "<p><strong>" + common::html_escape(notice) + "</strong></p>";
  html += "<h1>" + common::html_escape(w.title) + "</h1>" + w.body + "</body></html>";
  return html;
}

void register_payer_pages(Router& router, app::PayerPages& pages, common::Logger& log) {
  auto h = std::make_shared<PayerPageHandlers>(pages, log);
  router.add(bhttp::verb::get, "/payment/complete",
             [h](const Request& req, RequestContext& ctx) { return h->complete(req, ctx); });
  router.add(bhttp::verb::get, "/payment/cancelled",
             [h](const Request& req, RequestContext& ctx) { return h->cancelled(req, ctx); });
  router.add(bhttp::verb::post, "/payment/pay",
             [h](const Request& req, RequestContext& ctx) { return h->pay(req, ctx); });
}

}  // namespace visitpay::http
