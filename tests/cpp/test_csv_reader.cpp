// Tests for src/io/csv_reader: the csv-spectrum files, the bad-input matrix rows the reader
// owns (shared/spec/bad-input.md) and the weird/ corpus (shared/corpus/weird/MANIFEST.md).
//
// Every file is read at chunk sizes 1, 2, 3, 7, 42, 4096 and whole; small files also at
// every split point. The reader buffers the first 64 KiB to sniff the dialect, so on a
// small file a split only moves bytes between feed() calls before the sniff. Two more
// kinds of test therefore reach the state machine itself: the Tokenizer is fed the same
// splits directly, and files larger than the sniff window are generated in memory with
// the hard bytes (multi-byte characters, CR CR LF, quoted newlines) after 64 KiB.
//
// E/R choices (the matrix allows either; these keep the reader simple):
//  - row 3/4 invalid UTF-8: E (the reader has no U+FFFD replacement mode).
//  - row 12 NUL bytes: R, kept inside the value (never cut) and counted with the line.
//  - row 13/14 CR CR LF is one line break (a CRLF file converted twice): R with one
//    "double-CR line endings" warning, lines numbered 1, 2, 3 (not blank lines 2 and 4).
//    A one-column file's first line is its header when it does not read as data
//    (one_r_two.csv: header `one`, 1 row `two`); stats().has_header says which.
//  - row 16 unterminated quote: E.
//  - row 17/19 broken quoting (unescaped_quote.csv, bad_escape.csv): strict E at the line
//    and column where the quoting breaks, when the delimiter is on most lines; never a
//    blank-separated or one-column reading. Opt-in R: lenient quotes keep the stray quotes
//    as text (counted per row), the backslash dialect reads \" \\ \, inside quotes.
//  - row 20/21 ragged rows: E ("ragged_rows") when one of the first 3 data rows or more
//    than 1 % of the rows is ragged — so error_too_little.csv (line 7), error_too_many.csv
//    (line 6) and inconsistent_cells.csv (line 3) are E; R (padded / extras kept in an
//    `overflow` column, counted with lines) when few rows, past the start, are. Rows stream
//    to the sink before finish() throws; the caller drops them.
//  - row 22 trailing delimiter: R, an unnamed empty trailing column is dropped with one
//    warning, one with values gets a generated name (column_N) and a warning counting the
//    rows with values; empty fields past the last column on rows are dropped and counted.
//  - row 24 title lines: R, counted as preamble lines (also when padded with delimiters);
//    total lines: R, counted as summary lines, never rows.
//  - row 26 header only: R with 0 rows.
//  - row 30 thousands separators: E (ragged at the start), the message says why.
//  - Accounting (records_read == rows + blank + preamble + summary) is asserted on every
//    complete read; a refused file (E) is not loaded, so it has no accounting.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "error.h"
#include "io/csv_reader.h"
#include "io/utf8.h"

using namespace custlens;

#include "support.h"

namespace {

// ---------------------------------------------------------------------------
// Files

using custlens::test::slurp;

std::string weird_path(const std::string& name) {
  return std::string(CUSTLENS_SHARED_DIR) + "/corpus/weird/" + name;
}
std::string weird(const std::string& name) { return slurp(weird_path(name)); }
std::string spectrum_csv(const std::string& name) {
  return slurp(std::string(CUSTLENS_SHARED_DIR) + "/corpus/csv-spectrum/csvs/" + name + ".csv");
}
std::string spectrum_json(const std::string& name) {
  return slurp(std::string(CUSTLENS_SHARED_DIR) + "/corpus/csv-spectrum/json/" + name + ".json");
}
std::string fixture(const std::string& name) {
  return slurp(std::string(CUSTLENS_SOURCE_DIR) + "/tests/data/csv/" + name);
}

const char* const kSpectrum[] = {"comma_in_quotes", "empty", "empty_crlf", "escaped_quotes", "json",
                                 "newlines", "newlines_crlf", "quotes_and_newlines", "simple", "simple_crlf",
                                 "utf8"};

// Every weird/ file (encodings the reader refuses included: an error must be the same at
// every chunk size too).
const char* const kWeird[] = {
    "afl_fuzz_case_53.csv", "bad_escape.csv", "blank_line.csv", "decimal_separators.csv", "dirty_line.csv",
    "duplicate_header_col.csv", "error_too_little.csv", "error_too_many.csv", "greek_utf8.csv",
    "inconsistent_cells.csv", "invalid_utf.csv", "invalid_utf_quoted_nl.csv", "latin1.csv",
    "locations_header_trailing_comma.csv", "mixed_dates.csv", "mixed_line_endings.csv", "nullbyte.csv",
    "one_r_n_two.csv", "one_r_two.csv", "pipe_delim.csv", "poisoned-sample.csv", "quoted_newline.csv",
    "shift_jis.csv", "simple_unterminated_quote.csv", "tab.csv", "test_gb18030.csv", "test_long_line.csv",
    "thousands_simple.csv", "unescaped_quote.csv", "unterminated.csv", "utf16.csv", "utf8bom.csv"};

// The project's own small files in tests/data/csv/.
const char* const kFixtures[] = {"utf8_straddle.csv",   "title_footer.csv",        "sep_semicolon.csv",
                                 "cdnow_head.txt",      "padded_preamble.csv",     "trailing_comma_rows.csv",
                                 "long_preamble.csv"};

// ---------------------------------------------------------------------------
// Reading through the reader

struct Outcome {
  int header_calls = 0;
  std::vector<std::string> columns;
  std::vector<std::string> added;  // on_column_added: "name after N rows"
  bool has_header = false;
  std::vector<std::vector<std::string>> rows;
  std::vector<uint64_t> lines;
  std::vector<uint64_t> hashes;
  bool bad_width = false;  // a row arrived without exactly one on_header call before it
  CsvStats stats;
  std::vector<Notice> notices;
  bool ok = true;
  std::string code, message;
  uint64_t line = 0;
  uint32_t column = 0;
  int64_t byte = -1;

  std::vector<std::string> col(size_t c) const {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.at(c));
    return out;
  }
  bool has_notice(const std::string& code) const {
    for (const auto& n : notices)
      if (n.code == code) return true;
    return false;
  }
  const Notice& notice(const std::string& code) const {
    for (const auto& n : notices)
      if (n.code == code) return n;
    FAIL("no notice " << code);
    return notices.front();
  }
};

class Collector : public RowSink {
 public:
  explicit Collector(Outcome& o) : o_(o) {}
  void on_header(const std::vector<std::string>& columns, bool has_header) override {
    ++o_.header_calls;
    o_.columns = columns;
    o_.has_header = has_header;
  }
  void on_column_added(const std::vector<std::string>& columns) override {
    if (o_.header_calls != 1 || columns.size() != o_.columns.size() + 1) o_.bad_width = true;
    o_.columns = columns;
    o_.added.push_back(columns.back() + " after " + std::to_string(o_.rows.size()) + " rows");
  }
  void on_row(uint64_t line, const std::string_view* fields, uint64_t row_hash) override {
    if (o_.header_calls != 1) o_.bad_width = true;
    std::vector<std::string> row;
    for (size_t i = 0; i < o_.columns.size(); ++i) row.emplace_back(fields[i]);
    o_.rows.push_back(std::move(row));
    o_.lines.push_back(line);
    o_.hashes.push_back(row_hash);
  }

 private:
  Outcome& o_;
};

/// Reads `data` fed in the parts delimited by `cuts` (ascending offsets).
Outcome read_parts(const std::string& data, const std::vector<size_t>& cuts, const CsvOptions& opt = {}) {
  Outcome o;
  Collector sink(o);
  CsvReader reader(opt, sink);
  try {
    size_t at = 0;
    for (size_t c : cuts) {
      reader.feed(data.data() + at, c - at);
      at = c;
    }
    reader.feed(data.data() + at, data.size() - at);
    reader.finish();
  } catch (const InputError& e) {
    o.ok = false;
    o.code = e.code;
    o.message = e.what();
    o.line = e.line;
    o.column = e.column;
    o.byte = e.byte;
  }
  o.stats = reader.stats();
  o.notices = reader.notices();
  return o;
}

/// Reads `data` in chunks of `chunk` bytes (0 = the whole file in one feed).
Outcome read_chunked(const std::string& data, size_t chunk, const CsvOptions& opt = {}) {
  std::vector<size_t> cuts;
  if (chunk)
    for (size_t c = chunk; c < data.size(); c += chunk) cuts.push_back(c);
  return read_parts(data, cuts, opt);
}

std::string tally(const Tally& t) {
  std::string s = std::to_string(t.count) + "[";
  for (uint64_t l : t.lines) s += std::to_string(l) + " ";
  return s + "]";
}

/// Everything observable about a read, as text: two reads are the same when this is.
std::string describe(const Outcome& o) {
  std::ostringstream s;
  if (!o.ok) s << "ERROR " << o.code << " line " << o.line << " column " << o.column << " byte " << o.byte << ": "
               << o.message << "\n";
  s << "header_calls " << o.header_calls << " has_header " << o.has_header << " bad_width " << o.bad_width << "\n";
  s << "columns";
  for (const auto& c : o.columns) s << " [" << c << "]";
  for (const auto& a : o.added) s << " added " << a;
  s << "\n";
  for (size_t i = 0; i < o.rows.size(); ++i) {
    s << "line " << o.lines[i] << " hash " << o.hashes[i] << ":";
    for (const auto& f : o.rows[i]) s << " [" << f << "]";
    s << "\n";
  }
  const CsvStats& st = o.stats;
  s << "read " << st.records_read << " rows " << st.rows << " blank " << tally(st.blank_lines) << " preamble "
    << tally(st.preamble_lines) << " summary " << tally(st.summary_lines) << " padded " << tally(st.padded_rows)
    << " overflow " << tally(st.overflow_rows) << " nul " << tally(st.nul_bytes) << " stray "
    << tally(st.stray_quotes) << "\n";
  s << "endings";
  for (uint64_t e : st.line_endings) s << " " << e;
  s << " encoding " << st.encoding << " delimiter " << st.delimiter_name << " (" << st.delimiter_source
    << ") header " << st.has_header << " (" << st.header_source << ")\n";
  for (const auto& n : o.notices) {
    s << "notice " << n.code << " " << n.count << " {";
    for (uint64_t l : n.lines) s << l << " ";
    s << "} " << n.message << "\n";
  }
  return s.str();
}

/// records read = rows + blank + preamble + summary (metrics.md §1), on every complete read.
void check_accounting(const Outcome& o) {
  if (!o.ok) return;  // a refused file has no accounting: it is not loaded at all
  const CsvStats& st = o.stats;
  INFO(describe(o));
  CHECK(st.records_read == st.rows + st.blank_lines.count + st.preamble_lines.count + st.summary_lines.count);
  CHECK(st.rows == o.rows.size());
  CHECK(o.header_calls == 1);
  CHECK_FALSE(o.bad_width);
}

const size_t kChunkSizes[] = {1, 2, 3, 7, 42, 4096, 0};

/// Reads at every chunk size; all must agree with the whole-file read, which is returned.
Outcome read_all_ways(const std::string& data, const CsvOptions& opt = {}) {
  Outcome whole = read_chunked(data, 0, opt);
  std::string want = describe(whole);
  check_accounting(whole);
  for (size_t chunk : kChunkSizes) {
    if (!chunk) continue;
    Outcome o = read_chunked(data, chunk, opt);
    INFO("chunk size " << chunk);
    REQUIRE(describe(o) == want);
    check_accounting(o);
  }
  return whole;
}

/// Two-part reads at every split point, and three-part reads at every pair of split
/// points up to `three_part_limit` bytes, must equal the whole-file read.
void check_every_split(const std::string& data, size_t three_part_limit = 160, const CsvOptions& opt = {}) {
  std::string want = describe(read_chunked(data, 0, opt));
  for (size_t a = 0; a <= data.size(); ++a) {
    Outcome o = read_parts(data, {a}, opt);
    INFO("split at " << a);
    REQUIRE(describe(o) == want);
  }
  if (data.size() > three_part_limit) return;
  for (size_t a = 0; a <= data.size(); ++a)
    for (size_t b = a; b <= data.size(); ++b) {
      Outcome o = read_parts(data, {a, b}, opt);
      INFO("split at " << a << " and " << b);
      REQUIRE(describe(o) == want);
    }
}

// ---------------------------------------------------------------------------
// Reading through the Tokenizer alone (no sniff buffer in front of it)

struct TokenSink : RecordSink {
  std::string out;
  void on_record(const Record& r) override {
    out += "@" + std::to_string(r.line) + ":";
    for (uint32_t i = 0; i < r.size; ++i) {
      out += " [" + std::string(r.field(i)) + "]";
      out += "l" + std::to_string(r.field_line(i)) + "b" + std::to_string(r.field_byte(i)) +
             (r.quoted(i) ? "q" : "");
    }
    out += "\n";
  }
};

Dialect dialect_of(const CsvStats& st) {
  Dialect d;
  if (st.delimiter_name == "whitespace") {
    d.whitespace = true;
  } else if (st.delimiter_name == "none") {
    d.has_delimiter = false;
  } else if (st.delimiter_name == "tab") {
    d.delimiter = '\t';
  } else if (st.delimiter_name.size() == 1) {
    d.delimiter = st.delimiter_name[0];
  }
  return d;
}

std::string tokenize(const std::string& data, const Dialect& d, const std::vector<size_t>& cuts) {
  Tokenizer t(d);
  TokenSink sink;
  size_t at = 0;
  for (size_t c : cuts) {
    t.feed(data.data() + at, c - at, sink);
    at = c;
  }
  t.feed(data.data() + at, data.size() - at, sink);
  t.finish(sink);
  std::string s = sink.out;
  const TokenError& e = t.error();
  if (e) s += "ERROR " + e.code + " " + std::to_string(e.line) + ":" + std::to_string(e.column) + " b" +
              std::to_string(e.byte) + " " + e.message + "\n";
  for (int k = 0; k < kLineEndingKinds; ++k) s += " e" + std::to_string(t.line_endings(LineEnding(k)));
  s += " stray " + tally(t.stray_quotes()) + " line " + std::to_string(t.line());
  return s;
}

/// The tokenizer gives the same records, lines, offsets and errors for every 2-part split
/// (and every 3-part split of small inputs) as for the whole input, in every dialect.
void check_tokenizer_splits(const std::string& data, const Dialect& d, size_t three_part_limit = 160) {
  std::string want = tokenize(data, d, {});
  for (size_t a = 0; a <= data.size(); ++a) {
    INFO("tokenizer split at " << a);
    REQUIRE(tokenize(data, d, {a}) == want);
  }
  for (size_t chunk : {1, 2, 3, 7, 42}) {
    std::vector<size_t> cuts;
    for (size_t c = chunk; c < data.size(); c += chunk) cuts.push_back(c);
    INFO("tokenizer chunk " << chunk);
    REQUIRE(tokenize(data, d, cuts) == want);
  }
  if (data.size() > three_part_limit) return;
  for (size_t a = 0; a <= data.size(); ++a)
    for (size_t b = a; b <= data.size(); ++b) {
      INFO("tokenizer split at " << a << " and " << b);
      REQUIRE(tokenize(data, d, {a, b}) == want);
    }
}

std::vector<Dialect> all_dialects() {
  std::vector<Dialect> out;
  for (char c : {',', ';', '\t', '|'}) {
    Dialect d;
    d.delimiter = c;
    out.push_back(d);
  }
  Dialect ws;
  ws.whitespace = true;
  out.push_back(ws);
  Dialect none;
  none.has_delimiter = false;
  out.push_back(none);
  return out;
}

/// `n` bytes of plain ASCII rows of `width` fields (ending in a line break), to push what
/// follows past the 64 KiB sniff window.
std::string padding_rows(size_t n, int width, size_t filler = 0) {
  std::string s;
  for (int i = 0; s.size() < n; ++i) {
    s += std::to_string(100000 + i);
    for (int k = 1; k < width; ++k) s += ",v" + std::to_string(k) + std::string(filler, 'x');
    s += "\n";
  }
  return s;
}

/// Rows enough to fill the sniff window (few, long rows: cheap to compare).
std::string window_rows(int width) { return padding_rows(CsvReader::kSniffBytes, width, 200); }

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::vector<std::string> V(std::initializer_list<const char*> l) {
  std::vector<std::string> v;
  for (const char* s : l) v.emplace_back(s);
  return v;
}

}  // namespace

// ===========================================================================
// csv-spectrum

TEST_CASE("csv-spectrum: every file equals its JSON at every chunk size", "[csv]") {
  for (const char* name : kSpectrum) {
    INFO("csv-spectrum " << name);
    std::string data = spectrum_csv(name);
    Outcome o = read_all_ways(data);
    REQUIRE(o.ok);
    CHECK(o.has_header);
    nlohmann::json want = nlohmann::json::parse(spectrum_json(name));
    REQUIRE(want.is_array());
    REQUIRE(o.rows.size() == want.size());
    for (size_t i = 0; i < o.rows.size(); ++i) {
      REQUIRE(want[i].size() == o.columns.size());
      for (size_t c = 0; c < o.columns.size(); ++c) {
        INFO("row " << i << " column " << o.columns[c]);
        REQUIRE(want[i].contains(o.columns[c]));
        CHECK(o.rows[i][c] == want[i][o.columns[c]].get<std::string>());
      }
    }
  }
}

TEST_CASE("csv-spectrum: identical results at every split point", "[csv]") {
  for (const char* name : kSpectrum) {
    INFO("csv-spectrum " << name);
    std::string data = spectrum_csv(name);
    REQUIRE(data.size() <= 4096);
    check_every_split(data, 256);
    check_tokenizer_splits(data, Dialect(), 256);
  }
}

// ===========================================================================
// Every corpus file and fixture: chunkings, splits, accounting

TEST_CASE("every corpus file: same result at every chunk size, accounting invariant", "[csv]") {
  for (const char* name : kWeird) {
    INFO("weird/" << name);
    read_all_ways(weird(name));
  }
  for (const char* name : kFixtures) {
    INFO("fixture " << name);
    read_all_ways(fixture(name));
  }
}

TEST_CASE("every small corpus file: same result at every split point, reader and tokenizer", "[csv]") {
  auto run = [](const std::string& data) {
    if (data.size() > 4096) return;
    check_every_split(data, 128);
    // The tokenizer in every dialect, not only the sniffed one: its state must survive
    // any split whatever the delimiter.
    for (const Dialect& d : all_dialects()) check_tokenizer_splits(data, d, 64);
  };
  for (const char* name : kWeird) {
    INFO("weird/" << name);
    run(weird(name));
  }
  for (const char* name : kFixtures) {
    INFO("fixture " << name);
    run(fixture(name));
  }
}

TEST_CASE("files past the 64 KiB sniff window: same result at every chunk size and split", "[csv]") {
  // The hard bytes come after the sniff window, so the tokenizer and the record layer see
  // them split across feed() calls.
  std::string tail =
      "200001,\"quoted, with\r\nCRLF and \"\"quotes\"\"\",v2\n"
      "200002,张三 Zürich 😀 𝄞,v2\r\n"
      "200003,ʤ,v2\r\r\n"
      "200004,\"multi\rline\nfield\",v2\r"
      "200005,\"\",\n"
      "200006,é,€\n";
  std::string data = "id,name,note\n" + window_rows(3) + tail;
  Outcome whole = read_all_ways(data);
  REQUIRE(whole.ok);
  REQUIRE(whole.columns == V({"id", "name", "note"}));
  REQUIRE(whole.rows.size() >= 6);
  size_t n = whole.rows.size();
  CHECK(whole.rows[n - 6] == V({"200001", "quoted, with\r\nCRLF and \"quotes\"", "v2"}));
  CHECK(whole.rows[n - 5] == V({"200002", "张三 Zürich 😀 𝄞", "v2"}));
  CHECK(whole.rows[n - 4] == V({"200003", "ʤ", "v2"}));
  CHECK(whole.rows[n - 3] == V({"200004", "multi\rline\nfield", "v2"}));
  CHECK(whole.rows[n - 2] == V({"200005", "", ""}));
  CHECK(whole.rows[n - 1] == V({"200006", "é", "€"}));
  // Every split inside the tail (and around the end of the sniff window).
  std::string want = describe(whole);
  size_t tail_at = data.size() - tail.size();
  std::vector<size_t> points;
  for (size_t a = tail_at - 8; a <= data.size(); ++a) points.push_back(a);
  for (size_t a = CsvReader::kSniffBytes - 8; a <= CsvReader::kSniffBytes + 8; ++a) points.push_back(a);
  for (size_t i = 0; i < points.size(); ++i) {
    size_t a = points[i];
    INFO("split at " << a);
    REQUIRE(describe(read_parts(data, {a})) == want);
    if (i % 5 == 0)
      REQUIRE(describe(read_parts(data, {CsvReader::kSniffBytes + 1, std::max(a, CsvReader::kSniffBytes + 1)})) ==
              want);
  }
}

// ===========================================================================
// The bad-input matrix (shared/spec/bad-input.md), one TEST_CASE per row

TEST_CASE("matrix 1: empty file, only a BOM, only blank lines -> empty_file", "[csv]") {
  for (std::string data : {std::string(), std::string("\xEF\xBB\xBF"), std::string("\n\n\n"),
                           std::string("\r\n\r\n"), std::string("\xEF\xBB\xBF\r\n \r\n\t\n"), std::string("\r"),
                           std::string("  \n")}) {
    INFO("input of " << data.size() << " bytes");
    Outcome o = read_all_ways(data);
    CHECK_FALSE(o.ok);
    CHECK(o.code == "empty_file");
    CHECK(contains(o.message, "File is empty: no header and no data rows"));
    check_every_split(data);
  }
}

TEST_CASE("matrix 2: UTF-8 BOM is not part of the first header", "[csv]") {
  Outcome o = read_all_ways(weird("utf8bom.csv"));
  REQUIRE(o.ok);
  CHECK(o.columns == V({"id", "name"}));
  CHECK(o.stats.encoding == "UTF-8 (BOM)");
  CHECK(o.rows == std::vector<std::vector<std::string>>{V({"1", "Mark"}), V({"2", "Hannes"})});
  CHECK(o.lines == std::vector<uint64_t>{2, 3});
  // Without a BOM the encoding is plain UTF-8.
  CHECK(read_chunked(spectrum_csv("simple"), 0).stats.encoding == "UTF-8");
}

TEST_CASE("matrix 3: invalid UTF-8 -> error line 1 column 3 byte 7", "[csv]") {
  Outcome o = read_all_ways(weird("invalid_utf.csv"));
  REQUIRE_FALSE(o.ok);
  CHECK(o.code == "invalid_utf8");
  CHECK(o.line == 1);
  CHECK(o.column == 3);
  CHECK(o.byte == 7);
  CHECK(contains(o.message, "Line 1, column 3: invalid UTF-8 at byte 7"));
}

TEST_CASE("matrix 4: invalid bytes in a quoted field spanning lines 11-13", "[csv]") {
  std::string data = weird("invalid_utf_quoted_nl.csv");
  Outcome o = read_all_ways(data);
  REQUIRE_FALSE(o.ok);
  CHECK(o.code == "invalid_utf8");
  CHECK(o.line == 11);  // where the record starts
  CHECK(o.column == 2);
  CHECK(contains(o.message, "line 11"));
  CHECK(contains(o.message, "line 12"));  // where the bad bytes are
  CHECK(uint8_t(data[size_t(o.byte)]) == 0xFF);
  // The same past the sniff window, where the record really is split across feeds.
  std::string big = "valid,\"valid\",valid\n";
  std::string pad;
  while (pad.size() < CsvReader::kSniffBytes) pad += big;
  uint64_t pad_lines = pad.size() / big.size();
  std::string data2 = pad + data;
  Outcome o2 = read_all_ways(data2);
  REQUIRE_FALSE(o2.ok);
  CHECK(o2.code == "invalid_utf8");
  CHECK(o2.line == 11 + pad_lines);
  CHECK(contains(o2.message, "line " + std::to_string(12 + pad_lines)));
  CHECK(uint8_t(data2[size_t(o2.byte)]) == 0xFF);
}

TEST_CASE("bad-input row 3: invalid UTF-8 replaced with U+FFFD on request, counted", "[csv][matrix]") {
  CsvOptions opt;
  opt.replace_invalid = true;
  Outcome o = read_all_ways(weird("invalid_utf.csv"), opt);
  REQUIRE(o.ok);
  REQUIRE(o.has_notice("replaced_invalid_bytes"));
  CHECK(o.notice("replaced_invalid_bytes").count == 1);
  CHECK(o.notice("replaced_invalid_bytes").lines == std::vector<uint64_t>{1});
  bool found = false;
  for (const auto& c : o.columns) found |= contains(c, "\xEF\xBF\xBD");
  for (const auto& r : o.rows)
    for (const auto& c : r) found |= contains(c, "\xEF\xBF\xBD");
  CHECK(found);
  // A BOM is still said when the UTF-8 text goes through the replacing decoder.
  Outcome b = read_all_ways("\xEF\xBB\xBFid,name\n1,x\xFFy\n", opt);
  REQUIRE(b.ok);
  CHECK(b.stats.encoding == "UTF-8 (BOM)");
  CHECK(b.columns[0] == "id");
  // Strict, the message offers both ways out.
  Outcome e = read_chunked(weird("invalid_utf.csv"), 0);
  REQUIRE_FALSE(e.ok);
  CHECK(contains(e.message, "choose the file's encoding"));
  CHECK(contains(e.message, "U+FFFD"));
}

TEST_CASE("bad-input row 5: a GB18030 file without BOM is detected and shown", "[csv][matrix]") {
  std::string gbk = slurp(std::string(CUSTLENS_SOURCE_DIR) + "/tests/data/encoding/cn_shop_orders.gbk.csv");
  std::string utf8 = slurp(std::string(CUSTLENS_SOURCE_DIR) + "/tests/data/encoding/cn_shop_orders.utf8.csv");
  Outcome g = read_all_ways(gbk);
  REQUIRE(g.ok);
  CHECK(g.stats.encoding == "GB18030 (detected)");
  CHECK(contains(g.stats.encoding_source, "Chinese"));
  Outcome u = read_chunked(utf8, 0);
  CHECK(g.columns == u.columns);
  CHECK(g.rows == u.rows);
  CHECK(g.columns[1] == "买家会员名");
  REQUIRE_FALSE(g.stats.preview.empty());
  CHECK(g.stats.preview[0] == "订单号,买家会员名,下单时间,实付金额,订单状态");
  // The corpus's code-page dump (4-byte sequences included) is GB18030 too.
  Outcome cp = read_all_ways(weird("test_gb18030.csv"));
  CHECK(cp.stats.encoding == "GB18030 (detected)");
  // MANIFEST: decoded, then with normal quoting the lone `"` on line 36 opens a quote that
  // never closes.
  CHECK(cp.code == "unterminated_quote");
  CHECK(cp.line == 36);
  // Shift_JIS and broken UTF-8 must not come out as Chinese: rows 10 and 3.
  Outcome sj = read_all_ways(weird("shift_jis.csv"));
  REQUIRE_FALSE(sj.ok);
  CHECK(sj.code == "invalid_utf8");
  CHECK(sj.line == 1);
  CHECK(contains(sj.message, "does not read as Chinese text in GB18030"));
  Outcome iu = read_chunked(weird("invalid_utf.csv"), 0);
  CHECK(iu.code == "invalid_utf8");
}

TEST_CASE("bad-input row 6: GB18030 trail bytes | and \\ stay inside their characters", "[csv][matrix]") {
  CsvOptions opt;
  opt.encoding = "gb18030";
  std::string gb = slurp(std::string(CUSTLENS_SOURCE_DIR) + "/tests/data/encoding/gb18030_pipe.csv");
  std::string want = slurp(std::string(CUSTLENS_SOURCE_DIR) + "/tests/data/encoding/gb18030_pipe.utf8.csv");
  Outcome g = read_all_ways(gb, opt);
  REQUIRE(g.ok);
  CHECK(g.stats.delimiter_name == "|");
  CHECK(g.stats.encoding == "GB18030 (chosen)");
  Outcome u = read_chunked(want, 0);
  REQUIRE(u.ok);
  CHECK(g.columns.size() == 3);
  CHECK(g.rows == u.rows);
  size_t cells = 0;
  for (const auto& r : g.rows) cells += r.size();
  CHECK(cells >= 252 / 3);
}

TEST_CASE("bad-input row 7: a GB18030 character across a chunk boundary", "[csv][matrix]") {
  std::string gbk = slurp(std::string(CUSTLENS_SOURCE_DIR) + "/tests/data/encoding/cn_shop_orders.gbk.csv");
  check_every_split(gbk, 0);
  // Past the sniff window, where the decoder itself sees the split.
  std::string big = gbk;
  std::string line = gbk.substr(gbk.find("\r\n") + 2);
  while (big.size() < CsvReader::kSniffBytes + 4096) big += line;
  std::string want = describe(read_chunked(big, 0));
  for (size_t at = CsvReader::kSniffBytes; at < CsvReader::kSniffBytes + 200; ++at) {
    INFO("split at " << at);
    REQUIRE(describe(read_parts(big, {at})) == want);
  }
}

TEST_CASE("bad-input row 8: UTF-16LE with BOM, TAB-delimited", "[csv][matrix]") {
  Outcome o = read_all_ways(weird("utf16.csv"));
  REQUIRE(o.ok);
  CHECK(o.stats.encoding == "UTF-16LE (BOM)");
  CHECK(o.columns == V({"name", "age"}));
  CHECK(o.rows.size() == 20);
}

TEST_CASE("bad-input row 9: windows-1252 is an error until chosen, then 12 x 2 with the euro", "[csv][matrix]") {
  Outcome e = read_all_ways(weird("latin1.csv"));
  REQUIRE_FALSE(e.ok);
  CHECK(e.code == "invalid_utf8");
  CHECK(e.line == 2);
  CHECK(contains(e.message, "windows-1252"));
  CsvOptions opt;
  opt.encoding = "windows-1252";
  Outcome o = read_all_ways(weird("latin1.csv"), opt);
  REQUIRE(o.ok);
  CHECK(o.stats.encoding == "windows-1252 (chosen)");
  CHECK(o.rows.size() == 12);
  CHECK(o.rows[0][0] == "Jos\xC3\xA9 \xC3\x81lvarez");
  Outcome euro = read_chunked("name,price\nx,\x80" "5\n", 0, opt);
  REQUIRE(euro.ok);
  CHECK(euro.rows[0][1] == "\xE2\x82\xAC" "5");
  CsvOptions bad;
  bad.encoding = "shift_jis";
  Outcome sj = read_chunked(weird("shift_jis.csv"), 0, bad);
  CHECK(sj.code == "unsupported_encoding");
}

TEST_CASE("bad-input row 11: workbooks, PDFs and gzip are named, not read", "[csv][matrix]") {
  struct Case { std::string bytes, says; };
  for (const Case& c : {Case{std::string("PK\x03\x04rest", 8), "Excel workbook (xlsx)"},
                        Case{std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8), "old Excel workbook (xls)"},
                        Case{"%PDF-1.7\n", "PDF document"}, Case{std::string("\x1F\x8B\x08\x00", 4), "gzip"}}) {
    Outcome o = read_all_ways(c.bytes);
    REQUIRE_FALSE(o.ok);
    CHECK(o.code == "not_csv");
    CHECK(contains(o.message, c.says));
  }
}

TEST_CASE("bad-input row 28: a fullwidth comma used on every line is the delimiter", "[csv][matrix]") {
  const std::string fw = "\xEF\xBC\x8C";  // ，
  std::string data = "订单号" + fw + "客户" + fw + "金额\r\n" + "A1" + fw + "张伟" + fw + "12.50\r\n" + "A2" + fw + "王芳" +
                     fw + "8.00\r\n";
  Outcome o = read_all_ways(data);
  REQUIRE(o.ok);
  CHECK(o.columns == V({"订单号", "客户", "金额"}));
  REQUIRE(o.rows.size() == 2);
  CHECK(o.rows[1] == V({"A2", "王芳", "8.00"}));
  CHECK(o.stats.delimiter_name == fw);
  CHECK(o.has_notice("fullwidth_comma_delimiter"));
  check_every_split(data, 0);
  // Past the sniff window, a "，" cut by a chunk boundary.
  std::string big = data;
  while (big.size() < CsvReader::kSniffBytes + 512) big += "A3" + fw + "李娜" + fw + "1.00\r\n";
  std::string want = describe(read_chunked(big, 0));
  for (size_t at = CsvReader::kSniffBytes; at < CsvReader::kSniffBytes + 40; ++at) {
    INFO("split at " << at);
    REQUIRE(describe(read_parts(big, {at})) == want);
  }
  // Not on every line: it is text, in a one-column file.
  Outcome t = read_all_ways("备注\n好" + fw + "很好\n一般\n");
  REQUIRE(t.ok);
  CHECK(t.columns.size() == 1);
  CHECK(t.rows[0][0] == "好" + fw + "很好");
  CHECK_FALSE(t.has_notice("fullwidth_comma_delimiter"));
}

TEST_CASE("matrix 7: a multi-byte UTF-8 character across a chunk boundary", "[csv]") {
  // 2-, 3- and 4-byte characters in every position of a field: every split point cuts
  // one of them somewhere.
  std::string data = fixture("utf8_straddle.csv");
  Outcome o = read_all_ways(data);
  REQUIRE(o.ok);
  CHECK(o.columns == V({"name", "city", "note"}));
  REQUIRE(o.rows.size() == 4);
  CHECK(o.rows[0] == V({"张三", "北京", "¥1"}));
  CHECK(o.rows[1] == V({"José", "Zürich", "ʤʤ"}));
  CHECK(o.rows[2] == V({"😀", "𝄞x", "\"€\""}));
  CHECK(o.rows[3] == V({"李四\n王五", "上海", "x😀"}));
  for (const auto& r : o.rows)
    for (const auto& f : r) CHECK(utf8_invalid_at(f.data(), f.size()) == f.size());
  check_every_split(data, 200);
  // The same characters after the sniff window, split at every byte.
  std::string body = data.substr(data.find('\n') + 1);
  std::string big = "name,city,note\n" + window_rows(3) + body;
  Outcome whole = read_all_ways(big);
  REQUIRE(whole.ok);
  REQUIRE(whole.rows.size() > 4);
  CHECK(std::vector<std::vector<std::string>>(whole.rows.end() - 4, whole.rows.end()) == o.rows);
  std::string want = describe(whole);
  for (size_t a = big.size() - body.size(); a <= big.size(); ++a) {
    INFO("split at " << a);
    REQUIRE(describe(read_parts(big, {a})) == want);
  }
}

TEST_CASE("matrix 12: NUL bytes are kept inside values and counted", "[csv]") {
  Outcome o = read_all_ways(weird("nullbyte.csv"));
  REQUIRE(o.ok);
  CHECK(o.columns == V({"col1", "col2", "col3"}));
  REQUIRE(o.rows.size() == 1);
  CHECK(o.rows[0][1] == std::string("val\0" "2", 5));
  CHECK(o.rows[0][1].size() == 5);
  CHECK(o.rows[0][2] == "val3");
  CHECK(o.stats.nul_bytes.count == 1);
  CHECK(o.stats.nul_bytes.lines == std::vector<uint64_t>{2});
  REQUIRE(o.has_notice("nul_bytes"));
  CHECK(contains(o.notice("nul_bytes").message, "line 2"));
}

TEST_CASE("matrix 13: CRLF, LF, lone CR and a mix", "[csv]") {
  Outcome o = read_all_ways(weird("mixed_line_endings.csv"));
  REQUIRE(o.ok);
  CHECK_FALSE(o.has_header);
  CHECK(o.rows == std::vector<std::vector<std::string>>{V({"10", "hello", "20"}), V({"20", "world", "30"}),
                                                        V({"30", "test", "30"})});
  CHECK(o.lines == std::vector<uint64_t>{1, 2, 3});
  CHECK(o.stats.line_endings[kCRLF] == 1);
  CHECK(o.stats.line_endings[kLF] == 1);
  CHECK(o.stats.line_endings[kCR] == 1);
  REQUIRE(o.notices.size() == 1);
  CHECK(o.notices[0].code == "mixed_line_endings");
  CHECK(contains(o.notices[0].message, "1 CRLF"));

  // one_r_two.csv: lone CR. Header `one` (it does not read as data), 1 row `two`.
  Outcome r = read_all_ways(weird("one_r_two.csv"));
  REQUIRE(r.ok);
  CHECK(r.has_header);
  CHECK(r.stats.has_header);
  CHECK(r.columns == V({"one"}));
  CHECK(r.rows == std::vector<std::vector<std::string>>{V({"two"})});
  CHECK(r.lines == std::vector<uint64_t>{2});
  CHECK(r.notices.empty());  // one kind of line ending only

  // csv-spectrum *_crlf read like their LF twins, without a warning.
  for (const char* name : {"empty", "newlines", "simple"}) {
    Outcome lf = read_chunked(spectrum_csv(name), 0);
    Outcome crlf = read_chunked(spectrum_csv(std::string(name) + "_crlf"), 0);
    INFO(name);
    CHECK(crlf.columns == lf.columns);
    CHECK(crlf.lines == lf.lines);
    CHECK(crlf.notices.empty());
    CHECK(crlf.stats.line_endings[kCRLF] > 0);
    CHECK(crlf.stats.line_endings[kLF] == 0);
    if (std::string(name) != "newlines") CHECK(crlf.rows == lf.rows);
  }
}

TEST_CASE("matrix 14: CR CR LF gives 3 values without CR or LF and one warning", "[csv]") {
  Outcome o = read_all_ways(weird("one_r_n_two.csv"));
  REQUIRE(o.ok);
  std::vector<std::string> values = o.columns;
  for (const auto& r : o.rows) values.insert(values.end(), r.begin(), r.end());
  CHECK(values == V({"one", "two", "three"}));
  for (const auto& v : values) CHECK(v.find_first_of("\r\n") == std::string::npos);
  CHECK(o.lines == std::vector<uint64_t>{2, 3});  // CR CR LF is one line break (see top)
  REQUIRE(o.notices.size() == 1);
  CHECK(o.notices[0].code == "double_cr_line_endings");
  CHECK(o.notices[0].count == 2);
}

TEST_CASE("matrix 15: quoted fields with newlines, delimiters and doubled quotes", "[csv]") {
  Outcome o = read_all_ways(weird("quoted_newline.csv"));
  REQUIRE(o.ok);
  CHECK_FALSE(o.has_header);
  CHECK(o.rows == std::vector<std::vector<std::string>>{V({"hello\nworld", "5"}),
                                                        V({"what,\n brings, you here\n , today", "6"})});
  CHECK(o.lines == std::vector<uint64_t>{1, 3});
  // csv-spectrum quotes_and_newlines: the row after a 3-line record starts on line 5.
  Outcome q = read_all_ways(spectrum_csv("quotes_and_newlines"));
  CHECK(q.lines == std::vector<uint64_t>{2, 5});
}

TEST_CASE("matrix 16: unterminated quote -> error at line 1, column 1", "[csv]") {
  for (const char* name : {"unterminated.csv", "simple_unterminated_quote.csv"}) {
    INFO(name);
    Outcome o = read_all_ways(weird(name));
    REQUIRE_FALSE(o.ok);
    CHECK(o.code == "unterminated_quote");
    CHECK(o.line == 1);
    CHECK(o.column == 1);
    CHECK(o.byte == 0);
    CHECK(contains(o.message, "Unterminated quoted field starting at line 1, column 1"));
  }
  CHECK(contains(read_chunked(weird("unterminated.csv"), 0).message, "remaining 3 lines"));
  // Mid-file, past the sniff window.
  std::string data = "id,name\n" + window_rows(2) + "9,\"open\nnever closed\n";
  Outcome o = read_all_ways(data);
  REQUIRE_FALSE(o.ok);
  CHECK(o.code == "unterminated_quote");
  uint64_t line = uint64_t(std::count(data.begin(), data.end(), '\n')) - 1;
  CHECK(o.line == line);
  CHECK(o.column == 2);
}

TEST_CASE("matrix 20: a row with fewer fields -> error naming line 7", "[csv]") {
  Outcome o = read_all_ways(weird("error_too_little.csv"));
  REQUIRE_FALSE(o.ok);
  CHECK(o.code == "ragged_rows");
  CHECK(o.line == 7);
  CHECK(contains(o.message, "Line 7: expected 2 fields, found 1"));
  // Rows stream out before the error at finish() (the caller drops them); never one column.
  CHECK(o.rows.size() == 6);
  CHECK(o.columns == V({"i", "j"}));
  CHECK(o.stats.delimiter_name == ",");
  // One short row among many (under 1 %) is padded and counted instead.
  std::string data = "i,j\n" + padding_rows(4000, 2) + "7\n" + padding_rows(100, 2);
  Outcome r = read_all_ways(data);
  REQUIRE(r.ok);
  CHECK(r.stats.padded_rows.count == 1);
  uint64_t line = uint64_t(std::count(data.begin(), data.begin() + ptrdiff_t(data.find("\n7\n")) + 1, '\n')) + 1;
  CHECK(r.stats.padded_rows.lines == std::vector<uint64_t>{line});
  REQUIRE(r.has_notice("padded_rows"));
}

TEST_CASE("matrix 21: a row with more fields -> error naming line 6; inconsistent_cells", "[csv]") {
  Outcome o = read_all_ways(weird("error_too_many.csv"));
  REQUIRE_FALSE(o.ok);
  CHECK(o.code == "ragged_rows");
  CHECK(o.line == 6);
  CHECK(o.column == 3);
  CHECK(contains(o.message, "Line 6: expected 2 fields, found 3"));
  CHECK(o.stats.delimiter_name == ",");

  // inconsistent_cells.csv: header `One,two,three` on line 2, then a 4-field row on line 3.
  // Never the DuckDB answer (last 2 rows, header gone).
  Outcome c = read_all_ways(weird("inconsistent_cells.csv"));
  REQUIRE_FALSE(c.ok);
  CHECK(c.code == "ragged_rows");
  CHECK(c.line == 3);
  CHECK(contains(c.message, "Line 3: expected 3 fields, found 4"));
  CHECK(c.columns == V({"One", "two", "three"}));

  // One long row among many: the extras are set aside and counted.
  std::string data = "i,j\n" + padding_rows(4000, 2) + "7,7,3\n" + padding_rows(100, 2);
  Outcome r = read_all_ways(data);
  REQUIRE(r.ok);
  CHECK(r.stats.overflow_rows.count == 1);
  REQUIRE(r.has_notice("overflow_rows"));
  // Many ragged rows past the start: an error naming the first one and the count.
  std::string many = "i,j\n" + padding_rows(100, 2);
  for (int k = 0; k < 5; ++k) many += "1,2,3\n" + padding_rows(50, 2);
  Outcome m = read_all_ways(many);
  REQUIRE_FALSE(m.ok);
  CHECK(m.code == "ragged_rows");
  CHECK(m.line == 12);
  CHECK(contains(m.message, "Line 12: expected 2 fields, found 3. 5 of "));
}

TEST_CASE("matrix 22: a trailing delimiter on the header drops the unnamed column", "[csv]") {
  Outcome o = read_all_ways(weird("locations_header_trailing_comma.csv"));
  REQUIRE(o.ok);
  CHECK(o.columns == V({"id", "name", "lat", "lon"}));
  CHECK(o.rows == std::vector<std::vector<std::string>>{V({"1", "name", "0", "0"})});
  REQUIRE(o.has_notice("unnamed_trailing_column"));
  CHECK(o.notices.size() == 1);
  // Trailing delimiters on every row too (fixture): no ragged rows, one warning.
  Outcome t = read_all_ways(fixture("trailing_comma_rows.csv"));
  REQUIRE(t.ok);
  CHECK(t.columns == V({"id", "name", "amount"}));
  CHECK(t.rows.size() == 3);
  CHECK(t.rows[2] == V({"3", "Cleo", "7.25"}));
  CHECK(t.stats.overflow_rows.count == 0);
  CHECK(t.notices.size() == 1);
  // A trailing delimiter on the rows only: dropped, counted, one warning.
  Outcome r = read_all_ways("id,name\n1,Anna,\n2,Bob,\n3,Cleo\n");
  REQUIRE(r.ok);
  CHECK(r.columns == V({"id", "name"}));
  CHECK(r.rows == std::vector<std::vector<std::string>>{V({"1", "Anna"}), V({"2", "Bob"}), V({"3", "Cleo"})});
  CHECK(r.stats.trailing_delimiter_rows.lines == std::vector<uint64_t>{2, 3});
  REQUIRE(r.notices.size() == 1);
  CHECK(r.notices[0].code == "trailing_delimiter_rows");
  // Values past the header's last column are never dropped silently.
  Outcome v = read_all_ways("id,name\n1,Anna,x\n2,Bob\n3,Cleo\n");
  REQUIRE_FALSE(v.ok);
  CHECK(v.line == 2);
}

TEST_CASE("matrix 23: blank lines are skipped and counted", "[csv]") {
  Outcome o = read_all_ways(weird("blank_line.csv"));
  REQUIRE(o.ok);
  CHECK(o.columns == V({"col"}));
  CHECK(o.col(0) == V({"1", "2", "3", "4", "5", "6", "7", "8", "9", "11"}));
  CHECK(o.lines.back() == 12);
  CHECK(o.stats.blank_lines.count == 1);
  CHECK(o.stats.blank_lines.lines == std::vector<uint64_t>{11});
  REQUIRE(o.has_notice("blank_lines"));
  CHECK(o.notice("blank_lines").message == "1 blank line skipped (line 11)");
  // Start, middle and end, with spaces and tabs.
  Outcome b = read_all_ways("\n a,b\n1,2\n \t\n3,4\n\n");
  REQUIRE(b.ok);
  CHECK(b.columns == V({"a", "b"}));
  CHECK(b.rows.size() == 2);
  CHECK(b.notice("blank_lines").message == "3 blank lines skipped (lines 1, 4, 6)");
}

TEST_CASE("matrix 24: a title line before the header and a total line after the data", "[csv]") {
  Outcome o = read_all_ways(weird("dirty_line.csv"));
  REQUIRE(o.ok);
  CHECK(o.columns == V({"COL1", "COL2", "COL3"}));
  CHECK(o.rows == std::vector<std::vector<std::string>>{V({"1.5", "a", "3"}), V({"2.5", "b", "4"})});
  CHECK(o.lines == std::vector<uint64_t>{3, 4});
  CHECK(o.stats.preamble_lines.count == 1);
  CHECK(o.stats.preamble_lines.lines == std::vector<uint64_t>{1});
  CHECK(o.stats.records_read == 3);
  REQUIRE(o.has_notice("preamble_lines"));

  // 订单导出 2024-08-20 / header / 3 orders / 合计,,,12345
  Outcome t = read_all_ways(fixture("title_footer.csv"));
  REQUIRE(t.ok);
  CHECK(t.columns == V({"订单号", "客户", "日期", "金额"}));
  CHECK(t.col(0) == V({"1001", "1002", "1003"}));
  CHECK(t.stats.preamble_lines.lines == std::vector<uint64_t>{1});
  CHECK(t.stats.summary_lines.count == 1);
  CHECK(t.stats.summary_lines.lines == std::vector<uint64_t>{6});
  CHECK(t.stats.rows == 3);
  CHECK(t.stats.records_read == 5);
  REQUIRE(t.has_notice("summary_lines"));

  // Title lines padded with delimiters to the table's width (WeChat Pay bills).
  Outcome p = read_all_ways(fixture("padded_preamble.csv"));
  REQUIRE(p.ok);
  CHECK(p.columns == V({"交易时间", "交易对方", "金额(元)", "当前状态"}));
  CHECK(p.stats.preamble_lines.count == 4);
  CHECK(p.stats.blank_lines.count == 1);
  CHECK(p.rows.size() == 2);

  // A report with 7 title lines and a blank line above a short table (百度推广 style):
  // the titles do not outvote the table when the delimiter is sniffed.
  Outcome b = read_all_ways(fixture("long_preamble.csv"));
  REQUIRE(b.ok);
  CHECK(b.stats.delimiter_name == ",");
  CHECK(b.columns == V({"日期", "推广计划", "展现", "点击", "消费"}));
  CHECK(b.rows.size() == 3);
  CHECK(b.stats.preamble_lines.lines == std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7});
  CHECK(b.stats.blank_lines.lines == std::vector<uint64_t>{8});
  CHECK(b.lines.front() == 10);

  // A one-column list whose last value has a comma is not a comma file with a preamble.
  std::string names;
  for (int i = 0; i < 40; ++i) names += "name" + std::to_string(i) + "\n";
  names += "Smith, John\n";
  Outcome n = read_all_ways("customer\n" + names);
  REQUIRE(n.ok);
  CHECK(n.columns == V({"customer"}));
  CHECK(n.rows.size() == 41);
  CHECK(n.rows.back() == V({"Smith, John"}));
}

TEST_CASE("matrix 25: duplicate and prototype-polluting header names", "[csv]") {
  Outcome o = read_all_ways(weird("duplicate_header_col.csv"));
  REQUIRE(o.ok);
  CHECK(o.columns == V({"a", "b", "a_1"}));
  CHECK(o.rows.size() == 2);
  CHECK(o.has_notice("renamed_columns"));
  Outcome p = read_all_ways(weird("poisoned-sample.csv"));
  REQUIRE(p.ok);
  CHECK(p.columns == V({"__proto__", "toString", "valueOf", "__proto___1"}));
  CHECK(p.rows == std::vector<std::vector<std::string>>{V({"X", "Y", "Z", "A"})});
  CHECK(p.has_notice("renamed_columns"));
  // Empty names get generated ones.
  Outcome e = read_all_ways("a,,c\n1,2,3\n");
  REQUIRE(e.ok);
  CHECK(e.columns == V({"a", "column_2", "c"}));
}

TEST_CASE("matrix 26: a header and zero data rows is not an error", "[csv]") {
  for (const char* data : {"id,amount\n", "id,amount", "\xEF\xBB\xBFid,amount\r\n", "id;amount\n\n"}) {
    INFO(data);
    Outcome o = read_all_ways(data);
    REQUIRE(o.ok);
    CHECK(o.has_header);
    CHECK(o.columns == V({"id", "amount"}));
    CHECK(o.rows.empty());
    CHECK(o.stats.rows == 0);
  }
}

TEST_CASE("matrix 27: delimiters ; TAB | and Excel's sep= line", "[csv]") {
  Outcome d = read_all_ways(weird("decimal_separators.csv"));
  REQUIRE(d.ok);
  CHECK(d.stats.delimiter_name == ";");
  CHECK(d.stats.delimiter_source == "detected");
  CHECK(d.columns == V({"commas", "periods"}));
  CHECK(d.col(0) == V({"1,1", "0,25", "1,53e4", "+1,53e4", "-1,53e4"}));
  CHECK(d.col(1) == V({"1.1", "0.25", "1.53e4", "+1.53e4", "-1.53e4"}));

  Outcome t = read_all_ways(weird("tab.csv"));
  REQUIRE(t.ok);
  CHECK(t.stats.delimiter_name == "tab");
  CHECK_FALSE(t.has_header);
  CHECK_FALSE(t.stats.has_header);
  CHECK(t.rows == std::vector<std::vector<std::string>>{V({"123", "TEST12", "text1"}), V({"345", "TEST12", "text2"}),
                                                        V({"567", "TEST12", "text3"})});
  CHECK(t.lines == std::vector<uint64_t>{1, 2, 3});

  Outcome p = read_all_ways(weird("pipe_delim.csv"));
  REQUIRE(p.ok);
  CHECK(p.stats.delimiter_name == "|");
  CHECK(p.columns == V({"one", "two", "three", "four"}));
  CHECK(p.rows == std::vector<std::vector<std::string>>{V({"1", "2", "3", "4"})});

  Outcome s = read_all_ways(fixture("sep_semicolon.csv"));
  REQUIRE(s.ok);
  CHECK(s.stats.delimiter_name == ";");
  CHECK(s.stats.delimiter_source == "sep= line");
  CHECK(s.columns == V({"name", "amount"}));
  CHECK(s.rows == std::vector<std::vector<std::string>>{V({"Anna", "1,5"}), V({"Bob", "2,25"}), V({"Chen", "3"})});
  CHECK(s.lines == std::vector<uint64_t>{3, 4, 5});
  CHECK(s.stats.preamble_lines.lines == std::vector<uint64_t>{1});
  // After a BOM, with CRLF.
  Outcome sb = read_all_ways("\xEF\xBB\xBFsep=;\r\na;b\r\n1,5;2\r\n");
  REQUIRE(sb.ok);
  CHECK(sb.stats.encoding == "UTF-8 (BOM)");
  CHECK(sb.stats.delimiter_source == "sep= line");
  CHECK(sb.columns == V({"a", "b"}));
  CHECK(sb.rows == std::vector<std::vector<std::string>>{V({"1,5", "2"})});
  CHECK(sb.lines == std::vector<uint64_t>{3});
  // A sep= line naming a delimiter the rest of the file does not sniff as.
  Outcome s2 = read_all_ways("sep=|\na,b|c\n1,5|2\n");
  REQUIRE(s2.ok);
  CHECK(s2.columns == V({"a,b", "c"}));
  CHECK(s2.rows == std::vector<std::vector<std::string>>{V({"1,5", "2"})});
}

TEST_CASE("matrix 29/30: unquoted thousands separators -> ragged_rows error", "[csv]") {
  Outcome o = read_all_ways(weird("thousands_simple.csv"));
  REQUIRE_FALSE(o.ok);
  CHECK(o.code == "ragged_rows");
  CHECK(contains(o.message, "thousands separators"));
  CHECK(contains(o.message, "2/3/1"));
  CHECK(o.line == 3);
  for (const auto& c : o.columns) CHECK(c != "100");  // never an amount as a column name
  CHECK_FALSE(o.has_header);
}

TEST_CASE("matrix 17/19: broken quoting names the line when the delimiter is clear", "[csv]") {
  // Strict RFC 4180: unescaped quotes inside a quoted field (Rabobank) -> line 1, column 2,
  // never a blank-separated or one-column reading.
  Outcome u = read_all_ways(weird("unescaped_quote.csv"));
  REQUIRE_FALSE(u.ok);
  CHECK(u.code == "quote_in_quoted_field");
  CHECK(u.line == 1);
  CHECK(u.column == 2);
  CHECK(u.stats.delimiter_name == ";");
  // Backslash-escaped quotes (MySQL/PHP) -> line 3.
  Outcome b = read_all_ways(weird("bad_escape.csv"));
  REQUIRE_FALSE(b.ok);
  CHECK(b.code == "quote_in_quoted_field");
  CHECK(b.line == 3);
  CHECK(b.column == 2);
  CHECK(b.stats.delimiter_name == ",");
}

TEST_CASE("bad-input row 17: lenient quotes keep unescaped quotes as text, counted", "[csv][matrix]") {
  CsvOptions opt;
  opt.lenient_quotes = true;
  Outcome u = read_all_ways(weird("unescaped_quote.csv"), opt);
  REQUIRE(u.ok);
  CHECK(u.stats.delimiter_name == ";");
  CHECK_FALSE(u.has_header);  // six data rows, the first is not a header
  REQUIRE(u.rows.size() == 6);
  CHECK(u.col(0) == std::vector<std::string>{"1", "2", "3", "4", "5", "6"});
  CHECK(u.rows[0][1] == "pedro \"pdet\" holanda");
  CHECK(u.rows[2][1] == "pedro \"pdet\" ho;landa");
  CHECK(u.rows[5][1] == "pedro \"pdet\" holanda");  // the last line has no line break
  REQUIRE(u.has_notice("unescaped_quotes"));
  CHECK(u.notice("unescaped_quotes").count == 6);
  CHECK(u.notice("unescaped_quotes").lines == std::vector<uint64_t>{1, 2, 3, 4, 5, 6});
  check_every_split(weird("unescaped_quote.csv"), 0, opt);
}

TEST_CASE("bad-input row 19: the backslash escape dialect reads MySQL/PHP exports", "[csv][matrix]") {
  CsvOptions opt;
  opt.backslash_escape = true;
  Outcome b = read_all_ways(weird("bad_escape.csv"), opt);
  REQUIRE(b.ok);
  CHECK(b.stats.delimiter_name == ",");
  REQUIRE(b.rows.size() == 2);
  CHECK(b.rows[0] == std::vector<std::string>{"332", "Surname, Firstname"});
  CHECK(b.rows[1] == std::vector<std::string>{"123", "foo (\"foo\")"});
  // A backslash before a line break inside quotes is dropped; the break stays.
  Outcome n = read_all_ways("a,b\n1,\"x\\\ny\"\n", opt);
  REQUIRE(n.ok);
  CHECK(n.rows[0][1] == "x\ny");
}

TEST_CASE("bad-input row 24: the user can name the header line", "[csv][matrix]") {
  CsvOptions opt;
  opt.header_line = 3;
  Outcome o = read_all_ways("Shop export\nid,amount\norder,customer,amount\n1,c1,5\n2,c2,6\n", opt);
  REQUIRE(o.ok);
  CHECK(o.columns == std::vector<std::string>{"order", "customer", "amount"});
  CHECK(o.rows.size() == 2);
  CHECK(tally(o.stats.preamble_lines) == "2[1 2 ]");
  CHECK(o.stats.header_source == "option (line 3)");
}

TEST_CASE("the sniffer looks at the same bytes whatever the chunking", "[csv]") {
  // The first 64 KiB hold three 20 KB lines with one `;` each; after them come short
  // comma lines. Whole-file and chunked reads must pick the same delimiter.
  std::string data;
  for (int i = 0; i < 4; ++i) data += std::string(20000, char('a' + i)) + ";" + std::to_string(i) + "\n";
  for (int i = 0; i < 2000; ++i) data += "x,y,z\n";
  Outcome o = read_all_ways(data);
  // Whatever the answer, it is the same at every chunk size (read_all_ways) and names lines.
  if (!o.ok) CHECK(o.line > 0);
  // A delimiter given by a sep= line, with long lines: the same.
  std::string sep = "sep=,\n" + data;
  read_all_ways(sep);
}

TEST_CASE("a field over the record limit is an error, found while reading", "[csv]") {
  // No line break in 65 MiB: the reader stops once the record passes the limit instead
  // of buffering the rest of the file.
  Outcome o;
  Collector sink(o);
  CsvReader reader(CsvOptions(), sink);
  std::string chunk(1 << 20, 'x');
  reader.feed("a,b\n1,", 6);
  bool thrown = false;
  size_t fed = 0;
  try {
    for (; fed < 80; ++fed) reader.feed(chunk.data(), chunk.size());
  } catch (const InputError& e) {
    thrown = true;
    CHECK(std::string(e.code) == "field_too_long");
    CHECK(e.line == 2);
    CHECK(e.column == 2);
    CHECK(contains(e.what(), "exceeds the 64 MiB"));
  }
  CHECK(thrown);
  CHECK(fed <= 65);
  // Quoted, the same.
  Tokenizer t{Dialect()};
  TokenSink ts;
  t.feed("\"", 1, ts);
  for (int i = 0; i < 65 && !t.error(); ++i) t.feed(chunk.data(), chunk.size(), ts);
  CHECK(t.error().code == "field_too_long");
}

TEST_CASE("bad-input row 36: a UTF-8 sequence split between two fields is invalid (fuzz finds)", "[csv][matrix]") {
  // A lead byte ending one field and a continuation byte starting the next are not one
  // character, whether the record was read in place or copied (quotes, no final line break,
  // blank-separated text). tests/data/fuzz-regressions/ holds the inputs the fuzzer found.
  for (const std::string& in : {std::string("\xCA,\xA4"), std::string("\"x\xCA\",\"\xA4\"\n"),
                                std::string("a  b\nx\xE6  \x97\xA5\n"), std::string("a,b\nx\xCA,\xA4\n")}) {
    INFO("input " << nlohmann::json(in).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    Outcome o = read_all_ways(in);
    REQUIRE_FALSE(o.ok);
    CHECK(o.code == "invalid_utf8");
  }
}

TEST_CASE("bad-input row 35: 12,000 columns and a 20 KB field read in linear time", "[csv][matrix]") {
  std::string header, row;
  for (int c = 0; c < 12000; ++c) {
    header += (c ? "," : "") + std::string("c") + std::to_string(c);
    row += (c ? "," : "") + std::to_string(c % 97);
  }
  std::string data = header + "\n" + row + "\n" + row + "\n";
  Outcome o = read_chunked(data, 4096);
  REQUIRE(o.ok);
  CHECK(o.columns.size() == 12000);
  REQUIRE(o.rows.size() == 2);
  CHECK(o.rows[1][11999] == std::to_string(11999 % 97));
  CHECK(describe(read_chunked(data, 0)) == describe(o));
  std::string wide = "a,b\n1," + std::string(20 * 1024, 'x') + "\n";
  Outcome w = read_all_ways(wide);
  REQUIRE(w.ok);
  CHECK(w.rows[0][1].size() == 20 * 1024);
}

TEST_CASE("fuzz case, long lines and Greek/bidi bytes", "[csv]") {
  // afl_fuzz_case_53.csv: any answer but a crash; an R must account for every line.
  Outcome a = read_all_ways(weird("afl_fuzz_case_53.csv"));
  if (a.ok) {
    CHECK(a.stats.records_read + (a.stats.has_header ? 1 : 0) == 9);
    CHECK(a.stats.nul_bytes.count == 7);
  }

  Outcome l = read_all_ways(weird("test_long_line.csv"));
  REQUIRE(l.ok);
  CHECK_FALSE(l.has_header);
  REQUIRE(l.rows.size() == 2);
  CHECK(l.rows[0] == V({"10", std::string(10000, 'a').c_str(), "20"}));
  CHECK(l.rows[1] == V({"20", std::string(20000, 'b').c_str(), "30"}));

  std::string greek = weird("greek_utf8.csv");
  Outcome g = read_all_ways(greek);
  REQUIRE(g.ok);
  CHECK_FALSE(g.has_header);
  CHECK(g.stats.delimiter_name == "|");
  REQUIRE(g.rows.size() == 8);
  CHECK(g.rows[0] == V({"1689", "00i\\047m", "2"}));
  CHECK(g.rows[2][1] == "2015\xE2\x80\x8E");  // U+200E kept
  CHECK(g.rows[5][1] == "arde\xCC\x80" "ch");  // decomposed è kept
  CHECK(g.rows[6][1] == "a\xEF\xAC\x81");  // ligature ﬁ kept
  // Every byte kept: the rows joined back give the file.
  std::string back;
  for (const auto& r : g.rows) back += r[0] + "|" + r[1] + "|" + r[2] + "\n";
  CHECK(back == greek);
}

TEST_CASE("whitespace-aligned text (CDNOW_master.txt) is read as columns", "[csv]") {
  // First 20 lines of CDNOW_master.txt: leading space, runs of spaces, CRLF.
  Outcome o = read_all_ways(fixture("cdnow_head.txt"));
  REQUIRE(o.ok);
  CHECK(o.stats.delimiter_name == "whitespace");
  CHECK(o.columns == V({"customer_id", "date", "number_of_cds", "dollar_value"}));
  REQUIRE(o.rows.size() == 19);
  CHECK(o.rows[0] == V({"00001", "19970101", "1", "11.77"}));
  CHECK(o.notices.empty());

  // The whole file, decompressed by zcat: 69,659 rows of 4 columns, past the sniff window.
  std::string path = std::string(CUSTLENS_SHARED_DIR) + "/data/CDNOW_master.txt.gz";
  if (!std::ifstream(path).good()) {
    WARN("skipped: " << path << " not found");
    return;
  }
  std::string cmd = "zcat '" + path + "'";
  FILE* f = popen(cmd.c_str(), "r");
  REQUIRE(f);
  std::string data;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  REQUIRE(pclose(f) == 0);
  REQUIRE(data.size() == 1950500);
  Outcome whole = read_chunked(data, 0);
  REQUIRE(whole.ok);
  CHECK(whole.stats.delimiter_name == "whitespace");
  CHECK(whole.columns == o.columns);
  CHECK(whole.rows.size() == 69659);
  check_accounting(whole);
  std::string want = describe(whole);
  for (size_t chunk : {7, 4096, 100000}) {
    INFO("chunk " << chunk);
    CHECK(describe(read_chunked(data, chunk)) == want);
  }
}

TEST_CASE("Tokenizer: line endings, quotes and limits survive every split", "[csv]") {
  // Small inputs for the state machine alone, every dialect, every 2- and 3-part split.
  const char* const inputs[] = {
      "a,b\r\n\r\n\"x\"\"y\",\"\"\r\r\n\r\r\rz",
      "\"q\r\n\r\"\r\n\"\"\"\"\r",
      " a  b\t c \r\n\r\n  \n x\r\r",
      "12\" pizza,\"a\rb\"\n,,\n,",
      "\"a\"b,c\n",
      "\"abc",
      "a|\"b|c\"|d\r\n|||\n",
  };
  for (const char* in : inputs)
    for (const Dialect& d : all_dialects()) {
      INFO("input " << in << " delimiter " << int(d.delimiter) << " ws " << d.whitespace);
      check_tokenizer_splits(in, d, 64);
    }
  // Field values and line numbers.
  Dialect d;
  std::string t = tokenize("a,\"b\r\nc\"\r\r\nx,y", d, {});
  CHECK(contains(t, "@1: [a]l1b0 [b\r\nc]l1b2q\n@3: [x]l3b11 [y]l3b13\n"));
  CHECK(contains(t, " e0 e0 e0 e1 "));
}

TEST_CASE("row hashes: equal fields hash alike in any form, a delimiter inside a field does not fool them", "[csv]") {
  // Rows 1 and 4 are the same fields, in place and quoted; rows 2 and 3 join to the same text
  // ("a,b,c,") but split it differently.
  std::string csv = "h1,h2,h3\nx,y,z\n\"a,b\",c,\na,\"b,c\",\n\"x\",y,\"z\"\n";
  for (size_t chunk : {size_t(0), size_t(1), size_t(5)}) {
    INFO("chunk " << chunk);
    Outcome o = read_chunked(csv, chunk);
    REQUIRE(o.ok);
    REQUIRE(o.hashes.size() == 4);
    CHECK(o.hashes[0] == o.hashes[3]);
    CHECK(o.hashes[1] != o.hashes[2]);
    CHECK(o.hashes[0] != o.hashes[1]);
  }
}

TEST_CASE("the size estimate is the size hint over the sampled records' bytes per record", "[csv]") {
  // The sink sizes its tables once from this: 4x too few rows (the estimate once divided the
  // whole 64 KiB probe by the records of its first 16 KiB) made the loader regrow every column.
  struct Estimate : RowSink {
    uint64_t estimate = 0, rows = 0;
    void on_size_estimate(uint64_t r) override { estimate = r; }
    void on_header(const std::vector<std::string>&, bool) override {}
    void on_row(uint64_t, const std::string_view*, uint64_t) override { ++rows; }
  };
  std::string csv = "order_id,customer_id,order_date,amount\n";
  for (int i = 0; i < 20000; ++i)
    csv += std::to_string(100000 + i) + ",C" + std::to_string(5000000 + i % 977) + ",2024-03-01,12.50\n";
  for (int delimiter : {-1, int(',')}) {  // sniffed (on 16 KiB), and given (on 1,000 records)
    INFO("delimiter option " << delimiter);
    Estimate sink;
    CsvOptions opt;
    opt.delimiter = delimiter;
    opt.size_hint = csv.size();
    CsvReader reader(opt, sink);
    for (size_t at = 0; at < csv.size(); at += 65536) reader.feed(csv.data() + at, std::min<size_t>(65536, csv.size() - at));
    reader.finish();
    CHECK(sink.rows == 20000);
    CHECK(sink.estimate >= 20000);
    CHECK(sink.estimate <= 20000 * 11 / 10 + 16);
  }
}

// ===========================================================================
// Record limits, the overflow column, unnamed trailing columns, the lines of warnings

TEST_CASE("record limit: every byte counts, delimiters and quotes too (a small limit)", "[csv][matrix][limits]") {
  CsvOptions opt;
  opt.limits.max_record_bytes = 1000;
  // A line of delimiters alone grows no field; it is still 2,000 bytes of record.
  std::string commas = "a,b\n1,2\n" + std::string(2000, ',') + "\n3,4\n";
  Outcome o = read_all_ways(commas, opt);
  REQUIRE_FALSE(o.ok);
  CHECK(o.code == "field_too_long");
  CHECK(o.line == 3);
  CHECK(o.column == 1002);  // field 1002 starts 1,001 bytes into the record
  CHECK(o.byte == 8 + 1001);
  CHECK(contains(o.message, "Line 3, column 1002 exceeds the 1000 byte record limit"));
  CHECK(o.rows.size() == 1);  // line 2 came before
  // Exactly at the limit is read; one byte more is not.
  Outcome at = read_all_ways("a,b\n1," + std::string(998, 'x') + "\n2,y\n", opt);
  REQUIRE(at.ok);
  CHECK(at.rows.size() == 2);
  CHECK(at.rows[0][1].size() == 998);
  Outcome over = read_all_ways("a,b\n1," + std::string(999, 'x') + "\n2,y\n", opt);
  REQUIRE_FALSE(over.ok);
  CHECK(over.code == "field_too_long");
  CHECK(over.line == 2);
  CHECK(over.column == 2);
  CHECK(over.byte == 6);
  // Quoted: the quotes count, also a closing quote that is the file's last byte.
  Outcome q = read_all_ways("a,b\n1,\"" + std::string(996, 'x') + "\"", opt);
  REQUIRE(q.ok);
  CHECK(q.rows[0][1].size() == 996);
  Outcome qo = read_all_ways("a,b\n1,\"" + std::string(997, 'x') + "\"", opt);
  REQUIRE_FALSE(qo.ok);
  CHECK(qo.code == "field_too_long");
  CHECK(qo.line == 2);
  CHECK(qo.column == 2);
  CHECK(qo.byte == 6);
  // Doubled quotes and a line break inside quotes are bytes of the record too.
  Outcome dq = read_all_ways("a,b\n1,\"" + std::string(600, '"') + "\n" + std::string(600, 'y') + "\"\n", opt);
  REQUIRE_FALSE(dq.ok);
  CHECK(dq.code == "field_too_long");
  CHECK(dq.line == 2);
  CHECK(dq.column == 2);
  // Past the sniff window, where the tokenizer sees the record cut by the chunks.
  std::string big = "a,b\n" + padding_rows(CsvReader::kSniffBytes + 100, 2) + std::string(1500, ',') + "\n";
  Outcome b = read_all_ways(big, opt);
  REQUIRE_FALSE(b.ok);
  CHECK(b.code == "field_too_long");
  CHECK(b.line == uint64_t(std::count(big.begin(), big.end(), '\n')));
  CHECK(b.column == 1002);
}

TEST_CASE("field limit: a line of delimiters stops at the field limit", "[csv][matrix][limits]") {
  CsvOptions opt;
  opt.limits.max_fields = 50;
  Outcome o = read_all_ways("a,b\n1,2\n" + std::string(60, ',') + "\n", opt);
  REQUIRE_FALSE(o.ok);
  CHECK(o.code == "too_many_fields");
  CHECK(o.line == 3);
  CHECK(o.column == 51);
  CHECK(o.byte == 8 + 50);
  CHECK(contains(o.message, "Line 3, column 51: more than 50 fields in one record"));
  // 50 fields are read (longer than the in-place window of 49 bytes: the copying path).
  std::string header, row;
  for (int c = 0; c < 50; ++c) {
    header += (c ? "," : "") + std::string("c") + std::to_string(c);
    row += (c ? "," : "") + std::to_string(c);
  }
  Outcome w = read_all_ways(header + "\n" + row + "\n" + row + "\n", opt);
  REQUIRE(w.ok);
  CHECK(w.columns.size() == 50);
  CHECK(w.rows.size() == 2);
  CHECK(w.rows[1][49] == "49");
}

TEST_CASE("the real limits: 65 MiB of commas stop at once, 64 MiB of 1 KiB fields at the byte limit", "[csv][matrix][limits]") {
  // Once these ran out of memory (each delimiter a field, 21 bytes of bookkeeping apiece).
  {
    Outcome o;
    Collector sink(o);
    CsvReader reader(CsvOptions(), sink);
    std::string chunk(1 << 20, ',');
    reader.feed("a,b\n", 4);
    size_t fed = 0;
    bool thrown = false;
    try {
      for (; fed < 65; ++fed) reader.feed(chunk.data(), chunk.size());
    } catch (const InputError& e) {
      thrown = true;
      CHECK(e.code == "too_many_fields");
      CHECK(e.line == 2);
      CHECK(e.column == TokenLimits::kMaxFields + 1);
      CHECK(e.byte == 4 + int64_t(TokenLimits::kMaxFields));
    }
    CHECK(thrown);
    CHECK(fed == 0);  // within the first 1 MiB
  }
  {
    // 1,023 bytes and a comma: 65,536 fields make 64 MiB exactly, the next field passes it.
    Outcome o;
    Collector sink(o);
    CsvReader reader(CsvOptions(), sink);
    std::string unit = std::string(1023, 'x') + ",";
    std::string chunk;
    while (chunk.size() < (size_t(1) << 20)) chunk += unit;
    reader.feed("a,b\n", 4);
    size_t fed = 0;
    bool thrown = false;
    try {
      for (; fed < 66; ++fed) reader.feed(chunk.data(), chunk.size());
    } catch (const InputError& e) {
      thrown = true;
      CHECK(e.code == "field_too_long");
      CHECK(e.line == 2);
      CHECK(e.column == 65537);
      CHECK(e.byte == 4 + int64_t(TokenLimits::kMaxRecordBytes));
      CHECK(contains(e.what(), "exceeds the 64 MiB record limit"));
    }
    CHECK(thrown);
    CHECK(fed == 64);
  }
}

TEST_CASE("bad-input row 22: an unnamed trailing column with values gets a generated name", "[csv][matrix]") {
  // A trailing delimiter on the header and every row, with data under the unnamed column.
  std::string data = "a,b,c,\n1,2,3,x\n4,5,6,y\n7,8,9,\n10,11,12\n";
  Outcome o = read_all_ways(data);
  REQUIRE(o.ok);
  CHECK(o.columns == V({"a", "b", "c", "column_4"}));
  CHECK(o.rows == std::vector<std::vector<std::string>>{V({"1", "2", "3", "x"}), V({"4", "5", "6", "y"}),
                                                        V({"7", "8", "9", ""}), V({"10", "11", "12", ""})});
  CHECK(o.stats.unnamed_columns == V({"column_4"}));
  CHECK(tally(o.stats.unnamed_column_values) == "2[2 3 ]");
  REQUIRE(o.notices.size() == 1);  // not ragged (a row that stops before the unnamed column is not)
  const Notice& n = o.notice("unnamed_columns_kept");
  CHECK(n.count == 2);
  CHECK(n.lines == std::vector<uint64_t>{2, 3});
  CHECK(contains(n.message, "named column_4; 2 rows have a value there (lines 2, 3)"));
  CHECK(o.stats.records_read == 4);
  check_every_split(data, 64);

  // Two unnamed columns, values under the first only: it is kept, the second dropped.
  Outcome m = read_all_ways("a,b,,\n1,2,x,\n3,4,,\n5,6\n");
  REQUIRE(m.ok);
  CHECK(m.columns == V({"a", "b", "column_3"}));
  CHECK(m.col(2) == V({"x", "", ""}));
  CHECK(m.notice("unnamed_trailing_column").count == 1);
  CHECK(m.notice("unnamed_trailing_column").lines == std::vector<uint64_t>{1});
  CHECK(m.notice("unnamed_columns_kept").lines == std::vector<uint64_t>{2});
  CHECK(m.stats.trailing_delimiter_rows.count == 0);
  // The generated name is made unique like any other.
  Outcome u = read_all_ways("id,column_3,\n1,a,x\n2,b,y\n");
  REQUIRE(u.ok);
  CHECK(u.columns == V({"id", "column_3", "column_3_1"}));
  CHECK(u.col(2) == V({"x", "y"}));
  CHECK_FALSE(u.has_notice("renamed_columns"));

  // Empty under the unnamed column on every row: dropped, one warning (the corpus file too).
  Outcome t = read_all_ways(fixture("trailing_comma_rows.csv"));
  REQUIRE(t.ok);
  CHECK(t.columns == V({"id", "name", "amount"}));
  REQUIRE(t.notices.size() == 1);
  CHECK(t.notices[0].code == "unnamed_trailing_column");
  CHECK(t.notices[0].count == 1);
  CHECK(t.notices[0].lines == std::vector<uint64_t>{1});
  Outcome l = read_all_ways(weird("locations_header_trailing_comma.csv"));
  REQUIRE(l.ok);
  CHECK(l.notice("unnamed_trailing_column").lines == std::vector<uint64_t>{1});

  // The choice is made on the first 64 KiB: a value under the dropped column after them is an
  // extra field of its row, kept in the overflow column.
  std::string late = "a,b,\n";
  while (late.size() < CsvReader::kSniffBytes + 1000) late += "1,2,\n";
  uint64_t line = uint64_t(std::count(late.begin(), late.end(), '\n')) + 1;
  late += "3,4,z\n5,6,\n";
  Outcome z = read_all_ways(late);
  REQUIRE(z.ok);
  CHECK(z.columns == V({"a", "b", "overflow"}));
  CHECK(z.stats.overflow_rows.lines == std::vector<uint64_t>{line});
  CHECK(z.rows[z.rows.size() - 2] == V({"3", "4", "z"}));
  CHECK(z.rows.back() == V({"5", "6", ""}));
}

TEST_CASE("bad-input row 21: extra fields are kept in an overflow column, counted with lines", "[csv][matrix]") {
  std::string data = "i,j\n";
  for (int k = 0; k < 400; ++k) data += k == 200 ? "7,\"x,y\",\"q\"\"z\",w\n" : std::to_string(k) + ",v\n";
  Outcome o = read_all_ways(data);
  REQUIRE(o.ok);
  CHECK(o.columns == V({"i", "j", "overflow"}));  // the row is in the first 64 KiB: in the header
  CHECK(o.added.empty());
  REQUIRE(o.rows.size() == 400);
  CHECK(o.rows[200] == V({"7", "x,y", "\"q\"\"z\",w"}));  // the extras as CSV, quoted where needed
  CHECK(o.rows[199] == V({"199", "v", ""}));
  CHECK(o.rows[201] == V({"201", "v", ""}));
  CHECK(o.lines[200] == 202);
  CHECK(o.stats.overflow_column == "overflow");
  CHECK(tally(o.stats.overflow_rows) == "1[202 ]");
  const Notice& n = o.notice("overflow_rows");
  CHECK(n.count == 1);
  CHECK(n.lines == std::vector<uint64_t>{202});
  CHECK(n.message == "1 row had more fields than the header; its extra fields are kept in the column \"overflow\" (line 202)");
  CHECK(o.stats.records_read == o.stats.rows);

  // A header that already has the name.
  std::string taken = "overflow,j\n";
  for (int k = 0; k < 200; ++k) taken += k == 50 ? "1,2,3\n" : "1,2\n";
  Outcome t = read_all_ways(taken);
  REQUIRE(t.ok);
  CHECK(t.columns == V({"overflow", "j", "overflow_1"}));
  CHECK(t.rows[50] == V({"1", "2", "3"}));
  CHECK(contains(t.notice("overflow_rows").message, "\"overflow_1\""));

  // Without a header, the same after column_N.
  std::string headerless;
  for (int k = 0; k < 200; ++k)
    headerless += "c" + std::to_string(k) + ",2024-01-05," + (k == 100 ? "1,234.50\n" : "12.50\n");
  Outcome h = read_all_ways(headerless);
  REQUIRE(h.ok);
  CHECK_FALSE(h.has_header);
  CHECK(h.columns == V({"column_1", "column_2", "column_3", "overflow"}));
  CHECK(h.rows[100] == V({"c100", "2024-01-05", "1", "234.50"}));
  CHECK(h.notice("overflow_rows").lines == std::vector<uint64_t>{101});

  // Ragged in the first 3 data rows is still an error, and the header has no overflow column.
  Outcome e = read_all_ways("i,j\n1,2\n3,4,5\n" + padding_rows(1000, 2) + "6,7,8\n");
  REQUIRE_FALSE(e.ok);
  CHECK(e.code == "ragged_rows");
  CHECK(e.line == 3);
  CHECK(e.columns == V({"i", "j"}));
}

TEST_CASE("bad-input row 21: an overflow row after the first 64 KiB adds the column there", "[csv][matrix]") {
  // The header went out before that row was read: the sink hears of the column when it comes
  // (RowSink::on_column_added), at every chunk size the same.
  std::string head = "i,j\n" + padding_rows(CsvReader::kSniffBytes + 5000, 2);
  uint64_t before = uint64_t(std::count(head.begin(), head.end(), '\n')) - 1;
  std::string data = head + "7,7,3\n" + padding_rows(300, 2);
  Outcome o = read_all_ways(data);
  REQUIRE(o.ok);
  CHECK(o.columns == V({"i", "j", "overflow"}));
  REQUIRE(o.added == V({("overflow after " + std::to_string(before) + " rows").c_str()}));
  REQUIRE(o.rows.size() > before + 1);
  CHECK(o.rows[before - 1].size() == 2);  // rows before it had no such column
  CHECK(o.rows[before] == V({"7", "7", "3"}));
  CHECK(o.rows[before + 1].size() == 3);
  CHECK(o.rows[before + 1][2] == "");
  CHECK(o.notice("overflow_rows").lines == std::vector<uint64_t>{before + 2});
  CHECK(o.stats.columns == o.columns);
}

TEST_CASE("bad-input row 18: stray quotes are counted once per row, at the row's first line", "[csv][matrix]") {
  std::string data = "a,b\n12\" pizza,1\nA,B \"B\" \"C\"\n\"multi\nline\",7\" tall\n3,4\n";
  Outcome o = read_all_ways(data);
  REQUIRE(o.ok);
  CHECK(o.rows == std::vector<std::vector<std::string>>{V({"12\" pizza", "1"}), V({"A", "B \"B\" \"C\""}),
                                                        V({"multi\nline", "7\" tall"}), V({"3", "4"})});
  CHECK(tally(o.stats.stray_quotes) == "3[2 3 4 ]");
  const Notice& n = o.notice("stray_quotes");
  CHECK(n.count == 3);
  CHECK(n.lines == std::vector<uint64_t>{2, 3, 4});
  CHECK(n.message == "3 rows had quotes inside unquoted fields, kept literally (lines 2, 3, 4)");
  check_every_split(data, 0);
}

TEST_CASE("bad-input rows 13/14: line-ending warnings give counts per kind and the lines", "[csv][matrix]") {
  // CRLF on most lines; LF ends line 3 and a lone CR line 5.
  Outcome o = read_all_ways("a,b\r\n1,2\r\n3,4\n5,6\r\n7,8\r9,10\r\n");
  REQUIRE(o.ok);
  REQUIRE(o.notices.size() == 1);
  const Notice& n = o.notice("mixed_line_endings");
  CHECK(n.count == 2);
  CHECK(n.lines == std::vector<uint64_t>{3, 5});
  CHECK(n.message == "mixed line endings: 1 LF 4 CRLF 1 CR; the LF, CR ones end lines 3, 5");
  // The corpus file: one of each, the first kind (LF) taken as the common one.
  Outcome c = read_all_ways(weird("mixed_line_endings.csv"));
  CHECK(c.notice("mixed_line_endings").lines == std::vector<uint64_t>{1, 3});
  CHECK(c.notice("mixed_line_endings").count == 2);
  // Capped like every list of lines, the count complete; past the sniff window too.
  std::string many = "a,b\n";
  for (int line = 2; line <= 101; ++line) many += std::to_string(line) + ",x" + (line >= 5 && line <= 34 ? "\r" : "\n");
  std::string big = "a,b\n" + padding_rows(CsvReader::kSniffBytes, 2) + many.substr(4);
  for (const std::string* in : {&many, &big}) {
    Outcome m = read_all_ways(*in);
    REQUIRE(m.ok);
    const Notice& mn = m.notice("mixed_line_endings");
    CHECK(mn.count == 30);
    uint64_t first = uint64_t(std::count(in->begin(), in->end() - ptrdiff_t(many.size() - 4), '\n')) + 4;
    std::vector<uint64_t> want;
    for (uint64_t l = first; l < first + 10; ++l) want.push_back(l);
    CHECK(mn.lines == want);
    CHECK(contains(mn.message, "the CR ones end lines " + std::to_string(first) + ", "));
    CHECK(contains(mn.message, ", …"));
  }
  // CR CR LF: the lines it ends.
  Outcome d = read_all_ways(weird("one_r_n_two.csv"));
  const Notice& dn = d.notice("double_cr_line_endings");
  CHECK(dn.count == 2);
  CHECK(dn.lines == std::vector<uint64_t>{1, 2});
  CHECK(contains(dn.message, "(at the end of lines 1, 2)"));
}

TEST_CASE("bad-input row 28: the fullwidth comma warning names its lines", "[csv][matrix]") {
  const std::string fw = "\xEF\xBC\x8C";  // ，
  std::string data = "订单号" + fw + "客户" + fw + "金额\r\n" + "A1" + fw + "张伟" + fw + "12.50\r\n\r\n" + "A2" + fw +
                     "王芳" + fw + "8.00\r\n";
  Outcome o = read_all_ways(data);
  REQUIRE(o.ok);
  const Notice& n = o.notice("fullwidth_comma_delimiter");
  CHECK(n.count == 3);
  CHECK(n.lines == std::vector<uint64_t>{1, 2, 4});  // the blank line 3 has none
  CHECK(contains(n.message, "(3 lines: lines 1, 2, 4)"));
  check_every_split(data, 0);
}

TEST_CASE("bad-input row 1: a file of BOMs only, or BOMs and blank lines, is empty", "[csv][matrix]") {
  const std::string bom = "\xEF\xBB\xBF";
  std::string many_boms;
  for (int i = 0; i < 30000; ++i) many_boms += bom;  // 90 KB: past the sniff window
  for (const std::string& data : {bom + bom, bom + bom + bom + bom + bom, bom + bom + "\r\n\r\n",
                                  bom + "\n" + bom + " \n\t" + bom + "\n", many_boms, many_boms + "\n" + bom}) {
    INFO("input of " << data.size() << " bytes");
    Outcome o = read_all_ways(data);
    REQUIRE_FALSE(o.ok);
    CHECK(o.code == "empty_file");
    CHECK(contains(o.message, "File is empty: no header and no data rows"));
    CHECK(o.header_calls == 0);
    if (data.size() < 100) check_every_split(data);
  }
  // A BOM written twice before a header: the header is `id`, not U+FEFF id.
  Outcome h = read_all_ways(bom + bom + "id,name\n1,x\n");
  REQUIRE(h.ok);
  CHECK(h.columns == V({"id", "name"}));
  CHECK(h.stats.encoding == "UTF-8 (BOM)");
  // A line of BOMs among the rows is a blank line.
  Outcome b = read_all_ways("id,name\n1,x\n" + bom + bom + "\n2,y\n");
  REQUIRE(b.ok);
  CHECK(b.rows.size() == 2);
  CHECK(b.stats.blank_lines.lines == std::vector<uint64_t>{3});
}

// Not run by default: prints what the reader makes of every corpus file and fixture
// (`custlens_tests "[csvdump]"`), for reviewing behaviour by eye.
TEST_CASE("dump every corpus file", "[.][csvdump]") {
  for (const char* name : kWeird) std::printf("=== weird/%s\n%s\n", name, describe(read_chunked(weird(name), 0)).substr(0, 3000).c_str());
  for (const char* name : kFixtures) std::printf("=== fixture %s\n%s\n", name, describe(read_chunked(fixture(name), 0)).substr(0, 3000).c_str());
}

TEST_CASE("random bytes: no crash, and the same result at every chunking", "[csv]") {
  // A fixed-seed fuzzer over the bytes that matter to the state machine. Each input is read
  // whole, in chunks of 1 and 3, and split at two random points; also behind 64 KiB of
  // plain rows, so the tokenizer itself sees the splits. Failures print the input.
  const char alphabet[] = {'a', 'b', '1', ',', ';', '|', '\t', ' ', '"', '"', '\r', '\n', '\n', '\0', '#',
                           '\xC3', '\xA9', '\xE2', '\x82', '\xAC', '\xFF'};
  uint64_t state = 0x2545F4914F6CDD1DULL;
  auto next = [&]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  std::string pad = "c1,c2,c3\n" + window_rows(3);
  for (int iter = 0; iter < 3000; ++iter) {
    size_t n = next() % 40;
    std::string in;
    for (size_t i = 0; i < n; ++i) in += alphabet[next() % sizeof alphabet];
    INFO("input (escaped): " << nlohmann::json(std::string(in)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                             << " bytes " << in.size());
    std::string want = describe(read_chunked(in, 0));
    check_accounting(read_chunked(in, 0));
    REQUIRE(describe(read_chunked(in, 1)) == want);
    REQUIRE(describe(read_chunked(in, 3)) == want);
    size_t a = next() % (n + 1), b = next() % (n + 1);
    REQUIRE(describe(read_parts(in, {std::min(a, b), std::max(a, b)})) == want);
    for (const Dialect& d : all_dialects()) {
      std::string tw = tokenize(in, d, {});
      REQUIRE(tokenize(in, d, {std::min(a, b), std::max(a, b)}) == tw);
    }
    if (iter % 3 == 0) {  // small limits: where a record stops must not depend on the chunks either
      CsvOptions lim;
      lim.limits.max_record_bytes = 1 + next() % 24;
      lim.limits.max_fields = 1 + uint32_t(next() % 6);
      INFO("limits " << lim.limits.max_record_bytes << " bytes, " << lim.limits.max_fields << " fields");
      std::string lw = describe(read_chunked(in, 0, lim));
      check_accounting(read_chunked(in, 0, lim));
      REQUIRE(describe(read_chunked(in, 1, lim)) == lw);
      REQUIRE(describe(read_parts(in, {std::min(a, b), std::max(a, b)}, lim)) == lw);
    }
    if (iter % 60 == 0) {  // behind the sniff window
      std::string big = pad + in;
      Outcome w = read_chunked(big, 0);
      check_accounting(w);
      std::string bw = describe(w);
      size_t at = pad.size() + a;
      REQUIRE(describe(read_parts(big, {at})) == bw);
      REQUIRE(describe(read_parts(big, {pad.size() - 1, at})) == bw);
    }
  }
}
