#include "app/bank_import.hpp"

#include <algorithm>

#include "bank/camt054.hpp"
#include "bank/ocr_giro.hpp"
#include "bank/sha256_stream.hpp"
#include "common/crypto.hpp"
#include "common/uuid.hpp"

namespace visitpay::app {

using common::ErrorCode;
using common::make_error;
using common::Result;

namespace {

// Payments per COPY into the staging table: large enough to amortise a round trip, small enough to
// bound memory.
constexpr std::size_t kBatch = 5000;

Result<std::string> digest(FileChunks& file) {
  bank::Sha256Stream sha;
  std::size_t size = 0;
  while (true) {
    auto chunk = file.next();
    if (!chunk) return std::move(chunk).error();
    if (chunk->empty()) break;
    size += chunk->size();
    sha.update(*chunk);
  }
  if (size == 0) return bank::file_error(1, "file", "the file is empty");
  const auto d = sha.finish();
  return common::to_hex(d);
}

// Parses the file, staging its payments in batches as they come; its summary once read whole.
asio::awaitable<Result<bank::FileSummary>> stage_file(store::PgTransaction& tx, FileChunks& file,
                                                      bank::BankFileParser& parser) {
  std::vector<bank::BankPayment> batch;
  while (true) {
    auto chunk = file.next();
    if (!chunk) co_return std::move(chunk).error();
    if (chunk->empty()) break;
    auto fed = parser.feed(*chunk, batch);
    if (!fed) co_return std::move(fed).error();
    if (batch.size() < kBatch) continue;
    auto staged = co_await store::BankStore::stage_payments(tx, batch);
    if (!staged) co_return std::move(staged).error();
    batch.clear();
  }
  auto summary = parser.finish(batch);
  if (!summary) co_return std::move(summary).error();
  auto staged = co_await store::BankStore::stage_payments(tx, batch);
  if (!staged) co_return std::move(staged).error();
  co_return std::move(summary).value();
}

}  // namespace

std::vector<bank::KidRule> kid_rules(const config::Config& config) {
  std::vector<bank::KidRule> rules;
  for (const auto& clinic : config.clinics) {
    const bank::KidRule r{clinic.legal_entity.kid_algorithm, clinic.legal_entity.kid_length};
    const auto same = [&r](const bank::KidRule& o) {
      return o.algorithm == r.algorithm && o.length == r.length;
    };
    if (std::none_of(rules.begin(), rules.end(), same)) rules.push_back(r);
  }
  return rules;
}

BankReconciliation::BankReconciliation(store::PgPool& pool, std::vector<bank::KidRule> kid_rules,
                                       const ports::Clock& clock, common::Logger& log,
                                       common::Metrics& metrics)
    : pool_(pool),
      store_(pool),
      kid_rules_(std::move(kid_rules)),
      clock_(clock),
      log_(log),
      metrics_(metrics) {
  metrics_.describe("visitpay_bank_payments_total", common::Metrics::Type::counter,
                    "Bank payments imported, by outcome (matched, partial, overpaid, reversed, "
                    "unmatched, duplicate)");
}

asio::awaitable<Result<BankImportResult>> BankReconciliation::import(
    FileChunks& file, std::string actor, std::optional<bank::BankFormat> declared) {
  auto sha = digest(file);
  if (!sha) co_return std::move(sha).error();
  file.rewind();
  auto head = file.next();
  if (!head) co_return std::move(head).error();
  auto format = bank::detect_format(*head);
  if (!format) co_return std::move(format).error();
  if (declared && *declared != *format) {
    co_return bank::file_error(1, "file",
                               "the content is " + std::string(bank::to_string(*format)) +
                                   ", not the declared " + std::string(bank::to_string(*declared)));
  }
  file.rewind();
  const auto now = clock_.now();
  store::NewBankFile f{common::new_uuid_v7(now), *sha, std::string(bank::to_string(*format)),
                       std::move(actor), now};
  auto result = co_await import_new(file, f, *format);
  if (!result) {
    log_.warn("bank.import_refused", {{"sha256", f.sha256}, {"error", result.error().detail}});
    co_return result;
  }
  if (result->duplicate_file) {
    auto earlier = co_await store_.file(f.sha256);
    if (!earlier) co_return std::move(earlier).error();
    if (earlier->has_value()) result->file = std::move(**earlier);
    log_.info("bank.import_duplicate", {{"sha256", f.sha256}, {"file_id", result->file.id}});
    co_return result;
  }
  count(result->file.counts);
  log_.info("bank.imported", {{"file_id", result->file.id},
                              {"format", result->file.format},
                              {"payments", static_cast<long long>(result->file.payments)},
                              {"actor", result->file.imported_by}});
  co_return result;
}

asio::awaitable<Result<BankImportResult>> BankReconciliation::import_new(FileChunks& file,
                                                                         store::NewBankFile f,
                                                                         bank::BankFormat format) {
  auto tx = co_await store::PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  auto fresh = co_await store::BankStore::start_file(*tx, f);
  if (!fresh) co_return std::move(fresh).error();
  if (!*fresh) {
    auto ended = co_await tx->rollback();
    if (!ended) co_return std::move(ended).error();
    co_return BankImportResult{true, {}};
  }
  auto staging = co_await store::BankStore::open_staging(*tx);
  if (!staging) co_return std::move(staging).error();
  std::unique_ptr<bank::BankFileParser> parser;
  if (format == bank::BankFormat::ocr_giro) {
    parser = std::make_unique<bank::OcrGiroParser>(kid_rules_);
  } else {
    parser = std::make_unique<bank::Camt054Parser>();
  }
  auto summary = co_await stage_file(*tx, file, *parser);
  // A parse error returns with the transaction open: dropping it rolls everything back.
  if (!summary) co_return std::move(summary).error();
  auto counts = co_await store::BankStore::match_file(*tx, f.id, f.actor, f.now);
  if (!counts) co_return std::move(counts).error();
  const auto added =
      counts->matched + counts->partial + counts->overpaid + counts->reversed + counts->unmatched;
  counts->duplicates = summary->payments - added;
  counts->skipped = summary->skipped;
  auto finished = co_await store::BankStore::finish_file(*tx, f.id, *summary, *counts);
  if (!finished) co_return std::move(finished).error();
  auto committed = co_await tx->commit();
  if (!committed) co_return std::move(committed).error();
  BankImportResult out;
  out.file = {f.id,   f.sha256, f.format,          summary->file_key,
              f.now,  f.actor,  summary->payments, summary->total,
              *counts};
  co_return out;
}

void BankReconciliation::count(const store::ImportCounts& c) {
  const std::pair<const char*, std::int64_t> outcomes[] = {
      {"matched", c.matched},   {"partial", c.partial},     {"overpaid", c.overpaid},
      {"reversed", c.reversed}, {"unmatched", c.unmatched}, {"duplicate", c.duplicates}};
  for (const auto& [name, n] : outcomes) {
    if (n > 0) {
      metrics_.add("visitpay_bank_payments_total", common::Metrics::label("outcome", name),
                   static_cast<double>(n));
    }
  }
}

asio::awaitable<Result<store::BankPaymentRecord>> BankReconciliation::match(std::int64_t payment_id,
                                                                            std::string invoice_id,
                                                                            std::string actor) {
  auto uuid = common::normalize_uuid(invoice_id);
  if (!uuid) {
    auto e = make_error(ErrorCode::validation_failed, "invoice_id is not an invoice id");
    e.fields.push_back({"/invoice_id", "must be an invoice id (UUID)"});
    co_return e;
  }
  auto refused = co_await store_.match_manually(payment_id, *uuid, actor, clock_.now());
  if (!refused) co_return std::move(refused).error();
  switch (*refused) {
    case store::ManualRefusal::none:
      break;
    case store::ManualRefusal::no_payment:
      co_return make_error(ErrorCode::not_found, "no such bank payment");
    case store::ManualRefusal::not_unmatched:
      co_return make_error(ErrorCode::invalid_state,
                           "the payment is already matched; only queued payments can be matched");
    case store::ManualRefusal::no_invoice: {
      auto e = make_error(ErrorCode::validation_failed, "no such invoice");
      e.fields.push_back({"/invoice_id", "no invoice with this id"});
      co_return e;
    }
    case store::ManualRefusal::invoice_not_payable:
      co_return make_error(ErrorCode::invalid_state,
                           "the invoice is not issued, partially paid or paid");
  }
  log_.info("bank.matched_manually", {{"payment_id", static_cast<long long>(payment_id)},
                                      {"invoice_id", *uuid},
                                      {"actor", actor}});
  metrics_.add("visitpay_bank_payments_total", common::Metrics::label("outcome", "manual_match"));
  auto record = co_await store_.payment(payment_id);
  if (!record) co_return std::move(record).error();
  if (!record->has_value()) co_return make_error(ErrorCode::not_found, "no such bank payment");
  co_return std::move(**record);
}

}  // namespace visitpay::app
