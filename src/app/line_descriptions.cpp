#include "app/line_descriptions.hpp"

namespace visitpay::app {

namespace {

std::string line_field(int line_no) {
  return "line:" + std::to_string(line_no);
}

}  // namespace

common::Bytes seal_description(const UnlockedKey& retained, int line_no,
                               std::string_view description) {
  return retained.seal(line_field(line_no), description);
}

common::Result<std::optional<std::string>> open_description(
    const UnlockedKey& retained, int line_no, const std::optional<common::Bytes>& sealed) {
  return retained.open(line_field(line_no), sealed);
}

common::Result<std::vector<common::Bytes>> seal_descriptions(
    const PayerVault& vault, std::string_view session_id, const WrappedKey& retained_key,
    const std::vector<domain::CheckoutLine>& lines) {
  auto retained = vault.unlock(session_id, KeyClass::retained, retained_key);
  if (!retained) return std::move(retained).error();
  std::vector<common::Bytes> out;
  out.reserve(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out.push_back(seal_description(*retained, static_cast<int>(i) + 1, lines[i].description));
  }
  return out;
}

}  // namespace visitpay::app
