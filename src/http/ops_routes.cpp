#include "http/ops_routes.hpp"

#include <nlohmann/json.hpp>

#include "common/time_format.hpp"
#include "http/authorize.hpp"
#include "http/problem.hpp"
#include "http/query.hpp"

namespace visitpay::http {

using Json = nlohmann::json;
using common::ErrorCode;
using common::make_error;

namespace {

constexpr int kOverdueShown = 500;
constexpr int kDefaultOverviewDays = 30;
constexpr int kMaxOverviewDays = 366;

common::Timestamp oslo_midnight(std::chrono::year_month_day ymd) {
  return common::from_oslo_local(static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                                 static_cast<unsigned>(ymd.day()), 0, 0);
}

// The period of the overview: Oslo days `from` to `to` inclusive (default the last 30 days).
std::optional<std::pair<common::Timestamp, common::Timestamp>> period(
    const std::map<std::string, std::string, std::less<>>& params, common::Timestamp now,
    std::vector<common::FieldError>& errors) {
  using std::chrono::days;
  using std::chrono::sys_days;
  const auto today = parse_iso_date(common::format_oslo_iso_date(now)).value();
  auto to = std::chrono::year_month_day{sys_days(today)};
  auto from = std::chrono::year_month_day{sys_days(today) - days(kDefaultOverviewDays - 1)};
  for (const auto* key : {"from", "to"}) {
    auto it = params.find(key);
    if (it == params.end() || it->second.empty()) continue;
    auto date = parse_iso_date(it->second);
    if (!date) {
      errors.push_back({std::string("/") + key, "must be a date YYYY-MM-DD"});
      continue;
    }
    (std::string_view(key) == "from" ? from : to) = *date;
  }
  const auto span = (sys_days(to) - sys_days(from)).count();
  if (errors.empty() && (span < 0 || span >= kMaxOverviewDays)) {
    errors.push_back({"/to", "must be on or after from, at most 366 days later"});
  }
  if (!errors.empty()) return std::nullopt;
  return std::make_pair(oslo_midnight(from),
                        oslo_midnight(std::chrono::year_month_day{sys_days(to) + days(1)}));
}

class OpsHandlers {
 public:
  explicit OpsHandlers(OpsRouteDeps deps) : d_(deps) {}

  asio::awaitable<Response> overdue(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::ops);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto found =
        co_await d_.lifecycle.overdue(d_.config.lifecycle.bounds, d_.clock.now(), kOverdueShown);
    if (!found) co_return problem(found.error(), ctx, req);
    const auto& principal = std::get<app::Principal>(auth);
    Json items = Json::array();
    for (const auto& s : *found) {
      if (!principal.may_act_for_clinic(s.clinic_id)) continue;
      items.push_back({{"session_id", s.session_id},
                       {"state", domain::to_string(s.state)},
                       {"since", common::format_rfc3339_utc(s.since)},
                       {"clinic_id", s.clinic_id},
                       {"link_error", s.link_error ? Json(*s.link_error) : Json(nullptr)}});
    }
    const bool more = found->size() == static_cast<std::size_t>(kOverdueShown);
    co_return json_response(
        bhttp::status::ok, Json{{"items", std::move(items)}, {"more", more}}.dump(), req.version());
  }

  asio::awaitable<Response> provider_errors(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::ops);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    const auto since = d_.clock.now() - std::chrono::hours(24);
    auto kinds = co_await d_.outbox.errors_since(since);
    if (!kinds) co_return problem(kinds.error(), ctx, req);
    Json items = Json::array();
    for (const auto& k : *kinds) {
      items.push_back({{"kind", k.kind},
                       {"failing", k.failing},
                       {"dead", k.dead},
                       {"attempts", k.attempts},
                       {"last_error", k.last_error ? Json(*k.last_error) : Json(nullptr)}});
    }
    co_return json_response(
        bhttp::status::ok,
        Json{{"since", common::format_rfc3339_utc(since)}, {"items", std::move(items)}}.dump(),
        req.version());
  }

  asio::awaitable<Response> overview(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::invoices_review, app::scope::ops);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    const auto& principal = std::get<app::Principal>(auth);
    const auto params = query_params(req.target());
    std::vector<common::FieldError> errors;
    auto span = period(params, d_.clock.now(), errors);
    if (!span) {
      auto e = make_error(ErrorCode::validation_failed, "the period is invalid");
      e.fields = std::move(errors);
      co_return problem(e, ctx, req);
    }
    store::OverviewFilter filter{span->first, span->second, {}, principal.clinic_ids};
    if (auto it = params.find("clinic_id"); it != params.end()) filter.clinic_id = it->second;
    auto o = co_await d_.overview.overview(filter);
    if (!o) co_return problem(o.error(), ctx, req);
    co_return json_response(bhttp::status::ok, overview_json(*o, *span).dump(), req.version());
  }

 private:
  static Json overview_json(const store::Overview& o,
                            const std::pair<common::Timestamp, common::Timestamp>& span) {
    Json days = Json::array();
    for (const auto& d : o.days)
      days.push_back({{"day", d.day}, {"checkouts", d.checkouts}, {"paid", d.paid}});
    const auto paid = o.paid_card + o.paid_vipps + o.paid_other;
    return {
        {"from", common::format_rfc3339_utc(span.first)},
        {"to", common::format_rfc3339_utc(span.second)},
        {"checkouts", o.checkouts},
        {"paid", {{"card", o.paid_card}, {"vipps", o.paid_vipps}, {"other", o.paid_other}}},
        {"invoiced", {{"with_fee", o.invoiced_with_fee}, {"without_fee", o.invoiced_without_fee}}},
        {"cancelled", o.cancelled},
        {"open", o.open},
        // per mille of check-outs paid by link: an integer, so no rounding surprises
        {"conversion_permille", o.checkouts == 0 ? 0 : paid * 1000 / o.checkouts},
        {"median_seconds_to_pay",
         o.median_seconds_to_pay ? Json(*o.median_seconds_to_pay) : Json(nullptr)},
        {"open_amount_ore", o.open_amount_ore},
        {"currency", "NOK"},
        {"days", std::move(days)}};
  }

  Response problem(const common::Error& error, const RequestContext& ctx, const Request& req) {
    return logged_problem(d_.log, "ops.request_failed", error, ctx, req.version());
  }

  OpsRouteDeps d_;
};

}  // namespace

void register_ops_routes(Router& router, OpsRouteDeps deps) {
  auto h = std::make_shared<OpsHandlers>(deps);
  router.add(bhttp::verb::get, "/v1/ops/overdue-sessions",
             [h](const Request& req, RequestContext& ctx) { return h->overdue(req, ctx); });
  router.add(bhttp::verb::get, "/v1/ops/provider-errors",
             [h](const Request& req, RequestContext& ctx) { return h->provider_errors(req, ctx); });
  router.add(bhttp::verb::get, "/v1/overview",
             [h](const Request& req, RequestContext& ctx) { return h->overview(req, ctx); });
}

}  // namespace visitpay::http
