// The btyd_summary table (metrics.md section 1): per-customer summaries for the
// repeat-purchase models, for people and published data sets that already have them
// (lifetimes' cdnow_customers_summary*.csv, Fader, Hardie & Shang's donations.csv). Each row
// is a customer, or with a weight a group of customers sharing one history:
//
//   customer_id     optional (aggregated files have none)
//   btyd_frequency* x: repeat purchase days, a whole number >= 0
//   t_x*            first to last purchase (lifetimes calls it "recency": not RFM recency)
//   T*              first purchase to the end of observation (BG/BB: n, the periods)
//   btyd_monetary   mean value of the repeat purchases (Gamma-Gamma's zbar / m_x)
//   weight          how many customers share the row (default 1)
//
// The time unit is not in the file, so the table does not know it: the engine is told
// (its timeUnit option). Like the customers table, a file is staged and joins the table
// only when it ended well; every row is accounted for (read = used + rejected + skipped).
//
// The rules, per row (rejected = counted by reason with example lines, used nowhere):
// - btyd_frequency missing, not a number, negative or not whole (2.0 is fine): rejected.
// - t_x or T missing, not a number or negative: rejected.
// - t_x > T: rejected, unless within 1e-9 relative (rounding), when t_x is set to T.
// - btyd_frequency 0 with t_x not 0: rejected (one purchase has no first-to-last span).
// - weight column present and the cell blank, not a number or <= 0: rejected.
// - btyd_monetary present but unreadable: rejected; a blank cell leaves it unknown (NaN);
//   negative values are kept (the spend model leaves m <= 0 out of its fit); the value
//   of an x = 0 row is kept as written (CDNOW writes 0.00) and means nothing.
// - a customer id already seen (earlier in the file, or in an earlier file; ids matched by
//   their normalised key as in the customers table): skipped and counted, the first row
//   kept. A blank id in an id column keeps the row (it still counts in the fits) and is
//   counted in a warning.
// - numbers read as amounts are ("1,234.5", "1.234,5", fullwidth digits): "1,234" and
//   "1.234" take the decimal mark the rest of the file (or decimalMark) shows, as in the
//   customers table; a currency sign in x, t_x, T or weight makes the cell not a number.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "data/file_report.h"
#include "io/columns.h"
#include "io/csv_reader.h"
#include "io/notices.h"
#include "io/values.h"

namespace custlens {

/// Per-file options for loading a btyd_summary file (the same JSON options as the other
/// tables; dates play no part). Example mapping for a headerless `id,x,t_x,T` file:
/// {{"btyd_frequency","2"},{"t_x","3"},{"T","4"}}.
struct BtydSummaryLoadOptions {
  std::vector<MappingOverride> mapping;
  CsvOptions csv;
  DecimalMark decimal_mark = DecimalMark::unknown;  ///< for "1,234"-only columns
};

class BtydSummaryTable {
 public:
  // One entry per used row, files in load order.
  std::string name_arena;            ///< each row's customer id as written ("" when none)
  std::vector<uint64_t> name_at;
  std::vector<uint32_t> name_len;
  std::string key_arena;             ///< each row's matching key (io/normalize.h); "" when no id
  std::vector<uint64_t> key_at;
  std::vector<uint32_t> key_len;
  std::vector<std::pair<uint64_t, uint32_t>> index;  ///< (hash_bytes of the key, row), sorted; rows with ids
  std::vector<double> frequency;     ///< x, whole and >= 0
  std::vector<double> t_x;           ///< 0 <= t_x <= T; 0 where x is 0
  std::vector<double> T;
  std::vector<double> monetary;      ///< NaN when not known (no column, or a blank cell)
  std::vector<double> weight;        ///< > 0; 1 when the file has no weight column
  std::vector<uint32_t> line_number; ///< where the row is (1-based)
  std::vector<uint16_t> file;        ///< index in `files`
  std::vector<uint64_t> row_hash;    ///< the row's content, to tell repeated from conflicting duplicates

  // Which columns any loaded file had.
  bool any_id_column = false;
  bool any_monetary_column = false;
  bool any_weight_column = false;

  std::vector<FileReport> files;

  size_t size() const { return frequency.size(); }
  std::string_view name(uint32_t i) const {
    return std::string_view(name_arena).substr(size_t(name_at[i]), name_len[i]);
  }
  std::string_view key(uint32_t i) const {
    return std::string_view(key_arena).substr(size_t(key_at[i]), key_len[i]);
  }
  /// The row whose customer id has this matching key (normalize_key of the cleaned id, as
  /// in the orders and customers tables), or Interner::kNone.
  uint32_t find(std::string_view key) const;
  /// How many customers the rows stand for: the sum of the weights (11,104 for donations.csv).
  double customers() const;
};

/// Loads one file into a BtydSummaryTable, chunk by chunk (like CustomersLoader). Rows are
/// staged and checked when the file ends (the decimal mark is a property of the whole
/// file); the table changes only at the end of finish(). Throws InputError: missing_column
/// (x, t_x or T not found, naming the columns found), and the CSV reader's errors.
class BtydSummaryLoader : public RowSink {
 public:
  BtydSummaryLoader(BtydSummaryTable& table, std::string file_name, BtydSummaryLoadOptions opt);
  ~BtydSummaryLoader() override;

  void feed(const char* p, size_t n);
  /// Ends the file: decides the decimal mark, applies the rules above, drops repeated ids,
  /// checks the accounting, then appends the file's rows. Returns the file's report.
  const FileReport& finish();
  /// Forgets this file (after an error). The table is only written at the end of finish().
  void rollback();

 private:
  // The state of one numeric cell as read.
  enum Cell : uint8_t { kOk = 0, kBlank, kUnreadable };
  enum Field : uint8_t { kX = 0, kTx, kT, kMonetary, kWeight, kFields };
  struct Row {  // one row as read; checked in finish()
    uint64_t line = 0, hash = 0;
    uint32_t name_at = 0, name_len = 0;  // in names_
    uint32_t key_at = 0, key_len = 0;    // in keys_
    double v[kFields] = {0, 0, 0, 0, 1};
    uint8_t cell[kFields] = {kOk, kOk, kOk, kBlank, kOk};
    bool rejected = false;
  };
  struct Alt {  // "1,234": the value if read with the other decimal mark
    uint32_t row;
    uint8_t field;
    double value;
  };

  void on_size_estimate(uint64_t rows) override;
  void on_header(const std::vector<std::string>& columns, bool has_header) override;
  void on_row(uint64_t line, const std::string_view* fields, uint64_t row_hash) override;
  void map_columns();
  void read_cell(std::string_view cell, Field f, uint64_t line, Row& r);
  void resolve_decimal_mark();
  void check_rows();
  void drop_repeated_ids();
  void reject(Row& r, const std::string& reason);
  void append();

  BtydSummaryTable& t_;
  BtydSummaryLoadOptions opt_;
  FileReport report_;
  std::unique_ptr<CsvReader> reader_;
  std::vector<std::string> columns_;
  bool mapped_ = false, has_header_ = false;
  int c_id_ = -1;
  int c_[kFields] = {-1, -1, -1, -1, -1};

  std::vector<Row> rows_;
  std::vector<Alt> alts_;
  std::string names_, keys_, key_buf_;
  uint64_t rejected_ = 0;
  Tally comma_evidence_, dot_evidence_, ambiguous_numbers_;
  Tally clipped_t_x_, no_id_, invisible_ids_, dup_in_file_, dup_earlier_;
  uint64_t differing_dups_ = 0;
  uint64_t last_ambiguous_line_ = 0;
};

}  // namespace custlens
