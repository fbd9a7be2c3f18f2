// Value parsers: dates, amounts and identifiers as real exports write them.
// Pure functions on byte views; no allocation on the hot path.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace custlens {

// ---- civil days -----------------------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int32_t days_from_civil(int32_t y, int32_t m, int32_t d);
/// Inverse of days_from_civil.
void civil_from_days(int32_t day, int32_t& y, int32_t& m, int32_t& d);
/// "YYYY-MM-DD".
std::string format_day(int32_t day);
/// True when y-m-d is a real calendar date (no Feb 30).
bool valid_civil(int32_t y, int32_t m, int32_t d);

// ---- dates ------------------------------------------------------------------

/// How a date cell was written. `day_month` is "a/b/yyyy" (or a.b.yyyy, a-b-yyyy)
/// where the day/month order is a property of the whole column, decided later.
enum class DateShape : uint8_t { ymd = 1, day_month = 2 };

/// A date cell read but not yet resolved to a day number.
/// ymd: first = month, second = day. day_month: first, second as written.
struct RawDate {
  DateShape shape = DateShape::ymd;
  int32_t year = 0;
  uint8_t first = 0;
  uint8_t second = 0;
  int32_t seconds = -1;  ///< time of day in seconds, -1 when the cell has no time
};

/// Reads a date cell. Accepts (after trimming spaces/tabs and anti-Excel prefixes):
/// 2024-08-20, 2024-8-20, 2024/8/20, 2024.8.20, 2024年8月20日, 20240820,
/// 2024-08-20T14:03:05, 2024-08-20 14:03[:05][.fff][ +0400|Z|+04:00] (zone ignored:
/// civil time as written), 2024/8/20 下午2:03 (上午/下午 = AM/PM), 12/1/2010 8:26,
/// 8:26 PM / AM suffixes, 1/12/2010, 20.08.2024, and Excel serial day numbers
/// (a plain integer 20000..80000, 1900 date system, optional fraction = time).
/// Returns false when the cell is not a date at all. Calendar validity (Feb 30)
/// is checked by resolve_date, so it can name the cell.
bool parse_date(std::string_view cell, RawDate& out);

/// Day/month order of a column's `day_month` cells.
enum class DateOrder : uint8_t { unknown = 0, dmy = 1, mdy = 2 };

/// Turns a RawDate into a day number. For day_month cells `order` must be dmy or
/// mdy. Returns false when the result is not a calendar date.
bool resolve_date(const RawDate& d, DateOrder order, int32_t& day);

// ---- amounts ----------------------------------------------------------------

/// Money and quantities are fixed point: value × 10^4, exact for the 2-3
/// decimals exports use, and exact when summed.
constexpr int64_t kAmountScale = 10000;
/// |amount| is at most 9 × 10^14 (in units of 10^-4): parse_amount refuses more.
constexpr int64_t kMaxAmountUnits = 9000000000000000000;

/// Currencies recognised from symbols or codes. ¥ ￥ 元 RMB CNY are one currency.
enum class Currency : uint8_t { none = 0, CNY, USD, EUR, GBP, JPY, HKD, TWD, other };
/// ISO code ("CNY") or "" for none.
const char* currency_code(Currency c);

/// Which mark separates decimals in a column.
enum class DecimalMark : uint8_t { unknown = 0, dot = 1, comma = 2 };

struct ParsedAmount {
  int64_t units = 0;        ///< value × kAmountScale, read with `mark` (dot when unknown)
  int64_t alt_units = 0;    ///< the value if the single separator is read the other way
  Currency currency = Currency::none;
  bool ambiguous = false;   ///< one separator followed by exactly 3 digits ("1,234", "1.234")
  DecimalMark evidence = DecimalMark::unknown;  ///< what this cell proves about the column
  bool rounded = false;     ///< more than 4 decimals were rounded (half away from zero)
};

/// Reads an amount cell: 1234.5, -12.00, +3, 1,234.50, 1.234,50, ¥1,234.50,
/// ￥1,234.50, 1,234.50元, RMB 1234.5, CNY 12, -¥1,234.50, ¥-1,234.50, $1,234,
/// €12, £40.00, (12.00) and (¥12.00) as negatives, trailing minus "12.00-",
/// fullwidth digits and marks (１，２３４．５０), 1,53e4 / 1.53e4 exponents, thin or
/// normal spaces as thousands separators ("1 234,50"), leading/trailing blanks and
/// anti-Excel prefixes. `mark` is the column's decimal mark when known.
/// Returns false for an empty or unreadable cell.
bool parse_amount(std::string_view cell, DecimalMark mark, ParsedAmount& out);

// ---- identifiers ------------------------------------------------------------

namespace detail {
std::string_view clean_id_wrapped(std::string_view cell);
}

/// Strips what spreadsheets and exports wrap identifiers in: surrounding spaces
/// and tabs, a leading backtick or apostrophe, a leading or trailing tab,
/// Excel's ="..." wrapper. Returns a view into `cell`.
inline std::string_view clean_id(std::string_view cell) {
  // Nearly every cell has nothing around it, which its end bytes tell (inline: this runs
  // several times per row). Controls and blanks (<= ' '), = ' and ` take the full path.
  if (!cell.empty()) {
    const uint8_t first = uint8_t(cell.front()), last = uint8_t(cell.back());
    if (first > ' ' && first != '=' && first != '\'' && first != '`' && last > ' ') return cell;
  }
  return detail::clean_id_wrapped(cell);
}

/// Trims ASCII spaces, tabs, CR and LF on both sides. Inline: it runs on every cell.
inline std::string_view trim(std::string_view s) {
  const auto blank = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; };
  size_t b = 0, e = s.size();
  while (b < e && blank(s[b])) ++b;
  while (e > b && blank(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace custlens
