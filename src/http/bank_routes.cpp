#include "http/bank_routes.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "common/time_format.hpp"
#include "http/authorize.hpp"
#include "http/json_body.hpp"
#include "http/problem.hpp"

namespace visitpay::http {

using Json = nlohmann::json;

namespace {

constexpr std::string_view kPaymentStatuses[] = {"matched", "partial", "overpaid", "reversed",
                                                 "unmatched"};
constexpr int kMaxLimit = 500;

Json optional_text(const std::optional<std::string>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json file_json(const store::BankFileRecord& f) {
  const auto& c = f.counts;
  return {{"id", f.id},
          {"sha256", f.sha256},
          {"format", f.format},
          {"file_key", f.file_key},
          {"imported_at", common::format_rfc3339_utc(f.imported_at)},
          {"imported_by", f.imported_by},
          {"payments", f.payments},
          {"total_ore", f.total},
          {"currency", "NOK"},
          {"outcomes",
           {{"matched", c.matched},
            {"partial", c.partial},
            {"overpaid", c.overpaid},
            {"reversed", c.reversed},
            {"unmatched", c.unmatched},
            {"duplicates", c.duplicates},
            {"skipped", c.skipped}}}};
}

Json payment_json(const store::BankPaymentRecord& p) {
  return {{"id", p.id},
          {"file_id", p.file_id},
          {"line", p.line},
          {"kid", optional_text(p.kid)},
          {"amount_ore", p.amount},
          {"currency", "NOK"},
          {"booking_date", p.booking_date},
          {"value_date", optional_text(p.value_date)},
          {"bank_reference", optional_text(p.bank_reference)},
          {"creditor_account", p.creditor_account},
          {"payer_account", optional_text(p.payer_account)},
          {"status", p.status},
          {"unmatched_reason", optional_text(p.unmatched_reason)},
          {"invoice_id", optional_text(p.invoice_id)},
          {"invoice_number", p.invoice_number ? Json(*p.invoice_number) : Json(nullptr)},
          {"overpaid_ore", p.overpaid},
          {"invoice_open_after_ore", p.open_after ? Json(*p.open_after) : Json(nullptr)},
          {"matched_at",
           p.matched_at ? Json(common::format_rfc3339_utc(*p.matched_at)) : Json(nullptr)},
          {"matched_by", optional_text(p.matched_by)},
          {"manual", p.manual}};
}

// The declared format from Content-Type; nullopt to detect it from the content.
std::variant<std::optional<bank::BankFormat>, common::Error> declared_format(const Request& req) {
  const auto full = std::string(req[bhttp::field::content_type]);
  const auto type = full.substr(0, full.find(';'));
  if (type.empty() || type == "application/octet-stream") return std::nullopt;
  if (type == "text/plain") return std::optional(bank::BankFormat::ocr_giro);
  if (type == "application/xml" || type == "text/xml") {
    return std::optional(bank::BankFormat::camt054);
  }
  return common::make_error(common::ErrorCode::unsupported_media_type,
                            "a bank file is text/plain (OCR giro), application/xml (camt.054) or "
                            "application/octet-stream (detected)");
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string query_value(std::string_view target, std::string_view key) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  auto rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key && eq != std::string_view::npos) {
      return std::string(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return {};
}

class BankHandlers {
 public:
  explicit BankHandlers(BankRouteDeps deps) : d_(deps) {}

  // Finance for every clinic: a bank file covers the legal entities' accounts, not one clinic,
  // and its payments carry payers' accounts. A token bound to clinics is refused.
  asio::awaitable<std::variant<app::Principal, Response>> finance(const Request& req,
                                                                  RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::invoices_review);
    if (auto* p = std::get_if<app::Principal>(&auth); p != nullptr && !p->clinic_ids.empty()) {
      co_return problem(common::make_error(common::ErrorCode::forbidden,
                                           "bank reconciliation needs a token for every clinic"),
                        ctx, req);
    }
    co_return auth;
  }

  asio::awaitable<Response> import(const Request& req, RequestContext& ctx) {
    auto auth = co_await finance(req, ctx);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto declared = declared_format(req);
    if (auto* e = std::get_if<common::Error>(&declared)) co_return problem(*e, ctx, req);
    app::MemoryChunks file(req.body());
    const std::string actor = std::get<app::Principal>(auth).client_name;
    const auto format = std::get<std::optional<bank::BankFormat>>(declared);
    auto result = co_await d_.bank.import(file, actor, format);
    if (!result) co_return problem(result.error(), ctx, req);
    Json body = file_json(result->file);
    body["duplicate"] = result->duplicate_file;
    auto res = json_response(result->duplicate_file ? bhttp::status::ok : bhttp::status::created,
                             body.dump(), req.version());
    res.set(bhttp::field::location, "/v1/bank/imports/" + result->file.id);
    co_return res;
  }

  asio::awaitable<Response> files(const Request& req, RequestContext& ctx) {
    auto auth = co_await finance(req, ctx);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto files = co_await d_.bank.store().files(kMaxLimit);
    if (!files) co_return problem(files.error(), ctx, req);
    Json items = Json::array();
    for (const auto& f : *files)
      items.push_back(file_json(f));
    co_return json_response(bhttp::status::ok, Json{{"items", std::move(items)}}.dump(),
                            req.version());
  }

  asio::awaitable<Response> payments(const Request& req, RequestContext& ctx) {
    auto auth = co_await finance(req, ctx);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    std::vector<common::FieldError> errors;
    const auto status = query_value(req.target(), "status");
    if (!status.empty() && std::find(std::begin(kPaymentStatuses), std::end(kPaymentStatuses),
                                     status) == std::end(kPaymentStatuses)) {
      errors.push_back({"/status", "must be matched, partial, overpaid, reversed or unmatched"});
    }
    const auto before_text = query_value(req.target(), "before");
    const auto before =
        before_text.empty() ? std::optional<std::int64_t>(0) : parse_int(before_text);
    if (!before || *before < 0) errors.push_back({"/before", "must be a payment id"});
    const auto limit_text = query_value(req.target(), "limit");
    const auto limit =
        limit_text.empty() ? std::optional<std::int64_t>(100) : parse_int(limit_text);
    if (!limit || *limit < 1 || *limit > kMaxLimit) {
      errors.push_back({"/limit", "must be an integer from 1 to " + std::to_string(kMaxLimit)});
    }
    if (!errors.empty()) co_return problem(invalid(std::move(errors)), ctx, req);
    auto page = co_await d_.bank.store().payments(status, *before, static_cast<int>(*limit));
    if (!page) co_return problem(page.error(), ctx, req);
    Json items = Json::array();
    for (const auto& p : *page)
      items.push_back(payment_json(p));
    const bool more = static_cast<std::int64_t>(page->size()) == *limit;
    Json body = {{"items", std::move(items)},
                 {"next_before", more ? Json(page->back().id) : Json(nullptr)}};
    co_return json_response(bhttp::status::ok, body.dump(), req.version());
  }

  asio::awaitable<Response> match(const Request& req, RequestContext& ctx) {
    auto auth = co_await finance(req, ctx);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    const auto id = parse_int(ctx.params.find("payment_id")->second);
    if (!id) {
      co_return problem(common::make_error(common::ErrorCode::not_found, "no such bank payment"),
                        ctx, req);
    }
    auto body = object_body(req);
    if (auto* e = std::get_if<common::Error>(&body)) co_return problem(*e, ctx, req);
    std::vector<common::FieldError> errors;
    auto invoice_id = text_member(std::get<Json>(body), "invoice_id", true, 64, errors);
    if (!errors.empty()) co_return problem(invalid(std::move(errors)), ctx, req);
    const std::string actor = std::get<app::Principal>(auth).client_name;
    auto matched = co_await d_.bank.match(*id, std::move(invoice_id), actor);
    if (!matched) co_return problem(matched.error(), ctx, req);
    co_return json_response(bhttp::status::ok, payment_json(*matched).dump(), req.version());
  }

 private:
  Response problem(const common::Error& error, const RequestContext& ctx, const Request& req) {
    return logged_problem(d_.log, "bank.request_failed", error, ctx, req.version());
  }

  BankRouteDeps d_;
};

}  // namespace

void register_bank_routes(Router& router, BankRouteDeps deps) {
  auto h = std::make_shared<BankHandlers>(deps);
  auto bind = [h](auto method) -> Handler {
    return
        [h, method](const Request& req, RequestContext& ctx) { return ((*h).*method)(req, ctx); };
  };
  router.add(bhttp::verb::post, "/v1/bank/imports", bind(&BankHandlers::import));
  router.add(bhttp::verb::get, "/v1/bank/imports", bind(&BankHandlers::files));
  router.add(bhttp::verb::get, "/v1/bank/payments", bind(&BankHandlers::payments));
  router.add(bhttp::verb::post, "/v1/bank/payments/{payment_id}/match", bind(&BankHandlers::match));
}

}  // namespace visitpay::http
