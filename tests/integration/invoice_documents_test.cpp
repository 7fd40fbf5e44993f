// Invoice documents: the libharu renderer's PDFs read back with poppler (pdftotext, pdfinfo), and
// the folder channel's atomic, idempotent delivery through a real io_context and thread pool.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "adapters/invoice/folder/folder_channel.hpp"
#include "adapters/pdf/libharu/invoice_pdf.hpp"
#include "config/config.hpp"
#include "domain/kid.hpp"

namespace visitpay::adapters {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using common::ErrorCode;
using common::Result;
using domain::InvoiceDocument;
using domain::InvoiceKind;
using pdf::LibharuInvoiceRenderer;

// ---- harness ---------------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "visitpay-invoice-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

bool have_tool(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

// stdout of `command`, or std::nullopt if it could not run or exited non-zero.
std::optional<std::string> run(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
    out.append(buf, n);
  if (::pclose(pipe) != 0) return std::nullopt;
  return out;
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size()))
    ++n;
  return n;
}

// Writes `bytes` as a PDF and reads it back with poppler.
class PdfReader {
 public:
  explicit PdfReader(const std::string& bytes) : path_(dir_.path() / "document.pdf") {
    write_file(path_, bytes);
  }
  // pdftotext -layout of all pages, or of page `page` only (1-based).
  std::string text(int page = 0) const {
    std::string command = "pdftotext -layout ";
    if (page > 0) command += "-f " + std::to_string(page) + " -l " + std::to_string(page) + " ";
    auto out = run(command + "'" + path_.string() + "' -");
    EXPECT_TRUE(out.has_value()) << "pdftotext failed";
    return out.value_or("");
  }
  int pages() const {
    auto out = run("pdfinfo '" + path_.string() + "'");
    EXPECT_TRUE(out.has_value()) << "pdfinfo failed";
    std::istringstream lines(out.value_or(""));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("Pages:", 0) == 0) return std::stoi(line.substr(6));
    }
    return 0;
  }

 private:
  TempDir dir_;
  fs::path path_;
};

#define SKIP_WITHOUT_POPPLER()                          \
  if (!have_tool("pdftotext") || !have_tool("pdfinfo")) \
  GTEST_SKIP() << "poppler-utils (pdftotext, pdfinfo) is not installed"

std::chrono::year_month_day date(int y, unsigned m, unsigned d) {
  return std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m},
                                     std::chrono::day{d}};
}

InvoiceDocument sample_invoice() {
  InvoiceDocument d;
  d.kind = InvoiceKind::invoice;
  d.number = 1042;
  d.kid = domain::kid_for_invoice(1042, 7, domain::KidAlgorithm::mod10, false).value();
  d.issue_date = date(2026, 11, 24);
  d.due_date = date(2026, 12, 8);
  d.delivery_date = date(2026, 11, 22);
  d.delivery_place = "Helse Øst Klinikk Oslo sentrum";
  d.seller_name = "Helse Øst Klinikk AS";
  d.seller_org_number = "923609016";
  d.seller_foretaksregisteret = true;
  d.seller_vat_registered = false;
  d.seller_bank_account = "12345678903";
  d.seller_street = "Tøyengata 14";
  d.seller_postal_code = "0578";
  d.seller_city = "Oslo";
  d.buyer_name = "Åse Ærlig Østby";
  d.buyer_street = "Storgata 1";
  d.buyer_postal_code = "0155";
  d.buyer_city = "Oslo";
  d.buyer_country = "NO";
  d.lines = {{"Konsultasjon", 95000}, {"Fakturagebyr", 3900}};
  d.total = 98900;
  return d;
}

InvoiceDocument sample_credit_note() {
  InvoiceDocument d = sample_invoice();
  d.kind = InvoiceKind::credit_note;
  d.number = 1043;
  d.credits_number = 1042;
  d.kid.clear();
  d.due_date = {};
  d.lines = {{"Konsultasjon spesialist", -123450}};
  d.total = -123450;
  return d;
}

std::string render(const InvoiceDocument& document) {
  const LibharuInvoiceRenderer renderer;
  auto bytes = renderer.render(document);
  EXPECT_TRUE(bytes.ok()) << (bytes.ok() ? "" : bytes.error().detail);
  return bytes.ok() ? bytes.value() : std::string();
}

// ---- text helpers ----------------------------------------------------------------------------

TEST(InvoicePdfText, ConvertsUtf8ToWindows1252) {
  using pdf::to_cp1252;
  EXPECT_EQ(to_cp1252("æøå ÆØÅ"), "\xE6\xF8\xE5 \xC6\xD8\xC5");
  EXPECT_EQ(to_cp1252("§ 3-2 – € …"), "\xA7 3-2 \x96 \x80 \x85");
  EXPECT_EQ(to_cp1252("Storgata 1"), "Storgata 1");
  EXPECT_EQ(to_cp1252("日本"), "??");  // outside CP1252
  EXPECT_EQ(to_cp1252("a\xF0\x9F\x98\x80"
                      "b"),
            "a?b");                                          // outside the BMP
  EXPECT_EQ(to_cp1252("a\xC3"), "a?");                       // truncated
  EXPECT_EQ(to_cp1252("\xC3(x"), "?(x");                     // bad continuation
  EXPECT_EQ(to_cp1252("\xC0\xAF"), "?");                     // overlong '/'
  EXPECT_EQ(to_cp1252("\xED\xA0\x80"), "?");                 // surrogate
  EXPECT_EQ(to_cp1252("\x80\xFF"), "??");                    // stray bytes
  EXPECT_EQ(to_cp1252(std::string("a\0b\x01", 4)), "a?b?");  // no NUL reaches libharu
  EXPECT_EQ(to_cp1252("a\tb\nc"), "a b c");
  EXPECT_EQ(to_cp1252("1\xE2\x80\x89"
                      "234"),
            "1 234");  // thin space
  EXPECT_EQ(to_cp1252("\xE2\x88\x92"
                      "5"),
            "-5");  // minus sign
}

TEST(InvoicePdfText, FormatsAmountsAndNumbers) {
  EXPECT_EQ(pdf::format_amount(0), "0,00");
  EXPECT_EQ(pdf::format_amount(3900), "39,00");
  EXPECT_EQ(pdf::format_amount(123450), "1 234,50");
  EXPECT_EQ(pdf::format_amount(-123450), "-1 234,50");
  EXPECT_EQ(pdf::format_amount(100'000'000), "1 000 000,00");
  EXPECT_EQ(pdf::format_amount(-5), "-0,05");
  EXPECT_EQ(pdf::format_amount(std::numeric_limits<domain::Ore>::min()),
            "-92 233 720 368 547 758,08");
  EXPECT_EQ(pdf::format_org_number("923609016"), "923 609 016");
  EXPECT_EQ(pdf::format_org_number("12345"), "12345");
  EXPECT_EQ(pdf::format_bank_account("12345678903"), "1234.56.78903");
  EXPECT_EQ(pdf::format_bank_account("1234.56.78903"), "1234.56.78903");
}

// ---- renderer --------------------------------------------------------------------------------

TEST(InvoicePdf, TheSampleDataIsValid) {
  EXPECT_TRUE(config::valid_org_number("923609016"));
  EXPECT_TRUE(config::valid_bank_account("12345678903"));
  EXPECT_TRUE(domain::kid_checksum_ok(sample_invoice().kid, domain::KidAlgorithm::mod10));
}

TEST(InvoicePdf, PrintsEverythingTheInvoiceMustShow) {
  SKIP_WITHOUT_POPPLER();
  const InvoiceDocument d = sample_invoice();
  const std::string bytes = render(d);
  ASSERT_EQ(bytes.rfind("%PDF-", 0), 0U);
  const PdfReader reader(bytes);
  EXPECT_EQ(reader.pages(), 1);
  const std::string text = reader.text();

  EXPECT_NE(text.find("Faktura"), std::string::npos) << text;
  EXPECT_EQ(text.find("Kreditnota"), std::string::npos);
  EXPECT_EQ(text.find("UTKAST"), std::string::npos);
  // Seller.
  EXPECT_NE(text.find("Helse Øst Klinikk AS"), std::string::npos) << text;
  EXPECT_NE(text.find("Org.nr. 923 609 016"), std::string::npos) << text;
  EXPECT_EQ(text.find("923 609 016 MVA"), std::string::npos) << "not VAT registered";
  EXPECT_NE(text.find("Foretaksregisteret"), std::string::npos);
  EXPECT_NE(text.find("Tøyengata 14"), std::string::npos) << text;  // the business address
  EXPECT_NE(text.find("0578 Oslo"), std::string::npos) << text;
  // Buyer, with æøå extractable.
  EXPECT_NE(text.find("Åse Ærlig Østby"), std::string::npos) << text;
  EXPECT_NE(text.find("Storgata 1"), std::string::npos);
  EXPECT_NE(text.find("0155 Oslo"), std::string::npos);
  EXPECT_EQ(text.find("NORGE"), std::string::npos);
  // Facts.
  EXPECT_NE(text.find("Fakturanummer"), std::string::npos);
  EXPECT_NE(text.find("1042"), std::string::npos);
  EXPECT_NE(text.find("24.11.2026"), std::string::npos) << "issue date";
  EXPECT_NE(text.find("08.12.2026"), std::string::npos) << "due date";
  EXPECT_NE(text.find("22.11.2026"), std::string::npos) << "delivery date";
  EXPECT_NE(text.find("Helse Øst Klinikk Oslo sentrum"), std::string::npos) << "delivery place";
  EXPECT_EQ(count(text, d.kid), 2U) << "KID in the facts and in the payment block\n" << text;
  EXPECT_EQ(count(text, "1234.56.78903"), 2U) << text;
  // Lines and totals, no VAT.
  EXPECT_NE(text.find("Konsultasjon"), std::string::npos);
  EXPECT_NE(text.find("950,00"), std::string::npos);
  EXPECT_NE(text.find("Fakturagebyr"), std::string::npos);
  EXPECT_NE(text.find("39,00"), std::string::npos);
  EXPECT_NE(text.find("Sum å betale"), std::string::npos) << text;
  EXPECT_EQ(count(text, "989,00 kr"), 2U) << "total and payment block\n" << text;
  EXPECT_NE(text.find("Helsetjenester er unntatt mva. (mval. § 3-2)"), std::string::npos) << text;
  EXPECT_EQ(text.find("MVA "), std::string::npos);
  // Payment block.
  EXPECT_NE(text.find("Betales til konto"), std::string::npos);
  EXPECT_NE(text.find("Forfall"), std::string::npos);
  EXPECT_NE(text.find("Side 1 av 1"), std::string::npos);
}

TEST(InvoicePdf, PrintsMvaWhenVatRegisteredAndTheCountryAbroad) {
  SKIP_WITHOUT_POPPLER();
  InvoiceDocument d = sample_invoice();
  d.seller_vat_registered = true;
  d.seller_foretaksregisteret = false;
  d.buyer_postal_code = "SE-411 01";
  d.buyer_city = "Göteborg";
  d.buyer_country = "SE";
  const std::string text = PdfReader(render(d)).text();
  EXPECT_NE(text.find("Org.nr. 923 609 016 MVA"), std::string::npos) << text;
  EXPECT_EQ(text.find("Foretaksregisteret"), std::string::npos);
  EXPECT_NE(text.find("SE-411 01 Göteborg"), std::string::npos) << text;
  EXPECT_NE(text.find("SVERIGE"), std::string::npos) << text;
}

TEST(InvoicePdf, VatIsShownPerLineAndSummedWhenALineCarriesIt) {
  SKIP_WITHOUT_POPPLER();
  InvoiceDocument d = sample_invoice();
  EXPECT_NE(PdfReader(render(d)).text().find("Helsetjenester er unntatt mva."), std::string::npos);
  EXPECT_EQ(PdfReader(render(d)).text().find("Herav mva."), std::string::npos);

  // A taxable certificate beside the exempt consultation; the fee follows the main supply.
  d.lines = {{"Konsultasjon", 95000, 0},
             {"Attest til forsikringsselskap", 50000, 10000},
             {"Fakturagebyr", 3900, 0}};
  d.total = 148900;
  const std::string text = PdfReader(render(d)).text();
  EXPECT_NE(text.find("Herav mva. (kr)"), std::string::npos) << text;
  EXPECT_NE(text.find("100,00"), std::string::npos) << text;
  EXPECT_NE(text.find("Herav mva. 100,00 kr; linjer uten mva. er unntatt"), std::string::npos)
      << text;

  d.lines[1].vat = 50001;  // more VAT than the line's amount
  EXPECT_FALSE(LibharuInvoiceRenderer().render(d).ok());
}

TEST(InvoicePdf, IsDeterministic) {
  const InvoiceDocument d = sample_invoice();
  const std::string first = render(d);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(render(d), first);
  InvoiceDocument other = d;
  other.number = 1043;
  EXPECT_NE(render(other), first);
}

TEST(InvoicePdf, CreditNote) {
  SKIP_WITHOUT_POPPLER();
  const std::string text = PdfReader(render(sample_credit_note())).text();
  EXPECT_NE(text.find("Kreditnota"), std::string::npos) << text;
  EXPECT_NE(text.find("Krediterer faktura nr. 1042"), std::string::npos) << text;
  EXPECT_NE(text.find("1043"), std::string::npos);
  EXPECT_NE(text.find("-1 234,50"), std::string::npos) << text;
  EXPECT_NE(text.find("Sum kreditert"), std::string::npos);
  EXPECT_NE(text.find("unntatt mva"), std::string::npos);
  EXPECT_EQ(text.find("Sum å betale"), std::string::npos);
  EXPECT_EQ(text.find("Betales til konto"), std::string::npos) << "a credit note is not paid";
  EXPECT_EQ(text.find("Forfallsdato"), std::string::npos);
}

TEST(InvoicePdf, DraftIsMarked) {
  SKIP_WITHOUT_POPPLER();
  InvoiceDocument d = sample_invoice();
  d.draft = true;
  const std::string text = PdfReader(render(d)).text();
  EXPECT_NE(text.find("UTKAST – ikke sendt"), std::string::npos) << text;
  EXPECT_NE(text.find("Faktura nr. 1042 – UTKAST"), std::string::npos) << "footer\n" << text;
}

TEST(InvoicePdf, ManyLinesContinueOnMorePagesWithTheTotalsOnTheLast) {
  SKIP_WITHOUT_POPPLER();
  InvoiceDocument d = sample_invoice();
  d.lines.clear();
  d.total = 0;
  for (int i = 1; i <= 60; ++i) {
    const std::string n = (i < 10 ? "0" : "") + std::to_string(i);
    std::string description = "Behandling nr. " + n;
    if (i % 7 == 0) {
      description +=
          " med en lang beskrivelse som må brytes over flere linjer i tabellen slik at "
          "pagineringen også håndterer rader med mer enn én linje";
    }
    d.lines.push_back({description, 12345 + i});
    d.total += 12345 + i;
  }
  const PdfReader reader(render(d));
  const int pages = reader.pages();
  ASSERT_GT(pages, 1);
  const std::string text = reader.text();
  for (int i = 1; i <= 60; ++i) {
    const std::string n = (i < 10 ? "0" : "") + std::to_string(i);
    EXPECT_NE(text.find("Behandling nr. " + n), std::string::npos) << "line " << i;
  }
  EXPECT_EQ(count(text, "Sum å betale"), 1U);
  EXPECT_EQ(count(text, "Betales til konto"), 1U);
  EXPECT_EQ(count(text, "Åse Ærlig Østby"), 1U) << "the address only on the first page";
  EXPECT_EQ(count(text, "Beskrivelse"), static_cast<std::size_t>(pages));
  const std::string last = reader.text(pages);
  EXPECT_NE(last.find("Sum å betale"), std::string::npos) << last;
  EXPECT_NE(last.find("Betales til konto"), std::string::npos);
  EXPECT_NE(last.find(pdf::format_amount(d.total) + " kr"), std::string::npos) << last;
  EXPECT_NE(last.find("Side " + std::to_string(pages) + " av " + std::to_string(pages)),
            std::string::npos);
  const std::string first = reader.text(1);
  EXPECT_NE(first.find("Behandling nr. 01"), std::string::npos);
  EXPECT_EQ(first.find("Sum å betale"), std::string::npos);
  EXPECT_NE(first.find("Side 1 av " + std::to_string(pages)), std::string::npos);
  EXPECT_NE(reader.text(2).find("Faktura nr. 1042 (forts.)"), std::string::npos);
}

TEST(InvoicePdf, OverlongDescriptionsAreBrokenAndCut) {
  SKIP_WITHOUT_POPPLER();
  InvoiceDocument d = sample_invoice();
  std::string words;
  for (int i = 0; i < 200; ++i)
    words += "behandling ";
  d.lines = {{std::string(150, 'X'), 100}, {words + "SLUTT", 200}};
  d.total = 300;
  const PdfReader reader(render(d));
  EXPECT_EQ(reader.pages(), 1);
  const std::string text = reader.text();
  EXPECT_EQ(count(text, "X"), 150U) << "a word wider than the column is broken, not lost\n" << text;
  EXPECT_NE(text.find("behandling…"), std::string::npos) << "cut with an ellipsis\n" << text;
  EXPECT_EQ(text.find("SLUTT"), std::string::npos);
  EXPECT_NE(text.find("3,00 kr"), std::string::npos);
}

TEST(InvoicePdf, RejectsAnInconsistentDocumentWithoutPersonalData) {
  const LibharuInvoiceRenderer renderer;
  InvoiceDocument d = sample_invoice();
  d.total += 1;
  auto bytes = renderer.render(d);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.error().code, ErrorCode::internal_error);
  EXPECT_EQ(bytes.error().detail.rfind("pdf: ", 0), 0U) << bytes.error().detail;
  EXPECT_EQ(bytes.error().detail.find("Østby"), std::string::npos);

  d = sample_invoice();
  d.due_date = {};
  bytes = renderer.render(d);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.error().code, ErrorCode::internal_error);

  d = sample_credit_note();
  d.credits_number.reset();
  EXPECT_FALSE(renderer.render(d).ok());
}

TEST(InvoicePdf, CharactersOutsideWindows1252PrintAsQuestionMarks) {
  SKIP_WITHOUT_POPPLER();
  InvoiceDocument d = sample_invoice();
  d.buyer_name = "Åse 日本 Østby";
  const std::string text = PdfReader(render(d)).text();
  EXPECT_NE(text.find("Åse ?? Østby"), std::string::npos) << text;
}

// ---- folder channel --------------------------------------------------------------------------

asio::awaitable<Result<ports::InvoiceDelivered>> deliver_on_io(
    asio::io_context& ioc, ports::InvoiceChannel& channel, const ports::InvoiceDelivery& delivery,
    bool* resumed_on_io) {
  auto result = co_await channel.deliver(delivery);
  if (resumed_on_io != nullptr) *resumed_on_io = ioc.get_executor().running_in_this_thread();
  co_return result;
}

// The service's shape: an io_context for I/O and a separate pool for blocking work.
class ChannelHarness {
 public:
  ChannelHarness() : work_(asio::make_work_guard(ioc_)), io_thread_([this] { ioc_.run(); }) {}
  ~ChannelHarness() {
    work_.reset();
    ioc_.stop();
    io_thread_.join();
    pool_.join();
  }
  ChannelHarness(const ChannelHarness&) = delete;
  ChannelHarness& operator=(const ChannelHarness&) = delete;

  asio::any_io_executor blocking_executor() { return pool_.get_executor(); }

  // Runs channel.deliver on the io_context; also reports whether it resumed there.
  Result<ports::InvoiceDelivered> deliver(ports::InvoiceChannel& channel,
                                          const ports::InvoiceDelivery& delivery,
                                          bool* resumed_on_io = nullptr) {
    auto promise = std::make_shared<std::promise<Result<ports::InvoiceDelivered>>>();
    auto future = promise->get_future();
    asio::co_spawn(ioc_, deliver_on_io(ioc_, channel, delivery, resumed_on_io),
                   [promise](const std::exception_ptr& e, Result<ports::InvoiceDelivered> result) {
                     if (e)
                       promise->set_exception(e);
                     else
                       promise->set_value(std::move(result));
                   });
    if (future.wait_for(15s) != std::future_status::ready) {
      ADD_FAILURE() << "deliver did not complete";
      std::abort();  // a hang would otherwise block the whole binary
    }
    return future.get();
  }

 private:
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::thread_pool pool_{2};
  std::thread io_thread_;
};

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  return names;
}

struct stat stat_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st;
}

TEST(FolderInvoiceChannel, WritesOnceAndRedeliveryIsIdempotent) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "print" / "outbox";  // created by the channel
  ChannelHarness harness;
  invoice::FolderInvoiceChannel channel(harness.blocking_executor(), dir);
  const InvoiceDocument d = sample_invoice();
  const std::string bytes = render(d);
  ASSERT_FALSE(bytes.empty());
  const ports::InvoiceDelivery delivery{d, bytes, "923609016-invoice-1042", std::nullopt};
  const fs::path file = dir / "923609016-invoice-1042.pdf";

  bool resumed_on_io = false;
  auto first = harness.deliver(channel, delivery, &resumed_on_io);
  ASSERT_TRUE(first.ok()) << first.error().detail;
  EXPECT_EQ(first->reference, "923609016-invoice-1042.pdf");
  EXPECT_TRUE(resumed_on_io) << "deliver must complete on the caller's executor";
  EXPECT_EQ(entries(dir), std::vector<std::string>{"923609016-invoice-1042.pdf"});
  EXPECT_EQ(read_file(file), bytes);
  EXPECT_EQ(stat_of(file).st_mode & 07777, 0600U);
  EXPECT_EQ(stat_of(dir).st_mode & 07777, 0700U);
  const struct stat before = stat_of(file);

  auto second = harness.deliver(channel, delivery);
  ASSERT_TRUE(second.ok()) << second.error().detail;
  EXPECT_EQ(second->reference, first->reference);
  EXPECT_EQ(entries(dir), std::vector<std::string>{"923609016-invoice-1042.pdf"});
  EXPECT_EQ(read_file(file), bytes);
  const struct stat after = stat_of(file);
  EXPECT_EQ(after.st_ino, before.st_ino) << "identical content is not rewritten";
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);

  // Other bytes under the same name replace the file atomically: still one file, 0600.
  InvoiceDocument corrected = d;
  corrected.delivery_place = "Helse Øst Klinikk Bergen";
  const std::string corrected_bytes = render(corrected);
  const ports::InvoiceDelivery again{corrected, corrected_bytes, "923609016-invoice-1042",
                                     std::nullopt};
  auto third = harness.deliver(channel, again);
  ASSERT_TRUE(third.ok()) << third.error().detail;
  EXPECT_EQ(entries(dir), std::vector<std::string>{"923609016-invoice-1042.pdf"});
  EXPECT_EQ(read_file(file), corrected_bytes);
  EXPECT_EQ(stat_of(file).st_mode & 07777, 0600U);
}

TEST(FolderInvoiceChannel, KeepsTheModeOfAnExistingDirectoryButNotOfAStaleFile) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "outbox";
  ASSERT_EQ(::mkdir(dir.c_str(), 0750), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0750), 0);
  write_file(dir / "923609016-invoice-7.pdf", "%PDF-stale");
  ASSERT_EQ(::chmod((dir / "923609016-invoice-7.pdf").c_str(), 0644), 0);

  ChannelHarness harness;
  invoice::FolderInvoiceChannel channel(harness.blocking_executor(), dir);
  const InvoiceDocument d = sample_invoice();
  const std::string bytes = "%PDF-1.3 test";
  auto result = harness.deliver(channel, {d, bytes, "923609016-invoice-7", std::nullopt});
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_EQ(stat_of(dir).st_mode & 07777, 0750U);
  EXPECT_EQ(stat_of(dir / "923609016-invoice-7.pdf").st_mode & 07777, 0600U);
  EXPECT_EQ(read_file(dir / "923609016-invoice-7.pdf"), bytes);
  EXPECT_EQ(entries(dir).size(), 1U) << "no temporary file left behind";
}

TEST(FolderInvoiceChannel, AnUncreatableDirectoryIsProviderUnavailable) {
  TempDir tmp;
  write_file(tmp.path() / "not-a-directory", "x");
  ChannelHarness harness;
  invoice::FolderInvoiceChannel channel(harness.blocking_executor(),
                                        tmp.path() / "not-a-directory" / "outbox");
  const InvoiceDocument d = sample_invoice();
  const std::string bytes = "%PDF-1.3 test";
  auto result = harness.deliver(channel, {d, bytes, "923609016-invoice-1042", std::nullopt});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::provider_unavailable);
  EXPECT_NE(result.error().detail.find("923609016-invoice-1042.pdf"), std::string::npos)
      << result.error().detail;
  EXPECT_NE(result.error().detail.find("Not a directory"), std::string::npos)
      << result.error().detail;
  EXPECT_EQ(result.error().detail.find("Østby"), std::string::npos);
}

TEST(FolderInvoiceChannel, RejectsUnsafeNamesAndEmptyDocuments) {
  TempDir tmp;
  ChannelHarness harness;
  invoice::FolderInvoiceChannel channel(harness.blocking_executor(), tmp.path());
  const InvoiceDocument d = sample_invoice();
  const std::string bytes = "%PDF-1.3 test";
  for (const std::string name : {"", "../escape", ".hidden", "a/b", "Åse Østby"}) {
    auto result = harness.deliver(channel, {d, bytes, name, std::nullopt});
    ASSERT_FALSE(result.ok()) << name;
    EXPECT_EQ(result.error().code, ErrorCode::provider_rejected) << name;
  }
  const std::string empty;
  auto result = harness.deliver(channel, {d, empty, "923609016-invoice-1042", std::nullopt});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::provider_rejected);
  EXPECT_TRUE(entries(tmp.path()).empty());
}

}  // namespace
}  // namespace visitpay::adapters
