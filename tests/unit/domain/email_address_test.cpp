#include "domain/email_address.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using visitpay::domain::check_email_address;

TEST(EmailAddress, AcceptsDotAtomAddresses) {
  for (const char* a :
       {"kari.nordmann@example.no", "k@e.no", "kari+faktura@post.example.com", "o'brien@example.ie",
        "x_y-z@sub-domain.example.no", "A1@EXAMPLE.NO", "!#$%&'*+-/=?^_`{|}~@example.no"}) {
    const auto v = check_email_address(a);
    EXPECT_TRUE(v.valid) << a << ": " << v.reason;
    EXPECT_TRUE(v.reason.empty()) << a;
  }
}

TEST(EmailAddress, RefusesWhatIsNotAPlainAddress) {
  for (const char* a : {"",
                        "kari",
                        "@example.no",
                        "kari@",
                        "kari@no",
                        "kari@@example.no",
                        ".kari@example.no",
                        "kari.@example.no",
                        "ka..ri@example.no",
                        "kari@example..no",
                        "kari@-example.no",
                        "kari@example-.no",
                        "kari@exa_mple.no",
                        "kari@[192.0.2.1]",
                        "\"kari\"@example.no",
                        "kari nordmann@example.no",
                        "kari@example.no ",
                        "kåri@example.no",
                        "kari@exämple.no",
                        "kari(comment)@example.no",
                        "kari@example.no."}) {
    const auto v = check_email_address(a);
    EXPECT_FALSE(v.valid) << a;
    EXPECT_FALSE(v.reason.empty()) << a;
    if (*a != '\0') {
      EXPECT_EQ(std::string(v.reason).find(a), std::string::npos) << "the reason names the address";
    }
  }
}

TEST(EmailAddress, RefusesHeaderAndCommandInjection) {
  for (const char* a :
       {"kari@example.no\r\nBcc: all@example.no", "kari@example.no\nRCPT TO:<x@y.no>",
        "kari@exa\tmple.no", "kari@example.no>", "<kari@example.no"}) {
    EXPECT_FALSE(check_email_address(a).valid) << a;
  }
  EXPECT_FALSE(check_email_address(std::string("kari@example.no\0x", 17)).valid);
}

TEST(EmailAddress, EnforcesTheLengthsOfRfc5321) {
  const std::string label(63, 'a');
  EXPECT_TRUE(check_email_address(std::string(64, 'k') + "@example.no").valid);
  EXPECT_FALSE(check_email_address(std::string(65, 'k') + "@example.no").valid);
  EXPECT_TRUE(check_email_address("k@" + label + ".no").valid);
  EXPECT_FALSE(check_email_address("k@" + label + "a.no").valid);
  // 254 characters in all at most.
  const std::string domain = label + "." + label + "." + label + "." + std::string(51, 'b');
  EXPECT_EQ(domain.size(), 243u);
  EXPECT_TRUE(check_email_address(std::string(10, 'k') + "@" + domain).valid);   // 254
  EXPECT_FALSE(check_email_address(std::string(11, 'k') + "@" + domain).valid);  // 255
}

}  // namespace
