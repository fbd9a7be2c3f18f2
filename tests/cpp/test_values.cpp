// Tests for src/io/values: one TEST_CASE per rule of values.h.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "io/values.h"

using namespace custlens;

namespace {

constexpr int32_t kAug20 = 19955;  // 2024-08-20

// Parses and resolves a ymd-or-ordered date; -99999 when either step fails.
int32_t day_of(std::string_view cell, DateOrder order = DateOrder::unknown) {
  RawDate d;
  if (!parse_date(cell, d)) return -99999;
  int32_t day = 0;
  if (!resolve_date(d, order, day)) return -99999;
  return day;
}

int32_t seconds_of(std::string_view cell) {
  RawDate d;
  if (!parse_date(cell, d)) return -99999;
  return d.seconds;
}

bool is_date(std::string_view cell) {
  RawDate d;
  return parse_date(cell, d);
}

ParsedAmount amount(std::string_view cell, DecimalMark mark = DecimalMark::unknown) {
  ParsedAmount a;
  REQUIRE(parse_amount(cell, mark, a));
  return a;
}

bool is_amount(std::string_view cell) {
  ParsedAmount a;
  return parse_amount(cell, DecimalMark::unknown, a);
}

// Units of value v (written as an integer number of 1/10000).
constexpr int64_t U(int64_t whole, int64_t ten_thousandths = 0) {
  return whole * kAmountScale + (whole < 0 ? -ten_thousandths : ten_thousandths);
}

}  // namespace

// ---- civil days ---------------------------------------------------------------

TEST_CASE("days_from_civil counts days from 1970-01-01") {
  CHECK(days_from_civil(1970, 1, 1) == 0);
  CHECK(days_from_civil(1970, 1, 2) == 1);
  CHECK(days_from_civil(1969, 12, 31) == -1);
  CHECK(days_from_civil(2000, 3, 1) == 11017);
  CHECK(days_from_civil(2024, 8, 20) == kAug20);
  CHECK(days_from_civil(1997, 1, 1) == 9862);
  CHECK(days_from_civil(1900, 1, 1) == -25567);
  CHECK(days_from_civil(0, 3, 1) == -719468);
}

TEST_CASE("civil_from_days inverts days_from_civil") {
  int32_t y, m, d;
  civil_from_days(0, y, m, d);
  CHECK((y == 1970 && m == 1 && d == 1));
  civil_from_days(kAug20, y, m, d);
  CHECK((y == 2024 && m == 8 && d == 20));
  civil_from_days(-1, y, m, d);
  CHECK((y == 1969 && m == 12 && d == 31));
  civil_from_days(days_from_civil(2024, 2, 29), y, m, d);
  CHECK((y == 2024 && m == 2 && d == 29));
  // Every day of four centuries round-trips and advances by one.
  const int32_t from = days_from_civil(1800, 1, 1), to = days_from_civil(2200, 1, 1);
  int32_t py = 1799, pm = 12, pd = 31;
  bool ok = true;
  for (int32_t day = from; day < to && ok; ++day) {
    civil_from_days(day, y, m, d);
    ok = valid_civil(y, m, d) && days_from_civil(y, m, d) == day &&
         ((y == py && m == pm && d == pd + 1) || (y == py && m == pm + 1 && d == 1) ||
          (y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31));
    py = y, pm = m, pd = d;
  }
  CHECK(ok);
}

TEST_CASE("format_day writes YYYY-MM-DD") {
  CHECK(format_day(0) == "1970-01-01");
  CHECK(format_day(kAug20) == "2024-08-20");
  CHECK(format_day(-1) == "1969-12-31");
  CHECK(format_day(days_from_civil(999, 5, 7)) == "0999-05-07");
  CHECK(format_day(days_from_civil(10000, 1, 1)) == "10000-01-01");
  CHECK(format_day(days_from_civil(-1, 12, 31)) == "-0001-12-31");
}

TEST_CASE("valid_civil rejects impossible dates") {
  CHECK(valid_civil(2024, 2, 29));
  CHECK(valid_civil(2000, 2, 29));
  CHECK_FALSE(valid_civil(1900, 2, 29));
  CHECK_FALSE(valid_civil(2023, 2, 29));
  CHECK_FALSE(valid_civil(2024, 2, 30));
  CHECK_FALSE(valid_civil(2024, 4, 31));
  CHECK(valid_civil(2024, 12, 31));
  CHECK_FALSE(valid_civil(2024, 13, 1));
  CHECK_FALSE(valid_civil(2024, 0, 1));
  CHECK_FALSE(valid_civil(2024, 1, 0));
  CHECK_FALSE(valid_civil(2024, 1, 32));
}

// ---- dates ---------------------------------------------------------------------

TEST_CASE("parse_date reads ISO and separated year-month-day") {
  for (const char* cell : {"2024-08-20", "2024/8/20", "2024-8-20", "2024.8.20", "2024/08/20",
                           " 2024-08-20 ", "\t2024-08-20\r\n", "'2024-08-20", "=\"2024-08-20\""}) {
    INFO(cell);
    CHECK(day_of(cell) == kAug20);
    CHECK(seconds_of(cell) == -1);
  }
  RawDate d;
  REQUIRE(parse_date("2024-08-20", d));
  CHECK(d.shape == DateShape::ymd);
  CHECK(d.year == 2024);
  CHECK(d.first == 8);
  CHECK(d.second == 20);
  CHECK(d.seconds == -1);
  CHECK(day_of("1970-01-01") == 0);
  CHECK_FALSE(is_date("2024-8/20"));  // mixed separators
  CHECK_FALSE(is_date("2024-08"));
  CHECK_FALSE(is_date("2024-123-1"));
  CHECK_FALSE(is_date("2024--08-20"));
}

TEST_CASE("parse_date reads Chinese 年月日 dates") {
  CHECK(day_of("2024年8月20日") == kAug20);
  CHECK(day_of("2024年08月20日") == kAug20);
  CHECK(day_of("2024年8月20") == kAug20);
  CHECK(day_of("２０２４年８月２０日") == kAug20);  // fullwidth digits
  CHECK(seconds_of("2024年8月20日 14:03") == 50580);
  CHECK(seconds_of("2024年8月20日14:03") == 50580);
  CHECK(seconds_of("2024年8月20日 14时03分05秒") == 50585);
  CHECK(seconds_of("2024年8月20日 下午2点30分") == 14 * 3600 + 30 * 60);
  CHECK(day_of("2024年8月20日 14:03") == kAug20);
  CHECK_FALSE(is_date("2024年8-20日"));
}

TEST_CASE("parse_date reads 8-digit YYYYMMDD only with a month and day") {
  CHECK(day_of("20240820") == kAug20);
  CHECK(day_of("19970101") == 9862);  // CDNOW
  RawDate d;
  REQUIRE(parse_date("19970101", d));
  CHECK(d.shape == DateShape::ymd);
  CHECK(d.year == 1997);
  CHECK_FALSE(is_date("20241301"));  // month 13
  CHECK_FALSE(is_date("20240800"));  // day 0
  CHECK_FALSE(is_date("20240832"));  // day 32
  CHECK_FALSE(is_date("12345678"));
  CHECK_FALSE(is_date("2024082"));
  CHECK_FALSE(is_date("202408201"));
  // Month/day in range but not a calendar date: parsed, then refused by resolve_date.
  CHECK(is_date("20240231"));
  CHECK(day_of("20240231") == -99999);
}

TEST_CASE("parse_date reads times and ignores zones") {
  CHECK(seconds_of("2024/8/20 14:03") == 50580);
  CHECK(day_of("2024/8/20 14:03") == kAug20);
  CHECK(seconds_of("2014-01-01 00:00:00") == 0);
  CHECK(day_of("2014-01-01 00:00:00") == days_from_civil(2014, 1, 1));
  CHECK(seconds_of("2024-08-20T14:03:05Z") == 50585);
  CHECK(day_of("2024-08-20T14:03:05Z") == kAug20);
  CHECK(seconds_of("2024-08-20T14:03:05") == 50585);
  CHECK(seconds_of("2024-08-20 14:03:05") == 50585);
  CHECK(seconds_of("2024-08-20 14:03:05.123") == 50585);
  CHECK(seconds_of("2024-08-20T14:03:05.123456+08:00") == 50585);
  CHECK(seconds_of("2024-08-20 14:03:05 UTC") == 50585);
  CHECK(seconds_of("2024-08-20 14:03 -05") == 50580);
  // Shopify: civil time as written, the offset is not applied.
  CHECK(seconds_of("2026-04-05 21:06:21 +0400") == 21 * 3600 + 6 * 60 + 21);
  CHECK(day_of("2026-04-05 21:06:21 +0400") == days_from_civil(2026, 4, 5));
  CHECK(seconds_of("2024-08-20 23:59:60") == 86399);  // leap second kept on its minute
  CHECK_FALSE(is_date("2024-08-20 24:00"));
  CHECK_FALSE(is_date("2024-08-20 14:60"));
  CHECK_FALSE(is_date("2024-08-20 14:3"));
  CHECK_FALSE(is_date("2024-08-20 14"));
  CHECK_FALSE(is_date("2024-08-20T"));
  CHECK_FALSE(is_date("2024-08-20 foo"));
  CHECK_FALSE(is_date("2024-08-2014:03"));
  CHECK_FALSE(is_date("2024-08-20 14:03 +123"));
}

TEST_CASE("parse_date applies AM/PM words before or after the time") {
  CHECK(seconds_of("2024/8/20 下午2:03") == 50580);
  CHECK(day_of("2024/8/20 下午2:03") == kAug20);
  CHECK(seconds_of("2024/8/20 上午2:03") == 2 * 3600 + 3 * 60);
  CHECK(seconds_of("2024/8/20 上午12:30") == 30 * 60);
  CHECK(seconds_of("2024/8/20 下午12:30") == 12 * 3600 + 30 * 60);
  CHECK(seconds_of("2024/8/20 晚上9:00") == 21 * 3600);
  CHECK(seconds_of("8/20/2024 2:03 PM") == 50580);
  CHECK(seconds_of("8/20/2024 2:03 pm") == 50580);
  CHECK(seconds_of("8/20/2024 2:03PM") == 50580);
  CHECK(seconds_of("8/20/2024 2:03:07 p.m.") == 50587);
  CHECK(seconds_of("8/20/2024 12:15 AM") == 15 * 60);
  CHECK(seconds_of("8/20/2024 11:15 AM") == 11 * 3600 + 15 * 60);
  CHECK(seconds_of("8/20/2024 14:03 PM") == 50580);  // already 24-hour
  CHECK(day_of("8/20/2024 2:03 PM", DateOrder::mdy) == kAug20);
  CHECK_FALSE(is_date("8/20/2024 14:03 AM"));
  CHECK_FALSE(is_date("8/20/2024 2:03 XM"));
}

TEST_CASE("parse_date keeps a/b/yyyy as day_month for the column to order") {
  RawDate d;
  REQUIRE(parse_date("12/1/2010 8:26", d));
  CHECK(d.shape == DateShape::day_month);
  CHECK(d.first == 12);
  CHECK(d.second == 1);
  CHECK(d.year == 2010);
  CHECK(d.seconds == 30360);

  REQUIRE(parse_date("1/12/2010", d));
  CHECK(d.shape == DateShape::day_month);
  CHECK(d.first == 1);
  CHECK(d.second == 12);
  CHECK(d.seconds == -1);

  REQUIRE(parse_date("20.08.2024", d));
  CHECK(d.shape == DateShape::day_month);
  CHECK(d.first == 20);
  CHECK(d.second == 8);
  CHECK(d.year == 2024);

  REQUIRE(parse_date("03/10/2024", d));  // mixed_dates.csv line 4
  CHECK(d.shape == DateShape::day_month);
  CHECK(d.first == 3);
  CHECK(d.second == 10);
  CHECK(is_date("8-20-2024"));
  CHECK_FALSE(is_date("8/20-2024"));
  CHECK_FALSE(is_date("8/20"));
  CHECK_FALSE(is_date("123/1/2010"));
}

TEST_CASE("parse_date refuses two-digit years") {
  CHECK_FALSE(is_date("12/31/21"));
  CHECK_FALSE(is_date("31.12.21"));
  CHECK_FALSE(is_date("24-08-20"));
  CHECK_FALSE(is_date("8/20/202"));
  CHECK_FALSE(is_date("8/20/20245"));
}

TEST_CASE("parse_date reads Excel serial days") {
  CHECK(day_of("45524") == kAug20);
  CHECK(seconds_of("45524") == -1);
  CHECK(day_of("25569") == 0);  // Excel's 1970-01-01
  CHECK(day_of("25569.0") == 0);
  CHECK(day_of("20000") == days_from_civil(1954, 10, 3));
  CHECK(format_day(day_of("80000")) == "2119-01-11");
  CHECK(seconds_of("45524.5") == 43200);
  CHECK(day_of("45524.5") == kAug20);
  CHECK(seconds_of("45524.25") == 21600);
  CHECK(seconds_of("45524.58541666667") == 50580);  // 14:03
  RawDate d;
  REQUIRE(parse_date("45524.9999999", d));  // rounds into the next day
  CHECK(d.seconds == 0);
  CHECK(d.second == 21);
  CHECK_FALSE(is_date("19999"));
  CHECK_FALSE(is_date("80001"));
  CHECK_FALSE(is_date("45524."));
  CHECK_FALSE(is_date("45524.5.1"));
  CHECK_FALSE(is_date("-45524"));
}

TEST_CASE("parse_date returns false for non-dates") {
  for (const char* cell : {"", " ", "abc", "12.5", "C81243354", "1997", "123", "1.23457E+17",
                           "2024", "-", "/", "2024-", "1/2/3", "twenty", "2024-08-20x",
                           "\xE2\x82", "2024\xFF" "08-20"}) {
    INFO(cell);
    CHECK_FALSE(is_date(cell));
  }
}

TEST_CASE("resolve_date checks the calendar and applies the column order") {
  RawDate d;
  int32_t day = 0;
  REQUIRE(parse_date("2024-02-30", d));
  CHECK(d.shape == DateShape::ymd);
  CHECK_FALSE(resolve_date(d, DateOrder::unknown, day));
  REQUIRE(parse_date("2024-13-01", d));
  CHECK_FALSE(resolve_date(d, DateOrder::dmy, day));

  REQUIRE(parse_date("12/1/2010", d));
  CHECK_FALSE(resolve_date(d, DateOrder::unknown, day));
  REQUIRE(resolve_date(d, DateOrder::dmy, day));
  CHECK(day == days_from_civil(2010, 1, 12));
  REQUIRE(resolve_date(d, DateOrder::mdy, day));
  CHECK(day == days_from_civil(2010, 12, 1));

  REQUIRE(parse_date("20.08.2024", d));
  REQUIRE(resolve_date(d, DateOrder::dmy, day));
  CHECK(day == kAug20);
  CHECK_FALSE(resolve_date(d, DateOrder::mdy, day));  // month 20

  // ymd ignores the column order.
  REQUIRE(parse_date("2024-08-20", d));
  REQUIRE(resolve_date(d, DateOrder::dmy, day));
  CHECK(day == kAug20);
}

// ---- amounts --------------------------------------------------------------------

TEST_CASE("parse_amount reads plain numbers exactly") {
  auto a = amount("35.33");
  CHECK(a.units == U(35, 3300));
  CHECK(a.alt_units == a.units);
  CHECK(a.evidence == DecimalMark::dot);
  CHECK_FALSE(a.ambiguous);
  CHECK_FALSE(a.rounded);
  CHECK(a.currency == Currency::none);
  CHECK(amount("1234.5").units == U(1234, 5000));
  CHECK(amount("-12.00").units == U(-12));
  CHECK(amount("+3").units == U(3));
  CHECK(amount("12").evidence == DecimalMark::unknown);
  CHECK(amount("0").units == 0);
  CHECK(amount("-0.00").units == 0);
  CHECK(amount("0.0001").units == 1);
  CHECK(amount("1.2345").units == U(1, 2345));
  CHECK(amount(" 128.00 ").units == U(128));
  CHECK(amount("'178.8").units == U(178, 8000));
  CHECK(amount("=\"1400.00\"").units == U(1400));
  CHECK(amount(".5").units == U(0, 5000));
  CHECK(amount("007").units == U(7));
  // Exactness where doubles would drift.
  CHECK(amount("0.1").units == 1000);
  CHECK(amount("9999999999.20").units == U(9999999999, 2000));
  CHECK(amount("123456789012.3456").units == 1234567890123456);
}

TEST_CASE("parse_amount takes the last of two marks as decimal") {
  auto a = amount("1,234.50");
  CHECK(a.units == U(1234, 5000));
  CHECK(a.evidence == DecimalMark::dot);
  CHECK_FALSE(a.ambiguous);
  a = amount("1.234,50");
  CHECK(a.units == U(1234, 5000));
  CHECK(a.evidence == DecimalMark::comma);
  // thousands_simple.csv
  CHECK(amount("100,000.00").units == U(100000));
  CHECK(amount("300,000.20").units == U(300000, 2000));
  CHECK(amount("300,000,000.40").units == U(300000000, 4000));
  CHECK(amount("1.234.567,891").units == U(1234567, 8910));
  // The mark of the column does not change a cell that settles itself.
  CHECK(amount("1,234.50", DecimalMark::comma).units == U(1234, 5000));
  CHECK(amount("1.234,50", DecimalMark::dot).units == U(1234, 5000));
}

TEST_CASE("parse_amount reads a repeated mark as thousands") {
  auto a = amount("1,234,567");
  CHECK(a.units == U(1234567));
  CHECK(a.evidence == DecimalMark::dot);
  CHECK_FALSE(a.ambiguous);
  a = amount("1.234.567");
  CHECK(a.units == U(1234567));
  CHECK(a.evidence == DecimalMark::comma);
  CHECK(amount("1,234,567", DecimalMark::comma).units == U(1234567));
  CHECK_FALSE(is_amount("1,23,567"));  // groups after the first must be 3 digits
  CHECK_FALSE(is_amount("1234,567,890"));
  CHECK_FALSE(is_amount("1,234,5678"));
}

TEST_CASE("parse_amount flags one mark followed by three digits as ambiguous") {
  auto a = amount("1,234");
  CHECK(a.ambiguous);
  CHECK(a.evidence == DecimalMark::unknown);
  CHECK(a.units == U(1234));      // unknown: ',' read as thousands
  CHECK(a.alt_units == U(1, 2340));
  a = amount("1.234");
  CHECK(a.ambiguous);
  CHECK(a.units == U(1, 2340));   // unknown: '.' read as decimal
  CHECK(a.alt_units == U(1234));
  a = amount("1,234", DecimalMark::comma);
  CHECK(a.units == U(1, 2340));
  CHECK(a.alt_units == U(1234));
  a = amount("1.234", DecimalMark::comma);
  CHECK(a.units == U(1234));
  CHECK(a.alt_units == U(1, 2340));
  a = amount("1,234", DecimalMark::dot);
  CHECK(a.units == U(1234));
  CHECK(a.alt_units == U(1, 2340));
  a = amount("-$123,456");
  CHECK(a.ambiguous);
  CHECK(a.units == U(-123456));
  CHECK(a.alt_units == U(-123, 4560));
  CHECK(a.currency == Currency::USD);
  // Shapes that cannot be thousands are not ambiguous.
  a = amount("0,250");
  CHECK_FALSE(a.ambiguous);
  CHECK(a.units == U(0, 2500));
  CHECK(a.evidence == DecimalMark::comma);
  a = amount("1234.567");
  CHECK_FALSE(a.ambiguous);
  CHECK(a.units == U(1234, 5670));
  CHECK(a.evidence == DecimalMark::dot);
  a = amount("1 234,567");
  CHECK_FALSE(a.ambiguous);
  CHECK(a.units == U(1234, 5670));
}

TEST_CASE("parse_amount reads a lone mark not followed by three digits as decimal") {
  auto a = amount("0,25");
  CHECK(a.units == U(0, 2500));
  CHECK(a.evidence == DecimalMark::comma);
  CHECK_FALSE(a.ambiguous);
  a = amount("0,25", DecimalMark::dot);  // shape wins; evidence reports the conflict
  CHECK(a.units == U(0, 2500));
  CHECK(a.evidence == DecimalMark::comma);
  a = amount("1,1");
  CHECK(a.units == U(1, 1000));
  CHECK(a.evidence == DecimalMark::comma);
  a = amount("12.5", DecimalMark::comma);
  CHECK(a.units == U(12, 5000));
  CHECK(a.evidence == DecimalMark::dot);
  CHECK(amount("12.00").units == U(12));
  CHECK(amount("1,2345").units == U(1, 2345));
}

TEST_CASE("parse_amount reads exponents") {
  // decimal_separators.csv: both columns give 1.1, 0.25, 15300, 15300, -15300
  for (const char* cell : {"1,53e4", "1.53e4", "+1,53e4", "+1.53e4", "1,53E4", "1.53E+4"}) {
    INFO(cell);
    CHECK(amount(cell).units == U(15300));
  }
  CHECK(amount("-1,53e4").units == U(-15300));
  CHECK(amount("-1.53e4").units == U(-15300));
  CHECK(amount("1,53e4").evidence == DecimalMark::comma);
  CHECK(amount("1.53e4").evidence == DecimalMark::dot);
  CHECK_FALSE(amount("1,530e4").ambiguous);
  CHECK(amount("1,530e4").units == U(15300));
  CHECK(amount("1e5").units == U(100000));
  CHECK(amount("1e5").evidence == DecimalMark::unknown);
  CHECK(amount("15e-2").units == U(0, 1500));
  CHECK(amount("1.5e-6").units == 0);
  CHECK(amount("1.5e-6").rounded);
  CHECK(amount("5e-5").units == 1);  // 0.00005 rounds away from zero
  CHECK_FALSE(is_amount("1.23457E+17"));  // Excel-damaged ID: over the limit
  CHECK_FALSE(is_amount("1e"));
  CHECK_FALSE(is_amount("e5"));
  CHECK_FALSE(is_amount("1e1000"));
  CHECK_FALSE(is_amount("1e5e5"));
}

TEST_CASE("parse_amount reads currency symbols and codes") {
  struct Case {
    const char* cell;
    int64_t units;
    Currency currency;
  };
  const Case cases[] = {
      {"¥1,234.50", U(1234, 5000), Currency::CNY},     {"￥1,234.50", U(1234, 5000), Currency::CNY},
      {"1,234.50元", U(1234, 5000), Currency::CNY},    {"1,234.50 元", U(1234, 5000), Currency::CNY},
      {"RMB 1234.5", U(1234, 5000), Currency::CNY},    {"RMB1234.5", U(1234, 5000), Currency::CNY},
      {"rmb 1234.5", U(1234, 5000), Currency::CNY},    {"CNY 12", U(12), Currency::CNY},
      {"12 CNY", U(12), Currency::CNY},                {"¥28.16", U(28, 1600), Currency::CNY},
      {"¥12元", U(12), Currency::CNY},                 {"人民币100", U(100), Currency::CNY},
      {"$1,234.00", U(1234), Currency::USD},           {"US$ 5", U(5), Currency::USD},
      {"USD 5.5", U(5, 5000), Currency::USD},          {"5.5 USD", U(5, 5000), Currency::USD},
      {"€12", U(12), Currency::EUR},                   {"12,50 €", U(12, 5000), Currency::EUR},
      {"EUR 12", U(12), Currency::EUR},                {"12EUR", U(12), Currency::EUR},
      {"£40.00", U(40), Currency::GBP},                {"GBP 40", U(40), Currency::GBP},
      {"HK$100", U(100), Currency::HKD},               {"HKD 100", U(100), Currency::HKD},
      {"100港元", U(100), Currency::HKD},              {"NT$100", U(100), Currency::TWD},
      {"TWD 100", U(100), Currency::TWD},              {"JPY 1000", U(1000), Currency::JPY},
      {"1000円", U(1000), Currency::JPY},              {"100日元", U(100), Currency::JPY},
      {"＄12", U(12), Currency::USD},
  };
  for (const Case& c : cases) {
    INFO(c.cell);
    const ParsedAmount a = amount(c.cell);
    CHECK(a.units == c.units);
    CHECK(a.currency == c.currency);
  }
  CHECK(amount("$1,234").ambiguous);
  CHECK(amount("$1,234").units == U(1234));
  CHECK_FALSE(is_amount("$12 EUR"));  // two currencies
  CHECK_FALSE(is_amount("¥"));
  CHECK_FALSE(is_amount("$"));
  CHECK_FALSE(is_amount("RMB"));
  CHECK_FALSE(is_amount("¥ ¥ 12"));
  CHECK_FALSE(is_amount("12 元 元"));
}

TEST_CASE("parse_amount reads every way of writing a negative") {
  CHECK(amount("-¥1,234.50").units == U(-1234, 5000));
  CHECK(amount("¥-1,234.50").units == U(-1234, 5000));
  CHECK(amount("¥-1,234.50").currency == Currency::CNY);
  CHECK(amount("(12.00)").units == U(-12));
  CHECK(amount("(¥12.00)").units == U(-12));
  CHECK(amount("(¥12.00)").currency == Currency::CNY);
  CHECK(amount("(1,234.50)").units == U(-1234, 5000));
  CHECK(amount("( 12.00 )").units == U(-12));
  CHECK(amount("(12.00元)").units == U(-12));
  CHECK(amount("12.00-").units == U(-12));
  CHECK(amount("12.00 -").units == U(-12));
  CHECK(amount("\xE2\x88\x92" "12.5").units == U(-12, 5000));  // U+2212
  CHECK(amount("- 12").units == U(-12));
  CHECK(amount("-$5").units == U(-5));
  CHECK_FALSE(is_amount("--5"));
  CHECK_FALSE(is_amount("-(5)"));
  CHECK_FALSE(is_amount("(-5)"));
  CHECK_FALSE(is_amount("(5"));
  CHECK_FALSE(is_amount("5)"));
  CHECK_FALSE(is_amount("-5-"));
  CHECK_FALSE(is_amount("+-5"));
  CHECK_FALSE(is_amount("-¥-5"));
  CHECK_FALSE(is_amount("()"));
  CHECK_FALSE(is_amount("-"));
}

TEST_CASE("parse_amount maps fullwidth digits and marks") {
  auto a = amount("１，２３４．５０");
  CHECK(a.units == U(1234, 5000));
  CHECK(a.evidence == DecimalMark::dot);
  CHECK(amount("￥１，２３４．５０").currency == Currency::CNY);
  CHECK(amount("－１２").units == U(-12));
  CHECK(amount("＋１２").units == U(12));
  CHECK(amount("（１２．００）").units == U(-12));
  CHECK(amount("１２３").units == U(123));
}

TEST_CASE("parse_amount reads spaces between digit groups as thousands") {
  CHECK(amount("1 234,50").units == U(1234, 5000));
  CHECK(amount("1 234,50").evidence == DecimalMark::comma);
  CHECK(amount("1\xC2\xA0" "234,50").units == U(1234, 5000));      // NBSP
  CHECK(amount("1\xE2\x80\xAF" "234,50").units == U(1234, 5000));  // narrow NBSP
  CHECK(amount("1\xE2\x80\x89" "234.50").units == U(1234, 5000));  // thin space
  CHECK(amount("1 234 567").units == U(1234567));
  CHECK(amount("1 234 567").evidence == DecimalMark::unknown);
  CHECK(amount("1'234.50").units == U(1234, 5000));  // Swiss apostrophe
  CHECK(amount("1 234 元").units == U(1234));
  CHECK(amount("\xC2\xA0" "12.5\xC2\xA0").units == U(12, 5000));
  CHECK_FALSE(is_amount("12 34"));
  CHECK_FALSE(is_amount("1  234"));
  CHECK_FALSE(is_amount("1234 567"));
}

TEST_CASE("parse_amount rounds past four decimals half away from zero") {
  auto a = amount("1.23456");
  CHECK(a.units == U(1, 2346));
  CHECK(a.rounded);
  a = amount("1.23455");
  CHECK(a.units == U(1, 2346));
  CHECK(a.rounded);
  a = amount("-1.23455");
  CHECK(a.units == U(-1, 2346));
  CHECK(a.rounded);
  a = amount("1.23454");
  CHECK(a.units == U(1, 2345));
  CHECK(a.rounded);
  a = amount("1.00000");  // more decimals but nothing lost
  CHECK(a.units == U(1));
  CHECK_FALSE(a.rounded);
  a = amount("0.00004");
  CHECK(a.units == 0);
  CHECK(a.rounded);
  a = amount("0.123456789012345678901234567");
  CHECK(a.units == 1235);
  CHECK(a.rounded);
}

TEST_CASE("parse_amount rejects overflow") {
  CHECK(amount("900000000000000").units == 9000000000000000000);
  CHECK(amount("-900000000000000").units == -9000000000000000000);
  CHECK_FALSE(is_amount("900000000000000.0001"));
  CHECK_FALSE(is_amount("900000000000000.00005"));  // rounds past the limit
  CHECK(amount("899999999999999.99994").units == 8999999999999999999);
  CHECK_FALSE(is_amount("12345678901234567890123456789"));
  CHECK_FALSE(is_amount("1.00000000000000000000000001e30"));
  CHECK_FALSE(is_amount("999999999999999"));
  CHECK_FALSE(is_amount("99999999999999999999999"));
  CHECK_FALSE(is_amount("9e15"));
  CHECK(amount("99999999999999").units == 999999999999990000);  // 14-digit fast path
}

TEST_CASE("parse_amount returns false for unreadable cells") {
  for (const char* cell : {"", "  ", "abc", "12abc", "1.2.3,4,5", "1.234,567.89", "1,234.567,89",
                           "--5", "C81243354", "12.", "12,", ",", ".", "1,,234", "1..2", "N/A",
                           "NaN", "inf", "12%", "1/2", "0x10", "12 34 56", "\xFF", "1\xE2\x82"}) {
    INFO(cell);
    CHECK_FALSE(is_amount(cell));
  }
  CHECK(amount("1997").units == U(1997));  // a number, even if it looks like a year
}

// ---- identifiers -----------------------------------------------------------------

TEST_CASE("trim removes ASCII blanks on both sides") {
  CHECK(trim("  a b \t\r\n") == "a b");
  CHECK(trim("") == "");
  CHECK(trim(" \t\r\n") == "");
  CHECK(trim("x") == "x");
  CHECK(trim("\xC2\xA0x") == "\xC2\xA0x");  // only ASCII blanks
}

TEST_CASE("clean_id strips spreadsheet wrappers") {
  CHECK(clean_id("  C123  ") == "C123");
  CHECK(clean_id("'0012") == "0012");
  CHECK(clean_id("`0012") == "0012");
  CHECK(clean_id("4200001234\t") == "4200001234");  // WeChat Pay ids end with a tab
  CHECK(clean_id("\t4200001234") == "4200001234");
  CHECK(clean_id("`4200001234\t") == "4200001234");
  CHECK(clean_id("' \t0012") == "0012");
  CHECK(clean_id("=\"00123\"") == "00123");
  CHECK(clean_id(" =\"00123\" ") == "00123");
  CHECK(clean_id("=\"\t00123\"") == "00123");
  CHECK(clean_id("'=\"00123\"") == "00123");
  CHECK(clean_id("=\"'00123\"") == "00123");
  CHECK(clean_id("=\"\"") == "");  // Excel's empty text
  CHECK(clean_id("=\"") == "=\"");  // not a wrapper
  CHECK(clean_id("=SUM(A1)") == "=SUM(A1)");
  CHECK(clean_id("''0012") == "'0012");  // only one marker is Excel's
  CHECK(clean_id("a'b") == "a'b");
  CHECK(clean_id("") == "");
  CHECK(clean_id("'") == "");
  // A sub-view of the cell, not a copy.
  const std::string cell = " '00123 ";
  const std::string_view v = clean_id(cell);
  CHECK(v.data() == cell.data() + 2);
  CHECK(v.size() == 5);
}

TEST_CASE("currency_code names each currency") {
  CHECK(std::string(currency_code(Currency::none)) == "");
  CHECK(std::string(currency_code(Currency::CNY)) == "CNY");
  CHECK(std::string(currency_code(Currency::USD)) == "USD");
  CHECK(std::string(currency_code(Currency::EUR)) == "EUR");
  CHECK(std::string(currency_code(Currency::GBP)) == "GBP");
  CHECK(std::string(currency_code(Currency::JPY)) == "JPY");
  CHECK(std::string(currency_code(Currency::HKD)) == "HKD");
  CHECK(std::string(currency_code(Currency::TWD)) == "TWD");
  CHECK(std::string(currency_code(Currency::other)) == "XXX");
}
