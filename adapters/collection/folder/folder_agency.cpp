#include "adapters/collection/folder/folder_agency.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "adapters/invoice/folder/folder_channel.hpp"

namespace visitpay::adapters::collection {

namespace asio = boost::asio;
using common::ErrorCode;
using common::make_error;
using common::Result;
using Json = nlohmann::json;

namespace {

// By-value parameters: copied into the coroutine frame, which lives until the write is done.
asio::awaitable<Result<std::string>> write_on_pool(std::filesystem::path directory,
                                                   std::string file_name, std::string bytes) {
  co_return invoice::write_file_atomically(directory, file_name, bytes);
}

}  // namespace

std::string collection_case_json(const ports::CollectionCase& c) {
  Json letters = Json::array();
  for (const auto& l : c.letters) {
    letters.push_back({{"kind", l.kind},
                       {"sequence", l.sequence},
                       {"sent_on", l.sent_on},
                       {"deadline", l.deadline},
                       {"fee_ore", l.fee}});
  }
  const Json j = {
      {"format", "visitpay.collection.v1"},
      {"case", c.name},
      {"agency", c.agency},
      {"handed_over_on", c.handed_over_on},
      {"creditor",
       {{"name", c.creditor_name},
        {"org_number", c.creditor_org_number},
        {"bank_account", c.creditor_bank_account}}},
      {"claim",
       {{"invoice_number", c.invoice_number},
        {"kid", c.kid},
        {"issue_date", c.issue_date},
        {"due_date", c.due_date},
        {"service_date", c.service_date},
        {"service_place", c.service_place},
        {"currency", "NOK"},
        {"principal_ore", c.principal},
        {"reminder_fees_ore", c.reminder_fees},
        {"paid_ore", c.paid},
        {"open_ore", c.open}}},
      {"inkassovarsel_sent", c.inkassovarsel_sent},
      {"letters", std::move(letters)},
      {"debtor",
       {{"name", c.debtor_name},
        {"street", c.debtor_street},
        {"postal_code", c.debtor_postal_code},
        {"city", c.debtor_city},
        {"country", c.debtor_country}}},
  };
  return j.dump(2) + "\n";
}

FolderCollectionAgency::FolderCollectionAgency(
    asio::any_io_executor blocking_executor,
    std::map<std::string, std::filesystem::path, std::less<>> directories)
    : blocking_executor_(std::move(blocking_executor)), directories_(std::move(directories)) {}

asio::awaitable<Result<std::string>> FolderCollectionAgency::hand_over(
    const ports::CollectionCase& claim) {
  const auto dir = directories_.find(claim.clinic_id);
  if (dir == directories_.end()) {
    co_return make_error(ErrorCode::provider_rejected,
                         "collection folder: no directory for clinic " + claim.clinic_id);
  }
  // Named, not a temporary inside co_await (GCC 12; see the invoice folder).
  auto work = write_on_pool(dir->second, claim.name + ".json", collection_case_json(claim));
  auto written = co_await asio::co_spawn(blocking_executor_, std::move(work), asio::use_awaitable);
  if (!written) co_return std::move(written).error();
  co_return std::move(written).value();
}

}  // namespace visitpay::adapters::collection
