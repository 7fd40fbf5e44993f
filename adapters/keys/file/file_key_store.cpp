#include "adapters/keys/file/file_key_store.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <system_error>
#include <utility>

#include "common/crypto.hpp"

namespace visitpay::adapters::keys {

namespace {

constexpr std::size_t kMaxKeyIdSize = 64;
constexpr std::size_t kKeyHexSize = 2 * common::DataKey{}.size();
constexpr std::size_t kMaxFileSize = std::size_t{64} * 1024;  // a key ring holds a handful of lines

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back()))
    s.remove_suffix(1);
  return s;
}

common::Error ring_error(std::string_view source, std::string_view detail) {
  std::string message(source);
  message += ": ";
  message += detail;
  return common::make_error(common::ErrorCode::internal_error, std::move(message));
}

common::Error line_error(std::string_view source, std::size_t line, std::string_view detail) {
  std::string message = "line " + std::to_string(line) + ": ";
  message += detail;
  return ring_error(source, message);
}

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

std::string octal_mode(mode_t mode) {
  std::array<char, 8> digits{};
  const auto [end, ec] =
      std::to_chars(digits.data(), digits.data() + digits.size(), static_cast<unsigned>(mode), 8);
  if (ec != std::errc()) return "?";
  std::string out(digits.data(), end);
  if (out.size() < 4) out.insert(0, 4 - out.size(), '0');
  return out;
}

struct FdCloser {
  explicit FdCloser(int descriptor) : fd(descriptor) {}
  int fd;
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

common::Result<FileKeyStore> FileKeyStore::from_text(std::string_view text) {
  return parse(text, "key ring");
}

common::Result<FileKeyStore> FileKeyStore::parse(std::string_view text, std::string_view source) {
  FileKeyStore store;
  // Reserved up front: a reallocation would leave an uncleansed copy of the keys on the heap.
  store.keys_.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);

  std::size_t line_number = 0;
  for (std::size_t pos = 0; pos <= text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_number;
    if (line.empty() || line.front() == '#') continue;

    const std::size_t separator = line.find_first_of(" \t");
    if (separator == std::string_view::npos) {
      return line_error(source, line_number, "expected '<key-id> <64 hex characters>'");
    }
    const std::string_view id = line.substr(0, separator);
    const std::string_view hex = trim(line.substr(separator));
    if (!is_valid_key_id(id)) {
      return line_error(source, line_number, "invalid key id (expected [A-Za-z0-9._-]{1,64})");
    }
    if (std::any_of(store.keys_.begin(), store.keys_.end(),
                    [id](const Entry& entry) { return entry.id == id; })) {
      return line_error(source, line_number, "duplicate key id");
    }
    common::Bytes raw;
    const bool decoded = hex.size() == kKeyHexSize && common::from_hex(hex, raw);
    if (decoded) {
      Entry& entry = store.keys_.emplace_back();
      entry.id = std::string(id);
      std::copy(raw.begin(), raw.end(), entry.key.begin());
    }
    if (!raw.empty()) OPENSSL_cleanse(raw.data(), raw.size());
    if (!decoded) {
      return line_error(source, line_number, "the key is not 64 hex characters");
    }
  }
  if (store.keys_.empty()) return ring_error(source, "no keys");
  return store;
}

common::Result<FileKeyStore> FileKeyStore::from_file(const std::string& path) {
  const std::string source = "key ring " + path;
  // O_NONBLOCK: a FIFO in place of the file must not hang start-up (it fails the check below).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return ring_error(source, "cannot open: " + errno_text(errno));
  const FdCloser closer(fd);

  // fstat on the open descriptor: the file checked is the file read.
  struct stat info {};
  if (::fstat(fd, &info) != 0) return ring_error(source, "cannot stat: " + errno_text(errno));
  if (!S_ISREG(info.st_mode)) return ring_error(source, "not a regular file");
  const mode_t mode = info.st_mode & 07777;
  if (mode != 0600 && mode != 0400) {
    return ring_error(source,
                      "mode " + octal_mode(mode) + ": it must be 0600 or 0400 (owner only)");
  }

  std::string text(kMaxFileSize + 1, '\0');
  std::size_t size = 0;
  int read_error = 0;
  while (size < text.size()) {
    const ssize_t n = ::read(fd, text.data() + size, text.size() - size);
    if (n > 0) {
      size += static_cast<std::size_t>(n);
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      read_error = errno;
      break;
    }
  }
  common::Result<FileKeyStore> result = common::Error{};
  if (read_error != 0) {
    result = ring_error(source, "cannot read: " + errno_text(read_error));
  } else if (size > kMaxFileSize) {
    result = ring_error(source, "larger than 64 KiB");
  } else {
    result = parse(std::string_view(text.data(), size), source);
  }
  OPENSSL_cleanse(text.data(), text.size());
  return result;
}

std::string FileKeyStore::generate_key_line(std::string_view key_id) {
  if (!is_valid_key_id(key_id)) return {};
  common::DataKey key = common::generate_data_key();
  std::string hex = common::to_hex(key);
  common::cleanse(key);
  std::string line;
  line.reserve(key_id.size() + 1 + hex.size());
  line.append(key_id);
  line.push_back(' ');
  line.append(hex);
  OPENSSL_cleanse(hex.data(), hex.size());
  return line;
}

bool FileKeyStore::is_valid_key_id(std::string_view key_id) {
  if (key_id.empty() || key_id.size() > kMaxKeyIdSize) return false;
  return std::all_of(key_id.begin(), key_id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

FileKeyStore::FileKeyStore(FileKeyStore&& other) noexcept : keys_(std::move(other.keys_)) {
  other.keys_.clear();
}

FileKeyStore& FileKeyStore::operator=(FileKeyStore&& other) noexcept {
  if (this != &other) {
    cleanse();
    keys_ = std::move(other.keys_);
    other.keys_.clear();
  }
  return *this;
}

FileKeyStore::~FileKeyStore() {
  cleanse();
}

void FileKeyStore::cleanse() noexcept {
  for (Entry& entry : keys_)
    common::cleanse(entry.key);
}

std::string FileKeyStore::active_key_id() const {
  return keys_.empty() ? std::string() : keys_.back().id;
}

std::optional<common::DataKey> FileKeyStore::master_key(std::string_view key_id) const {
  for (const Entry& entry : keys_) {
    if (entry.id == key_id) return entry.key;
  }
  return std::nullopt;
}

common::Result<FileKeyStore> load_key_ring(const std::string& ring_text,
                                           const std::string& ring_file) {
  if (!ring_text.empty()) return FileKeyStore::from_text(ring_text);
  if (!ring_file.empty()) return FileKeyStore::from_file(ring_file);
  return common::make_error(common::ErrorCode::internal_error,
                            "no master keys: set secrets.master_keys_file, "
                            "VISITPAY_MASTER_KEYS_FILE or VISITPAY_MASTER_KEYS");
}

}  // namespace visitpay::adapters::keys
