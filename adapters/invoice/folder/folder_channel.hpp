// `invoice.folder`: invoices and credit notes as PDF files in a directory, for print-and-post.
//
// Pickup semantics (what the printing side may rely on):
// - A letter is `<directory>/<name>.pdf`, `name` being the delivery's stable name
//   ("<org>-invoice-<number>"). It appears complete or not at all: the bytes are written to a
//   hidden temporary file in the same directory (`.<name>.pdf.tmp-XXXXXX`), fsynced, renamed into
//   place and the directory fsynced, so a file named `*.pdf` is always whole and durable.
//   Pick up only `*.pdf`; ignore dot files (they are writes in progress or left by a crash).
// - Delivering the same name again does not add a letter: if the file is still there with the
//   same bytes nothing is written (no new mtime, no inotify event); with other bytes it is replaced
//   atomically. Once the pickup has moved or deleted a file, a re-delivery writes it again, so the
//   pickup must remember the names it has printed if re-deliveries after pickup are possible (the
//   callers deliver at least once).
// - The letters hold personal data: a directory this channel creates is mode 0700 and every file
//   is 0600. The pickup runs as the same user or is given access by the operator.
// Failures are provider_unavailable (retry later) with the errno text and the file name only;
// an unusable name or an empty PDF is provider_rejected.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <filesystem>
#include <string>

#include "common/result.hpp"
#include "ports/invoice_channel.hpp"

namespace visitpay::adapters::invoice {

class FolderInvoiceChannel final : public ports::InvoiceChannel {
 public:
  // `blocking_executor`: a thread pool for blocking work; every file operation runs there and the
  // result is delivered back on the caller's executor, so I/O threads never wait for the disk.
  FolderInvoiceChannel(boost::asio::any_io_executor blocking_executor,
                       std::filesystem::path directory);

  boost::asio::awaitable<common::Result<ports::InvoiceDelivered>> deliver(
      const ports::InvoiceDelivery& delivery) override;

 private:
  boost::asio::any_io_executor blocking_executor_;
  std::filesystem::path directory_;
};

// The blocking part of deliver(): writes `bytes` to `<directory>/<file_name>` as described above.
// Returns the file name. Exposed for tests.
common::Result<std::string> write_file_atomically(const std::filesystem::path& directory,
                                                  const std::string& file_name,
                                                  const std::string& bytes);

}  // namespace visitpay::adapters::invoice
