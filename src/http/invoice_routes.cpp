#include "http/invoice_routes.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "common/time_format.hpp"
#include "http/authorize.hpp"
#include "http/invoice_json.hpp"
#include "http/json_body.hpp"
#include "http/problem.hpp"
#include "http/query.hpp"

namespace visitpay::http {

using Json = nlohmann::json;

namespace {

constexpr std::string_view kStatuses[] = {"pending_review", "issued", "partially_paid",    "paid",
                                          "credited",       "void",   "sent_to_collection"};
constexpr std::string_view kFlags[] = {
    "paid_by_link",    "credit_note_needed", "sms_undeliverable", "link_failed",
    "no_phone",        "fee_not_disclosed",  "order_not_aborted", "paid_after_collection",
    "delivery_problem"};
constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 500;
constexpr std::size_t kMaxBulk = 500;
constexpr std::size_t kMaxText = 500;

// A bound of the created-at filter: an RFC 3339 time, or an Oslo calendar day (its start; for
// `to`, the start of the next day, so the day is included).
std::optional<domain::Timestamp> parse_bound(std::string_view s, bool end_of_day) {
  if (auto t = common::parse_rfc3339(s)) return t;
  auto ymd = parse_iso_date(s);
  if (!ymd) return std::nullopt;
  if (end_of_day)
    ymd = std::chrono::year_month_day{std::chrono::sys_days(*ymd) + std::chrono::days(1)};
  return common::from_oslo_local(static_cast<int>(ymd->year()), static_cast<unsigned>(ymd->month()),
                                 static_cast<unsigned>(ymd->day()), 0, 0);
}

class InvoiceHandlers {
 public:
  explicit InvoiceHandlers(InvoiceRouteDeps deps) : d_(deps) {}

  asio::awaitable<Response> list(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::invoices_review);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    std::vector<common::FieldError> errors;
    const auto params = query_params(req.target());
    auto filter = parse_filter(params, errors);
    int limit = kDefaultLimit;
    if (auto it = params.find("limit"); it != params.end()) {
      const auto& s = it->second;
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), limit);
      if (ec != std::errc() || end != s.data() + s.size() || limit < 1 || limit > kMaxLimit) {
        errors.push_back({"/limit", "must be an integer from 1 to " + std::to_string(kMaxLimit)});
      }
    }
    std::optional<store::InvoiceCursor> after;
    if (auto it = params.find("cursor"); it != params.end() && !it->second.empty()) {
      after = decode_cursor(it->second);
      if (!after) errors.push_back({"/cursor", "is not a cursor this API returned"});
    }
    if (!errors.empty()) co_return problem(invalid(std::move(errors)), ctx, req);

    auto page = co_await d_.invoices.list(filter, std::get<app::Principal>(auth), after, limit);
    if (!page) co_return problem(page.error(), ctx, req);
    Json items = Json::array();
    for (const auto& invoice : page->items)
      items.push_back(invoice_json(invoice, false));
    Json body = {
        {"items", std::move(items)},
        {"next_cursor", page->next ? Json(encode_cursor(*page->next)) : Json(nullptr)},
        {"totals",
         {{"count", page->total_count}, {"total_ore", page->total_amount}, {"currency", "NOK"}}}};
    co_return json_response(bhttp::status::ok, body.dump(), req.version());
  }

  asio::awaitable<Response> export_csv(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::invoices_review);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    std::vector<common::FieldError> errors;
    auto filter = parse_filter(query_params(req.target()), errors);
    if (!errors.empty()) co_return problem(invalid(std::move(errors)), ctx, req);
    auto csv = co_await d_.invoices.export_csv(filter, std::get<app::Principal>(auth));
    if (!csv) co_return problem(csv.error(), ctx, req);
    Response res{bhttp::status::ok, req.version()};
    res.set(bhttp::field::content_type, "text/csv; charset=utf-8");
    res.set(bhttp::field::content_disposition, "attachment; filename=\"invoices.csv\"");
    res.set(bhttp::field::cache_control, "no-store");
    res.body() = std::move(*csv);
    res.prepare_payload();
    co_return res;
  }

  asio::awaitable<Response> get(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::invoices_review);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto invoice = co_await d_.invoices.get(id(ctx), std::get<app::Principal>(auth));
    co_return respond(invoice, ctx, req);
  }

  asio::awaitable<Response> pdf(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::invoices_review);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto rendered = co_await d_.invoices.pdf(id(ctx), std::get<app::Principal>(auth));
    if (!rendered) co_return problem(rendered.error(), ctx, req);
    const auto& document = rendered->document;
    Response res{bhttp::status::ok, req.version()};
    res.set(bhttp::field::content_type, "application/pdf");
    res.set(bhttp::field::content_disposition,
            "inline; filename=\"" +
                std::string(document.kind == domain::InvoiceKind::credit_note ? "kreditnota-"
                                                                              : "faktura-") +
                std::to_string(document.number) + ".pdf\"");
    res.set(bhttp::field::cache_control, "no-store");  // it holds the buyer's name and address
    res.body() = std::move(rendered->pdf);
    res.prepare_payload();
    co_return res;
  }

  asio::awaitable<Response> approve(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::invoices_review);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto invoice = co_await d_.invoices.approve(id(ctx), std::get<app::Principal>(auth));
    co_return respond(invoice, ctx, req);
  }

  asio::awaitable<Response> approve_bulk(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::invoices_review);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto body = object_body(req);
    if (auto* e = std::get_if<common::Error>(&body)) co_return problem(*e, ctx, req);
    const auto& json = std::get<Json>(body);
    std::vector<std::string> ids;
    std::vector<common::FieldError> errors;
    const auto it = json.find("ids");
    if (it == json.end() || !it->is_array() || it->empty() || it->size() > kMaxBulk) {
      errors.push_back(
          {"/ids", "must be an array of 1 to " + std::to_string(kMaxBulk) + " invoice ids"});
    } else {
      for (std::size_t i = 0; i < it->size(); ++i) {
        if ((*it)[i].is_string()) {
          ids.push_back((*it)[i].get<std::string>());
        } else {
          errors.push_back({"/ids/" + std::to_string(i), "must be a string"});
        }
      }
    }
    if (!errors.empty()) co_return problem(invalid(std::move(errors)), ctx, req);
    auto outcomes = co_await d_.invoices.approve_all(ids, std::get<app::Principal>(auth));
    Json results = Json::array();
    int approved = 0;
    for (const auto& o : outcomes) {
      if (o.invoice) {
        ++approved;
        results.push_back({{"id", o.id}, {"status", o.invoice->status}});
      } else {
        results.push_back({{"id", o.id},
                           {"error",
                            {{"type", common::error_type_uri(o.error->code)},
                             {"status", common::error_http_status(o.error->code)},
                             {"detail", o.error->detail}}}});
      }
    }
    Json out = {{"approved", approved},
                {"refused", static_cast<int>(outcomes.size()) - approved},
                {"results", std::move(results)}};
    co_return json_response(bhttp::status::ok, out.dump(), req.version());
  }

  asio::awaitable<Response> void_invoice(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::invoices_review);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto body = object_body(req);
    if (auto* e = std::get_if<common::Error>(&body)) co_return problem(*e, ctx, req);
    std::vector<common::FieldError> errors;
    const auto reason = text_member(std::get<Json>(body), "reason", true, kMaxText, errors);
    if (!errors.empty()) co_return problem(invalid(std::move(errors)), ctx, req);
    auto invoice =
        co_await d_.invoices.void_invoice(id(ctx), std::get<app::Principal>(auth), reason);
    co_return respond(invoice, ctx, req);
  }

  asio::awaitable<Response> credit(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::invoices_review);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto body = object_body(req);
    if (auto* e = std::get_if<common::Error>(&body)) co_return problem(*e, ctx, req);
    std::vector<common::FieldError> errors;
    const auto reason = text_member(std::get<Json>(body), "reason", false, kMaxText, errors);
    if (!errors.empty()) co_return problem(invalid(std::move(errors)), ctx, req);
    auto note = co_await d_.invoices.credit(id(ctx), std::get<app::Principal>(auth), reason);
    if (!note) co_return problem(note.error(), ctx, req);
    auto res =
        json_response(bhttp::status::created, invoice_json(*note, true).dump(), req.version());
    res.set(bhttp::field::location, "/v1/invoices/" + note->id);
    co_return res;
  }

  asio::awaitable<Response> mark_paid(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::invoices_review);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto body = object_body(req);
    if (auto* e = std::get_if<common::Error>(&body)) co_return problem(*e, ctx, req);
    std::vector<common::FieldError> errors;
    const auto& json = std::get<Json>(body);
    auto paid_on = text_member(json, "paid_on", false, kMaxText, errors);
    const auto reference = text_member(json, "reference", false, kMaxText, errors);
    const auto today = common::format_oslo_iso_date(d_.clock.now());
    if (paid_on.empty()) {
      paid_on = today;
    } else if (!parse_iso_date(paid_on)) {
      errors.push_back({"/paid_on", "must be a date YYYY-MM-DD"});
    } else if (paid_on > today) {
      errors.push_back({"/paid_on", "must not be in the future"});
    }
    if (!errors.empty()) co_return problem(invalid(std::move(errors)), ctx, req);
    auto invoice =
        co_await d_.invoices.mark_paid(id(ctx), std::get<app::Principal>(auth), paid_on, reference);
    co_return respond(invoice, ctx, req);
  }

 private:
  static store::InvoiceFilter parse_filter(
      const std::map<std::string, std::string, std::less<>>& params,
      std::vector<common::FieldError>& errors) {
    store::InvoiceFilter filter;
    if (auto it = params.find("status"); it != params.end() && !it->second.empty()) {
      filter.status = it->second;
      if (std::find(std::begin(kStatuses), std::end(kStatuses), filter.status) ==
          std::end(kStatuses)) {
        errors.push_back({"/status",
                          "must be pending_review, issued, partially_paid, paid, credited, void or "
                          "sent_to_collection"});
      }
    }
    if (auto it = params.find("clinic_id"); it != params.end()) filter.clinic_id = it->second;
    if (auto it = params.find("flag"); it != params.end() && !it->second.empty()) {
      filter.flag = it->second;
      if (std::find(std::begin(kFlags), std::end(kFlags), filter.flag) == std::end(kFlags)) {
        errors.push_back({"/flag", "must be one of the flags an invoice shows"});
      }
    }
    for (const auto* key : {"from", "to"}) {
      auto it = params.find(key);
      if (it == params.end() || it->second.empty()) continue;
      const bool is_to = std::string_view(key) == "to";
      auto bound = parse_bound(it->second, is_to);
      if (!bound) {
        errors.push_back({std::string("/") + key, "must be a date YYYY-MM-DD or RFC 3339 time"});
      } else {
        (is_to ? filter.to : filter.from) = bound;
      }
    }
    return filter;
  }

  static const std::string& id(const RequestContext& ctx) {
    return ctx.params.find("invoice_id")->second;
  }

  Response respond(const common::Result<store::InvoiceRecord>& invoice, const RequestContext& ctx,
                   const Request& req) {
    if (!invoice) return problem(invoice.error(), ctx, req);
    return json_response(bhttp::status::ok, invoice_json(invoice.value(), true).dump(),
                         req.version());
  }

  Response problem(const common::Error& error, const RequestContext& ctx, const Request& req) {
    return logged_problem(d_.log, "invoice.request_failed", error, ctx, req.version());
  }

  InvoiceRouteDeps d_;
};

}  // namespace

void register_invoice_routes(Router& router, InvoiceRouteDeps deps) {
  auto h = std::make_shared<InvoiceHandlers>(deps);
  auto bind = [h](auto method) -> Handler {
    return
        [h, method](const Request& req, RequestContext& ctx) { return ((*h).*method)(req, ctx); };
  };
  // Fixed paths before "{invoice_id}", which would match them too.
  router.add(bhttp::verb::get, "/v1/invoices", bind(&InvoiceHandlers::list));
  router.add(bhttp::verb::get, "/v1/invoices/export.csv", bind(&InvoiceHandlers::export_csv));
  router.add(bhttp::verb::post, "/v1/invoices/approve", bind(&InvoiceHandlers::approve_bulk));
  router.add(bhttp::verb::get, "/v1/invoices/{invoice_id}", bind(&InvoiceHandlers::get));
  router.add(bhttp::verb::get, "/v1/invoices/{invoice_id}/pdf", bind(&InvoiceHandlers::pdf));
  router.add(bhttp::verb::post, "/v1/invoices/{invoice_id}/approve",
             bind(&InvoiceHandlers::approve));
  router.add(bhttp::verb::post, "/v1/invoices/{invoice_id}/void",
             bind(&InvoiceHandlers::void_invoice));
  router.add(bhttp::verb::post, "/v1/invoices/{invoice_id}/credit", bind(&InvoiceHandlers::credit));
  router.add(bhttp::verb::post, "/v1/invoices/{invoice_id}/mark-paid",
             bind(&InvoiceHandlers::mark_paid));
}

}  // namespace visitpay::http
