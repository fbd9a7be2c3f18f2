#include "data/orders.h"

#include <algorithm>
#include <cstdlib>
#include <tuple>
#include <unordered_map>

#include "blocks.h"
#include "error.h"
#include "io/normalize.h"

namespace custlens {

namespace {

constexpr size_t kHeaderlessSample = 200;  // rows looked at to map a file without a header

// "rmb", "人民币", "¥" -> "CNY"; other codes upper-cased as written.
std::string normalize_currency(std::string_view s) {
  ParsedAmount a;
  std::string probe = std::string(s) + " 1";
  if (parse_amount(probe, DecimalMark::dot, a) && a.currency != Currency::none && a.currency != Currency::other)
    return currency_code(a.currency);
  std::string out(s);
  for (char& c : out) c = (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
  return out;
}

// Order dates are plausible from 1970 to 2099. Outside that they are typos (`0997-05-31` for
// 1997), and one such row would stretch every period series and cohort table over centuries.
const int32_t kFirstOrderDay = days_from_civil(1970, 1, 1);
const int32_t kLastOrderDay = days_from_civil(2099, 12, 31);
bool plausible_order_day(int32_t day) { return day >= kFirstOrderDay && day <= kLastOrderDay; }
std::string out_of_range_reason(const std::vector<std::string>& columns, int c) {
  return "order date outside 1970-2099 (" + column_label(columns, c) + ")";
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

const char* const kOverlapDuplicate = "overlap duplicate (same line in an earlier file)";
const char* const kReplacedByLater = "replaced by a later export";

// How Excel's General format shows a number too wide for its cell: one digit, optional
// decimals (',' in some locales), E, a sign and at least two exponent digits: `1.23457E+17`,
// `4.5E+06`, `1E+15`. The first two bytes reject ordinary ids (`536365`, `C81243354`) at once.
bool looks_scientific(std::string_view s) {
  if (s.size() < 5 || s[0] < '1' || s[0] > '9') return false;
  size_t i = 1;
  if (s[i] == '.' || s[i] == ',') {
    size_t b = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == b) return false;
  }
  if (i + 4 > s.size() || (s[i] != 'E' && s[i] != 'e') || (s[i + 1] != '+' && s[i + 1] != '-')) return false;
  size_t b = i += 2;
  while (i < s.size() && is_digit(s[i])) ++i;
  return i == s.size() && i - b >= 2;
}

}  // namespace

OrdersLoader::OrdersLoader(OrdersTable& table, std::string file_name, OrderLoadOptions opt)
    : t_(table), opt_(std::move(opt)) {
  report_.name = std::move(file_name);
  file_index_ = uint16_t(t_.files.size());
  mark_lines_ = t_.lines();
  mark_orders_ = t_.orders();
  mark_customers_ = t_.customer_count();
  mark_customer_arena_ = t_.customer_key_arena.size();
  mark_key_arena_ = t_.order_key_arena.size();
  mark_match_ = t_.customer_match.size();
  mark_match_arena_ = t_.customer_match_arena.size();
  if (t_.statuses.size() == 0) t_.statuses.intern("");
  if (t_.currencies.size() == 0) t_.currencies.intern("");
  mark_statuses_ = t_.statuses.size();
  mark_channels_ = t_.channels.size();
  mark_currencies_ = t_.currencies.size();
  mark_abs_units_ = t_.abs_units;
  n_lines_ = lines_cap_ = mark_lines_;
  n_orders_ = orders_cap_ = mark_orders_;
  keep_optional_columns();
  // Overlap check against earlier files: a hash set, built only when there are earlier files
  // (one file alone pays nothing for it).
  for (; t_.earlier_rows_files < t_.file_hashes.size(); ++t_.earlier_rows_files)
    for (uint64_t h : t_.file_hashes[t_.earlier_rows_files]) t_.earlier_rows.insert(h);
  ids_rising_ = t_.order_keys.empty() && t_.unindexed_orders_begin == t_.unindexed_orders_end;
  dups_global_ = !ids_rising_;
  reader_ = std::make_unique<CsvReader>(opt_.csv, *this);
}

// A loader dropped without finish() or rollback() leaves the rows it wrote, as push_back did.
OrdersLoader::~OrdersLoader() { settle_columns(); }

void OrdersLoader::rollback() {
  n_lines_ = lines_cap_ = std::min(n_lines_, mark_lines_);
  n_orders_ = orders_cap_ = std::min(n_orders_, mark_orders_);
  auto cut = [](auto& v, size_t n) {
    if (v.size() > n) v.resize(n);
  };
  cut(t_.line_order, mark_lines_);
  cut(t_.line_day, mark_lines_);
  cut(t_.line_amount, mark_lines_);
  cut(t_.line_flags, mark_lines_);
  cut(t_.line_number, mark_lines_);
  cut(t_.line_file, mark_lines_);
  cut(t_.order_customer, mark_orders_);
  cut(t_.order_status, mark_orders_);
  cut(t_.order_refunded, mark_orders_);
  cut(t_.order_refund_file, mark_orders_);
  cut(t_.order_channel, mark_orders_);
  cut(t_.order_currency, mark_orders_);
  cut(t_.customer_key_at, mark_customers_);
  t_.customer_key_arena.truncate(mark_customer_arena_);
  cut(t_.customer_match, mark_match_);
  t_.customer_match_arena.resize(std::min(t_.customer_match_arena.size(), mark_match_arena_));
  // The sorted id lists may already hold this file's ids (when a check after grouping failed).
  auto drop = [](std::vector<KeyIndex>& v, uint32_t from) {
    v.erase(std::remove_if(v.begin(), v.end(), [&](const auto& p) { return p.second >= from; }), v.end());
  };
  drop(t_.customer_keys, uint32_t(mark_customers_));
  drop(t_.order_keys, uint32_t(mark_orders_));
  if (t_.unindexed_orders_end > mark_orders_) t_.unindexed_orders_begin = t_.unindexed_orders_end = 0;
  if (t_.file_hashes.size() > t_.files.size()) t_.file_hashes.resize(t_.files.size());
  t_.order_key_arena.truncate(mark_key_arena_);
  cut(t_.order_key_at, mark_orders_);
  t_.statuses.truncate(mark_statuses_);
  t_.channels.truncate(mark_channels_);
  t_.currencies.truncate(mark_currencies_);
  t_.abs_units = mark_abs_units_;
}

int OrdersLoader::col(const char* field) const {
  for (const auto& c : report_.mapping)
    if (c.field == field) return c.index;
  return -1;
}

void OrdersLoader::feed(const char* p, size_t n) { reader_->feed(p, n); }

void OrdersLoader::on_size_estimate(uint64_t rows) {
  // Every row may be a line and an order: the columns are sized once (page faults and copies
  // of growing vectors were a visible part of loading a million rows).
  size_columns(n_lines_ + size_t(rows), n_orders_ + size_t(rows));
}

// The columns are written by index up to their size (add_line), the rows counted in n_lines_
// and n_orders_: one check per row instead of a capacity check per column per row. Sizes grow
// in big steps when the estimate is exceeded; settle_columns() cuts them to the rows written.
void OrdersLoader::size_columns(size_t lines, size_t orders) {
  if (lines > lines_cap_) resize_line_columns(lines);
  if (orders > orders_cap_) resize_order_columns(orders);
}

void OrdersLoader::grow_columns() {
  size_t lines = n_lines_ - mark_lines_, orders = n_orders_ - mark_orders_;
  size_columns(n_lines_ + std::max<size_t>(lines, 65536), n_orders_ + std::max<size_t>(orders, 65536));
}

void OrdersLoader::settle_columns() {
  if (lines_cap_ != n_lines_) resize_line_columns(n_lines_);
  if (orders_cap_ != n_orders_) resize_order_columns(n_orders_);
}

// Every per-line column (the table's and this file's) to n lines of the table.
void OrdersLoader::resize_line_columns(size_t n) {
  lines_cap_ = n;
  if (keep_line_order_) t_.line_order.resize(n);
  t_.line_day.resize(n);
  t_.line_amount.resize(n);
  t_.line_flags.resize(n);
  t_.line_number.resize(n);
  if (keep_file_) t_.line_file.resize(n);
  line_hash_.resize(n - mark_lines_);
}

namespace {
// An empty column written out from now on: zeros for the `rows` before, room for `cap`.
template <class Col>
void start_zeros(Col& column, size_t rows, size_t cap) {
  column.assign(rows, 0);
  column.resize(cap);
}
}  // namespace

// The columns that stay empty while all zeros (OrdersTable) are written from the file that
// needs them on: a second file needs the file column; a file with a status, refund or
// currency column, or after one that had it, the order column. Called when the file starts
// and when its columns are known; the rows before hold zeros. (A currency can also come from
// an amount's symbol: add_line starts the column at the first.)
void OrdersLoader::keep_optional_columns() {
  auto keep = [](auto& column, bool needed, size_t rows, size_t cap) {
    if (needed && column.empty()) start_zeros(column, rows, cap);
    return needed;
  };
  keep_line_order_ = keep_line_order_ || !t_.line_order.empty();
  keep_file_ = keep(t_.line_file, file_index_ > 0 || !t_.line_file.empty(), n_lines_, lines_cap_);
  keep_status_ = keep(t_.order_status, c_status_ >= 0 || !t_.order_status.empty(), n_orders_, orders_cap_);
  keep_refund_ = keep(t_.order_refunded, c_refund_ >= 0 || !t_.order_refunded.empty(), n_orders_, orders_cap_);
  keep(t_.order_refund_file, keep_refund_, n_orders_, orders_cap_);
  keep_currency_ = keep(t_.order_currency, c_currency_ >= 0 || !t_.order_currency.empty(), n_orders_, orders_cap_);
}

// A line that joins an earlier line's order (or a regrouping, group_orders) ends the table's
// one-line-per-order form: line_order is written out, line i of order i so far.
void OrdersLoader::keep_line_orders() {
  keep_line_order_ = true;
  t_.line_order.resize(lines_cap_);
  for (size_t i = 0; i < n_lines_; ++i) t_.line_order[i] = uint32_t(i);
}

// Every per-order column (the table's and this file's) to n orders of the table; room for
// as many customer keys (a smaller reserve does nothing).
void OrdersLoader::resize_order_columns(size_t n) {
  orders_cap_ = n;
  t_.order_customer.resize(n);
  if (keep_status_) t_.order_status.resize(n);
  if (keep_refund_) t_.order_refunded.resize(n), t_.order_refund_file.resize(n);
  t_.order_channel.resize(n);
  if (keep_currency_) t_.order_currency.resize(n);
  t_.order_key_at.resize(n);
  started_without_amount_.resize(n - mark_orders_);
  customer_at_.resize(n - mark_orders_);
  customer_keys_.reserve(n - mark_orders_);
}

void OrdersLoader::on_header(const std::vector<std::string>& columns, bool has_header) {
  columns_ = columns;
  has_header_ = has_header;
  row_.resize(columns.size());
  if (has_header) map_columns({});
}

void OrdersLoader::map_columns(const std::vector<std::vector<std::string>>& sample) {
  report_.mapping = choose_columns("orders", columns_, has_header_, sample, opt_.mapping);
  c_order_ = col("order_id");
  c_customer_ = col("customer_id");
  c_date_ = col("order_date");
  c_amount_ = col("amount");
  c_qty_ = col("quantity");
  c_price_ = col("unit_price");
  c_refund_ = col("refunded_amount");
  c_status_ = col("status");
  c_channel_ = col("channel");
  c_currency_ = col("currency");
  keep_optional_columns();
  std::string cols;
  for (size_t i = 0; i < columns_.size() && i < 12; ++i) cols += (i ? ", " : "") + columns_[i];
  if (c_date_ < 0)
    throw InputError("missing_column",
                     "No order date column found among: " + cols +
                         ". Name the column holding the order date (mapping: column=order_date)");
  if (c_amount_ < 0 && (c_qty_ < 0 || c_price_ < 0))
    throw InputError("missing_column",
                     "No amount column (nor quantity and unit price) found among: " + cols +
                         ". Name the column holding the order amount (mapping: column=amount)");
  if (c_customer_ < 0)
    report_.warnings.push_back({"no_customer_column",
                                "No customer column: order metrics only; customer metrics need one "
                                "(mapping: column=customer_id)",
                                0, {}});
  mapped_ = true;
}

void OrdersLoader::on_row(uint64_t line, const std::string_view* fields, uint64_t row_hash) {
  if (mapped_) {
    process(line, fields, row_hash);
    return;
  }
  // A file without a header is mapped by what its values look like: keep a sample first.
  sample_.emplace_back(fields, fields + columns_.size());
  sample_lines_.push_back(line);
  sample_hashes_.push_back(row_hash);
  if (sample_.size() < kHeaderlessSample) return;
  map_columns(sample_);
  std::vector<std::string_view> views(columns_.size());
  for (size_t r = 0; r < sample_.size(); ++r) {
    for (size_t i = 0; i < columns_.size(); ++i) views[i] = sample_[r][i];
    process(sample_lines_[r], views.data(), sample_hashes_[r]);
  }
  sample_.clear();
}

void OrdersLoader::reject(const std::string& reason, uint64_t line) {
  report_.rejected[reason].add(line);
  ++report_.rows_rejected;
}

void OrdersLoader::reject_row(const std::string& reason, uint64_t line) {
  if (t_.earlier_rows.size() && t_.earlier_rows.contains(row_hash_)) {  // the same bad row in an earlier export
    report_.skipped[kOverlapDuplicate].add(line);
    ++report_.rows_skipped;
    return;
  }
  reject(reason, line);
  row_hashes_.emplace_back(row_hash_, uint32_t(line));  // a rejected row may repeat another
}

// "what (column)": one place builds these reasons, out of line of the per-row functions
// (process, add_line): the string code of nine rejections made process() a fifth larger.
CUSTLENS_NOINLINE void OrdersLoader::reject_cell(const char* what, int column, uint64_t line) {
  reject_row(std::string(what) + " (" + column_label(columns_, column) + ")", line);
}

CUSTLENS_NOINLINE void OrdersLoader::reject_date_out_of_range(uint64_t line) {
  reject_row(out_of_range_reason(columns_, c_date_), line);
}

void OrdersLoader::process(uint64_t line, const std::string_view* f, uint64_t row_hash) {
  // A row that repeats an earlier file's is found when the file ends, by what its fields mean
  // (resolve_overlap); only a rejected row is matched by its bytes (reject_row).
  row_hash_ = row_hash;

  // Ids first: their Excel damage is reported for every row, used or not.
  std::string_view order_key = c_order_ >= 0 ? clean_id(f[c_order_]) : std::string_view();
  std::string_view customer_key = c_customer_ >= 0 ? clean_id(f[c_customer_]) : std::string_view();
  // (The checks that reject ordinary ids, inline: this runs twice per row.)
  auto suspect = [](std::string_view cell, std::string_view id) {
    return id.data() != cell.data() ||
           (uint8_t(id[0] - '1') < 9 && id.size() >= 5 && (id[1] == '.' || id[1] == ',' || (id[1] | 0x20) == 'e'));
  };
  const bool suspect_order = !order_key.empty() && suspect(f[c_order_], order_key);
  const bool suspect_customer = !customer_key.empty() && suspect(f[c_customer_], customer_key);
  if (suspect_order || suspect_customer) {
    uint64_t markers = 0;
    if (suspect_order) note_id(f[c_order_], order_key, line, scientific_order_ids_, markers);
    if (suspect_customer) note_id(f[c_customer_], customer_key, line, scientific_customer_ids_, markers);
    if (markers) text_markers_.add(line), text_marker_ids_ += markers;
  }

  // Date.
  std::string_view date_cell = trim(f[c_date_]);
  RawDate raw;
  int32_t day = 0;
  bool pending_date = false;
  if (date_cell.size() == last_date_.len && same_bytes(date_cell.data(), last_date_.text, last_date_.len)) {
    raw = last_date_.raw;  // the same cell as the last good ymd date (rows come in date runs)
    day = last_date_.day;
  } else {
    if (date_cell.empty()) {
      reject_cell("order date missing", c_date_, line);
      return;
    }
    if (!parse_date(date_cell, raw)) {
      reject_cell("order date unreadable", c_date_, line);
      return;
    }
    if (raw.shape == DateShape::ymd) {
      if (!resolve_date(raw, DateOrder::unknown, day)) {
        reject_cell("order date is not a calendar date", c_date_, line);
        return;
      }
      if (!plausible_order_day(day)) {
        reject_date_out_of_range(line);
        return;
      }
      if (date_cell.size() <= sizeof last_date_.text) {
        copy_short(last_date_.text, date_cell.data(), date_cell.size());
        last_date_.len = date_cell.size();
        last_date_.raw = raw;
        last_date_.day = day;
      }
    } else {
      pending_date = true;
      if (raw.first > 12) day_first_evidence_.add(line);
      if (raw.second > 12) month_first_evidence_.add(line);
    }
  }

  // Amount.
  Pending pd;
  pd.line = line;
  pd.raw = raw;
  pd.day = day;
  pd.pending_date = pending_date;
  Currency currency = Currency::none;
  if (c_amount_ >= 0) {
    std::string_view cell = trim(f[c_amount_]);
    if (cell.empty()) {
      pd.amount_missing = true;  // fine on a further line of an order; decided with the ids
    } else {
      ParsedAmount a;
      if (!parse_amount(cell, opt_.decimal_mark, a)) {
        reject_cell("amount unreadable", c_amount_, line);
        return;
      }
      pd.amount = a.units;
      pd.flags |= kLineHasAmount;
      if (a.ambiguous) pd.ambiguous = true, pd.alt = a.alt_units, ambiguous_lines_.add(line);
      if (a.evidence == DecimalMark::comma) comma_evidence_.add(line);
      if (a.evidence == DecimalMark::dot) dot_evidence_.add(line);
      if (a.rounded) rounded_amounts_.add(line);
      currency = a.currency;
    }
    if (c_qty_ >= 0) {
      ParsedAmount q;
      if (parse_amount(trim(f[c_qty_]), DecimalMark::dot, q) && q.units < 0) pd.flags |= kLineNegQty;
    }
  } else {
    ParsedAmount q, p;
    std::string_view qc = trim(f[c_qty_]), pc = trim(f[c_price_]);
    if (qc.empty() || pc.empty()) {
      reject_cell(qc.empty() ? "quantity missing" : "unit price missing", qc.empty() ? c_qty_ : c_price_, line);
      return;
    }
    if (!parse_amount(qc, DecimalMark::dot, q) || !parse_amount(pc, opt_.decimal_mark, p)) {
      bool qbad = !parse_amount(qc, DecimalMark::dot, q);
      reject_cell(qbad ? "quantity unreadable" : "unit price unreadable", qbad ? c_qty_ : c_price_, line);
      return;
    }
    // (q × 10^4)(p × 10^4) / 10^4, rounded half away from zero; exact for 3-decimal prices.
    __int128 prod = __int128(q.units) * p.units;
    __int128 half = kAmountScale / 2;
    __int128 units = prod >= 0 ? (prod + half) / kAmountScale : (prod - half) / kAmountScale;
    if (units > __int128(kMaxAmountUnits) || units < -__int128(kMaxAmountUnits)) {
      reject_cell("quantity × unit price over 9 × 10^14", c_price_, line);
      return;
    }
    pd.amount = int64_t(units);
    pd.flags |= kLineHasAmount;
    if (q.units < 0) pd.flags |= kLineNegQty;
    if (p.evidence == DecimalMark::comma) comma_evidence_.add(line);
    if (p.evidence == DecimalMark::dot) dot_evidence_.add(line);
    if (p.ambiguous) {
      pd.ambiguous = true;
      pd.alt = int64_t((__int128(q.units) * p.alt_units) / kAmountScale);
      ambiguous_lines_.add(line);
    }
    currency = p.currency;
  }
  if (pd.amount < 0) pd.flags |= kLineNegAmount;

  // Currency: a currency column wins over symbols in the amount.
  if (c_currency_ >= 0 && !trim(f[c_currency_]).empty()) {
    pd.currency_id = t_.currencies.intern(normalize_currency(trim(f[c_currency_])));
  } else if (currency != Currency::none) {
    pd.currency_id = t_.currencies.intern(currency_code(currency));
  }

  // Order-level fields, used if this line starts an order (few distinct values: interned now).
  if (c_refund_ >= 0 && !opt_.amount_is_net) {
    std::string_view rc = trim(f[c_refund_]);
    ParsedAmount r;
    if (!rc.empty() && !parse_amount(rc, opt_.decimal_mark, r)) {
      pd.refund_bad = true;
    } else if (!rc.empty()) {
      pd.refund_stated = true;
      pd.refunded = r.units < 0 ? -r.units : r.units;  // some exports write refunds negative
      if (r.ambiguous) {
        pd.refund_ambiguous = true;
        pd.refund_alt = r.alt_units < 0 ? -r.alt_units : r.alt_units;
        ambiguous_lines_.add(line);
      }
      if (r.evidence == DecimalMark::comma) comma_evidence_.add(line);
      if (r.evidence == DecimalMark::dot) dot_evidence_.add(line);
    }
  }
  pd.status_id = c_status_ >= 0 ? t_.statuses.intern(trim(f[c_status_])) : 0;
  std::string_view ch = c_channel_ >= 0 ? trim(f[c_channel_]) : std::string_view();
  pd.channel_id = ch.empty() ? Interner::kNone : t_.channels.intern(ch);

  if (c_order_ >= 0 && order_key.empty()) no_order_id_.add(line);
  add_abs_units(std::max(std::abs(pd.amount), std::abs(pd.alt)), std::max(pd.refunded, pd.refund_alt), line);
  add_line(pd, order_key, customer_key);
}

// Bad-input row 34: the key of a non-ASCII customer id (out of add_line, which ASCII ids take
// alone). When it differs from the id, the id as written is kept for the customer's name.
std::string_view OrdersLoader::unicode_customer_key(std::string_view id, uint32_t order, uint64_t line) {
  bool invisible = false;
  std::string_view key = normalize_key_into(id, key_buf_, &invisible);
  if (key.data() == id.data()) return id;
  key = trim(key);  // NFKC makes no-break and ideographic spaces plain spaces
  if (invisible) invisible_ids_.add(line);
  if (key.empty()) return key;  // nothing visible: a guest
  const uint64_t at = customer_arena_.append_sized(id);
  if (at > UINT32_MAX) throw InputError("too_large", "The customer ids of the file take more than 4 GiB", line);
  customer_spelling_.push_back({order - uint32_t(mark_orders_), uint32_t(at)});
  return key;
}

// Bad-input row 33: ids stay text as written; Excel's damage is only reported.
void OrdersLoader::note_id(std::string_view cell, std::string_view id, uint64_t line, Tally& scientific,
                           uint64_t& markers) {
  if (looks_scientific(id)) scientific.add(line);
  if (id.data() == cell.data()) return;  // nothing was cut off the front: no marker (the usual case)
  std::string_view t = trim(cell);
  if (id.data() == t.data()) return;  // only spaces
  ++markers;
  for (size_t i = 0; i < 4 && i < t.size() && t.data() + i < id.data(); ++i) {
    if (t[i] == '\'') marker_kinds_ |= 1;
    if (t[i] == '`') marker_kinds_ |= 2;
    if (t[i] == '=') marker_kinds_ |= 4;
  }
}

// The line joins the order of the line before it, or starts a new order. Orders whose ids
// recur further away are joined when the file ends (group_orders): sorting hashes once is
// far cheaper than a hash-table probe per row.
void OrdersLoader::add_line(const Pending& pd, std::string_view order_key, std::string_view customer_key) {
  const bool has_order_key = !order_key.empty();
  uint32_t order = Interner::kNone;
  bool new_order = true;
  if (has_order_key && prev_order_ != Interner::kNone && same_text(order_key, t_.order_key(prev_order_))) {
    order = prev_order_;
    new_order = false;
  }
  // Without an id, a line that cannot start an order is rejected now; with one, it may
  // belong to an order further up the file, which group_orders() decides.
  if (new_order && !has_order_key && pd.amount_missing) {
    reject_cell("amount missing", c_amount_, pd.line);
    return;
  }
  if (new_order && !has_order_key && pd.refund_bad) {
    reject_cell("refunded amount unreadable", c_refund_, pd.line);
    return;
  }
  if (n_lines_ == lines_cap_ || (new_order && n_orders_ == orders_cap_)) grow_columns();
  if (pd.currency_id && !keep_currency_) {  // the first stated currency (an amount's symbol)
    keep_currency_ = true;
    start_zeros(t_.order_currency, n_orders_, orders_cap_);
  }
  if (new_order) {
    order = uint32_t(n_orders_);
    const size_t k = order - mark_orders_;  // index in this file's orders
    const uint64_t key_at = t_.order_key_arena.append_sized(order_key);
    if (key_at > UINT32_MAX) throw InputError("too_large", "The order ids loaded take more than 4 GiB", pd.line);
    t_.order_key_at[order] = uint32_t(key_at);
    if (has_order_key) {
      uint64_t code;
      uint64_t key = id_key(order_key.data(), order_key.size(), code);
      if (ids_rising_ && code > last_code_) {
        last_code_ = code;
      } else {
        if (ids_rising_) stop_rising();
        new_keys_.emplace_back(key, order);
      }
    }
    started_without_amount_[k] = pd.amount_missing;
    if (pd.refund_bad) bad_refund_lines_.push_back(uint32_t(n_lines_));
    // The customer's dense id is given when the file ends (group_customers), by the id's
    // matching key. An id that id_key packs exactly (even key) is ASCII, hence its own key:
    // only hashed ids are looked at again, and only non-ASCII ones normalised. (One id_key
    // call site, so that it stays inlined: a loop of at most two turns.)
    std::string_view ck = customer_key, key = ck;
    uint64_t hash;
    for (;;) {
      hash = key.empty() ? 0 : id_key(key.data(), key.size());
      if (id_key_exact(hash) || key.data() != ck.data() || is_ascii(ck)) break;
      key = unicode_customer_key(ck, order, pd.line);
      if (key.data() == ck.data()) break;
    }
    const uint64_t customer_at = customer_arena_.append_sized(key);
    if (customer_at > UINT32_MAX) throw InputError("too_large", "The customer ids of the file take more than 4 GiB", pd.line);
    customer_at_[k] = uint32_t(customer_at);
    if (!key.empty()) customer_keys_.emplace_back(hash, uint32_t(k));
    t_.order_customer[order] = Interner::kNone;
    if (keep_status_) t_.order_status[order] = pd.status_id;
    if (pd.refund_ambiguous) pending_refunds_.push_back({order, pd.refund_alt});
    if (keep_refund_) t_.order_refunded[order] = pd.refunded, t_.order_refund_file[order] = pd.refund_stated ? file_index_ + 1 : 0;
    t_.order_channel[order] = pd.channel_id;
    if (keep_currency_) t_.order_currency[order] = pd.currency_id;
    ++n_orders_;
  } else if (pd.currency_id && t_.order_currency[order] != pd.currency_id) {
    if (t_.order_currency[order] == 0) {
      t_.order_currency[order] = pd.currency_id;
    } else {
      currency_mismatch_.add(pd.line);
    }
  }
  if (has_order_key) prev_order_ = order;
  uint32_t index = uint32_t(n_lines_);
  if (!dups_global_) {
    if (!has_order_key) {
      dups_global_ = true;  // a line without an id may repeat anywhere
    } else if (new_order) {
      run_begin_ = index;
    } else if (index - run_begin_ > 64) {
      dups_global_ = true;  // a long order: checking each line against all before it costs too much
    } else {
      for (size_t j = run_begin_; j < index; ++j)
        if (line_hash_[j - mark_lines_] == row_hash_) {
          local_dups_.push_back(uint32_t(pd.line));
          break;
        }
    }
  }
  line_hash_[index - mark_lines_] = row_hash_;
  if (pd.pending_date) pending_dates_.push_back({index, pd.raw});
  if (pd.ambiguous) pending_amounts_.push_back({index, pd.alt});
  if (!keep_line_order_ && order != index) keep_line_orders();
  if (keep_line_order_) t_.line_order[index] = order;
  t_.line_day[index] = pd.day;
  t_.line_amount[index] = pd.amount;
  t_.line_flags[index] = pd.flags;
  t_.line_number[index] = uint32_t(pd.line);
  if (keep_file_) t_.line_file[index] = file_index_;
  ++n_lines_;
  ++appended_;
}

namespace {

// Sorts (hash, index) pairs by hash, then index (indexes increase in the input). Two stable
// LSD counting passes on the hash's top 24 bits (12 bits each: 4,096 buckets, cache-friendly),
// then an insertion pass that orders the short runs equal in those bits: no comparison sort,
// which is slow in WebAssembly on millions of 64-bit keys.
void radix_sort_by_hash(std::vector<KeyIndex>& v) {
  if (v.size() < 4096) {
    std::sort(v.begin(), v.end());
    return;
  }
  constexpr int kBits = 12;
  constexpr size_t kBuckets = size_t(1) << kBits;
  std::vector<KeyIndex> tmp(v.size());
  std::vector<uint32_t> count(kBuckets);
  for (int shift = 64 - 2 * kBits; shift < 64; shift += kBits) {
    std::fill(count.begin(), count.end(), 0);
    for_blocks(0, v.size(), [&](size_t b, size_t e) CUSTLENS_NOINLINE {
      const KeyIndex* in = v.data();
      uint32_t* counts = count.data();
      for (size_t i = b; i < e; ++i) ++counts[(in[i].first >> shift) & (kBuckets - 1)];
    });
    uint32_t sum = 0;
    for (auto& c : count) {
      uint32_t n = c;
      c = sum;
      sum += n;
    }
    for_blocks(0, v.size(), [&](size_t b, size_t e) CUSTLENS_NOINLINE {
      const KeyIndex* in = v.data();
      KeyIndex* out = tmp.data();
      uint32_t* next = count.data();
      for (size_t i = b; i < e; ++i) out[next[(in[i].first >> shift) & (kBuckets - 1)]++] = in[i];
    });
    v.swap(tmp);
  }
  for_blocks(1, v.size(), [&](size_t b, size_t e) CUSTLENS_NOINLINE {
    KeyIndex* w = v.data();
    for (size_t i = b; i < e; ++i) {
      if (!(w[i] < w[i - 1])) continue;
      auto x = w[i];
      size_t j = i;
      while (j > 0 && x < w[j - 1]) w[j] = w[j - 1], --j;
      w[j] = x;
    }
  });
}

// Groups (id_key, index) pairs by key: sorts them, then within each run of equal odd keys
// (hashes) compares texts with same(a, b), so a hash collision never merges two ids; a run
// of equal even keys is one id (id_key_exact) and needs no compare. Calls
// join(member, leader) for every index (a leader joins itself) and returns the leaders, one
// (hash, index) per distinct key, in hash order. Leaders are the first index of their key,
// since the sort keeps equal hashes in index order.
template <class Same, class Join>
std::vector<KeyIndex> group_by_key(std::vector<KeyIndex>& pairs, Same same, Join join) {
  radix_sort_by_hash(pairs);
  std::vector<KeyIndex> leaders;
  leaders.reserve(pairs.size());
  const size_t n = pairs.size();
  // Each block takes the runs of equal keys that start in it, to their ends.
  for_blocks(0, n, [&](size_t block_begin, size_t block_end) CUSTLENS_NOINLINE {
    const KeyIndex* p = pairs.data();
    size_t b = block_begin;
    while (b > 0 && b < n && p[b].first == p[b - 1].first) ++b;  // the previous block's run
    while (b < block_end) {
      size_t e = b + 1;
      while (e < n && p[e].first == p[b].first) ++e;
      if (id_key_exact(p[b].first)) {
        leaders.push_back(p[b]);
        for (size_t k = b; k < e; ++k) join(p[k].second, p[b].second);
        b = e;
        continue;
      }
      size_t lead_from = leaders.size();
      for (size_t k = b; k < e; ++k) {
        uint32_t x = p[k].second;
        bool joined = false;
        for (size_t l = lead_from; l < leaders.size() && !joined; ++l)
          if (same(x, leaders[l].second)) join(x, leaders[l].second), joined = true;
        if (!joined) leaders.push_back(p[k]), join(x, x);
      }
      b = e;
    }
  });
  return leaders;
}

}  // namespace

// The ids stopped rising: the orders started so far get their keys after all.
void OrdersLoader::stop_rising() {
  ids_rising_ = false;
  dups_global_ = true;
  for (uint32_t o = uint32_t(mark_orders_); o < uint32_t(n_orders_); ++o)
    if (auto k = t_.order_key(o); !k.empty()) new_keys_.emplace_back(id_key(k.data(), k.size()), o);
}

void OrdersLoader::group_orders() {
  const uint32_t first = uint32_t(mark_orders_);
  const uint32_t n = uint32_t(t_.orders()) - first;
  // An earlier file's rising ids, not indexed then, are needed now.
  if (t_.unindexed_orders_begin != t_.unindexed_orders_end) {
    std::vector<KeyIndex> keys;
    for (uint32_t o = t_.unindexed_orders_begin; o < t_.unindexed_orders_end; ++o)
      if (auto k = t_.order_key(o); !k.empty()) keys.emplace_back(id_key(k.data(), k.size()), o);
    radix_sort_by_hash(keys);
    std::vector<KeyIndex> merged;
    merged.reserve(t_.order_keys.size() + keys.size());
    std::merge(t_.order_keys.begin(), t_.order_keys.end(), keys.begin(), keys.end(), std::back_inserter(merged));
    t_.order_keys.swap(merged);
    t_.unindexed_orders_begin = t_.unindexed_orders_end = 0;
  }
  if (ids_rising_) {
    // Every id of this file is distinct and no earlier file has ids: no order joins another.
    // Only first lines that could not start an order remain to be rejected.
    t_.unindexed_orders_begin = first;
    t_.unindexed_orders_end = first + n;
    order_dead_.assign(n, 0);
    bool any = !bad_refund_lines_.empty();
    for_blocks(0, started_without_amount_.size(), [&](size_t b, size_t e) CUSTLENS_NOINLINE {
      for (size_t i = b; i < e && !any; ++i) any = started_without_amount_[i] != 0;
    });
    if (!any) {
      started_without_amount_.clear();
      return;
    }
  }
  if (!keep_line_order_) keep_line_orders();  // lines may be re-pointed below
  std::vector<uint32_t> into(n);  // the order each of this file's orders joins (itself if none)
  for (uint32_t i = 0; i < n; ++i) into[i] = first + i;
  auto same_key = [&](uint32_t a, uint32_t b) { return t_.order_key(a) == t_.order_key(b); };

  // 1. Within the file: orders with equal ids join the first of them.
  std::vector<KeyIndex> leaders =
      group_by_key(new_keys_, same_key, [&](uint32_t o, uint32_t lead) { into[o - first] = lead; });
  // 2. Across files: an id already loaded joins its earlier order (a later refund row).
  std::vector<KeyIndex>& known = t_.order_keys;
  std::vector<KeyIndex> unseen;
  unseen.reserve(leaders.size());
  size_t j = 0;
  for (const auto& lead : leaders) {
    while (j < known.size() && known[j].first < lead.first) ++j;
    uint32_t match = Interner::kNone;
    for (size_t k = j; k < known.size() && known[k].first == lead.first && match == Interner::kNone; ++k)
      if (id_key_exact(lead.first) || same_key(lead.second, known[k].second)) match = known[k].second;
    if (match == Interner::kNone) {
      unseen.push_back(lead);
    } else {
      into[lead.second - first] = match;
      cross_joins_.emplace_back(match, lead.second);  // resolve_overlap decides whose lines count
    }
  }
  // Orders point at their leader, leaders at themselves or an earlier file's order: one hop.
  for (uint32_t i = 0; i < n; ++i)
    if (into[i] >= first && into[i] != first + i) into[i] = into[into[i] - first];
  std::vector<KeyIndex> merged;
  merged.reserve(known.size() + unseen.size());
  std::merge(known.begin(), known.end(), unseen.begin(), unseen.end(), std::back_inserter(merged));
  known.swap(merged);
  new_keys_.clear();
  new_keys_.shrink_to_fit();

  // 3. Re-point this file's lines; an order that joined another gives it its currency if it
  // had none, and keeps no lines.
  order_dead_.assign(n, 0);
  std::vector<uint8_t> bad_refund(n, 0);
  for (uint32_t line : bad_refund_lines_) bad_refund[t_.line_order[line] - first] = 1;
  for (size_t i = mark_lines_; i < t_.lines(); ++i) {
    uint32_t o = t_.line_order[i];
    if (o < first) continue;
    uint32_t target = into[o - first];
    if (target != o) {
      order_dead_[o - first] = 1;
      any_order_dead_ = true;
      uint32_t cur = keep_currency_ ? t_.order_currency[o] : 0;
      if (cur && t_.order_currency[target] == 0) t_.order_currency[target] = cur;
      else if (cur && t_.order_currency[target] != cur) currency_mismatch_.add(t_.line_number[i]);
      t_.line_order[i] = target;
      continue;
    }
    // 4. An order of its own whose first line had no amount (or an unreadable refund): that
    // line could not start an order. Lines without an amount are rejected (they had nothing
    // to join); a first line with an unreadable refund is rejected.
    bool no_amount = started_without_amount_[o - first] && !(t_.line_flags[i] & kLineHasAmount);
    bool refund = bad_refund[o - first] && std::binary_search(bad_refund_lines_.begin(), bad_refund_lines_.end(), uint32_t(i));
    if (no_amount || refund) {
      t_.line_flags[i] |= kLineRejected;
      ++late_rejected_;
      reject(no_amount ? "amount missing (" + column_label(columns_, c_amount_) + ")"
                       : "refunded amount unreadable (" + column_label(columns_, c_refund_) + ")",
             t_.line_number[i]);
    }
  }
  bad_refund_lines_.clear();
  started_without_amount_.clear();
}

void OrdersLoader::group_customers() {
  const uint32_t first = uint32_t(mark_orders_);
  const uint32_t n = uint32_t(t_.orders()) - first;
  // key(i): the matching key of order i's customer id; written(i): the id as written.
  auto key = [&](uint32_t i) { return customer_arena_.view_sized(customer_at_[i]); };
  auto written = [&](uint32_t i) {
    auto it = std::lower_bound(customer_spelling_.begin(), customer_spelling_.end(), i,
                               [](const Spelling& sp, uint32_t x) { return sp.order < x; });
    if (it == customer_spelling_.end() || it->order != i) return key(i);
    return customer_arena_.view_sized(it->at);
  };
  // (hash, order) of the live orders with a customer id, sorted: equal ids become neighbours.
  std::vector<KeyIndex> pairs = std::move(customer_keys_);
  customer_keys_ = {};
  if (any_order_dead_)
    pairs.erase(std::remove_if(pairs.begin(), pairs.end(), [&](const auto& p) { return order_dead_[p.second] != 0; }),
                pairs.end());
  // Filled with kNone (all bits set) by memset, one bulk instruction in wasm: a fill loop in
  // this function's own body ran in baseline code and made V8 compile the function (run once).
  Column<uint32_t> leader_of(n);  // the first order of the same customer
  if (n) std::memset(leader_of.data(), 0xFF, n * sizeof(uint32_t));
  // (hash, leader) per distinct id, in hash order; a leader leads itself.
  const std::vector<KeyIndex> leaders = group_by_key(
      pairs, [&](uint32_t x, uint32_t y) { return key(x) == key(y); }, [&](uint32_t i, uint32_t l) { leader_of[i] = l; });
  // Known customers (earlier files) by merge with the sorted list; the others get new ids in
  // order of first appearance, as a reader of the file would number them.
  Column<uint32_t> id_of(n);
  if (n) std::memset(id_of.data(), 0xFF, n * sizeof(uint32_t));
  const auto& known = t_.customer_keys;
  if (!known.empty()) {
    size_t j = 0;
    for_blocks(0, leaders.size(), [&](size_t b, size_t e) CUSTLENS_NOINLINE {
      for (size_t li = b; li < e; ++li) {
        const uint64_t h = leaders[li].first;
        const uint32_t l = leaders[li].second;
        while (j < known.size() && known[j].first < h) ++j;
        for (size_t k = j; k < known.size() && known[k].first == h && id_of[l] == Interner::kNone; ++k)
          if (id_key_exact(h) || t_.customer_key(known[k].second) == key(l)) id_of[l] = known[k].second;
      }
    });
  }
  std::vector<uint32_t> fresh;  // leaders of ids not seen before, in order of appearance
  fresh.reserve(leaders.size());
  for_blocks(0, n, [&](size_t b, size_t e) CUSTLENS_NOINLINE {
    for (uint32_t i = uint32_t(b); i < e; ++i)
      if (leader_of[i] == i && id_of[i] == Interner::kNone) fresh.push_back(i);
  });
  const uint32_t first_new = uint32_t(t_.customer_count());
  // A new customer is named by its id as first written, and keeps its key if that differs.
  t_.customer_key_at.reserve(t_.customer_key_at.size() + fresh.size());
  for_blocks(0, fresh.size(), [&](size_t b, size_t e) CUSTLENS_NOINLINE {
    for (size_t k = b; k < e; ++k) {
      uint32_t l = fresh[k];
      id_of[l] = uint32_t(t_.customer_count());
      std::string_view name = customer_spelling_.empty() ? key(l) : written(l);
      const uint64_t name_at = t_.customer_key_arena.append_sized(name);
      if (name_at > UINT32_MAX) throw InputError("too_large", "The customer ids loaded take more than 4 GiB");
      t_.customer_key_at.push_back(uint32_t(name_at));
      if (name.data() != key(l).data()) {
        t_.customer_match.push_back({id_of[l], uint32_t(key(l).size()), uint64_t(t_.customer_match_arena.size())});
        t_.customer_match_arena.append(key(l));
      }
    }
  });
  for_blocks(0, n, [&](size_t b, size_t e) CUSTLENS_NOINLINE {
    for (uint32_t i = uint32_t(b); i < e; ++i)
      if (leader_of[i] != Interner::kNone) t_.order_customer[first + i] = id_of[leader_of[i]];
  });
  count_merged_spellings(leader_of, id_of, written);
  // The new ids in key order: the leaders are sorted by key, and leaders with equal keys are
  // in order of appearance, as their ids are.
  std::vector<KeyIndex> added;
  added.reserve(fresh.size());
  for_blocks(0, leaders.size(), [&](size_t b, size_t e) CUSTLENS_NOINLINE {
    for (size_t k = b; k < e; ++k)
      if (id_of[leaders[k].second] >= first_new) added.emplace_back(uint64_t(leaders[k].first), id_of[leaders[k].second]);
  });
  if (known.empty()) {
    t_.customer_keys.swap(added);
  } else {
    std::vector<KeyIndex> merged;
    merged.reserve(known.size() + added.size());
    std::merge(known.begin(), known.end(), added.begin(), added.end(), std::back_inserter(merged));
    t_.customer_keys.swap(merged);
  }
  customer_arena_.release();
  customer_at_ = {};
  customer_spelling_ = {};
}

// Bad-input row 34: ids written differently that share a key were merged on purpose; each
// distinct spelling other than its customer's name is counted once, at its first line. Only
// ids whose key differs from their text can differ from their customer's name: a file and a
// table of ASCII ids skip this.
template <class Written>
void OrdersLoader::count_merged_spellings(const Column<uint32_t>& leader_of, const Column<uint32_t>& id_of,
                                          Written written) {
  if (customer_spelling_.empty() && t_.customer_match.empty()) return;
  const uint32_t first = uint32_t(mark_orders_);
  const uint32_t n = uint32_t(t_.orders()) - first;
  std::vector<uint8_t> has_key(t_.customer_count(), 0);
  for (const auto& m : t_.customer_match) has_key[m.customer] = 1;
  struct Variant {
    uint32_t customer;
    std::string_view text;
    uint32_t order;
  };
  std::vector<Variant> variants;
  size_t sp = 0;
  for (uint32_t i = 0; i < n; ++i) {
    while (sp < customer_spelling_.size() && customer_spelling_[sp].order < i) ++sp;
    const bool spelled = sp < customer_spelling_.size() && customer_spelling_[sp].order == i;
    if (leader_of[i] == Interner::kNone) continue;
    const uint32_t c = id_of[leader_of[i]];
    if (!spelled && !has_key[c]) continue;
    std::string_view text = written(i);
    if (text != t_.customer_name(c)) variants.push_back({c, text, i});
  }
  if (variants.empty()) return;
  std::sort(variants.begin(), variants.end(), [](const Variant& a, const Variant& b) {
    return a.customer != b.customer ? a.customer < b.customer : a.text != b.text ? a.text < b.text : a.order < b.order;
  });
  std::vector<uint32_t> first_orders;  // the first order of each distinct spelling
  for (size_t k = 0; k < variants.size(); ++k)
    if (k == 0 || variants[k].customer != variants[k - 1].customer || variants[k].text != variants[k - 1].text)
      first_orders.push_back(variants[k].order);
  // Their first lines.
  std::vector<uint32_t> line_of(n, 0);
  for (size_t i = t_.lines(); i-- > mark_lines_;) {
    uint32_t o = t_.order_of_line(i);
    if (o >= first) line_of[o - first] = t_.line_number[i];
  }
  std::vector<uint32_t> lines;
  for (uint32_t o : first_orders) lines.push_back(line_of[o]);
  std::sort(lines.begin(), lines.end());
  for (uint32_t l : lines) merged_spellings_.add(l);
}

// Bounds every money sum (kMaxTotalUnits): a and b are a line's absolute amount and refund.
// Runs per row: the check is inline, the error out of line (its string code made process()
// larger, and V8 slower to optimise it: load +9% in wasm).
void OrdersLoader::add_abs_units(int64_t a, int64_t b, uint64_t line) {
  // Each is at most kMaxAmountUnits (9e18) and the total at most kMaxTotalUnits (9.2e18):
  // their sum stays below 2^64.
  const uint64_t total = t_.abs_units + uint64_t(a);
  if (total > kMaxTotalUnits || uint64_t(b) > kMaxTotalUnits - total) money_too_large(line);
  t_.abs_units = total + uint64_t(b);
}

CUSTLENS_NOINLINE void OrdersLoader::money_too_large(uint64_t line) {
  throw InputError("too_large",
                   "The amounts loaded add up to more than 922,337,203,685,477 (in absolute value, refunds "
                   "included) at line " + std::to_string(line) +
                       ": past that custlens cannot sum money exactly. Load fewer files or a smaller unit",
                   line, uint32_t((c_amount_ >= 0 ? c_amount_ : c_price_) + 1));
}

void OrdersLoader::skip_line(size_t i, const char* kind) {
  t_.line_flags[i] |= kLineSkipped;
  ++late_skipped_;
  report_.skipped[kind].add(t_.line_number[i]);
  ++report_.rows_skipped;
}

namespace {

// What a line says, for matching it with another export's line of the same order.
struct LineFacts {
  int32_t day;
  int64_t amount;
  uint8_t flags;
  uint32_t line;  // index in the table
  friend bool operator<(const LineFacts& a, const LineFacts& b) {
    return std::tie(a.day, a.amount, a.flags) < std::tie(b.day, b.amount, b.flags);
  }
  friend bool operator==(const LineFacts& a, const LineFacts& b) {
    return a.day == b.day && a.amount == b.amount && a.flags == b.flags;
  }
};

constexpr uint8_t kFactFlags = kLineHasAmount | kLineNegQty | kLineNegAmount;

bool is_refund_line(uint8_t flags) { return flags & (kLineNegQty | kLineNegAmount); }

uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x9E3779B97F4A7C15ULL + (h >> 29); }

void add_name(std::vector<std::string>& names, const std::string& name) {
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

}  // namespace

// Overlapping exports (input-rules.md, "Overlapping exports"). Runs when a file ends, after its
// dates and amounts are final and before its customers are grouped; only when earlier files
// were loaded. A file is later than another when its newest order date is later (ties: the
// one loaded later). Two exports' views of a row are compared by what the mapped fields mean
// (day, amount, ids, status ...), never by column order or bytes.
// - A row without an order id that repeats an earlier file's row is an overlap duplicate.
// - An order id already loaded: the later export's lines replace the other's (status,
//   amounts, lines), or are overlap duplicates when both say the same. Refund rows (negative
//   lines) join the order unless the order already has the same refund row. A refunded
//   amount counts once: the latest one stated.
void OrdersLoader::resolve_overlap() {
  int32_t last = INT32_MIN;
  for (size_t i = mark_lines_; i < t_.lines(); ++i)
    if (!(t_.line_flags[i] & kLineUnused)) last = std::max(last, t_.line_day[i]);
  last_day_ = last;
  if (file_index_ == 0 || mark_lines_ == 0) return;
  auto later = [&](uint32_t a, uint32_t b) {  // file a is later than file b
    int32_t da = a == file_index_ ? last_day_ : t_.file_last_day[a];
    int32_t db = b == file_index_ ? last_day_ : t_.file_last_day[b];
    return da != db ? da > db : a > b;
  };
  const uint32_t first = uint32_t(mark_orders_);
  auto status = [&](uint32_t o) { return keep_status_ ? t_.order_status[o] : 0u; };
  auto currency = [&](uint32_t o) { return keep_currency_ ? t_.order_currency[o] : 0u; };
  auto refunded = [&](uint32_t o) { return keep_refund_ ? t_.order_refunded[o] : int64_t(0); };
  auto refund_file = [&](uint32_t o) { return keep_refund_ ? t_.order_refund_file[o] : uint16_t(0); };
  auto customer = [&](uint32_t o) -> std::string_view {  // the matching key; "" for a guest
    if (o >= first) return customer_arena_.view_sized(customer_at_[o - first]);
    uint32_t c = t_.order_customer[o];
    return c == Interner::kNone ? std::string_view() : t_.customer_key(c);
  };
  auto same_fields = [&](uint32_t a, uint32_t b) {
    return status(a) == status(b) && currency(a) == currency(b) && t_.order_channel[a] == t_.order_channel[b] &&
           refunded(a) == refunded(b) && (refund_file(a) == 0) == (refund_file(b) == 0) && customer(a) == customer(b);
  };
  // The latest refunded amount stated: the order takes `from`'s when `from` stated one and is
  // later than the file that stated the order's.
  auto take_refund = [&](uint32_t order, uint32_t from) {
    if (!keep_refund_ || t_.order_refund_file[from] == 0) return;
    uint16_t f = t_.order_refund_file[order];
    if (f == 0 || later(file_index_, f - 1u)) order_updates_.push_back({order, from, false});
  };
  std::vector<std::pair<const char*, uint32_t>> skips;  // (kind, line index), counted in line order

  // 1. Rows without an order id: one order each, matched by all they say.
  auto row_key = [&](size_t i) {
    uint32_t o = t_.order_of_line(i);
    std::string_view c = customer(o);
    uint64_t h = hash_bytes(c.data(), c.size());
    h = mix(h, uint64_t(uint32_t(t_.line_day[i])) << 8 | (t_.line_flags[i] & kFactFlags));
    h = mix(h, uint64_t(t_.line_amount[i]));
    h = mix(h, uint64_t(status(o)) << 32 | currency(o));
    h = mix(h, uint64_t(t_.order_channel[o]) << 1 | (refund_file(o) != 0));
    return mix(h, uint64_t(refunded(o)));
  };
  bool any_without_id = false;
  for (uint32_t o = first; o < t_.orders() && !any_without_id; ++o) any_without_id = t_.order_key(o).empty();
  if (any_without_id) {
    // Each earlier row matches one row here: two equal purchases in both exports are two
    // overlap duplicates, and a third equal one only here is a purchase.
    std::unordered_map<uint64_t, uint32_t> earlier;  // row key -> rows not yet matched
    for (size_t i = 0; i < mark_lines_; ++i)
      if (!(t_.line_flags[i] & kLineUnused) && t_.order_key(t_.order_of_line(i)).empty()) ++earlier[row_key(i)];
    if (!earlier.empty())
      for (size_t i = mark_lines_; i < t_.lines(); ++i) {
        uint32_t o = t_.order_of_line(i);
        if ((t_.line_flags[i] & kLineUnused) || !t_.order_key(o).empty()) continue;
        auto it = earlier.find(row_key(i));
        if (it == earlier.end() || it->second == 0) continue;
        --it->second;
        skips.emplace_back(kOverlapDuplicate, uint32_t(i));
        order_dead_[o - first] = 1;
        any_order_dead_ = true;
      }
  }

  // 2. Orders of this file that joined an earlier file's order.
  if (!cross_joins_.empty()) {
    std::sort(cross_joins_.begin(), cross_joins_.end());
    std::vector<uint32_t> slot(t_.orders(), Interner::kNone);  // earlier order -> its index in cross_joins_
    for (uint32_t k = 0; k < cross_joins_.size(); ++k) slot[cross_joins_[k].first] = k;
    std::vector<std::vector<LineFacts>> old_lines(cross_joins_.size()), new_lines(cross_joins_.size());
    for (size_t i = 0; i < t_.lines(); ++i) {
      uint32_t k = slot[t_.order_of_line(i)];
      if (k == Interner::kNone || (t_.line_flags[i] & kLineUnused)) continue;
      LineFacts f{t_.line_day[i], t_.line_amount[i], uint8_t(t_.line_flags[i] & kFactFlags), uint32_t(i)};
      (i < mark_lines_ ? old_lines : new_lines)[k].push_back(f);
    }
    std::vector<LineFacts> old_sales, old_refunds, new_sales, new_refunds;
    for (size_t k = 0; k < cross_joins_.size(); ++k) {
      const auto [order, mine] = cross_joins_[k];
      old_sales.clear(), old_refunds.clear(), new_sales.clear(), new_refunds.clear();
      for (const auto& f : old_lines[k]) (is_refund_line(f.flags) ? old_refunds : old_sales).push_back(f);
      for (const auto& f : new_lines[k]) (is_refund_line(f.flags) ? new_refunds : new_sales).push_back(f);
      // A refund row the order has already (from any export) is an overlap duplicate; each
      // earlier row matches one.
      std::sort(old_refunds.begin(), old_refunds.end());
      std::vector<uint8_t> matched(old_refunds.size(), 0);
      for (const auto& f : new_refunds) {
        auto it = std::lower_bound(old_refunds.begin(), old_refunds.end(), f);
        while (it != old_refunds.end() && *it == f && matched[size_t(it - old_refunds.begin())]) ++it;
        if (it != old_refunds.end() && *it == f) {
          matched[size_t(it - old_refunds.begin())] = 1;
          skips.emplace_back(kOverlapDuplicate, f.line);
        }
      }
      if (new_sales.empty()) {  // refund rows only: they join, and may state a refund
        take_refund(order, mine);
        continue;
      }
      std::sort(old_sales.begin(), old_sales.end());
      std::sort(new_sales.begin(), new_sales.end());
      if (old_sales == new_sales && same_fields(order, mine)) {  // the same order twice
        for (const auto& f : new_sales) skips.emplace_back(kOverlapDuplicate, f.line);
        continue;
      }
      const uint32_t owner = old_sales.empty() ? Interner::kNone : (keep_file_ ? t_.line_file[old_sales[0].line] : 0u);
      uint32_t first_line = UINT32_MAX;
      for (const auto& f : new_sales) first_line = std::min(first_line, t_.line_number[f.line]);
      if (owner == Interner::kNone || later(file_index_, owner)) {
        // This export is later: its lines and fields are the order's.
        for (const auto& f : old_sales) replaced_earlier_.push_back(f.line);
        order_updates_.push_back({order, mine, true});  // its status, channel and currency
        take_refund(order, mine);
        if (owner != Interner::kNone) {
          ++report_.orders_replacing;
          add_name(report_.replacing, t_.files[owner].name);
          uint32_t old_first = UINT32_MAX;
          for (const auto& f : old_sales) old_first = std::min(old_first, t_.line_number[f.line]);
          replaced_orders_.push_back({owner, old_first});
        }
      } else {
        // The earlier-loaded export is later: this file's lines of the order are replaced.
        for (const auto& f : new_sales) skips.emplace_back(kReplacedByLater, f.line);
        report_.orders_replaced.add(first_line);
        add_name(report_.replaced_by, t_.files[owner].name);
        replacing_owners_.push_back(owner);
        take_refund(order, mine);
      }
    }
    cross_joins_ = {};
  }
  std::sort(skips.begin(), skips.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  for (const auto& [kind, i] : skips) skip_line(i, kind);
}

// The earlier files' lines that this file replaced, and their reports: only once this file
// has loaded (nothing after this can fail, so a failed file leaves the earlier ones as they were).
void OrdersLoader::apply_replacements() {
  // Earlier orders take this file's fields (`from`: this file's order that joined them).
  for (const OrderUpdate& u : order_updates_) {
    if (u.fields) {
      if (keep_status_) t_.order_status[u.order] = t_.order_status[u.from];
      if (keep_currency_ && t_.order_currency[u.from]) t_.order_currency[u.order] = t_.order_currency[u.from];
      t_.order_channel[u.order] = t_.order_channel[u.from];
    } else {
      t_.order_refunded[u.order] = t_.order_refunded[u.from];
      t_.order_refund_file[u.order] = uint16_t(file_index_ + 1);
    }
  }
  order_updates_ = {};
  std::sort(replaced_earlier_.begin(), replaced_earlier_.end());
  for (uint32_t i : replaced_earlier_) {
    t_.line_flags[i] |= kLineSkipped;
    FileReport& f = t_.files[keep_file_ ? t_.line_file[i] : 0];
    --f.rows_used;
    ++f.rows_skipped;
    f.skipped[kReplacedByLater].add(t_.line_number[i]);
  }
  std::sort(replaced_orders_.begin(), replaced_orders_.end());
  for (const auto& [owner, line] : replaced_orders_) {
    t_.files[owner].orders_replaced.add(line);
    add_name(t_.files[owner].replaced_by, report_.name);
  }
  for (uint32_t owner : replacing_owners_) {
    ++t_.files[owner].orders_replacing;
    add_name(t_.files[owner].replacing, report_.name);
  }
  replaced_earlier_ = {};
  replaced_orders_ = {};
  replacing_owners_ = {};
}

void OrdersLoader::resolve_dates() {
  if (pending_dates_.empty()) {
    report_.date_order = "ymd";
    report_.date_order_source = "unambiguous";
    return;
  }
  DateOrder order = opt_.date_order;
  std::string label = column_label(columns_, c_date_);
  bool any_ambiguous = std::any_of(pending_dates_.begin(), pending_dates_.end(),
                                   [](const PendingDate& p) { return p.raw.first != p.raw.second; });
  if (order == DateOrder::unknown && !day_first_evidence_ && !month_first_evidence_ && !any_ambiguous) {
    order = DateOrder::mdy;  // every cell has day == month (5/5/2024): the order cannot matter
    report_.date_order_source = "day equals month in every cell";
  } else if (order != DateOrder::unknown) {
    report_.date_order_source = "option";
  } else if (day_first_evidence_ && month_first_evidence_) {
    throw InputError("contradictory_dates",
                     "The dates in " + label + " contradict each other: line " +
                         std::to_string(day_first_evidence_.lines[0]) + " can only be day/month, line " +
                         std::to_string(month_first_evidence_.lines[0]) +
                         " only month/day. Choose the order (dateOrder: dmy or mdy)",
                     month_first_evidence_.lines[0], uint32_t(c_date_ + 1));
  } else if (day_first_evidence_) {
    order = DateOrder::dmy;
    report_.date_order_source = "inferred from line " + std::to_string(day_first_evidence_.lines[0]) +
                                " (" + std::to_string(day_first_evidence_.count) + " day-first dates)";
  } else if (month_first_evidence_) {
    order = DateOrder::mdy;
    report_.date_order_source = "inferred from line " + std::to_string(month_first_evidence_.lines[0]) +
                                " (" + std::to_string(month_first_evidence_.count) + " month-first dates)";
  } else {
    // Nothing settles the order. A few such cells among dates that are unambiguous (ISO, or
    // day == month) are left out, each counted by line (bad-input row 32); a column where they
    // are half or more asks for the order.
    Tally ambiguous;
    for (const auto& p : pending_dates_)
      if (p.raw.first != p.raw.second) ambiguous.add(t_.line_number[p.line_index]);
    const uint64_t dates = n_lines_ - mark_lines_;
    const std::string ask = "choose the order (dateOrder: dmy or mdy)";
    if (ambiguous.count * 2 >= dates) {
      const uint64_t first = ambiguous.lines[0];
      throw InputError("ambiguous_dates",
                       (ambiguous.count == dates ? "Every date in " + label
                                                 : std::to_string(ambiguous.count) + " of the " + std::to_string(dates) +
                                                       " dates in " + label) +
                           " could be day/month or month/day (" + describe_lines(ambiguous) + ") and no date settles it: " +
                           ask,
                       first, uint32_t(c_date_ + 1));
    }
    report_.date_order_source = "not settled: " + std::to_string(ambiguous.count) + " ambiguous date(s) left out";
    report_.warnings.push_back({"ambiguous_dates",
                                std::to_string(ambiguous.count) + " date(s) in " + label +
                                    " could be day/month or month/day (" + describe_lines(ambiguous) + "); the other " +
                                    std::to_string(dates - ambiguous.count) +
                                    " dates do not settle it. Those rows are left out: " + ask,
                                ambiguous.count, ambiguous.lines});
    const std::string reason = "order date could be day/month or month/day (" + label + ")";
    for (const auto& p : pending_dates_) {
      int32_t day;
      if (p.raw.first == p.raw.second && resolve_date(p.raw, DateOrder::mdy, day) && plausible_order_day(day)) {
        t_.line_day[p.line_index] = day;
        continue;
      }
      t_.line_flags[p.line_index] |= kLineRejected;
      ++late_rejected_;
      reject(p.raw.first != p.raw.second ? reason : out_of_range_reason(columns_, c_date_), t_.line_number[p.line_index]);
    }
    report_.date_order = "ymd";
    return;
  }
  report_.date_order = order == DateOrder::dmy ? "dmy" : "mdy";
  for (const auto& p : pending_dates_) {
    int32_t day;
    if (resolve_date(p.raw, order, day) && plausible_order_day(day)) {
      t_.line_day[p.line_index] = day;
    } else if (resolve_date(p.raw, order, day)) {
      t_.line_flags[p.line_index] |= kLineRejected;
      ++late_rejected_;
      reject(out_of_range_reason(columns_, c_date_), t_.line_number[p.line_index]);
    } else {
      t_.line_flags[p.line_index] |= kLineRejected;
      ++late_rejected_;
      reject("order date is not a calendar date in " + report_.date_order + " order (" + label + ")",
             t_.line_number[p.line_index]);
    }
  }
}

void OrdersLoader::resolve_amounts() {
  report_.decimal_mark = comma_evidence_ && !dot_evidence_ ? "comma" : "dot";
  if (comma_evidence_ && dot_evidence_ && opt_.decimal_mark == DecimalMark::unknown)
    report_.warnings.push_back({"mixed_decimal_marks",
                                "Amounts use both decimal marks: " + std::to_string(dot_evidence_.count) +
                                    " with '.', " + std::to_string(comma_evidence_.count) + " with ','",
                                comma_evidence_.count, comma_evidence_.lines});
  if (pending_amounts_.empty() && pending_refunds_.empty()) return;
  DecimalMark mark = opt_.decimal_mark;
  if (mark == DecimalMark::unknown) {
    if (comma_evidence_ && !dot_evidence_) {
      mark = DecimalMark::comma;
    } else if (dot_evidence_ && !comma_evidence_) {
      mark = DecimalMark::dot;
    } else {
      uint64_t first = ambiguous_lines_.lines.empty() ? 0 : ambiguous_lines_.lines[0];
      throw InputError("ambiguous_amounts",
                       "Amounts such as line " + std::to_string(first) +
                           "'s could be read with ',' or '.' as the decimal mark (\"1,234\" or \"1.234\" "
                           "only): choose the decimal mark (decimalMark: dot or comma)",
                       first, uint32_t((c_amount_ >= 0 ? c_amount_ : c_price_) + 1));
    }
  }
  report_.decimal_mark = mark == DecimalMark::comma ? "comma" : "dot";
  // parse_amount read ambiguous cells with '.' as the decimal mark (or the option's mark).
  DecimalMark read_as = opt_.decimal_mark == DecimalMark::unknown ? DecimalMark::dot : opt_.decimal_mark;
  if (mark != read_as) {
    for (const auto& p : pending_amounts_) t_.line_amount[p.line_index] = p.alt;
    for (const auto& p : pending_refunds_) t_.order_refunded[p.line_index] = p.alt;  // (index = order)
  }
}


void OrdersLoader::count_duplicates() {
  std::vector<uint32_t> dup_lines;
  if (ids_rising_ && !dups_global_) {
    dup_lines.swap(local_dups_);  // rejected rows can only repeat rejected rows: sorted below
  } else {
    for (size_t i = 0; i < line_hash_.size(); ++i)
      row_hashes_.emplace_back(line_hash_[i], t_.line_number[mark_lines_ + i]);
  }
  radix_sort_by_hash(row_hashes_);  // by hash, then line
  for (size_t i = 1; i < row_hashes_.size(); ++i)
    if (row_hashes_[i].first == row_hashes_[i - 1].first) dup_lines.push_back(row_hashes_[i].second);
  std::sort(dup_lines.begin(), dup_lines.end());
  for (uint32_t l : dup_lines) report_.duplicate_lines.add(l);
  // Every row's hash is remembered so that a later, overlapping export is recognised.
  if (!ids_rising_ || dups_global_) line_hash_.clear();  // row_hashes_ holds every row now
  for (const auto& p : row_hashes_) line_hash_.push_back(uint64_t(p.first));
  t_.file_hashes.push_back(std::move(line_hash_));
  line_hash_ = {};
  row_hashes_ = {};
}

const FileReport& OrdersLoader::finish() {
  reader_->finish();
  if (!mapped_) {  // a headerless file shorter than the sample, or a header with no rows
    if (!has_header_) {
      map_columns(sample_);
      std::vector<std::string_view> views(columns_.size());
      for (size_t r = 0; r < sample_.size(); ++r) {
        for (size_t i = 0; i < columns_.size(); ++i) views[i] = sample_[r][i];
        process(sample_lines_[r], views.data(), sample_hashes_[r]);
      }
      sample_.clear();
    }
  }
  settle_columns();
  group_orders();
  resolve_dates();
  resolve_amounts();
  resolve_overlap();
  group_customers();
  count_duplicates();

  const CsvStats& cs = reader_->stats();
  report_.csv = cs;
  report_.csv_notices = reader_->notices();
  add_reader_skips(report_, cs);
  report_.rows_read = cs.records_read;
  report_.rows_used = appended_ - late_rejected_ - late_skipped_;  // stored, then flagged
  check_accounting(report_);
  if (no_order_id_)
    report_.warnings.push_back({"rows_without_order_id",
                                std::to_string(no_order_id_.count) +
                                    " row(s) have no order id; each is taken as an order of its own",
                                no_order_id_.count, no_order_id_.lines});
  auto scientific = [&](const Tally& t, int c) {
    if (!t) return;
    report_.warnings.push_back({"ids_in_scientific_notation",
                                "column " + columns_[size_t(c)] + " has " + std::to_string(t.count) +
                                    " value(s) in scientific notation (" + describe_lines(t) +
                                    "): Excel may have cut digits; export the column as text",
                                t.count, t.lines});
  };
  scientific(scientific_order_ids_, c_order_);
  scientific(scientific_customer_ids_, c_customer_);
  if (text_markers_) {
    std::string kinds;
    for (auto [bit, text] : {std::pair<int, const char*>{1, "'"}, {2, "`"}, {4, "=\"…\""}})
      if (marker_kinds_ & bit) kinds += std::string(kinds.empty() ? "" : " or ") + text;
    report_.warnings.push_back({"id_text_markers",
                                std::to_string(text_marker_ids_) + " id(s) had Excel's text marker " + kinds +
                                    " removed (" + describe_lines(text_markers_) + "); the ids are read without it",
                                text_marker_ids_, text_markers_.lines});
  }
  if (merged_spellings_)
    report_.warnings.push_back({"customer_ids_merged",
                                std::to_string(merged_spellings_.count) +
                                    " customer id(s) were merged with another written differently (Unicode "
                                    "normalisation): " + describe_lines(merged_spellings_) +
                                    "; the customer keeps the spelling seen first",
                                merged_spellings_.count, merged_spellings_.lines});
  add_invisible_ids_warning(report_, invisible_ids_);
  if (currency_mismatch_)
    report_.warnings.push_back({"currency_mismatch",
                                std::to_string(currency_mismatch_.count) +
                                    " line(s) are in another currency than the first line of their order; "
                                    "the order keeps its first line's currency",
                                currency_mismatch_.count, currency_mismatch_.lines});
  if (rounded_amounts_)
    report_.warnings.push_back({"amounts_rounded",
                                std::to_string(rounded_amounts_.count) + " amount(s) had more than 4 decimals and were rounded",
                                rounded_amounts_.count, rounded_amounts_.lines});
  if (report_.duplicate_lines)
    report_.warnings.push_back({"duplicate_lines",
                                std::to_string(report_.duplicate_lines.count) +
                                    " line(s) repeat an earlier line of the file exactly; kept (a line-item "
                                    "export may list an item twice)",
                                report_.duplicate_lines.count, report_.duplicate_lines.lines});
  // Only a file that loaded marks what columns the table has (a failed one leaves no trace).
  t_.any_customer_column |= c_customer_ >= 0;
  t_.any_channel_column |= c_channel_ >= 0;
  t_.amount_is_net.push_back(opt_.amount_is_net);
  t_.file_last_day.push_back(last_day_);
  t_.files.push_back(report_);
  apply_replacements();
  return t_.files.back();
}

}  // namespace custlens
