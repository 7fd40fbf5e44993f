// `collection.folder`: claims handed to a collection agency as one JSON file per claim in the
// clinic's directory (reminders.collection.dir), for the agency's pickup (SFTP, their client).
// Written like the invoice folder's PDFs (adapters/invoice/folder): complete or not at all, the
// same name again changes nothing, files 0600. The files hold the debtor's name and address:
// the pickup must delete them once transferred (README "Reminders and collection").
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <filesystem>
#include <map>
#include <string>

#include "ports/collection_agency.hpp"

namespace visitpay::adapters::collection {

class FolderCollectionAgency final : public ports::CollectionAgency {
 public:
  // `directories`: clinic id -> its agency's drop folder.
  FolderCollectionAgency(boost::asio::any_io_executor blocking_executor,
                         std::map<std::string, std::filesystem::path, std::less<>> directories);

  boost::asio::awaitable<common::Result<std::string>> hand_over(
      const ports::CollectionCase& claim) override;

 private:
  boost::asio::any_io_executor blocking_executor_;
  std::map<std::string, std::filesystem::path, std::less<>> directories_;
};

// The file's content (format "visitpay.collection.v1"). Exposed for tests.
std::string collection_case_json(const ports::CollectionCase& claim);

}  // namespace visitpay::adapters::collection
