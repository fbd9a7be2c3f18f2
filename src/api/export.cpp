#include "api/export.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>
#include <cmath>
#include <cstdint>

#include "io/values.h"

namespace custlens {

namespace {

// First characters that make a spreadsheet read a cell as a formula. TAB, CR and LF are on
// OWASP's list, NUL on ASVS's; the literal holds the NUL, hence the explicit length.
constexpr std::string_view kFormulaStarts("=+-@\t\r\n\0", 8);

// The names of customers() (docs/report-schema.md), in the row order customers_csv writes.
constexpr const char* kCustomerCsvColumns[] = {
    "customer_id",    "first_purchase", "last_purchase", "orders",        "total_spend",  "mean_order_value",
    "recency_days",   "r_score",        "f_score",       "m_score",       "segment",      "lifecycle",    "cohort",
    "btyd_frequency", "t_x",            "T",             "btyd_monetary", "repeat_spend"};

static_assert(kAmountScale == 10000, "append_csv_money writes four decimal digits");

}  // namespace

void append_csv_text(std::string& out, std::string_view text) {
  out += '"';
  if (!text.empty() && kFormulaStarts.find(text[0]) != std::string_view::npos) out += '\'';
  for (size_t at = 0;;) {
    const size_t quote = text.find('"', at);
    if (quote == std::string_view::npos) {
      out += text.substr(at);
      break;
    }
    out += text.substr(at, quote + 1 - at);
    out += '"';
    at = quote + 1;
  }
  out += '"';
}

namespace {

// append_csv_money into a buffer with room for 24 bytes; returns the end.
char* put_money(char* w, double value) {
  // Sums are whole units divided by the scale, so rounding gives the exact units back (below
  // 2^51 units); means are rounded to the same four decimals, half away from zero.
  const int64_t units = std::llround(value * double(kAmountScale));
  const uint64_t magnitude = units < 0 ? 0 - uint64_t(units) : uint64_t(units);
  if (units < 0) *w++ = '-';
  w = std::to_chars(w, w + 24, magnitude / uint64_t(kAmountScale)).ptr;
  char decimals[4];
  uint64_t fraction = magnitude % uint64_t(kAmountScale);
  for (int k = 3; k >= 0; --k, fraction /= 10) decimals[k] = char('0' + fraction % 10);
  int kept = 4;
  while (kept > 2 && decimals[kept - 1] == '0') --kept;  // 12.50, 65.244, 64.6275
  *w++ = '.';
  std::memcpy(w, decimals, size_t(kept));
  return w + kept;
}

}  // namespace

void append_csv_money(std::string& out, double value) {
  char buf[32];
  out.append(buf, size_t(put_money(buf, value) - buf));
}

namespace {

// Labels of a range of values (days, months) written once each: a customers table repeats a
// few thousand dates over millions of rows.
class Labels {
 public:
  template <class Format>
  Labels(const std::vector<int32_t>& a, const std::vector<int32_t>& b, Format format) {
    format_ = [format](int32_t v) { return format(v); };
    if (a.empty()) return;
    lo_ = std::min(*std::min_element(a.begin(), a.end()), b.empty() ? a[0] : *std::min_element(b.begin(), b.end()));
    const int32_t hi =
        std::max(*std::max_element(a.begin(), a.end()), b.empty() ? a[0] : *std::max_element(b.begin(), b.end()));
    if (int64_t(hi) - lo_ > 100'000) return;  // dates centuries apart: formatted per row
    end_.reserve(size_t(int64_t(hi) - lo_) + 1);
    for (int64_t v = lo_; v <= hi; ++v) end_.push_back(uint32_t((text_ += format(int32_t(v))).size()));
  }
  template <class Format>
  Labels(const std::vector<int32_t>& a, Format format) : Labels(a, {}, format) {}
  /// Appends the label of `v` at `w`; returns the end.
  char* put(char* w, int32_t v, std::string& spill) const {
    std::string_view s;
    if (!end_.empty() && v >= lo_ && size_t(int64_t(v) - lo_) < end_.size()) {
      const size_t k = size_t(int64_t(v) - lo_);
      const uint32_t b = k ? end_[k - 1] : 0;
      s = std::string_view(text_).substr(b, end_[k] - b);
    } else {
      spill = format_ ? format_(v) : std::string();
      s = spill;
    }
    std::memcpy(w, s.data(), std::min<size_t>(s.size(), 32));
    return w + std::min<size_t>(s.size(), 32);
  }

 private:
  int32_t lo_ = 0;
  std::string text_;
  std::vector<uint32_t> end_;
  std::function<std::string(int32_t)> format_;
};

template <class Int>
char* put_int(char* w, Int v) {
  return std::to_chars(w, w + 24, v).ptr;
}

char* put_text(char* w, const char* s) {
  const size_t n = std::strlen(s);
  std::memcpy(w, s, n);
  return w + n;
}

}  // namespace

std::string customers_csv(const OrdersTable& t, const CustomerColumns& c) {
  std::string out;
  // The ids plus roughly a hundred bytes of numbers and labels per row: one allocation.
  out.reserve(t.customer_key_arena.size() + c.size() * 128 + 256);
  for (const char* name : kCustomerCsvColumns) {
    if (name != kCustomerCsvColumns[0]) out += ',';
    out += name;
  }
  out += "\r\n";
  const Labels days(c.first_purchase, c.last_purchase, format_day);
  const Labels months(c.cohort, month_label);
  std::string spill;
  // Only the id is user text. Dates, segment and lifecycle names and cohorts are the engine's own words
  // (none starts with a formula character or holds `,` `"` CR LF), so they stay unquoted
  // and a spreadsheet still reads the dates as dates; numbers are never prefixed. The rest of
  // a row, at most ~330 bytes, is written into `row` and appended at once.
  char row[512];
  for (size_t i = 0; i < c.size(); ++i) {
    append_csv_text(out, t.customer_name(c.ids[i]));
    char* w = row;
    *w++ = ',';
    w = days.put(w, c.first_purchase[i], spill);
    *w++ = ',';
    w = days.put(w, c.last_purchase[i], spill);
    *w++ = ',';
    w = put_int(w, c.orders[i]);
    *w++ = ',';
    w = put_money(w, c.total_spend[i]);
    *w++ = ',';
    w = put_money(w, c.mean_order_value[i]);
    *w++ = ',';
    w = put_int(w, c.recency_days[i]);
    *w++ = ',';
    w = put_int(w, unsigned(c.r_score[i]));
    *w++ = ',';
    w = put_int(w, unsigned(c.f_score[i]));
    *w++ = ',';
    w = put_int(w, unsigned(c.m_score[i]));
    *w++ = ',';
    w = put_text(w, kSegmentNames[c.segment[i]]);
    *w++ = ',';
    if (i < c.lifecycle.size()) w = put_text(w, kLifecycleNames[c.lifecycle[i]]);
    *w++ = ',';
    w = months.put(w, c.cohort[i], spill);
    *w++ = ',';
    w = put_int(w, c.btyd_frequency[i]);
    *w++ = ',';
    w = put_int(w, c.t_x[i]);
    *w++ = ',';
    w = put_int(w, c.T[i]);
    *w++ = ',';
    w = put_money(w, c.btyd_monetary[i]);
    *w++ = ',';
    w = put_money(w, c.repeat_spend[i]);
    *w++ = '\r';
    *w++ = '\n';
    out.append(row, size_t(w - row));
  }
  return out;
}

}  // namespace custlens
