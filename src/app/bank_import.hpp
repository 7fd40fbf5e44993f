#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bank/bank_payment.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/result.hpp"
#include "config/config.hpp"
#include "ports/clock.hpp"
#include "store/bank_store.hpp"

namespace visitpay::app {

namespace asio = boost::asio;

// A bank file read in pieces, twice: once for its digest, once to import it.
class FileChunks {
 public:
  virtual ~FileChunks() = default;
  virtual common::Result<std::string_view> next() = 0;  // empty at the end
  virtual void rewind() = 0;
};

// A file already in memory (an API request's body), handed out in 1 MiB pieces so the parsed
// payments are written in batches as they come and the I/O thread is yielded between them.
class MemoryChunks final : public FileChunks {
 public:
  explicit MemoryChunks(std::string_view data) : data_(data) {}
  common::Result<std::string_view> next() override {
    constexpr std::size_t kPiece = std::size_t{1} << 20;
    auto out = data_.substr(at_, kPiece);
    at_ += out.size();
    return out;
  }
  void rewind() override { at_ = 0; }

 private:
  std::string_view data_;
  std::size_t at_ = 0;
};

struct BankImportResult {
  bool duplicate_file = false;  // imported before: nothing changed
  store::BankFileRecord file;
};

// The KID rules of every legal entity's bank agreement in the configuration.
std::vector<bank::KidRule> kid_rules(const config::Config& config);

// Bank reconciliation: imports OCR giro and camt.054 files (streamed, all or nothing, the same
// file or payment twice is a no-op), and lets finance work the manual queue.
class BankReconciliation {
 public:
  BankReconciliation(store::PgPool& pool, std::vector<bank::KidRule> kid_rules,
                     const ports::Clock& clock, common::Logger& log, common::Metrics& metrics);

  asio::awaitable<common::Result<BankImportResult>> import(
      FileChunks& file, std::string actor, std::optional<bank::BankFormat> declared = {});

  store::BankStore& store() { return store_; }
  asio::awaitable<common::Result<store::BankPaymentRecord>> match(std::int64_t payment_id,
                                                                  std::string invoice_id,
                                                                  std::string actor);

 private:
  asio::awaitable<common::Result<BankImportResult>> import_new(FileChunks& file,
                                                               store::NewBankFile f,
                                                               bank::BankFormat format);
  void count(const store::ImportCounts& counts);

  store::PgPool& pool_;
  store::BankStore store_;
  std::vector<bank::KidRule> kid_rules_;
  const ports::Clock& clock_;
  common::Logger& log_;
  common::Metrics& metrics_;
};

}  // namespace visitpay::app
