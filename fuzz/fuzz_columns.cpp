// Column detection on arbitrary headers and sample rows: choose_columns (and with it
// normalize_header and, for headerless files, parse_date / parse_amount on every cell).
//
// Input layout: byte 0 holds flags (bit 0: has_header; bits 1-2: the delimiter , ; TAB |;
// bit 3: the last line is a mapping "field=column" list split by '&'), then text lines:
// the first is the header, the others sample rows. Rows are padded or cut to the header's
// width, as the CSV reader hands them over.
//
// Findings besides sanitizer reports and escaping exceptions other than InputError: a
// choice naming a column that does not exist, or two fields given one column by the
// detector (only the user's mapping may do that).
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "error.h"
#include "fuzz_util.h"
#include "io/columns.h"

namespace {

namespace fuzz = custlens::fuzz;
using namespace custlens;

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t b = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.emplace_back(s.substr(b, i - b));
      b = i + 1;
    }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  const bool has_header = flags & 1;
  const char delim = ",;\t|"[(flags >> 1) & 3];
  const bool with_mapping = flags & 8;
  std::vector<std::string> lines = split(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), '\n');

  std::vector<MappingOverride> mapping;
  if (with_mapping && lines.size() > 1) {
    for (const std::string& pair : split(lines.back(), '&')) {
      const size_t eq = pair.find('=');
      if (eq == std::string::npos) mapping.push_back({pair, ""});
      else mapping.push_back({pair.substr(0, eq), pair.substr(eq + 1)});
    }
    lines.pop_back();
  }
  std::vector<std::string> columns = split(lines[0], delim);
  if (!has_header)  // the reader names headerless columns column_1, column_2, ...
    for (size_t i = 0; i < columns.size(); ++i) columns[i] = "column_" + std::to_string(i + 1);
  std::vector<std::vector<std::string>> rows;
  for (size_t i = has_header ? 1 : 0; i < lines.size(); ++i) {
    std::vector<std::string> row = split(lines[i], delim);
    row.resize(columns.size());
    rows.push_back(std::move(row));
  }

  std::vector<ColumnChoice> out;
  try {
    out = choose_columns("orders", columns, has_header, rows, mapping);
  } catch (const InputError& e) {
    if (mapping.empty()) fuzz::fail("InputError without a mapping", e.what());
    return 0;
  }
  if (out.size() != table_fields("orders").size()) fuzz::fail("not one choice per field");
  std::set<int> detected, by_option;
  for (const ColumnChoice& c : out) {
    if (c.index < -1 || c.index >= int(columns.size())) fuzz::fail("choice outside the columns", c.field + " -> " + std::to_string(c.index));
    if (c.index < 0) continue;
    if (c.column != columns[size_t(c.index)]) fuzz::fail("choice names another column than its index", c.field);
    if (c.source == "option") {
      by_option.insert(c.index);
    } else if (!detected.insert(c.index).second) {
      fuzz::fail("two fields detected in one column", c.field + " -> " + c.column);
    }
  }
  for (int i : detected)
    if (by_option.count(i)) fuzz::fail("the detector took a column the mapping gave to another field");
  return 0;
}
