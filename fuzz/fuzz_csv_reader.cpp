// The CSV reader on arbitrary bytes (bad-input matrix row 36): no crash, hang or
// out-of-bounds read; every outcome an InputError or rows with counted warnings; and the
// same outcome whatever the chunking (the matrix's chunk-size rule).
//
// Each input is read twice: whole, and in chunks cut by fuzz::cuts_for. The sink touches
// every byte of every field (ASan sees any read past a field), checks that it is valid
// UTF-8, and writes a description of everything observable; the two descriptions must be
// equal.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "error.h"
#include "fuzz_util.h"
#include "io/csv_reader.h"

namespace {

using custlens::CsvOptions;
using custlens::CsvReader;
using custlens::InputError;
using custlens::Tally;
namespace fuzz = custlens::fuzz;

// Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), written here
// rather than taken from src/io so the oracle does not share the reader's mistakes.
bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = s[i];
    size_t n;
    uint32_t c;
    if (b < 0x80) { ++i; continue; }
    if (b >= 0xC2 && b <= 0xDF) n = 2, c = b & 0x1F;
    else if (b >= 0xE0 && b <= 0xEF) n = 3, c = b & 0x0F;
    else if (b >= 0xF0 && b <= 0xF4) n = 4, c = b & 0x07;
    else return false;
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const unsigned char t = s[i + k];
      if ((t & 0xC0) != 0x80) return false;
      c = (c << 6) | (t & 0x3F);
    }
    if ((n == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) || (n == 4 && (c < 0x10000 || c > 0x10FFFF))) return false;
    i += n;
  }
  return true;
}

std::string escaped(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F) out += char(c);
    else { char b[5]; std::snprintf(b, sizeof b, "\\x%02x", c); out += b; }
  }
  return out;
}

uint64_t fnv(uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;  // reads every byte
  return h;
}

struct Sink : custlens::RowSink {
  std::string log;
  std::vector<std::string> columns;
  int header_calls = 0;
  uint64_t rows = 0, last_line = 0;
  uint64_t estimate = 0;

  void on_size_estimate(uint64_t r) override { estimate = r; }
  void on_header(const std::vector<std::string>& cols, bool has_header) override {
    ++header_calls;
    columns = cols;
    // The reader hands on UTF-8 only (bad-input rows 3-10): invalid bytes are an error,
    // replaced, or decoded from a detected encoding, never passed through.
    for (const auto& c : cols)
      if (!valid_utf8(c)) fuzz::fail("a column name is not valid UTF-8", escaped(c));
    log += "header " + std::to_string(has_header) + ":";
    for (const auto& c : cols) log += " [" + c + "]";
    log += "\n";
  }
  void on_column_added(const std::vector<std::string>& cols) override {
    // The overflow column, when the first longer row comes after the first 64 KiB.
    if (header_calls != 1 || cols.size() != columns.size() + 1) fuzz::fail("a column added before the header, or not one");
    columns = cols;
    log += "added [" + cols.back() + "]\n";
  }
  void on_row(uint64_t line, const std::string_view* fields, uint64_t row_hash) override {
    if (header_calls != 1) fuzz::fail("row before the header");
    if (line <= last_line) fuzz::fail("row line numbers do not rise", std::to_string(last_line) + " then " + std::to_string(line));
    last_line = line;
    ++rows;
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < columns.size(); ++i) {
      h = fnv(h, fields[i]) * 31 + fields[i].size();
      if (!valid_utf8(fields[i]))
        fuzz::fail("a field is not valid UTF-8", "line " + std::to_string(line) + ": " + escaped(fields[i]));
    }
    log += "line " + std::to_string(line) + " hash " + std::to_string(row_hash) + " fields " + std::to_string(h) + "\n";
  }
};

std::string tally(const Tally& t) {
  std::string s = std::to_string(t.count) + "[";
  for (uint64_t l : t.lines) s += std::to_string(l) + " ";
  return s + "]";
}

// Reads `data` cut at `cuts`; returns everything observable as text.
std::string read(const uint8_t* data, size_t n, const std::vector<size_t>& cuts, const CsvOptions& opt) {
  Sink sink;
  CsvReader reader(opt, sink);
  const char* p = reinterpret_cast<const char*>(data);
  std::string out;
  bool ok = true;
  try {
    size_t at = 0;
    for (size_t c : cuts) {
      reader.feed(p + at, c - at);
      at = c;
    }
    reader.feed(p + at, n - at);
    reader.finish();
  } catch (const InputError& e) {
    ok = false;
    if (e.code.empty()) fuzz::fail("InputError without a code", e.what());
    out += "ERROR " + e.code + " line " + std::to_string(e.line) + " column " + std::to_string(e.column) + " byte " +
           std::to_string(e.byte) + ": " + e.what() + "\n";
  }
  const custlens::CsvStats& st = reader.stats();
  if (ok) {
    // Reconciliation (metrics.md §1): every record is a row or a counted skip.
    if (sink.header_calls != 1) fuzz::fail("a complete read without exactly one header", sink.log);
    if (st.records_read != st.rows + st.blank_lines.count + st.preamble_lines.count + st.summary_lines.count)
      fuzz::fail("records_read != rows + blank + preamble + summary", sink.log);
    if (st.rows != sink.rows) fuzz::fail("stats.rows differs from the rows the sink saw", sink.log);
  }
  out += sink.log;
  out += "read " + std::to_string(st.records_read) + " rows " + std::to_string(st.rows) + " blank " +
         tally(st.blank_lines) + " preamble " + tally(st.preamble_lines) + " summary " + tally(st.summary_lines) +
         " padded " + tally(st.padded_rows) + " overflow " + tally(st.overflow_rows) + " trailing " +
         tally(st.trailing_delimiter_rows) + " nul " + tally(st.nul_bytes) + " stray " + tally(st.stray_quotes) + "\n";
  out += "endings";
  for (uint64_t e : st.line_endings) out += " " + std::to_string(e);
  out += " encoding " + st.encoding + " delimiter " + st.delimiter_name + " (" + st.delimiter_source + ") header " +
         std::to_string(st.has_header) + " (" + st.header_source + ")\n";
  for (const auto& nt : reader.notices()) {
    if (nt.code.empty() || nt.message.empty()) fuzz::fail("a notice without code or message", out);
    out += "notice " + nt.code + " " + std::to_string(nt.count) + " {";
    for (uint64_t l : nt.lines) out += std::to_string(l) + " ";
    out += "} " + nt.message + "\n";
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A byte past the 8 the cuts use picks an option set now and then; most runs sniff.
  CsvOptions opt;
  if (size > 8) {
    switch (data[size - 1] % 16) {
      case 0: opt.header = 0; break;
      case 1: opt.header = 1; break;
      case 2: opt.delimiter = ';'; break;
      case 3: opt.delimiter = ' '; break;
      case 4: opt.encoding = "utf-8"; break;
      case 5: opt.size_hint = size; break;
      case 6: opt.limits.max_record_bytes = 1 + data[size - 2] % 64; break;  // the limits, reached
      case 7: opt.limits.max_fields = 1 + data[size - 2] % 8; break;
      default: break;
    }
  }
  const std::string whole = read(data, size, {}, opt);
  const std::vector<size_t> cuts = fuzz::cuts_for(data, size);
  const std::string chunked = read(data, size, cuts, opt);
  if (chunked != whole) {
    std::string where;
    for (size_t c : cuts) where += std::to_string(c) + " ";
    fuzz::fail("chunked read differs from the whole-file read",
               "cuts: " + where + "\n--- whole\n" + whole + "--- chunked\n" + chunked);
  }
  return 0;
}
