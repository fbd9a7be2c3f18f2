// The date parser on arbitrary cells: parse_date, then resolve_date in every order.
// Findings besides sanitizer reports: a RawDate out of its documented ranges, or a
// resolved day that does not round-trip through civil_from_days / format_day.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "io/values.h"

namespace {

namespace fuzz = custlens::fuzz;
using namespace custlens;

std::string describe(std::string_view cell, const RawDate& r) {
  return "cell [" + std::string(cell) + "] shape " + std::to_string(int(r.shape)) + " year " + std::to_string(r.year) +
         " first " + std::to_string(r.first) + " second " + std::to_string(r.second) + " seconds " +
         std::to_string(r.seconds);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view cell(reinterpret_cast<const char*>(data), size);
  RawDate r;
  if (!parse_date(cell, r)) return 0;
  if (r.shape != DateShape::ymd && r.shape != DateShape::day_month) fuzz::fail("bad shape", describe(cell, r));
  if (r.seconds < -1 || r.seconds >= 86400) fuzz::fail("time of day out of range", describe(cell, r));
  // Years come from four digits, eight-digit dates or Excel serials 20000..80000 (1954..2119).
  if (r.year < 0 || r.year > 9999) fuzz::fail("year out of range", describe(cell, r));

  // The same cell with blanks around it reads the same (trimming is part of the contract).
  RawDate padded;
  const std::string spaced = " " + std::string(cell) + "\t";
  if (!parse_date(spaced, padded) || padded.shape != r.shape || padded.year != r.year || padded.first != r.first ||
      padded.second != r.second || padded.seconds != r.seconds)
    fuzz::fail("surrounding blanks change the reading", describe(cell, r) + " vs " + describe(spaced, padded));

  for (DateOrder order : {DateOrder::unknown, DateOrder::dmy, DateOrder::mdy}) {
    int32_t day = 0;
    if (!resolve_date(r, order, day)) continue;
    if (r.shape == DateShape::day_month && order == DateOrder::unknown)
      fuzz::fail("day_month resolved without an order", describe(cell, r));
    const int32_t want_m = (r.shape == DateShape::day_month && order == DateOrder::dmy) ? r.second : r.first;
    const int32_t want_d = (r.shape == DateShape::day_month && order == DateOrder::dmy) ? r.first : r.second;
    if (!valid_civil(r.year, want_m, want_d)) fuzz::fail("resolved an invalid calendar date", describe(cell, r));
    int32_t y, m, d;
    civil_from_days(day, y, m, d);
    if (y != r.year || m != want_m || d != want_d)
      fuzz::fail("day number does not round-trip", describe(cell, r) + " -> " + std::to_string(day));
    const std::string text = format_day(day);
    RawDate again;
    int32_t day2 = 0;
    if (!parse_date(text, again) || !resolve_date(again, DateOrder::unknown, day2) || day2 != day)
      fuzz::fail("format_day does not read back", describe(cell, r) + " -> " + text);
  }
  return 0;
}
