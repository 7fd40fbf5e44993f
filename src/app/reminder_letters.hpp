#pragma once

#include <string_view>

#include "domain/invoice.hpp"
#include "ports/collection_agency.hpp"
#include "store/invoice_store.hpp"

namespace visitpay::app {

// The letter of a purring or inkassovarsel step (`reminder`) on a stored invoice whose buyer has
// been revealed: what is owed (the invoice, the fees charged so far, what was paid), the new
// deadline, and the paragraphs the law asks for. `agency`: the collection agency an inkassovarsel
// names ("" = none configured).
domain::InvoiceDocument reminder_letter(const store::InvoiceRecord& invoice,
                                        const store::ReminderRecord& reminder,
                                        std::string_view agency);

// What the collection agency gets for a hand-off step (`handoff`).
ports::CollectionCase collection_case(const store::InvoiceRecord& invoice,
                                      const store::ReminderRecord& handoff,
                                      std::string_view agency);

}  // namespace visitpay::app
