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
  return s;
}

namespace {

common::Result<std::optional<common::DataKey>> unwrap(const ports::KeyStore& keys,
                                                      std::string_view session_id,
                                                      KeyClass key_class, const WrappedKey& key) {
  auto master_key = keys.master_key(key.master_key_id);
  if (!master_key) {
    return make_error(ErrorCode::internal_error,
                      "master key " + key.master_key_id + " is not available");
  }
  const ScopedKey master(*master_key);
  common::cleanse(*master_key);
  auto data_key = common::unwrap_key(master.key, key.master_key_id, key.wrapped,
                                     key_context(session_id, key_class));
  if (!data_key) {
    return make_error(ErrorCode::internal_error, std::string("the ") +
                                                     std::string(key_class_name(key_class)) +
                                                     " data key of a session does not unwrap");
  }
  return std::optional<common::DataKey>(*data_key);
}

common::Result<std::optional<std::string>> open_blob(const common::DataKey& key,
                                                     const std::optional<common::Bytes>& blob,
                                                     const std::string& context) {
  if (!blob) return std::optional<std::string>{};
  auto text = common::open(key, *blob, context);
  if (!text) {
    return make_error(ErrorCode::internal_error, "a payer field does not decrypt");
  }
  return std::optional<std::string>(std::move(*text));
}

}  // namespace

common::Result<OpenedPayer> PayerVault::open(std::string_view session_id, const SealedPayer& sealed,
                                             bool transient_key_present,
                                             bool retained_key_present) const {
  OpenedPayer out;
  if (transient_key_present) {
    auto key = unwrap(keys_, session_id, KeyClass::transient, sealed.transient_key);
    if (!key) return std::move(key).error();
    ScopedKey data(**key);
    common::cleanse(**key);
    auto national_id = open_blob(data.key, sealed.national_id,
                                 field_context(session_id, KeyClass::transient, "national_id"));
    if (!national_id) return std::move(national_id).error();
    auto phone =
        open_blob(data.key, sealed.phone, field_context(session_id, KeyClass::transient, "phone"));
    if (!phone) return std::move(phone).error();
    out.transient_available = true;
    out.national_id = std::move(*national_id);
    out.phone = std::move(*phone);
  }
  if (retained_key_present) {
    auto key = unwrap(keys_, session_id, KeyClass::retained, sealed.retained_key);
    if (!key) return std::move(key).error();
    ScopedKey data(**key);
    common::cleanse(**key);
    auto name =
        open_blob(data.key, sealed.name, field_context(session_id, KeyClass::retained, "name"));
    if (!name) return std::move(name).error();
    auto address = open_blob(data.key, sealed.address,
                             field_context(session_id, KeyClass::retained, "address"));
    if (!address) return std::move(address).error();
    out.retained_available = true;
    out.name = std::move(*name);
    if (*address) out.address = split_address(**address);
  }
  return out;
}

common::Result<std::optional<std::string>> PayerVault::open_field(
    std::string_view session_id, KeyClass key_class, std::string_view field, const WrappedKey& key,
    const std::optional<common::Bytes>& blob) const {
  if (!blob) return std::optional<std::string>{};
  auto data_key = unwrap(keys_, session_id, key_class, key);
  if (!data_key) return std::move(data_key).error();
  ScopedKey data(**data_key);
  common::cleanse(**data_key);
  return open_blob(data.key, blob, field_context(session_id, key_class, field));
}

common::Result<common::Bytes> PayerVault::seal_field(std::string_view session_id,
                                                     KeyClass key_class, std::string_view field,
                                                     const WrappedKey& key,
                                                     std::string_view plaintext) const {
  auto data_key = unwrap(keys_, session_id, key_class, key);
  if (!data_key) return std::move(data_key).error();
  ScopedKey data(**data_key);
  common::cleanse(**data_key);
  return common::seal(data.key, plaintext, field_context(session_id, key_class, field));
}

common::Result<WrappedKey> PayerVault::rewrap(std::string_view session_id, KeyClass key_class,
                                              const WrappedKey& key) const {
  auto data_key = unwrap(keys_, session_id, key_class, key);
  if (!data_key) return std::move(data_key).error();
  ScopedKey data(**data_key);
  common::cleanse(**data_key);
  const std::string active = keys_.active_key_id();
  auto master_key = keys_.master_key(active);
  if (!master_key) {
    return make_error(ErrorCode::internal_error, "the active master key is not available");
  }
  const ScopedKey master(*master_key);
  common::cleanse(*master_key);
  return WrappedKey{
      active, common::wrap_key(master.key, active, data.key, key_context(session_id, key_class))};
}

}  // namespace visitpay::app
