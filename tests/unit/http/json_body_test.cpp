#include "http/json_body.hpp"

#include <gtest/gtest.h>

namespace visitpay::http {
namespace {

// The pointer of the repeated key, or "" when the document is accepted.
std::string duplicate(std::string_view text) {
  auto parsed = parse_json(text);
  if (std::holds_alternative<nlohmann::json>(parsed)) return "";
  const auto& e = std::get<common::Error>(parsed);
  EXPECT_EQ(e.code, common::ErrorCode::validation_failed) << text;
  EXPECT_EQ(e.fields.size(), 1u);
  return e.fields.empty() ? "?" : e.fields[0].pointer;
}

TEST(ParseJson, RepeatedKeysAreNamedByPointer) {
  EXPECT_EQ(duplicate(R"({"a":1,"a":2})"), "/a");
  EXPECT_EQ(duplicate(R"({"a":1,"p":{"n":"x","m":[],"n":"y"}})"), "/p/n");
  EXPECT_EQ(duplicate(R"({"lines":[{"x":1},{"x":1,"x":2}]})"), "/lines/1/x");
  EXPECT_EQ(duplicate(R"({"l":[1,[2,3],{"k":{},"k":0}]})"), "/l/2/k");
  EXPECT_EQ(duplicate(R"({"a/b~":1,"a/b~":2})"), "/a~1b~0");
  EXPECT_EQ(duplicate(R"([{"a":1,"a":1}])"), "/0/a");
}

TEST(ParseJson, TheSameKeyInDifferentObjectsIsFine) {
  EXPECT_EQ(duplicate(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]})"), "");
  EXPECT_EQ(duplicate(R"([1,2,3])"), "");
}

TEST(ParseJson, MalformedIs400) {
  auto parsed = parse_json(R"({"a":)");
  ASSERT_TRUE(std::holds_alternative<common::Error>(parsed));
  EXPECT_EQ(std::get<common::Error>(parsed).code, common::ErrorCode::malformed_json);
}

TEST(ObjectBody, RejectsRepeatedKeys) {
  Request req{bhttp::verb::post, "/", 11};
  req.set(bhttp::field::content_type, "application/json");
  req.body() = R"({"reason":"a","reason":"b"})";
  auto body = object_body(req);
  ASSERT_TRUE(std::holds_alternative<common::Error>(body));
  EXPECT_EQ(std::get<common::Error>(body).fields.at(0).pointer, "/reason");
}

}  // namespace
}  // namespace visitpay::http
