#include "bank/ocr_giro.hpp"

#include <algorithm>
#include <chrono>

namespace visitpay::bank {

using common::Ok;
using common::Result;

namespace {

constexpr std::size_t kRecordLength = 80;

// A numeric field: its positions and its name in errors.
struct NumericField {
  std::size_t from;
  std::size_t to;
  const char* name;
};

// Positions are the spec's: 1-based, inclusive.
std::string_view field(std::string_view record, std::size_t from, std::size_t to) {
  return record.substr(from - 1, to - from + 1);
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string positions(std::size_t from, std::size_t to) {
  return "positions " + std::to_string(from) + "-" + std::to_string(to);
}

// A numeric field: digits only (the spec zero-fills them).
Result<std::int64_t> number(std::size_t line, std::string_view record, std::size_t from,
                            std::size_t to, std::string_view name) {
  const auto text = field(record, from, to);
  if (!all_digits(text)) return file_error(line, name, positions(from, to) + " must be digits");
  std::int64_t value = 0;
  for (char c : text)
    value = value * 10 + (c - '0');
  return value;
}

// DDMMYY -> YYYY-MM-DD; years 00-68 are 20xx as in netsgiro (Python's strptime pivot).
Result<std::string> date(std::size_t line, std::string_view record, std::size_t from,
                         std::string_view name) {
  const auto text = field(record, from, from + 5);
  const auto bad = [&] {
    return file_error(line, name, positions(from, from + 5) + " must be a date DDMMYY");
  };
  if (!all_digits(text)) return bad();
  const int dd = (text[0] - '0') * 10 + (text[1] - '0');
  const int mm = (text[2] - '0') * 10 + (text[3] - '0');
  const int yy = (text[4] - '0') * 10 + (text[5] - '0');
  const int year = yy <= 68 ? 2000 + yy : 1900 + yy;
  const std::chrono::year_month_day ymd{std::chrono::year{year},
                                        std::chrono::month{static_cast<unsigned>(mm)},
                                        std::chrono::day{static_cast<unsigned>(dd)}};
  if (!ymd.ok()) return bad();
  std::string out = std::to_string(year) + "-";
  out += text.substr(2, 2);
  out += "-";
  out += text.substr(0, 2);
  return out;
}

Result<void> expect_text(std::size_t line, std::string_view record, std::size_t from,
                         std::size_t to, std::string_view want, std::string_view name) {
  if (field(record, from, to) != want) {
    return file_error(line, name, positions(from, to) + " must be " + std::string(want));
  }
  return Ok{};
}

std::string_view record_name(std::string_view type) {
  if (type == "10") return "transmission start (10)";
  if (type == "20") return "assignment start (20)";
  if (type == "30") return "amount item 1 (30)";
  if (type == "31") return "amount item 2 (31)";
  if (type == "32") return "amount item 3 (32)";
  if (type == "88") return "assignment end (88)";
  return "transmission end (89)";
}

bool is_transaction_type(std::string_view t) {
  return all_digits(t) && t >= "10" && t <= "21";
}

}  // namespace

Result<void> OcrGiroParser::feed(std::string_view chunk, std::vector<BankPayment>& out) {
  while (!chunk.empty()) {
    const auto nl = chunk.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(chunk);
      if (partial_.size() > 4 * kRecordLength) {
        return file_error(line_ + 1, "record", "a line longer than 80 characters");
      }
      return Ok{};
    }
    std::string_view text = chunk.substr(0, nl);
    chunk.remove_prefix(nl + 1);
    if (!partial_.empty()) {
      partial_.append(text);
      text = partial_;
    }
    auto done = record(text, out);
    partial_.clear();
    if (!done) return done;
  }
  return Ok{};
}

Result<FileSummary> OcrGiroParser::finish(std::vector<BankPayment>& out) {
  if (!partial_.empty()) {
    const std::string last = std::move(partial_);
    partial_.clear();
    auto done = record(last, out);
    if (!done) return std::move(done).error();
  }
  if (expect_ != Expect::done) {
    return file_error(line_ + 1, "record", "the file ends before its transmission end record (89)");
  }
  return summary_;
}

Result<void> OcrGiroParser::record(std::string_view text, std::vector<BankPayment>& out) {
  ++line_;
  if (text.ends_with('\r')) text.remove_suffix(1);
  if (text.empty() && expect_ == Expect::done) return Ok{};  // a trailing blank line
  if (expect_ == Expect::done) {
    return file_error(line_, "record", "nothing may follow the transmission end record (89)");
  }
  if (text.size() != kRecordLength) {
    return file_error(line_, "record",
                      "is " + std::to_string(text.size()) + " characters long, must be 80");
  }
  if (auto ok = expect_text(line_, text, 1, 2, "NY", "format_code"); !ok) return ok;
  const auto type = field(text, 7, 8);
  const std::vector<std::string_view> allowed = [&]() -> std::vector<std::string_view> {
    switch (expect_) {
      case Expect::transmission_start:
        return {"10"};
      case Expect::assignment_or_end:
        return {"20", "89"};
      case Expect::item1_or_end:
        return {"30", "88"};
      case Expect::item2:
        return {"31"};
      case Expect::item3:
        return {"32"};
      case Expect::done:
        break;
    }
    return {};
  }();
  if (std::find(allowed.begin(), allowed.end(), type) == allowed.end()) {
    const bool known = type == "10" || type == "20" || type == "30" || type == "31" ||
                       type == "32" || type == "88" || type == "89";
    std::string wanted;
    for (auto a : allowed)
      wanted += (wanted.empty() ? "" : " or ") + std::string(record_name(a));
    return file_error(line_, "record_type",
                      (known ? "a " + std::string(record_name(type)) + " record is out of order"
                             : "unknown record type " + std::string(type)) +
                          "; expected " + wanted);
  }
  ++transmission_.records;
  if (type != "10" && type != "89") ++assignment_.records;
  if (type == "10") return transmission_start(text);
  if (type == "20") return assignment_start(text);
  if (type == "30") return amount_item1(text);
  if (type == "31") return amount_item2(text, out);
  if (type == "32") return amount_item3(text);
  if (type == "88") return assignment_end(text);
  return transmission_end(text);
}

Result<void> OcrGiroParser::transmission_start(std::string_view r) {
  if (auto ok = expect_text(line_, r, 3, 6, "0000", "service_code"); !ok) return ok;
  for (const auto& f :
       {NumericField{9, 16, "data_transmitter"}, NumericField{17, 23, "transmission_number"},
        NumericField{24, 31, "data_recipient"}}) {
    auto n = number(line_, r, f.from, f.to, f.name);
    if (!n) return std::move(n).error();
  }
  summary_.format = BankFormat::ocr_giro;
  summary_.file_key = std::string(field(r, 9, 16)) + "/" + std::string(field(r, 17, 23)) + "/" +
                      std::string(field(r, 24, 31));
  expect_ = Expect::assignment_or_end;
  return Ok{};
}

Result<void> OcrGiroParser::assignment_start(std::string_view r) {
  const auto service = field(r, 3, 4);
  if (service == "21") {
    return file_error(line_, "service_code",
                      "positions 3-4: AvtaleGiro assignments (21) are not handled by visitpay; "
                      "only OCR giro (09)");
  }
  if (auto ok = expect_text(line_, r, 3, 6, "0900", "service_code"); !ok) return ok;
  auto agreement = number(line_, r, 9, 17, "agreement_id");
  if (!agreement) return std::move(agreement).error();
  auto account = number(line_, r, 25, 35, "assignment_account");
  if (!account) return std::move(account).error();
  agreement_id_ = std::string(field(r, 9, 17));
  assignment_account_ = std::string(field(r, 25, 35));
  assignment_ = Totals{0, 1, 0};  // this start record counts
  expect_ = Expect::item1_or_end;
  return Ok{};
}

Result<void> OcrGiroParser::amount_item1(std::string_view r) {
  if (auto ok = expect_text(line_, r, 3, 4, "09", "service_code"); !ok) return ok;
  transaction_type_ = std::string(field(r, 5, 6));
  if (!is_transaction_type(transaction_type_)) {
    return file_error(line_, "transaction_type", "positions 5-6 must be a type from 10 to 21");
  }
  auto tx = number(line_, r, 9, 15, "transaction_number");
  if (!tx) return std::move(tx).error();
  transaction_number_ = std::string(field(r, 9, 15));
  auto nets_date = date(line_, r, 16, "nets_date");
  if (!nets_date) return std::move(nets_date).error();
  for (const auto& f :
       {NumericField{22, 25, "centre_and_day_code"}, NumericField{26, 31, "settlement_serial"}}) {
    auto n = number(line_, r, f.from, f.to, f.name);
    if (!n) return std::move(n).error();
  }
  const char sign = r[31];
  if (sign != '0' && sign != '-') return file_error(line_, "sign", "position 32 must be 0 or -");
  auto amount = number(line_, r, 33, 49, "amount");
  if (!amount) return std::move(amount).error();
  const auto kid_field = field(r, 50, 74);
  const auto kid_start = kid_field.find_first_not_of(' ');
  const auto kid =
      kid_start == std::string_view::npos ? std::string_view{} : kid_field.substr(kid_start);
  if (kid.find(' ') != std::string_view::npos ||
      (!kid.empty() && !all_digits(kid.ends_with('-') ? kid.substr(0, kid.size() - 1) : kid))) {
    return file_error(line_, "kid", "positions 50-74 must be digits, right-aligned");
  }
  if (!kid.empty() && !kid_allowed(kid, kid_rules_)) {
    return file_error(line_, "kid",
                      "positions 50-74: the check digit or length does not match any KID rule "
                      "of our bank agreements");
  }
  // Reversals (18, 20) and credit notes (sign '-') take money back; the totals add them all.
  const bool reversal = transaction_type_ == "18" || transaction_type_ == "20" || sign == '-';
  pending_ = BankPayment{};
  pending_.kid = std::string(kid);
  pending_.amount = reversal ? -*amount : *amount;
  pending_.booking_date = std::move(*nets_date);
  pending_.creditor_account = assignment_account_;
  pending_.line = line_;
  pending_.source_ref = "ocr/" + agreement_id_ + "/" + std::string(field(r, 16, 31)) + "/" +
                        transaction_number_ + "/" + transaction_type_ + "/" +
                        std::string(field(r, 33, 49)) + "/" + std::string(kid);
  assignment_.transactions += 1;
  assignment_.amount += *amount;
  transmission_.transactions += 1;
  transmission_.amount += *amount;
  expect_ = Expect::item2;
  return Ok{};
}

Result<void> OcrGiroParser::amount_item2(std::string_view r, std::vector<BankPayment>& out) {
  const std::string head = "NY09" + transaction_type_ + "31";
  if (field(r, 1, 8) != head) {
    return file_error(line_, "transaction_type",
                      "positions 1-8 must be " + head + " (the type of its amount item 1)");
  }
  if (field(r, 9, 15) != transaction_number_) {
    return file_error(line_, "transaction_number",
                      "positions 9-15 must repeat the transaction number of its amount item 1");
  }
  const auto archive = field(r, 26, 34);
  if (!all_digits(archive)) {
    return file_error(line_, "archive_reference", "positions 26-34 must be digits");
  }
  if (field(r, 42, 47) != "000000") {
    auto bank_date = date(line_, r, 42, "bank_date");
    if (!bank_date) return std::move(bank_date).error();
    pending_.value_date = std::move(*bank_date);
  }
  auto debit = number(line_, r, 48, 58, "debit_account");
  if (!debit) return std::move(debit).error();
  if (*debit != 0) pending_.payer_account = std::string(field(r, 48, 58));
  pending_.bank_reference = std::string(archive);
  pending_.source_ref += "/" + std::string(archive);
  out.push_back(std::move(pending_));
  summary_.payments += 1;
  summary_.total += out.back().amount < 0 ? -out.back().amount : out.back().amount;
  const bool has_item3 = transaction_type_ == "20" || transaction_type_ == "21";
  expect_ = has_item3 ? Expect::item3 : Expect::item1_or_end;
  return Ok{};
}

Result<void> OcrGiroParser::amount_item3(std::string_view r) {
  // Free text from a payment terminal: not read (it may hold anything the payer typed).
  if (field(r, 9, 15) != transaction_number_) {
    return file_error(line_, "transaction_number",
                      "positions 9-15 must repeat the transaction number of its amount item 1");
  }
  expect_ = Expect::item1_or_end;
  return Ok{};
}

Result<void> OcrGiroParser::check_totals(std::string_view r, const Totals& expected,
                                         std::string_view what) const {
  const std::string_view record = what == "assignment" ? "record 88" : "record 89";
  struct Check {
    NumericField field;
    std::int64_t want;
    const char* unit;
  };
  const Check checks[] = {
      {{9, 16, "number_of_transactions"}, expected.transactions, "transactions"},
      {{17, 24, "number_of_records"}, expected.records, "records"},
      {{25, 41, "total_amount"}, expected.amount, "øre"}};
  for (const auto& c : checks) {
    auto n = number(line_, r, c.field.from, c.field.to, c.field.name);
    if (!n) return std::move(n).error();
    if (*n != c.want) {
      return file_error(line_, c.field.name,
                        std::string(record) + " says " + std::to_string(*n) + " " + c.unit +
                            ", the " + std::string(what) + " has " + std::to_string(c.want));
    }
  }
  return Ok{};
}

Result<void> OcrGiroParser::assignment_end(std::string_view r) {
  if (auto ok = expect_text(line_, r, 3, 6, "0900", "service_code"); !ok) return ok;
  if (auto ok = check_totals(r, assignment_, "assignment"); !ok) return ok;
  expect_ = Expect::assignment_or_end;
  return Ok{};
}

Result<void> OcrGiroParser::transmission_end(std::string_view r) {
  if (auto ok = expect_text(line_, r, 3, 6, "0000", "service_code"); !ok) return ok;
  if (auto ok = check_totals(r, transmission_, "transmission"); !ok) return ok;
  auto nets_date = date(line_, r, 42, "nets_date");
  if (!nets_date) return std::move(nets_date).error();
  expect_ = Expect::done;
  return Ok{};
}

}  // namespace visitpay::bank
