#include "http/request_head.hpp"

#include <gtest/gtest.h>

#include <string>

namespace visitpay::http {
namespace {

using common::ErrorCode;
using State = HeadScanner::State;

// Scans `bytes` as they would arrive one byte at a time, as a slow client sends them.
State scan_bytewise(std::string_view bytes, HeadScanner& scanner) {
  State state = State::need_more;
  for (std::size_t n = 1; n <= bytes.size() && state == State::need_more; ++n)
    state = scanner.scan(bytes.substr(0, n));
  return state;
}

ErrorCode rejected(std::string_view bytes) {
  HeadScanner scanner;
  EXPECT_EQ(scan_bytewise(bytes, scanner), State::invalid) << bytes;
  return scanner.error().code;
}

TEST(HeadScanner, FindsTheEndOfAHeadArrivingInPieces) {
  const std::string head = "GET /healthz HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n";
  HeadScanner scanner;
  EXPECT_EQ(scan_bytewise(head + "GET /next", scanner), State::complete);
  EXPECT_EQ(scanner.head_size(), head.size());
}

TEST(HeadScanner, RefusesWhatBeastWouldLetThrough) {
  EXPECT_EQ(rejected("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"), ErrorCode::bad_request);
  EXPECT_EQ(rejected("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n"), ErrorCode::bad_request);
  EXPECT_EQ(rejected("GET / HTTP/1.1\nHost: a\r\n\r\n"), ErrorCode::bad_request);
  EXPECT_EQ(rejected("GET / HTTP/1.1\r\nHost: a\n\r\n"), ErrorCode::bad_request);
  EXPECT_EQ(rejected("GET / HTTP/1.1\r\nHost: a\r\n\n"), ErrorCode::bad_request);
  EXPECT_EQ(rejected("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), ErrorCode::bad_request);
  static constexpr char kNul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
  EXPECT_EQ(rejected(std::string_view(kNul, sizeof kNul - 1)), ErrorCode::bad_request);
  EXPECT_EQ(rejected("GET / HTTP/1.1\r\nX : a\r\n\r\n"), ErrorCode::bad_request);
  EXPECT_EQ(rejected("GET / HTTP/1.1\r\nX\t: a\r\n\r\n"), ErrorCode::bad_request);
  EXPECT_EQ(rejected("GET / HTTP/1.1\r\nno colon\r\n\r\n"), ErrorCode::bad_request);
  EXPECT_EQ(rejected("GET / HTTP/1.1\r\n: empty name\r\n\r\n"), ErrorCode::bad_request);
}

TEST(HeadScanner, ControlCharactersAreSeenBeforeTheLineEnds) {
  HeadScanner scanner;
  EXPECT_EQ(scanner.scan(std::string_view("GET /\0", 6)), State::invalid);
}

TEST(HeadScanner, RequestLineRules) {
  EXPECT_EQ(rejected("GET /\r\n"), ErrorCode::bad_request);  // HTTP/0.9: no waiting for more
  EXPECT_EQ(rejected("GET  / HTTP/1.1\r\n"), ErrorCode::bad_request);
  EXPECT_EQ(rejected("G(T / HTTP/1.1\r\n"), ErrorCode::bad_request);
  EXPECT_EQ(rejected("GET / HTTP/1.1 \r\n"), ErrorCode::bad_request);
  EXPECT_EQ(rejected("GET / http/1.1\r\n"), ErrorCode::bad_request);
  EXPECT_EQ(rejected("GET / HTTP/2.0\r\n"), ErrorCode::http_version_not_supported);
  EXPECT_EQ(rejected("PRI * HTTP/2.0\r\n"), ErrorCode::http_version_not_supported);
  EXPECT_EQ(rejected("GET / HTTP/0.9\r\n"), ErrorCode::http_version_not_supported);
  HeadScanner scanner;
  EXPECT_EQ(scan_bytewise("GET / HTTP/1.0\r\n\r\n", scanner), State::complete);
}

TEST(LeadingEmptyLines, AreCountedInWholeCrlfs) {
  EXPECT_EQ(leading_empty_lines("\r\n\r\nGET"), 4u);
  EXPECT_EQ(leading_empty_lines("\r"), 0u);
  EXPECT_EQ(leading_empty_lines("GET"), 0u);
}

Request request(std::string_view target = "/healthz", unsigned version = 11) {
  Request r{bhttp::verb::post, target, version};
  if (version == 11) r.insert(bhttp::field::host, "visitpay");
  return r;
}

std::optional<ErrorCode> check(Request r, HeadFacts* facts_out = nullptr) {
  HeadFacts facts;
  auto e = check_head(r, facts);
  if (facts_out) *facts_out = facts;
  return e ? std::optional(e->code) : std::nullopt;
}

TEST(CheckHead, HostRules) {
  EXPECT_EQ(check(request()), std::nullopt);
  EXPECT_EQ(check(request("/", 10)), std::nullopt);  // HTTP/1.0 may omit it
  Request none{bhttp::verb::get, "/", 11};
  EXPECT_EQ(check(none), ErrorCode::bad_request);
  auto two = request();
  two.insert(bhttp::field::host, "visitpay");
  EXPECT_EQ(check(two), ErrorCode::bad_request);
  auto bad = request();
  bad.set(bhttp::field::host, "a/b");
  EXPECT_EQ(check(bad), ErrorCode::bad_request);
  auto port = request();
  port.set(bhttp::field::host, "[::1]:8080");
  EXPECT_EQ(check(port), std::nullopt);
}

TEST(CheckHead, ContentLengthAndTransferEncoding) {
  auto both = request();
  both.insert(bhttp::field::content_length, "3");
  both.insert(bhttp::field::transfer_encoding, "chunked");
  EXPECT_EQ(check(both), ErrorCode::bad_request);
  auto two = request();
  two.insert(bhttp::field::content_length, "3");
  two.insert(bhttp::field::content_length, "3");
  EXPECT_EQ(check(two), ErrorCode::bad_request);
  for (const char* value : {"+3", "3, 3", "0x3", "", "-1"}) {
    auto r = request();
    r.insert(bhttp::field::content_length, value);
    EXPECT_EQ(check(r), ErrorCode::bad_request) << value;
  }
  for (const char* value : {"xchunked", "identity", "gzip, chunked", "chunked, gzip", "gzip"}) {
    auto r = request();
    r.insert(bhttp::field::transfer_encoding, value);
    EXPECT_EQ(check(r), ErrorCode::not_implemented) << value;
  }
  auto chunked = request();
  chunked.insert(bhttp::field::transfer_encoding, " Chunked ");
  EXPECT_EQ(check(chunked), std::nullopt);
  auto old = request("/", 10);
  old.insert(bhttp::field::transfer_encoding, "chunked");
  EXPECT_EQ(check(old), ErrorCode::bad_request);
}

TEST(CheckHead, AbsoluteFormBecomesItsPath) {
  HeadFacts facts;
  auto r = request("http://visitpay.example:8080/v1/sessions/x?y=1");
  EXPECT_EQ(check_head(r, facts), std::nullopt);
  EXPECT_EQ(r.target(), "/v1/sessions/x?y=1");
  auto bare = request("HTTPS://visitpay.example");
  EXPECT_EQ(check_head(bare, facts), std::nullopt);
  EXPECT_EQ(bare.target(), "/");
  auto query = request("http://visitpay.example?x=1");
  EXPECT_EQ(check_head(query, facts), std::nullopt);
  EXPECT_EQ(query.target(), "/?x=1");
  EXPECT_EQ(check(request("ftp://visitpay.example/x")), ErrorCode::bad_request);
  EXPECT_EQ(check(request("healthz")), ErrorCode::bad_request);
}

TEST(CheckHead, ExpectContinue) {
  HeadFacts facts;
  auto r = request();
  r.insert(bhttp::field::expect, "100-Continue");
  EXPECT_EQ(check(r, &facts), std::nullopt);
  EXPECT_TRUE(facts.expects_continue);
  EXPECT_EQ(check(request(), &facts), std::nullopt);
  EXPECT_FALSE(facts.expects_continue);
}

}  // namespace
}  // namespace visitpay::http
