#include "http/checkout_json.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "domain/checkout.hpp"

namespace visitpay::http {
namespace {

using common::FieldError;
using Json = nlohmann::json;

Json valid_body() {
  return Json::parse(R"({
    "clinic_id": "oslo-sentrum",
    "visit_id": "V-2026-000123",
    "checked_out_at": "2026-11-22T14:05:00+01:00",
    "currency": "NOK",
    "lines": [ { "description": "Konsultasjon spesialist", "amount": 65000, "vat_amount": 0 } ],
    "payer": {
      "name": "Kari Nordmann",
      "national_id": "10915596784",
      "phone": "+4741234567",
      "address": { "street": "Storgata 1", "postal_code": "0155", "city": "Oslo", "country": "NO" }
    }
  })");
}

common::Timestamp utc(int y, unsigned mo, unsigned d, int h, int mi) {
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{mo},
                                        std::chrono::day{d}};
  return common::Timestamp{std::chrono::sys_days{ymd}} + std::chrono::hours{h} +
         std::chrono::minutes{mi};
}

std::vector<std::string> pointers(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors)
    out.push_back(e.pointer);
  return out;
}

// The single error reported for `body`, which must be at `pointer`.
std::string only_error_at(const Json& body, const std::string& pointer) {
  const auto parsed = parse_checkout(body);
  EXPECT_EQ(pointers(parsed.errors), std::vector<std::string>{pointer}) << body.dump();
  return parsed.errors.empty() ? std::string() : parsed.errors.front().detail;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ParseCheckout, ValidBodyMapsEveryField) {
  const auto parsed = parse_checkout(valid_body());
  ASSERT_TRUE(parsed.errors.empty()) << parsed.errors.front().pointer;
  const auto& r = parsed.request;
  EXPECT_EQ(r.clinic_id, "oslo-sentrum");
  EXPECT_EQ(r.visit_id, "V-2026-000123");
  EXPECT_EQ(r.checked_out_at, utc(2026, 11, 22, 13, 5));
  EXPECT_EQ(r.currency, "NOK");
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].description, "Konsultasjon spesialist");
  EXPECT_EQ(r.lines[0].amount, 65000);
  EXPECT_EQ(r.lines[0].vat_amount, 0);
  EXPECT_EQ(r.total_amount, std::nullopt);
  EXPECT_EQ(r.payer.name, "Kari Nordmann");
  EXPECT_EQ(r.payer.national_id, "10915596784");
  EXPECT_EQ(r.payer.phone, "+4741234567");
  EXPECT_EQ(r.payer.address.street, "Storgata 1");
  EXPECT_EQ(r.payer.address.postal_code, "0155");
  EXPECT_EQ(r.payer.address.city, "Oslo");
  EXPECT_EQ(r.payer.address.country, "NO");
}

TEST(ParseCheckout, TotalAmountIsReadWhenPresent) {
  auto body = valid_body();
  body["total_amount"] = 65000;
  const auto parsed = parse_checkout(body);
  EXPECT_TRUE(parsed.errors.empty());
  EXPECT_EQ(parsed.request.total_amount, 65000);
}

TEST(ParseCheckout, UnknownFieldsAreReportedAtEveryLevel) {
  auto body = valid_body();
  body["extra"] = 1;
  body["lines"][0]["note"] = "x";
  body["payer"]["mail"] = "kari@example.no";
  body["payer"]["address"]["zip"] = "0155";
  const auto parsed = parse_checkout(body);
  EXPECT_EQ(
      pointers(parsed.errors),
      (std::vector<std::string>{"/extra", "/lines/0/note", "/payer/mail", "/payer/address/zip"}));
  for (const auto& e : parsed.errors)
    EXPECT_EQ(e.detail, "is not a known field") << e.pointer;
  // Known fields are still read, so the client hears about every problem at once.
  EXPECT_EQ(parsed.request.payer.address.city, "Oslo");
}

TEST(ParseCheckout, UnknownFieldInSecondLineNamesThatLine) {
  auto body = valid_body();
  body["lines"].push_back({{"description", "B"}, {"amount", 1}, {"vat_amount", 0}, {"x", 0}});
  EXPECT_EQ(only_error_at(body, "/lines/1/x"), "is not a known field");
}

TEST(ParseCheckout, UnknownFieldNameIsEscapedInThePointer) {
  auto body = valid_body();
  body["payer/name"] = 1;
  body["a~b"] = 1;
  const auto parsed = parse_checkout(body);
  EXPECT_EQ(pointers(parsed.errors), (std::vector<std::string>{"/a~0b", "/payer~1name"}));
}

TEST(ParseCheckout, MissingRequiredFieldsAreReportedWithTheirPointer) {
  const std::vector<std::pair<Json::json_pointer, std::string>> cases = {
      {Json::json_pointer("/clinic_id"), "/clinic_id"},
      {Json::json_pointer("/visit_id"), "/visit_id"},
      {Json::json_pointer("/checked_out_at"), "/checked_out_at"},
      {Json::json_pointer("/currency"), "/currency"},
      {Json::json_pointer("/lines"), "/lines"},
      {Json::json_pointer("/payer"), "/payer"},
      {Json::json_pointer("/lines/0/description"), "/lines/0/description"},
      {Json::json_pointer("/lines/0/amount"), "/lines/0/amount"},
      {Json::json_pointer("/lines/0/vat_amount"), "/lines/0/vat_amount"},
      {Json::json_pointer("/payer/name"), "/payer/name"},
      {Json::json_pointer("/payer/address"), "/payer/address"},
      {Json::json_pointer("/payer/address/street"), "/payer/address/street"},
      {Json::json_pointer("/payer/address/postal_code"), "/payer/address/postal_code"},
      {Json::json_pointer("/payer/address/city"), "/payer/address/city"},
      {Json::json_pointer("/payer/address/country"), "/payer/address/country"},
  };
  for (const auto& [ptr, expected] : cases) {
    auto body = valid_body();
    body[ptr.parent_pointer()].erase(ptr.back());
    SCOPED_TRACE(expected);
    EXPECT_EQ(only_error_at(body, expected), "is required");
  }
}

TEST(ParseCheckout, OptionalFieldsMayBeMissing) {
  auto body = valid_body();
  body["payer"].erase("national_id");
  body["payer"].erase("phone");
  const auto parsed = parse_checkout(body);
  EXPECT_TRUE(parsed.errors.empty());
  EXPECT_EQ(parsed.request.payer.national_id, std::nullopt);
  EXPECT_EQ(parsed.request.payer.phone, std::nullopt);
  EXPECT_EQ(parsed.request.total_amount, std::nullopt);
}

TEST(ParseCheckout, NullOptionalFieldsAreTreatedAsAbsent) {
  auto body = valid_body();
  body["payer"]["national_id"] = nullptr;
  body["payer"]["phone"] = nullptr;
  body["total_amount"] = nullptr;
  const auto parsed = parse_checkout(body);
  EXPECT_TRUE(parsed.errors.empty());
  EXPECT_EQ(parsed.request.payer.national_id, std::nullopt);
  EXPECT_EQ(parsed.request.payer.phone, std::nullopt);
  EXPECT_EQ(parsed.request.total_amount, std::nullopt);
}

TEST(ParseCheckout, NullRequiredFieldIsAnError) {
  auto body = valid_body();
  body["clinic_id"] = nullptr;
  only_error_at(body, "/clinic_id");
  body = valid_body();
  body["payer"] = nullptr;
  only_error_at(body, "/payer");
}

TEST(ParseCheckout, WrongTypesForAmountsAreRejected) {
  for (const Json& bad :
       {Json("65000"), Json(650.5), Json(65000.0), Json(std::numeric_limits<std::uint64_t>::max()),
        Json(std::uint64_t{1} << 63), Json(true), Json::array({1}), Json::object()}) {
    auto body = valid_body();
    body["lines"][0]["amount"] = bad;
    SCOPED_TRACE(bad.dump());
    EXPECT_EQ(only_error_at(body, "/lines/0/amount"), "must be an integer number of øre");

    body = valid_body();
    body["lines"][0]["vat_amount"] = bad;
    only_error_at(body, "/lines/0/vat_amount");

    body = valid_body();
    body["total_amount"] = bad;
    only_error_at(body, "/total_amount");
  }
}

TEST(ParseCheckout, HugeUnsignedAmountFromTextIsRejected) {
  auto body = valid_body();
  body["lines"][0] =
      Json::parse(R"({"description": "x", "amount": 18446744073709551615, "vat_amount": 0})");
  ASSERT_TRUE(body["lines"][0]["amount"].is_number_unsigned());
  only_error_at(body, "/lines/0/amount");
}

TEST(ParseCheckout, LargestSignedAmountIsPassedOnForValidation) {
  // The parser only checks the shape; the domain rejects the size with its own pointer.
  auto body = valid_body();
  body["lines"][0]["amount"] = std::numeric_limits<std::int64_t>::max();
  const auto parsed = parse_checkout(body);
  EXPECT_TRUE(parsed.errors.empty());
  EXPECT_EQ(parsed.request.lines[0].amount, std::numeric_limits<std::int64_t>::max());
  body["lines"][0]["amount"] = -5;
  EXPECT_EQ(parse_checkout(body).request.lines[0].amount, -5);
}

TEST(ParseCheckout, WrongTypesForStringsAreRejected) {
  for (const char* ptr :
       {"/clinic_id", "/visit_id", "/checked_out_at", "/currency", "/lines/0/description",
        "/payer/name", "/payer/national_id", "/payer/phone", "/payer/address/street",
        "/payer/address/postal_code", "/payer/address/city", "/payer/address/country"}) {
    auto body = valid_body();
    body[Json::json_pointer(ptr)] = 155;
    SCOPED_TRACE(ptr);
    EXPECT_EQ(only_error_at(body, ptr), "must be a string");
  }
}

TEST(ParseCheckout, WrongContainerTypesAreRejected) {
  auto body = valid_body();
  body["payer"] = Json::array({"Kari Nordmann"});
  EXPECT_EQ(only_error_at(body, "/payer"), "must be an object");

  body = valid_body();
  body["payer"]["address"] = "Storgata 1, 0155 Oslo";
  EXPECT_EQ(only_error_at(body, "/payer/address"), "must be an object");

  body = valid_body();
  body["lines"] = body["lines"][0];
  EXPECT_EQ(only_error_at(body, "/lines"), "must be an array");

  body = valid_body();
  body["lines"][0] = 65000;
  EXPECT_EQ(only_error_at(body, "/lines/0"), "must be an object");
}

TEST(ParseCheckout, NonObjectBodyIsReportedAtTheRoot) {
  for (const Json& body : {Json::array(), Json("x"), Json(nullptr), Json(1)}) {
    EXPECT_EQ(only_error_at(body, ""), "must be an object") << body.dump();
  }
}

TEST(ParseCheckout, CheckedOutAtWithoutOffsetIsRejected) {
  for (const char* text : {"2026-11-22T14:05:00", "2026-11-22 14:05", "2026-11-22",
                           "22.11.2026 14:05", "2026-02-30T14:05:00Z"}) {
    auto body = valid_body();
    body["checked_out_at"] = text;
    SCOPED_TRACE(text);
    EXPECT_EQ(only_error_at(body, "/checked_out_at"),
              "must be an RFC 3339 date-time with a UTC offset");
  }
}

TEST(ParseCheckout, EmptyCheckedOutAtIsRejected) {
  auto body = valid_body();
  body["checked_out_at"] = "";
  auto parsed = parse_checkout(body);
  std::vector<FieldError> semantic;
  domain::CheckoutRules rules;
  rules.allow_synthetic_national_ids = true;
  domain::validate_checkout(
      parsed.request, rules, [](std::string_view) { return true; }, utc(2026, 11, 23, 0, 0),
      semantic);
  merge_field_errors(parsed.errors, std::move(semantic));
  // Whichever layer catches it, the request must not be accepted.
  EXPECT_EQ(pointers(parsed.errors), std::vector<std::string>{"/checked_out_at"});
}

TEST(ParseCheckout, SameInstantWithDifferentOffsetsHasTheSameCanonicalForm) {
  auto a = valid_body();
  auto b = valid_body();
  b["checked_out_at"] = "2026-11-22T13:05:00Z";
  const auto pa = parse_checkout(a);
  const auto pb = parse_checkout(b);
  ASSERT_TRUE(pa.errors.empty());
  ASSERT_TRUE(pb.errors.empty());
  EXPECT_EQ(domain::canonical_form(pa.request), domain::canonical_form(pb.request));
  b["checked_out_at"] = "2026-11-22T13:05:01Z";
  EXPECT_NE(domain::canonical_form(pa.request), domain::canonical_form(parse_checkout(b).request));
}

TEST(MergeFieldErrors, KeepsSemanticErrorsForOtherFields) {
  std::vector<FieldError> into{{"/payer/phone", "must be a string"}};
  merge_field_errors(into,
                     {{"/currency", "must be \"NOK\""}, {"/payer/name", "must not be empty"}});
  EXPECT_EQ(pointers(into), (std::vector<std::string>{"/payer/phone", "/currency", "/payer/name"}));
}

TEST(MergeFieldErrors, DropsErrorsForPointersTheParserReported) {
  std::vector<FieldError> into{{"/lines/0/description", "is required"}};
  merge_field_errors(into, {{"/lines/0/description", "must not be empty"}});
  ASSERT_EQ(into.size(), 1u);
  EXPECT_EQ(into[0].detail, "is required");
}

TEST(MergeFieldErrors, DropsErrorsForChildrenOfReportedPointers) {
  std::vector<FieldError> into{{"/lines/1", "must be an object"}, {"/payer", "must be an object"}};
  merge_field_errors(into, {{"/lines/1/description", "must not be empty"},
                            {"/lines/1/amount", "must be a positive integer number of øre"},
                            {"/payer/name", "must not be empty"},
                            {"/payer/address/country", "must be \"NO\""}});
  EXPECT_EQ(pointers(into), (std::vector<std::string>{"/lines/1", "/payer"}));
}

TEST(MergeFieldErrors, PrefixWithoutSlashIsNotAParent) {
  std::vector<FieldError> into{{"/lines/1", "must be an object"}, {"/payer", "must be an object"}};
  merge_field_errors(into, {{"/lines/10/amount", "must be a positive integer number of øre"},
                            {"/lines/1x", "x"},
                            {"/payer_x", "x"}});
  EXPECT_EQ(pointers(into), (std::vector<std::string>{"/lines/1", "/payer", "/lines/10/amount",
                                                      "/lines/1x", "/payer_x"}));
}

TEST(MergeFieldErrors, RootErrorCoversEverything) {
  std::vector<FieldError> into{{"", "must be an object"}};
  merge_field_errors(into, {{"/clinic_id", "x"}, {"/lines", "y"}});
  EXPECT_EQ(pointers(into), std::vector<std::string>{""});
}

TEST(MergeFieldErrors, KeepsOnlyTheFirstOfDuplicateNewErrors) {
  std::vector<FieldError> into;
  merge_field_errors(into, {{"/lines", "first"}, {"/lines", "second"}});
  ASSERT_EQ(into.size(), 1u);
  EXPECT_EQ(into[0].detail, "first");
}

TEST(MergeFieldErrors, MissingDescriptionIsNotAlsoReportedAsEmpty) {
  auto body = valid_body();
  body["lines"][0].erase("description");
  body["currency"] = "SEK";
  auto parsed = parse_checkout(body);
  std::vector<FieldError> semantic;
  domain::CheckoutRules rules;
  rules.allow_synthetic_national_ids = true;
  domain::validate_checkout(
      parsed.request, rules, [](std::string_view) { return true; }, utc(2026, 11, 23, 0, 0),
      semantic);
  ASSERT_EQ(pointers(semantic), (std::vector<std::string>{"/currency", "/lines/0/description"}));
  merge_field_errors(parsed.errors, std::move(semantic));
  ASSERT_EQ(pointers(parsed.errors),
            (std::vector<std::string>{"/lines/0/description", "/currency"}));
  EXPECT_EQ(parsed.errors[0].detail, "is required");
}

TEST(SessionJson, HasExactlyTheSessionKeysAndNoPersonalData) {
  domain::SessionView s;
  s.id = "01890a5d-ac96-774b-bcce-b302099a8057";
  s.clinic_id = "oslo-sentrum";
  s.visit_id = "V-2026-000123";
  s.state = domain::SessionState::awaiting_payment;
  s.currency = "NOK";
  s.amount = 66500;
  s.vat_amount = 300;
  s.checked_out_at = utc(2026, 11, 22, 13, 5);
  s.lines = {{"Konsultasjon", 65000, 0}, {"Plaster", 1500, 300}};
  s.has_phone = true;
  s.created_at = utc(2026, 11, 22, 13, 6);
  s.updated_at = utc(2026, 11, 22, 13, 7);

  const Json j = Json::parse(session_json(s));
  std::set<std::string> keys;
  for (const auto& [k, v] : j.items())
    keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"session_id", "clinic_id", "visit_id", "state", "currency",
                                         "amount", "vat_amount", "checked_out_at", "lines",
                                         "has_phone", "created_at", "updated_at"}));
  EXPECT_EQ(j["session_id"], s.id);
  EXPECT_EQ(j["state"], "awaiting_payment");
  EXPECT_TRUE(j["amount"].is_number_integer());
  EXPECT_EQ(j["amount"], 66500);
  EXPECT_EQ(j["vat_amount"], 300);
  EXPECT_EQ(j["has_phone"], true);
  EXPECT_EQ(j["checked_out_at"], "2026-11-22T13:05:00Z");
  EXPECT_EQ(j["created_at"], "2026-11-22T13:06:00Z");
  EXPECT_EQ(j["updated_at"], "2026-11-22T13:07:00Z");
  ASSERT_EQ(j["lines"].size(), 2u);
  EXPECT_EQ(j["lines"][1],
            (Json{{"description", "Plaster"}, {"amount", 1500}, {"vat_amount", 300}}));

  const std::string text = j.dump();
  for (const char* personal : {"payer", "national_id", "\"phone\"", "address", "name"}) {
    EXPECT_EQ(text.find(personal), std::string::npos) << personal;
  }
}

TEST(SessionJson, EveryOptionalMemberWithItsValueAndTextEscaped) {
  domain::SessionView s;
  s.id = "01890a5d-ac96-774b-bcce-b302099a8057";
  s.state = domain::SessionState::invoiced;
  s.lines = {{"Sn\u00f8 \"r\u00f8d\"\\ \n\t\x01", 100, 0}, {std::nullopt, 200, 25}};
  s.deadline_at = utc(2026, 11, 24, 13, 5);
  s.fee_terms = domain::FeeTerms{utc(2026, 11, 22, 12, 40), "2026-01"};
  s.fee_disclosed = 6500;
  s.invoice_reason = "sms_rejected";
  s.link_error = "rejected by the gateway";
  s.paid_at = utc(2026, 11, 25, 8, 0);
  s.cancelled_at = utc(2026, 11, 26, 9, 30);
  s.payment_status = "Aborted";
  s.payment_instrument = "Vipps";
  s.invoice_id = "inv-1";
  s.invoice_status = "draft";

  const Json j = Json::parse(session_json(s));
  EXPECT_EQ(j["state"], "invoiced");
  EXPECT_EQ(j["lines"][0], (Json{{"description", "Sn\u00f8 \"r\u00f8d\"\\ \n\t\x01"},
                                 {"amount", 100},
                                 {"vat_amount", 0}}));
  EXPECT_EQ(j["lines"][1]["description"], domain::shown_description(std::nullopt));
  EXPECT_EQ(j["deadline_at"], "2026-11-24T13:05:00Z");
  EXPECT_EQ(j["fee_terms"],
            (Json{{"accepted_at", "2026-11-22T12:40:00Z"}, {"version", "2026-01"}}));
  EXPECT_EQ(j["invoice_fee_disclosed"], 6500);
  EXPECT_EQ(j["invoice_reason"], "sms_rejected");
  EXPECT_EQ(j["link_error"], "rejected by the gateway");
  EXPECT_EQ(j["paid_at"], "2026-11-25T08:00:00Z");
  EXPECT_EQ(j["cancelled_at"], "2026-11-26T09:30:00Z");
  EXPECT_EQ(j["payment"], (Json{{"status", "Aborted"}, {"instrument", "Vipps"}}));
  EXPECT_EQ(j["invoice"], (Json{{"id", "inv-1"}, {"number", nullptr}, {"status", "draft"}}));
  s.invoice_number = 10042;
  EXPECT_EQ(Json::parse(session_json(s))["invoice"]["number"], 10042);
}

TEST(SessionJson, EmptyLinesIsAnArray) {
  const Json j = Json::parse(session_json(domain::SessionView{}));
  EXPECT_TRUE(j["lines"].is_array());
  EXPECT_EQ(j["state"], "pending");
  EXPECT_EQ(j["has_phone"], false);
}

TEST(CheckoutSchema, TopLevelPropertiesMatchTheParser) {
  const std::string path =
      std::string(VISITPAY_SOURCE_DIR) + "/schemas/checkout_request.schema.json";
  const std::string text = read_file(path);
  ASSERT_FALSE(text.empty()) << path;
  const Json schema = Json::parse(text);
  std::set<std::string> schema_keys;
  for (const auto& [k, v] : schema.at("properties").items())
    schema_keys.insert(k);
  const auto fields = checkout_fields();
  const std::set<std::string> parser_keys(fields.begin(), fields.end());
  EXPECT_EQ(parser_keys.size(), fields.size()) << "duplicate field names";
  EXPECT_EQ(schema_keys, parser_keys);
  // Every required member of the schema must be a known field.
  for (const auto& req : schema.at("required")) {
    EXPECT_TRUE(parser_keys.count(req.get<std::string>())) << req;
  }
}

TEST(CheckoutSchema, FirstExampleParsesAndValidates) {
  const std::string path =
      std::string(VISITPAY_SOURCE_DIR) + "/schemas/checkout_request.schema.json";
  const Json schema = Json::parse(read_file(path));
  ASSERT_TRUE(schema.contains("examples"));
  ASSERT_FALSE(schema["examples"].empty());
  const auto parsed = parse_checkout(schema["examples"][0]);
  EXPECT_TRUE(parsed.errors.empty()) << pointers(parsed.errors).front();
  EXPECT_EQ(parsed.request.clinic_id, "oslo-sentrum");
  EXPECT_EQ(parsed.request.amount(), 65000);

  std::vector<FieldError> semantic;
  domain::CheckoutRules rules;
  rules.allow_synthetic_national_ids = true;  // the example uses a Test-Norge number
  domain::validate_checkout(
      parsed.request, rules, [](std::string_view id) { return id == "oslo-sentrum"; },
      utc(2026, 11, 22, 14, 0), semantic);
  EXPECT_TRUE(semantic.empty()) << (semantic.empty() ? "" : semantic.front().pointer);
}

TEST(ParseCheckout, FeeTermsAreReadAndShapeChecked) {
  auto body = valid_body();
  const auto none = parse_checkout(body);
  EXPECT_TRUE(none.errors.empty());
  EXPECT_FALSE(none.request.fee_terms);

  body["fee_terms"] = {{"accepted_at", "2026-11-22T13:40:00+01:00"}, {"version", "2026-01"}};
  const auto parsed = parse_checkout(body);
  ASSERT_TRUE(parsed.errors.empty());
  ASSERT_TRUE(parsed.request.fee_terms);
  EXPECT_EQ(parsed.request.fee_terms->accepted_at, utc(2026, 11, 22, 12, 40));
  EXPECT_EQ(parsed.request.fee_terms->version, "2026-01");

  body["fee_terms"] = {{"accepted_at", "2026-11-22 13:40"}, {"version", 1}, {"by", "x"}};
  EXPECT_EQ(
      pointers(parse_checkout(body).errors),
      (std::vector<std::string>{"/fee_terms/by", "/fee_terms/accepted_at", "/fee_terms/version"}));
  body["fee_terms"] = Json::object();
  EXPECT_EQ(pointers(parse_checkout(body).errors),
            (std::vector<std::string>{"/fee_terms/accepted_at", "/fee_terms/version"}));
  body["fee_terms"] = "yes";
  EXPECT_EQ(only_error_at(body, "/fee_terms"), "must be an object");
}

}  // namespace
}  // namespace visitpay::http
