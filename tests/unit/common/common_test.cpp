#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/time_format.hpp"
#include "common/uuid.hpp"

namespace visitpay::common {
namespace {

using Json = nlohmann::json;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines_of(text)) {
    if (l == line) return true;
  }
  return false;
}

// --- Metrics -------------------------------------------------------------------------------

TEST(Metrics, LabelEscapesQuotesBackslashesAndNewlines) {
  EXPECT_EQ(Metrics::label("route", "/v1/checkouts"), R"(route="/v1/checkouts")");
  EXPECT_EQ(Metrics::label("k", "a\"b"), R"(k="a\"b")");
  EXPECT_EQ(Metrics::label("k", "a\\b"), R"(k="a\\b")");
  EXPECT_EQ(Metrics::label("k", "a\nb"), R"(k="a\nb")");
  EXPECT_EQ(Metrics::label("k", "\\\"\n"), R"(k="\\\"\n")");
  EXPECT_EQ(Metrics::label("k", ""), R"(k="")");
}

TEST(Metrics, RendersCountersInPrometheusTextFormat) {
  Metrics m;
  m.describe("visitpay_http_requests_total", Metrics::Type::counter, "HTTP requests handled");
  const std::string created =
      Metrics::label("route", "/v1/checkouts") + "," + Metrics::label("status", "201");
  const std::string rejected =
      Metrics::label("route", "/v1/checkouts") + "," + Metrics::label("status", "422");
  m.add("visitpay_http_requests_total", created);
  m.add("visitpay_http_requests_total", created, 2);
  m.add("visitpay_http_requests_total", rejected);
  m.add("visitpay_restarts_total", "");

  EXPECT_EQ(m.value("visitpay_http_requests_total", created), 3);
  EXPECT_EQ(m.value("visitpay_http_requests_total", rejected), 1);
  EXPECT_EQ(m.value("visitpay_http_requests_total", "nope"), 0);
  EXPECT_EQ(m.value("missing", created), 0);

  const std::string text = m.render();
  EXPECT_TRUE(has_line(text, "# HELP visitpay_http_requests_total HTTP requests handled")) << text;
  EXPECT_TRUE(has_line(text, "# TYPE visitpay_http_requests_total counter")) << text;
  EXPECT_TRUE(
      has_line(text, R"(visitpay_http_requests_total{route="/v1/checkouts",status="201"} 3)"))
      << text;
  EXPECT_TRUE(
      has_line(text, R"(visitpay_http_requests_total{route="/v1/checkouts",status="422"} 1)"))
      << text;
  // No labels: no braces.
  EXPECT_TRUE(has_line(text, "visitpay_restarts_total 1")) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(Metrics, HelpAndTypePrecedeTheSamples) {
  Metrics m;
  m.describe("a_total", Metrics::Type::counter, "A");
  m.add("a_total", Metrics::label("x", "1"));
  const auto lines = lines_of(m.render());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "# HELP a_total A");
  EXPECT_EQ(lines[1], "# TYPE a_total counter");
  EXPECT_EQ(lines[2], R"(a_total{x="1"} 1)");
}

// Parses `name_bucket{...,le="X"} N` lines of one series into le -> cumulative count; `prefix`
// ends just after `le="`. The bound is compared as a number, as Prometheus does.
std::map<double, std::uint64_t> buckets_of(const std::string& text, const std::string& prefix) {
  std::map<double, std::uint64_t> out;
  for (const auto& line : lines_of(text)) {
    if (line.rfind(prefix, 0) != 0) continue;
    const auto end = line.find('"', prefix.size());
    const std::string bound = line.substr(prefix.size(), end - prefix.size());
    const double key = bound == "+Inf" ? HUGE_VAL : std::strtod(bound.c_str(), nullptr);
    out[key] = std::stoull(line.substr(line.rfind(' ') + 1));
  }
  return out;
}

TEST(Metrics, RendersHistogramsWithCumulativeBuckets) {
  Metrics m;
  m.describe("visitpay_http_request_seconds", Metrics::Type::histogram, "Latency");
  const std::string labels = Metrics::label("route", "/healthz");
  m.observe("visitpay_http_request_seconds", labels, 0.003);
  m.observe("visitpay_http_request_seconds", labels, 0.1);  // exactly on a bound: le is <=
  m.observe("visitpay_http_request_seconds", labels, 42);   // above every bound

  const std::string text = m.render();
  EXPECT_TRUE(has_line(text, "# TYPE visitpay_http_request_seconds histogram")) << text;
  const auto b = buckets_of(text, R"(visitpay_http_request_seconds_bucket{route="/healthz",le=")");
  ASSERT_EQ(b.size(), 15u) << text;
  EXPECT_EQ(b.at(0.0005), 0u);
  EXPECT_EQ(b.at(0.0025), 0u);
  EXPECT_EQ(b.at(0.005), 1u);
  EXPECT_EQ(b.at(0.05), 1u);
  EXPECT_EQ(b.at(0.1), 2u);
  EXPECT_EQ(b.at(10), 2u);
  EXPECT_EQ(b.at(HUGE_VAL), 3u);
  std::uint64_t previous = 0;
  for (const auto& [le, count] : b) {
    EXPECT_GE(count, previous) << le;
    previous = count;
  }
  EXPECT_TRUE(has_line(text, R"(visitpay_http_request_seconds_count{route="/healthz"} 3)")) << text;
  bool found_sum = false;
  for (const auto& line : lines_of(text)) {
    const std::string prefix = R"(visitpay_http_request_seconds_sum{route="/healthz"} )";
    if (line.rfind(prefix, 0) == 0) {
      found_sum = true;
      EXPECT_NEAR(std::strtod(line.c_str() + prefix.size(), nullptr), 42.103, 1e-9);
    }
  }
  EXPECT_TRUE(found_sum) << text;
}

TEST(Metrics, HistogramWithoutLabelsHasOnlyLe) {
  Metrics m;
  m.observe("pool_wait_seconds", "", 0.2);
  const std::string text = m.render();
  EXPECT_TRUE(has_line(text, R"(pool_wait_seconds_bucket{le="+Inf"} 1)")) << text;
  EXPECT_TRUE(has_line(text, "pool_wait_seconds_count 1")) << text;
  EXPECT_EQ(text.find("{,"), std::string::npos) << text;
}

TEST(Metrics, CollectorsAreAppendedAfterFamiliesAtEveryRender) {
  Metrics m;
  m.add("a_total", "");
  int calls = 0;
  m.add_collector([&calls](std::string& out) {
    ++calls;
    out += "# TYPE visitpay_db_pool_in_use gauge\nvisitpay_db_pool_in_use " +
           std::to_string(calls) + "\n";
  });
  std::string text = m.render();
  EXPECT_EQ(calls, 1);
  auto lines = lines_of(text);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "visitpay_db_pool_in_use 1");
  EXPECT_TRUE(has_line(text, "a_total 1"));
  text = m.render();
  EXPECT_EQ(lines_of(text).back(), "visitpay_db_pool_in_use 2");
}

// --- Logger --------------------------------------------------------------------------------

struct CapturedLog {
  std::vector<std::string> lines;
  Logger::Sink sink() {
    return [this](std::string_view line) { lines.emplace_back(line); };
  }
};

TEST(Logger, WritesOneJsonLinePerCallWithTypedFields) {
  CapturedLog captured;
  Logger log(LogLevel::debug, captured.sink());
  log.info("checkout.accepted", {{"route", "/v1/checkouts"},
                                 {"session_id", std::string("0190f3a2")},
                                 {"status", 201},
                                 {"rows", 3L},
                                 {"bytes", std::size_t{512}},
                                 {"replay", false},
                                 {"has_phone", true}});
  ASSERT_EQ(captured.lines.size(), 1u);
  const std::string& line = captured.lines[0];
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "exactly one line";

  const Json j = Json::parse(line);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["event"], "checkout.accepted");
  EXPECT_TRUE(j["route"].is_string());
  EXPECT_EQ(j["route"], "/v1/checkouts");
  EXPECT_EQ(j["session_id"], "0190f3a2");
  EXPECT_TRUE(j["status"].is_number_integer());
  EXPECT_EQ(j["status"], 201);
  EXPECT_EQ(j["rows"], 3);
  EXPECT_EQ(j["bytes"], 512);
  EXPECT_TRUE(j["replay"].is_boolean());
  EXPECT_EQ(j["replay"], false);
  EXPECT_EQ(j["has_phone"], true);
  // Raw text: ints and bools are bare, not quoted.
  EXPECT_NE(line.find("\"status\":201"), std::string::npos) << line;
  EXPECT_NE(line.find("\"replay\":false"), std::string::npos) << line;
  ASSERT_TRUE(j["ts"].is_string());
  EXPECT_TRUE(parse_rfc3339(j["ts"].get<std::string>()).has_value()) << j["ts"];
}

TEST(Logger, NegativeAndRealNumbersAreJsonNumbers) {
  CapturedLog captured;
  Logger log(LogLevel::info, captured.sink());
  log.info("x", {{"delta", -7}, {"big", 9'000'000'000LL}, {"duration_ms", 12.5}});
  const Json j = Json::parse(captured.lines.at(0));
  EXPECT_EQ(j["delta"], -7);
  EXPECT_EQ(j["big"], 9'000'000'000LL);
  ASSERT_TRUE(j["duration_ms"].is_number_float());
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 12.5);
}

TEST(Logger, NonFiniteRealsStillYieldValidJson) {
  CapturedLog captured;
  Logger log(LogLevel::info, captured.sink());
  log.info("x", {{"ratio", std::nan("")}, {"rate", HUGE_VAL}});
  ASSERT_EQ(captured.lines.size(), 1u);
  EXPECT_TRUE(Json::accept(captured.lines[0])) << captured.lines[0];
}

TEST(Logger, EscapesStringsSoTheLineStaysOneJsonObject) {
  CapturedLog captured;
  Logger log(LogLevel::info, captured.sink());
  const std::string nasty =
      std::string("quote\" back\\ nl\n cr\r tab\t bell\x07 nul") + '\0' + " æøå";
  log.warn("event \"with\" quotes\n", {{"detail", nasty}, {"key\"x", "v"}});
  ASSERT_EQ(captured.lines.size(), 1u);
  const std::string& line = captured.lines[0];
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  for (char c : line.substr(0, line.size() - 1)) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw control character in " << line;
  }
  const Json j = Json::parse(line);
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["event"], "event \"with\" quotes\n");
  EXPECT_EQ(j["detail"], nasty);
  EXPECT_EQ(j["key\"x"], "v");
}

TEST(Logger, FiltersBelowTheMinimumLevel) {
  CapturedLog captured;
  Logger log(LogLevel::warn, captured.sink());
  EXPECT_FALSE(log.enabled(LogLevel::debug));
  EXPECT_FALSE(log.enabled(LogLevel::info));
  EXPECT_TRUE(log.enabled(LogLevel::warn));
  EXPECT_TRUE(log.enabled(LogLevel::error));
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  log.log(LogLevel::info, "i2");
  ASSERT_EQ(captured.lines.size(), 2u);
  EXPECT_EQ(Json::parse(captured.lines[0])["level"], "warn");
  EXPECT_EQ(Json::parse(captured.lines[1])["level"], "error");
  EXPECT_EQ(Json::parse(captured.lines[1])["event"], "e");
}

TEST(Logger, DebugLevelLetsEverythingThrough) {
  CapturedLog captured;
  Logger log(LogLevel::debug, captured.sink());
  log.debug("d");
  log.info("i");
  ASSERT_EQ(captured.lines.size(), 2u);
  EXPECT_EQ(Json::parse(captured.lines[0])["level"], "debug");
}

TEST(Logger, AWarningThatRepeatsIsLimitedPerEventAndTheDropsAreCounted) {
  CapturedLog captured;
  Logger log(LogLevel::info, captured.sink(), LogRateLimit{5, std::chrono::seconds(10)});
  for (int i = 0; i < 1000; ++i)
    log.warn("http.accept_failed", {{"error", "Too many open files"}});
  log.warn("db.connect_failed");  // another event has its own allowance
  for (int i = 0; i < 20; ++i)
    log.info("http.request");  // info describes work done: not limited
  EXPECT_EQ(captured.lines.size(), 5u + 1u + 20u);
  log.flush();
  ASSERT_EQ(captured.lines.size(), 27u);
  const Json summary = Json::parse(captured.lines.back());
  EXPECT_EQ(summary["event"], "log.suppressed");
  EXPECT_EQ(summary["suppressed_event"], "http.accept_failed");
  EXPECT_EQ(summary["dropped"], 995);
  log.flush();
  EXPECT_EQ(captured.lines.size(), 27u) << "a count is reported once";
}

TEST(LogRateLimiter, AWindowThatEndedReportsItsDropsAndOpensAgain) {
  LogRateLimiter limiter(LogRateLimit{2, std::chrono::seconds(10)});
  const std::chrono::steady_clock::time_point t0{};
  std::vector<LogRateLimiter::Suppressed> ended;
  EXPECT_TRUE(limiter.admit("db.connect_failed", t0, ended));
  EXPECT_TRUE(limiter.admit("db.connect_failed", t0, ended));
  for (int i = 0; i < 90; ++i)  // ~9 a second for 10 s, as with the database down
    EXPECT_FALSE(
        limiter.admit("db.connect_failed", t0 + std::chrono::milliseconds(110 * i), ended));
  EXPECT_TRUE(ended.empty());
  // Another event, after the window: the sweep reports the first one's drops.
  EXPECT_TRUE(limiter.admit("other", t0 + std::chrono::seconds(11), ended));
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].event, "db.connect_failed");
  EXPECT_EQ(ended[0].dropped, 90u);
  ended.clear();
  EXPECT_TRUE(limiter.admit("db.connect_failed", t0 + std::chrono::seconds(11), ended));
  EXPECT_TRUE(ended.empty());
}

TEST(Logger, ParseLogLevel) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::debug);
  EXPECT_EQ(parse_log_level("info"), LogLevel::info);
  EXPECT_EQ(parse_log_level("warn"), LogLevel::warn);
  EXPECT_EQ(parse_log_level("error"), LogLevel::error);
  EXPECT_EQ(parse_log_level("INFO"), std::nullopt);
  EXPECT_EQ(parse_log_level("warning"), std::nullopt);
  EXPECT_EQ(parse_log_level(""), std::nullopt);
}

TEST(AppendJsonString, EscapesControlCharactersAsUnicode) {
  std::string out;
  append_json_string(out, std::string("a\x01") + '\x1f');
  EXPECT_EQ(out, "\"a\\u0001\\u001f\"");
  out.clear();
  append_json_string(out, "æ");
  EXPECT_EQ(out, "\"æ\"");
}

// --- Errors --------------------------------------------------------------------------------

TEST(ErrorTable, TypeUriUsesDashedSlug) {
  EXPECT_EQ(error_type_uri(ErrorCode::validation_failed),
            "https://visitpay.dev/problems/validation-failed");
  EXPECT_EQ(error_type_uri(ErrorCode::method_not_allowed),
            "https://visitpay.dev/problems/method-not-allowed");
  EXPECT_EQ(error_type_uri(ErrorCode::not_found), "https://visitpay.dev/problems/not-found");
  EXPECT_EQ(error_type_uri(ErrorCode::idempotency_conflict),
            "https://visitpay.dev/problems/idempotency-conflict");
}

TEST(ErrorTable, StatusNameAndTitleComeFromTheTable) {
  const std::vector<std::tuple<ErrorCode, int, std::string_view>> expected = {
      {ErrorCode::validation_failed, 422, "validation_failed"},
      {ErrorCode::malformed_json, 400, "malformed_json"},
      {ErrorCode::unsupported_media_type, 415, "unsupported_media_type"},
      {ErrorCode::payload_too_large, 413, "payload_too_large"},
      {ErrorCode::unauthenticated, 401, "unauthenticated"},
      {ErrorCode::forbidden, 403, "forbidden"},
      {ErrorCode::not_found, 404, "not_found"},
      {ErrorCode::method_not_allowed, 405, "method_not_allowed"},
      {ErrorCode::idempotency_conflict, 409, "idempotency_conflict"},
      {ErrorCode::database_unavailable, 503, "database_unavailable"},
      {ErrorCode::internal_error, 500, "internal_error"},
      {ErrorCode::bad_request, 400, "bad_request"},
      {ErrorCode::headers_too_large, 431, "headers_too_large"},
      {ErrorCode::shutting_down, 503, "shutting_down"},
      {ErrorCode::invalid_state, 409, "invalid_state"},
  };
  std::set<std::string> uris;
  for (const auto& [code, status, name] : expected) {
    EXPECT_EQ(error_http_status(code), status) << name;
    EXPECT_EQ(error_name(code), name);
    EXPECT_FALSE(error_title(code).empty()) << name;
    const std::string uri = error_type_uri(code);
    EXPECT_EQ(uri.find('_'), std::string::npos) << uri;
    uris.insert(uri);
  }
  EXPECT_EQ(uris.size(), expected.size()) << "type URIs must be unique";
  EXPECT_EQ(error_title(ErrorCode::validation_failed), "The request has invalid fields");
}

TEST(ErrorTable, NumbersAreStable) {
  EXPECT_EQ(static_cast<int>(ErrorCode::validation_failed), 1);
  EXPECT_EQ(static_cast<int>(ErrorCode::idempotency_conflict), 9);
  EXPECT_EQ(static_cast<int>(ErrorCode::invalid_state), 15);
}

TEST(ErrorTable, UnknownCodeFallsBackToInternalError) {
  const auto unknown = static_cast<ErrorCode>(999);
  EXPECT_EQ(error_http_status(unknown), 500);
  EXPECT_EQ(error_name(unknown), "internal_error");
  EXPECT_EQ(error_type_uri(unknown), "https://visitpay.dev/problems/internal-error");
}

// --- UUIDv7 --------------------------------------------------------------------------------

std::chrono::system_clock::time_point at_ms(std::int64_t ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

TEST(UuidV7, HasCanonicalFormVersionAndVariant) {
  for (int i = 0; i < 100; ++i) {
    const std::string id = new_uuid_v7(std::chrono::system_clock::now());
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[8], '-');
    EXPECT_EQ(id[13], '-');
    EXPECT_EQ(id[18], '-');
    EXPECT_EQ(id[23], '-');
    EXPECT_EQ(id[14], '7') << id;
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    EXPECT_EQ(normalize_uuid(id), id) << "already canonical lower case";
  }
}

TEST(UuidV7, EncodesUnixMillisecondsBigEndian) {
  // 2026-11-22T13:05:00Z in Unix milliseconds; the first 48 bits of the UUID hold it.
  const std::int64_t ms = 1'795'352'700'000;
  const std::string id = new_uuid_v7(at_ms(ms));
  const std::string hex = id.substr(0, 8) + id.substr(9, 4);
  EXPECT_EQ(std::stoll(hex, nullptr, 16), ms) << id;
  EXPECT_EQ(new_uuid_v7(at_ms(0)).substr(0, 13), "00000000-0000");
}

TEST(UuidV7, IncreasesWithTime) {
  const std::int64_t base = 1'795'352'700'000;
  std::string previous = new_uuid_v7(at_ms(base));
  for (std::int64_t step : {1, 2, 1000, 60'000, 86'400'000}) {
    const std::string next = new_uuid_v7(at_ms(base + step));
    EXPECT_LT(previous, next) << step;
    previous = next;
  }
}

TEST(UuidV7, SameMillisecondStillUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i)
    ids.insert(new_uuid_v7(at_ms(1'795'352'700'000)));
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(NormalizeUuid, AcceptsUpperCaseAndReturnsLowerCase) {
  EXPECT_EQ(normalize_uuid("0190F3A2-7C1E-7ABC-8DEF-0123456789AB"),
            "0190f3a2-7c1e-7abc-8def-0123456789ab");
  EXPECT_EQ(normalize_uuid("0190f3a2-7c1e-7abc-8def-0123456789ab"),
            "0190f3a2-7c1e-7abc-8def-0123456789ab");
}

TEST(NormalizeUuid, RejectsBadForms) {
  for (const char* text :
       {"", "0190f3a2-7c1e-7abc-8def-0123456789a", "0190f3a2-7c1e-7abc-8def-0123456789abc",
        "0190f3a27c1e7abc8def0123456789ab", "{0190f3a2-7c1e-7abc-8def-0123456789ab}",
        "0190f3a2-7c1e-7abc-8def_0123456789ab", "0190f3a27-c1e-7abc-8def-0123456789ab",
        "0190f3g2-7c1e-7abc-8def-0123456789ab", "0190f3a2-7c1e-7abc-8def-0123456789a ",
        "0190f3a2+7c1e-7abc-8def-0123456789ab", "------------------------------------"}) {
    EXPECT_EQ(normalize_uuid(text), std::nullopt) << text;
  }
}

// --- Crypto --------------------------------------------------------------------------------

TEST(Crypto, Sha256KnownVectors) {
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Crypto, HmacSha256Rfc4231TestCase2) {
  const Bytes key{'J', 'e', 'f', 'e'};
  EXPECT_EQ(to_hex(hmac_sha256(key, "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, HmacSha256Rfc4231TestCase1) {
  const Bytes key(20, 0x0b);
  EXPECT_EQ(to_hex(hmac_sha256(key, "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(Crypto, HmacDependsOnTheKey) {
  EXPECT_NE(hmac_sha256(Bytes{1}, "x"), hmac_sha256(Bytes{2}, "x"));
  EXPECT_NE(hmac_sha256(Bytes{1}, "x"), hmac_sha256(Bytes{1}, "y"));
}

TEST(Crypto, HexRoundTripsEveryByte) {
  Bytes all;
  for (int i = 0; i < 256; ++i)
    all.push_back(static_cast<std::uint8_t>(i));
  const std::string hex = to_hex(all);
  ASSERT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(504), "fcfdfeff");
  Bytes back;
  ASSERT_TRUE(from_hex(hex, back));
  EXPECT_EQ(back, all);
}

TEST(Crypto, FromHexAcceptsUpperCase) {
  Bytes out;
  ASSERT_TRUE(from_hex("ABcdEF09", out));
  EXPECT_EQ(out, (Bytes{0xab, 0xcd, 0xef, 0x09}));
  ASSERT_TRUE(from_hex("", out));
  EXPECT_TRUE(out.empty());
}

TEST(Crypto, FromHexRejectsOddLengthAndNonHex) {
  Bytes out;
  for (const char* bad : {"abc", "0", "0g", "zz", "0x12", "12 34", "12-4", "ab\n"}) {
    EXPECT_FALSE(from_hex(bad, out)) << bad;
  }
}

TEST(Crypto, Base64UrlIsUnpaddedRfc4648) {
  auto b64 = [](std::string_view s) {
    return base64url(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  EXPECT_EQ(b64(""), "");
  EXPECT_EQ(b64("f"), "Zg");
  EXPECT_EQ(b64("fo"), "Zm8");
  EXPECT_EQ(b64("foo"), "Zm9v");
  EXPECT_EQ(b64("foob"), "Zm9vYg");
  EXPECT_EQ(b64("fooba"), "Zm9vYmE");
  EXPECT_EQ(b64("foobar"), "Zm9vYmFy");
}

TEST(Crypto, Base64UrlUsesDashAndUnderscore) {
  const Bytes a{0xfb, 0xff};  // standard base64 "+/8="
  EXPECT_EQ(base64url(a.data(), a.size()), "-_8");
  const Bytes b{0xfb, 0xef, 0xbe};  // "++++"
  EXPECT_EQ(base64url(b.data(), b.size()), "----");
  const Bytes c{0xff, 0xff, 0xff};  // "////"
  EXPECT_EQ(base64url(c.data(), c.size()), "____");
  const Bytes rnd = random_bytes(300);
  const std::string text = base64url(rnd.data(), rnd.size());
  EXPECT_EQ(text.size(), 400u);
  EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
}

TEST(Crypto, RandomBytesHaveTheRequestedSizeAndDiffer) {
  EXPECT_EQ(random_bytes(32).size(), 32u);
  EXPECT_TRUE(random_bytes(0).empty());
  EXPECT_NE(random_bytes(32), random_bytes(32));
}

TEST(Crypto, RandomBytesNeverRepeatAcrossPoolRefillsAndLargeDraws) {
  // Many small draws run through several refills of the per-thread pool; the large ones bypass it.
  std::set<Bytes> seen;
  for (int i = 0; i < 2000; ++i)
    EXPECT_TRUE(seen.insert(random_bytes(12)).second);
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(seen.insert(random_bytes(5000)).second);
}

TEST(Crypto, AForkedChildDrawsOtherRandomBytesThanItsParent) {
  (void)random_bytes(12);  // the pool now holds unused bytes the child inherits
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const Bytes drawn = random_bytes(16);
    const bool written = write(fds[1], drawn.data(), drawn.size()) == 16;
    _exit(written ? 0 : 1);
  }
  close(fds[1]);
  Bytes from_child(16);
  const ssize_t got = read(fds[0], from_child.data(), from_child.size());
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_EQ(got, 16);
  EXPECT_NE(random_bytes(16), from_child);
}

TEST(Crypto, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("token", "token"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("token", "tokem"));
  EXPECT_FALSE(constant_time_equal("token", "token2"));
}

}  // namespace
}  // namespace visitpay::common
