// The btyd_summary table (metrics.md section 1): per-customer (x, t_x, T, monetary, weight)
// summaries as lifetimes and the BTYD papers publish them. The rules are those written at
// the top of src/data/btyd_summary.h, one TEST_CASE each where they fit.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "data/btyd_summary.h"
#include "data/interner.h"
#include "error.h"

using custlens::BtydSummaryLoader;
using custlens::BtydSummaryLoadOptions;
using custlens::BtydSummaryTable;
using custlens::FileReport;
using custlens::InputError;
using custlens::Tally;

namespace {

// A public data file, gunzipped by gzip (the native tests have no zlib; the Telco test does
// the same). Empty when gzip or the file is missing: the caller skips with a warning.
std::string gunzip_shared(const std::string& name) {
  std::string path = std::string(CUSTLENS_SHARED_DIR) + "/data/" + name + ".gz";
  FILE* p = popen(("gzip -dc '" + path + "' 2>/dev/null").c_str(), "r");
  if (!p) return {};
  std::string out;
  char buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  if (pclose(p) != 0) return {};
  return out;
}

// Loads `csv` as one file, fed in chunks of `chunk` bytes; on an error the loader is rolled
// back (as the engine does) and the error rethrown.
const FileReport& load(BtydSummaryTable& t, const std::string& csv, BtydSummaryLoadOptions opt = {},
                       size_t chunk = 4096, const std::string& name = "summary.csv") {
  BtydSummaryLoader loader(t, name, std::move(opt));
  try {
    for (size_t off = 0; off < csv.size(); off += chunk) loader.feed(csv.data() + off, std::min(chunk, csv.size() - off));
    return loader.finish();
  } catch (...) {
    loader.rollback();
    throw;
  }
}

BtydSummaryLoadOptions mapping(std::vector<custlens::MappingOverride> m) {
  BtydSummaryLoadOptions o;
  o.mapping = std::move(m);
  return o;
}

// The rejected (or skipped) entry whose reason starts with `prefix` (reasons end with the
// column they concern), or null.
const Tally* reason(const std::map<std::string, Tally>& list, const std::string& prefix) {
  const Tally* found = nullptr;
  for (const auto& [text, tally] : list)
    if (text.compare(0, prefix.size(), prefix) == 0) {
      if (found) FAIL("two reasons start with " << prefix);
      found = &tally;
    }
  return found;
}

std::vector<uint64_t> lines_of(const std::map<std::string, Tally>& list, const std::string& prefix) {
  const Tally* t = reason(list, prefix);
  INFO("reason " << prefix);
  REQUIRE(t);
  CHECK(t->count == t->lines.size());  // the hand-made files have fewer than 10 per reason
  return t->lines;
}

std::string mapped(const FileReport& f, const std::string& field) {
  for (const auto& c : f.mapping)
    if (c.field == field) return c.index < 0 ? "" : c.column;
  return "?";
}

bool has_warning(const FileReport& f, const std::string& code) {
  for (const auto& w : f.warnings)
    if (w.code == code) return true;
  return false;
}

void check_rows_add_up(const FileReport& f) {
  CHECK(f.rows_read == f.rows_used + f.rows_rejected + f.rows_skipped);
  uint64_t rejected = 0, skipped = 0;
  for (const auto& [r, t] : f.rejected) rejected += t.count;
  for (const auto& [r, t] : f.skipped) skipped += t.count;
  CHECK(rejected == f.rows_rejected);
  CHECK(skipped == f.rows_skipped);
}

bool same_double(double a, double b) { return std::isnan(a) ? std::isnan(b) : a == b; }
bool same_doubles(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!same_double(a[i], b[i])) return false;
  return true;
}

// Every column and every report field that a chunking could change.
void check_same(const BtydSummaryTable& a, const BtydSummaryTable& b) {
  CHECK(a.name_arena == b.name_arena);
  CHECK(a.name_at == b.name_at);
  CHECK(a.name_len == b.name_len);
  CHECK(a.key_arena == b.key_arena);
  CHECK(a.index == b.index);
  CHECK(same_doubles(a.frequency, b.frequency));
  CHECK(same_doubles(a.t_x, b.t_x));
  CHECK(same_doubles(a.T, b.T));
  CHECK(same_doubles(a.monetary, b.monetary));
  CHECK(same_doubles(a.weight, b.weight));
  CHECK(a.line_number == b.line_number);
  CHECK(a.file == b.file);
  CHECK(a.row_hash == b.row_hash);
  CHECK(a.any_id_column == b.any_id_column);
  CHECK(a.any_monetary_column == b.any_monetary_column);
  CHECK(a.any_weight_column == b.any_weight_column);
  REQUIRE(a.files.size() == b.files.size());
  for (size_t i = 0; i < a.files.size(); ++i) {
    const FileReport &x = a.files[i], &y = b.files[i];
    CHECK(x.rows_read == y.rows_read);
    CHECK(x.rows_used == y.rows_used);
    CHECK(x.rows_rejected == y.rows_rejected);
    CHECK(x.rows_skipped == y.rows_skipped);
    CHECK(x.decimal_mark == y.decimal_mark);
    REQUIRE(x.rejected.size() == y.rejected.size());
    for (auto p = x.rejected.begin(), q = y.rejected.begin(); p != x.rejected.end(); ++p, ++q) {
      CHECK(p->first == q->first);
      CHECK(p->second.count == q->second.count);
      CHECK(p->second.lines == q->second.lines);
    }
    REQUIRE(x.skipped.size() == y.skipped.size());
    for (auto p = x.skipped.begin(), q = y.skipped.begin(); p != x.skipped.end(); ++p, ++q) {
      CHECK(p->first == q->first);
      CHECK(p->second.lines == q->second.lines);
    }
    REQUIRE(x.warnings.size() == y.warnings.size());
    for (size_t w = 0; w < x.warnings.size(); ++w) {
      CHECK(x.warnings[w].message == y.warnings[w].message);
      CHECK(x.warnings[w].lines == y.warnings[w].lines);
    }
  }
}

// Every rejection reason once (a few twice), with the rows that pass around them.
const char* const kBadFile =
    "id,frequency,recency,T,monetary_value,weight\n"
    "a1,2,10,20,5.5,1\n"           // 2 used
    "a2,,1,2,,1\n"                 // 3 btyd_frequency missing
    "a3,abc,1,2,,1\n"              // 4 btyd_frequency not a number
    "a4,1.5,1,2,,1\n"              // 5 not whole
    "a5,-1,0,2,,1\n"               // 6 negative
    "a6,2.0,1,2,,1\n"              // 7 used: 2.0 is whole; blank monetary is unknown
    "a7,1,,2,,1\n"                 // 8 t_x missing
    "a8,1,soon,2,,1\n"             // 9 t_x not a number
    "a9,1,-1,2,,1\n"               // 10 t_x negative
    "a10,1,1,,,1\n"                // 11 T missing
    "a11,1,1,-2,,1\n"              // 12 T negative
    "a12,1,3,2,,1\n"               // 13 t_x greater than T
    "a13,0,1,2,,1\n"               // 14 t_x must be 0 when btyd_frequency is 0
    "a14,1,1,2,,0\n"               // 15 weight not > 0
    "a15,1,1,2,,-3\n"              // 16 weight not > 0
    "a16,1,1,2,,\n"                // 17 weight missing
    "a17,1,1,2,,many\n"            // 18 weight not a number
    "a18,1,1,2,lots,1\n"           // 19 btyd_monetary not a number
    "a19,1,1,2,-4.5,1\n"           // 20 used: negative monetary kept
    "a20,3,2.0000000001,2,,1\n"    // 21 used: t_x above T by rounding only -> T
    "a21,1,1,2,,2.5\n"             // 22 used: a weight need not be whole
    "a22,0,0,0,,1\n"               // 23 used: T = 0 (first purchase on the last day)
    ",1,1,2,,1\n"                  // 24 used: no id (warning)
    "\n"                           // 25 blank line: skipped by the reader
    "a1,1,1,2,,1\n"                // 26 skipped: repeats a1 (line 2), differs from it
    "a12,1,1,2,,1\n"               // 27 used: a12's first row was rejected, so this is its first
    "a6,2.0,1,2,,1\n"              // 28 skipped: exact repeat of line 7
    "a23,$3,1,2,,1\n";             // 29 btyd_frequency not a number: "$" belongs to money

}  // namespace

TEST_CASE("cdnow_customers_summary.csv: ID, frequency, recency, T (lifetimes names)", "[btyd_summary][data]") {
  std::string csv = gunzip_shared("cdnow_customers_summary.csv");
  if (csv.empty()) {
    WARN("gzip or cdnow_customers_summary.csv.gz is not available: skipped");
    return;
  }
  BtydSummaryTable t;
  const FileReport& f = load(t, csv, {}, 65536, "cdnow_customers_summary.csv");
  CHECK(f.rows_read == 2357);
  CHECK(f.rows_used == 2357);
  CHECK(f.rows_rejected == 0);
  CHECK(f.rows_skipped == 0);
  check_rows_add_up(f);
  CHECK(f.warnings.empty());
  CHECK(mapped(f, "customer_id") == "ID");
  CHECK(mapped(f, "btyd_frequency") == "frequency");
  CHECK(mapped(f, "t_x") == "recency");
  CHECK(mapped(f, "T") == "T");
  CHECK(mapped(f, "btyd_monetary") == "");
  CHECK(mapped(f, "weight") == "");
  REQUIRE(t.size() == 2357);
  CHECK(t.any_id_column);
  CHECK(!t.any_monetary_column);
  CHECK(!t.any_weight_column);
  CHECK(t.customers() == 2357);
  // First rows: 1,2,30.43,38.86 / 2,1,1.71,38.86 / 3,0,0.0,38.86; last: 2357,0,0.0,27.0.
  CHECK(t.name(0) == "1");
  CHECK(t.frequency[0] == 2);
  CHECK(t.t_x[0] == 30.43);
  CHECK(t.T[0] == 38.86);
  CHECK(std::isnan(t.monetary[0]));
  CHECK(t.weight[0] == 1);
  CHECK(t.line_number[0] == 2);
  CHECK(t.frequency[1] == 1);
  CHECK(t.t_x[1] == 1.71);
  CHECK(t.frequency[2] == 0);
  CHECK(t.t_x[2] == 0);
  CHECK(t.name(2356) == "2357");
  CHECK(t.T[2356] == 27.0);
  CHECK(t.find("1234") == 1233);
  // Whole-file figures (README: 1,411 one-time buyers; awk gives the sums).
  double x = 0, tx = 0;
  size_t repeaters = 0;
  for (size_t i = 0; i < t.size(); ++i) x += t.frequency[i], tx += t.t_x[i], repeaters += t.frequency[i] > 0;
  CHECK(x == 2457);
  CHECK(tx == Approx(16135.52).epsilon(1e-12));
  CHECK(repeaters == 946);
  CHECK(t.size() - repeaters == 1411);
}

TEST_CASE("cdnow_customers_summary_with_transactions.csv: ID, x, t_x, T, zbar (CRLF, no final newline)",
          "[btyd_summary][data]") {
  std::string csv = gunzip_shared("cdnow_customers_summary_with_transactions.csv");
  std::string plain = gunzip_shared("cdnow_customers_summary.csv");
  if (csv.empty() || plain.empty()) {
    WARN("gzip or the CDNOW summary files are not available: skipped");
    return;
  }
  BtydSummaryTable t;
  const FileReport& f = load(t, csv, {}, 65536, "cdnow_customers_summary_with_transactions.csv");
  CHECK(f.rows_read == 2357);
  CHECK(f.rows_used == 2357);
  check_rows_add_up(f);
  CHECK(mapped(f, "customer_id") == "ID");
  CHECK(mapped(f, "btyd_frequency") == "x");
  CHECK(mapped(f, "t_x") == "t_x");
  CHECK(mapped(f, "T") == "T");
  CHECK(mapped(f, "btyd_monetary") == "zbar");
  REQUIRE(t.size() == 2357);
  CHECK(t.any_monetary_column);
  // 1,2,30.43,38.86,22.35 / 2,1,1.71,38.86,11.77 / 3,0,0.00,38.86,0.00
  CHECK(t.frequency[0] == 2);
  CHECK(t.t_x[0] == 30.43);
  CHECK(t.T[0] == 38.86);
  CHECK(t.monetary[0] == 22.35);
  CHECK(t.monetary[1] == 11.77);
  CHECK(t.monetary[2] == 0);  // x = 0: kept as written
  CHECK(t.name(2356) == "2357");
  CHECK(t.T[2356] == 27.0);
  // The same customers as the other summary file, value for value.
  BtydSummaryTable u;
  load(u, plain);
  REQUIRE(u.size() == t.size());
  CHECK(u.name_arena == t.name_arena);
  CHECK(u.frequency == t.frequency);
  CHECK(u.t_x == t.t_x);
  CHECK(u.T == t.T);
}

TEST_CASE("donations.csv: aggregated rows, T from periods, weights sum to 11,104", "[btyd_summary][data]") {
  std::string csv = gunzip_shared("donations.csv");
  if (csv.empty()) {
    WARN("gzip or donations.csv.gz is not available: skipped");
    return;
  }
  BtydSummaryTable t;
  const FileReport& f = load(t, csv, {}, 4096, "donations.csv");
  CHECK(f.rows_read == 22);
  CHECK(f.rows_used == 22);
  check_rows_add_up(f);
  CHECK(mapped(f, "customer_id") == "");
  CHECK(mapped(f, "btyd_frequency") == "frequency");
  CHECK(mapped(f, "t_x") == "recency");
  CHECK(mapped(f, "T") == "periods");
  CHECK(mapped(f, "weight") == "weights");
  REQUIRE(t.size() == 22);
  CHECK(!t.any_id_column);
  CHECK(t.any_weight_column);
  CHECK(t.customers() == 11104);
  CHECK(t.name(0) == "");
  CHECK(t.index.empty());
  // 0,0,6,3464 / 1,1,6,1091 … 6,6,6,1203
  CHECK(t.frequency[0] == 0);
  CHECK(t.t_x[0] == 0);
  CHECK(t.T[0] == 6);
  CHECK(t.weight[0] == 3464);
  CHECK(t.frequency[1] == 1);
  CHECK(t.weight[1] == 1091);
  CHECK(t.frequency[21] == 6);
  CHECK(t.t_x[21] == 6);
  CHECK(t.weight[21] == 1203);
  CHECK(std::isnan(t.monetary[0]));
}

TEST_CASE("every chunk size (1, 2, 7, 4096) gives the same table and report", "[btyd_summary]") {
  std::vector<std::pair<std::string, std::string>> files = {{"bad.csv", kBadFile}};
  for (const char* name : {"cdnow_customers_summary.csv", "cdnow_customers_summary_with_transactions.csv", "donations.csv"}) {
    std::string csv = gunzip_shared(name);
    if (csv.empty()) WARN("gzip or " << name << " is not available: skipped");
    else files.emplace_back(name, csv);
  }
  for (const auto& [name, csv] : files) {
    INFO(name);
    BtydSummaryTable whole;
    load(whole, csv, {}, csv.size() + 1);
    for (size_t chunk : {1, 2, 7, 4096}) {
      INFO("chunk " << chunk);
      BtydSummaryTable t;
      load(t, csv, {}, chunk);
      check_same(whole, t);
    }
  }
}

TEST_CASE("each rejection rule names its lines; read = used + rejected + skipped", "[btyd_summary]") {
  BtydSummaryTable t;
  const FileReport& f = load(t, kBadFile, {}, 7);
  check_rows_add_up(f);
  CHECK(f.rows_read == 28);  // lines 2..29
  CHECK(f.rows_used == 8);   // 2, 7, 20, 21, 22, 23, 24, 27
  CHECK(f.rows_rejected == 17);
  CHECK(f.rows_skipped == 3);
  using V = std::vector<uint64_t>;
  const auto& r = f.rejected;
  CHECK(lines_of(r, "btyd_frequency missing") == V{3});
  CHECK(lines_of(r, "btyd_frequency not a number") == V{4, 29});
  CHECK(lines_of(r, "btyd_frequency not a whole number >= 0") == V{5, 6});
  CHECK(lines_of(r, "t_x missing") == V{8});
  CHECK(lines_of(r, "t_x not a number") == V{9});
  CHECK(lines_of(r, "t_x negative") == V{10});
  CHECK(lines_of(r, "T missing") == V{11});
  CHECK(lines_of(r, "T negative") == V{12});
  CHECK(lines_of(r, "t_x greater than T") == V{13});
  CHECK(lines_of(r, "t_x must be 0 when btyd_frequency is 0") == V{14});
  CHECK(lines_of(r, "weight not > 0") == V{15, 16});
  CHECK(lines_of(r, "weight missing") == V{17});
  CHECK(lines_of(r, "weight not a number") == V{18});
  CHECK(lines_of(r, "btyd_monetary not a number") == V{19});
  CHECK(r.size() == 14);
  CHECK(lines_of(f.skipped, "blank line") == V{25});
  CHECK(lines_of(f.skipped, "duplicate customer id") == V{26, 28});
  CHECK(has_warning(f, "duplicate_customers"));
  CHECK(has_warning(f, "t_x_rounded_to_T"));
  CHECK(has_warning(f, "rows_without_customer_id"));

  REQUIRE(t.size() == 8);
  CHECK(t.line_number == std::vector<uint32_t>{2, 7, 20, 21, 22, 23, 24, 27});
  CHECK(t.name(0) == "a1");
  CHECK(t.monetary[0] == 5.5);
  CHECK(t.frequency[1] == 2);
  CHECK(std::isnan(t.monetary[1]));  // blank monetary: unknown
  CHECK(t.monetary[2] == -4.5);      // negative: kept
  CHECK(t.t_x[3] == 2);              // 2.0000000001 > 2 by rounding: t_x = T
  CHECK(t.T[3] == 2);
  CHECK(t.weight[4] == 2.5);
  CHECK(t.T[5] == 0);
  CHECK(t.name(6) == "");  // no id: used, not matchable
  CHECK(t.name(7) == "a12");
  CHECK(t.find("a12") == 7);
  CHECK(t.find("a13") == custlens::Interner::kNone);
  CHECK(t.customers() == Approx(8 - 1 + 2.5));
}

TEST_CASE("t_x above T beyond 1e-9 relative is rejected; within it, t_x becomes T", "[btyd_summary]") {
  BtydSummaryTable t;
  const FileReport& f = load(t, "x,t_x,T\n1,100.000001,100\n1,100.00000001,100\n1,0.1,0.1\n");
  CHECK(f.rows_used == 2);
  CHECK(lines_of(f.rejected, "t_x greater than T") == std::vector<uint64_t>{2});
  REQUIRE(t.size() == 2);
  CHECK(t.t_x[0] == 100);
  CHECK(t.t_x[1] == 0.1);
}

TEST_CASE("numbers keep every decimal; grouping and decimal commas are read", "[btyd_summary]") {
  SECTION("more than 4 decimals (weeks computed from days) are kept exactly") {
    BtydSummaryTable t;
    load(t, "x,t_x,T,zbar\n3,30.428571428571427,38.857142857142854,12.345678\n");
    REQUIRE(t.size() == 1);
    CHECK(t.t_x[0] == 30.428571428571427);
    CHECK(t.T[0] == 38.857142857142854);
    CHECK(t.monetary[0] == 12.345678);
  }
  SECTION("a semicolon file with decimal commas; \"1,234\" follows the file") {
    BtydSummaryTable t;
    const FileReport& f = load(t, "ID;frequency;recency;T;monetary_value\n1;2;30,43;38,86;1.234,50\n2;1;1,234;38,86;7,5\n", {}, 2);
    REQUIRE(t.size() == 2);
    CHECK(f.decimal_mark == "comma");
    CHECK(t.t_x[0] == 30.43);
    CHECK(t.monetary[0] == 1234.5);
    CHECK(t.t_x[1] == 1.234);
    CHECK(t.monetary[1] == 7.5);
  }
  SECTION("quoted thousands in a comma file") {
    BtydSummaryTable t;
    load(t, "x,t_x,T,weight\n1,10.5,20,\"1,204.0\"\n");
    REQUIRE(t.size() == 1);
    CHECK(t.weight[0] == 1204);
  }
  SECTION("only \"1,234\"-like numbers: read with '.', and a warning") {
    BtydSummaryTable t;
    const FileReport& f = load(t, "x;t_x;T\n1;1,234;2000\n");
    REQUIRE(t.size() == 1);
    CHECK(t.t_x[0] == 1234);
    CHECK(has_warning(f, "ambiguous_numbers"));
    BtydSummaryLoadOptions comma;
    comma.decimal_mark = custlens::DecimalMark::comma;
    BtydSummaryTable u;
    const FileReport& g = load(u, "x;t_x;T\n1;1,234;2000\n", comma);
    REQUIRE(u.size() == 1);
    CHECK(u.t_x[0] == 1.234);
    CHECK(!has_warning(g, "ambiguous_numbers"));
  }
}

TEST_CASE("a file without a frequency column is a missing_column error naming the columns found", "[btyd_summary]") {
  BtydSummaryTable t;
  try {
    load(t, "id,recency,T\n1,2,3\n");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.code == "missing_column");
    CHECK(std::string(e.what()).find("No column for btyd_frequency found among: id, recency, T") != std::string::npos);
  }
  try {
    load(t, "id,frequency\n1,2\n");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.code == "missing_column");
    CHECK(std::string(e.what()).find("No columns for t_x, T found among: id, frequency") != std::string::npos);
  }
  CHECK(t.size() == 0);
  CHECK(t.files.empty());
}

TEST_CASE("a headerless file needs a mapping by position", "[btyd_summary]") {
  const std::string csv = "1,2,30.43,38.86\n2,1,1.71,38.86\n3,0,0.0,38.86\n";
  BtydSummaryTable t;
  try {
    load(t, csv);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.code == "missing_column");
    CHECK(std::string(e.what()).find("no header") != std::string::npos);
  }
  const FileReport& f = load(t, csv, mapping({{"customer_id", "1"}, {"btyd_frequency", "2"}, {"t_x", "3"}, {"T", "4"}}));
  CHECK(f.rows_read == 3);
  CHECK(f.rows_used == 3);
  REQUIRE(t.size() == 3);
  CHECK(t.name(0) == "1");
  CHECK(t.frequency[0] == 2);
  CHECK(t.t_x[0] == 30.43);
  CHECK(t.T[2] == 38.86);
}

TEST_CASE("mapping overrides choose, and unmap, columns", "[btyd_summary]") {
  SECTION("headers a, b, c, d mapped by name") {
    BtydSummaryTable t;
    const FileReport& f = load(t, "a,b,c,d\nu1,3,5.5,9\nu2,0,0,4\n",
                               mapping({{"customer_id", "a"}, {"btyd_frequency", "b"}, {"t_x", "c"}, {"T", "d"}}));
    CHECK(f.rows_used == 2);
    CHECK(mapped(f, "t_x") == "c");
    REQUIRE(t.size() == 2);
    CHECK(t.name(1) == "u2");
    CHECK(t.frequency[0] == 3);
    CHECK(t.t_x[0] == 5.5);
    CHECK(t.T[0] == 9);
  }
  SECTION("an override wins over a synonym; \"\" unmaps") {
    // "recency" here is RFM recency (days since the last purchase): the user points t_x elsewhere.
    BtydSummaryTable t;
    const FileReport& f = load(t, "customer,frequency,recency,span,age,monetary,n\nc1,2,3,10,20,7.5,4\n",
                               mapping({{"t_x", "span"}, {"btyd_monetary", ""}, {"weight", ""}}));
    CHECK(mapped(f, "t_x") == "span");
    CHECK(mapped(f, "T") == "age");
    CHECK(mapped(f, "btyd_monetary") == "");
    REQUIRE(t.size() == 1);
    CHECK(t.t_x[0] == 10);
    CHECK(t.T[0] == 20);
    CHECK(std::isnan(t.monetary[0]));
    CHECK(t.weight[0] == 1);
    CHECK(!t.any_monetary_column);
  }
  SECTION("an unknown field is an error") {
    BtydSummaryTable t;
    CHECK_THROWS_AS(load(t, "x,t_x,T\n1,1,2\n", mapping({{"recency_days", "x"}})), InputError);
  }
}

TEST_CASE("header synonyms: x and t_x and T do not collide, whatever their order", "[btyd_summary]") {
  SECTION("t_x, T, x, customer_id, monetary_value") {
    BtydSummaryTable t;
    const FileReport& f = load(t, "t_x,T,x,customer_id,monetary_value\n1.5,4,2,k9,10\n");
    CHECK(mapped(f, "btyd_frequency") == "x");
    CHECK(mapped(f, "t_x") == "t_x");
    CHECK(mapped(f, "T") == "T");
    CHECK(mapped(f, "customer_id") == "customer_id");
    CHECK(mapped(f, "btyd_monetary") == "monetary_value");
    REQUIRE(t.size() == 1);
    CHECK(t.frequency[0] == 2);
    CHECK(t.t_x[0] == 1.5);
    CHECK(t.T[0] == 4);
  }
  SECTION("BG/BB notation: x, t_x, n, # donors") {
    BtydSummaryTable t;
    const FileReport& f = load(t, "x,t_x,n,# donors\n6,6,6,1203\n");
    CHECK(mapped(f, "T") == "n");
    CHECK(mapped(f, "weight") == "# donors");
    CHECK(t.customers() == 1203);
  }
  SECTION("Chinese headers") {
    BtydSummaryTable t;
    const FileReport& f = load(t, "会员编号,复购次数,首末购买间隔,观察期,平均复购金额,人数\nM01,2,10,30,88.5,1\n");
    CHECK(mapped(f, "customer_id") == "会员编号");
    CHECK(mapped(f, "btyd_frequency") == "复购次数");
    CHECK(mapped(f, "t_x") == "首末购买间隔");
    CHECK(mapped(f, "T") == "观察期");
    CHECK(mapped(f, "btyd_monetary") == "平均复购金额");
    CHECK(mapped(f, "weight") == "人数");
    REQUIRE(t.size() == 1);
    CHECK(t.monetary[0] == 88.5);
  }
}

TEST_CASE("rollback leaves the table as it was", "[btyd_summary]") {
  BtydSummaryTable t;
  load(t, "id,frequency,recency,T\n1,2,3,4\n2,0,0,4\n");
  BtydSummaryTable before = t;
  SECTION("a file fed whole, then rolled back instead of finished") {
    BtydSummaryLoader loader(t, "second.csv", {});
    std::string csv = "id,frequency,recency,T\n3,1,1,4\n4,1,1,4\n";
    loader.feed(csv.data(), csv.size());
    loader.rollback();
  }
  SECTION("a file that fails at its end (unterminated quote)") {
    CHECK_THROWS_AS(load(t, "id,frequency,recency,T\n3,1,1,4\n\"4,1,1,4\n", {}, 3), InputError);
  }
  SECTION("a file that fails at its header") {
    CHECK_THROWS_AS(load(t, "id,recency,T\n3,1,4\n", {}, 1), InputError);
  }
  check_same(before, t);
  CHECK(t.size() == 2);
  CHECK(t.files.size() == 1);
}

TEST_CASE("a customer id already loaded from an earlier file is skipped, the first row kept", "[btyd_summary]") {
  BtydSummaryTable t;
  load(t, "ID,x,t_x,T\n1,2,3,4\n2,0,0,4\n", {}, 4096, "first.csv");
  const FileReport& f = load(t, "ID,x,t_x,T\n3,1,1,5\n２,5,5,5\n4,1,1,5\n", {}, 4096, "second.csv");
  check_rows_add_up(f);
  CHECK(f.rows_read == 3);
  CHECK(f.rows_used == 2);
  CHECK(f.rows_skipped == 1);
  CHECK(lines_of(f.skipped, "customer id already loaded from an earlier file") == std::vector<uint64_t>{3});
  CHECK(has_warning(f, "duplicate_customers"));
  REQUIRE(t.size() == 4);
  uint32_t two = t.find("2");
  REQUIRE(two == 1);  // the fullwidth "２" matches "2" by its key; the first file's row stays
  CHECK(t.frequency[two] == 0);
  CHECK(t.file[two] == 0);
  CHECK(t.name(2) == "3");
  CHECK(t.file[2] == 1);
  CHECK(t.find("4") == 3);
  CHECK(t.files.size() == 2);
}

TEST_CASE("a header and no rows: 0 rows, no error", "[btyd_summary]") {
  BtydSummaryTable t;
  const FileReport& f = load(t, "frequency,recency,T\n");
  CHECK(f.rows_read == 0);
  CHECK(f.rows_used == 0);
  CHECK(t.size() == 0);
  CHECK(t.files.size() == 1);
  CHECK(t.customers() == 0);
}
