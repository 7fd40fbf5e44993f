#include "adapters/http/http_client.hpp"

#include <curl/curl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <ctime>
#include <random>
#include <stdexcept>
#include <unordered_map>

namespace visitpay::adapters::http {

namespace asio = boost::asio;
using common::ErrorCode;
using common::make_error;
using common::Result;

namespace {

constexpr std::size_t kMaxHeaderBytes = std::size_t{64} * 1024;
constexpr std::size_t kMaxHeaderCount = 200;

// What one attempt produced, and whether another attempt could help.
struct Outcome {
  Result<HttpResponse> result;
  bool retryable = false;
};

char ascii_lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

// RFC 9110 token: methods and header names.
bool is_token(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// No CR, LF or NUL: a value must not end the header block early (header injection).
bool is_header_value(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool retryable_transport_failure(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

// Our own mistakes (a bad URL or option), not the provider's.
bool local_failure(CURLcode code) {
  switch (code) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
      return true;
    default:
      return false;
  }
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt,
                                        std::optional<std::chrono::milliseconds> retry_after) {
  using std::chrono::milliseconds;
  const milliseconds max_delay = std::max(policy.max_delay, milliseconds(0));
  milliseconds ceiling = std::max(policy.base_delay, milliseconds(0));
  for (int i = 1; i < attempt && ceiling < max_delay; ++i)
    ceiling *= 2;
  ceiling = std::min(ceiling, max_delay);
  // Full jitter: uniform in [0, ceiling], so many clients retrying do not stay in step.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<long long> pick(0, ceiling.count());
  milliseconds delay(pick(rng));
  if (retry_after) delay = std::max(delay, std::min(*retry_after, max_delay));
  return delay;
}

}  // namespace

void curl_init_once() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) throw std::runtime_error("curl_global_init failed");
}

// ---- HttpResponse ---------------------------------------------------------------------------

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

std::optional<std::chrono::milliseconds> HttpResponse::retry_after() const {
  const std::string raw = header("Retry-After");
  const std::string_view value = trim(raw);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (value.size() > 9) return std::nullopt;  // > 31 years: nonsense, and overflow-safe
    long long seconds = 0;
    for (char c : value)
      seconds = seconds * 10 + (c - '0');
    return std::chrono::seconds(seconds);
  }
  // HTTP-date in any of the three RFC 9110 forms; curl_getdate parses them all.
  const std::string date(value);
  const std::time_t when = curl_getdate(date.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  const auto now = std::chrono::system_clock::now();
  const auto at = std::chrono::system_clock::from_time_t(when);
  if (at <= now) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(at - now);
}

// ---- HttpClient::Impl -----------------------------------------------------------------------

// Owns the multi handle. Every member below is touched only on strand_ (curl is not
// thread-safe per handle); the counters are atomics so stats() can read them from anywhere.
class HttpClient::Impl : public std::enable_shared_from_this<Impl> {
 public:
  using Strand = asio::strand<asio::any_io_executor>;

  Impl(const asio::any_io_executor& executor, HttpClientOptions options)
      : strand_(asio::make_strand(executor)), timer_(strand_), options_(options) {
    curl_init_once();
    multi_ = curl_multi_init();
    if (multi_ == nullptr) throw std::runtime_error("curl_multi_init failed");
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Impl::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, options_.max_host_connections);
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, options_.max_total_connections);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, options_.max_cached_connections);
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_NOTHING);
  }

  // Only reached without shutdown() when the executor's context was torn down first: nothing
  // can be completed any more, so handlers are destroyed, as Asio does with queued work.
  ~Impl() {
    if (multi_ == nullptr) return;
    for (auto& [easy, transfer] : transfers_)
      curl_multi_remove_handle(multi_, easy);
    transfers_.clear();
    curl_multi_cleanup(multi_);
    multi_ = nullptr;
    for (auto& [fd, watch] : watches_)
      watch->descriptor.release();
    watches_.clear();
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  const Strand& strand() const { return strand_; }

  template <typename Token>
  auto async_perform(HttpRequest request, Token&& token) {
    return asio::async_initiate<Token, void(Outcome)>(
        [](auto handler, std::shared_ptr<Impl> self, HttpRequest&& req) {
          auto transfer = std::make_unique<Transfer>(std::move(handler), self->strand_);
          transfer->request = std::move(req);
          transfer->max_bytes = self->options_.max_response_bytes;
          auto* impl = self.get();
          asio::post(impl->strand_, [self = std::move(self), t = std::move(transfer)]() mutable {
            self->start(std::move(t));
          });
        },
        token, shared_from_this(), std::move(request));
  }

  // Completes every request in flight with an error and closes all connections.
  void shutdown() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    auto in_flight = std::move(transfers_);
    transfers_.clear();
    for (auto& [easy, transfer] : in_flight) {
      curl_multi_remove_handle(multi_, easy);
      complete(
          std::move(transfer),
          Outcome{make_error(ErrorCode::provider_unavailable, "the HTTP client shut down"), false});
    }
    curl_multi_cleanup(multi_);  // closes cached connections through on_close
    multi_ = nullptr;
    for (auto& [fd, watch] : watches_)
      watch->descriptor.release();
    watches_.clear();
  }

  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> connections_opened{0};
  std::atomic<std::uint64_t> transport_failures{0};
  std::atomic<std::uint64_t> retries{0};

 private:
  struct Transfer {
    template <typename Handler>
    Transfer(Handler&& h, const Strand& fallback)
        : handler(std::forward<Handler>(h)),
          work(asio::prefer(asio::get_associated_executor(handler, fallback),
                            asio::execution::outstanding_work.tracked)) {}
    ~Transfer() {
      if (easy != nullptr) curl_easy_cleanup(easy);
      if (header_list != nullptr) curl_slist_free_all(header_list);
    }
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;

    // Constructed in place and only ever moved out by move construction (Boost 1.81's
    // any_completion_handler move assignment recurses).
    asio::any_completion_handler<void(Outcome)> handler;
    asio::any_completion_executor work;  // keeps the caller's context alive while we work
    HttpRequest request;                 // owns the URL and body curl points into
    CURL* easy = nullptr;
    curl_slist* header_list = nullptr;
    HttpResponse response;
    std::size_t max_bytes = 0;
    std::size_t header_bytes = 0;
    bool too_large = false;
    char error_buffer[CURL_ERROR_SIZE] = {};
  };

  // One socket curl asked us to watch. The descriptor only registers the fd with the reactor:
  // it is always release()d, never closed, because the fd belongs to curl (on_open/on_close).
  struct Watch {
    Watch(const Strand& strand, std::uint64_t watch_id) : descriptor(strand), id(watch_id) {}
    asio::posix::stream_descriptor descriptor;
    std::uint64_t id;  // tells a live watch from an earlier one on a reused fd number
    int wanted = 0;    // CURL_POLL_IN / OUT / INOUT
    bool reading = false;
    bool writing = false;
  };

  // ---- curl callbacks (all run inside curl calls made on strand_) ----

  static int on_socket(CURL* /*easy*/, curl_socket_t fd, int what, void* userp, void* /*socketp*/) {
    auto* self = static_cast<Impl*>(userp);
    if (what == CURL_POLL_REMOVE) {
      self->unwatch(fd);
      return 0;
    }
    return self->watch(fd, what) ? 0 : -1;
  }

  static int on_timer(CURLM* /*multi*/, long timeout_ms, void* userp) {
    static_cast<Impl*>(userp)->set_timer(timeout_ms);
    return 0;
  }

  static curl_socket_t on_open(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
    if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
    const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (fd < 0) return CURL_SOCKET_BAD;
    static_cast<Impl*>(clientp)->connections_opened++;
    return fd;
  }

  static int on_close(void* clientp, curl_socket_t fd) {
    // Stop watching before the number can be reused by another socket.
    static_cast<Impl*>(clientp)->unwatch(fd);
    return ::close(fd);
  }

  static std::size_t on_write(char* data, std::size_t size, std::size_t count, void* userp) {
    auto* t = static_cast<Transfer*>(userp);
    const std::size_t bytes = size * count;
    if (t->response.body.size() + bytes > t->max_bytes) {
      t->too_large = true;
      return 0;  // fails the transfer with CURLE_WRITE_ERROR
    }
    t->response.body.append(data, bytes);
    return bytes;
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* userp) {
    auto* t = static_cast<Transfer*>(userp);
    const std::size_t bytes = size * count;
    t->header_bytes += bytes;
    if (t->header_bytes > kMaxHeaderBytes) {
      t->too_large = true;
      return 0;
    }
    const std::string_view line(data, bytes);
    if (line.substr(0, 5) == "HTTP/") {
      t->response.headers.clear();  // a new status line (after 100 Continue) starts a new block
      return bytes;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return bytes;  // the blank line ending the block
    if (t->response.headers.size() < kMaxHeaderCount) {
      t->response.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                       std::string(trim(line.substr(colon + 1))));
    }
    return bytes;
  }

  // ---- socket and timer plumbing ----

  bool watch(curl_socket_t fd, int what) {
    auto it = watches_.find(fd);
    if (it == watches_.end()) {
      auto w = std::make_unique<Watch>(strand_, ++next_watch_id_);
      boost::system::error_code ec;
      w->descriptor.assign(fd, ec);
      if (ec) return false;
      it = watches_.emplace(fd, std::move(w)).first;
    }
    it->second->wanted = what;
    arm(fd, *it->second);
    return true;
  }

  void unwatch(curl_socket_t fd) {
    auto it = watches_.find(fd);
    if (it == watches_.end()) return;
    auto w = std::move(it->second);
    watches_.erase(it);
    // Deregisters from the reactor and aborts pending waits; the fd stays open for curl.
    w->descriptor.release();
  }

  // Asio's async_wait re-arms the (edge-triggered) registration each time, so readiness that
  // arrived before the wait is still reported.
  void arm(curl_socket_t fd, Watch& w) {
    auto self = weak_from_this().lock();
    if (!self) return;
    if ((w.wanted & CURL_POLL_IN) != 0 && !w.reading) {
      w.reading = true;
      w.descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                              [self, fd, id = w.id](const boost::system::error_code& ec) {
                                self->on_ready(fd, id, CURL_CSELECT_IN, ec);
                              });
    }
    if ((w.wanted & CURL_POLL_OUT) != 0 && !w.writing) {
      w.writing = true;
      w.descriptor.async_wait(asio::posix::stream_descriptor::wait_write,
                              [self, fd, id = w.id](const boost::system::error_code& ec) {
                                self->on_ready(fd, id, CURL_CSELECT_OUT, ec);
                              });
    }
  }

  void on_ready(curl_socket_t fd, std::uint64_t id, int direction,
                const boost::system::error_code& ec) {
    auto it = watches_.find(fd);
    if (it == watches_.end() || it->second->id != id) return;  // released meanwhile
    Watch& w = *it->second;
    const int poll_bit = direction == CURL_CSELECT_IN ? CURL_POLL_IN : CURL_POLL_OUT;
    (direction == CURL_CSELECT_IN ? w.reading : w.writing) = false;
    if (ec == asio::error::operation_aborted) return;
    if ((w.wanted & poll_bit) == 0) return;  // curl changed its mind since the wait began
    int running = 0;
    curl_multi_socket_action(multi_, fd, ec ? CURL_CSELECT_ERR : direction, &running);
    drain();
    it = watches_.find(fd);
    if (it != watches_.end() && it->second->id == id) arm(fd, *it->second);
  }

  void set_timer(long timeout_ms) {
    if (timeout_ms < 0) {
      timer_.cancel();
      return;
    }
    // Never call curl back from inside its callback: even a 0 ms timeout goes through Asio.
    timer_.expires_after(std::chrono::milliseconds(timeout_ms));
    auto self = weak_from_this().lock();
    if (!self) return;
    timer_.async_wait([self](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      self->on_timeout();
    });
  }

  void on_timeout() {
    if (multi_ == nullptr) return;
    int running = 0;
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    drain();
  }

  // ---- transfers ----

  void start(std::unique_ptr<Transfer> t) {
    requests++;
    if (closed_) {
      complete(
          std::move(t),
          Outcome{make_error(ErrorCode::provider_unavailable, "the HTTP client shut down"), false});
      return;
    }
    if (std::string problem = configure(*t); !problem.empty()) {
      complete(std::move(t), Outcome{make_error(ErrorCode::internal_error, problem), false});
      return;
    }
    CURL* easy = t->easy;
    transfers_.emplace(easy, std::move(t));
    if (curl_multi_add_handle(multi_, easy) != CURLM_OK) {
      auto node = transfers_.extract(easy);
      complete(
          std::move(node.mapped()),
          Outcome{make_error(ErrorCode::internal_error, "curl_multi_add_handle failed"), false});
    }
  }

  // Returns "" or what is wrong with the request.
  std::string configure(Transfer& t) {
    const HttpRequest& r = t.request;
    if (!is_token(r.method)) return "invalid HTTP method";
    for (const auto& [name, value] : r.headers) {
      if (!is_token(name) || !is_header_value(value)) return "invalid HTTP header";
    }
    t.easy = curl_easy_init();
    if (t.easy == nullptr) return "curl_easy_init failed";
    CURL* e = t.easy;
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error_buffer);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    if (curl_easy_setopt(e, CURLOPT_URL, r.url.c_str()) != CURLE_OK) return "invalid URL";
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    // libcurl silently sends a request again when a reused connection dies before any answer
    // ("Connection died, retrying a fresh connect"). For a request that must not happen twice,
    // a fresh connection leaves no such retry.
    if (!r.idempotent) curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(std::max<long long>(1, r.timeout.count())));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::max<long long>(1, r.connect_timeout.count())));
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(t.max_bytes));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Impl::on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &Impl::on_open);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, this);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &Impl::on_close);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, this);

    const bool has_body =
        !r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
    if (r.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (r.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
      if (has_body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      }
      if (r.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }

    bool has_expect = false;
    bool has_content_type = false;
    for (const auto& [name, value] : r.headers) {
      has_expect = has_expect || iequals(name, "Expect");
      has_content_type = has_content_type || iequals(name, "Content-Type");
      // "Name;" is curl's way to send a header with an empty value.
      const std::string line = value.empty() ? name + ";" : name + ": " + value;
      curl_slist* next = curl_slist_append(t.header_list, line.c_str());
      if (next == nullptr) return "out of memory building headers";
      t.header_list = next;
    }
    // No "Expect: 100-continue" round trip, and no form content type curl would invent.
    for (const char* suppress : {"Expect:", "Content-Type:"}) {
      const bool given = suppress[0] == 'E' ? has_expect : has_content_type;
      if (!has_body || given) continue;
      curl_slist* next = curl_slist_append(t.header_list, suppress);
      if (next == nullptr) return "out of memory building headers";
      t.header_list = next;
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.header_list);
    return {};
  }

  void drain() {
    CURLMsg* message = nullptr;
    int left = 0;
    while (multi_ != nullptr && (message = curl_multi_info_read(multi_, &left)) != nullptr) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* easy = message->easy_handle;
      const CURLcode code = message->data.result;
      finish(easy, code);  // invalidates message
    }
  }

  void finish(CURL* easy, CURLcode code) {
    auto node = transfers_.extract(easy);
    curl_multi_remove_handle(multi_, easy);
    if (node.empty()) return;
    std::unique_ptr<Transfer> t = std::move(node.mapped());
    Outcome outcome = outcome_of(*t, code);
    complete(std::move(t), std::move(outcome));
  }

  Outcome outcome_of(Transfer& t, CURLcode code) {
    if (code == CURLE_OK && !t.too_large) {
      long status = 0;
      curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
      t.response.status = static_cast<int>(status);
      return Outcome{std::move(t.response), false};
    }
    transport_failures++;
    if (t.too_large || code == CURLE_FILESIZE_EXCEEDED) {
      return Outcome{make_error(ErrorCode::provider_unavailable,
                                "HTTP response larger than " + std::to_string(t.max_bytes) +
                                    " bytes (body) or " + std::to_string(kMaxHeaderBytes) +
                                    " bytes (headers)"),
                     false};
    }
    std::string detail = std::string("HTTP transport failure: ") + curl_easy_strerror(code);
    if (t.error_buffer[0] != '\0') detail += std::string(" (") + t.error_buffer + ")";
    if (local_failure(code)) return Outcome{make_error(ErrorCode::internal_error, detail), false};
    return Outcome{make_error(ErrorCode::provider_unavailable, detail),
                   retryable_transport_failure(code)};
  }

  // Hands the outcome to the caller on its own executor, never inline on the strand: the post
  // leaves the strand (a fresh stack), the dispatch then honours the caller's executor.
  void complete(std::unique_ptr<Transfer> t, Outcome outcome) {
    auto handler = std::move(t->handler);
    auto work = std::move(t->work);
    t.reset();
    asio::post(strand_.get_inner_executor(),
               [h = std::move(handler), o = std::move(outcome), w = std::move(work)]() mutable {
                 auto executor = asio::get_associated_executor(h, w);
                 asio::dispatch(executor, [h2 = std::move(h), o2 = std::move(o)]() mutable {
                   std::move(h2)(std::move(o2));
                 });
               });
  }

  Strand strand_;
  asio::steady_timer timer_;
  HttpClientOptions options_;
  CURLM* multi_ = nullptr;
  bool closed_ = false;
  std::uint64_t next_watch_id_ = 0;
  std::unordered_map<curl_socket_t, std::unique_ptr<Watch>> watches_;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
};

// ---- HttpClient -----------------------------------------------------------------------------

// By value as the interface promises; an executor is a cheap handle.
HttpClient::HttpClient(
    asio::any_io_executor executor)  // NOLINT(performance-unnecessary-value-param)
    : impl_(std::make_shared<Impl>(executor, HttpClientOptions{})) {}

HttpClient::HttpClient(
    asio::any_io_executor executor,  // NOLINT(performance-unnecessary-value-param)
    HttpClientOptions options)
    : impl_(std::make_shared<Impl>(executor, options)) {}

HttpClient::~HttpClient() {
  asio::dispatch(impl_->strand(), [impl = impl_] { impl->shutdown(); });
}

asio::awaitable<Result<HttpResponse>> HttpClient::send(HttpRequest request) {
  auto impl = impl_;  // the client may go away while we wait
  Outcome outcome = co_await impl->async_perform(std::move(request), asio::use_awaitable);
  co_return std::move(outcome.result);
}

asio::awaitable<Result<HttpResponse>> HttpClient::send_with_retries(HttpRequest request,
                                                                    RetryPolicy policy) {
  auto impl = impl_;
  const int attempts = std::max(1, policy.max_attempts);
  for (int attempt = 1;; ++attempt) {
    HttpRequest copy = request;
    Outcome outcome = co_await impl->async_perform(std::move(copy), asio::use_awaitable);
    bool again = false;
    std::optional<std::chrono::milliseconds> hint;
    if (outcome.result.ok()) {
      const int status = outcome.result.value().status;
      again = status == 429 || (status >= 500 && status <= 599);
      if (again) hint = outcome.result.value().retry_after();
    } else {
      again = outcome.retryable;
      hint = outcome.result.error().retry_after;
    }
    if (!again || attempt >= attempts) co_return std::move(outcome.result);
    impl->retries++;
    const auto delay = backoff_delay(policy, attempt, hint);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(delay);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::move(outcome.result);  // cancelled: report what we have
  }
}

HttpClient::Stats HttpClient::stats() const {
  return Stats{impl_->requests.load(), impl_->connections_opened.load(),
               impl_->transport_failures.load(), impl_->retries.load()};
}

}  // namespace visitpay::adapters::http
