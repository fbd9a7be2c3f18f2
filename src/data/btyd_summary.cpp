#include "data/btyd_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>

#include "data/interner.h"
#include "error.h"
#include "io/normalize.h"

namespace custlens {

namespace {

const char* const kFieldNames[] = {"btyd_frequency", "t_x", "T", "btyd_monetary", "weight"};

// t_x above T by less than this (relative) is rounding in the file: t_x becomes T. The
// models' compress() clips with the same tolerance.
constexpr double kRoundingTolerance = 1e-9;

// parse_amount keeps 4 decimals (money). A time in weeks or years computed from days
// (30.428571) has more: a plain cell is read again with strtod. strtod follows the C
// locale, which a host may have changed: the end check and the agreement with the 4-decimal
// reading catch that, and the 4-decimal reading stays.
double exact_value(std::string_view cell, const ParsedAmount& a, DecimalMark mark) {
  const double rounded = double(a.units) / double(kAmountScale);
  if (!a.rounded) return rounded;  // units / 10^4, both exact: already the nearest double
  char decimal = a.evidence == DecimalMark::comma || (a.evidence == DecimalMark::unknown && mark == DecimalMark::comma)
                     ? ','
                     : '.';
  char grouping = decimal == ',' ? '.' : ',';
  std::string s;
  for (char c : clean_id(cell)) {
    if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == 'e' || c == 'E') s += c;
    else if (c == decimal) s += '.';
    else if (c != grouping) return rounded;  // currency, fullwidth, brackets: keep 4 decimals
  }
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v)) return rounded;
  if (std::fabs(v - rounded) > 0.5 / double(kAmountScale) + 1e-12 * std::fabs(v)) return rounded;
  return v;
}

}  // namespace

uint32_t BtydSummaryTable::find(std::string_view k) const {
  uint64_t h = hash_bytes(k.data(), k.size());
  auto it = std::lower_bound(index.begin(), index.end(), std::make_pair(h, uint32_t(0)));
  for (; it != index.end() && it->first == h; ++it)
    if (key(it->second) == k) return it->second;
  return Interner::kNone;
}

double BtydSummaryTable::customers() const {
  double n = 0;
  for (double w : weight) n += w;
  return n;
}

BtydSummaryLoader::BtydSummaryLoader(BtydSummaryTable& table, std::string file_name, BtydSummaryLoadOptions opt)
    : t_(table), opt_(std::move(opt)) {
  report_.name = std::move(file_name);
  reader_ = std::make_unique<CsvReader>(opt_.csv, *this);
}

BtydSummaryLoader::~BtydSummaryLoader() = default;

void BtydSummaryLoader::rollback() {
  rows_.clear();
  alts_.clear();
  names_.clear();
  keys_.clear();
}

void BtydSummaryLoader::feed(const char* p, size_t n) { reader_->feed(p, n); }

void BtydSummaryLoader::on_size_estimate(uint64_t rows) {
  rows_.reserve(size_t(std::min<uint64_t>(rows, uint64_t(1) << 24)));
}

void BtydSummaryLoader::on_header(const std::vector<std::string>& columns, bool has_header) {
  columns_ = columns;
  report_.mapping = choose_columns("btyd_summary", columns_, has_header, {}, opt_.mapping);
  has_header_ = has_header;
  map_columns();
}

void BtydSummaryLoader::map_columns() {
  auto col = [&](const char* field) {
    for (const auto& c : report_.mapping)
      if (c.field == field) return c.index;
    return -1;
  };
  c_id_ = col("customer_id");
  for (int f = 0; f < kFields; ++f) c_[f] = col(kFieldNames[f]);
  std::string missing;
  int n_missing = 0;
  for (int f : {kX, kTx, kT})
    if (c_[f] < 0) missing += std::string(n_missing++ ? ", " : "") + kFieldNames[f];
  if (!missing.empty()) {
    std::string cols;
    for (size_t i = 0; i < columns_.size() && i < 12; ++i) cols += (i ? ", " : "") + columns_[i];
    if (columns_.size() > 12) cols += ", …";
    throw InputError("missing_column",
                     std::string(n_missing > 1 ? "No columns for " : "No column for ") + missing + " found among: " + cols + ". A btyd_summary file needs "
                     "btyd_frequency (repeat purchase days, e.g. \"frequency\" or \"x\"), t_x (first to last "
                     "purchase, e.g. \"recency\") and T (first purchase to the end of observation). " +
                         (!has_header_ ? "The file has no header: map its columns by position (mapping: "
                                       "1=btyd_frequency, 2=t_x, 3=T)"
                                     : "Name the columns holding them (mapping: column=field)"));
  }
  mapped_ = true;
}

// A number cell: blank, unreadable, or a value (with its other reading when "1,234").
void BtydSummaryLoader::read_cell(std::string_view cell, Field f, uint64_t line, Row& r) {
  cell = trim(cell);
  if (cell.empty()) {
    r.cell[f] = kBlank;
    return;
  }
  ParsedAmount a;
  // Money signs belong to the monetary column only: "$3" is not a number of purchases.
  if (!parse_amount(cell, opt_.decimal_mark, a) || (f != kMonetary && a.currency != Currency::none)) {
    r.cell[f] = kUnreadable;
    return;
  }
  r.cell[f] = kOk;
  r.v[f] = exact_value(cell, a, opt_.decimal_mark) + 0.0;  // + 0.0: "-0" is 0
  if (a.ambiguous) {
    alts_.push_back({uint32_t(rows_.size()), uint8_t(f), double(a.alt_units) / double(kAmountScale) + 0.0});
    if (last_ambiguous_line_ != line) ambiguous_numbers_.add(line);  // rows, not cells
    last_ambiguous_line_ = line;
  }
  if (a.evidence == DecimalMark::comma) comma_evidence_.add(line);
  if (a.evidence == DecimalMark::dot) dot_evidence_.add(line);
}

void BtydSummaryLoader::on_row(uint64_t line, const std::string_view* f, uint64_t row_hash) {
  Row r;
  r.line = line;
  r.hash = row_hash;
  if (c_id_ >= 0) {
    std::string_view id = clean_id(f[c_id_]);
    bool invisible = false;
    std::string_view key = id.empty() ? id : trim(normalize_key(id, key_buf_, &invisible));
    if (key.empty()) {
      no_id_.add(line);
    } else {
      if (invisible) invisible_ids_.add(line);
      r.name_at = uint32_t(names_.size());
      r.name_len = uint32_t(id.size());
      names_.append(id.data(), id.size());
      r.key_at = uint32_t(keys_.size());
      r.key_len = uint32_t(key.size());
      keys_.append(key.data(), key.size());
    }
  }
  for (int k = 0; k < kFields; ++k)
    if (c_[k] >= 0) read_cell(f[c_[k]], Field(k), line, r);
  rows_.push_back(r);
}

void BtydSummaryLoader::reject(Row& r, const std::string& reason) {
  r.rejected = true;
  report_.rejected[reason].add(r.line);
  ++report_.rows_rejected;
  ++rejected_;
}

// "1,234" reads as 1.234 or 1234; the file's other cells decide, as in the customers table.
// Undecided, '.' is the decimal mark and a warning says so.
void BtydSummaryLoader::resolve_decimal_mark() {
  report_.decimal_mark = opt_.decimal_mark == DecimalMark::comma || (comma_evidence_ && !dot_evidence_) ? "comma" : "dot";
  if (!ambiguous_numbers_ || opt_.decimal_mark != DecimalMark::unknown) return;
  if (comma_evidence_ && !dot_evidence_) {
    for (const Alt& a : alts_) rows_[a.row].v[a.field] = a.value;
    return;
  }
  if (!dot_evidence_)
    report_.warnings.push_back({"ambiguous_numbers",
                                std::to_string(ambiguous_numbers_.count) + " row(s) have numbers such as \"1,234\" could be read "
                                "with ',' or '.' as the decimal mark (" + describe_lines(ambiguous_numbers_) +
                                "); read with '.': set decimalMark to change it",
                                ambiguous_numbers_.count, ambiguous_numbers_.lines});
}

// The rules of btyd_summary.h, in field order: a row gets the first reason that applies.
void BtydSummaryLoader::check_rows() {
  for (Row& r : rows_) {
    auto readable = [&](Field f) {
      if (r.cell[f] == kBlank) reject(r, std::string(kFieldNames[f]) + " missing (" + column_label(columns_, c_[f]) + ")");
      else if (r.cell[f] == kUnreadable) reject(r, std::string(kFieldNames[f]) + " not a number (" + column_label(columns_, c_[f]) + ")");
      return !r.rejected;
    };
    double& x = r.v[kX];
    double& tx = r.v[kTx];
    double& T = r.v[kT];
    if (!readable(kX)) continue;
    if (x < 0 || x != std::floor(x)) {
      reject(r, "btyd_frequency not a whole number >= 0 (" + column_label(columns_, c_[kX]) + ")");
      continue;
    }
    if (!readable(kTx)) continue;
    if (tx < 0) {
      reject(r, "t_x negative (" + column_label(columns_, c_[kTx]) + ")");
      continue;
    }
    if (!readable(kT)) continue;
    if (T < 0) {
      reject(r, "T negative (" + column_label(columns_, c_[kT]) + ")");
      continue;
    }
    if (tx > T) {
      if (tx > T * (1 + kRoundingTolerance)) {
        reject(r, "t_x greater than T (" + column_label(columns_, c_[kTx]) + ", " + column_label(columns_, c_[kT]) + ")");
        continue;
      }
      tx = T;
      clipped_t_x_.add(r.line);
    }
    if (x == 0 && tx != 0) {
      reject(r, "t_x must be 0 when btyd_frequency is 0 (" + column_label(columns_, c_[kTx]) + ")");
      continue;
    }
    if (c_[kWeight] >= 0) {
      if (!readable(kWeight)) continue;
      if (!(r.v[kWeight] > 0)) {
        reject(r, "weight not > 0 (" + column_label(columns_, c_[kWeight]) + ")");
        continue;
      }
    }
    if (r.cell[kMonetary] == kUnreadable) {
      reject(r, "btyd_monetary not a number (" + column_label(columns_, c_[kMonetary]) + ")");
      continue;
    }
    if (r.cell[kMonetary] == kBlank) r.v[kMonetary] = std::numeric_limits<double>::quiet_NaN();
  }
}

// The first row of a customer id is kept: earlier files first, then this file (rows grouped
// by the hash of their key, texts compared within equal hashes). Rejected rows and rows
// without an id take no part.
void BtydSummaryLoader::drop_repeated_ids() {
  if (c_id_ < 0) return;
  auto key = [&](const Row& r) { return std::string_view(keys_).substr(r.key_at, r.key_len); };
  std::vector<std::pair<uint64_t, uint32_t>> pairs;
  pairs.reserve(rows_.size());
  for (uint32_t i = 0; i < rows_.size(); ++i) {
    Row& r = rows_[i];
    if (r.rejected || r.key_len == 0) continue;
    uint32_t earlier = t_.index.empty() ? Interner::kNone : t_.find(key(r));
    if (earlier != Interner::kNone) {
      dup_earlier_.add(r.line);
      differing_dups_ += t_.row_hash[earlier] != r.hash;
      r.rejected = true;  // skipped, counted below
      continue;
    }
    pairs.emplace_back(hash_bytes(keys_.data() + r.key_at, r.key_len), i);
  }
  std::sort(pairs.begin(), pairs.end());
  std::vector<uint32_t> repeats;  // rows repeating an earlier row of this file
  for (size_t b = 0; b < pairs.size();) {
    size_t e = b + 1;
    while (e < pairs.size() && pairs[e].first == pairs[b].first) ++e;
    for (size_t k = b + 1; k < e; ++k) {  // rows in file order within the run
      const Row& r = rows_[pairs[k].second];
      for (size_t l = b; l < k; ++l) {
        const Row& first = rows_[pairs[l].second];
        if (key(first) == key(r)) {  // the first match is the row kept
          differing_dups_ += first.hash != r.hash;
          repeats.push_back(pairs[k].second);
          break;
        }
      }
    }
    b = e;
  }
  std::sort(repeats.begin(), repeats.end());  // line order for the examples
  for (uint32_t i : repeats) {
    rows_[i].rejected = true;
    dup_in_file_.add(rows_[i].line);
  }
}

const FileReport& BtydSummaryLoader::finish() {
  reader_->finish();
  if (!mapped_) throw InputError("empty_file", "The file has no header and no rows");
  resolve_decimal_mark();
  check_rows();
  drop_repeated_ids();

  finish_per_customer_report(report_, *reader_, rows_.size(), rejected_, dup_in_file_, dup_earlier_, differing_dups_);
  if (clipped_t_x_)
    report_.warnings.push_back({"t_x_rounded_to_T",
                                std::to_string(clipped_t_x_.count) + " row(s) have t_x above T by rounding only (" +
                                    describe_lines(clipped_t_x_) + "); t_x was set to T",
                                clipped_t_x_.count, clipped_t_x_.lines});
  if (no_id_)
    report_.warnings.push_back({"rows_without_customer_id",
                                std::to_string(no_id_.count) + " row(s) have no value in " + column_label(columns_, c_id_) + " (" +
                                    describe_lines(no_id_) +
                                    "); they count in the model fits but cannot be matched to a customer",
                                no_id_.count, no_id_.lines});
  add_invisible_ids_warning(report_, invisible_ids_);
  append();
  return t_.files.back();
}

// Nothing above this may throw after it: the table only changes here.
void BtydSummaryLoader::append() {
  const uint16_t file = uint16_t(t_.files.size());
  const size_t n = t_.size() + size_t(report_.rows_used);
  t_.frequency.reserve(n), t_.t_x.reserve(n), t_.T.reserve(n), t_.monetary.reserve(n), t_.weight.reserve(n);
  std::vector<std::pair<uint64_t, uint32_t>> added;
  for (const Row& r : rows_) {
    if (r.rejected) continue;
    uint32_t i = uint32_t(t_.size());
    t_.name_at.push_back(t_.name_arena.size());
    t_.name_len.push_back(r.name_len);
    t_.name_arena.append(names_, r.name_at, r.name_len);
    t_.key_at.push_back(t_.key_arena.size());
    t_.key_len.push_back(r.key_len);
    t_.key_arena.append(keys_, r.key_at, r.key_len);
    if (r.key_len) added.emplace_back(hash_bytes(keys_.data() + r.key_at, r.key_len), i);
    t_.frequency.push_back(r.v[kX]);
    t_.t_x.push_back(r.v[kTx]);
    t_.T.push_back(r.v[kT]);
    t_.monetary.push_back(c_[kMonetary] >= 0 ? r.v[kMonetary] : std::numeric_limits<double>::quiet_NaN());
    t_.weight.push_back(c_[kWeight] >= 0 ? r.v[kWeight] : 1.0);
    t_.line_number.push_back(uint32_t(r.line));
    t_.file.push_back(file);
    t_.row_hash.push_back(r.hash);
  }
  std::sort(added.begin(), added.end());
  std::vector<std::pair<uint64_t, uint32_t>> merged;
  merged.reserve(t_.index.size() + added.size());
  std::merge(t_.index.begin(), t_.index.end(), added.begin(), added.end(), std::back_inserter(merged));
  t_.index.swap(merged);
  t_.any_id_column |= c_id_ >= 0;
  t_.any_monetary_column |= c_[kMonetary] >= 0;
  t_.any_weight_column |= c_[kWeight] >= 0;
  t_.files.push_back(report_);
  rollback();  // the staging area is spent
}

}  // namespace custlens
