// The amount parser on arbitrary cells: parse_amount with each decimal mark.
// Findings besides sanitizer reports: the three marks disagreeing on whether the cell is
// an amount, or on its value where the mark cannot matter (the mark only decides
// "ambiguous" cells, where the comma reading must be the dot reading's alternative);
// values past the documented bound; a leading "+" changing an unsigned cell's value.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "io/values.h"

namespace {

namespace fuzz = custlens::fuzz;
using namespace custlens;

std::string describe(std::string_view cell, const ParsedAmount& a) {
  return "cell [" + std::string(cell) + "] units " + std::to_string(a.units) + " alt " + std::to_string(a.alt_units) +
         " currency " + currency_code(a.currency) + " ambiguous " + std::to_string(a.ambiguous) + " evidence " +
         std::to_string(int(a.evidence)) + " rounded " + std::to_string(a.rounded);
}

bool same(const ParsedAmount& a, const ParsedAmount& b) {
  return a.units == b.units && a.alt_units == b.alt_units && a.currency == b.currency && a.ambiguous == b.ambiguous &&
         a.evidence == b.evidence && a.rounded == b.rounded;
}

constexpr int64_t kBound = 9000000000000000000ll;  // values.cpp's kMaxUnits

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view cell(reinterpret_cast<const char*>(data), size);
  ParsedAmount unk, dot, comma;
  const bool ok_unk = parse_amount(cell, DecimalMark::unknown, unk);
  const bool ok_dot = parse_amount(cell, DecimalMark::dot, dot);
  const bool ok_comma = parse_amount(cell, DecimalMark::comma, comma);
  if (ok_unk != ok_dot || ok_unk != ok_comma) fuzz::fail("decimal marks disagree on whether the cell is an amount", std::string(cell));
  if (!ok_unk) return 0;
  if (!same(unk, dot)) fuzz::fail("unknown mark reads differently from dot", describe(cell, unk) + " vs " + describe(cell, dot));
  if (!dot.ambiguous) {
    if (!same(dot, comma)) fuzz::fail("an unambiguous cell depends on the mark", describe(cell, dot) + " vs " + describe(cell, comma));
    if (dot.units != dot.alt_units) fuzz::fail("an unambiguous cell has an alternative value", describe(cell, dot));
  } else if (comma.units != dot.alt_units || comma.alt_units != dot.units || !comma.ambiguous) {
    fuzz::fail("an ambiguous cell's readings are not each other's alternative", describe(cell, dot) + " vs " + describe(cell, comma));
  }
  for (const ParsedAmount* a : {&dot, &comma})
    if (a->units > kBound || a->units < -kBound || a->alt_units > kBound || a->alt_units < -kBound)
      fuzz::fail("value past the documented bound", describe(cell, *a));

  // "12.50" and "+12.50" are one value. Only for cells starting with a digit and carrying
  // no minus, parenthesis, quote or backtick anywhere (those change sign or wrapping).
  if (size > 0 && data[0] >= '0' && data[0] <= '9' && dot.units >= 0 &&
      cell.find_first_of("-()'`\"=") == std::string_view::npos &&
      cell.find("\xEF\xBC\x8D") == std::string_view::npos &&  // fullwidth hyphen-minus
      cell.find("\xE2\x88\x92") == std::string_view::npos &&  // minus sign
      cell.find("\xEF\xBC\x88") == std::string_view::npos &&  // fullwidth (
      cell.find("\xEF\xBC\x89") == std::string_view::npos) {  // fullwidth )
    ParsedAmount plus;
    const std::string signed_cell = "+" + std::string(cell);
    if (!parse_amount(signed_cell, DecimalMark::dot, plus) || !same(plus, dot))
      fuzz::fail("a leading + changes the reading", describe(cell, dot) + " vs " + describe(signed_cell, plus));
  }
  return 0;
}
