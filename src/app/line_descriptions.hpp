#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/payer_vault.hpp"
#include "common/crypto.hpp"
#include "common/result.hpp"
#include "domain/checkout.hpp"

namespace visitpay::app {

// A visit line's description is health information ("Konsultasjon psykiater"). It is sealed under
// the session's retained key as field "line:<line_no>" (line_no from 1, in check-out order), so it
// is kept for as long as the name and address on the invoice and destroyed with them. Invoice and
// credit-note lines hold the session line's ciphertext (same key, same line_no, same associated
// data), as buyer_name_enc does.

common::Bytes seal_description(const UnlockedKey& retained, int line_no,
                               std::string_view description);

// nullopt when `sealed` is absent; an error (never garbage) when it does not open.
common::Result<std::optional<std::string>> open_description(
    const UnlockedKey& retained, int line_no, const std::optional<common::Bytes>& sealed);

// Every line's description of a check-out, sealed under the session's retained key (unwrapped
// once), in order.
common::Result<std::vector<common::Bytes>> seal_descriptions(
    const PayerVault& vault, std::string_view session_id, const WrappedKey& retained_key,
    const std::vector<domain::CheckoutLine>& lines);

}  // namespace visitpay::app
