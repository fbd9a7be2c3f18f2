#include "data/orders.h"

#include <algorithm>

#include "error.h"

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

std::string column_label(const std::vector<std::string>& columns, int c) {
  return c >= 0 ? "column " + std::to_string(c + 1) + " \"" + columns[size_t(c)] + "\"" : "";
}

}  // namespace

OrdersLoader::OrdersLoader(OrdersTable& table, std::string file_name, OrderLoadOptions opt)
    : t_(table), opt_(std::move(opt)) {
  report_.name = std::move(file_name);
  file_index_ = uint16_t(t_.files.size());
  mark_lines_ = t_.lines();
  mark_orders_ = t_.orders();
  mark_customers_ = t_.customers.size();
  mark_order_ids_ = t_.order_ids.size();
  if (t_.statuses.size() == 0) t_.statuses.intern("");
  if (t_.currencies.size() == 0) t_.currencies.intern("");
  mark_statuses_ = t_.statuses.size();
  mark_channels_ = t_.channels.size();
  mark_currencies_ = t_.currencies.size();
  // Overlap check against earlier files: a hash set, built only when there are earlier files
  // (one file alone pays nothing for it).
  for (; t_.earlier_rows_files < t_.file_hashes.size(); ++t_.earlier_rows_files)
    for (uint64_t h : t_.file_hashes[t_.earlier_rows_files]) t_.earlier_rows.insert(h);
  reader_ = std::make_unique<CsvReader>(opt_.csv, *this);
}

OrdersLoader::~OrdersLoader() = default;

void OrdersLoader::rollback() {
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
  cut(t_.order_channel, mark_orders_);
  cut(t_.order_currency, mark_orders_);
  t_.customers.truncate(mark_customers_);
  t_.order_ids.truncate(mark_order_ids_);
  cut(t_.order_of_key, mark_order_ids_);
  t_.statuses.truncate(mark_statuses_);
  t_.channels.truncate(mark_channels_);
  t_.currencies.truncate(mark_currencies_);
}

int OrdersLoader::col(const char* field) const {
  for (const auto& c : report_.mapping)
    if (c.field == field) return c.index;
  return -1;
}

void OrdersLoader::feed(const char* p, size_t n) { reader_->feed(p, n); }

uint32_t OrdersLoader::find_order(std::string_view key, uint32_t& key_id) const {
  key_id = t_.order_ids.find(key);
  return key_id == Interner::kNone ? Interner::kNone : t_.order_of_key[key_id];
}

uint32_t OrdersLoader::intern_order(std::string_view key, bool& is_new, uint32_t& key_id) {
  size_t before = t_.order_ids.size();
  key_id = t_.order_ids.intern(key);
  is_new = key_id == before;
  if (is_new) t_.order_of_key.push_back(uint32_t(t_.orders()));  // the order this line creates
  return t_.order_of_key[key_id];
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

void OrdersLoader::process(uint64_t line, const std::string_view* f, uint64_t row_hash) {
  if (t_.earlier_rows.size() && t_.earlier_rows.contains(row_hash)) {
    report_.skipped["overlap duplicate (same line in an earlier file)"].add(line);
    ++report_.rows_skipped;
    return;
  }
  row_hashes_.emplace_back(row_hash, uint32_t(line));

  // Date.
  std::string_view date_cell = trim(f[c_date_]);
  RawDate raw;
  int32_t day = 0;
  bool pending_date = false;
  if (date_cell.empty()) {
    reject("order date missing (" + column_label(columns_, c_date_) + ")", line);
    return;
  }
  if (!parse_date(date_cell, raw)) {
    reject("order date unreadable (" + column_label(columns_, c_date_) + ")", line);
    return;
  }
  if (raw.shape == DateShape::ymd) {
    if (!resolve_date(raw, DateOrder::unknown, day)) {
      reject("order date is not a calendar date (" + column_label(columns_, c_date_) + ")", line);
      return;
    }
  } else {
    pending_date = true;
    if (raw.first > 12) day_first_evidence_.add(line);
    if (raw.second > 12) month_first_evidence_.add(line);
  }

  // Order: a further line of a known order, or a new one.
  uint32_t order = Interner::kNone;
  bool new_order = true;
  bool lookup_later = false;
  uint32_t key_id = Interner::kNone;  // the order id's id in t_.order_ids
  std::string_view order_key;
  if (c_order_ >= 0) {
    order_key = clean_id(f[c_order_]);
    if (order_key.empty()) {
      no_order_id_.add(line);
    } else if (prev_key_ != Interner::kNone && order_key == t_.order_ids.get(prev_key_)) {
      key_id = prev_key_;
      order = t_.order_of_key[prev_key_];  // the next line of the same order: common in line-item exports
      new_order = false;
    } else if (c_amount_ >= 0 && trim(f[c_amount_]).empty()) {
      // Whether a line without an amount is rejected depends on its order existing.
      order = find_order(order_key, key_id);
      new_order = order == Interner::kNone;
    } else {
      new_order = false;
      lookup_later = true;  // one probe, at the end, once the line is known to be used
    }
  }

  // Amount.
  Currency currency = Currency::none;
  uint8_t flags = 0;
  int64_t amount = 0;
  bool ambiguous = false;
  int64_t alt = 0;
  if (c_amount_ >= 0) {
    std::string_view cell = trim(f[c_amount_]);
    if (cell.empty()) {
      if (new_order) {
        reject("amount missing (" + column_label(columns_, c_amount_) + ")", line);
        return;
      }
    } else {
      ParsedAmount a;
      if (!parse_amount(cell, opt_.decimal_mark, a)) {
        reject("amount unreadable (" + column_label(columns_, c_amount_) + ")", line);
        return;
      }
      amount = a.units;
      flags |= kLineHasAmount;
      if (a.ambiguous) ambiguous = true, alt = a.alt_units;
      if (a.evidence == DecimalMark::comma) comma_evidence_.add(line);
      if (a.evidence == DecimalMark::dot) dot_evidence_.add(line);
      if (a.rounded) rounded_amounts_.add(line);
      currency = a.currency;
    }
    if (c_qty_ >= 0) {
      ParsedAmount q;
      if (parse_amount(trim(f[c_qty_]), DecimalMark::dot, q) && q.units < 0) flags |= kLineNegQty;
    }
  } else {
    ParsedAmount q, p;
    std::string_view qc = trim(f[c_qty_]), pc = trim(f[c_price_]);
    if (qc.empty() || pc.empty()) {
      reject(std::string(qc.empty() ? "quantity" : "unit price") + " missing (" +
                 column_label(columns_, qc.empty() ? c_qty_ : c_price_) + ")",
             line);
      return;
    }
    if (!parse_amount(qc, DecimalMark::dot, q) || !parse_amount(pc, opt_.decimal_mark, p)) {
      bool qbad = !parse_amount(qc, DecimalMark::dot, q);
      reject(std::string(qbad ? "quantity" : "unit price") + " unreadable (" +
                 column_label(columns_, qbad ? c_qty_ : c_price_) + ")",
             line);
      return;
    }
    // (q × 10^4)(p × 10^4) / 10^4, rounded half away from zero; exact for 3-decimal prices.
    __int128 prod = __int128(q.units) * p.units;
    __int128 half = kAmountScale / 2;
    amount = int64_t(prod >= 0 ? (prod + half) / kAmountScale : (prod - half) / kAmountScale);
    flags |= kLineHasAmount;
    if (q.units < 0) flags |= kLineNegQty;
    if (p.evidence == DecimalMark::comma) comma_evidence_.add(line);
    if (p.evidence == DecimalMark::dot) dot_evidence_.add(line);
    if (p.ambiguous) ambiguous = true, alt = int64_t((__int128(q.units) * p.alt_units) / kAmountScale);
    currency = p.currency;
  }
  if (amount < 0) flags |= kLineNegAmount;

  // Currency: a currency column wins over symbols in the amount.
  uint32_t currency_id = 0;
  if (c_currency_ >= 0 && !trim(f[c_currency_]).empty()) {
    currency_id = t_.currencies.intern(normalize_currency(trim(f[c_currency_])));
  } else if (currency != Currency::none) {
    currency_id = t_.currencies.intern(currency_code(currency));
  }

  // The refunded amount is an order-level field: read it now, use it if the order is new.
  int64_t refunded = 0;
  if (c_refund_ >= 0 && !opt_.amount_is_net) {
    std::string_view rc = trim(f[c_refund_]);
    ParsedAmount r;
    if (!rc.empty() && !parse_amount(rc, opt_.decimal_mark, r)) {
      if (lookup_later) {
        order = find_order(order_key, key_id);
        new_order = order == Interner::kNone;
        lookup_later = false;
      }
      if (new_order) {
        reject("refunded amount unreadable (" + column_label(columns_, c_refund_) + ")", line);
        return;
      }
    } else if (!rc.empty()) {
      refunded = r.units < 0 ? -r.units : r.units;  // some exports write refunds negative
    }
  }
  if (lookup_later) order = intern_order(order_key, new_order, key_id);

  // A new order takes its order-level fields from this, its first line.
  if (new_order) {
    if (order == Interner::kNone) {
      bool fresh = true;
      order = c_order_ >= 0 && !order_key.empty() ? intern_order(order_key, fresh, key_id) : uint32_t(t_.orders());
    }
    uint32_t customer = Interner::kNone;
    if (c_customer_ >= 0) {
      std::string_view id = clean_id(f[c_customer_]);
      if (!id.empty()) customer = t_.customers.intern(id);
    }
    t_.order_customer.push_back(customer);
    t_.order_status.push_back(c_status_ >= 0 ? t_.statuses.intern(trim(f[c_status_])) : 0);
    t_.order_refunded.push_back(refunded);
    std::string_view ch = c_channel_ >= 0 ? trim(f[c_channel_]) : std::string_view();
    t_.order_channel.push_back(ch.empty() ? Interner::kNone : t_.channels.intern(ch));
    t_.order_currency.push_back(currency_id);
  } else if (currency_id && t_.order_currency[order] != currency_id) {
    if (t_.order_currency[order] == 0) {
      t_.order_currency[order] = currency_id;
    } else {
      currency_mismatch_.add(line);
    }
  }

  if (key_id != Interner::kNone) prev_key_ = key_id;
  uint32_t index = uint32_t(t_.lines());
  if (pending_date) pending_dates_.push_back({index, raw});
  if (ambiguous) pending_amounts_.push_back({index, alt});
  t_.line_order.push_back(order);
  t_.line_day.push_back(day);
  t_.line_amount.push_back(amount);
  t_.line_flags.push_back(flags);
  t_.line_number.push_back(uint32_t(line));
  t_.line_file.push_back(file_index_);
  ++appended_;
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
    uint64_t first = t_.line_number[pending_dates_[0].line_index];
    throw InputError("ambiguous_dates",
                     "Every date in " + label + " could be day/month or month/day (e.g. line " +
                         std::to_string(first) + "): choose the order (dateOrder: dmy or mdy)",
                     first, uint32_t(c_date_ + 1));
  }
  report_.date_order = order == DateOrder::dmy ? "dmy" : "mdy";
  for (const auto& p : pending_dates_) {
    int32_t day;
    if (resolve_date(p.raw, order, day)) {
      t_.line_day[p.line_index] = day;
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
  if (pending_amounts_.empty()) return;
  DecimalMark mark = opt_.decimal_mark;
  if (mark == DecimalMark::unknown) {
    if (comma_evidence_ && !dot_evidence_) {
      mark = DecimalMark::comma;
    } else if (dot_evidence_ && !comma_evidence_) {
      mark = DecimalMark::dot;
    } else {
      uint64_t first = t_.line_number[pending_amounts_[0].line_index];
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
  if (mark != read_as)
    for (const auto& p : pending_amounts_) t_.line_amount[p.line_index] = p.alt;
}

namespace {

// LSD radix sort of (hash, line) pairs by hash: sequential passes instead of a hash table's
// random accesses, which dominate on millions of rows.
void radix_sort_by_hash(std::vector<std::pair<uint64_t, uint32_t>>& v) {
  if (v.size() < 4096) {
    std::sort(v.begin(), v.end());
    return;
  }
  std::vector<std::pair<uint64_t, uint32_t>> tmp(v.size());
  std::vector<uint32_t> count(1 << 16);
  for (int shift = 0; shift < 64; shift += 16) {
    std::fill(count.begin(), count.end(), 0);
    for (const auto& p : v) ++count[(p.first >> shift) & 0xFFFF];
    uint32_t sum = 0;
    for (auto& c : count) {
      uint32_t n = c;
      c = sum;
      sum += n;
    }
    for (const auto& p : v) tmp[count[(p.first >> shift) & 0xFFFF]++] = p;  // stable: lines stay in order
    v.swap(tmp);
  }
}

}  // namespace

void OrdersLoader::count_duplicates() {
  radix_sort_by_hash(row_hashes_);
  std::vector<uint32_t> dup_lines;
  std::vector<uint64_t> distinct;
  distinct.reserve(row_hashes_.size());
  for (size_t i = 0; i < row_hashes_.size(); ++i) {
    if (i && row_hashes_[i].first == row_hashes_[i - 1].first) {
      dup_lines.push_back(row_hashes_[i].second);  // a repeat of an earlier line (stable sort)
    } else {
      distinct.push_back(row_hashes_[i].first);
    }
  }
  std::sort(dup_lines.begin(), dup_lines.end());
  for (uint32_t l : dup_lines) report_.duplicate_lines.add(l);
  // Remembered so that a later, overlapping export is recognised.
  t_.file_hashes.push_back(std::move(distinct));
  row_hashes_.clear();
  row_hashes_.shrink_to_fit();
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
  resolve_dates();
  resolve_amounts();
  count_duplicates();

  const CsvStats& cs = reader_->stats();
  report_.csv = cs;
  report_.csv_notices = reader_->notices();
  auto skip = [&](const char* kind, const Tally& t) {
    if (!t) return;
    report_.skipped[kind].merge(t);
    report_.rows_skipped += t.count;
  };
  skip("blank line", cs.blank_lines);
  skip("line before the header (title, sep=)", cs.preamble_lines);
  skip("total/summary line", cs.summary_lines);
  report_.rows_read = cs.records_read;
  report_.rows_used = appended_ - late_rejected_;  // late rejects were stored, then flagged
  if (report_.rows_read != report_.rows_used + report_.rows_rejected + report_.rows_skipped)
    throw InputError("internal_accounting",
                     "Row accounting failed for " + report_.name + ": read " + std::to_string(report_.rows_read) +
                         " != used " + std::to_string(report_.rows_used) + " + rejected " +
                         std::to_string(report_.rows_rejected) + " + skipped " + std::to_string(report_.rows_skipped));
  if (no_order_id_)
    report_.warnings.push_back({"rows_without_order_id",
                                std::to_string(no_order_id_.count) +
                                    " row(s) have no order id; each is taken as an order of its own",
                                no_order_id_.count, no_order_id_.lines});
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
  t_.any_status_column |= c_status_ >= 0;
  t_.any_channel_column |= c_channel_ >= 0;
  t_.any_refund_column |= c_refund_ >= 0 && !opt_.amount_is_net;
  t_.amount_is_net.push_back(opt_.amount_is_net);
  t_.files.push_back(report_);
  return t_.files.back();
}

}  // namespace custlens
