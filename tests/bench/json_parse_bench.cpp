// Benchmark (not a test) of the request bodies' JSON parsing: http::parse_json (which also finds
// a key repeated in an object) against its twin, nlohmann's own parse of the same text without
// that check. The body is the check-out request schema's example.
//
//   build-bench/tests/bench/json_parse_bench schemas/checkout_request.schema.json
//
// Prints key=value lines: the best of 7 alternated rounds of each, in µs per parse, and
// ratio = twin / ours (1 would mean the duplicate check costs nothing).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "http/json_body.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kRounds = 7;
constexpr int kParsesPerRound = 100000;

template <typename Parse>
double micros_per_parse(Parse parse) {
  std::size_t members = 0;  // used, so the parses are not optimised away
  const auto start = Clock::now();
  for (int i = 0; i < kParsesPerRound; ++i)
    members += parse().size();
  const std::chrono::duration<double, std::micro> took = Clock::now() - start;
  if (members == 0) std::fputs("no members parsed\n", stderr);
  return took.count() / kParsesPerRound;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fputs("usage: json_parse_bench CHECKOUT_REQUEST_SCHEMA\n", stderr);
    return 2;
  }
  std::ifstream in(argv[1]);
  const auto schema = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!schema.is_object() || !schema.contains("examples") || schema["examples"].empty()) {
    std::fputs("the schema has no example\n", stderr);
    return 1;
  }
  const std::string body = schema["examples"][0].dump();
  double ours = 1e9;
  double twin = 1e9;
  for (int round = 0; round < kRounds; ++round) {
    ours = std::min(ours, micros_per_parse([&] {
                      return std::get<nlohmann::json>(visitpay::http::parse_json(body));
                    }));
    twin = std::min(twin, micros_per_parse([&] { return nlohmann::json::parse(body); }));
  }
  std::printf("body_bytes=%zu\nparse_json_us=%.2f\ntwin_parse_us=%.2f\nratio=%.2f\n", body.size(),
              ours, twin, twin / ours);
  return 0;
}
