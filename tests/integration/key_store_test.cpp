// The file key store (`keys.file`): key-ring parsing, the file-mode check, generated lines.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "adapters/keys/file/file_key_store.hpp"
#include "common/crypto.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"

namespace visitpay::testing {
namespace {

using adapters::keys::FileKeyStore;
using common::DataKey;
using common::ErrorCode;

constexpr std::string_view kHexA =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr std::string_view kHexB =
    "ffeeddccbbaa99887766554433221100FFEEDDCCBBAA99887766554433221100";
constexpr std::string_view kHexC =
    "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5";

DataKey key_of(std::string_view hex) {
  common::Bytes raw;
  EXPECT_TRUE(common::from_hex(hex, raw));
  DataKey key{};
  EXPECT_EQ(raw.size(), key.size());
  std::copy_n(raw.begin(), std::min(raw.size(), key.size()), key.begin());
  return key;
}

std::string ring(std::initializer_list<std::string_view> lines) {
  std::string text;
  for (const auto line : lines) {
    text.append(line);
    text.push_back('\n');
  }
  return text;
}

std::string line_of(std::string_view id, std::string_view hex) {
  return std::string(id) + " " + std::string(hex);
}

// Parsing must fail, with an internal_error whose detail never echoes key material.
void expect_refused(const std::string& text, std::string_view detail_part) {
  const auto store = FileKeyStore::from_text(text);
  ASSERT_FALSE(store.ok()) << text;
  EXPECT_EQ(store.error().code, ErrorCode::internal_error);
  EXPECT_NE(store.error().detail.find(detail_part), std::string::npos) << store.error().detail;
  for (const auto hex : {kHexA, kHexB, kHexC}) {
    EXPECT_EQ(store.error().detail.find(hex.substr(0, 16)), std::string::npos)
        << store.error().detail;
  }
}

// ---------------------------------------------------------------- from_text

TEST(FileKeyStoreText, OneKey) {
  const auto store = FileKeyStore::from_text(line_of("2025-01", kHexA));
  ASSERT_TRUE(store.ok()) << store.error().detail;
  EXPECT_EQ(store->active_key_id(), "2025-01");
  EXPECT_EQ(store->size(), 1U);
  EXPECT_EQ(store->master_key("2025-01"), key_of(kHexA));
  EXPECT_FALSE(store->master_key("2025-06").has_value());
  EXPECT_FALSE(store->master_key("").has_value());
}

TEST(FileKeyStoreText, CommentsBlankLinesAndLastKeyActive) {
  const std::string text = ring({
      "# visitpay master keys",
      "",
      line_of("2025-01", kHexA),
      "   # retired after keys rotate",
      "\t",
      "  " + line_of("2025.06_b", kHexB) + "  ",
      line_of("K-3", kHexC) + "\r",  // CRLF
      "",
  });
  const auto store = FileKeyStore::from_text(text);
  ASSERT_TRUE(store.ok()) << store.error().detail;
  EXPECT_EQ(store->size(), 3U);
  EXPECT_EQ(store->active_key_id(), "K-3");
  EXPECT_EQ(store->master_key("2025-01"), key_of(kHexA));
  EXPECT_EQ(store->master_key("2025.06_b"), key_of(kHexB));  // upper-case hex accepted
  EXPECT_EQ(store->master_key("K-3"), key_of(kHexC));
  EXPECT_FALSE(store->master_key("k-3").has_value());  // ids are case-sensitive
}

TEST(FileKeyStoreText, TabSeparatorAndNoFinalNewline) {
  const auto store =
      FileKeyStore::from_text("a\t" + std::string(kHexA) + "\nb " + std::string(kHexB));
  ASSERT_TRUE(store.ok()) << store.error().detail;
  EXPECT_EQ(store->active_key_id(), "b");
  EXPECT_EQ(store->master_key("a"), key_of(kHexA));
}

TEST(FileKeyStoreText, ActiveKeyWrapsAndUnwraps) {
  const auto store = FileKeyStore::from_text(ring({line_of("old", kHexA), line_of("new", kHexB)}));
  ASSERT_TRUE(store.ok());
  const DataKey data_key = common::generate_data_key();
  auto master = store->master_key(store->active_key_id());
  ASSERT_TRUE(master.has_value());
  const common::Bytes wrapped =
      common::wrap_key(*master, store->active_key_id(), data_key, "session:x:transient");
  common::cleanse(*master);
  const auto again = store->master_key("new");
  ASSERT_TRUE(again.has_value());  // the store's copy is untouched by the caller's cleanse
  EXPECT_EQ(common::unwrap_key(*again, "new", wrapped, "session:x:transient"), data_key);
}

TEST(FileKeyStoreText, EmptyRingRefused) {
  expect_refused("", "no keys");
  expect_refused("\n\n", "no keys");
  expect_refused(ring({"# only a comment", "   "}), "no keys");
}

TEST(FileKeyStoreText, DuplicateIdRefused) {
  expect_refused(ring({line_of("k1", kHexA), line_of("k2", kHexB), line_of("k1", kHexC)}),
                 "line 3: duplicate key id");
  // Even with the same key.
  expect_refused(ring({line_of("k1", kHexA), line_of("k1", kHexA)}), "duplicate key id");
}

TEST(FileKeyStoreText, BadHexRefused) {
  std::string not_hex(kHexA);
  not_hex[10] = 'g';
  expect_refused(ring({line_of("k1", kHexA), line_of("k2", not_hex)}),
                 "line 2: the key is not 64 hex characters");
  expect_refused(line_of("k1", kHexA.substr(0, 62)), "not 64 hex");                // 31 bytes
  expect_refused(line_of("k1", std::string(kHexA) + "00"), "not 64 hex");          // 33 bytes
  expect_refused(line_of("k1", std::string(kHexA) + "0"), "not 64 hex");           // odd length
  expect_refused(line_of("k1", std::string(kHexA) + " # comment"), "not 64 hex");  // no trailer
  expect_refused(
      line_of("k1", std::string(kHexA.substr(0, 32)) + " " + std::string(kHexA.substr(32))),
      "not 64 hex");
}

TEST(FileKeyStoreText, MissingKeyRefused) {
  expect_refused("k1\n", "line 1: expected '<key-id> <64 hex characters>'");
  expect_refused(std::string(kHexA), "expected");  // the key alone, no id
}

TEST(FileKeyStoreText, BadIdRefused) {
  expect_refused(line_of("k/1", kHexA), "line 1: invalid key id");
  expect_refused(line_of("k:1", kHexA), "invalid key id");
  expect_refused(line_of("nøkkel", kHexA), "invalid key id");
  expect_refused(line_of(std::string(65, 'k'), kHexA), "invalid key id");
  const auto longest = FileKeyStore::from_text(line_of(std::string(64, 'k'), kHexA));
  EXPECT_TRUE(longest.ok());
  EXPECT_TRUE(FileKeyStore::is_valid_key_id("A-z_0.9"));
  EXPECT_FALSE(FileKeyStore::is_valid_key_id(""));
  EXPECT_FALSE(FileKeyStore::is_valid_key_id("a b"));
}

TEST(FileKeyStoreText, ErrorsNeverEchoTheKey) {
  // The fields swapped: the key reads as a valid id, the id as a bad key.
  expect_refused(line_of(kHexA, "k1"), "not 64 hex");
  // A key split over two lines.
  expect_refused(
      ring({std::string("k1 ") + std::string(kHexA.substr(0, 40)), std::string(kHexA.substr(40))}),
      "line 1");
}

TEST(FileKeyStoreText, MovedStoreKeepsItsKeys) {
  auto parsed = FileKeyStore::from_text(line_of("k1", kHexA));
  ASSERT_TRUE(parsed.ok());
  FileKeyStore store = std::move(parsed).value();
  EXPECT_EQ(store.master_key("k1"), key_of(kHexA));
  auto other = FileKeyStore::from_text(line_of("k2", kHexB));
  ASSERT_TRUE(other.ok());
  store = std::move(other).value();
  EXPECT_EQ(store.active_key_id(), "k2");
  EXPECT_FALSE(store.master_key("k1").has_value());
}

// ---------------------------------------------------------------- generate_key_line

TEST(FileKeyStoreGenerate, LineRoundTripsThroughFromText) {
  const std::string first = FileKeyStore::generate_key_line("2025-01");
  const std::string second = FileKeyStore::generate_key_line("2025-06");
  ASSERT_EQ(first.size(), std::string("2025-01 ").size() + 64);
  EXPECT_EQ(first.rfind("2025-01 ", 0), 0U);
  EXPECT_EQ(first.find('\n'), std::string::npos);
  EXPECT_NE(first.substr(8), second.substr(8));  // fresh random keys

  const auto store = FileKeyStore::from_text(ring({first, second}));
  ASSERT_TRUE(store.ok()) << store.error().detail;
  EXPECT_EQ(store->active_key_id(), "2025-06");
  EXPECT_EQ(store->master_key("2025-01"), key_of(std::string_view(first).substr(8)));
  EXPECT_EQ(store->master_key("2025-06"), key_of(std::string_view(second).substr(8)));
}

TEST(FileKeyStoreGenerate, InvalidIdGivesNothing) {
  EXPECT_EQ(FileKeyStore::generate_key_line(""), "");
  EXPECT_EQ(FileKeyStore::generate_key_line("a b"), "");
  EXPECT_EQ(FileKeyStore::generate_key_line(std::string(65, 'a')), "");
}

// ---------------------------------------------------------------- from_file

class FileKeyStoreFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "visitpay-keys-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string write(const std::string& name, const std::string& text, mode_t mode) {
    std::string path = (dir_ / name).string();
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << text;
    }
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(FileKeyStoreFile, Mode0600Accepted) {
  const std::string path = write("ring", ring({line_of("k1", kHexA), line_of("k2", kHexB)}), 0600);
  const auto store = FileKeyStore::from_file(path);
  ASSERT_TRUE(store.ok()) << store.error().detail;
  EXPECT_EQ(store->active_key_id(), "k2");
  EXPECT_EQ(store->master_key("k1"), key_of(kHexA));
}

TEST_F(FileKeyStoreFile, Mode0400Accepted) {
  const std::string path = write("ring", line_of("k1", kHexA), 0400);
  const auto store = FileKeyStore::from_file(path);
  ASSERT_TRUE(store.ok()) << store.error().detail;
  EXPECT_EQ(store->active_key_id(), "k1");
}

TEST_F(FileKeyStoreFile, GroupOrOtherReadableRefused) {
  for (const mode_t mode : {0644, 0640, 0604, 0660, 0700, 0666}) {
    const std::string path = write("ring", line_of("k1", kHexA), mode);
    const auto store = FileKeyStore::from_file(path);
    ASSERT_FALSE(store.ok()) << std::oct << mode;
    EXPECT_EQ(store.error().code, ErrorCode::internal_error);
    const std::string& detail = store.error().detail;
    EXPECT_NE(detail.find(path), std::string::npos) << detail;
    EXPECT_NE(detail.find("must be 0600 or 0400"), std::string::npos) << detail;
    EXPECT_EQ(detail.find(kHexA.substr(0, 16)), std::string::npos) << detail;
  }
  const std::string path = write("ring", line_of("k1", kHexA), 0644);
  const auto store = FileKeyStore::from_file(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().detail.find("mode 0644"), std::string::npos) << store.error().detail;
}

TEST_F(FileKeyStoreFile, ParseErrorNamesPathAndLineNotKey) {
  const std::string path = write("ring", ring({"# keys", line_of("k1", kHexA.substr(2))}), 0600);
  const auto store = FileKeyStore::from_file(path);
  ASSERT_FALSE(store.ok());
  const std::string& detail = store.error().detail;
  EXPECT_NE(detail.find(path), std::string::npos) << detail;
  EXPECT_NE(detail.find("line 2"), std::string::npos) << detail;
  EXPECT_EQ(detail.find(kHexA.substr(2, 16)), std::string::npos) << detail;
}

TEST_F(FileKeyStoreFile, MissingFileRefused) {
  const std::string path = (dir_ / "absent").string();
  const auto store = FileKeyStore::from_file(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::internal_error);
  EXPECT_NE(store.error().detail.find(path), std::string::npos) << store.error().detail;
  EXPECT_NE(store.error().detail.find("cannot open"), std::string::npos);
}

TEST_F(FileKeyStoreFile, DirectoryRefused) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
  const auto store = FileKeyStore::from_file(dir_.string());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().detail.find("not a regular file"), std::string::npos)
      << store.error().detail;
}

TEST_F(FileKeyStoreFile, OversizedFileRefused) {
  std::string text;
  while (text.size() <= std::size_t{64} * 1024)
    text += "# padding padding padding padding padding\n";
  text += line_of("k1", kHexA);
  const auto store = FileKeyStore::from_file(write("ring", text, 0600));
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().detail.find("larger than"), std::string::npos) << store.error().detail;
}

TEST_F(FileKeyStoreFile, GeneratedRingLoads) {
  const std::string text = ring(
      {"# visitpay", FileKeyStore::generate_key_line("a"), FileKeyStore::generate_key_line("b")});
  const auto store = FileKeyStore::from_file(write("ring", text, 0600));
  ASSERT_TRUE(store.ok()) << store.error().detail;
  EXPECT_EQ(store->active_key_id(), "b");
  EXPECT_EQ(store->size(), 2U);
}

}  // namespace
}  // namespace visitpay::testing
