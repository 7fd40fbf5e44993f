// Retention: the purger destroys each key class when its purpose ended, irreversibly, and leaves
// an audit record without personal data. Manual clock: days and years pass in the test.
#include <filesystem>
#include <fstream>

#include "flow_fixture.hpp"

namespace visitpay::testing {
namespace {

class PurgeTest : public FlowTest {
 protected:
  void purge_now() { service_->service().purger().nudge(); }

  std::int64_t purged(const std::string& session_id, const std::string& column) {
    return count("SELECT count(*) FROM payers WHERE session_id = '" + session_id + "' AND " +
                 column + " IS NOT NULL");
  }
  std::int64_t keys(const std::string& session_id) {
    return count("SELECT count(*) FROM payer_keys WHERE session_id = '" + session_id + "'");
  }

  HttpReply finance(const std::string& method, const std::string& target,
                    const std::string& body = {}) {
    if (finance_token_.empty()) finance_token_ = service_->token("invoices:review");
    return http_request(
        service_->port(), method, target, body,
        {{"Authorization", "Bearer " + finance_token_}, {"Content-Type", "application/json"}});
  }

  // The text of an invoice's or credit note's PDF as finance gets it (pdftotext).
  std::string pdf_text(const std::string& invoice_id) {
    const auto pdf = finance("GET", "/v1/invoices/" + invoice_id + "/pdf");
    EXPECT_EQ(pdf.status, 200) << pdf.body;
    const auto path = delivery_dir_.parent_path() / ("visitpay-purge-" + invoice_id + ".pdf");
    std::ofstream(path, std::ios::binary) << pdf.body;
    const auto text = run_command("pdftotext -layout '" + path.string() + "' -");
    std::filesystem::remove(path);
    return text;
  }

  // What `visitpay privacy check` reports: sessions per rule holding data past the policy.
  std::int64_t overdue(const std::string& rule) {
    auto db = service_->db();
    auto counts =
        store::PrivacyStore::overdue(db, store::RetentionPolicy{}, service_->clock().now());
    if (!counts) throw std::runtime_error(counts.error().detail);
    for (const auto& c : *counts) {
      if (c.rule == rule) return c.sessions;
    }
    return -1;
  }

  std::string finance_token_;
};

TEST_F(PurgeTest, CancelledIsPurgedAtOnce) {
  const auto id = checkout("V-PURGE-CANCEL");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  ASSERT_EQ(
      http_request(service_->port(), "POST", "/v1/checkouts/" + id + "/cancel", {}, auth()).status,
      200);
  // The purger's next pass is a minute away: the check sees the cancelled session's data.
  EXPECT_EQ(overdue("cancelled"), 1);
  EXPECT_EQ(overdue("plaintext"), 0);
  // The operator's command (cron) says so and exits 1.
  const auto before = cli("privacy check");
  EXPECT_NE(before.find("cancelled: 1\n"), std::string::npos) << before;
  EXPECT_NE(before.find("FAIL"), std::string::npos) << before;
  EXPECT_NE(before.find("exit=1"), std::string::npos) << before;
  purge_now();
  ASSERT_TRUE(eventually([&] { return keys(id) == 0; }));
  EXPECT_EQ(purged(id, "transient_purged_at"), 1);
  EXPECT_EQ(purged(id, "retained_purged_at"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM payers WHERE session_id = '" + id +
                  "' AND (name_enc IS NOT NULL OR phone_enc IS NOT NULL OR "
                  "national_id_enc IS NOT NULL OR address_enc IS NOT NULL)"),
            0);
  EXPECT_EQ(count("SELECT count(*) FROM purge_events WHERE session_id = '" + id +
                  "' AND rule = 'cancelled'"),
            1);
  EXPECT_EQ(overdue("cancelled"), 0);
  const auto after = cli("privacy check");  // `visitpay privacy check` passes
  EXPECT_NE(after.find("ok: no personal data held past its policy"), std::string::npos) << after;
  EXPECT_NE(after.find("exit=0"), std::string::npos) << after;
}

TEST_F(PurgeTest, DeliveredLettersLeaveTheFolderAfterTheirRetentionAndTheCheckCountsThem) {
  // The janitor's loop sweeps once as the service starts: after that, not again for the
  // purge interval, so the letters below stay until the test sweeps.
  ASSERT_TRUE(eventually([&] { return service_->service().folder_janitor().passes() >= 1; }));
  std::filesystem::create_directories(delivery_dir_);
  auto letter = [&](const std::string& name, std::chrono::hours age) {
    const auto path = delivery_dir_ / name;
    std::ofstream(path) << "%PDF-1.4";
    std::filesystem::last_write_time(path, std::filesystem::file_time_type::clock::now() - age);
    return path;
  };
  const auto picked_up_long_ago = letter("912345688-invoice-1.pdf", std::chrono::hours(73));
  const auto fresh = letter("912345688-invoice-2.pdf", std::chrono::hours(1));
  const auto before = cli("privacy check");
  EXPECT_NE(before.find("delivered_files " + delivery_dir_.string() + ": 1 (of 2 files)"),
            std::string::npos)
      << before;
  EXPECT_NE(before.find("exit=1"), std::string::npos) << before;

  const auto swept = service_->await(service_->service().folder_janitor().run_once());
  EXPECT_EQ(swept.removed, 1);
  EXPECT_EQ(swept.files, 1);
  EXPECT_FALSE(std::filesystem::exists(picked_up_long_ago));
  EXPECT_TRUE(std::filesystem::exists(fresh));
  EXPECT_EQ(metric("visitpay_delivered_files_removed_total"), 1);
  const auto after = cli("privacy check");
  EXPECT_NE(after.find("delivered_files " + delivery_dir_.string() + ": 0 (of 1 files)"),
            std::string::npos)
      << after;
  EXPECT_NE(after.find("exit=0"), std::string::npos) << after;
}

TEST_F(PurgeTest, PaidIsPurgedSevenDaysAfterPayment) {
  const auto id = checkout("V-PURGE-PAID");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "CreditCard"));
  ASSERT_TRUE(eventually([&] { return state_is(id, "paid"); }));
  advance(std::chrono::days(6));
  purge_now();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(keys(id), 2);  // not yet: the refund/dispute margin
  advance(std::chrono::days(2));
  purge_now();
  ASSERT_TRUE(eventually([&] { return keys(id) == 0; }));
  EXPECT_EQ(count("SELECT count(*) FROM payment_orders WHERE payment_url_enc IS NOT NULL"), 0);
}

TEST_F(PurgeTest, TransientDataGoesAlsoWhenTheInvoiceMovedOnBeforeThePurgerLooked) {
  const auto id = checkout("V-PURGE-MOVED", /*with_phone=*/false);
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced"); }));
  auto db = service_->db();
  for (const std::string status : {"partially_paid", "sent_to_collection"}) {
    SCOPED_TRACE(status);
    ASSERT_TRUE(
        db.exec("UPDATE payers SET transient_purged_at = NULL WHERE session_id = '" + id + "'"));
    ASSERT_TRUE(
        db.exec("UPDATE invoices SET status = '" + status + "' WHERE session_id = '" + id + "'"));
    ASSERT_EQ(purged(id, "transient_purged_at"), 0);
    purge_now();
    ASSERT_TRUE(eventually([&] { return purged(id, "transient_purged_at") == 1; }));
  }
}

TEST_F(PurgeTest, InvoicedKeepsNameAndAddressForTheBookkeepingPeriod) {
  const auto id = checkout("V-PURGE-INV", /*with_phone=*/false);
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced"); }));
  const auto finance = service_->token("invoices:review");
  auto db = service_->db();
  auto r = db.exec("SELECT id::text FROM invoices WHERE session_id = '" + id + "'");
  ASSERT_TRUE(r && r->rows() == 1);
  const auto approve =
      http_request(service_->port(), "POST", "/v1/invoices/" + r->string(0, 0) + "/approve", {},
                   {{"Authorization", "Bearer " + finance}});
  ASSERT_EQ(approve.status, 200) << approve.body;
  purge_now();
  ASSERT_TRUE(eventually([&] { return purged(id, "transient_purged_at") == 1; }));
  EXPECT_EQ(purged(id, "retained_purged_at"), 0);
  EXPECT_EQ(purged(id, "name_enc"), 1);  // kept: bokføringsloven
  // Issued 2026: kept through 2031, destroyed from 2032-01-01.
  service_->clock().set(*common::parse_rfc3339("2031-12-31T12:00:00Z"));
  purge_now();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(purged(id, "retained_purged_at"), 0);
  service_->clock().set(*common::parse_rfc3339("2032-01-02T12:00:00Z"));
  purge_now();
  ASSERT_TRUE(eventually([&] { return purged(id, "retained_purged_at") == 1; }));
  EXPECT_EQ(keys(id), 0);
  EXPECT_EQ(count("SELECT count(*) FROM invoices WHERE buyer_name_enc IS NOT NULL"), 0);
  // Finance still sees the invoice; its buyer shows as purged, not as an error.
  auto shown = http_request(service_->port(), "GET", "/v1/invoices/" + r->string(0, 0), {},
                            {{"Authorization", "Bearer " + finance}});
  ASSERT_EQ(shown.status, 200) << shown.body;
  const auto buyer = Json::parse(shown.body).at("buyer");
  EXPECT_EQ(buyer.at("status"), "purged");
  EXPECT_TRUE(buyer.at("name").is_null());
  EXPECT_EQ(count("SELECT count(*) FROM purge_events WHERE session_id = '" + id + "'"), 2);
}

TEST_F(PurgeTest, LineDescriptionsAreSealedShownAndDestroyedWithTheNameAndAddress) {
  const std::string description = "Konsultasjon spesialist";  // checkout_body's only line
  const auto id = checkout("V-PURGE-LINES", /*with_phone=*/false);
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced"); }));
  const auto of_session = "i.session_id = '" + id + "'";
  auto db = service_->db();
  auto r = db.exec("SELECT id::text FROM invoices i WHERE kind = 'invoice' AND " + of_session);
  ASSERT_TRUE(r && r->rows() == 1);
  const auto invoice_id = r->string(0, 0);
  ASSERT_EQ(finance("POST", "/v1/invoices/" + invoice_id + "/approve").status, 200);
  const auto credited =
      finance("POST", "/v1/invoices/" + invoice_id + "/credit", R"({"reason":"feil"})");
  ASSERT_EQ(credited.status, 201) << credited.body;
  const auto note_id = Json::parse(credited.body).at("id").get<std::string>();

  // Stored only sealed: the session's line, and the same ciphertext on the invoice and the credit
  // note (the retained key's, bound to the session and the line).
  EXPECT_EQ(count("SELECT count(*) FROM session_lines WHERE description IS NOT NULL"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM invoice_lines WHERE description IS NOT NULL"), 0);
  const auto same_ciphertext =
      "SELECT count(*) FROM invoice_lines il JOIN invoices i ON i.id = il.invoice_id "
      "JOIN session_lines sl ON sl.session_id = i.session_id AND sl.line_no = il.line_no "
      "WHERE il.description_enc = sl.description_enc AND " +
      of_session;
  EXPECT_EQ(count(same_ciphertext), 2);
  // ... and shown opened: the session, the invoice, the credit note, their PDFs.
  EXPECT_EQ(session(id).at("lines")[0].at("description"), description);
  for (const auto& document : {invoice_id, note_id}) {
    const auto shown = finance("GET", "/v1/invoices/" + document);
    ASSERT_EQ(shown.status, 200) << shown.body;
    EXPECT_EQ(Json::parse(shown.body).at("lines")[0].at("description"), description);
    EXPECT_NE(pdf_text(document).find(description), std::string::npos) << document;
  }

  // The bookkeeping period of a 2026 invoice ends with 2031: the descriptions go with the key.
  service_->clock().set(*common::parse_rfc3339("2032-01-02T12:00:00Z"));
  purge_now();
  ASSERT_TRUE(eventually([&] { return purged(id, "retained_purged_at") == 1; }));
  EXPECT_EQ(count("SELECT count(*) FROM session_lines WHERE description_enc IS NOT NULL OR "
                  "description IS NOT NULL"),
            0);
  EXPECT_EQ(count("SELECT count(*) FROM invoice_lines WHERE description_enc IS NOT NULL OR "
                  "description IS NOT NULL"),
            0);
  EXPECT_EQ(overdue("plaintext"), 0);
  // Every reader still answers, with a placeholder that tells nothing about the visit.
  const std::string purged_text = "(beskrivelse slettet)";
  EXPECT_EQ(session(id).at("lines")[0].at("description"), purged_text);
  for (const auto& document : {invoice_id, note_id}) {
    const auto shown = finance("GET", "/v1/invoices/" + document);
    ASSERT_EQ(shown.status, 200) << shown.body;
    const auto json = Json::parse(shown.body);
    EXPECT_EQ(json.at("buyer").at("status"), "purged");
    EXPECT_EQ(json.at("lines")[0].at("description"), purged_text);
    const auto text = pdf_text(document);
    EXPECT_NE(text.find(purged_text), std::string::npos) << text;
    EXPECT_EQ(text.find(description), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace visitpay::testing
