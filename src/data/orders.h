// The orders table: order lines as columns, orders created by their first line, every
// row accounted for per file. Parsing happens once, here; analysis reads only arrays.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/arena.h"
#include "data/file_report.h"
#include "data/interner.h"
#include "io/columns.h"
#include "io/csv_reader.h"
#include "io/notices.h"
#include "io/values.h"

namespace custlens {

/// Per-file options for loading orders (camelCase twins in the JS API).
struct OrderLoadOptions {
  std::vector<MappingOverride> mapping;
  CsvOptions csv;
  DateOrder date_order = DateOrder::unknown;       ///< for d/m vs m/d columns
  DecimalMark decimal_mark = DecimalMark::unknown; ///< for "1,234"-only columns
  bool amount_is_net = false;  ///< the amount column already has refunds taken off
};

/// (64-bit key, 32-bit index) in 12 bytes (a std::pair pads to 16): the id keys and row hashes
/// that are sorted when a file ends. Ordered by key, then index, as a pair is. `first` may sit
/// at a 4-byte boundary: read it by value (a reference to it, as emplace_back(x.first) takes,
/// is misaligned; UBSan says so).
#pragma pack(push, 4)
struct KeyIndex {
  uint64_t first;   ///< the key (id_key, row hash)
  uint32_t second;  ///< an order, customer, line or index
  KeyIndex() = default;
  KeyIndex(uint64_t key, uint32_t index) : first(key), second(index) {}
  friend bool operator<(const KeyIndex& a, const KeyIndex& b) {
    return a.first != b.first ? a.first < b.first : a.second < b.second;
  }
};
#pragma pack(pop)
static_assert(sizeof(KeyIndex) == 12, "KeyIndex is packed");

/// Line flags.
enum : uint8_t {
  kLineHasAmount = 1,   ///< the line carries an amount (not a continuation line without one)
  kLineNegQty = 2,      ///< negative quantity (returns, stock adjustments)
  kLineRejected = 4,    ///< rejected after the whole file was seen (date order, Feb 30)
  kLineNegAmount = 8,
  kLineSkipped = 16,    ///< an overlap duplicate or replaced by a later export (found when a file ended)
  kLineUnused = kLineRejected | kLineSkipped,
};

/// The largest sum of money custlens adds up exactly: every sum is of int64 units of 10^-4, so
/// the absolute amounts and refunds of all loaded orders together stay within int64 (about
/// 9.2 × 10^14 currency units). Loading past it is the error `too_large`.
constexpr uint64_t kMaxTotalUnits = uint64_t(INT64_MAX);

class OrdersTable {
 public:
  // Lines (one per used row).
  Column<uint32_t> line_order;  ///< empty: line i is order i's only line (see order_of_line)
  Column<int32_t> line_day;
  Column<int64_t> line_amount;  ///< × kAmountScale
  Column<uint8_t> line_flags;
  Column<uint32_t> line_number;
  Column<uint16_t> line_file;  ///< empty: every line is the first file's (see below)

  // Orders (fields from their first line).
  Column<uint32_t> order_customer;  ///< Interner::kNone = guest
  Column<uint32_t> order_status;    ///< id in `statuses`
  Column<int64_t> order_refunded;   ///< × kAmountScale
  Column<uint16_t> order_refund_file;  ///< 1 + the file that stated order_refunded; 0: not stated
  Column<uint32_t> order_channel;   ///< id in `channels`, kNone when absent
  Column<uint32_t> order_currency;  ///< id in `currencies` (0 = not stated)
  // line_file, order_status, order_refunded (with order_refund_file) and order_currency stay empty while every value
  // is 0: one file, no status, refund or currency column (a million-row export without them
  // writes 18 MB less). Readers take an empty column as all zeros. line_order stays empty
  // while every order has one line: an order-level export.
  uint32_t order_of_line(size_t i) const { return line_order.empty() ? uint32_t(i) : line_order[i]; }

  /// Customers: dense ids in order of first appearance, each id's text kept once. Like order
  /// ids, they are matched by sorting hashes when a file ends (OrdersLoader::group_customers),
  /// not by a lookup per row.
  ByteArena customer_key_arena;
  std::vector<uint32_t> customer_key_at;  ///< in customer_key_arena, with its length
  std::vector<KeyIndex> customer_keys;  ///< (id_key, customer id), sorted
  size_t customer_count() const { return customer_key_at.size(); }
  /// The id as first written (byte-exact: what the customer tables show).
  std::string_view customer_name(uint32_t c) const { return customer_key_arena.view_sized(customer_key_at[c]); }
  /// Customers are matched by the normalised key of their id (io/normalize.h: NFKC, invisible
  /// characters dropped). Only the few whose key differs from their name keep it here, sorted
  /// by customer: ASCII ids cost nothing.
  struct CustomerMatchKey {
    uint32_t customer;
    uint32_t len;
    uint64_t at;  ///< in customer_match_arena
  };
  std::string customer_match_arena;
  std::vector<CustomerMatchKey> customer_match;
  /// The key customer c is matched by.
  std::string_view customer_key(uint32_t c) const {
    if (customer_match.empty() || c < customer_match.front().customer) return customer_name(c);
    auto it = std::lower_bound(customer_match.begin(), customer_match.end(), c,
                               [](const CustomerMatchKey& m, uint32_t x) { return m.customer < x; });
    if (it == customer_match.end() || it->customer != c) return customer_name(c);
    return std::string_view(customer_match_arena).substr(size_t(it->at), it->len);
  }
  /// Order ids. Each order keeps its id here (order_key_at; empty: no id); ids are
  /// matched by sorting hashes when a file ends, not by a lookup per row (see
  /// OrdersLoader::group_orders), and `order_keys` holds every loaded file's distinct ids
  /// sorted by hash, for the next file's matching.
  ByteArena order_key_arena;
  Column<uint32_t> order_key_at;  ///< in order_key_arena, with its length (an empty text: no id)
  std::vector<KeyIndex> order_keys;  ///< (id_key, order), sorted
  /// Orders [begin, end) of a file whose ids were all distinct and rising (the common export,
  /// one order per row or its lines together): their ids are not in `order_keys` yet. They are
  /// indexed only when a later file needs them.
  uint32_t unindexed_orders_begin = 0, unindexed_orders_end = 0;
  std::string_view order_key(uint32_t o) const {
    return order_key_arena.view_sized(order_key_at[o]);
  }
  Interner statuses;  ///< id 0 is "" (no status)
  Interner channels;
  Interner currencies;  ///< ISO codes; id 0 is "" (not stated)

  bool any_customer_column = false;
  bool any_channel_column = false;
  std::vector<bool> amount_is_net;  ///< per file
  std::vector<int32_t> file_last_day;  ///< per file: its newest order date (INT32_MIN: none)
  /// The absolute amounts and refunds loaded, in units (kMaxTotalUnits bounds it).
  uint64_t abs_units = 0;

  std::vector<FileReport> files;
  std::vector<Column<uint64_t>> file_hashes;  ///< per loaded file: every row's hash, in no order
  HashSet64 earlier_rows;        ///< file_hashes as a set, built only once a second file comes
  size_t earlier_rows_files = 0;  ///< how many files earlier_rows covers

  size_t lines() const { return line_day.size(); }
  size_t orders() const { return order_customer.size(); }
};

/// Loads one file into an OrdersTable, chunk by chunk. On any error the table is
/// rolled back to what it held before this file.
class OrdersLoader : public RowSink {
 public:
  OrdersLoader(OrdersTable& table, std::string file_name, OrderLoadOptions opt);
  ~OrdersLoader() override;

  void feed(const char* p, size_t n);
  /// Ends the file: resolves date order and decimal marks, counts duplicates, checks the
  /// row accounting. Returns the file's report (also appended to table.files).
  const FileReport& finish();
  /// Undoes everything this file added (call after an error).
  void rollback();

 private:
  struct PendingDate {
    uint32_t line_index;
    RawDate raw;
  };
  struct PendingAmount {
    uint32_t line_index;
    int64_t alt;
  };
  // A row that passed every check, on its way into the table (add_line).
  struct Pending {
    uint64_t line = 0;
    RawDate raw;
    int32_t day = 0;
    bool pending_date = false;
    int64_t amount = 0, alt = 0;
    bool ambiguous = false;
    uint8_t flags = 0;
    bool amount_missing = false;  // the amount cell is empty: fine unless the line starts an order
    bool refund_bad = false;      // the refunded cell is unreadable: likewise
    bool refund_stated = false;   // the refunded cell holds a number (0 included)
    int64_t refunded = 0;
    bool refund_ambiguous = false;  // "1,234": read with the column's decimal mark at the end
    int64_t refund_alt = 0;
    uint32_t currency_id = 0, status_id = 0, channel_id = Interner::kNone;
  };

  void on_size_estimate(uint64_t rows) override;
  void on_header(const std::vector<std::string>& columns, bool has_header) override;
  void on_row(uint64_t line, const std::string_view* fields, uint64_t row_hash) override;
  void map_columns(const std::vector<std::vector<std::string>>& sample);
  void process(uint64_t line, const std::string_view* fields, uint64_t row_hash);
  void reject(const std::string& reason, uint64_t line);
  void reject_row(const std::string& reason, uint64_t line);  // the row being processed
  void reject_cell(const char* what, int column, uint64_t line);  // reject_row("what (column)")
  void reject_date_out_of_range(uint64_t line);
  void resolve_dates();
  void resolve_amounts();
  void count_duplicates();
  void resolve_overlap();
  void apply_replacements();
  void skip_line(size_t i, const char* kind);
  void add_abs_units(int64_t a, int64_t b, uint64_t line);
  [[noreturn]] void money_too_large(uint64_t line);
  int col(const char* field) const;
  void add_line(const Pending& pd, std::string_view order_key, std::string_view customer_key);
  void size_columns(size_t lines, size_t orders);
  void grow_columns();
  void settle_columns();
  void resize_line_columns(size_t n);
  void resize_order_columns(size_t n);
  void keep_optional_columns();
  void keep_line_orders();
  void group_orders();
  void group_customers();
  template <class Written>
  void count_merged_spellings(const Column<uint32_t>& leader_of, const Column<uint32_t>& id_of, Written written);

  OrdersTable& t_;
  OrderLoadOptions opt_;
  FileReport report_;
  std::unique_ptr<CsvReader> reader_;
  uint16_t file_index_;

  // Where the table was before this file, for rollback.
  size_t mark_lines_, mark_orders_, mark_customers_, mark_customer_arena_, mark_key_arena_, mark_statuses_, mark_channels_,
      mark_currencies_, mark_match_, mark_match_arena_;
  uint64_t mark_abs_units_;

  std::vector<std::string> columns_;
  bool has_header_ = false;
  bool mapped_ = false;
  std::vector<std::vector<std::string>> sample_;  // headerless files: rows kept until mapped
  std::vector<uint64_t> sample_lines_, sample_hashes_;
  int c_order_ = -1, c_customer_ = -1, c_date_ = -1, c_amount_ = -1, c_qty_ = -1, c_price_ = -1,
      c_refund_ = -1, c_status_ = -1, c_channel_ = -1, c_currency_ = -1;

  // The last date cell that was a good ymd date, and what it read as.
  struct LastDate {
    char text[32];
    size_t len = ~size_t(0);  // none yet
    RawDate raw;
    int32_t day = 0;
  } last_date_;
  std::vector<PendingDate> pending_dates_;
  std::vector<PendingAmount> pending_amounts_;
  std::vector<PendingAmount> pending_refunds_;  // line_index holds the order's index
  Tally ambiguous_lines_;                        // "1,234"-like amounts, unit prices and refunds
  Tally day_first_evidence_, month_first_evidence_;
  Tally comma_evidence_, dot_evidence_;
  Tally rounded_amounts_;
  Tally no_order_id_;
  Tally currency_mismatch_;  // lines whose currency differs from their order's
  // Excel damage and Unicode hazards in ids (bad-input rows 33 and 34).
  Tally scientific_order_ids_, scientific_customer_ids_;  // `1.23457E+17`: digits may be cut
  Tally text_markers_;                                    // rows with ids that lost a leading ' (or ` or ="…")
  uint64_t text_marker_ids_ = 0;                          // and how many ids
  uint8_t marker_kinds_ = 0;                              // which markers: 1 ', 2 `, 4 ="…"
  Tally invisible_ids_;                                   // customer ids with bidi / zero-width characters
  Tally merged_spellings_;                                // customer ids merged with a different spelling
  void note_id(std::string_view cell, std::string_view id, uint64_t line, Tally& scientific, uint64_t& markers);
  std::string_view unicode_customer_key(std::string_view id, uint32_t order, uint64_t line);
  // Duplicate lines. A row that becomes a line leaves its hash in line_hash_ (its line number
  // is in the table); the others (rejected rows) in row_hashes_. While the order ids rise, an
  // exact repeat of a line can only be a further line of the same order (its id is in the
  // line): those are checked as they come (local_dups_), and only row_hashes_ is sorted.
  std::vector<KeyIndex> row_hashes_;  // (hash, line)
  Column<uint64_t> line_hash_;                        // per line of this file
  std::vector<uint32_t> local_dups_;                       // lines repeating a line of their order
  uint64_t row_hash_ = 0;                                  // the row being processed
  size_t run_begin_ = 0;                                   // the current order's first line
  bool dups_global_ = false;  // local checking gave up: sort every row's hash
  uint64_t appended_ = 0;
  // Rows written into the table's columns (which are sized ahead: size_columns), and their sizes.
  size_t n_lines_ = 0, n_orders_ = 0, lines_cap_ = 0, orders_cap_ = 0;
  // Which of the columns that may stay empty (OrdersTable) this file writes.
  bool keep_file_ = false, keep_status_ = false, keep_refund_ = false, keep_currency_ = false, keep_line_order_ = false;
  uint32_t prev_order_ = Interner::kNone;  // order of the previous row with an id (line items come together)
  std::vector<KeyIndex> new_keys_;  // (id_key, order) of the orders this file starts
  // While this file's order ids rise (by id_key code), none can repeat further away: no
  // new_keys_ are kept and group_orders() has nothing to match. Only for a file with no
  // earlier order ids to match against.
  bool ids_rising_ = false;
  uint64_t last_code_ = 0;
  void stop_rising();
  Column<uint8_t> started_without_amount_;          // per order of this file (index - mark_orders_)
  std::vector<uint32_t> bad_refund_lines_;               // first lines with an unreadable refund
  ByteArena customer_arena_;                             // customer id text of this file's orders
  Column<uint32_t> customer_at_;  // per order of this file, with its length (empty: a guest)
  // (id_key, order index in this file) of the orders with a customer id, in file order: what
  // group_customers() sorts, built as the rows come (no per-order key column to copy from).
  std::vector<KeyIndex> customer_keys_;
  // customer_at_ gives the matching key. Orders whose id is written otherwise
  // (non-ASCII ids that normalisation changes: rare) keep the written text here, by order.
  struct Spelling {
    uint32_t order;  // index in this file's orders
    uint32_t at;     // in customer_arena_, with its length
  };
  std::vector<Spelling> customer_spelling_;
  std::string key_buf_;
  std::vector<uint8_t> order_dead_;                      // per order of this file: joined another
  bool any_order_dead_ = false;
  // Overlapping exports (resolve_overlap): this file's orders that joined an earlier file's
  // order, as (earlier order, this file's order whose fields it had), and the earlier files'
  // lines this file replaces, applied once nothing can fail (apply_replacements).
  std::vector<std::pair<uint32_t, uint32_t>> cross_joins_;
  std::vector<uint32_t> replaced_earlier_;  // line indexes
  std::vector<std::pair<uint32_t, uint32_t>> replaced_orders_;  // (earlier file, first line) per order it lost
  std::vector<uint32_t> replacing_owners_;  // the earlier file, per order this file lost to it
  struct OrderUpdate {
    uint32_t order, from;  // an earlier order, and this file's order whose values it takes
    bool fields;           // status, channel, currency (else the refunded amount)
  };
  std::vector<OrderUpdate> order_updates_;
  int32_t last_day_ = INT32_MIN;
  uint64_t late_skipped_ = 0;  // stored lines skipped when the file ended (overlap)
  uint64_t late_rejected_ = 0;  // stored rows rejected when the file ended (date order)
  std::vector<std::string_view> row_;
};

}  // namespace custlens
