// Bank reconciliation end to end: invoices issued through the real flow, then bank files built
// from the formats' specifications (bank.md §1, §2) imported through the API and the CLI against
// a real PostgreSQL.
#include <algorithm>
#include <cstdio>
#include <fstream>

#include "bank_files.hpp"
#include "domain/kid.hpp"
#include "flow_fixture.hpp"

namespace visitpay::testing {
namespace {

constexpr auto kWindow = std::chrono::hours(48);

class BankImportTest : public FlowTest {
 protected:
  void SetUp() override {
    FlowTest::SetUp();
    finance_token_ = service_->token("invoices:review");
  }

  HttpReply finance(const std::string& method, const std::string& target,
                    const std::string& body = {},
                    const std::string& content_type = "application/json") {
    return http_request(
        service_->port(), method, target, body,
        {{"Authorization", "Bearer " + finance_token_}, {"Content-Type", content_type}});
  }

  Json finance_json(const std::string& method, const std::string& target, int expected_status,
                    const std::string& body = {},
                    const std::string& content_type = "application/json") {
    auto reply = finance(method, target, body, content_type);
    EXPECT_EQ(reply.status, expected_status) << method << " " << target << ": " << reply.body;
    auto json = Json::parse(reply.body, nullptr, false);
    return json.is_discarded() ? Json() : json;
  }

  // `n` invoices issued (approved by finance), in visit order.
  std::vector<Json> issued_invoices(int n) {
    std::vector<std::string> sessions;
    for (int i = 0; i < n; ++i) {
      const auto id = checkout("V-BANK-" + std::to_string(i));
      EXPECT_TRUE(eventually([&] { return session(id).value("state", "") == "awaiting_payment"; }));
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
    // Delivered before the bank pays, as in life (and so the delivery is not the history's last
    // event when a test looks for the payment's).
    for (const auto& inv : out) {
      EXPECT_TRUE(eventually([&] {
        const auto history = invoice(inv)["history"];
        return std::any_of(history.begin(), history.end(),
                           [](const Json& e) { return e["action"] == "deliver"; });
      }));
    }
    return out;
  }

  Json invoice(const Json& inv) {
    return finance_json("GET", "/v1/invoices/" + inv["id"].get<std::string>(), 200);
  }

  static std::string account(const Json& inv) {
    std::string digits;
    for (char c : inv["seller"]["bank_account"].get<std::string>())
      if (c >= '0' && c <= '9') digits.push_back(c);
    return digits;
  }

  std::int64_t rows() {
    return count(
        "SELECT (SELECT count(*) FROM bank_files) + (SELECT count(*) FROM bank_payments)"
        " + (SELECT count(*) FROM invoice_events)");
  }

  std::string finance_token_;
};

TEST_F(BankImportTest, OcrGiroSettlesPartlyPaysAndRecordsAnOverpayment) {
  const auto inv = issued_invoices(3);
  // Each invoice's own total (the fee depends on whether its SMS was delivered in time).
  const auto total = inv[0]["total_ore"].get<std::int64_t>();
  const auto short_total = inv[1]["total_ore"].get<std::int64_t>();
  const auto over_total = inv[2]["total_ore"].get<std::int64_t>();
  const auto acct = account(inv[0]);
  const auto file = ocr_file("0000001", acct,
                             {{inv[0]["kid"].get<std::string>(), total, "000000001"},
                              {inv[1]["kid"].get<std::string>(), short_total - 10000, "000000002"},
                              {inv[2]["kid"].get<std::string>(), over_total + 2500, "000000003"}});
  const auto imported = finance_json("POST", "/v1/bank/imports", 201, file, "text/plain");
  EXPECT_EQ(imported["format"], "ocr_giro");
  EXPECT_EQ(imported["payments"], 3);
  EXPECT_EQ(imported["outcomes"]["matched"], 1);
  EXPECT_EQ(imported["outcomes"]["partial"], 1);
  EXPECT_EQ(imported["outcomes"]["overpaid"], 1);

  const auto paid = invoice(inv[0]);
  EXPECT_EQ(paid["status"], "paid");
  EXPECT_EQ(paid["paid_ore"], total);
  EXPECT_EQ(paid["open_ore"], 0);
  EXPECT_EQ(paid["paid_on"], "2025-01-15");  // the Nets date
  EXPECT_EQ(paid["payment_reference"], "000000001");
  const auto& event = paid["history"].back();
  EXPECT_EQ(event["action"], "bank_payment");
  EXPECT_EQ(event["from_status"], "issued");
  EXPECT_EQ(event["to_status"], "paid");
  EXPECT_EQ(event["actor"], imported["imported_by"]);

  // The third invoice paid with the wrong amount: partial, the remainder shown to finance.
  const auto partial = invoice(inv[1]);
  EXPECT_EQ(partial["status"], "partially_paid");
  EXPECT_EQ(partial["paid_ore"], short_total - 10000);
  EXPECT_EQ(partial["open_ore"], 10000);
  const auto listed = finance_json("GET", "/v1/bank/payments?status=partial", 200);
  ASSERT_EQ(listed["items"].size(), 1u);
  EXPECT_EQ(listed["items"][0]["invoice_id"], inv[1]["id"]);
  EXPECT_EQ(listed["items"][0]["invoice_open_after_ore"], 10000);
  EXPECT_EQ(finance_json("GET", "/v1/invoices?status=partially_paid", 200)["items"].size(), 1u);

  const auto over = invoice(inv[2]);
  EXPECT_EQ(over["status"], "paid");
  EXPECT_EQ(over["overpaid_ore"], 2500);
  const auto overpaid = finance_json("GET", "/v1/bank/payments?status=overpaid", 200);
  ASSERT_EQ(overpaid["items"].size(), 1u);
  EXPECT_EQ(overpaid["items"][0]["overpaid_ore"], 2500);
  EXPECT_EQ(metric("visitpay_bank_payments_total", "outcome=\"partial\""), 1);

  // The rest of the partial payment, in the next day's file, settles it.
  const auto rest =
      ocr_file("0000002", acct, {{inv[1]["kid"].get<std::string>(), 10000, "000000004"}});
  EXPECT_EQ(
      finance_json("POST", "/v1/bank/imports", 201, rest, "text/plain")["outcomes"]["matched"], 1);
  EXPECT_EQ(invoice(inv[1])["status"], "paid");
}

TEST_F(BankImportTest, TheSameFileTwiceChangesNothing) {
  const auto inv = issued_invoices(1);
  const auto total = inv[0]["total_ore"].get<std::int64_t>();
  const auto file = ocr_file("0000007", account(inv[0]),
                             {{inv[0]["kid"].get<std::string>(), total, "000000010"}});
  const auto first = finance_json("POST", "/v1/bank/imports", 201, file, "text/plain");
  const auto before = rows();
  const auto again = finance_json("POST", "/v1/bank/imports", 200, file, "text/plain");
  EXPECT_TRUE(again["duplicate"].get<bool>());
  EXPECT_EQ(again["id"], first["id"]);
  EXPECT_EQ(rows(), before);
  // The same payment re-sent in another transmission is recognised too.
  const auto resent = ocr_file("0000008", account(inv[0]),
                               {{inv[0]["kid"].get<std::string>(), total, "000000010"}});
  const auto second = finance_json("POST", "/v1/bank/imports", 201, resent, "text/plain");
  EXPECT_EQ(second["outcomes"]["duplicates"], 1);
  EXPECT_EQ(invoice(inv[0])["paid_ore"], total);
  EXPECT_EQ(count("SELECT count(*) FROM bank_payments"), 1);
}

TEST_F(BankImportTest, PaymentsToOneInvoiceApplyInFileOrderAndARepeatIsSkipped) {
  const auto inv = issued_invoices(1);
  const auto total = inv[0]["total_ore"].get<std::int64_t>();
  const auto kid = inv[0]["kid"].get<std::string>();
  // The first payment falls short, the second settles, the third repeats the first (the same
  // AcctSvcrRef): one payment, read twice. All on one line, as some banks write XML: the order is
  // the file's, not the line numbers'.
  auto file = camt_file(
      "MSG-SPLIT", account(inv[0]),
      {{kid, total - 10000, "SPLIT-1"}, {kid, 10000, "SPLIT-2"}, {kid, total - 10000, "SPLIT-1"}});
  file.erase(std::remove(file.begin(), file.end(), '\n'), file.end());
  const auto imported = finance_json("POST", "/v1/bank/imports", 201, file, "application/xml");
  EXPECT_EQ(imported["payments"], 3);
  EXPECT_EQ(imported["outcomes"]["partial"], 1);
  EXPECT_EQ(imported["outcomes"]["matched"], 1);
  EXPECT_EQ(imported["outcomes"]["duplicates"], 1);
  EXPECT_EQ(count("SELECT count(*) FROM bank_payments"), 2);

  const auto paid = invoice(inv[0]);
  EXPECT_EQ(paid["status"], "paid");
  EXPECT_EQ(paid["paid_ore"], total);
  EXPECT_EQ(paid["overpaid_ore"], 0);
  EXPECT_EQ(paid["payment_reference"], "SPLIT-2");  // the latest payment's
  std::vector<std::pair<std::string, std::string>> steps;
  for (const auto& e : paid["history"]) {
    if (e["action"] == "bank_payment") {
      steps.emplace_back(e["from_status"].get<std::string>(), e["to_status"].get<std::string>());
    }
  }
  const std::vector<std::pair<std::string, std::string>> expected = {{"issued", "partially_paid"},
                                                                     {"partially_paid", "paid"}};
  EXPECT_EQ(steps, expected);

  const auto payments = finance_json("GET", "/v1/bank/payments", 200)["items"];  // newest first
  ASSERT_EQ(payments.size(), 2u);
  EXPECT_EQ(payments[0]["status"], "matched");
  EXPECT_EQ(payments[0]["invoice_open_after_ore"], 0);
  EXPECT_EQ(payments[1]["status"], "partial");
  EXPECT_EQ(payments[1]["invoice_open_after_ore"], 10000);
}

TEST_F(BankImportTest, AMalformedFileIsRefusedWholeNamingTheLine) {
  const auto inv = issued_invoices(1);
  const auto total = inv[0]["total_ore"].get<std::int64_t>();
  auto file = ocr_file("0000003", account(inv[0]),
                       {{inv[0]["kid"].get<std::string>(), total, "000000011"}});
  // Record 89 (line 6) says one øre more than the payments.
  const auto at = file.rfind("NY000089");
  file.replace(at + 24, 17, zeros(total + 1, 17));
  const auto refused = finance_json("POST", "/v1/bank/imports", 422, file, "text/plain");
  EXPECT_NE(refused["detail"].get<std::string>().find("line 6"), std::string::npos) << refused;
  EXPECT_EQ(refused["errors"][0]["pointer"], "/lines/6/total_amount");
  EXPECT_EQ(count("SELECT count(*) FROM bank_files"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM bank_payments"), 0);
  EXPECT_EQ(invoice(inv[0])["status"], "issued");
}

TEST_F(BankImportTest, Camt054PaymentPaysTheInvoice) {
  const auto inv = issued_invoices(1);
  const auto total = inv[0]["total_ore"].get<std::int64_t>();
  const auto file = camt_file("MSG-1", account(inv[0]),
                              {{inv[0]["kid"].get<std::string>(), total, "CAMT-REF-1"}});
  const auto imported = finance_json("POST", "/v1/bank/imports", 201, file, "application/xml");
  EXPECT_EQ(imported["format"], "camt054");
  EXPECT_EQ(imported["outcomes"]["matched"], 1);
  const auto paid = invoice(inv[0]);
  EXPECT_EQ(paid["status"], "paid");
  EXPECT_EQ(paid["paid_on"], "2026-11-25");
  EXPECT_EQ(paid["payment_reference"], "CAMT-REF-1");
  // The payer's name is read by no one: not stored, not logged.
  EXPECT_EQ(count("SELECT count(*) FROM bank_payments WHERE row_to_json(bank_payments)::text "
                  "LIKE '%Nordmann%'"),
            0);
  for (const auto& line : service_->log_lines())
    EXPECT_EQ(line.find("Nordmann"), std::string::npos) << line;
}

TEST_F(BankImportTest, UnknownKidWaitsInTheQueueUntilFinanceMatchesIt) {
  const auto inv = issued_invoices(1);
  const auto total = inv[0]["total_ore"].get<std::int64_t>();
  const auto unknown = *domain::invoice_kid(999, domain::KidAlgorithm::mod10, 10, false);
  const auto file =
      camt_file("MSG-2", account(inv[0]),
                {{unknown, total, "CAMT-REF-2"}, {"RF18539007547034", 100, "CAMT-REF-3"}});
  const auto imported = finance_json("POST", "/v1/bank/imports", 201, file, "application/xml");
  EXPECT_EQ(imported["outcomes"]["unmatched"], 2);
  const auto queue = finance_json("GET", "/v1/bank/payments?status=unmatched", 200)["items"];
  ASSERT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue[0]["unmatched_reason"], "no_kid");  // newest first
  EXPECT_EQ(queue[1]["unmatched_reason"], "unknown_kid");
  EXPECT_EQ(invoice(inv[0])["status"], "issued");

  const auto id = std::to_string(queue[1]["id"].get<std::int64_t>());
  const Json match = {{"invoice_id", inv[0]["id"]}};
  const auto matched =
      finance_json("POST", "/v1/bank/payments/" + id + "/match", 200, match.dump());
  EXPECT_EQ(matched["status"], "matched");
  EXPECT_TRUE(matched["manual"].get<bool>());
  const auto paid = invoice(inv[0]);
  EXPECT_EQ(paid["status"], "paid");
  EXPECT_EQ(paid["history"].back()["action"], "bank_match_manual");
  EXPECT_EQ(paid["history"].back()["actor"], matched["matched_by"]);
  // Once matched it has left the queue.
  finance_json("POST", "/v1/bank/payments/" + id + "/match", 409, match.dump());
  EXPECT_EQ(finance_json("GET", "/v1/bank/payments?status=unmatched", 200)["items"].size(), 1u);
}

TEST_F(BankImportTest, NeedsFinanceForEveryClinic) {
  const auto bound = service_->token("invoices:review", "oslo-sentrum");
  const auto reply = http_request(service_->port(), "GET", "/v1/bank/payments", {},
                                  {{"Authorization", "Bearer " + bound}});
  EXPECT_EQ(reply.status, 403) << reply.body;
  const auto other = service_->token("checkout:write");
  EXPECT_EQ(http_request(service_->port(), "GET", "/v1/bank/imports", {},
                         {{"Authorization", "Bearer " + other}})
                .status,
            403);
}

TEST_F(BankImportTest, CliImportPrintsTheOutcomeAndRefusesAMalformedFile) {
  const auto inv = issued_invoices(1);
  const auto total = inv[0]["total_ore"].get<std::int64_t>();
  const auto path = delivery_dir_.string() + "-ocr.txt";
  {
    std::ofstream out(path);
    out << ocr_file("0000009", account(inv[0]),
                    {{inv[0]["kid"].get<std::string>(), total - 1, "000000020"}});
  }
  const auto printed = cli("bank import " + path);
  EXPECT_NE(printed.find("partial 1"), std::string::npos) << printed;
  EXPECT_NE(printed.find("exit=0"), std::string::npos) << printed;
  EXPECT_EQ(invoice(inv[0])["status"], "partially_paid");
  EXPECT_NE(cli("bank import " + path).find("nothing changed"), std::string::npos);
  {
    std::ofstream out(path);
    out << "NY000010" + std::string(71, '0') + "\n";  // 79 characters
  }
  const auto refused = cli("bank import " + path);
  EXPECT_NE(refused.find("line 1"), std::string::npos) << refused;
  EXPECT_NE(refused.find("exit=1"), std::string::npos) << refused;
  std::remove(path.c_str());
}

}  // namespace
}  // namespace visitpay::testing
