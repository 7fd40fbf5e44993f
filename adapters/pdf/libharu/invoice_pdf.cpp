#include "adapters/pdf/libharu/invoice_pdf.hpp"

#include <hpdf.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace visitpay::adapters::pdf {

using common::ErrorCode;
using common::make_error;
using common::Result;
using domain::InvoiceDocument;
using domain::InvoiceKind;
using domain::Letter;
using domain::LetterKind;
using domain::Ore;

namespace {

// ---- limits ------------------------------------------------------------------------------------

// Far above any visit (check-outs allow 50 lines of at most NOK 1 000 000), low enough that the
// page count and the sum stay bounded.
constexpr std::size_t kMaxLines = 1000;
constexpr Ore kMaxLineAmount = 1'000'000'000'000;  // NOK 10 000 000 000

// ---- page geometry (millimetres from the top-left corner of an A4 page) ------------------------

constexpr float kPtPerMm = 72.0F / 25.4F;
constexpr float kPageHeight = 297.0F;
constexpr float kLeft = 20.0F;
constexpr float kRight = 190.0F;

// The address shows through the window of a C5/C65 envelope with the window on the left
// (about 20 mm from the left edge, 45 mm from the top, 90 x 45 mm).
constexpr float kAddressX = 22.0F;
constexpr float kAddressTop = 49.0F;  // first baseline
constexpr float kAddressWidth = 85.0F;

constexpr float kMetaLabelX = 106.0F;
constexpr float kMetaValueX = 135.0F;

constexpr float kRow = 5.0F;  // line pitch of 9-10 pt text
constexpr float kAmountColumnWidth = 35.0F;
constexpr std::size_t kMaxRowsPerLine = 6;

constexpr float kContinuationTableTop = 40.0F;
constexpr float kHeaderToFirstRow = 7.5F;
constexpr float kContentBottom = 276.0F;  // last baseline above the footer
constexpr float kFooterY = 287.0F;
constexpr float kPaymentTop = 236.0F;  // the payment block, on the last page of an invoice
constexpr float kTotalsDepth = 10.0F;  // from the first baseline after the lines to the last one

// ---- libharu plumbing --------------------------------------------------------------------------

struct HpdfErrors {
  HPDF_STATUS error = HPDF_OK;
  HPDF_STATUS detail = HPDF_OK;
  bool failed() const { return error != HPDF_OK; }
};

// libharu reports every failure here and then refuses further work on the document, so keeping
// the first error is enough; returning (rather than longjmp) lets destructors run.
void on_hpdf_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void* user_data) noexcept {
  auto* errors = static_cast<HpdfErrors*>(user_data);
  if (!errors->failed()) {
    errors->error = error_no;
    errors->detail = detail_no;
  }
}

struct HpdfDocFree {
  void operator()(HPDF_Doc doc) const { HPDF_Free(doc); }
};
using HpdfDocPtr = std::unique_ptr<std::remove_pointer_t<HPDF_Doc>, HpdfDocFree>;

std::string hex(unsigned long value) {
  std::array<char, 20> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value, 16);
  return ec == std::errc{} ? std::string(buf.data(), end) : std::string("?");
}

common::Error hpdf_error(const HpdfErrors& errors, std::string_view step) {
  return make_error(ErrorCode::internal_error, "pdf: libharu error 0x" + hex(errors.error) +
                                                   " (detail " + std::to_string(errors.detail) +
                                                   ") while " + std::string(step));
}

// ---- text helpers ------------------------------------------------------------------------------

char cp1252_of(char32_t cp) {
  if (cp == U'\t' || cp == U'\n' || cp == U'\r') return ' ';
  if (cp < 0x20 || cp == 0x7F) return '?';
  if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) return static_cast<char>(cp);
  // 0x80-0x9F of Windows-1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D are unassigned).
  static constexpr std::array<std::pair<char32_t, unsigned char>, 27> kHigh{{
      {0x20AC, 0x80}, {0x201A, 0x82}, {0x0192, 0x83}, {0x201E, 0x84}, {0x2026, 0x85},
      {0x2020, 0x86}, {0x2021, 0x87}, {0x02C6, 0x88}, {0x2030, 0x89}, {0x0160, 0x8A},
      {0x2039, 0x8B}, {0x0152, 0x8C}, {0x017D, 0x8E}, {0x2018, 0x91}, {0x2019, 0x92},
      {0x201C, 0x93}, {0x201D, 0x94}, {0x2022, 0x95}, {0x2013, 0x96}, {0x2014, 0x97},
      {0x02DC, 0x98}, {0x2122, 0x99}, {0x0161, 0x9A}, {0x203A, 0x9B}, {0x0153, 0x9C},
      {0x017E, 0x9E}, {0x0178, 0x9F},
  }};
  for (const auto& [code_point, byte] : kHigh) {
    if (code_point == cp) return static_cast<char>(byte);
  }
  if ((cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F) return ' ';
  if (cp == 0x2212) return '-';
  return '?';
}

std::string two_digits(unsigned value) {
  return std::string{static_cast<char>('0' + value / 10 % 10), static_cast<char>('0' + value % 10)};
}

// "24.11.2026" (the document's dates are already Oslo calendar dates).
std::string format_date(std::chrono::year_month_day date) {
  std::string year = std::to_string(static_cast<int>(date.year()));
  while (year.size() < 4)
    year.insert(year.begin(), '0');
  return two_digits(static_cast<unsigned>(date.day())) + "." +
         two_digits(static_cast<unsigned>(date.month())) + "." + year;
}

// "0150 Oslo": an address's postal code and city, either of them possibly missing.
std::string postal_line(const std::string& code, const std::string& city) {
  return code.empty() || city.empty() ? code + city : code + " " + city;
}

std::string with_kr(Ore amount) {
  return format_amount(amount) + " kr";
}

// A drawing surface in millimetres from the top-left corner; all text is already CP1252.
class Canvas {
 public:
  enum class Weight { regular, bold };

  Canvas(HPDF_Doc doc, HPDF_Font regular, HPDF_Font bold)
      : doc_(doc), regular_(regular), bold_(bold) {}

  bool add_page() {
    HPDF_Page page = HPDF_AddPage(doc_);
    if (page == nullptr) return false;
    HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    pages_.push_back(page);
    return true;
  }
  const std::vector<HPDF_Page>& pages() const { return pages_; }
  void use_page(HPDF_Page page) { page_ = page; }
  void use_last_page() { page_ = pages_.empty() ? nullptr : pages_.back(); }

  float width(const std::string& text, Weight weight, float size) const {
    const HPDF_TextWidth tw =
        HPDF_Font_TextWidth(font(weight), reinterpret_cast<const HPDF_BYTE*>(text.data()),
                            static_cast<HPDF_UINT>(text.size()));
    return static_cast<float>(tw.width) * size / 1000.0F / kPtPerMm;
  }

  void text(float x, float y, const std::string& text, Weight weight, float size) {
    if (text.empty()) return;
    HPDF_Page_BeginText(page_);
    HPDF_Page_SetFontAndSize(page_, font(weight), size);
    HPDF_Page_TextOut(page_, x * kPtPerMm, (kPageHeight - y) * kPtPerMm, text.c_str());
    HPDF_Page_EndText(page_);
  }
  void text_right(float right, float y, const std::string& text, Weight weight, float size) {
    this->text(right - width(text, weight, size), y, text, weight, size);
  }

  void rule(float x1, float x2, float y, float thickness_pt) {
    HPDF_Page_SetLineWidth(page_, thickness_pt);
    HPDF_Page_MoveTo(page_, x1 * kPtPerMm, (kPageHeight - y) * kPtPerMm);
    HPDF_Page_LineTo(page_, x2 * kPtPerMm, (kPageHeight - y) * kPtPerMm);
    HPDF_Page_Stroke(page_);
  }
  void frame(float x, float top, float w, float h, float thickness_pt) {
    HPDF_Page_SetLineWidth(page_, thickness_pt);
    HPDF_Page_Rectangle(page_, x * kPtPerMm, (kPageHeight - top - h) * kPtPerMm, w * kPtPerMm,
                        h * kPtPerMm);
    HPDF_Page_Stroke(page_);
  }
  void colour(float r, float g, float b) {
    HPDF_Page_SetRGBFill(page_, r, g, b);
    HPDF_Page_SetRGBStroke(page_, r, g, b);
  }

  // Greedy word wrap into lines of at most `max_width` mm; a word wider than that is broken.
  // More than `max_lines` lines: the last kept line ends in an ellipsis. Never empty.
  std::vector<std::string> wrap(const std::string& text, Weight weight, float size, float max_width,
                                std::size_t max_lines) const {
    std::vector<std::string> lines;
    std::string current;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t space = text.find(' ', pos);
      const std::size_t end = space == std::string::npos ? text.size() : space;
      std::string word = text.substr(pos, end - pos);
      pos = end + 1;
      if (word.empty()) continue;
      std::string candidate = current.empty() ? word : current + ' ' + word;
      if (width(candidate, weight, size) <= max_width) {
        current = std::move(candidate);
        continue;
      }
      if (!current.empty()) lines.push_back(std::move(current));
      current = std::move(word);
      while (current.size() > 1 && width(current, weight, size) > max_width) {
        std::size_t fit = 1;
        while (fit + 1 < current.size() &&
               width(current.substr(0, fit + 1), weight, size) <= max_width)
          ++fit;
        lines.push_back(current.substr(0, fit));
        current.erase(0, fit);
      }
    }
    if (!current.empty() || lines.empty()) lines.push_back(std::move(current));
    if (lines.size() > max_lines) {
      lines.resize(max_lines);
      std::string& last = lines.back();
      constexpr char kEllipsis = '\x85';  // CP1252 HORIZONTAL ELLIPSIS
      while (!last.empty() && width(last + kEllipsis, weight, size) > max_width)
        last.pop_back();
      last += kEllipsis;
    }
    return lines;
  }

 private:
  HPDF_Font font(Weight weight) const { return weight == Weight::bold ? bold_ : regular_; }

  HPDF_Doc doc_;
  HPDF_Font regular_;
  HPDF_Font bold_;
  std::vector<HPDF_Page> pages_;
  HPDF_Page page_ = nullptr;
};

using Weight = Canvas::Weight;

// ---- the document ------------------------------------------------------------------------------

std::optional<std::string> problem_in(const InvoiceDocument& d) {
  if (!d.issue_date.ok()) return "invalid issue date";
  if (!d.delivery_date.ok()) return "invalid delivery date";
  if (d.kind == InvoiceKind::invoice && !d.due_date.ok()) return "invalid due date";
  if (d.kind == InvoiceKind::credit_note && !d.credits_number)
    return "a credit note must name the invoice it credits";
  if (d.lines.size() > kMaxLines) return "too many lines";
  Ore sum = 0;
  for (const auto& line : d.lines) {
    if (line.amount > kMaxLineAmount || line.amount < -kMaxLineAmount)
      return "a line amount is out of range";
    const bool vat_within = line.amount >= 0 ? line.vat >= 0 && line.vat <= line.amount
                                             : line.vat <= 0 && line.vat >= line.amount;
    if (!vat_within) return "a line's VAT is not a part of its amount";
    sum += line.amount;
  }
  if (sum != d.total) return "the total is not the sum of the lines";
  return std::nullopt;
}

// Lays the document out: seller, title, address and facts on the first page; the lines across as
// many pages as needed; totals and (on an invoice) the payment block on the last; a footer on all.
class InvoiceLayout {
 public:
  InvoiceLayout(Canvas& canvas, const InvoiceDocument& d)
      : c_(canvas),
        d_(d),
        credit_(d.kind == InvoiceKind::credit_note),
        vat_(std::any_of(d.lines.begin(), d.lines.end(),
                         [](const domain::InvoiceLine& line) { return line.vat != 0; })) {
    const std::string number = std::to_string(d.number);
    title_ = to_cp1252(credit_ ? "Kreditnota" : "Faktura");
    reference_ = to_cp1252((credit_ ? "Kreditnota nr. " : "Faktura nr. ") + number);
    if (d.letter) {
      const std::string kind = letter_title(*d.letter);
      title_ = to_cp1252(kind);
      reference_ = to_cp1252(kind + " – faktura nr. " + number);
      for (const auto& paragraph : d.letter->notice) {
        auto rows =
            c_.wrap(to_cp1252(paragraph), Weight::regular, 9.0F, kRight - kLeft, kMaxRowsPerLine);
        notice_rows_.insert(notice_rows_.end(), rows.begin(), rows.end());
        notice_rows_.emplace_back();
      }
    }
    draft_marker_ = to_cp1252("UTKAST – ikke sendt");
  }

  static std::string letter_title(const Letter& letter) {
    if (letter.kind == LetterKind::inkassovarsel) return "Inkassovarsel";
    return letter.sequence > 1 ? std::to_string(letter.sequence) + ". purring" : "Purring";
  }

  // false if libharu could not add a page (its error handler has the reason).
  bool draw() {
    if (!c_.add_page()) return false;
    c_.use_last_page();
    const float first_row = draw_table_header(draw_first_page_header());
    std::vector<std::vector<std::string>> rows;
    rows.reserve(d_.lines.size());
    for (const auto& line : d_.lines) {
      rows.push_back(c_.wrap(to_cp1252(line.description), Weight::regular, 10.0F,
                             kRight - kLeft - amount_columns_width(), kMaxRowsPerLine));
    }
    const std::vector<std::size_t> breaks = plan_pages(rows, first_row);

    float y = first_row;
    auto next_break = breaks.begin();
    for (std::size_t i = 0; i <= rows.size(); ++i) {
      if (next_break != breaks.end() && *next_break == i) {
        ++next_break;
        if (!continuation_page()) return false;
        y = i < rows.size() ? draw_table_header(kContinuationTableTop)
                            : kContinuationTableTop + kHeaderToFirstRow;
      }
      if (i == rows.size()) break;
      for (std::size_t r = 0; r < rows[i].size(); ++r)
        c_.text(kLeft, y + static_cast<float>(r) * kRow, rows[i][r], Weight::regular, 10.0F);
      c_.text_right(kRight, y, to_cp1252(format_amount(d_.lines[i].amount)), Weight::regular,
                    10.0F);
      if (vat_) {
        c_.text_right(kRight - kAmountColumnWidth, y, to_cp1252(format_amount(d_.lines[i].vat)),
                      Weight::regular, 10.0F);
      }
      y += step(rows[i]);
    }
    draw_totals(y);
    draw_notice(y + kTotalsDepth + 7.0F);
    if (!credit_) draw_payment_block();
    draw_footers();
    return true;
  }

 private:
  static float step(const std::vector<std::string>& rows) {
    return static_cast<float>(rows.size()) * kRow + 0.5F;
  }

  // The indexes of the lines that start a new page (rows.size(): the totals start one). Lines
  // fill each page; if the totals (and on an invoice the payment block) do not fit under the
  // last line, that line moves to the next page with them, so the totals never stand alone.
  std::vector<std::size_t> plan_pages(const std::vector<std::vector<std::string>>& rows,
                                      float first_row) const {
    std::vector<std::size_t> breaks;
    std::size_t page_start = 0;
    float y = first_row;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const float last_baseline = y + static_cast<float>(rows[i].size() - 1) * kRow;
      if (last_baseline > kContentBottom && i > page_start) {
        breaks.push_back(i);
        page_start = i;
        y = kContinuationTableTop + kHeaderToFirstRow;
      }
      y += step(rows[i]);
    }
    const float totals_limit = (credit_ ? kContentBottom : kPaymentTop - 6.0F) - notice_depth();
    if (y + kTotalsDepth > totals_limit) {
      // A carried line plus the totals always fit: at most kMaxRowsPerLine rows.
      breaks.push_back(rows.size() > page_start + 1 ? rows.size() - 1 : rows.size());
    }
    return breaks;
  }

  bool continuation_page() {
    if (!c_.add_page()) return false;
    c_.use_last_page();
    const auto seller = c_.wrap(to_cp1252(d_.seller_name), Weight::bold, 11.0F, 95.0F, 1);
    c_.text(kLeft, 20.0F, seller.front(), Weight::bold, 11.0F);
    c_.text_right(kRight, 20.0F, reference_ + to_cp1252(" (forts.)"), Weight::bold, 11.0F);
    if (d_.draft) draw_draft_marker(28.0F);
    return true;
  }

  void draw_draft_marker(float y) {
    constexpr float kSize = 12.0F;
    const float w = c_.width(draft_marker_, Weight::bold, kSize);
    c_.colour(0.75F, 0.0F, 0.0F);
    c_.frame(kRight - w - 3.0F, y - 5.5F, w + 3.0F, 8.0F, 1.2F);
    c_.text_right(kRight - 1.5F, y, draft_marker_, Weight::bold, kSize);
    c_.colour(0.0F, 0.0F, 0.0F);
  }

  // Seller, title, address and the invoice facts; returns the first baseline of the table.
  float draw_first_page_header() {
    // Seller (top left) and title (top right).
    float y = 20.0F;
    for (const auto& row : c_.wrap(to_cp1252(d_.seller_name), Weight::bold, 13.0F, 88.0F, 2)) {
      c_.text(kLeft, y, row, Weight::bold, 13.0F);
      y += 5.5F;
    }
    // The business address (bokføringsforskriften § 5-1-2; a letter's creditor, too).
    for (const std::string& line :
         {d_.seller_street, postal_line(d_.seller_postal_code, d_.seller_city)}) {
      if (line.empty()) continue;
      c_.text(kLeft, y, c_.wrap(to_cp1252(line), Weight::regular, 9.0F, 88.0F, 1).front(),
              Weight::regular, 9.0F);
      y += 4.2F;
    }
    std::string org = "Org.nr. " + format_org_number(d_.seller_org_number);
    if (d_.seller_vat_registered) org += " MVA";
    c_.text(kLeft, y, to_cp1252(org), Weight::regular, 9.0F);
    if (d_.seller_foretaksregisteret) {
      y += 4.2F;
      c_.text(kLeft, y, to_cp1252("Foretaksregisteret"), Weight::regular, 9.0F);
    }

    c_.text_right(kRight, 22.0F, title_, Weight::bold, 22.0F);
    float right_y = 29.0F;
    if (credit_) {
      c_.text_right(kRight, right_y,
                    to_cp1252("Krediterer faktura nr. " + std::to_string(*d_.credits_number)),
                    Weight::regular, 10.0F);
      right_y += 6.5F;
    }
    if (d_.draft) draw_draft_marker(right_y + 1.0F);

    // Buyer, where a window envelope shows it.
    float address_y = kAddressTop;
    auto address_line = [&](const std::string& utf8, Weight weight) {
      if (utf8.empty()) return;
      for (const auto& row : c_.wrap(to_cp1252(utf8), weight, 11.0F, kAddressWidth, 2)) {
        c_.text(kAddressX, address_y, row, weight, 11.0F);
        address_y += kRow;
      }
    };
    address_line(d_.buyer_name, Weight::regular);
    address_line(d_.buyer_street, Weight::regular);
    address_line(postal_line(d_.buyer_postal_code, d_.buyer_city), Weight::regular);
    if (!d_.buyer_country.empty() && d_.buyer_country != "NO")
      address_line(country_name(d_.buyer_country), Weight::regular);

    // The invoice facts, beside the address.
    std::vector<std::pair<std::string, std::string>> facts;
    facts.reserve(9);  // at most nine facts; also spares GCC 12's -O3 false -Warray-bounds
    facts.emplace_back(credit_ ? "Kreditnotanummer" : "Fakturanummer", std::to_string(d_.number));
    if (d_.letter) {
      facts.emplace_back("Fakturadato", format_date(d_.letter->invoice_issue_date));
      facts.emplace_back("Forfalt", format_date(d_.letter->invoice_due_date));
      facts.emplace_back("Brevdato", format_date(d_.issue_date));
      facts.emplace_back("Ny frist", format_date(d_.due_date));
    } else {
      facts.emplace_back(credit_ ? "Kreditnotadato" : "Fakturadato", format_date(d_.issue_date));
      if (!credit_) facts.emplace_back("Forfallsdato", format_date(d_.due_date));
    }
    facts.emplace_back("Leveringsdato", format_date(d_.delivery_date));
    if (!d_.delivery_place.empty()) facts.emplace_back("Leveringssted", d_.delivery_place);
    if (!credit_ && !d_.kid.empty()) facts.emplace_back("KID", d_.kid);
    if (!credit_) facts.emplace_back("Kontonummer", format_bank_account(d_.seller_bank_account));
    float facts_y = kAddressTop;
    for (const auto& [label, value] : facts) {
      c_.text(kMetaLabelX, facts_y, to_cp1252(label), Weight::regular, 9.0F);
      for (const auto& row :
           c_.wrap(to_cp1252(value), Weight::bold, 9.0F, kRight - kMetaValueX, 2)) {
        c_.text(kMetaValueX, facts_y, row, Weight::bold, 9.0F);
        facts_y += kRow;
      }
    }
    return std::max({address_y, facts_y, 90.0F}) + 8.0F;
  }

  // Column heads at `y`; returns the first baseline of the rows.
  float draw_table_header(float y) {
    c_.text(kLeft, y, to_cp1252("Beskrivelse"), Weight::bold, 9.5F);
    c_.text_right(kRight, y, to_cp1252("Beløp (kr)"), Weight::bold, 9.5F);
    if (vat_) {
      c_.text_right(kRight - kAmountColumnWidth, y, to_cp1252("Herav mva. (kr)"), Weight::bold,
                    9.5F);
    }
    c_.rule(kLeft, kRight, y + 2.0F, 0.6F);
    return y + kHeaderToFirstRow;
  }

  void draw_totals(float y) {
    c_.rule(kLeft, kRight, y - 2.5F, 0.8F);
    const float sum_y = y + 3.0F;
    c_.text(kLeft, sum_y, to_cp1252(credit_ ? "Sum kreditert" : "Sum å betale"), Weight::bold,
            11.0F);
    c_.text_right(kRight, sum_y, to_cp1252(with_kr(d_.total)), Weight::bold, 11.0F);
    c_.text(kLeft, y + kTotalsDepth, to_cp1252(vat_note()), Weight::regular, 9.0F);
  }

  // Exempt health services say so (mval. § 3-2); VAT, where a line carries it, is summed.
  std::string vat_note() const {
    Ore vat = 0;
    bool some_exempt = false;
    for (const auto& line : d_.lines) {
      vat += line.vat;
      some_exempt = some_exempt || line.vat == 0;
    }
    if (!vat_) return "Helsetjenester er unntatt mva. (mval. § 3-2)";
    std::string note = "Herav mva. " + with_kr(vat);
    if (some_exempt) note += "; linjer uten mva. er unntatt (mval. § 3-2)";
    return note;
  }

  float amount_columns_width() const {
    return vat_ ? 2.0F * kAmountColumnWidth : kAmountColumnWidth;
  }

  float notice_depth() const { return static_cast<float>(notice_rows_.size()) * 4.2F; }

  // A letter's paragraphs under the totals (plan_pages kept room for them).
  void draw_notice(float y) {
    for (const auto& row : notice_rows_) {
      if (!row.empty()) c_.text(kLeft, y, row, Weight::regular, 9.0F);
      y += 4.2F;
    }
  }

  void draw_payment_block() {
    const float top = kPaymentTop;
    c_.rule(kLeft, kRight, top, 1.2F);
    c_.text(kLeft, top + 6.0F, to_cp1252("Betalingsinformasjon"), Weight::bold, 10.0F);
    struct Column {
      float x;
      const char* label;
      std::string value;
    };
    std::vector<Column> columns;
    columns.push_back({kLeft, "Betales til konto", format_bank_account(d_.seller_bank_account)});
    if (!d_.kid.empty()) columns.push_back({65.0F, "KID", d_.kid});
    columns.push_back({125.0F, "Beløp", with_kr(d_.total)});
    columns.push_back({160.0F, "Forfall", format_date(d_.due_date)});
    for (const auto& column : columns) {
      c_.text(column.x, top + 13.0F, to_cp1252(column.label), Weight::regular, 8.0F);
      c_.text(column.x, top + 19.0F, to_cp1252(column.value), Weight::bold, 10.0F);
    }
    if (!d_.kid.empty()) {
      c_.text(kLeft, top + 27.0F, to_cp1252("Oppgi KID ved betaling."), Weight::regular, 8.0F);
    }
    c_.rule(kLeft, kRight, top + 31.0F, 0.4F);
  }

  void draw_footers() {
    const auto& pages = c_.pages();
    const std::string total = std::to_string(pages.size());
    std::string left = reference_;
    if (d_.draft) left += to_cp1252(" – UTKAST");
    for (std::size_t i = 0; i < pages.size(); ++i) {
      c_.use_page(pages[i]);
      c_.text(kLeft, kFooterY, left, Weight::regular, 8.0F);
      c_.text_right(kRight, kFooterY, "Side " + std::to_string(i + 1) + " av " + total,
                    Weight::regular, 8.0F);
    }
  }

  // The destination country in capitals on the last address line (Posten's rule for letters
  // abroad); the ISO code for countries not listed.
  static std::string country_name(const std::string& code) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kNames{{
        {"SE", "SVERIGE"},
        {"DK", "DANMARK"},
        {"FI", "FINLAND"},
        {"IS", "ISLAND"},
        {"DE", "TYSKLAND"},
        {"GB", "STORBRITANNIA"},
        {"NL", "NEDERLAND"},
        {"PL", "POLEN"},
        {"LT", "LITAUEN"},
        {"FR", "FRANKRIKE"},
        {"ES", "SPANIA"},
        {"IT", "ITALIA"},
        {"US", "USA"},
        {"CH", "SVEITS"},
        {"AT", "ØSTERRIKE"},
        {"BE", "BELGIA"},
    }};
    for (const auto& [iso, name] : kNames) {
      if (iso == code) return std::string(name);
    }
    return code;
  }

  Canvas& c_;
  const InvoiceDocument& d_;
  const bool credit_;
  const bool vat_;  // some line carries VAT: a VAT column and its sum
  std::string title_;
  std::string reference_;
  std::string draft_marker_;
  std::vector<std::string> notice_rows_;  // a letter's paragraphs, wrapped; "" between them
};

Result<std::string> render_pdf(const InvoiceDocument& document) {
  if (auto problem = problem_in(document))
    return make_error(ErrorCode::internal_error, "pdf: " + *problem);

  HpdfErrors errors;  // outlives the document, whose handler points here
  const HpdfDocPtr pdf(HPDF_New(&on_hpdf_error, &errors));
  if (!pdf) return make_error(ErrorCode::internal_error, "pdf: cannot create a document");
  HPDF_Doc doc = pdf.get();

  HPDF_SetCompressionMode(doc, HPDF_COMP_ALL);
  HPDF_SetInfoAttr(doc, HPDF_INFO_CREATOR, "visitpay");
  const std::string title =
      (document.letter ? to_cp1252(InvoiceLayout::letter_title(*document.letter)) + " faktura "
       : document.kind == InvoiceKind::credit_note ? "Kreditnota "
                                                   : "Faktura ") +
      std::to_string(document.number) + (document.draft ? " (UTKAST)" : "");
  HPDF_SetInfoAttr(doc, HPDF_INFO_TITLE, title.c_str());
  // The issue date rather than the wall clock keeps the bytes reproducible.
  HPDF_Date created{};
  created.year = static_cast<int>(document.issue_date.year());
  created.month = static_cast<int>(static_cast<unsigned>(document.issue_date.month()));
  created.day = static_cast<int>(static_cast<unsigned>(document.issue_date.day()));
  created.ind = ' ';
  HPDF_SetInfoDateAttr(doc, HPDF_INFO_CREATION_DATE, created);

  HPDF_Font regular = HPDF_GetFont(doc, "Helvetica", "WinAnsiEncoding");
  HPDF_Font bold = HPDF_GetFont(doc, "Helvetica-Bold", "WinAnsiEncoding");
  if (errors.failed() || regular == nullptr || bold == nullptr)
    return hpdf_error(errors, "loading fonts");

  Canvas canvas(doc, regular, bold);
  InvoiceLayout layout(canvas, document);
  if (!layout.draw() || errors.failed()) return hpdf_error(errors, "drawing");

  if (HPDF_SaveToStream(doc) != HPDF_OK || errors.failed()) return hpdf_error(errors, "saving");
  const HPDF_UINT32 size = HPDF_GetStreamSize(doc);
  if (errors.failed() || size == 0) return hpdf_error(errors, "sizing the output");
  std::string bytes(size, '\0');
  HPDF_UINT32 read = size;
  const HPDF_STATUS status =
      HPDF_ReadFromStream(doc, reinterpret_cast<HPDF_BYTE*>(bytes.data()), &read);
  if ((status != HPDF_OK && status != HPDF_STREAM_EOF) || read != size || errors.failed())
    return hpdf_error(errors, "reading the output");
  return bytes;
}

}  // namespace

std::string to_cp1252(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  std::size_t i = 0;
  while (i < utf8.size()) {
    const auto lead = static_cast<unsigned char>(utf8[i]);
    if (lead < 0x80) {
      out += cp1252_of(lead);
      ++i;
      continue;
    }
    std::size_t length = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if ((lead & 0xE0U) == 0xC0U) {
      length = 2;
      cp = lead & 0x1FU;
      min = 0x80;
    } else if ((lead & 0xF0U) == 0xE0U) {
      length = 3;
      cp = lead & 0x0FU;
      min = 0x800;
    } else if ((lead & 0xF8U) == 0xF0U) {
      length = 4;
      cp = lead & 0x07U;
      min = 0x10000;
    }
    std::size_t used = 1;
    while (length != 0 && used < length && i + used < utf8.size() &&
           (static_cast<unsigned char>(utf8[i + used]) & 0xC0U) == 0x80U) {
      cp = (cp << 6U) | (static_cast<unsigned char>(utf8[i + used]) & 0x3FU);
      ++used;
    }
    // One '?' per malformed sequence (a stray continuation byte, a truncated, overlong or
    // surrogate sequence) and per character that CP1252 lacks.
    const bool valid = length != 0 && used == length && cp >= min && cp <= 0x10FFFF &&
                       (cp < 0xD800 || cp > 0xDFFF);
    out += valid ? cp1252_of(cp) : '?';
    i += used;
  }
  return out;
}

std::string format_amount(Ore amount) {
  const bool negative = amount < 0;
  // Unsigned, so that the most negative value has a magnitude too.
  const std::uint64_t magnitude =
      negative ? 0 - static_cast<std::uint64_t>(amount) : static_cast<std::uint64_t>(amount);
  const std::string kroner = std::to_string(magnitude / 100);
  std::string out = negative ? "-" : "";
  for (std::size_t i = 0; i < kroner.size(); ++i) {
    if (i != 0 && (kroner.size() - i) % 3 == 0) out += ' ';
    out += kroner[i];
  }
  return out + "," + two_digits(static_cast<unsigned>(magnitude % 100));
}

std::string format_org_number(std::string_view digits) {
  const bool nine_digits =
      digits.size() == 9 &&
      std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  if (!nine_digits) return std::string(digits);
  return std::string(digits.substr(0, 3)) + " " + std::string(digits.substr(3, 3)) + " " +
         std::string(digits.substr(6, 3));
}

std::string format_bank_account(std::string_view digits) {
  const bool eleven_digits =
      digits.size() == 11 &&
      std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  if (!eleven_digits) return std::string(digits);
  return std::string(digits.substr(0, 4)) + "." + std::string(digits.substr(4, 2)) + "." +
         std::string(digits.substr(6, 5));
}

Result<std::string> LibharuInvoiceRenderer::render(const InvoiceDocument& document) const {
  // Nothing below throws except allocation; keep even that out of the callers' error model.
  try {
    return render_pdf(document);
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::internal_error, "pdf: out of memory");
  }
}

}  // namespace visitpay::adapters::pdf
