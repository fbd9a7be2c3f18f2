// What happened to one loaded file (the data-quality report of every table) and the
// accounting every loader shares: read = used + rejected + skipped, checked.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/columns.h"
#include "io/csv_reader.h"
#include "io/notices.h"

namespace custlens {

/// What happened to one loaded file, for the data-quality report.
struct FileReport {
  std::string name;
  CsvStats csv;
  std::vector<Notice> csv_notices;
  std::vector<ColumnChoice> mapping;
  uint64_t rows_read = 0, rows_used = 0, rows_rejected = 0, rows_skipped = 0;
  std::map<std::string, Tally> rejected;  ///< reason -> rows
  std::map<std::string, Tally> skipped;   ///< kind -> rows
  Tally duplicate_lines;                  ///< exact repeats of an earlier line in the file (kept)
  /// Orders of this file whose lines another export replaced (the export with the later newest
  /// order date; input-rules.md "Overlapping exports"): their lines are skipped here. Lines: the
  /// orders' first lines in this file. `replaced_by`: those exports' names.
  Tally orders_replaced;
  std::vector<std::string> replaced_by;
  /// Orders of this file that replaced an earlier-dated export's lines, and those exports.
  uint64_t orders_replacing = 0;
  std::vector<std::string> replacing;
  std::string date_order;                 ///< "ymd", "dmy", "mdy" (what the date column used)
  std::string date_order_source;          ///< "unambiguous", "inferred from line N", "option"
  std::string decimal_mark;               ///< "dot" / "comma"
  std::vector<Notice> warnings;
  /// Which table the file went to and why (load "auto" scores its header; score < 0: the
  /// caller chose the table).
  Classification classification;
};

/// `column 3 "amount"` for column index c (0-based) of `columns`; "" for no column (c < 0).
std::string column_label(const std::vector<std::string>& columns, int c);
/// The invisible_characters_in_ids warning for customer ids on these lines (none when empty).
void add_invisible_ids_warning(FileReport& report, const Tally& lines);
/// Counts the lines the reader skipped (blank, before the header, totals) in the report.
void add_reader_skips(FileReport& report, const CsvStats& csv);
/// rows_read = rows_used + rows_rejected + rows_skipped, or an internal_accounting error.
void check_accounting(const FileReport& report);
/// Ends the report of a file of a one-row-per-customer table (customers, btyd_summary): the
/// reader's stats and skipped lines, the rows repeating a customer id as skipped rows (with
/// one duplicate_customers warning; `differing` of them differ from the row kept), rows_used
/// = staged rows − rejected − repeated, then the accounting check.
void finish_per_customer_report(FileReport& report, const CsvReader& reader, uint64_t staged_rows, uint64_t rejected,
                                const Tally& dup_in_file, const Tally& dup_earlier, uint64_t differing);

}  // namespace custlens
