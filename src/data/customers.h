// The customers table (metrics.md section 1): one row per customer, with what a
// subscription business knows about them — signup and end dates, a churned flag — plus
// the few attributes a churn snapshot such as IBM's Telco file offers (tenure, monthly
// and total charges). Columnar, like the orders table; every row accounted for per file.
//
// A file is read into a staging area and only joins the table when it ended well, so a
// failed file leaves nothing behind (rollback() has nothing to undo in the table).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "data/interner.h"
#include "data/file_report.h"
#include "io/columns.h"
#include "io/csv_reader.h"
#include "io/notices.h"
#include "io/values.h"

namespace custlens {

/// A day that is not known (no signup date, no end date).
constexpr int32_t kNoDay = std::numeric_limits<int32_t>::min();
/// A number that is not known (blank tenure, Telco's " " TotalCharges).
constexpr int64_t kNoValue = std::numeric_limits<int64_t>::min();

/// The churned flag: yes / no as the file says, unknown when blank or unreadable.
enum class Churned : uint8_t { unknown = 0, no = 1, yes = 2 };

/// Reads a churned / status cell: Yes/No, true/false, 1/0, Y/N, 是/否, and status words
/// (churned, cancelled, inactive, 流失, 已注销 … / active, 正常, 在网 …). The words are a
/// data table in customers.cpp. Unknown words give Churned::unknown.
Churned parse_churned(std::string_view cell);

/// Per-file options for loading customers (the same JSON options as orders; amountIsNet
/// does not apply).
struct CustomerLoadOptions {
  std::vector<MappingOverride> mapping;
  CsvOptions csv;
  DateOrder date_order = DateOrder::unknown;        ///< for d/m vs m/d date columns
  DecimalMark decimal_mark = DecimalMark::unknown;  ///< for the charges columns
};

class CustomersTable {
 public:
  // One entry per customer, in order of first appearance (files in load order).
  std::string name_arena;             ///< each customer's id as first written, kept once
  std::vector<uint64_t> name_at;
  std::vector<uint32_t> name_len;
  std::string key_arena;              ///< each customer's matching key (NFKC, io/normalize.h)
  std::vector<uint64_t> key_at;
  std::vector<uint32_t> key_len;
  std::vector<std::pair<uint64_t, uint32_t>> index;  ///< (hash_bytes of the key, customer), sorted
  std::vector<int32_t> signup_day;    ///< kNoDay when not known
  std::vector<int32_t> end_day;       ///< kNoDay: no end (still a customer, or not known)
  std::vector<uint8_t> churned;       ///< Churned
  std::vector<int32_t> tenure_months; ///< -1 when not known
  std::vector<int64_t> monthly_charges;  ///< × kAmountScale; kNoValue when not known
  std::vector<int64_t> total_charges;    ///< × kAmountScale; kNoValue when not known
  std::vector<uint32_t> line_number;  ///< where the customer's row is (1-based)
  std::vector<uint16_t> file;         ///< index in `files`
  std::vector<uint64_t> row_hash;     ///< the row's content, to tell repeated from conflicting duplicates

  // Which columns any loaded file had (a column can be present and blank for a customer).
  bool any_signup_column = false;
  bool any_end_column = false;
  bool any_churned_column = false;
  bool any_tenure_column = false;
  bool any_monthly_column = false;
  bool any_total_column = false;

  std::vector<FileReport> files;

  size_t size() const { return name_at.size(); }
  std::string_view name(uint32_t c) const {
    return std::string_view(name_arena).substr(size_t(name_at[c]), name_len[c]);
  }
  std::string_view key(uint32_t c) const {
    return std::string_view(key_arena).substr(size_t(key_at[c]), key_len[c]);
  }
  /// The customer whose id has this matching key, or Interner::kNone. Orders and customers
  /// use the same key (normalize_key of the cleaned id), so this joins the two tables.
  uint32_t find(std::string_view key) const;
  /// True when the table can place customers in the base over time (spec section 3:
  /// signup_date and end_date / churned): a signup column and an end-date column.
  bool has_subscription_dates() const { return any_signup_column && any_end_column; }
};

/// Loads one file into a CustomersTable, chunk by chunk (like OrdersLoader). Rows without a
/// customer id, or with a date that is not a date, are rejected (counted by reason with
/// example lines); a customer already seen (earlier in the file or in an earlier file) is
/// skipped and counted, the first row kept. read = used + rejected + skipped, checked.
class CustomersLoader : public RowSink {
 public:
  CustomersLoader(CustomersTable& table, std::string file_name, CustomerLoadOptions opt);
  ~CustomersLoader() override;

  void feed(const char* p, size_t n);
  /// Ends the file: resolves the date order (whole file), drops duplicate customers, checks
  /// the accounting, then appends the file's customers. Returns the file's report.
  const FileReport& finish();
  /// Forgets this file (after an error). The table is only written at the end of finish().
  void rollback();

 private:
  struct Row {  // one staged row that passed the checks made while reading
    uint64_t line = 0, hash = 0;
    uint32_t name_at = 0, name_len = 0;  // in names_
    uint32_t key_at = 0, key_len = 0;    // in keys_ (the matching key)
    int32_t signup = kNoDay, end = kNoDay;
    RawDate signup_raw, end_raw;
    bool signup_pending = false, end_pending = false;  // day/month order decided at the end
    uint8_t churned = 0;
    int32_t tenure = -1;
    int64_t monthly = kNoValue, total = kNoValue;
    int64_t monthly_alt = kNoValue, total_alt = kNoValue;  // "1,234": the other decimal mark
    bool rejected = false;
  };

  void on_header(const std::vector<std::string>& columns, bool has_header) override;
  void on_row(uint64_t line, const std::string_view* fields, uint64_t row_hash) override;
  void map_columns();
  bool read_date(std::string_view cell, int c, const char* what, uint64_t line, int32_t& day, RawDate& raw,
                 bool& pending);
  bool read_number(std::string_view cell, int c, uint64_t line, int64_t& units, int64_t& alt);
  void reject(const std::string& reason, uint64_t line);
  void resolve_dates();
  void resolve_decimal_mark();
  void append();

  CustomersTable& t_;
  CustomerLoadOptions opt_;
  FileReport report_;
  std::unique_ptr<CsvReader> reader_;
  std::vector<std::string> columns_;
  bool mapped_ = false;
  int c_id_ = -1, c_signup_ = -1, c_end_ = -1, c_churned_ = -1, c_tenure_ = -1, c_monthly_ = -1, c_total_ = -1;

  std::vector<Row> rows_;
  std::string names_, keys_, key_buf_;
  uint64_t late_rejected_ = 0;
  Tally day_first_, month_first_;
  Tally comma_evidence_, dot_evidence_, ambiguous_numbers_;
  Tally churned_unreadable_, churned_blank_, numbers_unreadable_, invisible_ids_;
};

}  // namespace custlens
