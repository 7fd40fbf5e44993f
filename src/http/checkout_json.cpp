#include "http/checkout_json.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "common/log.hpp"
#include "common/time_format.hpp"
#include "http/json_body.hpp"

namespace visitpay::http {

using common::FieldError;
using Json = nlohmann::json;

namespace {

// Reads one JSON object: required/optional members with a type each; unknown members reported.
class ObjectShape {
 public:
  ObjectShape(const Json& obj, std::string pointer, std::vector<FieldError>& errors,
              std::initializer_list<std::string_view> allowed)
      : obj_(obj), pointer_(std::move(pointer)), errors_(errors) {
    if (!obj_.is_object()) {
      fail(pointer_, "must be an object");
      return;
    }
    for (const auto& [key, value] : obj_.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string member = pointer_;
        append_pointer_token(member, key);
        fail(member, "is not a known field");
      }
    }
  }

  bool valid() const { return obj_.is_object(); }

  const Json* member(std::string_view key, bool required) {
    if (!valid()) return nullptr;
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) {
      if (required) fail(path(key), "is required");
      return nullptr;
    }
    return &*it;
  }

  // True when the member was present and a string.
  bool string(std::string_view key, std::string& out, bool required = true) {
    if (const Json* v = member(key, required)) {
      if (v->is_string()) {
        out = v->get<std::string>();
        return true;
      }
      fail(path(key), "must be a string");
    }
    return false;
  }

  void optional_string(std::string_view key, std::optional<std::string>& out) {
    if (const Json* v = member(key, false)) {
      if (v->is_string()) {
        out = v->get<std::string>();
      } else {
        fail(path(key), "must be a string");
      }
    }
  }

  // Integer øre; a fractional or out-of-range number is not a money amount.
  bool amount(std::string_view key, domain::Ore& out, bool required = true) {
    const Json* v = member(key, required);
    if (!v) return false;
    if (v->is_number_integer() &&
        (v->is_number_unsigned()
             ? v->get<std::uint64_t>() <=
                   static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
             : true)) {
      out = v->get<std::int64_t>();
      return true;
    }
    fail(path(key), "must be an integer number of øre");
    return false;
  }

  // An RFC 3339 date-time with a UTC offset; true when present and valid.
  bool time(std::string_view key, domain::Timestamp& out) {
    std::string text;
    if (!string(key, text)) return false;
    if (auto t = common::parse_rfc3339(text)) {
      out = *t;
      return true;
    }
    fail(path(key), "must be an RFC 3339 date-time with a UTC offset");
    return false;
  }

  std::string path(std::string_view key) const { return pointer_ + "/" + std::string(key); }
  void fail(std::string pointer, std::string detail) {
    errors_.push_back({std::move(pointer), std::move(detail)});
  }

 private:
  const Json& obj_;
  std::string pointer_;
  std::vector<FieldError>& errors_;
};

const std::initializer_list<std::string_view> kTopLevel = {
    "clinic_id", "visit_id",     "checked_out_at", "currency",
    "lines",     "total_amount", "fee_terms",      "payer"};

}  // namespace

std::vector<std::string> checkout_fields() {
  return {kTopLevel.begin(), kTopLevel.end()};
}

ParsedCheckout parse_checkout(const Json& body) {
  ParsedCheckout out;
  auto& r = out.request;
  auto& errors = out.errors;
  ObjectShape top(body, "", errors, kTopLevel);
  if (!top.valid()) return out;

  top.string("clinic_id", r.clinic_id);
  top.string("visit_id", r.visit_id);
  top.time("checked_out_at", r.checked_out_at);
  top.string("currency", r.currency);
  domain::Ore total = 0;
  if (top.amount("total_amount", total, false)) r.total_amount = total;

  if (const Json* lines = top.member("lines", true)) {
    if (!lines->is_array()) {
      top.fail("/lines", "must be an array");
    } else {
      for (std::size_t i = 0; i < lines->size(); ++i) {
        ObjectShape line((*lines)[i], "/lines/" + std::to_string(i), errors,
                         {"description", "amount", "vat_amount"});
        domain::CheckoutLine l;
        line.string("description", l.description);
        line.amount("amount", l.amount);
        line.amount("vat_amount", l.vat_amount);
        r.lines.push_back(std::move(l));
      }
    }
  }

  if (const Json* terms = top.member("fee_terms", false)) {
    ObjectShape t(*terms, "/fee_terms", errors, {"accepted_at", "version"});
    domain::FeeTerms f;
    t.time("accepted_at", f.accepted_at);
    t.string("version", f.version);
    r.fee_terms = std::move(f);
  }

  if (const Json* payer = top.member("payer", true)) {
    ObjectShape p(*payer, "/payer", errors, {"name", "national_id", "phone", "email", "address"});
    p.string("name", r.payer.name);
    p.optional_string("national_id", r.payer.national_id);
    p.optional_string("phone", r.payer.phone);
    p.optional_string("email", r.payer.email);
    if (const Json* address = p.member("address", true)) {
      ObjectShape a(*address, "/payer/address", errors,
                    {"street", "postal_code", "city", "country"});
      a.string("street", r.payer.address.street);
      a.string("postal_code", r.payer.address.postal_code);
      a.string("city", r.payer.address.city);
      a.string("country", r.payer.address.country);
    }
  }
  return out;
}

void merge_field_errors(std::vector<FieldError>& into, std::vector<FieldError> more) {
  std::set<std::string> seen;
  for (const auto& e : into)
    seen.insert(e.pointer);
  for (auto& e : more) {
    // A field reported by the parser (or a parent of it) already explains the problem.
    const bool covered = std::any_of(seen.begin(), seen.end(), [&e](const std::string& p) {
      return e.pointer == p || (e.pointer.rfind(p + "/", 0) == 0);
    });
    if (!covered) {
      seen.insert(e.pointer);
      into.push_back(std::move(e));
    }
  }
}

namespace {

// Appends a JSON object member by member: every check-out is answered with a session, and
// writing it straight into the text costs a fraction of building an nlohmann document and
// dumping it. Names are the schema's; values are escaped as the log's are.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;
  ~ObjectWriter() { out_ += '}'; }

  ObjectWriter& text(std::string_view name, std::string_view value) {
    common::append_json_string(member(name), value);
    return *this;
  }
  ObjectWriter& integer(std::string_view name, std::int64_t value) {
    member(name) += std::to_string(value);
    return *this;
  }
  ObjectWriter& boolean(std::string_view name, bool value) {
    member(name) += value ? "true" : "false";
    return *this;
  }
  ObjectWriter& time(std::string_view name, const domain::Timestamp& value) {
    return text(name, common::format_rfc3339_utc(value));
  }
  ObjectWriter& time(std::string_view name, const std::optional<domain::Timestamp>& value) {
    return value ? time(name, *value) : *this;
  }
  // The member's name and colon; the caller writes its value (an object or an array).
  std::string& member(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    common::append_json_string(out_, name);
    out_ += ':';
    return out_;
  }

 private:
  std::string& out_;
  bool first_ = true;
};

void write_session(std::string& out, const domain::SessionView& s) {
  ObjectWriter o(out);
  o.text("session_id", s.id)
      .text("clinic_id", s.clinic_id)
      .text("visit_id", s.visit_id)
      .text("state", domain::to_string(s.state))
      .text("currency", s.currency)
      .integer("amount", s.amount)
      .integer("vat_amount", s.vat_amount)
      .time("checked_out_at", s.checked_out_at);
  o.member("lines") += '[';
  for (std::size_t i = 0; i < s.lines.size(); ++i) {
    if (i > 0) out += ',';
    const auto& l = s.lines[i];
    ObjectWriter(out)
        .text("description", domain::shown_description(l.description))
        .integer("amount", l.amount)
        .integer("vat_amount", l.vat_amount);
  }
  out += ']';
  o.boolean("has_phone", s.has_phone)
      .time("created_at", s.created_at)
      .time("updated_at", s.updated_at)
      .time("deadline_at", s.deadline_at);
  if (s.fee_terms) {
    ObjectWriter(o.member("fee_terms"))
        .time("accepted_at", s.fee_terms->accepted_at)
        .text("version", s.fee_terms->version);
  }
  if (s.fee_disclosed) o.integer("invoice_fee_disclosed", *s.fee_disclosed);
  if (!s.invoice_reason.empty()) o.text("invoice_reason", s.invoice_reason);
  if (s.link_error) o.text("link_error", *s.link_error);
  o.time("paid_at", s.paid_at).time("cancelled_at", s.cancelled_at);
  if (!s.payment_status.empty()) {
    ObjectWriter payment(o.member("payment"));
    payment.text("status", s.payment_status);
    if (!s.payment_instrument.empty()) payment.text("instrument", s.payment_instrument);
  }
  if (!s.invoice_id.empty()) {
    ObjectWriter invoice(o.member("invoice"));
    invoice.text("id", s.invoice_id);
    if (s.invoice_number) {
      invoice.integer("number", *s.invoice_number);
    } else {
      invoice.member("number") += "null";
    }
    invoice.text("status", s.invoice_status);
  }
}

}  // namespace

std::string session_json(const domain::SessionView& s) {
  std::string out;
  out.reserve(512);
  write_session(out, s);  // its writer closes the object when it returns
  return out;
}

}  // namespace visitpay::http
