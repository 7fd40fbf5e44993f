#include "domain/checkout.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

#include "domain/email_address.hpp"
#include "domain/national_id.hpp"
#include "domain/phone_number.hpp"

namespace visitpay::domain {
namespace {

using common::FieldError;

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool valid_clinic_id(std::string_view id) {
  if (id.empty() || id.size() > 64 || id.front() == '-') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool valid_visit_id(std::string_view id) {
  if (id.empty() || id.size() > 64 || !is_ascii_alnum(id.front())) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return is_ascii_alnum(c) || c == '.' || c == '_' || c == ':' || c == '/' || c == '-';
  });
}

bool has_control_characters(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' '; });
}

class Checker {
 public:
  explicit Checker(std::vector<FieldError>& errors) : errors_(errors) {}

  void fail(std::string pointer, std::string detail) {
    errors_.push_back({std::move(pointer), std::move(detail)});
  }

  // Required free text: not blank, no control characters, at most max characters.
  void text(const std::string& pointer, std::string_view value, std::size_t max) {
    if (is_blank(value)) {
      fail(pointer, "must not be empty");
    } else if (has_control_characters(value)) {
      fail(pointer, "must not contain control characters");
    } else if (utf8_length(value) > max) {
      fail(pointer, "must be at most " + std::to_string(max) + " characters");
    }
  }

 private:
  std::vector<FieldError>& errors_;
};

}  // namespace

std::size_t utf8_length(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

Ore CheckoutRequest::amount() const {
  return std::accumulate(lines.begin(), lines.end(), Ore{0},
                         [](Ore sum, const CheckoutLine& l) { return sum + l.amount; });
}

Ore CheckoutRequest::vat_amount() const {
  return std::accumulate(lines.begin(), lines.end(), Ore{0},
                         [](Ore sum, const CheckoutLine& l) { return sum + l.vat_amount; });
}

void validate_checkout(const CheckoutRequest& r, const CheckoutRules& rules,
                       const std::function<bool(std::string_view)>& clinic_exists, Timestamp now,
                       std::vector<FieldError>& errors) {
  Checker check(errors);

  if (!valid_clinic_id(r.clinic_id)) {
    check.fail("/clinic_id", "must be 1-64 characters of a-z, 0-9 and '-'");
  } else if (!clinic_exists(r.clinic_id)) {
    check.fail("/clinic_id", "is not a clinic configured in this service");
  }
  if (!valid_visit_id(r.visit_id)) {
    check.fail("/visit_id", "must be 1-64 characters of A-Z, a-z, 0-9 and . _ : / -");
  }
  if (r.checked_out_at > now + rules.max_future_skew) {
    check.fail("/checked_out_at", "must not be in the future");
  }
  if (r.currency != "NOK") check.fail("/currency", "must be \"NOK\"");

  if (r.lines.empty()) {
    check.fail("/lines", "must hold at least one line");
  } else if (r.lines.size() > rules.max_lines) {
    check.fail("/lines", "must hold at most " + std::to_string(rules.max_lines) + " lines");
  }
  bool lines_ok = true;
  for (std::size_t i = 0; i < r.lines.size() && i < rules.max_lines; ++i) {
    const auto& line = r.lines[i];
    const std::string base = "/lines/" + std::to_string(i);
    const std::size_t before = errors.size();
    check.text(base + "/description", line.description, rules.max_description_length);
    if (line.amount <= 0) {
      check.fail(base + "/amount", "must be a positive integer number of øre");
    } else if (line.amount > rules.max_line_amount) {
      check.fail(base + "/amount",
                 "must be at most " + std::to_string(rules.max_line_amount) + " øre");
    }
    if (line.vat_amount < 0) {
      check.fail(base + "/vat_amount", "must be zero or a positive integer number of øre");
    } else if (line.vat_amount > line.amount && line.amount > 0) {
      check.fail(base + "/vat_amount", "must not exceed the line amount");
    }
    lines_ok = lines_ok && errors.size() == before;
  }
  // Only a list that passed every check has a meaningful (and overflow-free) sum.
  const bool list_ok = !r.lines.empty() && r.lines.size() <= rules.max_lines && lines_ok;
  if (r.total_amount && list_ok && *r.total_amount != r.amount()) {
    check.fail("/total_amount",
               "must equal the sum of the line amounts (" + std::to_string(r.amount()) + " øre)");
  }

  if (r.fee_terms) {
    if (r.fee_terms->accepted_at > r.checked_out_at) {
      check.fail("/fee_terms/accepted_at",
                 "must not be after checked_out_at (accepted before the visit)");
    }
    check.text("/fee_terms/version", r.fee_terms->version, 40);
  }

  check.text("/payer/name", r.payer.name, 200);
  if (r.payer.national_id) {
    const auto verdict =
        check_national_id(*r.payer.national_id, rules.allow_synthetic_national_ids, oslo_date(now));
    if (!verdict.valid) check.fail("/payer/national_id", std::string(verdict.reason));
  }
  if (r.payer.phone) {
    const auto verdict = check_norwegian_mobile(*r.payer.phone);
    if (!verdict.valid) check.fail("/payer/phone", std::string(verdict.reason));
  }
  if (r.payer.email) {
    const auto verdict = check_email_address(*r.payer.email);
    if (!verdict.valid) check.fail("/payer/email", std::string(verdict.reason));
  }
  const auto& a = r.payer.address;
  check.text("/payer/address/street", a.street, 200);
  const bool postal_ok =
      a.postal_code.size() == 4 && std::all_of(a.postal_code.begin(), a.postal_code.end(),
                                               [](char c) { return c >= '0' && c <= '9'; });
  if (!postal_ok) check.fail("/payer/address/postal_code", "must be 4 digits");
  check.text("/payer/address/city", a.city, 100);
  if (a.country != "NO") check.fail("/payer/address/country", "must be \"NO\"");
}

std::string canonical_form(const CheckoutRequest& r) {
  std::string out;
  auto put = [&out](std::string_view field) {
    out += std::to_string(field.size());
    out += ':';
    out += field;
    out += ';';
  };
  auto put_optional = [&](const std::optional<std::string>& field) {
    if (field) {
      put(*field);
    } else {
      out += "-;";
    }
  };
  put(r.clinic_id);
  put(r.visit_id);
  put(std::to_string(r.checked_out_at.time_since_epoch().count()));
  put(r.currency);
  put(std::to_string(r.lines.size()));
  for (const auto& l : r.lines) {
    put(l.description);
    put(std::to_string(l.amount));
    put(std::to_string(l.vat_amount));
  }
  put(r.total_amount ? std::to_string(*r.total_amount) : std::string("-"));
  put(r.payer.name);
  put_optional(r.payer.national_id);
  put_optional(r.payer.phone);
  put(r.payer.address.street);
  put(r.payer.address.postal_code);
  put(r.payer.address.city);
  put(r.payer.address.country);
  // Appended only when present, so a request from before fee terms and e-mail keeps its
  // fingerprint.
  if (r.fee_terms) {
    put("fee_terms");
    put(std::to_string(r.fee_terms->accepted_at.time_since_epoch().count()));
    put(r.fee_terms->version);
  }
  if (r.payer.email) {
    put("email");
    put(*r.payer.email);
  }
  return out;
}

SessionView new_session_view(std::string id, const CheckoutRequest& request, Timestamp now) {
  SessionView v;
  v.id = std::move(id);
  v.clinic_id = request.clinic_id;
  v.visit_id = request.visit_id;
  v.has_phone = request.payer.phone.has_value();
  const auto start = start_of(v.has_phone);
  v.state = start.state;
  if (start.reason) v.invoice_reason = to_string(*start.reason);
  v.currency = request.currency;
  v.amount = request.amount();
  v.vat_amount = request.vat_amount();
  v.checked_out_at = request.checked_out_at;
  for (const auto& line : request.lines)
    v.lines.push_back({line.description, line.amount, line.vat_amount});
  v.fee_terms = request.fee_terms;
  v.created_at = now;
  v.updated_at = now;
  return v;
}

}  // namespace visitpay::domain
