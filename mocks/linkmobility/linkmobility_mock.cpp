// Mock LINK Mobility SMS gateway. Wire facts: providers.md §8 (LINK's PDF v1.18, which wins),
// §3.1 (API), §3.3 (encoding), §3.4 (what the mock must do), §5 (faults). Choices where the real
// behaviour is not documented are marked "Undocumented:" and listed in
// mocks/linkmobility/README.md.
#include "mocks/linkmobility/linkmobility_mock.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <queue>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

#include "mocks/common/mock_http_server.hpp"
#include "mocks/common/text.hpp"
#include "mocks/linkmobility/sms_encoding_internal.hpp"

namespace visitpay::mocks {

namespace {

using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// The "timeout" fault answers this late (interrupted when the mock is destroyed).
constexpr auto kTimeoutFaultDelay = std::chrono::seconds(15);
// Delivery-report POSTs: per-attempt time limit, attempts, first backoff (doubled per retry).
constexpr auto kReportPostTimeout = std::chrono::seconds(2);
constexpr int kReportAttempts = 4;
constexpr auto kReportBackoff = std::chrono::milliseconds(100);

constexpr int kQueued = 1005;
constexpr int kSentToOperator = 1000;
constexpr int kDelivered = 1001;

constexpr std::array<std::string_view, 7> kSendFaults = {
    "http_500", "http_503", "timeout", "lose_response", "throttle", "rate_limit", "invalid_json"};
constexpr std::array<std::string_view, 4> kReportFaults = {"dlr_unknown_id", "duplicate_dlr",
                                                           "out_of_order_dlr", "no_dlr"};
// "UCS2" is the PDF's spelling (p. 9); "UC2" is the deveel model's, refused in strict mode.
constexpr std::array<std::string_view, 5> kDataCodingSchemes = {"TEXT", "GSM", "UCS2", "UC2",
                                                                "BINARY"};
constexpr std::array<std::string_view, 4> kTypesOfNumber = {"ALPHANUMERIC", "SHORTNUMBER", "MSISDN",
                                                            "SHORTCODE"};

// LINK's error codes (PDF pp. 6, 9-10).
constexpr int kInvalidAuthentication = 106100;
constexpr int kInvalidPlatformId = 106200;
constexpr int kInvalidPlatformPartnerId = 106201;
constexpr int kNoGates = 106300;
constexpr int kGateUnavailable = 106301;

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// RFC 3339 UTC with milliseconds, e.g. 2026-11-22T13:05:00.123Z.
std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  std::array<char, 32> date{};
  std::strftime(date.data(), date.size(), "%Y-%m-%dT%H:%M:%S", &tm);
  const auto millis = std::to_string(1000 + ms.count() % 1000);  // "1xyz": zero-padded digits
  std::string out = date.data();
  out += '.';
  out += millis.substr(1);
  out += 'Z';
  return out;
}

// "+" followed by 8 to 15 digits: an MSISDN with country code (E.164 allows at most 15 digits).
bool is_msisdn(const std::string& text) {
  if (text.size() < 9 || text.size() > 16 || text[0] != '+') return false;
  return std::all_of(text.begin() + 1, text.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

// 0 queued, 1 sent to operator, 2 final: the mock's own state never moves backwards.
int progress(int code) {
  return code == kQueued ? 0 : code == kSentToOperator ? 1 : 2;
}

std::string status_name(int code) {
  if (code == kQueued) return "queued";
  if (code == kSentToOperator) return "sent";
  if (code == kDelivered) return "delivered";
  return "failed";
}

std::string status_label_nb(int code) {
  if (code == kQueued) return "I kø";
  if (code == kSentToOperator) return "Sendt til operatør";
  if (code == kDelivered) return "Levert";
  return "Ikke levert (kode " + std::to_string(code) + ")";
}

std::string dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

MockResponse json_response(int status, const Json& body) {
  MockResponse response;
  response.status = status;
  response.body = dump(body);
  return response;
}

// LINK's ErrorResponse: {status, description, translatedDescription} (providers.md §8.2; the
// field names are deveel's, UNVERIFIED). `status` holds LINK's code where the PDF has one, else
// the HTTP status (undocumented). "errors", naming each bad field, is the mock's own addition.
MockResponse link_error(int status, int code, const std::string& description,
                        Json errors = Json::array()) {
  Json body = {
      {"status", code}, {"description", description}, {"translatedDescription", description}};
  if (!errors.empty()) body["errors"] = std::move(errors);
  return json_response(status, body);
}

MockResponse error_response(int status, const std::string& description,
                            Json errors = Json::array()) {
  return link_error(status, status, description, std::move(errors));
}

// The sender id rules of the PDF (pp. 4, 9) for the message's sourceTON.
std::optional<std::string> source_problem(const std::string& source, const std::string& ton) {
  const auto digits = [](std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
  };
  if (ton == "MSISDN") {
    if (source.size() < 2 || source[0] != '+' || !digits(std::string_view(source).substr(1))) {
      return "an MSISDN source starts with + and has digits only";
    }
    return std::nullopt;
  }
  if (ton == "SHORTNUMBER") {
    if (!digits(source) || source.size() > 14) return "a SHORTNUMBER source has 1 to 14 digits";
    return std::nullopt;
  }
  const bool safe = std::all_of(source.begin(), source.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
  });
  if (source.size() < 2 || source.size() > 11 || !safe ||
      std::isdigit(static_cast<unsigned char>(source[0])) != 0) {
    return "an ALPHANUMERIC source is 2 to 11 of a-z, A-Z, 0-9, beginning with a letter";
  }
  return std::nullopt;
}

bool is_true_string(const Json& value) {
  return value.is_string() && lower_ascii(value.get<std::string>()) == "true";
}

// HTML-escapes `text` and turns every http(s) URL in it into a link.
std::string linkify(const std::string& text) {
  const std::string folded = lower_ascii(text);
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto http = folded.find("http://", pos);
    const auto https = folded.find("https://", pos);
    const auto start = std::min(http, https);
    if (start == std::string::npos) {
      out += html_escape(text.substr(pos));
      break;
    }
    const std::size_t scheme_length = start == https ? 8 : 7;
    std::size_t end = start;
    while (end < text.size() && std::isspace(static_cast<unsigned char>(text[end])) == 0 &&
           text[end] != '<' && text[end] != '>' && text[end] != '"') {
      ++end;
    }
    while (end > start && std::string_view(".,;:!?)]'").find(text[end - 1]) != std::string::npos) {
      --end;
    }
    if (end <= start + scheme_length) {  // a bare scheme is no link
      out += html_escape(text.substr(pos, start + scheme_length - pos));
      pos = start + scheme_length;
      continue;
    }
    const std::string url = text.substr(start, end - start);
    out += html_escape(text.substr(pos, start - pos));
    out += "<a href=\"" + html_escape(url) + "\">" + html_escape(url) + "</a>";
    pos = end;
  }
  return out;
}

// POSTs a JSON delivery report to an http://host:port/path URL within `timeout` overall; returns
// the HTTP status, or 0 when the receiver could not be reached or did not answer in time, or when
// `cancelled` became true (the mock is being destroyed).
// (mocks::http_post is not used because it cannot be cancelled: a receiver that never answers
// would hold the mock's destructor for the whole timeout.)
int post_report(const std::string& url, const std::string& body, std::chrono::milliseconds timeout,
                const std::atomic<bool>& cancelled) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace bhttp = beast::http;
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return 0;
  const auto slash = url.find('/', scheme.size());
  const std::string authority = url.substr(scheme.size(), slash - scheme.size());
  const std::string target = slash == std::string::npos ? "/" : url.substr(slash);
  const auto colon = authority.rfind(':');
  std::string host = authority.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }

  asio::io_context ioc;
  asio::ip::tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  bhttp::request<bhttp::string_body> request{bhttp::verb::post, target, 11};
  request.set(bhttp::field::host, authority);
  request.set(bhttp::field::content_type, "application/json");
  request.set(bhttp::field::user_agent, "visitpay-mock-linkmobility");
  request.body() = body;
  request.prepare_payload();
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> response;
  int status = 0;
  stream.expires_after(timeout);
  resolver.async_resolve(host, port, [&](beast::error_code resolve_error, const auto& endpoints) {
    if (resolve_error) return;
    stream.async_connect(endpoints, [&](beast::error_code connect_error, const auto&) {
      if (connect_error) return;
      bhttp::async_write(stream, request, [&](beast::error_code write_error, std::size_t) {
        if (write_error) return;
        bhttp::async_read(stream, buffer, response, [&](beast::error_code read_error, std::size_t) {
          if (!read_error) status = static_cast<int>(response.result_int());
        });
      });
    });
  });
  const auto deadline = SteadyClock::now() + timeout;
  while (!ioc.stopped() && !cancelled && SteadyClock::now() < deadline) {
    ioc.run_for(std::min<SteadyClock::duration>(std::chrono::milliseconds(20),
                                                deadline - SteadyClock::now()));
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  return status;
}

struct PendingFault {
  std::string name;
  std::optional<int> retry_after_s;
};

}  // namespace

struct LinkMobilityMock::Impl {
  struct Stored {
    Message message;
    bool use_report = true;
    std::string report_fault;  // one of kReportFaults, or empty
    std::string report_id;     // the id the reports carry: message_id unless dlr_unknown_id
    Json custom_parameters = Json::object();
    std::vector<int> final_codes;  // per part
    std::string last_report;       // body of the latest report built
  };
  struct Report {
    int part = 0;
    int code = 0;
  };

  struct ReportJob {
    SteadyClock::time_point due;
    std::uint64_t sequence = 0;
    std::string message_id;
    std::size_t step = 0;  // index into report_plan()
    int attempt = 0;
    std::string body;  // built at the first attempt, resent unchanged on retries
  };
  struct LaterFirst {
    bool operator()(const ReportJob& a, const ReportJob& b) const {
      return a.due != b.due ? a.due > b.due : a.sequence > b.sequence;
    }
  };

  explicit Impl(LinkMobilityMockOptions opts)
      : options(std::move(opts)),
        username(options.username),
        password(options.password),
        rng(std::random_device{}()) {
    gates = options.gates;
    if (!options.dlr_url.empty()) gates[LinkMobilityMock::kDefaultGate] = options.dlr_url;
    if (const char* strict = std::getenv("MOCK_LINKMOBILITY_STRICT");
        strict != nullptr && std::string_view(strict) == "1") {
      options.strict = true;
    }
    worker = std::thread([this] { run_reports(); });
    try {
      server = std::make_unique<MockHttpServer>(
          options.host, options.port,
          [this](const MockRequest& request) { return handle(request); });
    } catch (...) {
      stop_worker();
      throw;
    }
  }

  ~Impl() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    halting = true;
    stop_cv.notify_all();  // handlers waiting out a timeout fault answer now
    server->stop();        // joins the connection threads
    stop_worker();
  }

  void stop_worker() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    halting = true;  // ends a report POST in flight
    worker_cv.notify_all();
    if (worker.joinable()) worker.join();
  }

  // ---- state (callers hold `mutex`) ----

  std::string new_id() {
    // Looks like LINK's ids ("fPJFgT+ZqikAAAFXlRC29Rfq"): 18 random bytes in base64, 24 chars.
    std::string bytes(18, '\0');
    for (auto& b : bytes)
      b = static_cast<char>(rng() & 0xFF);
    return base64_encode(bytes);
  }

  // Every part is reported on: 1000 for each, then each part's final code (out_of_order_dlr:
  // the finals first, last part first, then the 1000s; duplicate_dlr: the last final again).
  static std::vector<Report> report_plan(const Stored& stored) {
    const int parts = static_cast<int>(stored.final_codes.size());
    std::vector<Report> sent, finals;
    for (int p = 0; p < parts; ++p) {
      sent.push_back({p, kSentToOperator});
      finals.push_back({p, stored.final_codes[static_cast<std::size_t>(p)]});
    }
    std::vector<Report> plan;
    if (stored.report_fault == "out_of_order_dlr") {
      plan.assign(finals.rbegin(), finals.rend());
      plan.insert(plan.end(), sent.begin(), sent.end());
      return plan;
    }
    plan = sent;
    plan.insert(plan.end(), finals.begin(), finals.end());
    if (stored.report_fault == "duplicate_dlr") plan.push_back(finals.back());
    return plan;
  }

  // The message as a whole: final once every part is (its first failure, else delivered).
  static int message_code(const std::vector<int>& part_codes) {
    int code = kDelivered;
    bool sent = false;
    for (int c : part_codes) {
      if (progress(c) < 2) return sent || c == kSentToOperator ? kSentToOperator : kQueued;
      sent = true;
      if (c != kDelivered && code == kDelivered) code = c;
    }
    return code;
  }

  void schedule(ReportJob job, SteadyClock::time_point due) {
    job.due = due;
    job.sequence = ++job_sequence;
    jobs.push(std::move(job));
    worker_cv.notify_all();
  }

  Stored* find(const std::string& message_id) {
    const auto it = index.find(message_id);
    return it == index.end() ? nullptr : &messages[it->second];
  }

  // PDF pp. 22-27: a multi-part message's reports carry "<id>$<part>"; refId is null when none
  // was sent; the send time is "sentTimestamp".
  static Json report_body(const Stored& stored, int part, int code) {
    std::string id = stored.report_id;
    if (stored.final_codes.size() > 1) id += "$" + std::to_string(part);
    return {{"refId", stored.message.ref_id.empty() ? Json() : Json(stored.message.ref_id)},
            {"id", id},
            {"operator", "mock"},
            {"sentTimestamp", stored.message.received_at},
            {"timestamp", now_rfc3339()},
            {"resultCode", code},
            {"operatorResultCode", "0"},
            {"segments", stored.message.sms_count},
            {"gateCustomParameters", Json::object()},
            {"customParameters", stored.custom_parameters}};
  }

  // The first of the message's gates that is configured now ("" = none: no report).
  std::string gate_url(const Stored& stored) const {
    for (const auto& id : stored.message.gates) {
      if (const auto it = gates.find(id); it != gates.end() && !it->second.empty()) {
        return it->second;
      }
    }
    return {};
  }

  // ---- delivery reports: one background thread, never a request handler ----

  void run_reports() {
    std::unique_lock lock(mutex);
    while (!stopping) {
      if (jobs.empty() || reports_held) {
        worker_cv.wait(lock);
        continue;
      }
      if (const auto due = jobs.top().due; SteadyClock::now() < due) {
        worker_cv.wait_until(lock, due);
        continue;
      }
      ReportJob job = jobs.top();
      jobs.pop();
      Stored* stored = find(job.message_id);
      if (stored == nullptr) continue;  // reset since
      const auto plan = report_plan(*stored);
      if (job.attempt == 0) {
        const Report report = plan[job.step];
        auto& codes = stored->message.part_codes;
        auto& part_code = codes[static_cast<std::size_t>(report.part)];
        if (progress(report.code) >= progress(part_code)) part_code = report.code;
        stored->message.last_result_code = message_code(codes);
        // duplicate_dlr: the last report is a byte-identical resend of the final one.
        const bool resend = stored->report_fault == "duplicate_dlr" && job.step + 1 == plan.size();
        job.body =
            resend ? stored->last_report : dump(report_body(*stored, report.part, report.code));
        stored->last_report = job.body;
      }
      const std::string url = gate_url(*stored);
      if (stored->use_report && stored->report_fault != "no_dlr" && !url.empty()) {
        lock.unlock();
        const int status = post_report(url, job.body, kReportPostTimeout, halting);
        lock.lock();
        if (stopping) break;
        stored = find(job.message_id);
        if (stored == nullptr) continue;
        if (status >= 200 && status < 300) {
          ++stored->message.reports_sent;
        } else if (job.attempt + 1 < kReportAttempts) {
          const auto backoff = kReportBackoff * (1 << job.attempt);
          ++job.attempt;
          schedule(std::move(job), SteadyClock::now() + backoff);
          continue;
        }
      }
      if (job.step + 1 < plan.size()) {
        ReportJob next;
        next.message_id = job.message_id;
        next.step = job.step + 1;
        schedule(std::move(next), SteadyClock::now() + options.dlr_delay);
      }
    }
  }

  // ---- HTTP ----

  MockResponse handle(const MockRequest& request) {
    try {
      return route(request);
    } catch (const std::exception& e) {
      return error_response(500, std::string("mock error: ") + e.what());
    }
  }

  MockResponse route(const MockRequest& request) {
    const auto& path = request.path;
    const auto& method = request.method;
    auto only = [&](const char* allowed) -> std::optional<MockResponse> {
      if (method == allowed) return std::nullopt;
      auto response = error_response(405, "Method not allowed");
      response.headers.emplace_back("Allow", allowed);
      return response;
    };
    if (path == "/sms/send" || path == "/sms/sendbatch") {
      if (auto refused = only("POST")) return *refused;
      return handle_send(request, path == "/sms/sendbatch");
    }
    if (path == "/inbox" || path == "/inbox/") {
      if (auto refused = only("GET")) return *refused;
      return request.query.count("to") != 0 ? inbox_json(request.query.at("to")) : inbox_html();
    }
    if (path == "/_mock/faults") {
      if (auto refused = only("POST")) return *refused;
      return control_faults(request);
    }
    if (path == "/_mock/final-result") {
      if (auto refused = only("POST")) return *refused;
      return control_final_result(request);
    }
    if (path == "/_mock/dlr-url") {
      if (auto refused = only("POST")) return *refused;
      return control_dlr_url(request);
    }
    if (path == "/_mock/gates") {
      if (auto refused = only("POST")) return *refused;
      return control_gate(request);
    }
    if (path == "/_mock/reports") {
      if (auto refused = only("POST")) return *refused;
      return control_reports(request);
    }
    if (path == "/_mock/credentials") {
      if (auto refused = only("POST")) return *refused;
      return control_credentials(request);
    }
    if (path == "/_mock/reset") {
      if (auto refused = only("POST")) return *refused;
      reset();
      return json_response(200, {{"status", "reset"}});
    }
    if (path == "/_mock/messages") {
      if (auto refused = only("GET")) return *refused;
      return control_messages();
    }
    if (path == "/_mock/stats") {
      if (auto refused = only("GET")) return *refused;
      return control_stats();
    }
    if (path == "/_mock/health") {
      if (auto refused = only("GET")) return *refused;
      return json_response(200, {{"status", "ok"}});
    }
    return error_response(404, "Not found: " + path);
  }

  bool authorized(const MockRequest& request) const {
    const std::string header = trim(request.header("authorization"));
    if (header.size() < 6 || lower_ascii(header.substr(0, 6)) != "basic ") return false;
    const auto decoded = base64_decode(trim(header.substr(6)));
    std::lock_guard lock(mutex);
    return decoded && *decoded == username + ":" + password;
  }

  // Checks the optional fields the mock reads or whose type is plain; unknown fields are ignored.
  static void validate_optional(const Json& item, const std::string& prefix, Json& errors) {
    auto add = [&](const std::string& name, const std::string& description) {
      errors.push_back({{"field", prefix + name}, {"description", description}});
    };
    for (const char* name : {"userData", "refId", "userDataHeader", "moReferenceId"}) {
      if (item.contains(name) && !item[name].is_string()) add(name, "must be a string");
    }
    for (const char* name : {"useDeliveryReport", "ignoreResponse"}) {
      if (item.contains(name) && !item[name].is_boolean()) add(name, "must be a boolean");
    }
    if (item.contains("customParameters") && !item["customParameters"].is_object()) {
      add("customParameters", "must be an object");
    }
    if (item.contains("deliveryReportGates") && !item["deliveryReportGates"].is_array()) {
      add("deliveryReportGates", "must be an array of gate ids");
    }
    if (item.contains("dcs") &&
        (!item["dcs"].is_string() || !one_of(kDataCodingSchemes, item["dcs"].get<std::string>()))) {
      add("dcs", "must be one of TEXT, GSM, UCS2, BINARY");
    }
    for (const char* name : {"sourceTON", "destinationTON"}) {
      if (item.contains(name) &&
          (!item[name].is_string() || !one_of(kTypesOfNumber, item[name].get<std::string>()))) {
        add(name, "must be one of ALPHANUMERIC, SHORTNUMBER, MSISDN");
      }
    }
  }

  // What strict mode refuses besides: the PDF's rules the lenient mock lets pass.
  static void validate_strict(const Json& item, const Json& top, const std::string& prefix,
                              Json& errors) {
    auto add = [&](const std::string& name, const std::string& description) {
      errors.push_back({{"field", prefix + name}, {"description", description}});
    };
    const Json* dcs = field(item, top, "dcs");
    if (dcs != nullptr && *dcs == "UC2") add("dcs", "is UCS2 in LINK's API (p. 9), not UC2");
    const std::string ton = item.value("sourceTON", "ALPHANUMERIC");
    if (ton == "SHORTCODE") add("sourceTON", "is SHORTNUMBER in LINK's API (p. 9)");
    if (item.contains("source") && item["source"].is_string()) {
      if (auto problem = source_problem(item["source"].get<std::string>(), ton)) {
        add("source", *problem);
      }
    }
  }

  // Validates one message object; `prefix` names it inside a batch.
  static void validate_message(const Json& item, const std::string& prefix, Json& errors) {
    auto add = [&](const std::string& name, const std::string& description) {
      errors.push_back({{"field", prefix + name}, {"description", description}});
    };
    for (const char* name : {"source", "destination"}) {
      if (!item.contains(name) || item[name].is_null()) {
        add(name, "is required");
      } else if (!item[name].is_string() || item[name].get<std::string>().empty()) {
        add(name, "must be a non-empty string");
      }
    }
    // Undocumented: the real gateway's answer to a malformed MSISDN. The mock rejects it at once
    // (400) rather than accepting it and reporting 2106 later.
    const bool msisdn = !item.contains("destinationTON") || item["destinationTON"] == "MSISDN";
    if (msisdn && item.contains("destination") && item["destination"].is_string() &&
        !item["destination"].get<std::string>().empty() &&
        !is_msisdn(item["destination"].get<std::string>())) {
      add("destination", "must be an MSISDN: + and country code, 8 to 15 digits");
    }
    validate_optional(item, prefix, errors);
  }

  // platformId and platformPartnerId (required, and the account's when the mock knows them):
  // LINK's own codes 106200 / 106201. Undocumented: the HTTP status (400 here).
  std::optional<MockResponse> check_platform(const Json& body) const {
    auto bad = [&](const char* name, const std::string& expected) {
      const auto it = body.find(name);
      return it == body.end() || !it->is_string() || it->get<std::string>().empty() ||
             (!expected.empty() && it->get<std::string>() != expected);
    };
    if (bad("platformId", options.platform_id)) {
      return link_error(400, kInvalidPlatformId, "Invalid or missing platformId",
                        Json::array({{{"field", "platformId"}, {"description", "is required"}}}));
    }
    if (bad("platformPartnerId", options.platform_partner_id)) {
      return link_error(
          400, kInvalidPlatformPartnerId, "Invalid or missing platformPartnerId",
          Json::array({{{"field", "platformPartnerId"}, {"description", "is required"}}}));
    }
    return std::nullopt;
  }

  // Reports go only to gates LINK configured: a gate named but not configured is 106301; asking
  // for reports (the default) without naming a gate is 106300 in strict mode ("make sure to set
  // useDeliveryReport to FALSE", p. 7), and silently no reports otherwise.
  std::optional<MockResponse> check_gates(const Json& item, const Json& top) const {
    std::lock_guard lock(mutex);
    const Json* named = field(item, top, "deliveryReportGates");
    if (named != nullptr) {
      for (const auto& id : *named) {
        if (!id.is_string() || gates.count(id.get<std::string>()) == 0) {
          return link_error(400, kGateUnavailable, "Specified gate unavailable");
        }
      }
    }
    const Json* use_report = field(item, top, "useDeliveryReport");
    const bool wants_reports = use_report == nullptr || use_report->get<bool>();
    if (options.strict && wants_reports && (named == nullptr || named->empty())) {
      return link_error(400, kNoGates, "No gates available");
    }
    return std::nullopt;
  }

  // A field of a batch message, falling back to the batch's top level.
  static const Json* field(const Json& item, const Json& top, const char* name) {
    if (item.contains(name)) return &item[name];
    if (top.contains(name)) return &top[name];
    return nullptr;
  }

  // Stores an accepted message and schedules its reports (caller holds `mutex`).
  Json accept(const Json& item, const Json& top) {
    Stored stored;
    auto& m = stored.message;
    m.message_id = new_id();
    m.source = item["source"].get<std::string>();
    m.destination = item["destination"].get<std::string>();
    m.text = item.value("userData", "");
    m.ref_id = item.value("refId", "");
    const Json* dcs = field(item, top, "dcs");
    const bool ucs2 = dcs != nullptr && (*dcs == "UCS2" || *dcs == "UC2");
    const auto encoding = ucs2 ? detail::sms_encoding_ucs2(m.text) : sms_encoding(m.text);
    m.sms_count = encoding.segments;
    m.encoding = encoding.gsm7 ? "GSM-7" : "UCS-2";
    m.received_at = now_rfc3339();
    m.last_result_code = kQueued;
    m.part_codes.assign(static_cast<std::size_t>(std::max(1, m.sms_count)), kQueued);
    const Json* use_report = field(item, top, "useDeliveryReport");
    stored.use_report = use_report == nullptr || use_report->get<bool>();
    if (const Json* gate_ids = field(item, top, "deliveryReportGates")) {
      for (const auto& id : *gate_ids)
        m.gates.push_back(id.get<std::string>());
    }
    // Batch-level customParameters override the message's own (p. 14).
    const Json* custom = &item != &top && top.contains("customParameters")
                             ? &top["customParameters"]
                             : field(item, top, "customParameters");
    if (custom != nullptr) stored.custom_parameters = *custom;
    const auto results = final_results.find(m.destination);
    for (std::size_t p = 0; p < m.part_codes.size(); ++p) {
      int code = kDelivered;
      if (results != final_results.end()) {
        const auto part = results->second.parts.find(static_cast<int>(p));
        code = part != results->second.parts.end() ? part->second : results->second.all;
      }
      stored.final_codes.push_back(code);
    }
    if (!report_faults.empty()) {
      stored.report_fault = report_faults.front().name;
      report_faults.pop_front();
    }
    // dlr_unknown_id: this message's reports carry an id that was never issued (refId unchanged).
    stored.report_id = stored.report_fault == "dlr_unknown_id" ? new_id() : m.message_id;

    Json result = {{"messageId", m.message_id}, {"resultCode", kQueued}};
    if (&item != &top) {
      result["refId"] = m.ref_id;  // a batch's results say which message each is (p. 18)
      result["message"] = "Queued";
    } else {
      result["description"] = "Queued";
    }
    // smsCount only when asked for (pp. 10-11).
    if (custom != nullptr && custom->is_object() && custom->contains("replySmsCount") &&
        is_true_string((*custom)["replySmsCount"])) {
      result["smsCount"] = m.sms_count;
    }
    ReportJob first;
    first.message_id = m.message_id;
    index.emplace(m.message_id, messages.size());
    messages.push_back(std::move(stored));
    schedule(std::move(first), SteadyClock::now() + options.dlr_delay);
    return result;
  }

  MockResponse handle_send(const MockRequest& request, bool batch) {
    {
      std::lock_guard lock(mutex);
      ++send_calls;
    }
    if (!authorized(request)) {
      // Undocumented: which HTTP status carries 106100 (PDF p. 6 lists 401 "invalid login").
      auto response = link_error(401, kInvalidAuthentication, "Invalid authentication");
      response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"LINK Mobility (mock)\"");
      return response;
    }
    const Json body = Json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return error_response(400, "Invalid request: the body must be a JSON object");
    }
    if (auto refused = check_platform(body)) return *refused;
    Json errors = Json::array();
    std::vector<const Json*> items;
    if (!batch) {
      validate_message(body, "", errors);
      items.push_back(&body);
    } else {
      const auto found = body.find("sendRequestMessages");
      static const Json kNoList;
      const Json& list = found != body.end() ? *found : kNoList;  // `items` points into it
      if (!list.is_array() || list.empty() || list.size() > 1000) {
        errors.push_back({{"field", "sendRequestMessages"},
                          {"description", "must be an array of 1 to 1000 messages"}});
      } else {
        for (std::size_t i = 0; i < list.size(); ++i) {
          const std::string prefix = "sendRequestMessages[" + std::to_string(i) + "].";
          if (!list[i].is_object()) {
            errors.push_back({{"field", prefix.substr(0, prefix.size() - 1)},
                              {"description", "must be an object"}});
            continue;
          }
          validate_message(list[i], prefix, errors);
          items.push_back(&list[i]);
        }
      }
      validate_optional(body, "", errors);
    }
    if (!errors.empty()) {
      std::string names;
      for (const auto& e : errors) {
        if (!names.empty()) names += ", ";
        names += e["field"].get<std::string>();
      }
      return error_response(400, "Missing or invalid field(s): " + names, errors);
    }
    for (std::size_t i = 0; options.strict && i < items.size(); ++i) {
      validate_strict(*items[i], body,
                      batch ? "sendRequestMessages[" + std::to_string(i) + "]." : "", errors);
    }
    if (!errors.empty()) {
      return error_response(
          400, "Invalid field(s) (strict mode): " + errors[0]["field"].get<std::string>(), errors);
    }
    for (const Json* item : items) {
      if (auto refused = check_gates(*item, body)) return *refused;
    }

    std::unique_lock lock(mutex);
    PendingFault fault;
    if (!send_faults.empty()) {
      fault = send_faults.front();
      send_faults.pop_front();
    }
    auto with_retry_after = [&](MockResponse response) {
      if (fault.retry_after_s) {
        response.headers.emplace_back("Retry-After", std::to_string(*fault.retry_after_s));
      }
      return response;
    };
    if (fault.name == "http_500") return error_response(500, "Internal server error");
    if (fault.name == "http_503") {
      return with_retry_after(error_response(503, "Service unavailable"));
    }
    if (fault.name == "rate_limit") {
      return with_retry_after(error_response(429, "Too many requests"));
    }
    if (fault.name == "throttle") {
      return json_response(200, {{"resultCode", 3}, {"description", "Max throttling exceeded"}});
    }
    if (fault.name == "invalid_json") {
      // A 200 whose body breaks off mid-way; nothing is accepted.
      const std::string full = dump({{"messageId", new_id()},
                                     {"resultCode", kQueued},
                                     {"description", "Queued"},
                                     {"smsCount", 1}});
      MockResponse response;
      response.body = full.substr(0, full.size() / 2);
      return response;
    }
    if (fault.name == "timeout") {
      // Nothing is accepted; the answer comes when any sane client has given up.
      stop_cv.wait_for(lock, kTimeoutFaultDelay, [this] { return stopping; });
      return error_response(504, "Gateway timeout");
    }

    Json results = Json::array();
    for (const Json* item : items)
      results.push_back(accept(*item, body));
    lock.unlock();

    MockResponse response;
    if (fault.name == "lose_response") {  // accepted and queued, but the answer is lost
      response.drop_connection = true;
      return response;
    }
    // "Default is true" (p. 9): only `"ignoreResponse": false` gets the messageId back.
    if (body.value("ignoreResponse", true)) {
      response.status = 204;
      response.content_type.clear();
      return response;
    }
    return json_response(200, batch ? results : results[0]);
  }

  // ---- inbox ----

  static Json inbox_entry(const Message& m) {
    return {{"messageId", m.message_id},
            {"from", m.source},
            {"to", m.destination},
            {"text", m.text},
            {"smsCount", m.sms_count},
            {"encoding", m.encoding},
            {"receivedAt", m.received_at},
            {"status", status_name(m.last_result_code)},
            {"resultCode", m.last_result_code}};
  }

  MockResponse inbox_json(std::string to) const {
    // "?to=+4741234567" typed by hand decodes the '+' to a space: read it as the '+' meant.
    if (!to.empty() && to[0] == ' ') to[0] = '+';
    Json out = Json::array();
    for (const auto& m : snapshot()) {
      if (m.destination == to) out.push_back(inbox_entry(m));
    }
    return json_response(200, out);
  }

  MockResponse inbox_html() const {
    auto list = snapshot();
    std::reverse(list.begin(), list.end());  // newest first
    std::string html = R"(<!doctype html>
<html lang="nb">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="5">
<title>SMS-innboks (mock)</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f3f4f6;color:#111827}
main{max-width:42rem;margin:0 auto;padding:1.5rem 1rem}
h1{font-size:1.5rem;margin:0 0 .25rem}
.meta{color:#6b7280;margin:0 0 1.5rem}
ol{list-style:none;margin:0;padding:0}
li{background:#fff;border-radius:.75rem;box-shadow:0 1px 2px rgba(0,0,0,.08);padding:1rem;margin-bottom:1rem}
.head{display:flex;flex-wrap:wrap;gap:.25rem 1rem;color:#4b5563;font-size:.875rem}
.to{font-weight:600;color:#111827}
.text{white-space:pre-wrap;overflow-wrap:anywhere;margin:.75rem 0;font-size:1rem;line-height:1.4}
.text a{color:#1d4ed8}
.foot{display:flex;flex-wrap:wrap;gap:.5rem;font-size:.8125rem;color:#4b5563}
.status{border-radius:999px;padding:.05rem .6rem;background:#e5e7eb}
.status-delivered{background:#dcfce7;color:#166534}
.status-failed{background:#fee2e2;color:#991b1b}
.empty{color:#6b7280}
</style>
</head>
<body>
<main>
<h1>SMS-innboks (mock)</h1>
)";
    html +=
        "<p class=\"meta\">" + std::to_string(list.size()) +
        (list.size() == 1 ? " melding" : " meldinger") +
        " sendt gjennom LINK Mobility-mocken, nyeste først. Siden oppdateres hvert 5. sekund. " +
        "<a href=\"/inbox\">Oppdater nå</a></p>\n";
    if (list.empty()) {
      html += "<p class=\"empty\">Ingen meldinger ennå.</p>\n";
    } else {
      html += "<ol>\n";
      for (const auto& m : list) {
        const std::string status = status_name(m.last_result_code);
        html += "<li class=\"message\" id=\"" + html_escape(m.message_id) + "\">\n";
        html += "<div class=\"head\"><span class=\"to\">Til " + html_escape(m.destination) +
                "</span><span class=\"from\">Fra " + html_escape(m.source) +
                "</span><time datetime=\"" + html_escape(m.received_at) + "\">" +
                html_escape(m.received_at) + "</time></div>\n";
        html += "<p class=\"text\">" + linkify(m.text) + "</p>\n";
        html += "<div class=\"foot\"><span class=\"segments\">" + std::to_string(m.sms_count) +
                " SMS (" + m.encoding + ")</span><span class=\"status status-" + status + "\">" +
                html_escape(status_label_nb(m.last_result_code)) + "</span></div>\n";
        html += "</li>\n";
      }
      html += "</ol>\n";
    }
    html += "</main>\n</body>\n</html>\n";
    MockResponse response;
    response.content_type = "text/html; charset=utf-8";
    response.body = std::move(html);
    return response;
  }

  // ---- control API ----

  static std::optional<Json> parse_object(const MockRequest& request) {
    Json body = Json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return std::nullopt;
    return body;
  }

  MockResponse control_faults(const MockRequest& request) {
    const auto body = parse_object(request);
    if (!body || !body->contains("fault") || !(*body)["fault"].is_string()) {
      return error_response(400, "Expected {\"fault\": name, \"count\": n, \"retry_after_s\": s}");
    }
    const Json& count = body->contains("count") ? (*body)["count"] : Json(1);
    const Json& retry = body->contains("retry_after_s") ? (*body)["retry_after_s"] : Json();
    if (!count.is_number_integer() || (!retry.is_null() && !retry.is_number_integer())) {
      return error_response(400, "count and retry_after_s must be integers");
    }
    try {
      inject((*body)["fault"].get<std::string>(), count.get<int>(),
             retry.is_null() ? std::nullopt : std::optional<int>(retry.get<int>()));
    } catch (const std::invalid_argument& e) {
      return error_response(400, e.what());
    }
    return json_response(200, {{"fault", (*body)["fault"]}, {"count", count}});
  }

  MockResponse control_final_result(const MockRequest& request) {
    const auto body = parse_object(request);
    if (!body || !body->contains("destination") || !(*body)["destination"].is_string() ||
        !body->contains("resultCode") || !(*body)["resultCode"].is_number_integer() ||
        (body->contains("part") && !(*body)["part"].is_number_integer())) {
      return error_response(
          400, "Expected {\"destination\": \"+47...\", \"resultCode\": 2104, \"part\": 1}");
    }
    set_final_result(
        (*body)["destination"].get<std::string>(), (*body)["resultCode"].get<int>(),
        body->contains("part") ? std::optional<int>((*body)["part"].get<int>()) : std::nullopt);
    return json_response(200, *body);
  }

  void set_final_result(const std::string& destination, int code, std::optional<int> part) {
    std::lock_guard lock(mutex);
    auto& results = final_results[destination];
    if (part) {
      results.parts[*part] = code;
    } else {
      results = FinalResults{code, {}};
    }
  }

  MockResponse control_dlr_url(const MockRequest& request) {
    const auto body = parse_object(request);
    if (!body || !body->contains("url") || !(*body)["url"].is_string()) {
      return error_response(400, "Expected {\"url\": \"http://host:port/path\"}");
    }
    set_gate(LinkMobilityMock::kDefaultGate, (*body)["url"].get<std::string>());
    return json_response(200, {{"url", (*body)["url"]}});
  }

  // Holds the delivery reports (they queue, due as usual) or releases them: a benchmark measures
  // the send path alone, then lets the reports in.
  MockResponse control_reports(const MockRequest& request) {
    const auto body = parse_object(request);
    if (!body || !body->contains("held") || !(*body)["held"].is_boolean()) {
      return error_response(400, "Expected {\"held\": true|false}");
    }
    const bool held = (*body)["held"].get<bool>();
    {
      std::lock_guard lock(mutex);
      reports_held = held;
    }
    worker_cv.notify_all();
    return json_response(200, {{"held", held}});
  }

  MockResponse control_gate(const MockRequest& request) {
    const auto body = parse_object(request);
    if (!body || !body->contains("id") || !(*body)["id"].is_string() || !body->contains("url") ||
        !(*body)["url"].is_string()) {
      return error_response(400, "Expected {\"id\": \"gate id\", \"url\": \"http://...\"}");
    }
    set_gate((*body)["id"].get<std::string>(), (*body)["url"].get<std::string>());
    return json_response(200, *body);
  }

  MockResponse control_credentials(const MockRequest& request) {
    const auto body = parse_object(request);
    if (!body || !body->contains("username") || !(*body)["username"].is_string() ||
        !body->contains("password") || !(*body)["password"].is_string()) {
      return error_response(400, "Expected {\"username\": \"...\", \"password\": \"...\"}");
    }
    std::lock_guard lock(mutex);
    username = (*body)["username"].get<std::string>();
    password = (*body)["password"].get<std::string>();
    return json_response(200, {{"username", username}});
  }

  void set_gate(const std::string& id, const std::string& url) {
    std::lock_guard lock(mutex);
    if (url.empty()) {
      gates.erase(id);
    } else {
      gates[id] = url;
    }
  }

  MockResponse control_messages() const {
    Json out = Json::array();
    for (const auto& m : snapshot()) {
      out.push_back({{"messageId", m.message_id},
                     {"source", m.source},
                     {"destination", m.destination},
                     {"text", m.text},
                     {"refId", m.ref_id},
                     {"smsCount", m.sms_count},
                     {"encoding", m.encoding},
                     {"receivedAt", m.received_at},
                     {"status", status_name(m.last_result_code)},
                     {"resultCode", m.last_result_code},
                     {"partCodes", m.part_codes},
                     {"gates", m.gates},
                     {"reportsSent", m.reports_sent}});
    }
    return json_response(200, out);
  }

  MockResponse control_stats() const {
    std::lock_guard lock(mutex);
    Json pending = Json::array();
    for (const auto* queue : {&send_faults, &report_faults}) {
      for (const auto& f : *queue)
        pending.push_back(f.name);
    }
    const auto default_gate = gates.find(LinkMobilityMock::kDefaultGate);
    return json_response(
        200, {{"sendCalls", send_calls},
              {"messages", messages.size()},
              {"pendingFaults", pending},
              {"dlrUrl", default_gate == gates.end() ? std::string() : default_gate->second},
              {"gates", gates},
              {"reportsHeld", reports_held},
              {"strict", options.strict}});
  }

  // ---- shared with the public API ----

  std::vector<Message> snapshot() const {
    std::lock_guard lock(mutex);
    std::vector<Message> out;
    out.reserve(messages.size());
    for (const auto& s : messages)
      out.push_back(s.message);
    return out;
  }

  void inject(const std::string& fault, int count, std::optional<int> retry_after_s) {
    if (count < 1) throw std::invalid_argument("fault count must be at least 1");
    const bool send = one_of(kSendFaults, fault);
    if (!send && !one_of(kReportFaults, fault)) {
      throw std::invalid_argument("unknown fault: " + fault);
    }
    std::lock_guard lock(mutex);
    auto& queue = send ? send_faults : report_faults;
    for (int i = 0; i < count; ++i)
      queue.push_back({fault, retry_after_s});
  }

  void clear_faults() {
    std::lock_guard lock(mutex);
    send_faults.clear();
    report_faults.clear();
  }

  void reset() {
    std::lock_guard lock(mutex);
    messages.clear();
    index.clear();
    send_faults.clear();
    report_faults.clear();
    final_results.clear();
    send_calls = 0;
    jobs = decltype(jobs)();
  }

  LinkMobilityMockOptions options;
  mutable std::mutex mutex;
  std::condition_variable worker_cv;
  std::condition_variable stop_cv;
  bool stopping = false;
  bool reports_held = false;         // POST /_mock/reports
  std::atomic<bool> halting{false};  // `stopping`, readable without the mutex
  struct FinalResults {
    int all = kDelivered;
    std::map<int, int> parts;  // part -> code, overriding `all`
  };
  std::string username;  // the Basic credentials accepted now
  std::string password;
  std::map<std::string, std::string> gates;  // gate id -> URL, as LINK Support configured them
  std::vector<Stored> messages;
  std::unordered_map<std::string, std::size_t> index;  // message_id -> position in `messages`
  std::deque<PendingFault> send_faults;
  std::deque<PendingFault> report_faults;
  std::map<std::string, FinalResults> final_results;  // by destination
  std::size_t send_calls = 0;
  std::priority_queue<ReportJob, std::vector<ReportJob>, LaterFirst> jobs;
  std::uint64_t job_sequence = 0;
  std::mt19937_64 rng;
  std::thread worker;
  std::unique_ptr<MockHttpServer> server;
};

LinkMobilityMock::LinkMobilityMock(LinkMobilityMockOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

LinkMobilityMock::~LinkMobilityMock() = default;

std::string LinkMobilityMock::base_url() const {
  return impl_->server->base_url();
}

std::uint16_t LinkMobilityMock::port() const {
  return impl_->server->port();
}

void LinkMobilityMock::set_gate(const std::string& id, const std::string& url) {
  impl_->set_gate(id, url);
}

void LinkMobilityMock::set_credentials(const std::string& username, const std::string& password) {
  std::lock_guard lock(impl_->mutex);
  impl_->username = username;
  impl_->password = password;
}

void LinkMobilityMock::inject(const std::string& fault, int count,
                              std::optional<int> retry_after_s) {
  impl_->inject(fault, count, retry_after_s);
}

void LinkMobilityMock::set_final_result(const std::string& destination, int result_code,
                                        std::optional<int> part) {
  impl_->set_final_result(destination, result_code, part);
}

std::vector<LinkMobilityMock::Message> LinkMobilityMock::messages() const {
  return impl_->snapshot();
}

std::vector<LinkMobilityMock::Message> LinkMobilityMock::inbox(
    const std::string& destination) const {
  auto all = impl_->snapshot();
  std::erase_if(all, [&](const Message& m) { return m.destination != destination; });
  return all;
}

std::size_t LinkMobilityMock::send_calls() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->send_calls;
}

void LinkMobilityMock::clear_faults() {
  impl_->clear_faults();
}

void LinkMobilityMock::reset() {
  impl_->reset();
}

}  // namespace visitpay::mocks
