#include "adapters/payment/swedbankpay/swedbankpay_wire.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

namespace visitpay::adapters::payment::swedbankpay {

using common::ErrorCode;
using common::make_error;
using Json = nlohmann::json;

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const Json* member(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string string_member(const Json& object, const char* key) {
  const Json* value = member(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

std::int64_t integer_member(const Json& object, const char* key) {
  const Json* value = member(object, key);
  if (value == nullptr) return 0;
  if (value->is_number_unsigned()) {
    const auto u = value->get<std::uint64_t>();
    return u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
               ? 0
               : static_cast<std::int64_t>(u);
  }
  if (value->is_number_integer()) return value->get<std::int64_t>();
  return 0;
}

ports::TransactionType parse_transaction_type(std::string_view text) {
  if (text == "Authorization") return ports::TransactionType::authorization;
  if (text == "Sale") return ports::TransactionType::sale;
  return ports::TransactionType::none;
}

// The payeeReferences of an expanded `financialTransactions` node: its list
// (`financialTransactionsList`, as the v3.1 resource model names it) or, in the shape the
// summary in providers.md §7.3 gives, an array of transactions.
std::vector<ports::ProviderTransaction> transactions_of(const Json& node) {
  const Json* list = &node;
  if (node.is_object()) list = member(node, "financialTransactionsList");
  std::vector<ports::ProviderTransaction> out;
  if (list == nullptr || !list->is_array()) return out;
  for (const Json& item : *list) {
    ports::ProviderTransaction t{string_member(item, "id"), string_member(item, "payeeReference")};
    if (!t.payee_reference.empty()) out.push_back(std::move(t));
  }
  return out;
}

std::string dump(const Json& json) {
  // Replace rather than throw on invalid UTF-8 in caller-supplied text.
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

const Operation* ParsedOrder::find(std::string_view rel) const {
  auto it = std::find_if(operations.begin(), operations.end(),
                         [&](const Operation& op) { return op.rel == rel; });
  return it == operations.end() ? nullptr : &*it;
}

ports::PaymentStatus parse_status(std::string_view status) {
  using ports::PaymentStatus;
  if (status == "Initialized") return PaymentStatus::open;
  if (status == "Paid") return PaymentStatus::paid;
  if (status == "Failed") return PaymentStatus::failed;
  if (status == "Cancelled") return PaymentStatus::cancelled;
  if (status == "Reversed") return PaymentStatus::reversed;
  if (status == "Aborted") return PaymentStatus::aborted;
  return PaymentStatus::unknown;
}

common::Result<ParsedOrder> parse_payment_order(std::string_view body) {
  const Json root = Json::parse(body, nullptr, false);
  if (root.is_discarded() || !root.is_object()) {
    return make_error(ErrorCode::provider_unavailable,
                      "Swedbank Pay answered with invalid JSON for a payment order");
  }
  const Json* po = member(root, "paymentOrder");
  if (po == nullptr) po = member(root, "paymentorder");
  if (po == nullptr || !po->is_object()) {
    return make_error(ErrorCode::provider_unavailable,
                      "Swedbank Pay answered without a paymentOrder object");
  }
  ParsedOrder parsed;
  parsed.order.id = string_member(*po, "id");
  if (parsed.order.id.empty()) {
    return make_error(ErrorCode::provider_unavailable,
                      "Swedbank Pay answered with a paymentOrder without an id");
  }
  parsed.status_text = string_member(*po, "status");
  parsed.order.status = parse_status(parsed.status_text);
  parsed.order.amount = integer_member(*po, "amount");
  parsed.order.remaining_capture_amount = integer_member(*po, "remainingCaptureAmount");
  parsed.order.remaining_reversal_amount = integer_member(*po, "remainingReversalAmount");
  if (const Json* transactions = member(*po, "financialTransactions")) {
    parsed.order.transactions = transactions_of(*transactions);
  }
  if (const Json* paid = member(*po, "paid"); paid != nullptr && paid->is_object()) {
    parsed.order.instrument = string_member(*paid, "instrument");
    parsed.order.transaction_type = parse_transaction_type(string_member(*paid, "transactionType"));
    parsed.order.payee_reference = string_member(*paid, "payeeReference");
  }
  // Expanded payeeInfo (any status), else what the paid node said.
  if (const Json* payee = member(*po, "payeeInfo"); payee != nullptr && payee->is_object()) {
    if (auto reference = string_member(*payee, "payeeReference"); !reference.empty()) {
      parsed.order.payee_reference = std::move(reference);
    }
  }

  const Json* operations = member(root, "operations");
  if (operations == nullptr) operations = member(*po, "operations");
  if (operations != nullptr && operations->is_array()) {
    for (const Json& op : *operations) {
      Operation operation{string_member(op, "rel"), string_member(op, "method"),
                          string_member(op, "href"), string_member(op, "contentType")};
      if (operation.rel.empty() || operation.href.empty()) continue;
      parsed.operations.push_back(std::move(operation));
    }
  }
  if (const Operation* link = parsed.find("redirect-checkout")) {
    parsed.order.payment_url = link->href;
  }
  parsed.order.can_abort = parsed.find("abort") != nullptr;
  parsed.order.can_capture = parsed.find("capture") != nullptr;
  parsed.order.can_cancel = parsed.find("cancel") != nullptr;
  parsed.order.can_reverse = parsed.find("reversal") != nullptr;
  return parsed;
}

std::string Problem::kind() const {
  std::string_view t = type;
  while (!t.empty() && t.back() == '/')
    t.remove_suffix(1);
  const auto slash = t.rfind('/');
  return std::string(slash == std::string_view::npos ? t : t.substr(slash + 1));
}

bool Problem::mentions(std::string_view needle) const {
  const std::string n = lower(needle);
  auto has = [&](const std::string& text) { return lower(text).find(n) != std::string::npos; };
  if (has(type) || has(title) || has(detail)) return true;
  return std::any_of(names.begin(), names.end(), has) ||
         std::any_of(descriptions.begin(), descriptions.end(), has);
}

// Only machine-meant parts count: the type and the names of the problems.
bool Problem::about_order_state() const {
  const std::string k = lower(kind());
  for (std::string_view word :
       {"state", "status", "conflict", "notallowed", "notpermitted", "forbidden"}) {
    if (k.find(word) != std::string::npos) return true;
  }
  return std::any_of(names.begin(), names.end(), [](const std::string& name) {
    const std::string n = lower(name);
    return n.find("state") != std::string::npos || n.ends_with("status");
  });
}

std::optional<Problem> parse_problem(std::string_view body) {
  const Json root = Json::parse(body, nullptr, false);
  if (root.is_discarded() || !root.is_object()) return std::nullopt;
  Problem p;
  p.type = string_member(root, "type");
  p.title = string_member(root, "title");
  p.detail = string_member(root, "detail");
  p.instance = string_member(root, "instance");
  p.status = static_cast<int>(std::clamp<std::int64_t>(integer_member(root, "status"), 0, 999));
  if (const Json* problems = member(root, "problems");
      problems != nullptr && problems->is_array()) {
    for (const Json& item : *problems) {
      p.names.push_back(string_member(item, "name"));
      p.descriptions.push_back(string_member(item, "description"));
    }
  }
  if (p.type.empty() && p.title.empty() && p.names.empty()) return std::nullopt;
  return p;
}

std::string create_order_body(const ports::PaymentOrderRequest& request,
                              const CreateOrderParties& parties) {
  Json urls = Json::object();
  urls["hostUrls"] = request.host_urls;
  urls["completeUrl"] = request.complete_url;
  urls["cancelUrl"] = request.cancel_url;
  if (!request.callback_url.empty()) urls["callbackUrl"] = request.callback_url;
  if (!request.terms_of_service_url.empty()) {
    urls["termsOfServiceUrl"] = request.terms_of_service_url;
  }

  Json payee = Json::object();
  payee["payeeId"] = parties.payee_id;
  payee["payeeReference"] = request.payee_reference;
  if (!parties.payee_name.empty()) payee["payeeName"] = parties.payee_name;
  if (!request.order_reference.empty()) payee["orderReference"] = request.order_reference;

  Json order = Json::object();
  order["operation"] = "Purchase";
  order["currency"] = request.currency;
  order["amount"] = request.amount;
  order["vatAmount"] = request.vat_amount;
  order["description"] = request.description;
  order["userAgent"] = parties.user_agent;
  order["language"] = request.language;
  order["urls"] = std::move(urls);
  order["payeeInfo"] = std::move(payee);

  Json root = Json::object();
  root["paymentorder"] = std::move(order);
  return dump(root);
}

std::string abort_body() {
  Json order = Json::object();
  order["operation"] = "Abort";
  order["abortReason"] = "CancelledByConsumer";
  Json root = Json::object();
  root["paymentorder"] = std::move(order);
  return dump(root);
}

std::string capture_body(const ports::CaptureRequest& request) {
  Json transaction = Json::object();
  transaction["description"] = request.description;
  transaction["amount"] = request.amount;
  transaction["vatAmount"] = request.vat_amount;
  transaction["payeeReference"] = request.payee_reference;
  Json root = Json::object();
  root["transaction"] = std::move(transaction);
  return dump(root);
}

std::string cancel_body(const ports::CancelRequest& request) {
  Json transaction = Json::object();
  transaction["description"] = request.description;
  transaction["payeeReference"] = request.payee_reference;
  Json root = Json::object();
  root["transaction"] = std::move(transaction);
  return dump(root);
}

std::string reversal_body(const ports::ReversalRequest& request) {
  Json transaction = Json::object();
  transaction["description"] = request.description;
  transaction["amount"] = request.amount;
  transaction["vatAmount"] = request.vat_amount;
  transaction["payeeReference"] = request.payee_reference;
  Json root = Json::object();
  root["transaction"] = std::move(transaction);
  return dump(root);
}

}  // namespace visitpay::adapters::payment::swedbankpay
