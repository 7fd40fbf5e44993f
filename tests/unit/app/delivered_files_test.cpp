#include "app/delivered_files.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace visitpay::app {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;

class DeliveredFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vp-delivered-" + std::to_string(std::random_device{}()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A file last written `age` ago.
  fs::path file(const std::string& name, hours age) {
    const auto path = dir_ / name;
    std::ofstream(path) << "%PDF-1.4 letter";
    fs::last_write_time(path, fs::file_time_type::clock::now() - age);
    return path;
  }

  fs::path dir_;
};

TEST_F(DeliveredFiles, CountingRemovesNothing) {
  file("912345688-invoice-1.pdf", hours(80));
  file("912345688-invoice-2.pdf", hours(1));
  const auto held = sweep_folder(dir_, hours(72), /*remove=*/false);
  EXPECT_EQ(held.files, 2);
  EXPECT_EQ(held.past_retention, 1);
  EXPECT_EQ(held.removed, 0);
  EXPECT_EQ(held.errors, 0);
  EXPECT_TRUE(fs::exists(dir_ / "912345688-invoice-1.pdf"));
}

TEST_F(DeliveredFiles, RemovesWhatIsPastTheRetentionCrashLeftoversIncluded) {
  const auto old_letter = file("912345688-invoice-1.pdf", hours(73));
  const auto leftover = file(".912345688-invoice-3.pdf.tmp-AbC123", hours(100));
  const auto fresh = file("912345688-invoice-2.pdf", hours(71));
  const auto held = sweep_folder(dir_, hours(72), /*remove=*/true);
  EXPECT_EQ(held.removed, 2);
  EXPECT_EQ(held.files, 1);
  EXPECT_EQ(held.past_retention, 0);
  EXPECT_FALSE(fs::exists(old_letter));
  EXPECT_FALSE(fs::exists(leftover));
  EXPECT_TRUE(fs::exists(fresh));
}

TEST_F(DeliveredFiles, LeavesDirectoriesAndLinksAlone) {
  fs::create_directory(dir_ / "printed");
  const auto outside = file("../" + dir_.filename().string() + "-outside.pdf", hours(100));
  fs::create_symlink(outside, dir_ / "link.pdf");
  const auto held = sweep_folder(dir_, hours(72), /*remove=*/true);
  EXPECT_EQ(held.files, 0);
  EXPECT_EQ(held.removed, 0);
  EXPECT_TRUE(fs::exists(dir_ / "printed"));
  EXPECT_TRUE(fs::exists(outside));  // not followed
  fs::remove(outside);
}

TEST_F(DeliveredFiles, AMissingFolderHoldsNothing) {
  const auto held = sweep_folder(dir_ / "not-yet", hours(72), /*remove=*/true);
  EXPECT_EQ(held.files, 0);
  EXPECT_EQ(held.errors, 0);
}

}  // namespace
}  // namespace visitpay::app
