#include "http/privacy_routes.hpp"

#include <nlohmann/json.hpp>

#include "app/delivered_files.hpp"
#include "common/time_format.hpp"
#include "http/authorize.hpp"
#include "http/json_body.hpp"
#include "http/problem.hpp"

namespace visitpay::http {

using Json = nlohmann::json;

namespace {

constexpr std::size_t kMaxNationalId = 32;

Json oslo_time(const std::optional<domain::Timestamp>& t) {
  return t ? Json(common::format_rfc3339_oslo(*t)) : Json(nullptr);
}

Json optional_text(const std::optional<std::string>& s) {
  return s ? Json(*s) : Json(nullptr);
}

// One class of personal data: its fields while held, else when it was purged.
Json class_json(const app::ClassReport& c, Json fields) {
  if (c.held) {
    fields["status"] = "held";
    return fields;
  }
  if (c.purged_at) return {{"status", "purged"}, {"purged_at", oslo_time(c.purged_at)}};
  return {{"status", "absent"}};
}

// The visit's lines: what each was for while held, else that it was deleted (with the retained
// class; the class says when).
Json lines_json(const std::vector<app::VisitLineReport>& lines) {
  Json out = Json::array();
  for (const auto& l : lines) {
    Json line = {{"line_no", l.line_no}, {"amount_ore", l.amount}};
    if (l.description) {
      line["description"] = {{"status", "held"}, {"text", *l.description}};
    } else {
      line["description"] = {{"status", "deleted"}};
    }
    out.push_back(std::move(line));
  }
  return out;
}

Json access_json(const std::vector<app::SubjectSessionReport>& reports) {
  Json sessions = Json::array();
  for (const auto& r : reports) {
    const auto& s = r.session;
    Json invoices = Json::array();
    for (const auto& i : s.invoices) {
      invoices.push_back({{"id", i.id},
                          {"kind", i.kind},
                          {"number", i.number},
                          {"status", i.status},
                          {"issue_date", optional_text(i.issue_date)}});
    }
    Json purges = Json::array();
    for (const auto& p : s.purges) {
      purges.push_back(
          {{"classes", p.classes}, {"rule", p.rule}, {"by", p.actor}, {"at", oslo_time(p.at)}});
    }
    Json address = nullptr;
    if (r.payer.address) {
      address = {{"street", r.payer.address->street},
                 {"postal_code", r.payer.address->postal_code},
                 {"city", r.payer.address->city},
                 {"country", r.payer.address->country}};
    }
    sessions.push_back(
        {{"session_id", s.id},
         {"clinic_id", s.clinic_id},
         {"state", s.state},
         {"amount_ore", s.amount},
         {"created_at", oslo_time(s.created_at)},
         {"lines", lines_json(r.lines)},
         {"invoices", std::move(invoices)},
         {"personal_data",
          {{"transient",
            class_json(r.transient, {{"national_id", optional_text(r.payer.national_id)},
                                     {"phone", optional_text(r.payer.phone)},
                                     {"payment_url", optional_text(r.payer.payment_url)}})},
           {"retained", class_json(r.retained, {{"name", optional_text(r.payer.name)},
                                                {"address", std::move(address)},
                                                {"email", optional_text(r.payer.email)}})}}},
         {"purges", std::move(purges)}});
  }
  return {{"count", reports.size()}, {"sessions", std::move(sessions)}};
}

Json erasure_json(const std::vector<app::ErasureReport>& reports) {
  Json sessions = Json::array();
  for (const auto& r : reports) {
    Json kept = Json::array();
    for (const auto& k : r.kept) {
      kept.push_back({{"class", k.key_class},
                      {"fields", k.fields},
                      {"rule", k.rule},
                      {"legal_basis", k.legal_basis},
                      {"until", optional_text(k.until)}});
    }
    sessions.push_back({{"session_id", r.session_id},
                        {"state", r.state},
                        {"destroyed", r.destroyed},
                        {"kept", std::move(kept)}});
  }
  return {{"count", reports.size()}, {"sessions", std::move(sessions)}};
}

class PrivacyHandlers {
 public:
  explicit PrivacyHandlers(PrivacyRouteDeps deps) : d_(std::move(deps)) {}

  asio::awaitable<Response> access(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::privacy);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto national_id = parse(req);
    if (auto* e = std::get_if<common::Error>(&national_id)) co_return problem(*e, ctx, req);
    auto found = co_await d_.privacy.access(std::get<std::string>(national_id),
                                            std::get<app::Principal>(auth));
    if (!found) co_return problem(found.error(), ctx, req);
    co_return private_response(access_json(*found), req);
  }

  asio::awaitable<Response> erasure(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::privacy);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto national_id = parse(req);
    if (auto* e = std::get_if<common::Error>(&national_id)) co_return problem(*e, ctx, req);
    auto erased = co_await d_.privacy.erase(std::get<std::string>(national_id),
                                            std::get<app::Principal>(auth));
    if (!erased) co_return problem(erased.error(), ctx, req);
    co_return private_response(erasure_json(*erased), req);
  }

  // GET /v1/privacy/check: what `visitpay privacy check` reports, for the DPO's page.
  asio::awaitable<Response> check(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::privacy);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto counts = co_await d_.privacy.check();
    if (!counts) co_return problem(counts.error(), ctx, req);
    Json rules = Json::array();
    std::int64_t total = 0;
    for (const auto& c : *counts) {
      rules.push_back({{"rule", c.rule}, {"sessions", c.sessions}});
      total += c.sessions;
    }
    Json folders = Json::array();
    for (const auto& folder : d_.delivery_folders) {
      const auto held =
          co_await app::sweep_folder_on(d_.blocking, folder, d_.delivered_files_retention, false);
      folders.push_back(
          {{"folder", folder}, {"past_retention", held.past_retention}, {"files", held.files}});
      total += held.past_retention;
    }
    co_return private_response(Json{{"ok", total == 0},
                                    {"rules", std::move(rules)},
                                    {"delivered_files", std::move(folders)}},
                               req);
  }

 private:
  // {"national_id": "..."}: the number, or the problem naming the field (never echoing it).
  std::variant<std::string, common::Error> parse(const Request& req) const {
    auto body = object_body(req);
    if (auto* e = std::get_if<common::Error>(&body)) return std::move(*e);
    std::vector<common::FieldError> errors;
    auto national_id =
        text_member(std::get<Json>(body), "national_id", true, kMaxNationalId, errors);
    if (!errors.empty()) return invalid(std::move(errors));
    if (auto valid = d_.privacy.validate(national_id); !valid) return valid.error();
    return national_id;
  }

  static Response private_response(const Json& body, const Request& req) {
    auto res = json_response(bhttp::status::ok, body.dump(), req.version());
    res.set(bhttp::field::cache_control, "no-store");
    return res;
  }

  Response problem(const common::Error& error, const RequestContext& ctx, const Request& req) {
    return logged_problem(d_.log, "privacy.request_failed", error, ctx, req.version());
  }

  PrivacyRouteDeps d_;
};

}  // namespace

void register_privacy_routes(Router& router, PrivacyRouteDeps deps) {
  auto h = std::make_shared<PrivacyHandlers>(std::move(deps));
  router.add(bhttp::verb::post, "/v1/privacy/access",
             [h](const Request& req, RequestContext& ctx) { return h->access(req, ctx); });
  router.add(bhttp::verb::get, "/v1/privacy/check",
             [h](const Request& req, RequestContext& ctx) { return h->check(req, ctx); });
  router.add(bhttp::verb::post, "/v1/privacy/erasure",
             [h](const Request& req, RequestContext& ctx) { return h->erasure(req, ctx); });
}

}  // namespace visitpay::http
