// Benchmark (not a test) of the check-out's JSON, each against a twin in the same run:
// - parsing the request: http::parse_json (which also finds a key repeated in an object) against
//   nlohmann's own parse of the same text without that check; the body is the check-out request
//   schema's example;
// - writing the answer: http::session_json of the session that check-out creates, against
//   nlohmann dumping the same document, already built (a lower bound for any writer that builds
//   an nlohmann document first).
//
//   build-bench/tests/bench/json_bench schemas/checkout_request.schema.json
//
// Prints key=value lines: the best of 7 alternated rounds of each, in µs per call, and ratios
// twin / ours.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "http/checkout_json.hpp"
#include "http/json_body.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
constexpr int kRounds = 7;
constexpr int kCallsPerRound = 100000;

template <typename Call>
double micros_per_call(Call call) {
  std::size_t sizes = 0;  // used, so the calls are not optimised away
  const auto start = Clock::now();
  for (int i = 0; i < kCallsPerRound; ++i)
    sizes += call().size();
  const std::chrono::duration<double, std::micro> took = Clock::now() - start;
  if (sizes == 0) std::fputs("nothing was produced\n", stderr);
  return took.count() / kCallsPerRound;
}

struct Pair {
  double ours = 1e9;
  double twin = 1e9;
};

template <typename Ours, typename Twin>
Pair best_of_rounds(Ours ours, Twin twin) {
  Pair best;
  for (int round = 0; round < kRounds; ++round) {
    best.ours = std::min(best.ours, micros_per_call(ours));
    best.twin = std::min(best.twin, micros_per_call(twin));
  }
  return best;
}

// The session a check-out of `body` creates, as the service answers it (no database).
visitpay::domain::SessionView session_of(const Json& body) {
  const auto parsed = visitpay::http::parse_checkout(body);
  return visitpay::domain::new_session_view("01890a5d-ac96-774b-bcce-b302099a8057", parsed.request,
                                            parsed.request.checked_out_at);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fputs("usage: json_bench CHECKOUT_REQUEST_SCHEMA\n", stderr);
    return 2;
  }
  std::ifstream in(argv[1]);
  const auto schema = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!schema.is_object() || !schema.contains("examples") || schema["examples"].empty()) {
    std::fputs("the schema has no example\n", stderr);
    return 1;
  }
  const std::string body = schema["examples"][0].dump();
  const Pair parse =
      best_of_rounds([&] { return std::get<Json>(visitpay::http::parse_json(body)); },
                     [&] { return Json::parse(body); });

  const auto session = session_of(schema["examples"][0]);
  const Json document = Json::parse(visitpay::http::session_json(session));
  const Pair answer = best_of_rounds([&] { return visitpay::http::session_json(session); },
                                     [&] { return document.dump(); });

  std::printf("body_bytes=%zu\nparse_json_us=%.2f\ntwin_parse_us=%.2f\nparse_ratio=%.2f\n",
              body.size(), parse.ours, parse.twin, parse.twin / parse.ours);
  std::printf("answer_bytes=%zu\nsession_json_us=%.2f\ntwin_dump_us=%.2f\nanswer_ratio=%.2f\n",
              visitpay::http::session_json(session).size(), answer.ours, answer.twin,
              answer.twin / answer.ours);
  return 0;
}
