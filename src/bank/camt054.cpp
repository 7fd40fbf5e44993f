#include "bank/camt054.hpp"

#include <expat.h>

#include <chrono>
#include <cstring>

namespace visitpay::bank {

using common::Ok;
using common::Result;

namespace {

constexpr std::string_view kNamespacePrefix = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.";
constexpr std::string_view kNotification = "Document/BkToCstmrDbtCdtNtfctn/Ntfctn";
constexpr std::string_view kEntry = "Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry";
constexpr std::string_view kTransaction =
    "Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry/NtryDtls/TxDtls";
constexpr std::size_t kMaxKid = 25;

struct Amount {
  std::string text;
  std::string currency;
  std::size_t line = 0;
};

struct Transaction {
  std::size_t line = 0;
  std::optional<Amount> amount;
  std::string credit_debit;  // v08 has it per transaction
  std::string account_servicer_ref, end_to_end_id, reference, payer_account;
};

struct Entry {
  std::size_t line = 0;
  std::optional<Amount> amount, batch_total;
  std::string credit_debit, reversal, status, booking_date, value_date, account_servicer_ref;
  std::string batch_count;
  std::vector<Transaction> transactions;
};

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// "1500.00" -> 150000 øre. ISO allows more decimals; any beyond øre must be zero.
std::optional<Ore> parse_amount(std::string_view s) {
  const auto dot = s.find('.');
  const auto whole = s.substr(0, dot);
  auto fraction = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (!all_digits(whole) || whole.size() > 15) return std::nullopt;
  if (dot != std::string_view::npos && !all_digits(fraction)) return std::nullopt;
  if (fraction.size() > 2 && fraction.substr(2).find_first_not_of('0') != std::string_view::npos) {
    return std::nullopt;
  }
  Ore ore = 0;
  for (char c : whole)
    ore = ore * 10 + (c - '0');
  for (std::size_t i = 0; i < 2; ++i)
    ore = ore * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  return ore;
}

// An ISODate, or the date of an ISODateTime.
std::optional<std::string> parse_date(std::string_view s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  const auto y = s.substr(0, 4), m = s.substr(5, 2), d = s.substr(8, 2);
  if (!all_digits(y) || !all_digits(m) || !all_digits(d)) return std::nullopt;
  const std::chrono::year_month_day ymd{
      std::chrono::year{std::stoi(std::string(y))},
      std::chrono::month{static_cast<unsigned>(std::stoi(std::string(m)))},
      std::chrono::day{static_cast<unsigned>(std::stoi(std::string(d)))}};
  if (!ymd.ok() || (s.size() > 10 && s[10] != 'T')) return std::nullopt;
  return std::string(s.substr(0, 10));
}

// Our account: a BBAN, or a Norwegian IBAN's last 11 digits (NOkk + BBAN).
std::string account_number(std::string_view id) {
  if (id.size() == 15 && id.starts_with("NO")) return std::string(id.substr(4));
  return std::string(id);
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

}  // namespace

struct Camt054Parser::State {
  XML_Parser parser = nullptr;
  std::string path;  // local names from the root, '/'-separated
  std::string text;
  std::string attr_currency;
  std::optional<common::Error> error;
  bool root_seen = false;
  std::string account;
  Entry entry;
  std::vector<BankPayment>* out = nullptr;
  FileSummary summary;

  std::size_t line() const { return XML_GetCurrentLineNumber(parser); }

  void fail(common::Error e) {
    if (!error) error = std::move(e);
    XML_StopParser(parser, XML_FALSE);
  }
  void fail(std::string_view element, std::string detail) {
    fail(file_error(line(), element, std::move(detail)));
  }

  void start(std::string_view name, const XML_Char** attrs);
  void end();
  void on_leaf(std::string_view p, std::string value);
  void on_entry_leaf(std::string_view rel, std::string value);
  void on_transaction_leaf(std::string_view rel, std::string value);
  Result<void> entry_done();
  Result<Ore> checked_amount(const std::optional<Amount>& amount, std::string_view element);
  Result<void> emit(const Transaction& tx, Ore amount, std::size_t index);
};

void Camt054Parser::State::start(std::string_view name, const XML_Char** attrs) {
  const auto sep = name.find('|');
  const auto ns = sep == std::string_view::npos ? std::string_view{} : name.substr(0, sep);
  const auto local = sep == std::string_view::npos ? name : name.substr(sep + 1);
  if (!root_seen) {
    root_seen = true;
    const auto version = ns.substr(std::min(ns.size(), kNamespacePrefix.size()));
    if (local != "Document" || !ns.starts_with(kNamespacePrefix) || !all_digits(version) ||
        version < "02" || version > "08") {
      return fail("Document", "the root must be Document in the namespace " +
                                  std::string(kNamespacePrefix) + "02 to .08");
    }
  }
  if (!path.empty()) path += '/';
  path += local;
  text.clear();
  attr_currency.clear();
  for (auto a = attrs; *a != nullptr; a += 2) {
    if (std::strcmp(a[0], "Ccy") == 0) attr_currency = a[1];
  }
  if (path == kEntry) {
    entry = Entry{};
    entry.line = line();
  }
  if (path == kTransaction) {
    entry.transactions.emplace_back();
    entry.transactions.back().line = line();
  }
}

void Camt054Parser::State::end() {
  if (path == kEntry) {
    if (auto done = entry_done(); !done) fail(std::move(done).error());
  } else {
    on_leaf(path, trim(text));
  }
  text.clear();
  const auto slash = path.rfind('/');
  path.resize(slash == std::string::npos ? 0 : slash);
}

void Camt054Parser::State::on_leaf(std::string_view p, std::string value) {
  if (value.empty()) return;  // a parent's whitespace, or an empty element: as if absent
  if (p == "Document/BkToCstmrDbtCdtNtfctn/GrpHdr/MsgId") {
    summary.file_key = std::move(value);
  } else if (p.starts_with(kNotification) && p.size() > kNotification.size()) {
    const auto rel = p.substr(kNotification.size() + 1);
    if (rel == "Acct/Id/IBAN" || rel == "Acct/Id/Othr/Id") {
      account = account_number(value);
    } else if (rel.starts_with("Ntry/NtryDtls/TxDtls/")) {
      on_transaction_leaf(rel.substr(std::strlen("Ntry/NtryDtls/TxDtls/")), std::move(value));
    } else if (rel.starts_with("Ntry/")) {
      on_entry_leaf(rel.substr(5), std::move(value));
    }
  }
}

void Camt054Parser::State::on_entry_leaf(std::string_view rel, std::string value) {
  auto& e = entry;
  if (rel == "Amt") {
    e.amount = Amount{std::move(value), attr_currency, line()};
  } else if (rel == "CdtDbtInd") {
    e.credit_debit = std::move(value);
  } else if (rel == "RvslInd") {
    e.reversal = std::move(value);
  } else if (rel == "Sts" || rel == "Sts/Cd") {
    e.status = std::move(value);
  } else if (rel == "BookgDt/Dt" || rel == "BookgDt/DtTm") {
    e.booking_date = std::move(value);
  } else if (rel == "ValDt/Dt" || rel == "ValDt/DtTm") {
    e.value_date = std::move(value);
  } else if (rel == "AcctSvcrRef") {
    e.account_servicer_ref = std::move(value);
  } else if (rel == "NtryDtls/Btch/NbOfTxs") {
    e.batch_count = std::move(value);
  } else if (rel == "NtryDtls/Btch/TtlAmt") {
    e.batch_total = Amount{std::move(value), attr_currency, line()};
  }
}

void Camt054Parser::State::on_transaction_leaf(std::string_view rel, std::string value) {
  if (entry.transactions.empty()) return;
  auto& t = entry.transactions.back();
  if (rel == "AmtDtls/TxAmt/Amt" || (rel == "Amt" && !t.amount)) {
    t.amount = Amount{std::move(value), attr_currency, line()};
  } else if (rel == "CdtDbtInd") {
    t.credit_debit = std::move(value);
  } else if (rel == "Refs/AcctSvcrRef") {
    t.account_servicer_ref = std::move(value);
  } else if (rel == "Refs/EndToEndId") {
    if (value != "NOTPROVIDED") t.end_to_end_id = std::move(value);
  } else if (rel == "RmtInf/Strd/CdtrRefInf/Ref") {
    t.reference = std::move(value);
  } else if (rel == "RltdPties/DbtrAcct/Id/IBAN" || rel == "RltdPties/DbtrAcct/Id/Othr/Id") {
    t.payer_account = std::move(value);
  }
}

Result<Ore> Camt054Parser::State::checked_amount(const std::optional<Amount>& amount,
                                                 std::string_view element) {
  if (!amount) return file_error(line(), element, "is missing");
  if (amount->currency != "NOK") {
    return file_error(amount->line, element,
                      "currency must be NOK (Ccy=\"" + amount->currency.substr(0, 3) + "\")");
  }
  auto ore = parse_amount(amount->text);
  if (!ore) {
    return file_error(amount->line, element,
                      "must be an amount in kroner with at most two decimals, e.g. 1500.00");
  }
  return *ore;
}

Result<void> Camt054Parser::State::entry_done() {
  auto& e = entry;
  auto total = checked_amount(e.amount, "Ntry/Amt");
  if (!total) return std::move(total).error();
  if (e.credit_debit != "CRDT" && e.credit_debit != "DBIT") {
    return file_error(line(), "Ntry/CdtDbtInd", "must be CRDT or DBIT");
  }
  if (e.status.empty()) return file_error(line(), "Ntry/Sts", "is missing");
  const auto booked = parse_date(e.booking_date);
  if (!booked) return file_error(line(), "Ntry/BookgDt/Dt", "must be a date YYYY-MM-DD");
  if (!e.value_date.empty() && !parse_date(e.value_date)) {
    return file_error(line(), "Ntry/ValDt/Dt", "must be a date YYYY-MM-DD");
  }
  if (e.status != "BOOK") {  // pending or information only: not money on the account yet
    summary.skipped += 1;
    return Ok{};
  }
  if (e.transactions.empty()) {
    e.transactions.emplace_back();
    e.transactions.back().line = e.line;
  }
  if (e.transactions.size() == 1 && !e.transactions[0].amount) e.transactions[0].amount = e.amount;
  Ore sum = 0;
  for (std::size_t i = 0; i < e.transactions.size(); ++i) {
    auto amount =
        checked_amount(e.transactions[i].amount, "Ntry/NtryDtls/TxDtls/AmtDtls/TxAmt/Amt");
    if (!amount) return std::move(amount).error();
    sum += *amount;
    if (auto ok = emit(e.transactions[i], *amount, i); !ok) return ok;
  }
  if (sum != *total) {
    return file_error(line(), "Ntry/Amt",
                      "the entry's transactions add up to " + std::to_string(sum) +
                          " øre, the entry says " + std::to_string(*total) + " øre");
  }
  if (!e.batch_count.empty() && e.batch_count != std::to_string(e.transactions.size())) {
    return file_error(line(), "Ntry/NtryDtls/Btch/NbOfTxs",
                      "says " + e.batch_count + " transactions, the entry has " +
                          std::to_string(e.transactions.size()));
  }
  if (e.batch_total) {
    auto batch = checked_amount(e.batch_total, "Ntry/NtryDtls/Btch/TtlAmt");
    if (!batch) return std::move(batch).error();
    if (*batch != sum) {
      return file_error(line(), "Ntry/NtryDtls/Btch/TtlAmt",
                        "says " + std::to_string(*batch) + " øre, the transactions add up to " +
                            std::to_string(sum) + " øre");
    }
  }
  return Ok{};
}

Result<void> Camt054Parser::State::emit(const Transaction& tx, Ore amount, std::size_t index) {
  const auto& e = entry;
  BankPayment p;
  p.line = tx.line;
  if (!tx.account_servicer_ref.empty()) {
    p.source_ref = "camt/" + tx.account_servicer_ref;
  } else if (!e.account_servicer_ref.empty()) {
    p.source_ref = "camt/" + e.account_servicer_ref + "/" +
                   (tx.end_to_end_id.empty() ? std::to_string(index) : tx.end_to_end_id);
  } else {
    return file_error(tx.line, "Ntry/NtryDtls/TxDtls/Refs/AcctSvcrRef",
                      "is missing, and so is Ntry/AcctSvcrRef: the payment could not be "
                      "recognised when the file comes again");
  }
  p.bank_reference = !tx.account_servicer_ref.empty() ? tx.account_servicer_ref
                     : !tx.end_to_end_id.empty()      ? tx.end_to_end_id
                                                      : e.account_servicer_ref;
  const auto ref = tx.reference;
  const auto digits =
      ref.ends_with('-') ? std::string_view(ref).substr(0, ref.size() - 1) : std::string_view(ref);
  if (all_digits(digits) && ref.size() <= kMaxKid) p.kid = ref;  // else an RF or free reference
  const auto direction = tx.credit_debit.empty() ? e.credit_debit : tx.credit_debit;
  const bool back = (direction == "DBIT") != (e.reversal == "true");
  p.amount = back ? -amount : amount;
  p.booking_date = *parse_date(e.booking_date);
  if (!e.value_date.empty()) p.value_date = *parse_date(e.value_date);
  p.creditor_account = account;
  p.payer_account = tx.payer_account;
  summary.payments += 1;
  summary.total += amount;
  out->push_back(std::move(p));
  return Ok{};
}

namespace {

void on_start(void* data, const XML_Char* name, const XML_Char** attrs) {
  auto* s = static_cast<Camt054Parser::State*>(data);
  s->start(name, attrs);
}

void on_end(void* data, const XML_Char* /*name*/) {
  static_cast<Camt054Parser::State*>(data)->end();
}

void on_text(void* data, const XML_Char* text, int len) {
  auto* s = static_cast<Camt054Parser::State*>(data);
  constexpr std::size_t kMaxText = 4096;  // no element we read is longer
  if (s->text.size() < kMaxText) s->text.append(text, static_cast<std::size_t>(len));
}

// No DTDs: bank files have none, and entities are how XML bombs and external reads start.
void on_doctype(void* data, const XML_Char* /*name*/, const XML_Char* /*sysid*/,
                const XML_Char* /*pubid*/, int /*has_internal_subset*/) {
  auto* s = static_cast<Camt054Parser::State*>(data);
  s->fail("DOCTYPE", "a document type declaration is not allowed");
}

}  // namespace

Camt054Parser::Camt054Parser() : state_(std::make_unique<State>()) {
  state_->parser = XML_ParserCreateNS(nullptr, '|');
  XML_SetUserData(state_->parser, state_.get());
  XML_SetElementHandler(state_->parser, on_start, on_end);
  XML_SetCharacterDataHandler(state_->parser, on_text);
  XML_SetStartDoctypeDeclHandler(state_->parser, on_doctype);
  state_->summary.format = BankFormat::camt054;
}

Camt054Parser::~Camt054Parser() {
  XML_ParserFree(state_->parser);
}

Result<void> Camt054Parser::parse(std::string_view chunk, bool final,
                                  std::vector<BankPayment>& out) {
  auto& s = *state_;
  if (s.error) return *s.error;
  s.out = &out;
  const auto status = XML_Parse(s.parser, chunk.data(), static_cast<int>(chunk.size()),
                                final ? XML_TRUE : XML_FALSE);
  if (s.error) return *s.error;
  if (status != XML_STATUS_OK) {
    s.error = file_error(s.line(), "xml", XML_ErrorString(XML_GetErrorCode(s.parser)));
    return *s.error;
  }
  return Ok{};
}

Result<void> Camt054Parser::feed(std::string_view chunk, std::vector<BankPayment>& out) {
  constexpr std::size_t kPiece = std::size_t{1} << 20;  // expat takes an int length
  while (chunk.size() > kPiece) {
    if (auto ok = parse(chunk.substr(0, kPiece), false, out); !ok) return ok;
    chunk.remove_prefix(kPiece);
  }
  return parse(chunk, false, out);
}

Result<FileSummary> Camt054Parser::finish(std::vector<BankPayment>& out) {
  if (auto ok = parse({}, true, out); !ok) return std::move(ok).error();
  if (state_->summary.file_key.empty()) {
    return file_error(state_->line(), "GrpHdr/MsgId", "is missing");
  }
  return state_->summary;
}

}  // namespace visitpay::bank
