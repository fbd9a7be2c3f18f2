#include "api/export.h"

#include <charconv>
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

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

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

void append_csv_money(std::string& out, double value) {
  // Sums are whole units divided by the scale, so rounding gives the exact units back (below
  // 2^51 units); means are rounded to the same four decimals, half away from zero.
  const int64_t units = std::llround(value * double(kAmountScale));
  const uint64_t magnitude = units < 0 ? 0 - uint64_t(units) : uint64_t(units);
  if (units < 0) out += '-';
  append_int(out, magnitude / uint64_t(kAmountScale));
  char decimals[4];
  uint64_t fraction = magnitude % uint64_t(kAmountScale);
  for (int k = 3; k >= 0; --k, fraction /= 10) decimals[k] = char('0' + fraction % 10);
  int kept = 4;
  while (kept > 2 && decimals[kept - 1] == '0') --kept;  // 12.50, 65.244, 64.6275
  out += '.';
  out.append(decimals, size_t(kept));
}

std::string customers_csv(const OrdersTable& t, const CustomerColumns& c) {
  std::string out;
  // The ids plus roughly a hundred bytes of numbers and labels per row: one allocation.
  out.reserve(t.customer_key_arena.size() + c.size() * 128 + 256);
  for (const char* name : kCustomerCsvColumns) {
    if (name != kCustomerCsvColumns[0]) out += ',';
    out += name;
  }
  out += "\r\n";
  // Only the id is user text. Dates, segment and lifecycle names and cohorts are the engine's own words
  // (none starts with a formula character or holds `,` `"` CR LF), so they stay unquoted
  // and a spreadsheet still reads the dates as dates; numbers are never prefixed.
  for (size_t i = 0; i < c.size(); ++i) {
    append_csv_text(out, t.customer_name(c.ids[i]));
    out += ',';
    out += format_day(c.first_purchase[i]);
    out += ',';
    out += format_day(c.last_purchase[i]);
    out += ',';
    append_int(out, c.orders[i]);
    out += ',';
    append_csv_money(out, c.total_spend[i]);
    out += ',';
    append_csv_money(out, c.mean_order_value[i]);
    out += ',';
    append_int(out, c.recency_days[i]);
    out += ',';
    append_int(out, unsigned(c.r_score[i]));
    out += ',';
    append_int(out, unsigned(c.f_score[i]));
    out += ',';
    append_int(out, unsigned(c.m_score[i]));
    out += ',';
    out += kSegmentNames[c.segment[i]];
    out += ',';
    if (i < c.lifecycle.size()) out += kLifecycleNames[c.lifecycle[i]];
    out += ',';
    out += month_label(c.cohort[i]);
    out += ',';
    append_int(out, c.btyd_frequency[i]);
    out += ',';
    append_int(out, c.t_x[i]);
    out += ',';
    append_int(out, c.T[i]);
    out += ',';
    append_csv_money(out, c.btyd_monetary[i]);
    out += ',';
    append_csv_money(out, c.repeat_spend[i]);
    out += "\r\n";
  }
  return out;
}

}  // namespace custlens
