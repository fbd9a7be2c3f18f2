#include "data/customers.h"

#include <algorithm>

#include "error.h"
#include "io/normalize.h"

namespace custlens {

namespace {

// The words a churned or status column uses, compared after normalize_header() (lower
// case, no spaces). Status words count too: a "status" column saying "active" is a no.
const char* const kChurnedYes[] = {"yes", "y", "true", "t", "1", "churned", "churn", "cancelled", "canceled",
                                   "inactive", "lost", "closed", "terminated", "ended", "left", "exited",
                                   "是", "流失", "已流失", "注销", "已注销", "离网", "已离网", "停用", "已停用",
                                   "退订", "已退订", "取消", "已取消", "失效", "已失效"};
const char* const kChurnedNo[] = {"no", "n", "false", "f", "0", "active", "retained", "current", "stayed",
                                  "subscribed", "否", "未流失", "在网", "正常", "活跃", "有效", "在用", "使用中"};

}  // namespace

Churned parse_churned(std::string_view cell) {
  std::string w = normalize_header(trim(cell));
  for (const char* y : kChurnedYes)
    if (w == y) return Churned::yes;
  for (const char* n : kChurnedNo)
    if (w == n) return Churned::no;
  return Churned::unknown;
}

uint32_t CustomersTable::find(std::string_view k) const {
  uint64_t h = hash_bytes(k.data(), k.size());
  auto it = std::lower_bound(index.begin(), index.end(), std::make_pair(h, uint32_t(0)));
  for (; it != index.end() && it->first == h; ++it)
    if (key(it->second) == k) return it->second;
  return Interner::kNone;
}

CustomersLoader::CustomersLoader(CustomersTable& table, std::string file_name, CustomerLoadOptions opt)
    : t_(table), opt_(std::move(opt)) {
  report_.name = std::move(file_name);
  reader_ = std::make_unique<CsvReader>(opt_.csv, *this);
}

CustomersLoader::~CustomersLoader() = default;

void CustomersLoader::rollback() {
  rows_.clear();
  names_.clear();
  keys_.clear();
}

void CustomersLoader::feed(const char* p, size_t n) { reader_->feed(p, n); }

void CustomersLoader::on_header(const std::vector<std::string>& columns, bool has_header) {
  columns_ = columns;
  report_.mapping = choose_columns("customers", columns_, has_header, {}, opt_.mapping);
  map_columns();
}

void CustomersLoader::map_columns() {
  auto col = [&](const char* field) {
    for (const auto& c : report_.mapping)
      if (c.field == field) return c.index;
    return -1;
  };
  c_id_ = col("customer_id");
  c_signup_ = col("signup_date");
  c_end_ = col("end_date");
  c_churned_ = col("churned");
  c_tenure_ = col("tenure_months");
  c_monthly_ = col("monthly_charges");
  c_total_ = col("total_charges");
  if (c_id_ < 0) {
    std::string cols;
    for (size_t i = 0; i < columns_.size() && i < 12; ++i) cols += (i ? ", " : "") + columns_[i];
    throw InputError("missing_column", "No customer id column found among: " + cols +
                                           ". Name the column holding the customer id (mapping: column=customer_id)");
  }
  if (c_signup_ < 0 && c_end_ < 0 && c_churned_ < 0)
    report_.warnings.push_back({"no_subscription_columns",
                                "No signup date, end date or churned column: the customers are listed, but no "
                                "churn or retention can be computed from this file",
                                0, {}});
  mapped_ = true;
}

void CustomersLoader::reject(const std::string& reason, uint64_t line) {
  report_.rejected[reason].add(line);
  ++report_.rows_rejected;
}

// A date cell: false (and the row rejected) when it is not a date. Day/month cells wait for
// the whole file to tell their order, as orders do.
bool CustomersLoader::read_date(std::string_view cell, int c, const char* what, uint64_t line, int32_t& day,
                                RawDate& raw, bool& pending) {
  if (!parse_date(cell, raw)) {
    reject(std::string(what) + " unreadable (" + column_label(columns_, c) + ")", line);
    return false;
  }
  if (raw.shape == DateShape::ymd) {
    if (!resolve_date(raw, DateOrder::unknown, day)) {
      reject(std::string(what) + " is not a calendar date (" + column_label(columns_, c) + ")", line);
      return false;
    }
    return true;
  }
  pending = true;
  if (raw.first > 12) day_first_.add(line);
  if (raw.second > 12) month_first_.add(line);
  return true;
}

// An optional number (charges, tenure): blank or unreadable leaves it unknown; unreadable is
// counted, never a reason to drop the customer.
bool CustomersLoader::read_number(std::string_view cell, int c, uint64_t line, int64_t& units, int64_t& alt) {
  if (c < 0) return false;
  cell = trim(cell);
  if (cell.empty()) return false;
  ParsedAmount a;
  if (!parse_amount(cell, opt_.decimal_mark, a)) {
    numbers_unreadable_.add(line);
    return false;
  }
  units = a.units;
  if (a.ambiguous) alt = a.alt_units, ambiguous_numbers_.add(line);
  if (a.evidence == DecimalMark::comma) comma_evidence_.add(line);
  if (a.evidence == DecimalMark::dot) dot_evidence_.add(line);
  return true;
}

void CustomersLoader::on_row(uint64_t line, const std::string_view* f, uint64_t row_hash) {
  Row r;
  r.line = line;
  r.hash = row_hash;
  std::string_view id = clean_id(f[c_id_]);
  bool invisible = false;
  std::string_view key = id.empty() ? id : trim(normalize_key(id, key_buf_, &invisible));
  if (key.empty()) {
    reject("customer id missing (" + column_label(columns_, c_id_) + ")", line);
    return;
  }
  if (invisible) invisible_ids_.add(line);
  if (c_signup_ >= 0) {
    std::string_view cell = trim(f[c_signup_]);
    if (!cell.empty() && !read_date(cell, c_signup_, "signup date", line, r.signup, r.signup_raw, r.signup_pending))
      return;
  }
  if (c_end_ >= 0) {
    std::string_view cell = trim(f[c_end_]);
    if (!cell.empty() && !read_date(cell, c_end_, "end date", line, r.end, r.end_raw, r.end_pending)) return;
  }
  if (c_churned_ >= 0) {
    std::string_view cell = trim(f[c_churned_]);
    Churned ch = cell.empty() ? Churned::unknown : parse_churned(cell);
    if (cell.empty()) churned_blank_.add(line);
    else if (ch == Churned::unknown) churned_unreadable_.add(line);
    r.churned = uint8_t(ch);
  }
  int64_t tenure = kNoValue, unused = kNoValue;
  if (read_number(c_tenure_ >= 0 ? f[c_tenure_] : std::string_view(), c_tenure_, line, tenure, unused)) {
    if (tenure >= 0 && tenure % kAmountScale == 0 && tenure / kAmountScale <= 100000) {
      r.tenure = int32_t(tenure / kAmountScale);
    } else {
      numbers_unreadable_.add(line);  // months are whole and not negative
    }
  }
  read_number(c_monthly_ >= 0 ? f[c_monthly_] : std::string_view(), c_monthly_, line, r.monthly, r.monthly_alt);
  read_number(c_total_ >= 0 ? f[c_total_] : std::string_view(), c_total_, line, r.total, r.total_alt);

  r.name_at = uint32_t(names_.size());
  r.name_len = uint32_t(id.size());
  names_.append(id.data(), id.size());
  r.key_at = uint32_t(keys_.size());
  r.key_len = uint32_t(key.size());
  keys_.append(key.data(), key.size());
  rows_.push_back(r);
}

void CustomersLoader::resolve_dates() {
  bool any_pending = false, any_ambiguous = false;
  for (const Row& r : rows_) {
    any_pending |= r.signup_pending || r.end_pending;
    any_ambiguous |= (r.signup_pending && r.signup_raw.first != r.signup_raw.second) ||
                     (r.end_pending && r.end_raw.first != r.end_raw.second);
  }
  std::string cols = c_signup_ >= 0 && c_end_ >= 0 ? column_label(columns_, c_signup_) + " and " + column_label(columns_, c_end_)
                                                   : column_label(columns_, c_signup_ >= 0 ? c_signup_ : c_end_);
  DateOrder order = opt_.date_order;
  if (!any_pending) {
    report_.date_order = "ymd";
    report_.date_order_source = "unambiguous";
  } else {
    // One order for the whole file: an export writes its dates one way.
    if (order != DateOrder::unknown) {
      report_.date_order_source = "option";
    } else if (day_first_ && month_first_) {
      throw InputError("contradictory_dates",
                       "The dates in " + cols + " contradict each other: line " + std::to_string(day_first_.lines[0]) +
                           " can only be day/month, line " + std::to_string(month_first_.lines[0]) +
                           " only month/day. Choose the order (dateOrder: dmy or mdy)",
                       month_first_.lines[0]);
    } else if (day_first_) {
      order = DateOrder::dmy;
      report_.date_order_source = "inferred from line " + std::to_string(day_first_.lines[0]) + " (" +
                                  std::to_string(day_first_.count) + " day-first dates)";
    } else if (month_first_) {
      order = DateOrder::mdy;
      report_.date_order_source = "inferred from line " + std::to_string(month_first_.lines[0]) + " (" +
                                  std::to_string(month_first_.count) + " month-first dates)";
    } else if (!any_ambiguous) {
      order = DateOrder::mdy;  // day == month in every cell: the order cannot matter
      report_.date_order_source = "day equals month in every cell";
    } else {
      uint64_t first = 0;
      for (const Row& r : rows_)
        if (r.signup_pending || r.end_pending) {
          first = r.line;
          break;
        }
      throw InputError("ambiguous_dates",
                       "Every date in " + cols + " could be day/month or month/day (e.g. line " +
                           std::to_string(first) + "): choose the order (dateOrder: dmy or mdy)",
                       first);
    }
    report_.date_order = order == DateOrder::dmy ? "dmy" : "mdy";
  }
  for (Row& r : rows_) {
    auto late = [&](const std::string& reason) {
      r.rejected = true;
      ++late_rejected_;
      reject(reason, r.line);
    };
    if (r.signup_pending && !resolve_date(r.signup_raw, order, r.signup)) {
      late("signup date is not a calendar date in " + report_.date_order + " order (" + column_label(columns_, c_signup_) + ")");
      continue;
    }
    if (r.end_pending && !resolve_date(r.end_raw, order, r.end)) {
      late("end date is not a calendar date in " + report_.date_order + " order (" + column_label(columns_, c_end_) + ")");
      continue;
    }
    if (r.signup != kNoDay && r.end != kNoDay && r.end < r.signup)
      late("end date before signup date (" + column_label(columns_, c_end_) + ")");
  }
}

// The charges columns: "1,234" reads as 1.234 or 1234; the file's other cells decide, as
// for order amounts. Undecided, they stay read with '.', and a warning says so (these are
// optional attributes: no reason to refuse the file).
void CustomersLoader::resolve_decimal_mark() {
  report_.decimal_mark = opt_.decimal_mark == DecimalMark::comma || (comma_evidence_ && !dot_evidence_) ? "comma" : "dot";
  if (!ambiguous_numbers_ || opt_.decimal_mark != DecimalMark::unknown) return;
  if (comma_evidence_ && !dot_evidence_) {
    for (Row& r : rows_) {
      if (r.monthly_alt != kNoValue) r.monthly = r.monthly_alt;
      if (r.total_alt != kNoValue) r.total = r.total_alt;
    }
    return;
  }
  if (!dot_evidence_)
    report_.warnings.push_back({"ambiguous_numbers",
                                std::to_string(ambiguous_numbers_.count) + " number(s) such as \"1,234\" could be read "
                                "with ',' or '.' as the decimal mark (" + describe_lines(ambiguous_numbers_) +
                                "); read with '.': set decimalMark to change it",
                                ambiguous_numbers_.count, ambiguous_numbers_.lines});
}

const FileReport& CustomersLoader::finish() {
  reader_->finish();
  if (!mapped_) throw InputError("empty_file", "The file has no header and no rows");
  resolve_dates();
  resolve_decimal_mark();

  // Duplicates: the first row of a customer is kept. Earlier files first, then this file
  // (its rows grouped by the hash of their key, texts compared within equal hashes).
  auto key = [&](const Row& r) { return std::string_view(keys_).substr(r.key_at, r.key_len); };
  std::vector<uint32_t> first_row(rows_.size(), Interner::kNone);  // this file's first row of the same customer
  std::vector<uint32_t> earlier(rows_.size(), Interner::kNone);    // the customer of an earlier file
  std::vector<std::pair<uint64_t, uint32_t>> pairs;
  pairs.reserve(rows_.size());
  for (uint32_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].rejected) continue;
    if (!t_.index.empty()) earlier[i] = t_.find(key(rows_[i]));
    if (earlier[i] == Interner::kNone) pairs.emplace_back(hash_bytes(keys_.data() + rows_[i].key_at, rows_[i].key_len), i);
  }
  std::sort(pairs.begin(), pairs.end());
  for (size_t b = 0; b < pairs.size();) {
    size_t e = b + 1;
    while (e < pairs.size() && pairs[e].first == pairs[b].first) ++e;
    for (size_t k = b; k < e; ++k) {  // rows in file order within the run
      uint32_t i = pairs[k].second;
      for (size_t l = b; l < k; ++l) {
        uint32_t j = pairs[l].second;
        if (first_row[j] == j && key(rows_[j]) == key(rows_[i])) {
          first_row[i] = j;
          break;
        }
      }
      if (first_row[i] == Interner::kNone) first_row[i] = i;
    }
    b = e;
  }
  Tally dup_in_file, dup_earlier;
  uint64_t differing = 0;
  for (uint32_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].rejected) continue;
    if (earlier[i] != Interner::kNone) {
      dup_earlier.add(rows_[i].line);
      differing += t_.row_hash[earlier[i]] != rows_[i].hash;
    } else if (first_row[i] != i) {
      dup_in_file.add(rows_[i].line);
      differing += rows_[first_row[i]].hash != rows_[i].hash;
      rows_[i].rejected = true;  // (not counted as rejected: skipped below)
    }
    if (earlier[i] != Interner::kNone) rows_[i].rejected = true;
  }

  finish_per_customer_report(report_, *reader_, rows_.size(), late_rejected_, dup_in_file, dup_earlier, differing);
  if (churned_unreadable_)
    report_.warnings.push_back({"churned_unreadable",
                                std::to_string(churned_unreadable_.count) + " value(s) in " + column_label(columns_, c_churned_) +
                                    " are neither yes nor no (" + describe_lines(churned_unreadable_) +
                                    "); those customers' churned flag is unknown",
                                churned_unreadable_.count, churned_unreadable_.lines});
  if (churned_blank_)
    report_.warnings.push_back({"churned_blank",
                                std::to_string(churned_blank_.count) + " customer(s) have no value in " +
                                    column_label(columns_, c_churned_) + " (" + describe_lines(churned_blank_) +
                                    "); their churned flag is unknown",
                                churned_blank_.count, churned_blank_.lines});
  if (numbers_unreadable_)
    report_.warnings.push_back({"numbers_unreadable",
                                std::to_string(numbers_unreadable_.count) +
                                    " tenure or charges value(s) are not numbers (tenure: whole months) (" +
                                    describe_lines(numbers_unreadable_) + "); left blank",
                                numbers_unreadable_.count, numbers_unreadable_.lines});
  add_invisible_ids_warning(report_, invisible_ids_);
  append();
  return t_.files.back();
}

// Nothing above this may throw after it: the table only changes here.
void CustomersLoader::append() {
  const uint16_t file = uint16_t(t_.files.size());
  std::vector<std::pair<uint64_t, uint32_t>> added;
  for (const Row& r : rows_) {
    if (r.rejected) continue;
    uint32_t c = uint32_t(t_.size());
    t_.name_at.push_back(t_.name_arena.size());
    t_.name_len.push_back(r.name_len);
    t_.name_arena.append(names_, r.name_at, r.name_len);
    t_.key_at.push_back(t_.key_arena.size());
    t_.key_len.push_back(r.key_len);
    t_.key_arena.append(keys_, r.key_at, r.key_len);
    added.emplace_back(hash_bytes(keys_.data() + r.key_at, r.key_len), c);
    t_.signup_day.push_back(r.signup);
    t_.end_day.push_back(r.end);
    t_.churned.push_back(r.churned);
    t_.tenure_months.push_back(r.tenure);
    t_.monthly_charges.push_back(r.monthly);
    t_.total_charges.push_back(r.total);
    t_.line_number.push_back(uint32_t(r.line));
    t_.file.push_back(file);
    t_.row_hash.push_back(r.hash);
  }
  std::sort(added.begin(), added.end());
  std::vector<std::pair<uint64_t, uint32_t>> merged;
  merged.reserve(t_.index.size() + added.size());
  std::merge(t_.index.begin(), t_.index.end(), added.begin(), added.end(), std::back_inserter(merged));
  t_.index.swap(merged);
  t_.any_signup_column |= c_signup_ >= 0;
  t_.any_end_column |= c_end_ >= 0;
  t_.any_churned_column |= c_churned_ >= 0;
  t_.any_tenure_column |= c_tenure_ >= 0;
  t_.any_monthly_column |= c_monthly_ >= 0;
  t_.any_total_column |= c_total_ >= 0;
  t_.files.push_back(report_);
  rollback();  // the staging area is spent
}

}  // namespace custlens
