// Reminders and collection end to end on the manual clock, against a real PostgreSQL and both
// provider mocks: invoices issued through the real flow, left unpaid past their due date, then
// purring (+14 days, with fee), inkassovarsel, hand-off to collection; and the schedule stopping
// when a bank file (camt.054, OCR giro) pays an invoice in full or in part.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "bank_files.hpp"
#include "flow_fixture.hpp"

namespace visitpay::testing {
namespace {

constexpr auto kWindow = std::chrono::hours(48);
constexpr auto kDay = std::chrono::hours(24);
constexpr std::int64_t kFee = 3500;  // 1/20 of inkassosatsen 700 kr (inkassoforskriften § 1-2)

class DunningFlowTest : public FlowTest {
 protected:
  void SetUp() override {
    collection_dir_ = delivery_dir_for_collection();
    configure_ = [this](config::Config& config) {
      for (auto& clinic : config.clinics) {
        clinic.reminders.enabled = true;
        clinic.reminders.fee = kFee;
        clinic.reminders.purringer = 1;
        clinic.reminders.fee_purringer = 1;
        clinic.reminders.inkassovarsel = true;
        clinic.reminders.collection = true;
        clinic.collection_agency = "Inkasso Testbyrå AS";
        clinic.collection_dir = collection_dir_.string();
      }
    };
    FlowTest::SetUp();
    finance_token_ = service_->token("invoices:review");
  }

  void TearDown() override {
    FlowTest::TearDown();
    std::error_code ignored;
    std::filesystem::remove_all(collection_dir_, ignored);
  }

  static std::filesystem::path delivery_dir_for_collection() {
    static int n = 0;
    return std::filesystem::temp_directory_path() /
           ("visitpay-collection-" + std::to_string(getpid()) + "-" + std::to_string(++n));
  }

  Json finance_json(const std::string& method, const std::string& target, int expected_status,
                    const std::string& body = {},
                    const std::string& content_type = "application/json") {
    auto reply = http_request(
        service_->port(), method, target, body,
        {{"Authorization", "Bearer " + finance_token_}, {"Content-Type", content_type}});
    EXPECT_EQ(reply.status, expected_status) << method << " " << target << ": " << reply.body;
    auto json = Json::parse(reply.body, nullptr, false);
    return json.is_discarded() ? Json() : json;
  }

  // `n` invoices issued by finance today, delivered.
  std::vector<Json> issued_invoices(int n) {
    std::vector<std::string> sessions;
    for (int i = 0; i < n; ++i) {
      const auto id = checkout("V-DUN-" + std::to_string(i));
      EXPECT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
      sessions.push_back(id);
    }
    advance(kWindow + std::chrono::seconds(1));
    std::vector<Json> out;
    for (const auto& s : sessions) {
      std::string invoice_id;
      EXPECT_TRUE(eventually([&] {
        invoice_id = session(s).value("invoice", Json::object()).value("id", "");
        return !invoice_id.empty();
      }));
      out.push_back(finance_json("POST", "/v1/invoices/" + invoice_id + "/approve", 200));
    }
    EXPECT_TRUE(settle());
    return out;
  }

  Json invoice(const Json& inv) {
    return finance_json("GET", "/v1/invoices/" + inv["id"].get<std::string>(), 200);
  }

  // One pass of the reminder schedule at the manual clock's time, then its letters delivered.
  std::int64_t remind() {
    const auto taken = service_->await(service_->service().reminder_scheduler().run_once());
    EXPECT_TRUE(settle());
    return taken;
  }

  // Moves the clock to `days` after `iso_date` (an Oslo date), 14:10 Oslo time.
  void move_to(const std::string& iso_date, int days) {
    const auto target = *common::parse_rfc3339(iso_date + "T13:10:00Z") + days * kDay;
    service_->clock().set(target);
    service_->service().dispatcher().nudge();
  }

  static std::string account(const Json& inv) {
    std::string digits;
    for (char c : inv["seller"]["bank_account"].get<std::string>())
      if (c >= '0' && c <= '9') digits.push_back(c);
    return digits;
  }

  static std::vector<std::string> actions(const Json& inv) {
    std::vector<std::string> out;
    for (const auto& e : inv["history"])
      out.push_back(e["action"].get<std::string>());
    return out;
  }

  static std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::string letter_name(const Json& inv, const std::string& kind, int sequence) {
    return inv["org_number"].get<std::string>() + "-" + kind + "-" +
           std::to_string(inv["number"].get<std::int64_t>()) + "-" + std::to_string(sequence) +
           ".pdf";
  }

  std::filesystem::path collection_dir_;
  std::string finance_token_;
};

TEST_F(DunningFlowTest, PurringInkassovarselAndHandOffWhilePaymentsStopTheSchedule) {
  const auto inv = issued_invoices(3);
  const auto& unpaid = inv[0];
  const auto& camt_paid = inv[1];
  const auto& ocr_partial = inv[2];
  const std::string due = unpaid["due_date"];
  for (const auto& i : inv)
    ASSERT_EQ(i["due_date"], due);

  // Unpaid at the due date and 13 days after it: nothing yet (inkassoforskriften § 1-2).
  move_to(due, 0);
  EXPECT_EQ(remind(), 0);
  move_to(due, 13);
  EXPECT_EQ(remind(), 0);
  EXPECT_EQ(count("SELECT count(*) FROM invoice_reminders"), 0);

  // +14 days: a purring with the 35 kr fee and a 14-day deadline, rendered and delivered.
  move_to(due, 14);
  EXPECT_EQ(remind(), 3);
  EXPECT_EQ(remind(), 0);  // the same day again: nothing twice
  auto a = invoice(unpaid);
  ASSERT_EQ(a["reminders"].size(), 1u);
  const Json purring = a["reminders"][0];
  EXPECT_EQ(purring["kind"], "purring");
  EXPECT_EQ(purring["fee_ore"], kFee);
  const auto total = a["total_ore"].get<std::int64_t>();
  EXPECT_EQ(purring["open_ore"], total + kFee);
  EXPECT_EQ(a["reminder_fees_ore"], kFee);
  EXPECT_EQ(a["open_ore"], total + kFee);
  EXPECT_EQ(a["status"], "issued");
  EXPECT_FALSE(purring["delivered_at"].is_null());
  const std::string purring_date = purring["sent_on"];
  const auto today = service_->clock().now();
  EXPECT_EQ(purring_date, common::format_oslo_iso_date(today));
  EXPECT_EQ(purring["deadline"], common::format_oslo_iso_date(today + 14 * kDay));
  const auto pdf = read(delivery_dir_ / letter_name(a, "purring", 1));
  EXPECT_EQ(pdf.rfind("%PDF-", 0), 0u);
  auto history = actions(a);
  EXPECT_NE(std::find(history.begin(), history.end(), "purring"), history.end());

  // The day after the purring: the second invoice paid by camt.054 (what the purring asked),
  // the third by OCR giro with the invoice's amount only (the fee missing): partial.
  move_to(due, 15);
  const auto b_open = invoice(camt_paid)["open_ore"].get<std::int64_t>();
  finance_json("POST", "/v1/bank/imports", 201,
               camt_file("DUN-CAMT-1", account(a),
                         {{camt_paid["kid"].get<std::string>(), b_open, "DUNCAMT0001"}}),
               "application/xml");
  const auto c_total = ocr_partial["total_ore"].get<std::int64_t>();
  finance_json("POST", "/v1/bank/imports", 201,
               ocr_file("0000077", account(a),
                        {{ocr_partial["kid"].get<std::string>(), c_total, "000000077"}}),
               "text/plain");
  EXPECT_EQ(invoice(camt_paid)["status"], "paid");
  auto c = invoice(ocr_partial);
  EXPECT_EQ(c["status"], "partially_paid");
  EXPECT_EQ(c["open_ore"], kFee);  // shown to finance: the fee is still owed
  const auto partial = finance_json("GET", "/v1/bank/payments?status=partial", 200);
  ASSERT_EQ(partial["items"].size(), 1u);
  EXPECT_EQ(partial["items"][0]["invoice_id"], ocr_partial["id"]);
  EXPECT_EQ(finance_json("GET", "/v1/invoices?status=partially_paid", 200)["items"].size(), 1u);

  // After the purring's deadline: an inkassovarsel (§ 9) for the unpaid one only.
  move_to(purring_date, 15);
  EXPECT_EQ(remind(), 1);
  a = invoice(unpaid);
  ASSERT_EQ(a["reminders"].size(), 2u);
  const Json varsel = a["reminders"][1];
  EXPECT_EQ(varsel["kind"], "inkassovarsel");
  EXPECT_EQ(varsel["fee_ore"], kFee);  // one purring + one inkassovarsel (§ 1-3)
  EXPECT_EQ(a["reminder_fees_ore"], 2 * kFee);
  EXPECT_EQ(varsel["open_ore"], total + 2 * kFee);
  EXPECT_EQ(read(delivery_dir_ / letter_name(a, "inkassovarsel", 1)).rfind("%PDF-", 0), 0u);
  EXPECT_EQ(invoice(camt_paid)["reminders"].size(), 1u);
  EXPECT_EQ(invoice(ocr_partial)["reminders"].size(), 1u);
  const std::string varsel_date = varsel["sent_on"];

  // After the inkassovarsel's deadline: handed to the collection agency as a file.
  move_to(varsel_date, 14);
  EXPECT_EQ(remind(), 0);  // the deadline day itself is on time
  move_to(varsel_date, 15);
  EXPECT_EQ(remind(), 1);
  a = invoice(unpaid);
  EXPECT_EQ(a["status"], "sent_to_collection");
  ASSERT_EQ(a["reminders"].size(), 3u);
  EXPECT_EQ(a["reminders"][2]["kind"], "collection");
  EXPECT_EQ(a["open_ore"], total + 2 * kFee);
  history = actions(a);
  EXPECT_NE(std::find(history.begin(), history.end(), "collection_export"), history.end());
  const auto file = collection_dir_ / (a["org_number"].get<std::string>() + "-collection-" +
                                       std::to_string(a["number"].get<std::int64_t>()) + ".json");
  const auto handed = Json::parse(read(file));
  EXPECT_EQ(handed["claim"]["open_ore"], total + 2 * kFee);
  EXPECT_EQ(handed["claim"]["reminder_fees_ore"], 2 * kFee);
  EXPECT_EQ(handed["claim"]["kid"], a["kid"]);
  EXPECT_TRUE(handed["inkassovarsel_sent"].get<bool>());
  EXPECT_EQ(handed["letters"].size(), 2u);
  EXPECT_FALSE(handed["debtor"]["name"].get<std::string>().empty());
  EXPECT_EQ(handed["agency"], "Inkasso Testbyrå AS");
  const auto text = read(file);
  EXPECT_EQ(text.find(kPhone), std::string::npos);  // no phone number goes to the agency
  EXPECT_EQ(finance_json("GET", "/v1/invoices?status=sent_to_collection", 200)["items"].size(), 1u);

  // Nothing more for anyone, however long we wait; the partial and paid ones were never chased.
  move_to(varsel_date, 100);
  EXPECT_EQ(remind(), 0);
  EXPECT_EQ(count("SELECT count(*) FROM invoice_reminders"), 5);

  // A payment after the hand-off still settles the claim, and finance is told to tell the agency.
  move_to(varsel_date, 101);
  finance_json("POST", "/v1/bank/imports", 201,
               ocr_file("0000078", account(a),
                        {{a["kid"].get<std::string>(), total + 2 * kFee, "000000078"}}),
               "text/plain");
  a = invoice(unpaid);
  EXPECT_EQ(a["status"], "paid");
  EXPECT_TRUE(a["flags"]["paid_after_collection"].get<bool>());
  EXPECT_EQ(finance_json("GET", "/v1/invoices?flag=paid_after_collection", 200)["items"].size(),
            1u);
}

TEST_F(DunningFlowTest, TwoInstancesLookingAtOnceSendOneLetter) {
  const auto inv = issued_invoices(1);
  move_to(inv[0]["due_date"].get<std::string>(), 20);
  auto& scheduler = service_->service().reminder_scheduler();
  auto first = boost::asio::co_spawn(service_->service().executor(), scheduler.run_once(),
                                     boost::asio::use_future);
  auto second = boost::asio::co_spawn(service_->service().executor(), scheduler.run_once(),
                                      boost::asio::use_future);
  EXPECT_EQ(first.get() + second.get(), 1);
  EXPECT_TRUE(settle());
  EXPECT_EQ(count("SELECT count(*) FROM invoice_reminders"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM invoice_events WHERE action = 'purring'"), 1);
}

TEST_F(DunningFlowTest, ATokenPaymentDoesNotStopTheSchedule) {
  const auto inv = issued_invoices(1);
  const std::string due = inv[0]["due_date"];
  move_to(due, 14);
  EXPECT_EQ(remind(), 1);  // the purring
  auto a = invoice(inv[0]);
  const std::string purring_date = a["reminders"][0]["sent_on"];
  const auto total = a["total_ore"].get<std::int64_t>();

  // 1 kr paid: partly paid, with most of the claim itself still open.
  move_to(due, 15);
  finance_json("POST", "/v1/bank/imports", 201,
               ocr_file("0000091", account(a), {{a["kid"].get<std::string>(), 100, "000000091"}}),
               "text/plain");
  EXPECT_EQ(invoice(inv[0])["status"], "partially_paid");

  // After the purring's deadline the schedule goes on, for what is still owed.
  move_to(purring_date, 15);
  EXPECT_EQ(remind(), 1);
  a = invoice(inv[0]);
  ASSERT_EQ(a["reminders"].size(), 2u);
  EXPECT_EQ(a["reminders"][1]["kind"], "inkassovarsel");
  EXPECT_EQ(a["reminders"][1]["open_ore"], total + 2 * kFee - 100);
  EXPECT_EQ(a["status"], "partially_paid");
  const auto history = a["history"];
  const auto varsel = std::find_if(history.begin(), history.end(),
                                   [](const Json& e) { return e["action"] == "inkassovarsel"; });
  ASSERT_NE(varsel, history.end());
  EXPECT_EQ((*varsel)["from_status"], "partially_paid");
}

}  // namespace
}  // namespace visitpay::testing
