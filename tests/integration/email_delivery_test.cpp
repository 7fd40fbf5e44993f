// The e-mail invoice channel: the adapter against the mail catcher over real SMTP, and the invoice
// path end to end (in-process service, manual clock, real PostgreSQL) for a clinic that mails its
// invoices: sent, retried, refused and then posted, and shown to finance.
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "adapters/invoice/email/email_channel.hpp"
#include "flow_fixture.hpp"
#include "mocks/smtp/smtp_mock.hpp"

namespace visitpay::testing {
namespace {

namespace asio = boost::asio;
using adapters::invoice::EmailInvoiceChannel;
using adapters::invoice::EmailSettings;

constexpr const char* kPayerEmail = "kari.nordmann@example.no";

domain::InvoiceDocument sample_document() {
  using namespace std::chrono;
  domain::InvoiceDocument d;
  d.number = 1042;
  d.kid = "0000010424";
  d.issue_date = year_month_day{year{2026}, month{11}, day{23}};
  d.due_date = year_month_day{year{2026}, month{12}, day{7}};
  d.delivery_date = year_month_day{year{2026}, month{11}, day{22}};
  d.delivery_place = "Oslo Sentrum Klinikk";
  d.seller_name = "Oslo Sentrum Klinikk AS";
  d.seller_org_number = "912345688";
  d.seller_bank_account = "15032080003";
  d.buyer_name = "Kari Nordmann";
  d.buyer_street = "Storgata 1";
  d.lines = {{"Konsultasjon psykiater", 65000, 0}};
  d.total = 65000;
  return d;
}

class EmailChannelTest : public ::testing::Test {
 protected:
  EmailSettings settings() const {
    EmailSettings s;
    s.smtp_url = smtp_.smtp_url();
    s.require_tls = false;
    s.from_address = "faktura@klinikk.example";
    s.timeout = std::chrono::seconds(5);
    return s;
  }

  common::Result<ports::InvoiceDelivered> deliver(EmailInvoiceChannel& channel,
                                                  std::optional<std::string> to = kPayerEmail) {
    const ports::InvoiceDelivery delivery{document_, pdf_, "912345688-invoice-1042", to};
    auto done = asio::co_spawn(ioc_, channel.deliver(delivery), asio::use_future);
    ioc_.restart();
    ioc_.run();
    return done.get();
  }

  mocks::SmtpMock smtp_;
  asio::io_context ioc_;
  domain::InvoiceDocument document_ = sample_document();
  std::string pdf_ = "%PDF-1.4\n% a test document with a NUL \0 and high bytes \xff\xfe\n%%EOF\n";
};

TEST_F(EmailChannelTest, MailsTheDocumentWithThePdfAttached) {
  EmailInvoiceChannel channel(settings());
  auto sent = deliver(channel);
  ASSERT_TRUE(sent) << sent.error().detail;
  const auto messages = smtp_.messages();
  ASSERT_EQ(messages.size(), 1u);
  const auto& m = messages[0];
  EXPECT_EQ(m.mail_from, "faktura@klinikk.example");
  EXPECT_EQ(m.recipients, std::vector<std::string>{kPayerEmail});
  EXPECT_EQ(m.header("to"), std::string("<") + kPayerEmail + ">");
  EXPECT_EQ(m.subject(), "Faktura 1042 fra Oslo Sentrum Klinikk AS");
  EXPECT_EQ(sent->reference, "email:" + m.header("message-id"));
  EXPECT_EQ(m.header("message-id"), "<912345688-invoice-1042.visitpay@klinikk.example>");
  std::string file_name;
  const auto attachment = m.attachment(&file_name);
  ASSERT_TRUE(attachment);
  EXPECT_EQ(*attachment, pdf_);  // byte for byte, NUL and high bytes included
  EXPECT_EQ(file_name, "912345688-invoice-1042.pdf");
  const auto text = m.text();
  EXPECT_NE(text.find("faktura 1042 fra Oslo Sentrum Klinikk AS"), std::string::npos) << text;
  EXPECT_NE(text.find("KID: 0000010424"), std::string::npos) << text;
  EXPECT_NE(text.find("Til konto: 1503.20.80003"), std::string::npos) << text;
  EXPECT_NE(text.find("650 kr"), std::string::npos) << text;
  // The payer's name, address and the visit's lines are on the PDF only.
  for (const char* secret : {"Kari", "Storgata", "psykiater"}) {
    EXPECT_EQ(m.data.find(secret), std::string::npos) << secret;
  }
}

TEST_F(EmailChannelTest, ARefusedRecipientIsPermanentAndTheErrorHoldsNoAddress) {
  EmailInvoiceChannel channel(settings());
  smtp_.inject("rcpt", 550);
  auto refused = deliver(channel);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, common::ErrorCode::provider_rejected);
  EXPECT_EQ(refused.error().detail, "e-mail refused for the recipient (SMTP 550)");
  smtp_.inject("data", 554);
  auto content = deliver(channel);
  ASSERT_FALSE(content);
  EXPECT_EQ(content.error().code, common::ErrorCode::provider_rejected);
  EXPECT_EQ(content.error().detail.find("example.no"), std::string::npos);
  EXPECT_TRUE(smtp_.messages().empty());
}

TEST_F(EmailChannelTest, WhatMayPassIsRetriable) {
  EmailInvoiceChannel channel(settings());
  for (const auto& [stage, code] : std::vector<std::pair<std::string, int>>{
           {"rcpt", 451}, {"mail", 550}, {"data", 452}, {"connect", 421}, {"connect", 554}}) {
    smtp_.inject(stage, code);
    auto failed = deliver(channel);
    ASSERT_FALSE(failed) << stage;
    EXPECT_EQ(failed.error().code, common::ErrorCode::provider_unavailable)
        << stage << " " << code << ": " << failed.error().detail;
    EXPECT_EQ(failed.error().detail.find("example"), std::string::npos);
  }
  EXPECT_TRUE(deliver(channel));  // and then it goes
  EXPECT_EQ(smtp_.messages().size(), 1u);
}

TEST_F(EmailChannelTest, NoRelayIsRetriableAndNoAddressIsPermanent) {
  auto s = settings();
  s.smtp_url = "smtp://127.0.0.1:1";
  EmailInvoiceChannel down(s);
  auto unreachable = deliver(down);
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().code, common::ErrorCode::provider_unavailable);
  EmailInvoiceChannel channel(settings());
  auto nobody = deliver(channel, std::nullopt);
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code, common::ErrorCode::provider_rejected);
}

TEST_F(EmailChannelTest, RequiredTlsIsNeverDroppedForARelayWithout) {
  auto s = settings();
  s.require_tls = true;  // the catcher offers no STARTTLS
  EmailInvoiceChannel channel(s);
  auto refused = deliver(channel);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, common::ErrorCode::provider_unavailable);
  EXPECT_TRUE(smtp_.messages().empty());
}

// A relay that requires STARTTLS, with a certificate for localhost made for the test: the channel
// upgrades, verifies the certificate against ca_file, and refuses a certificate it cannot verify.
TEST(EmailChannelTls, UpgradesWithStartTlsAndVerifiesTheRelay) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("visitpay-smtp-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto cert = (dir / "cert.pem").string();
  const auto key = (dir / "key.pem").string();
  const std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext "
      "subjectAltName=DNS:localhost -keyout " +
      key + " -out " + cert + " 2>/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  mocks::SmtpMockOptions o;
  o.tls_cert_file = cert;
  o.tls_key_file = key;
  mocks::SmtpMock smtp(o);
  EmailSettings s;
  s.smtp_url = "smtp://localhost:" + std::to_string(smtp.smtp_port());
  s.from_address = "faktura@klinikk.example";
  s.timeout = std::chrono::seconds(5);
  const auto document = sample_document();
  const std::string pdf = "%PDF-1.4\n%%EOF\n";
  const ports::InvoiceDelivery delivery{document, pdf, "912345688-invoice-1042", kPayerEmail};
  asio::io_context ioc;
  auto run = [&](const EmailSettings& settings) {
    EmailInvoiceChannel channel(settings);
    auto done = asio::co_spawn(ioc, channel.deliver(delivery), asio::use_future);
    ioc.restart();
    ioc.run();
    return done.get();
  };
  auto unverified = run(s);  // the system's CAs do not know the test certificate
  ASSERT_FALSE(unverified);
  EXPECT_EQ(unverified.error().code, common::ErrorCode::provider_unavailable);
  EXPECT_TRUE(smtp.messages().empty());
  s.ca_file = cert;
  auto sent = run(s);
  ASSERT_TRUE(sent) << sent.error().detail;
  ASSERT_EQ(smtp.messages().size(), 1u);
  EXPECT_EQ(smtp.messages()[0].attachment(), pdf);
  std::filesystem::remove_all(dir);
}

TEST(EmailChannelAuth, LogsInWithAuthPlainAndAWrongPasswordIsRetriable) {
  mocks::SmtpMockOptions o;
  o.username = "visitpay";
  o.password = "s3cret";
  mocks::SmtpMock smtp(o);
  EmailSettings s;
  s.smtp_url = smtp.smtp_url();
  s.require_tls = false;
  s.from_address = "faktura@klinikk.example";
  s.username = "visitpay";
  s.password = "wrong";
  const auto document = sample_document();
  const std::string pdf = "%PDF-1.4\n%%EOF\n";
  const ports::InvoiceDelivery delivery{document, pdf, "912345688-invoice-1042", kPayerEmail};
  asio::io_context ioc;
  auto run = [&](EmailInvoiceChannel& channel) {
    auto done = asio::co_spawn(ioc, channel.deliver(delivery), asio::use_future);
    ioc.restart();
    ioc.run();
    return done.get();
  };
  EmailInvoiceChannel wrong(s);
  auto refused = run(wrong);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, common::ErrorCode::provider_unavailable);
  s.password = "s3cret";
  EmailInvoiceChannel right(s);
  EXPECT_TRUE(run(right));
  EXPECT_EQ(smtp.messages().size(), 1u);
}

TEST(EmailHeader, NonAsciiTextBecomesEncodedWords) {
  using adapters::invoice::encode_header_text;
  EXPECT_EQ(encode_header_text("Faktura 7"), "Faktura 7");
  EXPECT_EQ(encode_header_text("Faktura fra Bærum"), "=?UTF-8?B?RmFrdHVyYSBmcmEgQsOmcnVt?=");
  const std::string long_text = "Purring på faktura 1042 fra Tromsø Øyeklinikk og Ørelegesenter AS";
  const auto encoded = encode_header_text(long_text);
  EXPECT_NE(encoded.find("\r\n "), std::string::npos);  // folded
  std::size_t at = 0;
  while (at < encoded.size()) {  // every word at most 75 characters (RFC 2047 § 2)
    auto end = encoded.find("\r\n ", at);
    if (end == std::string::npos) end = encoded.size();
    EXPECT_LE(end - at, 75u);
    at = end + 3;
  }
}

// --- the invoice path of a clinic that mails its invoices ----------------------------------------

class EmailFlowTest : public FlowTest {
 protected:
  void SetUp() override {
    configure_ = [this](config::Config& c) {
      c.invoices.email.smtp_url = smtp_.smtp_url();
      c.invoices.email.require_tls = false;
      c.invoices.email.from_address = "faktura@oslo-sentrum.example";
      c.invoices.email.timeout = std::chrono::seconds(5);
      auto& clinic = c.clinics.at(0);
      clinic.invoice_delivery = config::InvoiceDelivery::email;
      clinic.reminders.enabled = true;  // a purring, no collection
      clinic.reminders.fee = 3500;
      clinic.reminders.purringer = 1;
      clinic.reminders.fee_purringer = 1;
    };
    FlowTest::SetUp();
    finance_token_ = service_->token("invoices:review");
  }

  Json finance_json(const std::string& method, const std::string& target,
                    const std::string& body = {}) {
    auto reply = http_request(
        service_->port(), method, target, body,
        {{"Authorization", "Bearer " + finance_token_}, {"Content-Type", "application/json"}});
    EXPECT_LT(reply.status, 300) << method << " " << target << ": " << reply.body;
    return Json::parse(reply.body, nullptr, false);
  }

  // A check-out without phone (invoiced at once), with or without e-mail; approved. Returns the
  // invoice's path.
  std::string approved_invoice(const std::string& visit_id, bool with_email = true) {
    Json body = Json::parse(checkout_body(visit_id, /*with_phone=*/false));
    if (with_email) body["payer"]["email"] = kPayerEmail;
    auto reply = http_request(service_->port(), "POST", "/v1/checkouts", body.dump(), auth());
    EXPECT_EQ(reply.status, 201) << reply.body;
    const auto session_id = Json::parse(reply.body).value("session_id", "");
    EXPECT_TRUE(eventually([&] { return state_is(session_id, "invoiced"); }));
    const auto list = finance_json("GET", "/v1/invoices?status=pending_review");
    for (const auto& item : list["items"]) {
      if (item["session_id"] == session_id) {
        const std::string path = "/v1/invoices/" + item["id"].get<std::string>();
        finance_json("POST", path + "/approve");
        return path;
      }
    }
    ADD_FAILURE() << "no invoice for " << visit_id;
    return "";
  }

  // The DPO's erasure request for the payer of every check-out here.
  HttpReply erase_the_payer() {
    return http_request(service_->port(), "POST", "/v1/privacy/erasure",
                        R"({"national_id":"10915596784"})",
                        {{"Authorization", "Bearer " + service_->token("privacy")},
                         {"Content-Type", "application/json"}});
  }

  bool delivered(const std::string& path) {
    return !finance_json("GET", path)["delivery"]["reference"].is_null();
  }

  std::vector<std::string> posted_files() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(delivery_dir_, ec)) {
      out.push_back(entry.path().filename().string());
    }
    return out;
  }

  mocks::SmtpMock smtp_;
  std::string finance_token_;
};

TEST_F(EmailFlowTest, AnApprovedInvoiceIsMailedToThePayerAndNotPosted) {
  const auto path = approved_invoice("V-MAIL-1");
  ASSERT_TRUE(eventually([&] { return delivered(path); }));
  const auto invoice = finance_json("GET", path);
  const auto messages = smtp_.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].recipients, std::vector<std::string>{kPayerEmail});
  EXPECT_EQ(messages[0].subject(), "Faktura 1 fra Oslo Sentrum Klinikk AS");
  const auto pdf = messages[0].attachment();
  ASSERT_TRUE(pdf);
  EXPECT_EQ(pdf->rfind("%PDF-", 0), 0u);
  EXPECT_EQ(invoice["delivery"]["reference"], "email:" + messages[0].header("message-id"));
  EXPECT_EQ(invoice["buyer"]["email"], kPayerEmail);  // finance sees where it went
  EXPECT_TRUE(invoice["delivery"]["problem"].is_null());
  EXPECT_TRUE(posted_files().empty());
  // Stored encrypted only.
  EXPECT_EQ(count("SELECT count(*) FROM payers WHERE email_enc IS NOT NULL"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM payers WHERE position('kari.nordmann'::bytea IN "
                  "email_enc) > 0"),
            0);
}

TEST_F(EmailFlowTest, ACheckOutWithoutAnAddressGoesByPost) {
  const auto path = approved_invoice("V-MAIL-2", /*with_email=*/false);
  ASSERT_TRUE(eventually([&] { return delivered(path); }));
  EXPECT_TRUE(smtp_.messages().empty());
  EXPECT_EQ(posted_files(), std::vector<std::string>{"912345688-invoice-1.pdf"});
}

TEST_F(EmailFlowTest, AFailedSendIsShownToFinanceAndRetriedUntilItGoes) {
  smtp_.inject("rcpt", 451, 2);
  const auto path = approved_invoice("V-MAIL-3");
  ASSERT_TRUE(
      eventually([&] { return finance_json("GET", path)["flags"]["delivery_problem"] == true; }));
  auto invoice = finance_json("GET", path);
  EXPECT_EQ(invoice["delivery"]["problem"],
            "e-mail not sent: Failed sending data to the peer (SMTP 451)");
  EXPECT_TRUE(invoice["delivery"]["reference"].is_null());
  // In the finance queue's filter too.
  const auto flagged = finance_json("GET", "/v1/invoices?flag=delivery_problem");
  EXPECT_EQ(flagged["items"].size(), 1u);
  for (int i = 0; i < 6 && !delivered(path); ++i) {
    advance(std::chrono::minutes(1));  // past the retry's backoff
    eventually([&] { return delivered(path); }, std::chrono::milliseconds(500));
  }
  ASSERT_TRUE(delivered(path));
  invoice = finance_json("GET", path);
  EXPECT_TRUE(invoice["delivery"]["problem"].is_null());
  EXPECT_FALSE(invoice["flags"]["delivery_problem"].get<bool>());
  EXPECT_EQ(smtp_.messages().size(), 1u);
  int failures = 0;
  for (const auto& e : invoice["history"])
    failures += e["action"] == "delivery_failed" ? 1 : 0;
  EXPECT_EQ(failures, 1);  // the same problem twice is one history row
  EXPECT_EQ(metric("visitpay_email_deliveries_total", "outcome=\"failed\""), 2);
  EXPECT_EQ(metric("visitpay_email_deliveries_total", "outcome=\"sent\""), 1);
}

TEST_F(EmailFlowTest, ARefusedAddressGoesByPostAtOnceAndTheHistorySaysSo) {
  smtp_.inject("rcpt", 550);
  const auto path = approved_invoice("V-MAIL-4");
  ASSERT_TRUE(eventually([&] { return delivered(path); }));
  const auto invoice = finance_json("GET", path);
  EXPECT_EQ(posted_files(), std::vector<std::string>{"912345688-invoice-1.pdf"});
  EXPECT_TRUE(smtp_.messages().empty());
  EXPECT_TRUE(invoice["delivery"]["problem"].is_null());
  bool noted = false;
  for (const auto& e : invoice["history"]) {
    if (e["action"] == "delivery_failed") {
      EXPECT_EQ(e["detail"], "e-mail refused for the recipient (SMTP 550), sent by post instead");
      noted = true;
    }
  }
  EXPECT_TRUE(noted) << invoice["history"].dump();
  for (const auto& line : service_->log_lines()) {
    EXPECT_EQ(line.find("example.no"), std::string::npos) << line;
  }
}

TEST_F(EmailFlowTest, TheAddressIsPurgedWithTheNameAndAddress) {
  const auto path = approved_invoice("V-MAIL-5");
  ASSERT_TRUE(eventually([&] { return delivered(path); }));
  auto db = service_->db();
  ASSERT_TRUE(db.exec("UPDATE invoices SET issue_date = '2019-01-10'"));  // long past the period
  EXPECT_GE(service_->await(service_->service().purger().run_once()), 1);
  EXPECT_EQ(count("SELECT count(*) FROM payers WHERE email_enc IS NOT NULL"), 0);
  EXPECT_TRUE(finance_json("GET", path)["buyer"]["email"].is_null());
}

TEST_F(EmailFlowTest, TheReminderGoesTheSameWay) {
  const auto path = approved_invoice("V-MAIL-7");
  ASSERT_TRUE(eventually([&] { return delivered(path); }));
  const auto due = finance_json("GET", path)["due_date"].get<std::string>();
  // 15 days past the due date, 14:10 in Oslo: the purring is due (at least 14 days after).
  service_->clock().set(*common::parse_rfc3339(due + "T13:10:00Z") + std::chrono::hours(24 * 15));
  EXPECT_EQ(service_->await(service_->service().reminder_scheduler().run_once()), 1);
  ASSERT_TRUE(settle());
  const auto messages = smtp_.messages();
  ASSERT_EQ(messages.size(), 2u) << finance_json("GET", path).dump();
  EXPECT_EQ(messages[1].subject(), "Purring på faktura 1 fra Oslo Sentrum Klinikk AS");
  EXPECT_EQ(messages[1].recipients, std::vector<std::string>{kPayerEmail});
  const auto pdf = messages[1].attachment();
  ASSERT_TRUE(pdf);
  EXPECT_EQ(pdf->rfind("%PDF-", 0), 0u);
  EXPECT_NE(messages[1].text().find("Å betale: 685 kr"), std::string::npos) << messages[1].text();
  EXPECT_TRUE(posted_files().empty());
}

// norway.md §5: the e-mail address may go when its purpose ends. It serves the letters; once the
// claim is settled nothing more is sent, while the name and address stay for the bookkeeping.
TEST_F(EmailFlowTest, TheAddressGoesWhenTheClaimIsSettled) {
  const auto path = approved_invoice("V-MAIL-8");
  ASSERT_TRUE(eventually([&] { return delivered(path); }));
  ASSERT_TRUE(settle());
  const auto session_id = finance_json("GET", path)["session_id"].get<std::string>();
  auto& purger = service_->service().purger();
  service_->await(purger.run_once());
  EXPECT_EQ(count("SELECT count(*) FROM payers WHERE email_enc IS NOT NULL"), 1);  // still owed

  finance_json("POST", path + "/mark-paid", "{}");
  service_->await(purger.run_once());
  EXPECT_EQ(count("SELECT count(*) FROM payers WHERE email_enc IS NOT NULL"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM payers WHERE name_enc IS NOT NULL"), 1);  // bookkeeping
  EXPECT_EQ(count("SELECT count(*) FROM purge_events WHERE session_id = '" + session_id +
                  "' AND rule = 'claim_settled' AND classes = '{email}' AND actor = 'purger'"),
            1);
  const auto invoice = finance_json("GET", path);
  EXPECT_TRUE(invoice["buyer"]["email"].is_null());
  EXPECT_EQ(invoice["buyer"]["name"], "Kari Nordmann");

  // The DPO sees when and why, and nothing is held past the policy.
  const auto dpo = service_->token("privacy");
  const std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + dpo},
                                                      {"Content-Type", "application/json"}};
  auto access = http_request(service_->port(), "POST", "/v1/privacy/access",
                             R"({"national_id":"10915596784"})", headers);
  ASSERT_EQ(access.status, 200) << access.body;
  const auto session = Json::parse(access.body)["sessions"][0];
  EXPECT_TRUE(session["personal_data"]["retained"]["email"].is_null());
  bool reported = false;
  for (const auto& p : session["purges"]) {
    reported = reported || (p["rule"] == "claim_settled" && p["classes"] == Json({"email"}));
  }
  EXPECT_TRUE(reported) << session.dump();
  auto check = http_request(service_->port(), "GET", "/v1/privacy/check", {}, headers);
  ASSERT_EQ(check.status, 200) << check.body;
  bool listed = false;
  const auto checked = Json::parse(check.body);
  for (const auto& rule : checked["rules"]) {
    if (rule["rule"] != "claim_settled") continue;
    listed = true;
    EXPECT_EQ(rule["sessions"], 0);
  }
  EXPECT_TRUE(listed) << check.body;
}

// A credited invoice's credit note still goes to the address: it stays while that delivery is
// waiting (here: for a retry) and goes once the note was mailed.
TEST_F(EmailFlowTest, ACreditNoteStillToBeMailedKeepsTheAddressUntilItGoes) {
  const auto path = approved_invoice("V-MAIL-9");
  ASSERT_TRUE(eventually([&] { return delivered(path); }));
  ASSERT_TRUE(settle());
  smtp_.inject("rcpt", 451);  // the credit note's first attempt fails; a retry follows
  finance_json("POST", path + "/credit", R"({"reason":"wrong clinic"})");
  ASSERT_TRUE(eventually([&] {
    return count(
               "SELECT count(*) FROM outbox WHERE kind = 'deliver_credit_note' AND status = "
               "'pending' AND last_error IS NOT NULL AND lease_owner IS NULL") == 1;
  }));
  auto& purger = service_->service().purger();
  service_->await(purger.run_once());
  EXPECT_EQ(count("SELECT count(*) FROM payers WHERE email_enc IS NOT NULL"), 1);

  for (int i = 0; i < 6 && smtp_.messages().size() < 2; ++i) {
    advance(std::chrono::minutes(1));  // past the retry's backoff
    eventually([&] { return smtp_.messages().size() == 2; }, std::chrono::milliseconds(500));
  }
  const auto messages = smtp_.messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].recipients, std::vector<std::string>{kPayerEmail});
  ASSERT_TRUE(settle());
  service_->await(purger.run_once());
  EXPECT_EQ(count("SELECT count(*) FROM payers WHERE email_enc IS NOT NULL"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM purge_events WHERE rule = 'claim_settled'"), 1);
  EXPECT_TRUE(posted_files().empty());
}

TEST_F(EmailFlowTest, AnErasureRequestTakesTheAddressAndKeepsTheBookkeeping) {
  const auto path = approved_invoice("V-MAIL-6");
  ASSERT_TRUE(eventually([&] { return delivered(path); }));
  const auto reply = erase_the_payer();
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(count("SELECT count(*) FROM payers WHERE email_enc IS NOT NULL"), 0);
  const auto invoice = finance_json("GET", path);
  EXPECT_EQ(invoice["buyer"]["status"], "held");  // name and address: bookkeeping
  EXPECT_TRUE(invoice["buyer"]["email"].is_null());
  const auto session_id = invoice["session_id"].get<std::string>();
  const auto report = Json::parse(reply.body);
  ASSERT_EQ(report["sessions"].size(), 1u) << reply.body;
  EXPECT_EQ(report["sessions"][0]["destroyed"], Json({"transient", "email"})) << reply.body;
  EXPECT_EQ(count("SELECT count(*) FROM purge_events WHERE session_id = '" + session_id +
                  "' AND rule = 'erasure_request' AND classes = '{transient,email}'"),
            1);
}

// The policy had purged the transient data when the invoice was issued; the address is still
// held for the letters. An erasure request then takes the address alone, and says so.
TEST_F(EmailFlowTest, AnErasureAfterTheTransientPurgeStillTakesTheAddress) {
  const auto path = approved_invoice("V-MAIL-9");
  ASSERT_TRUE(eventually([&] { return delivered(path); }));
  const auto session_id = finance_json("GET", path)["session_id"].get<std::string>();
  service_->await(service_->service().purger().run_once());
  ASSERT_EQ(count("SELECT count(*) FROM payers WHERE transient_purged_at IS NOT NULL AND "
                  "email_enc IS NOT NULL"),
            1);
  const auto reply = erase_the_payer();
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(count("SELECT count(*) FROM payers WHERE email_enc IS NOT NULL"), 0);
  const auto report = Json::parse(reply.body);
  ASSERT_EQ(report["sessions"].size(), 1u) << reply.body;
  EXPECT_EQ(report["sessions"][0]["destroyed"], Json({"email"})) << reply.body;
  EXPECT_EQ(count("SELECT count(*) FROM purge_events WHERE session_id = '" + session_id +
                  "' AND rule = 'erasure_request' AND classes = '{email}'"),
            1);
  EXPECT_EQ(finance_json("GET", path)["buyer"]["status"], "held");
}

// Every worker pass run by the test, in a chosen order.
class EmailInterleavingTest : public EmailFlowTest {
 protected:
  void SetUp() override {
    outbox_enabled_ = false;
    EmailFlowTest::SetUp();
  }
};

// The reminder schedule takes a step while the invoice's delivery item is in flight: after its
// handler read the invoice (and mailed it), before the item is completed. The step's delivery
// work finds that item claimed; the item runs again and the letter goes.
TEST_F(EmailInterleavingTest, AReminderTakenWhileTheDeliveryRunsIsNotStranded) {
  Json body = Json::parse(checkout_body("V-MAIL-RACE", /*with_phone=*/false));
  body["payer"]["email"] = kPayerEmail;
  auto reply = http_request(service_->port(), "POST", "/v1/checkouts", body.dump(), auth());
  ASSERT_EQ(reply.status, 201) << reply.body;
  ASSERT_TRUE(settle());  // invoiced
  const auto list = finance_json("GET", "/v1/invoices?status=pending_review");
  ASSERT_EQ(list["items"].size(), 1u) << list.dump();
  const std::string path = "/v1/invoices/" + list["items"][0]["id"].get<std::string>();
  finance_json("POST", path + "/approve");
  const auto due = finance_json("GET", path)["due_date"].get<std::string>();
  // 15 days past the due date: the purring is due.
  const auto reminder_time =
      *common::parse_rfc3339(due + "T13:10:00Z") + std::chrono::hours(24 * 15);

  auto& s = service_->service();
  bool stepped = false;
  std::int64_t steps = 0;
  auto& clock = service_->clock();
  s.dispatcher().add_handler(
      "deliver_invoice",
      [&s, &stepped, &steps, &clock,
       reminder_time](const store::OutboxItem& item) -> asio::awaitable<workers::OutboxOutcome> {
        auto outcome = co_await s.invoice_work().deliver(item, "invoice");
        if (!stepped) {
          stepped = true;
          clock.set(reminder_time);
          const auto taken = co_await s.reminder_scheduler().run_once();
          steps = taken;
        }
        co_return outcome;
      });
  ASSERT_TRUE(settle());
  EXPECT_EQ(steps, 1);
  const auto messages = smtp_.messages();
  ASSERT_EQ(messages.size(), 2u) << finance_json("GET", path).dump();
  EXPECT_EQ(messages[0].subject(), "Faktura 1 fra Oslo Sentrum Klinikk AS");
  EXPECT_EQ(messages[1].subject(), "Purring på faktura 1 fra Oslo Sentrum Klinikk AS");
  EXPECT_EQ(count("SELECT count(*) FROM invoice_reminders WHERE delivered_at IS NULL"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE kind = 'deliver_invoice' AND status <> "
                  "'done'"),
            0);
}

}  // namespace
}  // namespace visitpay::testing
