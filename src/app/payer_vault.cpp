#include "app/payer_vault.hpp"

#include "common/envelope.hpp"

namespace visitpay::app {

using common::ErrorCode;
using common::make_error;

namespace {

constexpr char kUnitSeparator = '\x1f';

std::string key_context(std::string_view session_id, KeyClass key_class) {
  return "session:" + std::string(session_id) + ":" + std::string(key_class_name(key_class));
}

std::string field_context(std::string_view session_id, KeyClass key_class, std::string_view field) {
  return key_context(session_id, key_class) + ":" + std::string(field);
}

std::string join_address(const domain::Address& a) {
  return a.street + kUnitSeparator + a.postal_code + kUnitSeparator + a.city + kUnitSeparator +
         a.country;
}

}  // namespace

std::optional<domain::Address> split_address(const std::string& text) {
  domain::Address a;
  std::string* parts[] = {&a.street, &a.postal_code, &a.city, &a.country};
  std::size_t start = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const auto end = i == 3 ? text.size() : text.find(kUnitSeparator, start);
    if (end == std::string::npos) return std::nullopt;
    *parts[i] = text.substr(start, end - start);
    start = end + 1;
  }
  return a;
}

namespace {

// Holds a master or data key and wipes it when it goes out of scope.
struct ScopedKey {
  common::DataKey key{};
  ScopedKey() = default;
  explicit ScopedKey(const common::DataKey& k) : key(k) {}
  ScopedKey(const ScopedKey&) = delete;
  ScopedKey& operator=(const ScopedKey&) = delete;
  ~ScopedKey() { common::cleanse(key); }
};

}  // namespace

common::Sha256Digest national_id_lookup(const common::Bytes& lookup_key,
                                        std::string_view national_id) {
  std::string digits = "national_id:";
  for (char c : national_id) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  return common::hmac_sha256(lookup_key, digits);
}

common::Result<SealedPayer> PayerVault::seal(std::string_view session_id,
                                             const domain::Payer& payer) const {
  const std::string master_id = keys_.active_key_id();
  auto master_key = keys_.master_key(master_id);
  if (!master_key) {
    return make_error(ErrorCode::internal_error, "the active master key is not available");
  }
  const ScopedKey master(*master_key);
  common::cleanse(*master_key);
  const ScopedKey transient(common::generate_data_key());
  const ScopedKey retained(common::generate_data_key());

  SealedPayer s;
  s.transient_key = {master_id, common::wrap_key(master.key, master_id, transient.key,
                                                 key_context(session_id, KeyClass::transient))};
  s.retained_key = {master_id, common::wrap_key(master.key, master_id, retained.key,
                                                key_context(session_id, KeyClass::retained))};
  if (payer.national_id) {
    s.national_id = common::seal(transient.key, *payer.national_id,
                                 field_context(session_id, KeyClass::transient, "national_id"));
  }
  if (payer.phone) {
    s.phone = common::seal(transient.key, *payer.phone,
                           field_context(session_id, KeyClass::transient, "phone"));
  }
  s.name =
      common::seal(retained.key, payer.name, field_context(session_id, KeyClass::retained, "name"));
  s.address = common::seal(retained.key, join_address(payer.address),
                           field_context(session_id, KeyClass::retained, "address"));
  if (payer.email) {
    s.email = common::seal(retained.key, *payer.email,
                           field_context(session_id, KeyClass::retained, "email"));
  }
  return s;
}

UnlockedKey::UnlockedKey(std::string context, const common::DataKey& key)
    : context_(std::move(context)), key_(key) {}

UnlockedKey::UnlockedKey(UnlockedKey&& other) noexcept
    : context_(std::move(other.context_)), key_(other.key_) {
  common::cleanse(other.key_);
}

UnlockedKey::~UnlockedKey() {
  common::cleanse(key_);
}

common::Result<std::optional<std::string>> UnlockedKey::open(
    std::string_view field, const std::optional<common::Bytes>& blob) const {
  if (!blob) return std::optional<std::string>{};
  auto text = common::open(key_, *blob, context_ + ":" + std::string(field));
  if (!text) return make_error(ErrorCode::internal_error, "a payer field does not decrypt");
  return std::optional<std::string>(std::move(*text));
}

common::Bytes UnlockedKey::seal(std::string_view field, std::string_view plaintext) const {
  return common::seal(key_, plaintext, context_ + ":" + std::string(field));
}

common::Result<UnlockedKey> PayerVault::unlock(std::string_view session_id, KeyClass key_class,
                                               const WrappedKey& key) const {
  auto master_key = keys_.master_key(key.master_key_id);
  if (!master_key) {
    return make_error(ErrorCode::internal_error,
                      "master key " + key.master_key_id + " is not available");
  }
  const ScopedKey master(*master_key);
  common::cleanse(*master_key);
  const std::string context = key_context(session_id, key_class);
  auto data_key = common::unwrap_key(master.key, key.master_key_id, key.wrapped, context);
  if (!data_key) {
    return make_error(ErrorCode::internal_error, std::string("the ") +
                                                     std::string(key_class_name(key_class)) +
                                                     " data key of a session does not unwrap");
  }
  UnlockedKey unlocked(context, *data_key);
  common::cleanse(*data_key);
  return unlocked;
}

common::Result<OpenedPayer> PayerVault::open(std::string_view session_id, const SealedPayer& sealed,
                                             bool transient_key_present,
                                             bool retained_key_present) const {
  OpenedPayer out;
  if (transient_key_present) {
    auto key = unlock(session_id, KeyClass::transient, sealed.transient_key);
    if (!key) return std::move(key).error();
    auto national_id = key->open("national_id", sealed.national_id);
    if (!national_id) return std::move(national_id).error();
    auto phone = key->open("phone", sealed.phone);
    if (!phone) return std::move(phone).error();
    auto payment_url = key->open("payment_url", sealed.payment_url);
    if (!payment_url) return std::move(payment_url).error();
    out.transient_available = true;
    out.national_id = std::move(*national_id);
    out.phone = std::move(*phone);
    out.payment_url = std::move(*payment_url);
  }
  if (retained_key_present) {
    auto key = unlock(session_id, KeyClass::retained, sealed.retained_key);
    if (!key) return std::move(key).error();
    auto name = key->open("name", sealed.name);
    if (!name) return std::move(name).error();
    auto address = key->open("address", sealed.address);
    if (!address) return std::move(address).error();
    auto email = key->open("email", sealed.email);
    if (!email) return std::move(email).error();
    out.retained_available = true;
    out.name = std::move(*name);
    out.email = std::move(*email);
    if (*address) out.address = split_address(**address);
  }
  return out;
}

common::Result<WrappedKey> PayerVault::rewrap(std::string_view session_id, KeyClass key_class,
                                              const WrappedKey& key) const {
  auto unlocked = unlock(session_id, key_class, key);
  if (!unlocked) return std::move(unlocked).error();
  const std::string active = keys_.active_key_id();
  auto master_key = keys_.master_key(active);
  if (!master_key) {
    return make_error(ErrorCode::internal_error, "the active master key is not available");
  }
  const ScopedKey master(*master_key);
  common::cleanse(*master_key);
  return WrappedKey{active, common::wrap_key(master.key, active, unlocked->key_,
                                             key_context(session_id, key_class))};
}

}  // namespace visitpay::app
