#pragma once

// A runnable mock of the LINK Mobility "Common Platform" SMS REST API as its PDF v1.18 documents it
// (providers.md §8, which wins over §3.1; §3.3, §3.4): POST /sms/send and /sms/sendbatch with HTTP
// Basic auth; `ignoreResponse` true by default (204, no body); smsCount (GSM 03.38 / UCS-2 rules)
// only when asked with customParameters.replySmsCount; delivery reports only to the gates named
// in deliveryReportGates that are configured here (as LINK Support configures them), one report
// per part ("<id>$<n>") from a background thread; LINK's error bodies {status, description,
// translatedDescription} with its codes (106100 authentication, 106200/106201 platform, 106300/
// 106301 gates); a strict mode that refuses what the real API would not accept; an SMS inbox (JSON
// and an HTML page a person can click the payment link on), and fault injection for the cases of
// providers.md §5. Embedded in integration tests; `mock-linkmobility` runs it alone.
//
// HTTP endpoints (details in linkmobility_mock.cpp and mocks/linkmobility/README.md):
//   POST /sms/send, POST /sms/sendbatch         the LINK API (Basic auth)
//   GET  /inbox?to=%2B47...                     JSON array of the messages to that number
//   GET  /inbox                                 HTML page, newest first
//   POST /_mock/faults {"fault","count","retry_after_s"}
//   POST /_mock/final-result {"destination","resultCode","part"?}
//   POST /_mock/dlr-url {"url"}     POST /_mock/gates {"id","url"}
//   POST /_mock/credentials {"username","password"}
//   POST /_mock/reset     GET /_mock/messages     GET /_mock/stats     GET /_mock/health

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace visitpay::mocks {

struct LinkMobilityMockOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;             // 0: a free port, see LinkMobilityMock::port()
  std::string username = "visitpay";  // HTTP Basic
  std::string password = "secret";
  // The account's platformId / platformPartnerId; "" accepts any non-empty value.
  std::string platform_id;
  std::string platform_partner_id;
  // The URL of the gate kDefaultGate ("" = that gate is not configured); settable later.
  std::string dlr_url;
  std::map<std::string, std::string> gates;  // more gates: id -> URL

  // Delay before the first report (1000), then again before each following one.
  std::chrono::milliseconds dlr_delay{50};
  // Refuses what the real API requires and the lenient mock lets pass: reports asked for without
  // a gate (106300), a sender id its TON does not allow, PDF-only enum spellings (UCS2,
  // SHORTNUMBER). Also set by the environment variable MOCK_LINKMOBILITY_STRICT=1.
  bool strict = false;
};

class LinkMobilityMock {
 public:
  explicit LinkMobilityMock(LinkMobilityMockOptions options = {});
  ~LinkMobilityMock();
  LinkMobilityMock(const LinkMobilityMock&) = delete;
  LinkMobilityMock& operator=(const LinkMobilityMock&) = delete;

  // The gate id set_dlr_url() configures; a sender names it in deliveryReportGates.
  static constexpr const char* kDefaultGate = "mock-gate";

  std::string base_url() const;  // http://host:port
  std::uint16_t port() const;

  // Configures a delivery-report gate (as LINK Support does; "" removes it). Read when a report
  // is due, so a URL set after a send still receives its reports.
  void set_gate(const std::string& id, const std::string& url);
  void set_dlr_url(const std::string& url) { set_gate(kDefaultGate, url); }
  // The Basic credentials the API accepts from now on (a password fixed, or changed under us).
  void set_credentials(const std::string& username, const std::string& password);

  // Queues `count` faults. Send faults (http_500, http_503, timeout, lose_response, throttle,
  // rate_limit, invalid_json) each consume the next authenticated, valid POST /sms/send or
  // /sms/sendbatch; report faults (dlr_unknown_id, duplicate_dlr, out_of_order_dlr, no_dlr) each
  // consume the next accepted message. `retry_after_s` adds a Retry-After header to rate_limit
  // and http_503. Throws std::invalid_argument for an unknown fault or count < 1.
  void inject(const std::string& fault, int count = 1, std::optional<int> retry_after_s = {});

  // Final delivery result code for messages to this destination accepted from now on (default
  // 1001 delivered; e.g. 2104 unknown subscriber, 1006 not delivered, 1002 expired): for every
  // part, or with `part` for that part only (the others keep theirs).
  void set_final_result(const std::string& destination, int result_code,
                        std::optional<int> part = std::nullopt);

  struct Message {
    std::string message_id;  // the id returned to the client (reports normally carry it)
    std::string source;
    std::string destination;
    std::string text;  // userData
    std::string ref_id;
    int sms_count = 0;
    std::string encoding;     // "GSM-7" or "UCS-2"
    std::string received_at;  // RFC 3339 UTC with milliseconds
    // 1005 queued, 1000 sent to operator (some part), then final once every part is: the first
    // part's failure code, else 1001 delivered. The mock's own view: it advances on schedule even
    // when no report is (or can be) posted.
    int last_result_code = 1005;
    std::vector<int> part_codes;  // each part's latest code (1005, 1000, final)
    int reports_sent = 0;  // report POSTs the receiver answered with 2xx (duplicates included)
    std::vector<std::string> gates;  // the configured gates its reports go to (none: no reports)
  };
  std::vector<Message> messages() const;  // every accepted message, in order of acceptance
  std::vector<Message> inbox(const std::string& destination) const;  // same, to one number
  std::size_t send_calls() const;  // every POST /sms/send or /sms/sendbatch (faulted included)

  // Disarms every queued send and report fault (the end of an outage); messages stay.
  void clear_faults();
  // Forgets messages, pending reports, queued faults, final results and the call count. Keeps
  // the options and the current DLR URL.
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// SMS segment arithmetic of GSM 03.38 / 3GPP TS 23.038, implemented here independently of the
// service's own code. Text is GSM-7 when every character is in the default alphabet (1 septet) or
// the extension table (^ { } \ [ ] ~ | € and form feed: 2 septets); otherwise the whole message is
// UCS-2 and units are UTF-16 code units (a character outside the BMP, e.g. an emoji, counts 2).
// One SMS holds 160 septets / 70 units; concatenated segments hold 153 / 67. A segment never ends
// between the escape and its extension character, nor between the two halves of a surrogate pair,
// so such a character that would straddle a boundary starts the next segment. Invalid UTF-8 bytes
// count as U+FFFD (UCS-2). Empty text is one segment.
struct SmsEncoding {
  bool gsm7;
  int units;  // septets (extension characters count 2) or UCS-2 code units
  int segments;
};
SmsEncoding sms_encoding(std::string_view utf8_text);

}  // namespace visitpay::mocks
