#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "store/invoice_store.hpp"

namespace visitpay::http {

// The API view of an invoice. `detail` adds the buyer, lines and history (GET /v1/invoices/{id});
// the list shows what a reviewer scans, without the buyer's address.
nlohmann::json invoice_json(const store::InvoiceRecord& invoice, bool detail);

// Keyset cursor of the review queue: opaque to clients ("<created_at micros>.<id>").
std::string encode_cursor(const store::InvoiceCursor& cursor);
std::optional<store::InvoiceCursor> decode_cursor(std::string_view text);

}  // namespace visitpay::http
