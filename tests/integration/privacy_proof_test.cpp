// Provably gone: four payers go through a whole lifecycle (paid by card, cancelled, invoiced and
// issued, erased on request), days and years pass on the manual clock, and afterwards a plain
// pg_dump of the database (audit log and outbox included), the service's log, its metrics and
// what the providers received hold none of their national ids, phone numbers, names or streets,
// nor what each visit was for (its line's description).
#include "flow_fixture.hpp"
#include "pg_cluster.hpp"
#include "store/privacy_store.hpp"

namespace visitpay::testing {
namespace {

struct Person {
  std::string name, national_id, phone, street;
  std::string visit;  // the check-out line's description: health information
};

const std::vector<Person>& people() {
  static const std::vector<Person> p = {
      {"Aslaug Testesen", "15076500565", "+4791234567", "Testveien 12", "Psykiatrisk vurdering"},
      {"Bjørnar Prøvesen", "15076500646", "+4792345678", "Prøvegata 3", "Samtaleterapi"},
      {"Cecilie Eksempelsen", "15076500727", "+4793456789", "Eksempelvegen 45",
       "Fertilitetsutredning"},
      {"Dagfinn Dokumentsen", "03039512504", "+4794567890", "Dokumentstien 7", "Rusbehandling"},
  };
  return p;
}

// Every way an identifier could show up in text: as given, the phone without +47.
std::vector<std::string> needles() {
  std::vector<std::string> out;
  for (const auto& p : people()) {
    out.insert(out.end(), {p.name, p.national_id, p.phone, p.phone.substr(3), p.street, p.visit});
  }
  return out;
}

// The identifiers found in `text` (expected: none).
std::vector<std::string> leaks(const std::string& text) {
  std::vector<std::string> found;
  for (const auto& n : needles()) {
    if (text.find(n) != std::string::npos) found.push_back(n);
  }
  return found;
}

class PrivacyProofTest : public FlowTest {
 protected:
  std::string checkout_as(const std::string& visit_id, const Person& p) {
    Json body = Json::parse(checkout_body(visit_id));
    body["payer"]["name"] = p.name;
    body["payer"]["national_id"] = p.national_id;
    body["payer"]["phone"] = p.phone;
    body["payer"]["address"]["street"] = p.street;
    body["lines"][0]["description"] = p.visit;
    auto reply = http_request(service_->port(), "POST", "/v1/checkouts", body.dump(), auth());
    EXPECT_EQ(reply.status, 201) << reply.body;
    return Json::parse(reply.body).value("session_id", "");
  }

  std::string order_of(const std::string& session_id) {
    for (const auto& o : swedbank_->orders()) {
      if (o.payee_reference.find(session_id.substr(0, 8)) != std::string::npos ||
          count("SELECT count(*) FROM payment_orders WHERE session_id = '" + session_id +
                "' AND order_id = '" + o.id + "'") == 1) {
        return o.id;
      }
    }
    return {};
  }

  std::string pg_dump() {
    return run_command("pg_dump --no-owner --no-privileges '" + database_ + "'");
  }

  void purge_now() { service_->service().purger().nudge(); }

  std::string all_log() {
    std::string out;
    for (const auto& line : service_->log_lines())
      out += line + "\n";
    return out;
  }
};

TEST_F(PrivacyProofTest, AfterTheLifecycleNothingPersonalIsLeftAnywhere) {
  const auto& p = people();
  const auto paid = checkout_as("V-PROOF-PAID", p[0]);
  const auto cancelled = checkout_as("V-PROOF-CANCEL", p[1]);
  const auto invoiced = checkout_as("V-PROOF-INV", p[2]);
  const auto erased = checkout_as("V-PROOF-ERASE", p[3]);
  for (const auto& id : {paid, cancelled, invoiced, erased})
    ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));

  // Encrypted at rest from the first moment: the dump holds ciphertext only.
  const auto first = pg_dump();
  ASSERT_NE(first.find("V-PROOF-PAID"), std::string::npos);  // the rows are in it
  EXPECT_EQ(leaks(first), std::vector<std::string>{});
  // The provider describes each order by the clinic's name, never by the visit: its payer page
  // shows that description.
  for (const auto& o : swedbank_->orders()) {
    const auto page = http_request(swedbank_->port(), "GET", o.checkout_path, {}, {});
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.body.find("Oslo Sentrum Klinikk"), std::string::npos) << page.body;
    EXPECT_EQ(leaks(page.body), std::vector<std::string>{});
  }

  ASSERT_TRUE(swedbank_->pay(order_of(paid), "CreditCard"));
  ASSERT_TRUE(swedbank_->pay(order_of(erased), "Vipps"));
  ASSERT_EQ(
      http_request(service_->port(), "POST", "/v1/checkouts/" + cancelled + "/cancel", {}, auth())
          .status,
      200);
  ASSERT_TRUE(eventually([&] { return state_is(paid, "paid") && state_is(erased, "paid"); }));

  // The window closes on the third: an invoice, approved and delivered by finance.
  advance(std::chrono::hours(49));
  ASSERT_TRUE(eventually([&] { return state_is(invoiced, "invoiced"); }));
  const auto finance = service_->token("invoices:review");
  const std::map<std::string, std::string> finance_auth = {{"Authorization", "Bearer " + finance}};
  auto invoice_id =
      Json::parse(
          http_request(service_->port(), "GET", "/v1/sessions/" + invoiced, {}, auth()).body)
          .at("invoice")
          .at("id")
          .get<std::string>();
  ASSERT_EQ(http_request(service_->port(), "POST", "/v1/invoices/" + invoice_id + "/approve", {},
                         finance_auth)
                .status,
            200);
  ASSERT_TRUE(eventually(
      [&] { return count("SELECT count(*) FROM invoices WHERE delivered_at IS NOT NULL") == 1; }));

  // The fourth payer asks to be erased.
  const auto dpo = service_->token("privacy");
  auto erasure =
      http_request(service_->port(), "POST", "/v1/privacy/erasure",
                   Json{{"national_id", p[3].national_id}}.dump(),
                   {{"Authorization", "Bearer " + dpo}, {"Content-Type", "application/json"}});
  ASSERT_EQ(erasure.status, 200) << erasure.body;
  EXPECT_EQ(leaks(erasure.body), std::vector<std::string>{});

  // A week later the purger has done its part; the invoice keeps only name and address.
  advance(std::chrono::days(8));
  purge_now();
  ASSERT_TRUE(eventually([&] {
    return count("SELECT count(*) FROM payer_keys") == 1;  // the invoice's retained key
  }));
  auto dump = pg_dump();
  for (const auto* gone : {"Aslaug Testesen", "15076500646", "+4793456789", "Dokumentstien 7"})
    EXPECT_EQ(dump.find(gone), std::string::npos) << gone;
  EXPECT_EQ(leaks(dump), std::vector<std::string>{});  // the kept ones only as ciphertext

  // Years pass: the bookkeeping period of a 2026 invoice ends with 2031.
  service_->clock().set(*common::parse_rfc3339("2032-01-02T12:00:00Z"));
  purge_now();
  ASSERT_TRUE(eventually([&] { return count("SELECT count(*) FROM payer_keys") == 0; }));

  // Provably gone: the whole database, audit log and outbox included.
  dump = pg_dump();
  ASSERT_NE(dump.find("COPY public.purge_events"), std::string::npos);  // a real dump
  ASSERT_NE(dump.find("COPY public.outbox"), std::string::npos);
  EXPECT_EQ(leaks(dump), std::vector<std::string>{});
  auto db = service_->db();
  auto overdue =
      store::PrivacyStore::overdue(db, store::RetentionPolicy{}, service_->clock().now());
  ASSERT_TRUE(overdue);
  for (const auto& rule : *overdue)
    EXPECT_EQ(rule.sessions, 0) << rule.rule;

  // Never written anywhere else either: the log of the whole lifecycle, the metrics, and what
  // the providers were sent as references.
  EXPECT_EQ(leaks(all_log()), std::vector<std::string>{});
  EXPECT_EQ(leaks(http_request(service_->port(), "GET", "/metrics", {}, {}).body),
            std::vector<std::string>{});
  for (const auto& o : swedbank_->orders())
    EXPECT_EQ(leaks(o.payee_reference + " " + o.callback_url), std::vector<std::string>{});
  for (const auto& m : link_->messages()) {
    EXPECT_EQ(leaks(m.ref_id + " " + m.source), std::vector<std::string>{});
    for (const auto& person : p) {  // the text reaches the payer's phone: no name or id in it
      EXPECT_EQ(m.text.find(person.name), std::string::npos);
      EXPECT_EQ(m.text.find(person.national_id), std::string::npos);
      EXPECT_EQ(m.text.find(person.visit), std::string::npos);
    }
  }

  // The data protection officer can still account for every session: purged, and when.
  auto access =
      http_request(service_->port(), "POST", "/v1/privacy/access",
                   Json{{"national_id", p[2].national_id}}.dump(),
                   {{"Authorization", "Bearer " + dpo}, {"Content-Type", "application/json"}});
  ASSERT_EQ(access.status, 200) << access.body;
  const auto report = Json::parse(access.body);
  ASSERT_EQ(report.at("count"), 1);
  const auto& data = report.at("sessions")[0].at("personal_data");
  EXPECT_EQ(data.at("transient").at("status"), "purged");
  EXPECT_EQ(data.at("retained").at("status"), "purged");
  EXPECT_EQ(data.at("retained").at("purged_at"), "2032-01-02T13:00:00+01:00");
  EXPECT_EQ(leaks(access.body), std::vector<std::string>{});
}

}  // namespace
}  // namespace visitpay::testing
