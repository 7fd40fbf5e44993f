#include "domain/phone_number.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using visitpay::domain::check_norwegian_mobile;

TEST(PhoneNumber, AcceptsReferenceMobileNumbers) {
  for (const char* n : {"+4740612345", "+4741234567"}) {
    const auto v = check_norwegian_mobile(n);
    EXPECT_TRUE(v.valid) << n << ": " << v.reason;
    EXPECT_TRUE(v.reason.empty()) << n;
  }
}

TEST(PhoneNumber, AcceptsEveryMobileRange) {
  // libphonenumber v9.0.32+ (checked against v9.0.35): [49]\d{7}, so 42/43/44/49 are mobile too.
  for (const char* prefix :
       {"40", "41", "42", "43", "44", "45", "46", "47", "48", "49", "90", "95", "99"}) {
    const std::string n = std::string("+47") + prefix + "123456";
    EXPECT_TRUE(check_norwegian_mobile(n).valid) << n;
  }
}

TEST(PhoneNumber, RejectsNonMobileRanges) {
  // 58 (Nkom's machine-to-machine series) and 59 are no longer mobile in libphonenumber; 2x, 3x,
  // 5x, 6x, 7x are fixed line, 8x special services.
  for (const char* prefix :
       {"58", "59", "21", "33", "50", "51", "57", "67", "70", "80", "85", "00", "10"}) {
    const std::string n = std::string("+47") + prefix + "123456";
    const auto v = check_norwegian_mobile(n);
    EXPECT_FALSE(v.valid) << n;
    EXPECT_EQ(v.reason, "not a Norwegian mobile number") << n;
  }
  EXPECT_FALSE(check_norwegian_mobile("+4721234567").valid);
  EXPECT_FALSE(check_norwegian_mobile("+4758000000").valid);
  EXPECT_FALSE(check_norwegian_mobile("+4759999999").valid);
}

TEST(PhoneNumber, RequiresPlusFortySevenPrefix) {
  for (const char* n : {"4740612345", "004740612345", "+4640612345", "+4940612345", "", "+", "+4",
                        " +4740612345"}) {
    const auto v = check_norwegian_mobile(n);
    EXPECT_FALSE(v.valid) << n;
    EXPECT_EQ(v.reason, "must start with +47") << n;
  }
}

TEST(PhoneNumber, RequiresExactlyEightDigitsWithoutSeparators) {
  for (const char* n : {"+47", "+474061234", "+47406123456", "+47 40612345", "+47406 12 345",
                        "+4740612345 ", "+47-40612345", "+474061234a", "+47581234567890"}) {
    const auto v = check_norwegian_mobile(n);
    EXPECT_FALSE(v.valid) << n;
    EXPECT_EQ(v.reason, "must be +47 followed by 8 digits") << n;
  }
}

}  // namespace
