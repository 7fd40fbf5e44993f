// The mock Swedbank Pay (Payment Order API v3.1). Facts: providers.md section 1.9.
//
// Provider API (bearer token; POST/PATCH need Content-Type application/json;version=3.1):
//   POST  /psp/paymentorders                      create (200/201, or problems)
//   GET   /psp/paymentorders/<guid>[?$expand=..]  paid, failed, aborted, urls, payeeinfo,
//                                                  financialtransactions expand
//   PATCH /psp/paymentorders/<guid>               Abort (from Initialized) or UpdateOrder
//   POST  /psp/paymentorders/<guid>/captures|cancellations|reversals
//   GET   /psp/paymentorders/<guid>/paid|failed|aborted|urls|payeeinfo
// Payer page: GET /checkout/<token>, POST /checkout/<token> (action=pay&instrument=..|cancel).
// Controls (no auth): POST /_mock/faults, GET /_mock/faults, GET /_mock/orders[/<guid>],
//   POST /_mock/orders/<guid>/pay, POST /_mock/orders/<guid>/status, POST /_mock/reset, GET /.
#include "mocks/swedbankpay/swedbankpay_mock.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "mocks/common/mock_http_server.hpp"
#include "mocks/swedbankpay/payer_page.hpp"
#include "mocks/swedbankpay/swedbankpay_wire.hpp"
#include "mocks/swedbankpay/task_scheduler.hpp"

namespace visitpay::mocks {

namespace swedbankpay {

struct Transaction {
  std::string guid;
  std::string kind;  // Capture, Cancellation, Reversal
  std::string created;
  std::int64_t number = 0;
  std::int64_t amount = 0;
  std::int64_t vat_amount = 0;
  std::string description;
  std::string payee_reference;
};

struct Order {
  std::string guid, id, token, trace_id, created, updated;
  std::string status = "Initialized";  // what GET shows
  std::string currency, description, user_agent, language;
  std::int64_t amount = 0, vat_amount = 0;
  nlohmann::json urls, payee_info, payer;  // as received
  std::string payee_reference, order_reference, merchant, callback_url, complete_url, cancel_url;
  bool guest_mode = true;
  // Payment, once visible on GET.
  std::string instrument, transaction_type;
  std::int64_t paid_number = 0;
  bool payment_in_flight = false;  // paid_after_abort: Aborted, yet pay() still completes
  bool payment_pending = false;    // paid, but GET still shows Initialized (callback_before_status)
  std::int64_t captured = 0, cancelled = 0, reversed = 0;
  std::int64_t remaining_capture = 0, remaining_cancellation = 0, remaining_reversal = 0;
  std::string abort_reason;
  std::vector<Transaction> transactions;
  int creates_with_same_payee_reference = 1;
  int callbacks_sent = 0, callbacks_acknowledged = 0;
  int post_purchase_refusals = 0;
};

struct ArmedFault {
  std::string name;
  int remaining = 1;
  std::optional<int> retry_after_s;
};

struct Callback {
  std::string guid, url, body;
  std::chrono::steady_clock::time_point t0;  // the transaction time the retry schedule counts from
  std::uint64_t generation = 0;
};

}  // namespace swedbankpay

namespace sp = swedbankpay;
using sp::OrderedJson;
using sp::ProblemItem;
using Json = nlohmann::json;
using Clock = sp::TaskScheduler::Clock;
using sp::ArmedFault;
using sp::Callback;
using sp::Order;
using sp::Transaction;

namespace {

constexpr std::string_view kOrdersPath = "/psp/paymentorders";
constexpr std::string_view kOrderPrefix = "/psp/paymentorders/";
constexpr std::string_view kCheckoutPrefix = "/checkout/";
// Callback retries after the initial attempt, in seconds after the transaction (providers.md 1.4).
constexpr std::array<double, 6> kRetrySeconds = {30, 60, 360, 432, 864, 1265};
constexpr std::chrono::seconds kTimeoutFaultDelay{15};
constexpr std::chrono::milliseconds kCallbackTimeout{5000};
// out_of_order_callbacks holds the first callback until the second exists, at most this long.
constexpr std::chrono::seconds kOutOfOrderHold{5};
constexpr std::size_t kCallbackWorkers = 4;

const std::set<std::string>& http_faults() {
  static const std::set<std::string> values = {
      "http_500", "http_502", "http_504", "rate_limit", "timeout", "lose_response", "invalid_json"};
  return values;
}
// Languages Checkout v3 knows; anything else falls back to en-US (providers.md 1.2).
const std::set<std::string>& known_languages() {
  static const std::set<std::string> values = {"nb-NO", "sv-SE", "da-DK", "fi-FI", "en-US",
                                               "de-DE", "fr-FR", "es-ES", "is-IS", "pl-PL"};
  return values;
}

std::string guid_of(const std::string& id_or_guid) {
  std::string text = id_or_guid;
  if (auto pos = text.rfind(kOrderPrefix); pos != std::string::npos) {
    text = text.substr(pos + kOrderPrefix.size());
  }
  return text.substr(0, text.find_first_of("/?"));
}

bool two_phase(const std::string& instrument) {
  return instrument != "Swish" && instrument != "Trustly";
}

bool valid_instrument(const std::string& instrument) {
  if (instrument.empty() || instrument.size() > 40) return false;
  for (char c : instrument) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

bool is_url(const Json& value) {
  if (!value.is_string()) return false;
  const auto& text = value.get_ref<const std::string&>();
  return (text.rfind("http://", 0) == 0 && text.size() > 7) ||
         (text.rfind("https://", 0) == 0 && text.size() > 8);
}

// The `paymentorder` node of a request body; the top-level key is matched case-insensitively as
// the real (.NET) API binds it.
const Json* payment_order_node(const Json& body) {
  if (!body.is_object()) return nullptr;
  for (const auto& [key, value] : body.items()) {
    std::string lower = key;
    for (auto& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "paymentorder") return &value;
  }
  return nullptr;
}

std::string required(const std::string& field) {
  return "The " + field + " field is required.";
}

// Field validators: add a problem and return false when `node[key]` is missing or invalid.
bool check_string(const Json& node, const char* key, const std::string& name,
                  std::vector<ProblemItem>& problems, std::size_t max_chars = 0) {
  const auto it = node.find(key);
  if (it == node.end() || it->is_null()) {
    problems.push_back({name, required(key)});
    return false;
  }
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    problems.push_back({name, std::string("The field ") + key + " must be a non-empty string."});
    return false;
  }
  if (max_chars > 0 && sp::utf8_length(it->get_ref<const std::string&>()) > max_chars) {
    problems.push_back({name, std::string("The field ") + key + " must be a string with a " +
                                  "maximum length of " + std::to_string(max_chars) + "."});
    return false;
  }
  return true;
}

bool check_amount(const Json& node, const char* key, const std::string& name,
                  std::vector<ProblemItem>& problems, bool allow_zero) {
  const auto it = node.find(key);
  if (it == node.end() || it->is_null()) {
    problems.push_back({name, required(key)});
    return false;
  }
  if (!it->is_number_integer() || it->get<std::int64_t>() < (allow_zero ? 0 : 1)) {
    problems.push_back({name, std::string("The field ") + key + " must be " +
                                  (allow_zero ? "a non-negative" : "a positive") +
                                  " integer in the lowest monetary unit."});
    return false;
  }
  return true;
}

bool check_url(const Json& node, const char* key, const std::string& name,
               std::vector<ProblemItem>& problems, bool is_required) {
  const auto it = node.find(key);
  if (it == node.end() || it->is_null()) {
    if (is_required) problems.push_back({name, required(key)});
    return !is_required;
  }
  if (!is_url(*it)) {
    problems.push_back({name, std::string("The field ") + key + " must be an absolute URL."});
    return false;
  }
  return true;
}

bool check_payee_reference(const Json& node, const std::string& name,
                           std::vector<ProblemItem>& problems) {
  const auto it = node.find("payeeReference");
  if (it == node.end() || it->is_null()) {
    problems.push_back({name, required("payeeReference")});
    return false;
  }
  if (!it->is_string() || !sp::valid_payee_reference(it->get_ref<const std::string&>())) {
    problems.push_back({name, "The field payeeReference must match [A-Za-z0-9]{1,30}."});
    return false;
  }
  return true;
}

// The request fields providers.md §1.2 lists as required are always checked. `strict` also
// requires what a production create of this service must carry and a real account may insist on
// (callbackUrl, termsOfServiceUrl: providers.md lists them optional, issue 12 treats them as
// required), so a request without them fails the flow tests instead of passing a kind mock.
std::vector<ProblemItem> validate_create(const Json* po, bool strict) {
  std::vector<ProblemItem> problems;
  if (po == nullptr || !po->is_object()) {
    problems.push_back({"PaymentOrder", required("paymentorder")});
    return problems;
  }
  if (check_string(*po, "operation", "PaymentOrder.Operation", problems) &&
      po->at("operation") != "Purchase") {
    problems.push_back(
        {"PaymentOrder.Operation", "The mock supports only the Purchase operation on create."});
  }
  if (check_string(*po, "currency", "PaymentOrder.Currency", problems)) {
    const auto& currency = po->at("currency").get_ref<const std::string&>();
    const bool three_letters =
        currency.size() == 3 &&
        std::all_of(currency.begin(), currency.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    if (!three_letters) {
      problems.push_back({"PaymentOrder.Currency", "The field currency must be an ISO 4217 code."});
    }
  }
  const bool amount_ok = check_amount(*po, "amount", "PaymentOrder.Amount", problems, false);
  if (check_amount(*po, "vatAmount", "PaymentOrder.VatAmount", problems, true) && amount_ok &&
      po->at("vatAmount").get<std::int64_t>() > po->at("amount").get<std::int64_t>()) {
    problems.push_back({"PaymentOrder.VatAmount", "The field vatAmount must not exceed amount."});
  }
  check_string(*po, "description", "PaymentOrder.Description", problems, 40);
  check_string(*po, "userAgent", "PaymentOrder.UserAgent", problems);
  check_string(*po, "language", "PaymentOrder.Language", problems);

  const auto urls = po->find("urls");
  if (urls == po->end() || !urls->is_object()) {
    problems.push_back({"PaymentOrder.Urls", required("urls")});
  } else {
    const auto hosts = urls->find("hostUrls");
    if (hosts == urls->end() || !hosts->is_array() || hosts->empty()) {
      problems.push_back({"PaymentOrder.Urls.HostUrls", required("hostUrls")});
    } else if (!std::all_of(hosts->begin(), hosts->end(), is_url)) {
      problems.push_back({"PaymentOrder.Urls.HostUrls", "Every hostUrls entry must be a URL."});
    }
    check_url(*urls, "completeUrl", "PaymentOrder.Urls.CompleteUrl", problems, true);
    check_url(*urls, "cancelUrl", "PaymentOrder.Urls.CancelUrl", problems, true);
    check_url(*urls, "callbackUrl", "PaymentOrder.Urls.CallbackUrl", problems, strict);
    check_url(*urls, "paymentUrl", "PaymentOrder.Urls.PaymentUrl", problems, false);
    check_url(*urls, "logoUrl", "PaymentOrder.Urls.LogoUrl", problems, false);
    check_url(*urls, "termsOfServiceUrl", "PaymentOrder.Urls.TermsOfServiceUrl", problems, strict);
  }

  const auto payee = po->find("payeeInfo");
  if (payee == po->end() || !payee->is_object()) {
    problems.push_back({"PaymentOrder.PayeeInfo", required("payeeInfo")});
  } else {
    check_string(*payee, "payeeId", "PaymentOrder.PayeeInfo.PayeeId", problems);
    check_payee_reference(*payee, "PaymentOrder.PayeeInfo.PayeeReference", problems);
    if (payee->contains("payeeName") && !payee->at("payeeName").is_null()) {
      check_string(*payee, "payeeName", "PaymentOrder.PayeeInfo.PayeeName", problems);
    }
    if (payee->contains("orderReference") && !payee->at("orderReference").is_null()) {
      check_string(*payee, "orderReference", "PaymentOrder.PayeeInfo.OrderReference", problems, 50);
    }
  }
  if (const auto payer = po->find("payer");
      payer != po->end() && !payer->is_null() && !payer->is_object()) {
    problems.push_back({"PaymentOrder.Payer", "The field payer must be an object."});
  }
  return problems;
}

std::string string_or(const Json& node, const char* key, std::string fallback = {}) {
  if (!node.is_object()) return fallback;
  const auto it = node.find(key);
  return it != node.end() && it->is_string() ? it->get<std::string>() : fallback;
}

OrderedJson link_node(const std::string& id) {
  return OrderedJson{{"id", id}};
}

OrderedJson control_json(int, const std::string& message) {
  return OrderedJson{{"error", message}};
}

MockResponse plain_json(int status, const OrderedJson& body) {
  MockResponse out;
  out.status = status;
  out.content_type = "application/json";
  out.body = body.dump();
  return out;
}

MockResponse html(int status, std::string body) {
  MockResponse out;
  out.status = status;
  out.content_type = "text/html; charset=utf-8";
  out.body = std::move(body);
  return out;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

}  // namespace

struct SwedbankPayMock::Impl {
  explicit Impl(SwedbankPayMockOptions options)
      : options_(std::move(options)), rng_(std::random_device{}()), scheduler_(kCallbackWorkers) {
    if (options_.create_status != 200 && options_.create_status != 201) {
      throw std::invalid_argument("create_status must be 200 or 201");
    }
    if (options_.duplicate_status < 400 || options_.duplicate_status > 499) {
      throw std::invalid_argument("duplicate_status must be a 4xx status");
    }
    if (options_.callback_time_scale < 0) {
      throw std::invalid_argument("callback_time_scale must not be negative");
    }
    while (!options_.public_url.empty() && options_.public_url.back() == '/') {
      options_.public_url.pop_back();
    }
    // Transaction numbers look like the real ones (11 digits) and never repeat within a run.
    next_number_ = 99'100'000'000 + static_cast<std::int64_t>(rng_() % 1'000'000) * 100;
    server_ = std::make_unique<MockHttpServer>(options_.host, options_.port,
                                               [this](const MockRequest& r) { return handle(r); });
    ready_ = true;
  }

  ~Impl() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    stop_cv_.notify_all();
    if (server_) server_->stop();
    scheduler_.stop();
  }

  std::string base_url() const {
    return options_.public_url.empty() ? server_->base_url() : options_.public_url;
  }

  // A problem's `instance`: a trace id for the provider's support, never the resource
  // (providers.md §9), so no client can learn an order from a refusal.
  std::string trace() const { return sp::problem_instance(ready_ ? base_url() : "http://mock"); }

  // ---- Controls ---------------------------------------------------------------------------

  void inject(const std::string& fault, int count, std::optional<int> retry_after_s) {
    if (count < 1) throw std::invalid_argument("count must be at least 1");
    if (retry_after_s && *retry_after_s < 0) {
      throw std::invalid_argument("retry_after_s must not be negative");
    }
    std::lock_guard lock(mutex_);
    if (http_faults().contains(fault)) {
      http_faults_.push_back(ArmedFault{fault, count, retry_after_s});
    } else if (fault == "abort_refused_in_app") {
      abort_refusals_ += count;
    } else if (fault == "paid_after_abort") {
      paid_after_aborts_ += count;
    } else if (fault == "duplicate_callback") {
      duplicate_callbacks_ += count;
    } else if (fault == "callback_before_status") {
      callbacks_before_status_ += count;
    } else if (fault == "out_of_order_callbacks") {
      out_of_order_pairs_ += count;
    } else if (fault == "lose_post_purchase_response") {
      lost_post_purchase_answers_ += count;
    } else {
      throw std::invalid_argument("unknown fault '" + fault + "'");
    }
  }

  std::vector<std::string> armed_faults_locked() const {
    std::vector<std::string> out;
    auto add = [&out](const std::string& name, int n) {
      if (n > 0) out.push_back(name + " x" + std::to_string(n));
    };
    for (const auto& f : http_faults_)
      add(f.name, f.remaining);
    add("abort_refused_in_app", abort_refusals_);
    add("paid_after_abort", paid_after_aborts_);
    add("duplicate_callback", duplicate_callbacks_);
    add("callback_before_status", callbacks_before_status_);
    add("out_of_order_callbacks", out_of_order_pairs_);
    add("lose_post_purchase_response", lost_post_purchase_answers_);
    return out;
  }

  bool pay(const std::string& id, const std::string& instrument, const std::string& type) {
    std::lock_guard lock(mutex_);
    Order* order = find_locked(id);
    return order != nullptr && pay_locked(*order, instrument, type);
  }

  bool set_status(const std::string& id, const std::string& status) {
    std::lock_guard lock(mutex_);
    Order* order = find_locked(id);
    return order != nullptr && set_status_locked(*order, status);
  }

  OrderSnapshot snapshot_locked(const Order& o) const {
    return OrderSnapshot{o.id,
                         o.status,
                         o.payee_reference,
                         o.instrument,
                         o.transaction_type,
                         o.callback_url,
                         o.amount,
                         o.vat_amount,
                         o.captured,
                         o.remaining_capture,
                         o.creates_with_same_payee_reference,
                         o.callbacks_sent,
                         o.callbacks_acknowledged,
                         std::string(kCheckoutPrefix) + o.token,
                         o.cancelled,
                         o.reversed,
                         o.remaining_reversal,
                         transaction_snapshots(o),
                         o.post_purchase_refusals};
  }

  static std::vector<TransactionSnapshot> transaction_snapshots(const Order& o) {
    std::vector<TransactionSnapshot> out;
    for (const auto& t : o.transactions)
      out.push_back({t.kind, t.amount, t.vat_amount, t.payee_reference, t.description});
    return out;
  }

  std::vector<OrderSnapshot> orders() const {
    std::lock_guard lock(mutex_);
    std::vector<OrderSnapshot> out;
    for (const auto& guid : sequence_)
      out.push_back(snapshot_locked(orders_.at(guid)));
    return out;
  }

  std::size_t create_calls() const {
    std::lock_guard lock(mutex_);
    return create_calls_;
  }

  void clear_faults() {
    std::lock_guard lock(mutex_);
    http_faults_.clear();
    abort_refusals_ = paid_after_aborts_ = duplicate_callbacks_ = callbacks_before_status_ =
        out_of_order_pairs_ = lost_post_purchase_answers_ = 0;
  }

  void reset() {
    std::lock_guard lock(mutex_);
    orders_.clear();
    sequence_.clear();
    tokens_.clear();
    payee_references_.clear();
    http_faults_.clear();
    abort_refusals_ = paid_after_aborts_ = duplicate_callbacks_ = callbacks_before_status_ =
        out_of_order_pairs_ = lost_post_purchase_answers_ = 0;
    held_.reset();
    create_calls_ = 0;
    ++generation_;
    scheduler_.clear();
  }

  // ---- State transitions (mutex_ held) ------------------------------------------------------

  Order* find_locked(const std::string& id_or_guid) {
    if (auto it = orders_.find(guid_of(id_or_guid)); it != orders_.end()) return &it->second;
    // Also the payer page URL or its token.
    std::string token = id_or_guid;
    if (auto pos = token.rfind(kCheckoutPrefix); pos != std::string::npos) {
      token = token.substr(pos + kCheckoutPrefix.size());
    }
    token = token.substr(0, token.find_first_of("/?"));
    if (auto it = tokens_.find(token); it != tokens_.end()) return &orders_.at(it->second);
    return nullptr;
  }

  std::int64_t next_number_locked() { return next_number_++; }

  bool pay_locked(Order& o, std::string instrument, std::string type) {
    const bool payable =
        o.status == "Initialized" || (o.status == "Aborted" && o.payment_in_flight);
    if (!payable || o.payment_pending) return false;
    o.payment_in_flight = false;
    if (instrument.empty()) instrument = "CreditCard";
    if (!valid_instrument(instrument)) return false;
    if (type.empty()) type = two_phase(instrument) ? "Authorization" : "Sale";
    if (type != "Authorization" && type != "Sale") return false;
    const auto number = next_number_locked();
    if (callbacks_before_status_ > 0) {
      // The callback goes out now; GET shows Paid only after status_lag.
      --callbacks_before_status_;
      o.payment_pending = true;
      queue_callback_locked(o, instrument, number);
      scheduler_.after(options_.status_lag, [this, guid = o.guid, generation = generation_,
                                             instrument, type, number] {
        std::lock_guard lock(mutex_);
        if (generation != generation_) return;
        if (auto it = orders_.find(guid); it != orders_.end() && it->second.payment_pending) {
          apply_payment_locked(it->second, instrument, type, number);
        }
      });
      return true;
    }
    apply_payment_locked(o, instrument, type, number);
    queue_callback_locked(o, instrument, number);
    return true;
  }

  void apply_payment_locked(Order& o, const std::string& instrument, const std::string& type,
                            std::int64_t number) {
    o.payment_pending = false;
    o.status = "Paid";
    o.instrument = instrument;
    o.transaction_type = type;
    o.paid_number = number;
    o.updated = sp::now_iso8601();
    if (type == "Authorization") {
      o.remaining_capture = o.amount;
      o.remaining_cancellation = o.amount;
      o.remaining_reversal = 0;
    } else {
      o.captured = o.amount;
      o.remaining_capture = 0;
      o.remaining_cancellation = 0;
      o.remaining_reversal = o.amount;
    }
  }

  Transaction& add_transaction_locked(Order& o, const std::string& kind, std::int64_t amount,
                                      std::int64_t vat_amount, const std::string& payee_reference,
                                      const std::string& description) {
    Transaction t;
    t.guid = sp::new_guid(rng_);
    t.kind = kind;
    t.created = sp::now_iso8601();
    t.number = next_number_locked();
    t.amount = amount;
    t.vat_amount = vat_amount;
    t.description = description;
    t.payee_reference = payee_reference;
    payee_references_[payee_reference] = o.guid;
    o.updated = t.created;
    o.transactions.push_back(std::move(t));
    return o.transactions.back();
  }

  std::string auto_reference_locked(const char* prefix) {
    std::string ref;
    do {
      ref = prefix + std::to_string(next_number_locked());
    } while (payee_references_.contains(ref));
    return ref;
  }

  void capture_locked(Order& o, std::int64_t amount) {
    o.captured += amount;
    o.remaining_capture -= amount;
    o.remaining_cancellation -= amount;
    o.remaining_reversal += amount;
  }

  void cancel_locked(Order& o, const Transaction& t) {
    o.cancelled += t.amount;
    o.remaining_capture -= t.amount;
    o.remaining_cancellation -= t.amount;
    if (o.remaining_capture == 0 && o.captured == 0) {
      o.status = "Cancelled";
      queue_callback_locked(o, o.instrument, t.number);
    }
  }

  void reverse_locked(Order& o, const Transaction& t) {
    o.reversed += t.amount;
    o.remaining_reversal -= t.amount;
    if (o.remaining_reversal == 0 && o.remaining_capture == 0) {
      o.status = "Reversed";
      queue_callback_locked(o, o.instrument, t.number);
    }
  }

  bool set_status_locked(Order& o, const std::string& status) {
    const bool open = o.status == "Initialized" && !o.payment_pending;
    if (status == "Paid") return pay_locked(o, "CreditCard", "");
    if (status == "Failed" || status == "Aborted") {
      if (!open) return false;
      o.status = status;
      o.updated = sp::now_iso8601();
      if (status == "Failed") {
        if (o.instrument.empty()) o.instrument = "CreditCard";
      } else {
        o.abort_reason = "Payment aborted by payer";
      }
      queue_callback_locked(o, o.instrument, next_number_locked());
      return true;
    }
    if (status == "Cancelled") {
      if (o.status != "Paid" || o.transaction_type != "Authorization" || o.captured != 0 ||
          o.remaining_cancellation == 0) {
        return false;
      }
      const auto& t =
          add_transaction_locked(o, "Cancellation", o.remaining_cancellation, 0,
                                 auto_reference_locked("MOCKCANCEL"), "Cancelled by mock control");
      cancel_locked(o, t);
      return true;
    }
    if (status == "Reversed") {
      if (o.status != "Paid" || o.captured == 0) return false;
      if (o.remaining_cancellation > 0) {
        const auto& c = add_transaction_locked(o, "Cancellation", o.remaining_cancellation, 0,
                                               auto_reference_locked("MOCKCANCEL"),
                                               "Cancelled by mock control");
        cancel_locked(o, c);
      }
      if (o.remaining_reversal == 0) return false;
      const auto& r =
          add_transaction_locked(o, "Reversal", o.remaining_reversal, 0,
                                 auto_reference_locked("MOCKREVERSAL"), "Reversed by mock control");
      reverse_locked(o, r);
      return true;
    }
    return false;
  }

  // ---- Callbacks --------------------------------------------------------------------------

  void queue_callback_locked(const Order& o, const std::string& instrument, std::int64_t number) {
    if (o.callback_url.empty()) return;
    OrderedJson body;
    if (!o.order_reference.empty()) body["orderReference"] = o.order_reference;
    body["paymentOrder"] = {{"id", o.id}, {"instrument", instrument}, {"number", number}};
    Callback callback{o.guid, o.callback_url, body.dump(), Clock::now(), generation_};
    if (out_of_order_pairs_ > 0) {
      if (!held_) {
        held_ = callback;
        const auto hold = ++hold_sequence_;
        scheduler_.after(kOutOfOrderHold, [this, hold] { release_held(hold); });
        return;
      }
      Callback first = *held_;
      held_.reset();
      --out_of_order_pairs_;
      scheduler_.after(std::chrono::nanoseconds(0), [this, first, second = callback] {
        deliver(second, 0);
        deliver(first, 0);
      });
      return;
    }
    int copies = 1;
    if (duplicate_callbacks_ > 0) {
      --duplicate_callbacks_;
      copies = 2;
    }
    scheduler_.after(std::chrono::nanoseconds(0), [this, callback, copies] {
      for (int i = 0; i < copies; ++i)
        deliver(callback, 0);
    });
  }

  void release_held(std::uint64_t hold) {
    std::optional<Callback> callback;
    {
      std::lock_guard lock(mutex_);
      if (!held_ || hold != hold_sequence_) return;
      callback = std::move(held_);
      held_.reset();
      if (out_of_order_pairs_ > 0) --out_of_order_pairs_;
    }
    deliver(*callback, 0);
  }

  // One POST of a callback, on a scheduler worker; a non-2xx answer or a failure to connect
  // schedules the next retry of the real schedule, scaled.
  void deliver(const Callback& callback, std::size_t attempt) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || callback.generation != generation_) return;
    }
    const auto result =
        http_post(callback.url, callback.body, "application/json", kCallbackTimeout);
    const bool acknowledged = result.status >= 200 && result.status < 300;
    std::lock_guard lock(mutex_);
    if (stopping_ || callback.generation != generation_) return;
    if (auto it = orders_.find(callback.guid); it != orders_.end()) {
      ++it->second.callbacks_sent;
      if (acknowledged) ++it->second.callbacks_acknowledged;
    }
    if (acknowledged || attempt >= kRetrySeconds.size()) return;
    const auto offset = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(kRetrySeconds[attempt] * options_.callback_time_scale));
    scheduler_.at(callback.t0 + offset,
                  [this, callback, attempt] { deliver(callback, attempt + 1); });
  }

  // ---- JSON views ---------------------------------------------------------------------------

  std::string href(const std::string& path) const { return base_url() + path; }

  OrderedJson operations_locked(const Order& o) const {
    OrderedJson ops = OrderedJson::array();
    auto add = [&ops](const std::string& method, const std::string& url, const char* rel,
                      const char* content_type) {
      ops.push_back(
          {{"method", method}, {"href", url}, {"rel", rel}, {"contentType", content_type}});
    };
    // A fully cancelled or reversed order offers nothing (the cancel example: `operations: []`).
    if (o.status == "Cancelled" || o.status == "Reversed") return ops;
    if (o.status == "Paid") {
      if (o.transaction_type == "Authorization" && o.remaining_capture > 0) {
        add("POST", href(o.id + "/captures"), "capture", "application/json");
      }
      if (o.remaining_cancellation > 0) {
        add("POST", href(o.id + "/cancellations"), "cancel", "application/json");
      }
      if (o.remaining_reversal > 0) {
        add("POST", href(o.id + "/reversals"), "reversal", "application/json");
      }
    }
    // The documented shape (providers.md §1.2): the token, then the `_tc_tid` trace id query.
    add("GET", href(std::string(kCheckoutPrefix) + o.token + "?_tc_tid=" + o.trace_id),
        "redirect-checkout", "text/html");
    add("GET", href(std::string(kCheckoutPrefix) + o.token + "/client.js"), "view-checkout",
        "application/javascript");
    if (o.status == "Initialized" && !o.payment_pending) {
      add("PATCH", href(o.id), "update-order", "application/json");
      add("PATCH", href(o.id), "abort", "application/json");
    }
    return ops;
  }

  OrderedJson paid_node_locked(const Order& o) const {
    OrderedJson paid = link_node(o.id + "/paid");
    if (o.instrument.empty() || o.transaction_type.empty()) return paid;
    paid["instrument"] = o.instrument;
    paid["number"] = o.paid_number;
    paid["payeeReference"] = o.payee_reference;
    if (!o.order_reference.empty()) paid["orderReference"] = o.order_reference;
    paid["transactionType"] = o.transaction_type;
    paid["amount"] = o.amount;
    paid["submittedAmount"] = o.amount;
    paid["feeAmount"] = 0;
    paid["discountAmount"] = 0;
    OrderedJson details = OrderedJson::object();
    if (o.instrument == "CreditCard") {
      details = {{"cardBrand", "Visa"},
                 {"cardType", "Credit"},
                 {"maskedPan", "492500******0004"},
                 {"expiryDate", "12/2030"},
                 {"issuerAuthorizationApprovalCode", "L00302"},
                 {"acquirerTransactionType", "STANDARD"},
                 {"transactionInitiator", "CARDHOLDER"}};
    }
    paid["details"] = details;
    return paid;
  }

  // The v3.1 resource model's shape: {id, financialTransactionsList: [{id, created, updated,
  // type, number, amount, vatAmount, description, payeeReference}]} (providers.md §7.3).
  OrderedJson transactions_node_locked(const Order& o) const {
    OrderedJson node = link_node(o.id + "/financialtransactions");
    OrderedJson list = OrderedJson::array();
    for (const auto& t : o.transactions)
      list.push_back(transaction_json(o, t));
    node["financialTransactionsList"] = std::move(list);
    return node;
  }

  static OrderedJson transaction_json(const Order& o, const Transaction& t) {
    return OrderedJson{{"id", o.id + "/financialtransactions/" + t.guid},
                       {"created", t.created},
                       {"updated", t.created},
                       {"type", t.kind},
                       {"number", t.number},
                       {"amount", t.amount},
                       {"vatAmount", t.vat_amount},
                       {"description", t.description},
                       {"payeeReference", t.payee_reference}};
  }

  OrderedJson failed_node_locked(const Order& o) const {
    OrderedJson failed = link_node(o.id + "/failed");
    if (o.status != "Failed") return failed;
    failed["problem"] = {
        {"type", "https://api.payex.com/psp/errordetail/acquirerinsufficientfunds"},
        {"title", "Operation failed"},
        {"status", 403},
        {"detail", "Unable to complete Authorization transaction, look at problem node!"},
        {"problems",
         {{{"name", "ExternalResponse"},
           {"description",
            "REJECTED_BY_ACQUIRER_INSUFFICIENT_FUNDS-insufficient funds, response-code: 61"}}}}};
    return failed;
  }

  OrderedJson order_json_locked(const Order& o, const std::set<std::string>& expand,
                                bool with_remaining) const {
    OrderedJson po;
    po["id"] = o.id;
    po["created"] = o.created;
    po["updated"] = o.updated;
    po["operation"] = "Purchase";
    po["status"] = o.status;
    po["currency"] = o.currency;
    if (!o.transaction_type.empty()) po["transactionType"] = o.transaction_type;
    po["amount"] = o.amount;
    po["vatAmount"] = o.vat_amount;
    if (with_remaining) {
      po["remainingCaptureAmount"] = o.remaining_capture;
      po["remainingCancellationAmount"] = o.remaining_cancellation;
      po["remainingReversalAmount"] = o.remaining_reversal;
    }
    po["description"] = o.description;
    po["initiatingSystemUserAgent"] = o.user_agent;
    po["language"] = o.language;
    po["availableInstruments"] = {"CreditCard", "Vipps"};
    po["implementation"] = "PaymentsOnly";
    po["integration"] = "Redirect";
    po["instrumentMode"] = false;
    po["guestMode"] = o.guest_mode;
    OrderedJson urls = link_node(o.id + "/urls");
    if (expand.contains("urls")) {
      for (const auto& [key, value] : o.urls.items())
        urls[key] = value;
    }
    po["urls"] = urls;
    OrderedJson payee = link_node(o.id + "/payeeinfo");
    if (expand.contains("payeeinfo")) {
      for (const auto& [key, value] : o.payee_info.items())
        payee[key] = value;
    }
    po["payeeInfo"] = payee;
    po["payer"] = link_node(o.id + "/payers");
    po["history"] = link_node(o.id + "/history");
    po["failed"] = expand.contains("failed") ? failed_node_locked(o) : link_node(o.id + "/failed");
    OrderedJson aborted = link_node(o.id + "/aborted");
    if (expand.contains("aborted") && o.status == "Aborted") {
      aborted["abortReason"] = o.abort_reason;
    }
    po["aborted"] = aborted;
    po["paid"] = expand.contains("paid") ? paid_node_locked(o) : link_node(o.id + "/paid");
    po["cancelled"] = link_node(o.id + "/cancelled");
    po["reversed"] = link_node(o.id + "/reversed");
    po["financialTransactions"] = expand.contains("financialtransactions")
                                      ? transactions_node_locked(o)
                                      : link_node(o.id + "/financialtransactions");
    po["failedAttempts"] = link_node(o.id + "/failedattempts");
    po["postPurchaseFailedAttempts"] = link_node(o.id + "/postpurchasefailedattempts");
    po["metadata"] = link_node(o.id + "/metadata");
    return OrderedJson{{"paymentOrder", po}, {"operations", operations_locked(o)}};
  }

  OrderedJson snapshot_json_locked(const Order& o) const {
    const auto s = snapshot_locked(o);
    return OrderedJson{{"id", s.id},
                       {"guid", o.guid},
                       {"status", s.status},
                       {"payee_reference", s.payee_reference},
                       {"order_reference", o.order_reference},
                       {"description", o.description},
                       {"instrument", s.instrument},
                       {"transaction_type", s.transaction_type},
                       {"callback_url", s.callback_url},
                       {"payment_url", href(std::string(kCheckoutPrefix) + o.token)},
                       {"amount", s.amount},
                       {"vat_amount", s.vat_amount},
                       {"captured", s.captured},
                       {"remaining_capture", s.remaining_capture},
                       {"creates_with_same_payee_reference", s.creates_with_same_payee_reference},
                       {"callbacks_sent", s.callbacks_sent},
                       {"callbacks_acknowledged", s.callbacks_acknowledged},
                       {"cancelled", s.cancelled},
                       {"reversed", s.reversed},
                       {"remaining_reversal", s.remaining_reversal},
                       {"transactions", transactions_node_locked(o)["financialTransactionsList"]},
                       {"post_purchase_refusals", s.post_purchase_refusals}};
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  MockResponse handle(const MockRequest& req) {
    if (!ready_) {  // a request that raced the constructor (server_ not yet assigned)
      return sp::problem_response(503, "systemerror", "The mock is starting.", trace());
    }
    try {
      if (req.path.rfind("/psp/", 0) == 0 || req.path == "/psp") return handle_psp(req);
      if (req.path.rfind(kCheckoutPrefix, 0) == 0) return handle_checkout(req);
      if (req.path.rfind("/_mock/", 0) == 0) return handle_control(req);
      if (req.path == "/" && req.method == "GET") return index();
      return html(404, sp::render_message_page("Ikke funnet", "Siden finnes ikke."));
    } catch (const std::exception& e) {
      return sp::problem_response(500, "systemerror", std::string("Mock error: ") + e.what(),
                                  trace());
    }
  }

  MockResponse handle_psp(const MockRequest& req) {
    if (req.method == "POST" && req.path == kOrdersPath) {
      std::lock_guard lock(mutex_);
      ++create_calls_;
    }
    if (!sp::bearer_matches(req.header("authorization"), options_.token)) {
      auto out = sp::problem_response(
          401, "unauthorized",
          "Authorization header missing or invalid: expected 'Bearer <token>' with a valid token.",
          trace());
      out.headers.emplace_back("WWW-Authenticate", "Bearer");
      return out;
    }
    if ((req.method == "POST" || req.method == "PATCH" || req.method == "PUT") &&
        !sp::is_json_v31(req.header("content-type"))) {
      return sp::problem_response(
          400, "inputerror", "Input validation failed, error description in problems node!",
          trace(),
          {{"Content-Type",
            "Expected 'application/json;version=3.1', got '" + req.header("content-type") + "'."}});
    }
    std::optional<ArmedFault> fault;
    {
      std::lock_guard lock(mutex_);
      if (!http_faults_.empty()) {
        fault = http_faults_.front();
        if (--http_faults_.front().remaining == 0) http_faults_.pop_front();
      }
    }
    if (!fault) return route_psp(req);
    const std::string note = " (mock fault " + fault->name + ")";
    if (fault->name == "http_500") {
      return sp::problem_response(500, "systemerror", "An unexpected error occurred" + note,
                                  trace());
    }
    if (fault->name == "http_502") {
      return sp::problem_response(502, "badgateway", "Bad gateway" + note, trace());
    }
    if (fault->name == "http_504") {
      return sp::problem_response(504, "gatewaytimeout", "Gateway timeout" + note, trace());
    }
    if (fault->name == "rate_limit") {
      auto out = sp::problem_response(429, "toomanyrequests", "Too many requests" + note, trace());
      if (fault->retry_after_s) {
        out.headers.emplace_back("Retry-After", std::to_string(*fault->retry_after_s));
      }
      return out;
    }
    if (fault->name == "timeout") {
      // Not processed; the answer comes (too) late. Waits interruptibly so shutdown stays fast.
      std::unique_lock lock(mutex_);
      stop_cv_.wait_for(lock, kTimeoutFaultDelay, [this] { return stopping_; });
      if (stopping_) {
        MockResponse dropped;
        dropped.drop_connection = true;
        return dropped;
      }
      return sp::problem_response(504, "gatewaytimeout", "Gateway timeout" + note, trace());
    }
    MockResponse out = route_psp(req);
    if (fault->name == "lose_response") {
      out.drop_connection = true;
    } else if (fault->name == "invalid_json") {
      out.body = out.body.substr(0, out.body.size() / 2);
    }
    return out;
  }

  MockResponse route_psp(const MockRequest& req) {
    const auto parts = split_path(req.path);  // psp, paymentorders, <guid>, <sub>
    if (parts.size() < 2 || parts[1] != "paymentorders" || parts.size() > 4) {
      return sp::problem_response(404, "notfound", "No resource at " + req.path + ".", trace());
    }
    if (parts.size() == 2) {
      if (req.method != "POST") return method_not_allowed(req);
      return create(req);
    }
    const std::string& guid = parts[2];
    if (parts.size() == 3) {
      if (req.method == "GET") return get(guid, req);
      if (req.method == "PATCH") return patch(guid, req);
      return method_not_allowed(req);
    }
    const std::string& sub = parts[3];
    if (sub == "captures" || sub == "cancellations" || sub == "reversals") {
      if (req.method != "POST") return method_not_allowed(req);
      return transaction(guid, sub, req);
    }
    if (req.method != "GET") return method_not_allowed(req);
    return get_sub_resource(guid, sub, req);
  }

  MockResponse method_not_allowed(const MockRequest& req) {
    return sp::problem_response(405, "methodnotallowed",
                                "The method " + req.method + " is not allowed on " + req.path + ".",
                                trace());
  }

  MockResponse not_found(const std::string& guid) {
    return sp::problem_response(
        404, "notfound",
        "No payment order with id " + std::string(kOrderPrefix) + guid + " was found.", trace());
  }

  MockResponse input_error(const std::vector<ProblemItem>& problems) {
    return sp::problem_response(400, "inputerror",
                                "Input validation failed, error description in problems node!",
                                trace(), problems);
  }

  MockResponse duplicate(const std::string& payee_reference, const std::string& field) {
    return sp::problem_response(
        options_.duplicate_status, "inputerror",
        "A transaction with payeeReference '" + payee_reference +
            "' already exists; payeeReference must be unique for every operation.",
        trace(), {{field, "The payeeReference has already been used."}});
  }

  MockResponse create(const MockRequest& req) {
    const Json body = Json::parse(req.body, nullptr, false);
    if (body.is_discarded()) {
      return input_error({{"Body", "The request body is not valid JSON."}});
    }
    const Json* po = payment_order_node(body);
    auto problems = validate_create(po, options_.strict);
    if (!problems.empty()) return input_error(problems);

    const auto& payee = po->at("payeeInfo");
    const auto payee_reference = payee.at("payeeReference").get<std::string>();
    std::lock_guard lock(mutex_);
    if (auto it = payee_references_.find(payee_reference); it != payee_references_.end()) {
      Order& existing = orders_.at(it->second);
      ++existing.creates_with_same_payee_reference;
      return duplicate(payee_reference, "PaymentOrder.PayeeInfo.PayeeReference");
    }
    Order o;
    o.guid = sp::new_guid(rng_);
    o.id = std::string(kOrderPrefix) + o.guid;
    o.token = sp::new_token(rng_);
    o.trace_id = sp::new_trace_id(rng_);
    o.created = o.updated = sp::now_iso8601();
    o.currency = po->at("currency").get<std::string>();
    o.amount = po->at("amount").get<std::int64_t>();
    o.vat_amount = po->at("vatAmount").get<std::int64_t>();
    o.description = po->at("description").get<std::string>();
    o.user_agent = po->at("userAgent").get<std::string>();
    o.language = po->at("language").get<std::string>();
    if (!known_languages().contains(o.language)) o.language = "en-US";
    o.urls = po->at("urls");
    o.payee_info = payee;
    o.payer = po->value("payer", Json::object());
    o.guest_mode = !o.payer.is_object() || !o.payer.contains("payerReference");
    o.payee_reference = payee_reference;
    o.order_reference = string_or(payee, "orderReference");
    o.merchant = string_or(payee, "payeeName", string_or(payee, "payeeId"));
    o.callback_url = string_or(o.urls, "callbackUrl");
    o.complete_url = string_or(o.urls, "completeUrl");
    o.cancel_url = string_or(o.urls, "cancelUrl");
    const std::string guid = o.guid;
    payee_references_[payee_reference] = guid;
    tokens_[o.token] = guid;
    sequence_.push_back(guid);
    const auto& stored = orders_.emplace(guid, std::move(o)).first->second;
    return sp::json_response(options_.create_status, order_json_locked(stored, {}, false));
  }

  static std::set<std::string> expand_of(const MockRequest& req) {
    std::set<std::string> out;
    const auto it = req.query.find("$expand");
    if (it == req.query.end()) return out;
    std::size_t start = 0;
    const std::string& text = it->second;
    while (start <= text.size()) {
      auto end = text.find(',', start);
      if (end == std::string::npos) end = text.size();
      std::string item;
      for (char c : text.substr(start, end - start)) {
        if (c != ' ') item += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      if (!item.empty()) out.insert(item);
      start = end + 1;
    }
    return out;
  }

  MockResponse get(const std::string& guid, const MockRequest& req) {
    std::lock_guard lock(mutex_);
    const auto it = orders_.find(guid);
    if (it == orders_.end()) return not_found(guid);
    return sp::json_response(200, order_json_locked(it->second, expand_of(req), true));
  }

  MockResponse get_sub_resource(const std::string& guid, const std::string& sub,
                                const MockRequest& req) {
    std::lock_guard lock(mutex_);
    const auto it = orders_.find(guid);
    if (it == orders_.end()) return not_found(guid);
    const Order& o = it->second;
    std::string lower = sub;
    for (auto& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto full = order_json_locked(o, {lower}, true).at("paymentOrder");
    const std::map<std::string, std::string> nodes = {
        {"paid", "paid"},           {"failed", "failed"},
        {"aborted", "aborted"},     {"urls", "urls"},
        {"payeeinfo", "payeeInfo"}, {"financialtransactions", "financialTransactions"}};
    const auto node = nodes.find(lower);
    if (node == nodes.end()) {
      return sp::problem_response(404, "notfound", "No resource at " + req.path + ".", trace());
    }
    return sp::json_response(
        200, OrderedJson{{"paymentOrder", o.id}, {node->second, full.at(node->second)}});
  }

  MockResponse patch(const std::string& guid, const MockRequest& req) {
    const Json body = Json::parse(req.body, nullptr, false);
    if (body.is_discarded()) {
      return input_error({{"Body", "The request body is not valid JSON."}});
    }
    const Json* po = payment_order_node(body);
    if (po == nullptr || !po->is_object()) {
      return input_error({{"PaymentOrder", required("paymentorder")}});
    }
    std::vector<ProblemItem> problems;
    if (!check_string(*po, "operation", "PaymentOrder.Operation", problems)) {
      return input_error(problems);
    }
    const auto operation = po->at("operation").get<std::string>();
    if (operation == "Abort") {
      const std::string reason = string_or(*po, "abortReason");
      if (reason != "CancelledByConsumer" && reason != "CancelledByCustomer") {
        return input_error({{"PaymentOrder.AbortReason",
                             "The field abortReason must be CancelledByConsumer or "
                             "CancelledByCustomer."}});
      }
      std::lock_guard lock(mutex_);
      const auto it = orders_.find(guid);
      if (it == orders_.end()) return not_found(guid);
      Order& o = it->second;
      if (o.status != "Initialized" || o.payment_pending) {
        return sp::problem_response(403, "forbidden",
                                    "The payment order cannot be aborted in status " +
                                        std::string(o.payment_pending ? "Paid" : o.status) + ".",
                                    trace());
      }
      if (abort_refusals_ > 0) {
        --abort_refusals_;
        return sp::problem_response(403, "forbidden", "The payer is in the Vipps app", trace());
      }
      o.status = "Aborted";
      o.abort_reason = reason;
      o.updated = sp::now_iso8601();
      if (paid_after_aborts_ > 0) {
        // The payer's Vipps payment was already under way: pay() can still complete it after
        // the abort was answered (a race real providers can show).
        --paid_after_aborts_;
        o.payment_in_flight = true;
      }
      return sp::json_response(200, order_json_locked(o, {}, true));
    }
    if (operation == "UpdateOrder") {
      const bool amount_ok = check_amount(*po, "amount", "PaymentOrder.Amount", problems, false);
      if (check_amount(*po, "vatAmount", "PaymentOrder.VatAmount", problems, true) && amount_ok &&
          po->at("vatAmount").get<std::int64_t>() > po->at("amount").get<std::int64_t>()) {
        problems.push_back(
            {"PaymentOrder.VatAmount", "The field vatAmount must not exceed amount."});
      }
      if (!problems.empty()) return input_error(problems);
      std::lock_guard lock(mutex_);
      const auto it = orders_.find(guid);
      if (it == orders_.end()) return not_found(guid);
      Order& o = it->second;
      if (o.status != "Initialized" || o.payment_pending) {
        return sp::problem_response(
            403, "forbidden", "The payment order cannot be updated in status " + o.status + ".",
            trace());
      }
      o.amount = po->at("amount").get<std::int64_t>();
      o.vat_amount = po->at("vatAmount").get<std::int64_t>();
      if (const auto d = po->find("description"); d != po->end() && d->is_string()) {
        o.description = d->get<std::string>();
      }
      o.updated = sp::now_iso8601();
      return sp::json_response(200, order_json_locked(o, {}, true));
    }
    return input_error(
        {{"PaymentOrder.Operation", "The operation '" + operation +
                                        "' is not supported on PATCH; use Abort or UpdateOrder."}});
  }

  MockResponse transaction(const std::string& guid, const std::string& sub,
                           const MockRequest& req) {
    const Json body = Json::parse(req.body, nullptr, false);
    if (body.is_discarded()) {
      return input_error({{"Body", "The request body is not valid JSON."}});
    }
    const auto t = body.is_object() ? body.find("transaction") : body.end();
    if (!body.is_object() || t == body.end() || !t->is_object()) {
      return input_error({{"Transaction", required("transaction")}});
    }
    const bool is_cancel = sub == "cancellations";
    std::vector<ProblemItem> problems;
    // string(40) for a cancel and a reversal (providers.md §7.2, §7.3)
    check_string(*t, "description", "Transaction.Description", problems,
                 sub == "captures" ? 0 : 40);
    check_payee_reference(*t, "Transaction.PayeeReference", problems);
    // A cancel has no amount: it releases all that is only authorised (providers.md §7.2).
    std::optional<std::int64_t> amount;
    std::int64_t vat_amount = 0;
    if (!is_cancel) {
      const bool amount_ok = check_amount(*t, "amount", "Transaction.Amount", problems, false);
      if (amount_ok) amount = t->at("amount").get<std::int64_t>();
      if (check_amount(*t, "vatAmount", "Transaction.VatAmount", problems, true)) {
        vat_amount = t->at("vatAmount").get<std::int64_t>();
        if (amount && vat_amount > *amount) {
          problems.push_back(
              {"Transaction.VatAmount", "The field vatAmount must not exceed amount."});
        }
      }
    }
    if (!problems.empty()) return input_error(problems);
    const auto payee_reference = t->at("payeeReference").get<std::string>();
    const auto description = t->at("description").get<std::string>();

    std::lock_guard lock(mutex_);
    const auto it = orders_.find(guid);
    if (it == orders_.end()) return not_found(guid);
    Order& o = it->second;
    MockResponse out =
        post_purchase_locked(o, sub, payee_reference, description, amount, vat_amount);
    if (out.status >= 400) ++o.post_purchase_refusals;
    if (out.status < 400 && lost_post_purchase_answers_ > 0) {
      --lost_post_purchase_answers_;  // carried out; the answer never arrives
      out.drop_connection = true;
    }
    return out;
  }

  MockResponse post_purchase_locked(Order& o, const std::string& sub,
                                    const std::string& payee_reference,
                                    const std::string& description,
                                    std::optional<std::int64_t> amount, std::int64_t vat_amount) {
    const bool is_cancel = sub == "cancellations";
    if (auto used = payee_references_.find(payee_reference); used != payee_references_.end()) {
      return duplicate(payee_reference, "Transaction.PayeeReference");
    }
    const char* kind = sub == "captures" ? "Capture" : is_cancel ? "Cancellation" : "Reversal";
    const char* rel = sub == "captures" ? "capture" : is_cancel ? "cancel" : "reversal";
    std::int64_t remaining = 0;
    if (o.status == "Paid") {
      if (sub == "captures" && o.transaction_type == "Authorization") {
        remaining = o.remaining_capture;
      } else if (is_cancel && o.transaction_type == "Authorization") {
        remaining = o.remaining_cancellation;
      } else if (sub == "reversals") {
        remaining = o.remaining_reversal;
      }
    }
    if (remaining == 0) {
      return sp::problem_response(403, "forbidden",
                                  std::string("The operation ") + rel +
                                      " is not available for this payment order (status " +
                                      (o.payment_pending ? "Initialized" : o.status) +
                                      (o.transaction_type.empty() ? "" : ", ") +
                                      o.transaction_type + ").",
                                  trace());
    }
    const std::int64_t value = amount.value_or(remaining);
    if (value > remaining) {
      return input_error({{"Transaction.Amount", "The amount " + std::to_string(value) +
                                                     " exceeds the remaining amount " +
                                                     std::to_string(remaining) + "."}});
    }
    const Transaction& tx =
        add_transaction_locked(o, kind, value, vat_amount, payee_reference, description);
    if (sub == "captures") {
      capture_locked(o, value);
    } else if (is_cancel) {
      cancel_locked(o, tx);
    } else {
      reverse_locked(o, tx);
    }
    OrderedJson out = order_json_locked(o, {}, true);
    const std::string node = sub == "captures" ? "capture"
                             : is_cancel       ? "cancellation"
                                               : "reversal";
    out[node] = {{"id", o.id + "/" + sub + "/" + tx.guid},
                 {"transaction",
                  {{"id", o.id + "/financialtransactions/" + tx.guid},
                   {"created", tx.created},
                   {"updated", tx.created},
                   {"type", tx.kind},
                   {"state", "Completed"},
                   {"number", tx.number},
                   {"amount", tx.amount},
                   {"vatAmount", tx.vat_amount},
                   {"description", tx.description},
                   {"payeeReference", tx.payee_reference}}}};
    return sp::json_response(200, out);
  }

  // ---- Payer page -------------------------------------------------------------------------

  sp::PayerView view_locked(const Order& o) const {
    sp::PayerView v;
    v.action_path = std::string(kCheckoutPrefix) + o.token;
    v.merchant = o.merchant;
    v.description = o.description;
    v.amount = o.amount;
    v.status = o.status;
    v.payment_pending = o.payment_pending;
    v.instrument = o.instrument;
    v.complete_url = o.complete_url;
    v.cancel_url = o.cancel_url;
    return v;
  }

  MockResponse handle_checkout(const MockRequest& req) {
    const auto parts = split_path(req.path);  // checkout, <token>[, client.js]
    if (parts.size() < 2 || parts.size() > 3 || (parts.size() == 3 && parts[2] != "client.js")) {
      return html(404, sp::render_message_page("Ikke funnet", "Betalingslenken er ukjent."));
    }
    std::unique_lock lock(mutex_);
    const auto token = tokens_.find(parts[1]);
    if (token == tokens_.end()) {
      return html(404, sp::render_message_page("Ikke funnet", "Betalingslenken er ukjent."));
    }
    Order& o = orders_.at(token->second);
    if (parts.size() == 3) {
      MockResponse js;
      js.content_type = "application/javascript";
      js.body =
          "/* Swedbank Pay mock: the seamless view is not simulated; open the redirect-checkout "
          "link instead. */\nconsole.warn('Swedbank Pay mock: use redirect-checkout');\n";
      return js;
    }
    if (req.method == "GET" || req.method == "HEAD") {
      return html(200, sp::render_payer_page(view_locked(o)));
    }
    if (req.method != "POST") {
      return html(405, sp::render_message_page("Ikke tillatt", "Bruk GET eller POST."));
    }
    auto fields = req.query;
    for (auto& [key, value] : req.form())
      fields[key] = value;
    const std::string action = fields.contains("action") ? fields["action"] : "";
    if (action == "pay") {
      const std::string instrument =
          fields.contains("instrument") ? fields["instrument"] : "CreditCard";
      if (instrument != "CreditCard" && instrument != "Vipps") {
        return html(
            400, sp::render_message_page("Ugyldig betalingsmåte", "Velg CreditCard eller Vipps."));
      }
      auto view = view_locked(o);
      if (!pay_locked(o, instrument, "")) {
        return html(409, sp::render_message_page(
                             "Kan ikke betales",
                             "Denne betalingen kan ikke gjennomføres (status " + o.status + ")."));
      }
      view.instrument = instrument;
      return html(200, sp::render_paid_page(view));
    }
    if (action == "cancel") {
      if (!set_status_locked(o, "Aborted")) {
        return html(409, sp::render_message_page(
                             "Kan ikke avbrytes",
                             "Denne betalingen kan ikke avbrytes (status " + o.status + ")."));
      }
      return html(200, sp::render_cancelled_page(view_locked(o)));
    }
    return html(400, sp::render_message_page("Ugyldig handling", "Bruk action=pay eller cancel."));
  }

  MockResponse index() {
    std::lock_guard lock(mutex_);
    std::vector<sp::IndexRow> rows;
    for (const auto& guid : sequence_) {
      const Order& o = orders_.at(guid);
      rows.push_back({o.id, o.payee_reference, o.description, o.amount,
                      o.payment_pending ? "Initialized (payment pending)" : o.status, o.instrument,
                      href(std::string(kCheckoutPrefix) + o.token)});
    }
    return html(200, sp::render_index(base_url(), rows, armed_faults_locked()));
  }

  // ---- Control API --------------------------------------------------------------------------

  MockResponse handle_control(const MockRequest& req) {
    const auto parts = split_path(req.path);  // _mock, ...
    const Json body = req.body.empty() ? Json::object() : Json::parse(req.body, nullptr, false);
    if (req.method == "POST" && (body.is_discarded() || !body.is_object())) {
      return plain_json(400, control_json(400, "the body must be a JSON object"));
    }
    if (parts.size() == 2 && parts[1] == "faults") {
      if (req.method == "GET") {
        std::lock_guard lock(mutex_);
        return plain_json(200, OrderedJson{{"armed", armed_faults_locked()}});
      }
      if (req.method != "POST") return plain_json(405, control_json(405, "use GET or POST"));
      const auto fault = body.find("fault");
      if (fault == body.end() || !fault->is_string()) {
        return plain_json(400, control_json(400, "'fault' (string) is required"));
      }
      int count = 1;
      std::optional<int> retry_after;
      if (const auto c = body.find("count"); c != body.end() && !c->is_null()) {
        if (!c->is_number_integer()) return plain_json(400, control_json(400, "bad 'count'"));
        count = c->get<int>();
      }
      if (const auto r = body.find("retry_after_s"); r != body.end() && !r->is_null()) {
        if (!r->is_number_integer()) {
          return plain_json(400, control_json(400, "bad 'retry_after_s'"));
        }
        retry_after = r->get<int>();
      }
      try {
        inject(fault->get<std::string>(), count, retry_after);
      } catch (const std::invalid_argument& e) {
        return plain_json(400, control_json(400, e.what()));
      }
      std::lock_guard lock(mutex_);
      return plain_json(200, OrderedJson{{"armed", armed_faults_locked()}});
    }
    if (parts.size() == 2 && parts[1] == "reset") {
      if (req.method != "POST") return plain_json(405, control_json(405, "use POST"));
      reset();
      return plain_json(200, OrderedJson{{"reset", true}});
    }
    if (parts.size() >= 2 && parts[1] == "orders") {
      std::lock_guard lock(mutex_);
      if (parts.size() == 2) {
        if (req.method != "GET") return plain_json(405, control_json(405, "use GET"));
        OrderedJson list = OrderedJson::array();
        for (const auto& guid : sequence_)
          list.push_back(snapshot_json_locked(orders_.at(guid)));
        return plain_json(200, list);
      }
      Order* o = find_locked(parts[2]);
      if (o == nullptr) return plain_json(404, control_json(404, "no such order"));
      if (parts.size() == 3) {
        if (req.method != "GET") return plain_json(405, control_json(405, "use GET"));
        return plain_json(200, snapshot_json_locked(*o));
      }
      if (parts.size() == 4 && req.method == "POST" && parts[3] == "pay") {
        if (!pay_locked(*o, string_or(body, "instrument", "CreditCard"),
                        string_or(body, "transaction_type"))) {
          return plain_json(409, control_json(409, "the order cannot be paid in status " +
                                                       o->status + " with these arguments"));
        }
        return plain_json(200, snapshot_json_locked(*o));
      }
      if (parts.size() == 4 && req.method == "POST" && parts[3] == "status") {
        const std::string status = string_or(body, "status");
        if (!set_status_locked(*o, status)) {
          return plain_json(409, control_json(409, "cannot move the order from " + o->status +
                                                       " to '" + status + "'"));
        }
        return plain_json(200, snapshot_json_locked(*o));
      }
    }
    return plain_json(404, control_json(404, "unknown control endpoint"));
  }

  // ---- Members ------------------------------------------------------------------------------

  SwedbankPayMockOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::atomic<bool> ready_{false};  // server_ is assigned
  std::mt19937_64 rng_;
  std::map<std::string, Order> orders_;                  // by guid
  std::vector<std::string> sequence_;                    // guids in creation order
  std::map<std::string, std::string> tokens_;            // payer page token -> guid
  std::map<std::string, std::string> payee_references_;  // every payeeReference used -> guid
  std::deque<ArmedFault> http_faults_;
  int abort_refusals_ = 0;
  int lost_post_purchase_answers_ = 0;
  int paid_after_aborts_ = 0;
  int duplicate_callbacks_ = 0;
  int callbacks_before_status_ = 0;
  int out_of_order_pairs_ = 0;
  std::optional<Callback> held_;  // first callback of an out-of-order pair
  std::uint64_t hold_sequence_ = 0;
  std::size_t create_calls_ = 0;
  std::int64_t next_number_ = 0;
  std::uint64_t generation_ = 0;  // bumped by reset(): pending work of older orders is dropped
  sp::TaskScheduler scheduler_;
  std::unique_ptr<MockHttpServer> server_;  // last: its threads use everything above
};

SwedbankPayMock::SwedbankPayMock(SwedbankPayMockOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

SwedbankPayMock::~SwedbankPayMock() = default;

std::string SwedbankPayMock::base_url() const {
  return impl_->base_url();
}

std::uint16_t SwedbankPayMock::port() const {
  return impl_->server_->port();
}

void SwedbankPayMock::inject(const std::string& fault, int count,
                             std::optional<int> retry_after_s) {
  impl_->inject(fault, count, retry_after_s);
}

bool SwedbankPayMock::pay(const std::string& order_id_or_guid, const std::string& instrument,
                          const std::string& transaction_type) {
  return impl_->pay(order_id_or_guid, instrument, transaction_type);
}

bool SwedbankPayMock::set_status(const std::string& order_id_or_guid, const std::string& status) {
  return impl_->set_status(order_id_or_guid, status);
}

std::vector<SwedbankPayMock::OrderSnapshot> SwedbankPayMock::orders() const {
  return impl_->orders();
}

std::size_t SwedbankPayMock::create_calls() const {
  return impl_->create_calls();
}

void SwedbankPayMock::clear_faults() {
  impl_->clear_faults();
}

void SwedbankPayMock::reset() {
  impl_->reset();
}

}  // namespace visitpay::mocks
