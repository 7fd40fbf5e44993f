#include "common/envelope.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/crypto.hpp"

namespace visitpay::common {
namespace {

constexpr std::string_view kSession = "session:0b9f0f3e-6a51-4a51-9b0c-2f6d2f1f7c11";
constexpr std::string_view kOtherSession = "session:5d6d7a33-0d0a-4c4e-8f5e-2b0c0d7c9e21";
constexpr std::string_view kPlaintext = R"({"name":"Kari Nordmann","national_id":"01010112345"})";

Bytes hex(std::string_view text) {
  Bytes out;
  EXPECT_TRUE(from_hex(text, out)) << text;
  return out;
}

DataKey key_from_hex(std::string_view text) {
  const Bytes raw = hex(text);
  DataKey key{};
  EXPECT_EQ(raw.size(), key.size());
  std::copy_n(raw.begin(), std::min(raw.size(), key.size()), key.begin());
  return key;
}

std::string as_string(const Bytes& bytes) {
  return {bytes.begin(), bytes.end()};
}

// ---------------------------------------------------------------- seal / open

TEST(EnvelopeSeal, RoundTrip) {
  const DataKey key = generate_data_key();
  const Bytes blob = seal(key, kPlaintext, kSession);
  ASSERT_EQ(blob.size(), kPlaintext.size() + kEnvelopeOverhead);
  EXPECT_EQ(blob[0], kEnvelopeVersion);
  // The plaintext does not appear in the blob.
  EXPECT_EQ(as_string(blob).find("Nordmann"), std::string::npos);

  const auto opened = open(key, blob, kSession);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, kPlaintext);
}

TEST(EnvelopeSeal, EmptyPlaintext) {
  const DataKey key = generate_data_key();
  const Bytes blob = seal(key, "", kSession);
  EXPECT_EQ(blob.size(), kEnvelopeOverhead);
  const auto opened = open(key, blob, kSession);
  ASSERT_TRUE(opened.has_value());
  EXPECT_TRUE(opened->empty());
  // Even with nothing to hide, the tag binds the key and the associated data.
  EXPECT_FALSE(open(key, blob, kOtherSession).has_value());
  EXPECT_FALSE(open(generate_data_key(), blob, kSession).has_value());
}

TEST(EnvelopeSeal, FourKilobytes) {
  std::string plaintext(4096, '\0');
  for (std::size_t i = 0; i < plaintext.size(); ++i) {
    plaintext[i] = static_cast<char>(i * 31 % 251);
  }
  const DataKey key = generate_data_key();
  const Bytes blob = seal(key, plaintext, kSession);
  EXPECT_EQ(blob.size(), plaintext.size() + kEnvelopeOverhead);
  const auto opened = open(key, blob, kSession);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, plaintext);
}

TEST(EnvelopeSeal, BinaryPlaintextWithNulBytes) {
  const std::string plaintext("a\0b\0\xff", 5);
  const DataKey key = generate_data_key();
  const auto opened = open(key, seal(key, plaintext, kSession), kSession);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, plaintext);
}

TEST(EnvelopeSeal, SealsOfTheSamePlaintextDiffer) {
  const DataKey key = generate_data_key();
  const Bytes a = seal(key, kPlaintext, kSession);
  const Bytes b = seal(key, kPlaintext, kSession);
  EXPECT_NE(a, b);
  // The random nonces differ, hence so does everything after them.
  EXPECT_FALSE(std::equal(a.begin() + 1, a.begin() + 1 + kEnvelopeNonceSize, b.begin() + 1));
  EXPECT_EQ(open(key, a, kSession), open(key, b, kSession));
}

TEST(EnvelopeSeal, GeneratedKeysDiffer) {
  EXPECT_NE(generate_data_key(), generate_data_key());
  EXPECT_NE(generate_data_key(), DataKey{});
}

TEST(EnvelopeOpen, WrongAssociatedDataFails) {
  const DataKey key = generate_data_key();
  const Bytes blob = seal(key, kPlaintext, kSession);
  EXPECT_FALSE(open(key, blob, kOtherSession).has_value());
  EXPECT_FALSE(open(key, blob, "").has_value());
  EXPECT_FALSE(open(key, blob, std::string(kSession) + " ").has_value());
}

TEST(EnvelopeOpen, WrongKeyFails) {
  const DataKey key = generate_data_key();
  const Bytes blob = seal(key, kPlaintext, kSession);
  DataKey other = key;
  other[31] ^= 0x01;
  EXPECT_FALSE(open(other, blob, kSession).has_value());
}

TEST(EnvelopeOpen, EveryFlippedBitFails) {
  const DataKey key = generate_data_key();
  const Bytes blob = seal(key, "short", kSession);
  ASSERT_TRUE(open(key, blob, kSession).has_value());
  // Version, nonce, ciphertext and tag: no bit may change unnoticed.
  for (std::size_t i = 0; i < blob.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes tampered = blob;
      tampered[i] ^= static_cast<std::uint8_t>(1U << bit);
      EXPECT_FALSE(open(key, tampered, kSession).has_value()) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(EnvelopeOpen, TamperedRegionsFail) {
  const DataKey key = generate_data_key();
  const Bytes blob = seal(key, kPlaintext, kSession);
  const std::size_t nonce = 1;
  const std::size_t ciphertext = 1 + kEnvelopeNonceSize;
  const std::size_t tag = blob.size() - kEnvelopeTagSize;
  for (const std::size_t at :
       {nonce, nonce + kEnvelopeNonceSize - 1, ciphertext, tag - 1, tag, blob.size() - 1}) {
    Bytes tampered = blob;
    tampered[at] ^= 0x80;
    EXPECT_FALSE(open(key, tampered, kSession).has_value()) << "offset " << at;
  }
}

TEST(EnvelopeOpen, UnknownVersionFails) {
  const DataKey key = generate_data_key();
  Bytes blob = seal(key, kPlaintext, kSession);
  for (const std::uint8_t version : {0, 2, 255}) {
    blob[0] = version;
    EXPECT_FALSE(open(key, blob, kSession).has_value()) << int{version};
  }
}

TEST(EnvelopeOpen, TruncatedOrExtendedBlobFails) {
  const DataKey key = generate_data_key();
  const Bytes blob = seal(key, kPlaintext, kSession);
  for (std::size_t size = 0; size < blob.size(); ++size) {
    const Bytes truncated(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(size));
    EXPECT_FALSE(open(key, truncated, kSession).has_value()) << "size " << size;
  }
  Bytes extended = blob;
  extended.push_back(0);
  EXPECT_FALSE(open(key, extended, kSession).has_value());
  // Ciphertext dropped but the tag kept: the shape of a valid empty blob.
  Bytes spliced(blob.begin(), blob.begin() + 1 + kEnvelopeNonceSize);
  spliced.insert(spliced.end(), blob.end() - kEnvelopeTagSize, blob.end());
  EXPECT_FALSE(open(key, spliced, kSession).has_value());
}

TEST(EnvelopeOpen, GarbageNeverThrows) {
  const DataKey key = generate_data_key();
  for (std::size_t size = 0; size < 80; ++size) {
    Bytes garbage = random_bytes(size);
    if (!garbage.empty()) garbage[0] = kEnvelopeVersion;
    EXPECT_NO_THROW({ EXPECT_FALSE(open(key, garbage, kSession).has_value()); });
  }
}

// ---------------------------------------------------------------- known answers

// NIST, "The Galois/Counter Mode of Operation (GCM)" (McGrew & Viega, 2005), test case 16:
// AES-256, 96-bit IV, 60-byte plaintext, 20 bytes of associated data.
TEST(EnvelopeKnownAnswer, GcmSpecTestCase16) {
  const DataKey key =
      key_from_hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  detail::Nonce nonce{};
  const Bytes iv = hex("cafebabefacedbaddecaf888");
  std::copy(iv.begin(), iv.end(), nonce.begin());
  const std::string plaintext =
      as_string(hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"));
  const std::string aad = as_string(hex("feedfacedeadbeeffeedfacedeadbeefabaddad2"));
  const Bytes ciphertext =
      hex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
          "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662");
  const Bytes tag = hex("76fc6ece0f4e1768cddf8853bb2d551b");

  Bytes expected{kEnvelopeVersion};
  expected.insert(expected.end(), iv.begin(), iv.end());
  expected.insert(expected.end(), ciphertext.begin(), ciphertext.end());
  expected.insert(expected.end(), tag.begin(), tag.end());

  const Bytes blob = detail::seal_with_nonce(key, nonce, plaintext, aad);
  EXPECT_EQ(to_hex(blob), to_hex(expected));
  const auto opened = open(key, expected, aad);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, plaintext);
}

// Same source, test cases 13 and 14: the all-zero key and IV, empty and one-block plaintext.
TEST(EnvelopeKnownAnswer, GcmSpecTestCases13And14) {
  const DataKey key{};
  const detail::Nonce nonce{};
  const Bytes empty = detail::seal_with_nonce(key, nonce, "", "");
  EXPECT_EQ(to_hex(empty), "01000000000000000000000000530f8afbc74536b9a963b4f1c4cb738b");

  const Bytes block = detail::seal_with_nonce(key, nonce, std::string(16, '\0'), "");
  EXPECT_EQ(to_hex(block),
            "01000000000000000000000000"
            "cea7403d4d606b6e074ec5d3baf39d18"
            "d0d1c8a799996bf0265b98b5d48ab919");
  const auto opened = open(key, block, "");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, std::string(16, '\0'));
}

// ---------------------------------------------------------------- wrap / unwrap

constexpr std::string_view kTransient = "session:0b9f0f3e-6a51-4a51-9b0c-2f6d2f1f7c11:transient";
constexpr std::string_view kRetained = "session:0b9f0f3e-6a51-4a51-9b0c-2f6d2f1f7c11:invoice";

TEST(EnvelopeWrap, RoundTrip) {
  const DataKey master = generate_data_key();
  const DataKey data_key = generate_data_key();
  const Bytes wrapped = wrap_key(master, "2025-01", data_key, kTransient);
  EXPECT_EQ(wrapped.size(), kEnvelopeOverhead + data_key.size());
  EXPECT_EQ(wrapped[0], kEnvelopeVersion);
  EXPECT_EQ(to_hex(wrapped).find(to_hex(data_key)), std::string::npos);

  const auto unwrapped = unwrap_key(master, "2025-01", wrapped, kTransient);
  ASSERT_TRUE(unwrapped.has_value());
  EXPECT_EQ(*unwrapped, data_key);
  EXPECT_NE(wrap_key(master, "2025-01", data_key, kTransient), wrapped);  // random nonce
}

TEST(EnvelopeWrap, UnwrapWithWrongMasterFails) {
  const DataKey master = generate_data_key();
  const Bytes wrapped = wrap_key(master, "2025-01", generate_data_key(), kTransient);
  EXPECT_FALSE(unwrap_key(generate_data_key(), "2025-01", wrapped, kTransient).has_value());
}

TEST(EnvelopeWrap, UnwrapWithWrongKeyIdFails) {
  const DataKey master = generate_data_key();
  const Bytes wrapped = wrap_key(master, "2025-01", generate_data_key(), kTransient);
  EXPECT_FALSE(unwrap_key(master, "2025-06", wrapped, kTransient).has_value());
  EXPECT_FALSE(unwrap_key(master, "", wrapped, kTransient).has_value());
}

TEST(EnvelopeWrap, UnwrapWithWrongContextFails) {
  const DataKey master = generate_data_key();
  const Bytes wrapped = wrap_key(master, "2025-01", generate_data_key(), kTransient);
  EXPECT_FALSE(unwrap_key(master, "2025-01", wrapped, kRetained).has_value());
  EXPECT_FALSE(unwrap_key(master, "2025-01", wrapped, kOtherSession).has_value());
  EXPECT_FALSE(unwrap_key(master, "2025-01", wrapped, "").has_value());
}

TEST(EnvelopeWrap, KeyIdAndContextDoNotRunTogether) {
  // "ab" + "c..." and "a" + "bc..." must not give the same associated data.
  const DataKey master = generate_data_key();
  const Bytes wrapped = wrap_key(master, "ab", generate_data_key(), "cd");
  EXPECT_FALSE(unwrap_key(master, "a", wrapped, "bcd").has_value());
  EXPECT_FALSE(unwrap_key(master, "abc", wrapped, "d").has_value());
  EXPECT_TRUE(unwrap_key(master, "ab", wrapped, "cd").has_value());
}

TEST(EnvelopeWrap, TamperedOrTruncatedWrappedKeyFails) {
  const DataKey master = generate_data_key();
  const Bytes wrapped = wrap_key(master, "2025-01", generate_data_key(), kTransient);
  for (std::size_t i = 0; i < wrapped.size(); ++i) {
    Bytes tampered = wrapped;
    tampered[i] ^= 0x01;
    EXPECT_FALSE(unwrap_key(master, "2025-01", tampered, kTransient).has_value()) << i;
  }
  const Bytes truncated(wrapped.begin(), wrapped.end() - 1);
  EXPECT_FALSE(unwrap_key(master, "2025-01", truncated, kTransient).has_value());
  EXPECT_FALSE(unwrap_key(master, "2025-01", Bytes{}, kTransient).has_value());
}

TEST(EnvelopeWrap, SealedDataIsNotAWrappedKey) {
  // A 32-byte value sealed under the master with the same string as associated data does not
  // unwrap: wrapping uses its own associated-data label.
  const DataKey master = generate_data_key();
  const std::string fake(32, 'k');
  const Bytes sealed = seal(master, fake, kTransient);
  EXPECT_FALSE(unwrap_key(master, "", sealed, kTransient).has_value());
}

TEST(EnvelopeWrap, RewrapUnderNewMaster) {
  // Rotation: unwrap under the old master, wrap under the new; data sealed earlier still opens.
  const DataKey old_master = generate_data_key();
  const DataKey new_master = generate_data_key();
  const DataKey data_key = generate_data_key();
  const Bytes sealed = seal(data_key, kPlaintext, kSession);
  const Bytes old_wrapped = wrap_key(old_master, "2025-01", data_key, kRetained);

  auto unwrapped = unwrap_key(old_master, "2025-01", old_wrapped, kRetained);
  ASSERT_TRUE(unwrapped.has_value());
  const Bytes new_wrapped = wrap_key(new_master, "2025-06", *unwrapped, kRetained);
  cleanse(*unwrapped);
  EXPECT_EQ(*unwrapped, DataKey{});

  EXPECT_FALSE(unwrap_key(old_master, "2025-06", new_wrapped, kRetained).has_value());
  const auto rewrapped = unwrap_key(new_master, "2025-06", new_wrapped, kRetained);
  ASSERT_TRUE(rewrapped.has_value());
  EXPECT_EQ(open(*rewrapped, sealed, kSession), std::optional<std::string>(kPlaintext));
}

}  // namespace
}  // namespace visitpay::common
