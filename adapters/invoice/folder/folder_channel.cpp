#include "adapters/invoice/folder/folder_channel.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstddef>
#include <string_view>
#include <system_error>
#include <utility>

namespace visitpay::adapters::invoice {

namespace asio = boost::asio;
using common::ErrorCode;
using common::make_error;
using common::Result;

namespace {

constexpr std::size_t kMaxNameLength = 200;
constexpr std::size_t kMaxPdfBytes = 32U << 20U;  // an invoice is tens of kilobytes

// Letters, digits, '-', '_' and '.', not starting with '.': no path separators, no hidden files,
// nothing a shell or the pickup's glob could misread.
bool safe_file_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || name.front() == '.') return false;
  for (char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
    if (!ok) return false;
  }
  return true;
}

common::Error io_error(std::string_view what, const std::string& file_name, int err) {
  return make_error(ErrorCode::provider_unavailable, "invoice folder: " + std::string(what) + " " +
                                                         file_name + ": " +
                                                         std::generic_category().message(err));
}

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  // Closes now and reports close()'s error (0 if none): on NFS that is where write errors show.
  int close() {
    const int fd = std::exchange(fd_, -1);
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Removes the temporary file unless it was renamed into place.
class TempFileGuard {
 public:
  explicit TempFileGuard(std::string path) : path_(std::move(path)) {}
  ~TempFileGuard() {
    if (armed_) ::unlink(path_.c_str());
  }
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  void disarm() { armed_ = false; }

 private:
  std::string path_;
  bool armed_ = true;
};

// mkdir -p with mode 0700 for what it creates; existing directories keep their mode (the
// operator may have given the pickup access). 0 or an errno.
int make_directories(const std::filesystem::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  if (errno != ENOENT) return errno;
  const std::filesystem::path parent = dir.parent_path();
  if (!parent.empty() && parent != dir) {
    if (const int err = make_directories(parent); err != 0) return err;
  }
  if (::mkdir(dir.c_str(), 0700) == 0) return 0;
  const int err = errno;
  if (err == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return 0;
  return err;
}

// True when `path` is a regular file of mode 0600 holding exactly `bytes`; any doubt is false
// (the file is then rewritten).
bool has_content(const std::filesystem::path& path, const std::string& bytes) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return false;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0600 ||
      static_cast<std::size_t>(st.st_size) != bytes.size())
    return false;
  std::string existing(bytes.size(), '\0');
  std::size_t done = 0;
  while (done < existing.size()) {
    const ssize_t n = ::read(fd.get(), existing.data() + done, existing.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return existing == bytes;
}

// Makes the directory entry (a rename) durable.
int sync_directory(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return errno;
  if (::fsync(fd.get()) != 0) return errno;
  return fd.close();
}

// By-value parameters: copied into the coroutine frame, which lives until the write is done.
asio::awaitable<Result<std::string>> write_on_pool(std::filesystem::path directory,
                                                   std::string file_name, std::string bytes) {
  co_return write_file_atomically(directory, file_name, bytes);
}

}  // namespace

Result<std::string> write_file_atomically(const std::filesystem::path& directory,
                                          const std::string& file_name, const std::string& bytes) {
  if (const int err = make_directories(directory); err != 0)
    return io_error("cannot create the directory for", file_name, err);
  const std::filesystem::path target = directory / file_name;

  if (!has_content(target, bytes)) {
    std::string temp_path = (directory / ("." + file_name + ".tmp-XXXXXX")).string();
    UniqueFd fd(::mkostemp(temp_path.data(), O_CLOEXEC));
    if (fd.get() < 0) return io_error("cannot create a temporary file for", file_name, errno);
    TempFileGuard guard(temp_path);
    // mkostemp uses 0600 already; explicit so no umask or libc can make it wider or narrower.
    if (::fchmod(fd.get(), 0600) != 0) return io_error("cannot chmod", file_name, errno);
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return io_error("cannot write", file_name, errno);
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return io_error("cannot fsync", file_name, errno);
    if (const int err = fd.close(); err != 0) return io_error("cannot close", file_name, err);
    if (::rename(temp_path.c_str(), target.c_str()) != 0)
      return io_error("cannot rename into place", file_name, errno);
    guard.disarm();
  }
  // Also when nothing was written: an earlier attempt may have failed just here.
  if (const int err = sync_directory(directory); err != 0)
    return io_error("cannot fsync the directory of", file_name, err);
  return file_name;
}

FolderInvoiceChannel::FolderInvoiceChannel(asio::any_io_executor blocking_executor,
                                           std::filesystem::path directory)
    : blocking_executor_(std::move(blocking_executor)), directory_(std::move(directory)) {}

asio::awaitable<Result<ports::InvoiceDelivered>> FolderInvoiceChannel::deliver(
    const ports::InvoiceDelivery& delivery) {
  if (!safe_file_name(delivery.name)) {
    co_return make_error(ErrorCode::provider_rejected,
                         "invoice folder: the delivery name is not a safe file name");
  }
  std::string file_name = delivery.name + ".pdf";
  if (delivery.pdf.empty() || delivery.pdf.size() > kMaxPdfBytes) {
    co_return make_error(ErrorCode::provider_rejected,
                         "invoice folder: the PDF for " + file_name + " is empty or too large");
  }
  // The blocking part runs on the pool with its own copies (it must not depend on the caller's
  // frame); co_await resumes this coroutine on the caller's executor. The work is a named
  // variable on purpose: GCC 12 destroys a temporary capturing lambda inside a co_await
  // expression twice (its captures were double-freed in the tests).
  auto work = write_on_pool(directory_, std::move(file_name), delivery.pdf);
  auto written = co_await asio::co_spawn(blocking_executor_, std::move(work), asio::use_awaitable);
  if (!written) co_return std::move(written).error();
  co_return ports::InvoiceDelivered{std::move(written).value()};
}

}  // namespace visitpay::adapters::invoice
