#include "io/csv_reader.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <unordered_set>

#include "blocks.h"
#include "hash.h"
#include "io/columns.h"
#include "io/utf8.h"
#include "io/values.h"

namespace custlens {

namespace {

constexpr char kFullwidthSep = '\x1F';  // the unit separator stands in for "，"
constexpr char kNoQuote = '\x1E';       // a quote byte that never comes: no quoting
constexpr std::string_view kFullwidthComma = "\xEF\xBC\x8C";

std::string map_fullwidth(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t at = 0;;) {
    size_t k = text.find(kFullwidthComma, at);
    out.append(text.substr(at, k == std::string_view::npos ? std::string_view::npos : k - at));
    if (k == std::string_view::npos) break;
    out += kFullwidthSep;
    at = k + kFullwidthComma.size();
  }
  return out;
}

// True when every non-blank line of the sample holds the same number (>= 1) of "，" and the
// sample has no ASCII quote: then "，" is the delimiter, not text (bad-input row 28).
bool fullwidth_comma_lines(std::string_view s) {
  if (s.find('"') != std::string_view::npos || s.find(kFullwidthSep) != std::string_view::npos) return false;
  size_t want = 0, lines = 0;
  while (!s.empty()) {
    size_t eol = s.find_first_of("\r\n");
    std::string_view line = s.substr(0, eol);
    if (!trim(line).empty()) {
      size_t n = 0;
      for (size_t k = line.find(kFullwidthComma); k != std::string_view::npos; k = line.find(kFullwidthComma, k + 3)) ++n;
      if (n == 0 || (lines && n != want)) return false;
      want = n;
      ++lines;
    }
    if (eol == std::string_view::npos) break;
    s.remove_prefix(eol + 1);
  }
  return lines >= 2;
}

}  // namespace

std::string describe_lines(const Tally& t) {
  std::string s = t.lines.size() == 1 && t.count == 1 ? "line " : "lines ";
  for (size_t i = 0; i < t.lines.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(t.lines[i]);
  }
  if (t.count > t.lines.size()) s += ", …";
  return s;
}

// ---------------------------------------------------------------------------
// Tokenizer

Tokenizer::Tokenizer(const Dialect& d, uint64_t first_line, int64_t first_byte, const TokenLimits& limits)
    : d_(d),
      line_(first_line),
      base_(first_byte),
      max_record_(limits.max_record_bytes),
      max_fields_(std::max<uint32_t>(1, limits.max_fields)),
      // A record read in place has at most one field more than it has bytes.
      plain_window_(std::min<size_t>(limits.max_record_bytes, max_fields_ - 1)) {
  std::memset(special_, 0, sizeof special_);
  std::memset(quoted_special_, 0, sizeof quoted_special_);
  special_[uint8_t('\n')] = special_[uint8_t('\r')] = 1;
  if (d_.whitespace) {
    special_[uint8_t(' ')] = special_[uint8_t('\t')] = 1;
  } else {
    if (d_.has_delimiter) special_[uint8_t(d_.delimiter)] = 1;
    special_[uint8_t(d_.quote)] = 1;
  }
  plain_ok_ = d_.has_delimiter && !d_.whitespace;
  std::memcpy(plain_special_, special_, sizeof special_);
  plain_special_[0] = 1;
  for (int b = 0x80; b < 0x100; ++b) plain_special_[b] = 1;
  plain_ends_.reserve(64);
  buf_.cap = max_record_ + 1;
  quoted_special_[uint8_t('\n')] = quoted_special_[uint8_t('\r')] = 1;
  quoted_special_[uint8_t(d_.quote)] = 1;
  if (d_.backslash_escape) quoted_special_[uint8_t('\\')] = 1;
  ends_.reserve(64);
  field_lines_.reserve(64);
  field_bytes_.reserve(64);
  field_quoted_.reserve(64);
}

void Tokenizer::fail(const char* code, std::string message, uint64_t line, uint32_t column,
                     int64_t byte) {
  if (error_) return;
  error_.code = code;
  error_.message = std::move(message);
  error_.line = line;
  error_.column = column;
  error_.byte = byte;
}

namespace {

// "64 MiB", or the bytes when the limit is not whole mebibytes (tests use small limits).
std::string limit_text(size_t bytes) {
  if (bytes && bytes % (size_t(1) << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " byte";
}

}  // namespace

CUSTLENS_NOINLINE void Tokenizer::note_ending_line(LineEnding k) { ending_lines_[k].push_back(line_); }

// The record has passed max_record_ bytes in its current field (or at its delimiter).
void Tokenizer::too_long() {
  uint32_t column = uint32_t(ends_.size() + (field_open_ ? 1 : 0));
  fail("field_too_long",
       "Line " + std::to_string(record_line_) + ", column " + std::to_string(column) + " exceeds the " +
           limit_text(max_record_) + " record limit (one record: its fields, delimiters and quotes together)",
       record_line_, column, field_bytes_.empty() ? record_byte_ : field_bytes_.back());
}

void Tokenizer::start_field(int64_t byte, bool quoted) {
  if (ends_.empty()) {
    record_line_ = line_;
    record_byte_ = byte;
  } else if (ends_.size() >= max_fields_ || byte - record_byte_ > int64_t(max_record_)) {
    // Checked once per field: a line of delimiters alone grows no field, only the field list.
    field_lines_.push_back(line_);
    field_bytes_.push_back(byte);
    field_quoted_.push_back(quoted);
    field_open_ = true;
    if (ends_.size() >= max_fields_)
      fail("too_many_fields",
           "Line " + std::to_string(record_line_) + ", column " + std::to_string(ends_.size() + 1) + ": more than " +
               std::to_string(max_fields_) + " fields in one record (the limit). Is the delimiter right?",
           record_line_, uint32_t(ends_.size() + 1), byte);
    else
      too_long();
    return;
  }
  field_lines_.push_back(line_);
  field_bytes_.push_back(byte);
  field_quoted_.push_back(quoted);
  field_open_ = true;
}

void Tokenizer::end_field() {
  ends_.push_back(uint32_t(buf_.size()));
  field_open_ = false;
}

void Tokenizer::end_record(RecordSink& sink) {
  Record r;
  r.data = buf_.data();
  r.ends = ends_.data();
  r.field_lines = field_lines_.data();
  r.field_bytes = field_bytes_.data();
  r.field_quoted = field_quoted_.data();
  r.size = uint32_t(ends_.size());
  r.line = record_line_;
  if (!error_) sink.on_record(r);
  buf_.clear();
  ends_.clear();
  field_lines_.clear();
  field_bytes_.clear();
  field_quoted_.clear();
}

const char* Tokenizer::scan_plain(const char* p, const char* end, bool& ascii) {
  const char* q = p;
  const char delimiter = d_.delimiter;
#if defined(__wasm_simd128__) || defined(__SSE2__)
  // 16 bytes a step: one compare gives the bytes that matter (the delimiter, line breaks, the
  // quote, NUL and bytes >= 0x80, as in plain_special_), and only those are looked at.
#if defined(__wasm_simd128__)
  const v128_t vdelim = wasm_i8x16_splat(delimiter), vquote = wasm_i8x16_splat(d_.quote);
  const v128_t vlf = wasm_i8x16_splat('\n'), vcr = wasm_i8x16_splat('\r'), vzero = wasm_i8x16_splat(0);
  auto special = [&](const char* at) {
    const v128_t v = wasm_v128_load(at);
    const v128_t m = wasm_v128_or(wasm_v128_or(wasm_i8x16_eq(v, vdelim), wasm_i8x16_eq(v, vquote)),
                                  wasm_v128_or(wasm_v128_or(wasm_i8x16_eq(v, vlf), wasm_i8x16_eq(v, vcr)),
                                               wasm_i8x16_le(v, vzero)));  // NUL or >= 0x80 (signed <= 0)
    return uint32_t(wasm_i8x16_bitmask(m));
  };
#else
  const __m128i vdelim = _mm_set1_epi8(delimiter), vquote = _mm_set1_epi8(d_.quote);
  const __m128i vlf = _mm_set1_epi8('\n'), vcr = _mm_set1_epi8('\r'), vone = _mm_set1_epi8(1);
  auto special = [&](const char* at) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    const __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, vdelim), _mm_cmpeq_epi8(v, vquote)),
                                   _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, vlf), _mm_cmpeq_epi8(v, vcr)),
                                                _mm_cmpgt_epi8(vone, v)));  // NUL or >= 0x80 (signed < 1)
    return uint32_t(_mm_movemask_epi8(m));
  };
#endif
  for (; end - q >= 16; q += 16) {
    for (uint32_t mask = special(q); mask; mask &= mask - 1) {
      const char* at = q + __builtin_ctz(mask);
      if (*at == 0 || uint8_t(*at) >= 0x80) {  // validated by the record's reader
        ascii = false;
      } else if (*at == delimiter) {
        plain_ends_.push_back(uint32_t(at - p));
      } else {
        return at;  // a line break or a quote
      }
    }
  }
#endif
  for (;;) {
    while (q < end && !plain_special_[uint8_t(*q)]) ++q;
    if (q == end) return q;
    if (*q == 0 || uint8_t(*q) >= 0x80) {  // validated by the record's reader
      ascii = false;
      ++q;
      continue;
    }
    if (*q != delimiter) return q;
    plain_ends_.push_back(uint32_t(q - p));
    ++q;
  }
}

void Tokenizer::feed(const char* p, size_t n, RecordSink& sink) {
  const char* const begin = p;
  const char* const end = p + n;
  auto offset = [&](const char* q) { return base_ + int64_t(q - begin); };
  // A line break outside quotes: closes the open field and the record.
  auto line_break = [&](const char* at) {
    if (!field_open_) start_field(offset(at), false);  // "a,b," ends with an empty field
    end_field();
    end_record(sink);
  };

  while (p < end && !error_) {
    switch (state_) {
      case kFieldStart: {
        if (plain_ok_ && ends_.empty()) {
          // A record that is one plain line inside this chunk is read in place: no copy, and
          // the same fields as the byte-by-byte path below gives. Only a record within both
          // limits is: the scan stops after plain_window_ bytes (a longer record takes the path
          // below, which checks them).
          bool ascii = true;
          plain_ends_.clear();
          const char* q = scan_plain(p, size_t(end - p) > plain_window_ ? p + plain_window_ : end, ascii);
          bool lf = q < end && *q == '\n';
          bool crlf = q + 1 < end && q[0] == '\r' && q[1] == '\n';
          if (lf || crlf) {
            plain_ends_.push_back(uint32_t(q - p));
            Record r;
            r.data = p;
            r.ends = plain_ends_.data();
            r.size = uint32_t(plain_ends_.size());
            r.line = line_;
            r.byte = offset(p);
            r.sep = 1;
            r.sep_char = d_.delimiter;
            r.ascii = ascii;
            sink.on_record(r);
            count_ending(lf ? kLF : kCRLF);
            ++line_;
            p = q + (lf ? 1 : 2);
            break;
          }
        }
        char c = *p;
        if (d_.whitespace) {
          if (c == ' ' || c == '\t') { ++p; break; }
        } else if (c == d_.quote) {
          start_field(offset(p), true);
          state_ = kQuoted;
          ++p;
          break;
        } else if (d_.has_delimiter && c == d_.delimiter) {
          start_field(offset(p), false);
          end_field();
          ++p;
          break;
        }
        if (c == '\n') {
          line_break(p);
          count_ending(kLF);
          ++line_;
          ++p;
          break;
        }
        if (c == '\r') {
          line_break(p);
          state_ = kAfterCR;
          ++p;
          break;
        }
        start_field(offset(p), false);
        state_ = kUnquoted;
        break;
      }
      case kUnquoted: {
        const char* const stop = span_limit(p, end, offset(p));
        const char* q = p;
        while (q < stop && !special_[uint8_t(*q)]) ++q;
        buf_.append(p, size_t(q - p));
        p = q;
        if (offset(p) - record_byte_ > int64_t(max_record_)) {  // reports the limit; memory stays bounded
          too_long();
          break;
        }
        if (p == end) break;
        char c = *p;
        if (c == '\n') {
          line_break(p);
          count_ending(kLF);
          ++line_;
          state_ = kFieldStart;
        } else if (c == '\r') {
          line_break(p);
          state_ = kAfterCR;
        } else if (d_.whitespace) {  // a blank ends the field; more blanks are one separator
          end_field();
          state_ = kWsSkip;
        } else if (d_.has_delimiter && c == d_.delimiter) {
          end_field();
          state_ = kFieldStart;
        } else {  // a quote inside an unquoted field (12" pizza): kept literally, counted once per record
          buf_.push(c);
          if (stray_record_ != record_line_ || !stray_quotes_) stray_quotes_.add(record_line_);
          stray_record_ = record_line_;
        }
        ++p;
        break;
      }
      case kWsSkip: {
        while (p < end && (*p == ' ' || *p == '\t')) ++p;  // one separator, however long
        if (p == end) break;
        char c = *p;
        if (c == '\n' || c == '\r') {
          end_record(sink);
          if (c == '\n') {
            count_ending(kLF);
            ++line_;
            state_ = kFieldStart;
          } else {
            state_ = kAfterCR;
          }
          ++p;
          break;
        }
        start_field(offset(p), false);
        state_ = kUnquoted;
        break;
      }
      case kQuoted: {
        const char* const stop = span_limit(p, end, offset(p));
        const char* q = p;
        while (q < stop && !quoted_special_[uint8_t(*q)]) ++q;
        if (q != p) {
          buf_.append(p, size_t(q - p));
          quoted_cr_ = false;
        }
        p = q;
        if (offset(p) - record_byte_ > int64_t(max_record_)) {  // reports the limit; memory stays bounded
          too_long();
          break;
        }
        if (p == end) break;
        char c = *p++;
        if (c == d_.quote) {
          quoted_cr_ = false;
          state_ = kQuoteInQuoted;
        } else if (c == '\\') {  // only special with backslash_escape
          quoted_cr_ = false;
          state_ = kBackslashInQuoted;
        } else if (c == '\n') {
          buf_.push(c);
          if (!quoted_cr_) ++line_;
          quoted_cr_ = false;
        } else {  // '\r'
          buf_.push(c);
          ++line_;
          quoted_cr_ = true;
        }
        break;
      }
      case kQuoteInQuoted: {
        char c = *p;
        if (c == d_.quote) {  // a doubled quote stands for one
          buf_.push(c);
          state_ = kQuoted;
          ++p;
        } else if ((d_.has_delimiter && c == d_.delimiter) || c == '\n' || c == '\r') {
          state_ = kUnquoted;  // the unquoted state closes the field on this byte
        } else if (d_.lenient_quotes) {  // "pedro "pdet" holanda": the quote is text
          buf_.push(d_.quote);
          if (unescaped_record_ != record_line_ || !unescaped_quotes_) unescaped_quotes_.add(record_line_);
          unescaped_record_ = record_line_;
          state_ = kQuoted;  // this byte is read again, inside the field
        } else {
          fail("quote_in_quoted_field",
               "Line " + std::to_string(line_) + ", column " + std::to_string(ends_.size() + 1) +
                   ": a quote inside a quoted field must be doubled (\"\"), or the field must end "
                   "after its closing quote. If the file writes quotes as \\\", choose the backslash "
                   "escape; to keep such quotes as text, choose lenient quotes",
               line_, uint32_t(ends_.size() + 1), offset(p) - 1);
        }
        break;
      }
      case kBackslashInQuoted: {
        // A backslash makes the next character text (\" \\ \, as MySQL and PHP write them);
        // before a line break it is dropped and the break is read as in any quoted field.
        char c = *p;
        if (c != '\n' && c != '\r') {
          buf_.push(c);
          ++p;
        }
        state_ = kQuoted;
        break;
      }
      case kAfterCR: {
        char c = *p;
        if (c == '\n') {
          count_ending(kCRLF);
          ++line_;
          ++p;
          state_ = kFieldStart;
        } else if (c == '\r') {
          state_ = kAfterCRCR;
          ++p;
        } else {
          count_ending(kCR);
          ++line_;
          state_ = kFieldStart;
        }
        break;
      }
      case kAfterCRCR: {
        if (*p == '\n') {  // CR CR LF: a CRLF file converted twice, one line break
          count_ending(kCRCRLF);
          ++line_;
          ++p;
          state_ = kFieldStart;
        } else {  // two lone CRs: the first ended a line, the second an empty one
          count_ending(kCR);
          ++line_;
          line_break(p);
          state_ = kAfterCR;
        }
        break;
      }
    }
  }
  base_ += int64_t(n);
}

void Tokenizer::finish(RecordSink& sink) {
  if (error_) return;
  switch (state_) {
    case kQuoted:
    case kBackslashInQuoted: {
      uint64_t start = field_lines_.empty() ? line_ : field_lines_.back();
      uint32_t column = uint32_t(ends_.size() + 1);
      uint64_t swallowed = line_ - start;
      fail("unterminated_quote",
           "Unterminated quoted field starting at line " + std::to_string(start) + ", column " +
               std::to_string(column) +
               (swallowed ? " (it would swallow the remaining " + std::to_string(swallowed) +
                                (swallowed == 1 ? " line)" : " lines)")
                          : " (the quote is never closed before the end of the file)"),
           start, column, field_bytes_.empty() ? -1 : field_bytes_.back());
      return;
    }
    case kUnquoted:
    case kQuoteInQuoted:
      if (base_ - record_byte_ > int64_t(max_record_)) {  // a closing quote as the last byte
        too_long();
        return;
      }
      end_field();
      end_record(sink);
      break;
    case kFieldStart:
      if (!ends_.empty()) {  // "a,b," at end of file: the last field is empty
        start_field(base_, false);
        end_field();
        end_record(sink);
      }
      break;
    case kWsSkip:
      end_record(sink);
      break;
    case kAfterCR:
      count_ending(kCR);
      ++line_;
      break;
    case kAfterCRCR: {
      count_ending(kCR);
      ++line_;
      start_field(base_, false);
      end_field();
      end_record(sink);
      count_ending(kCR);
      ++line_;
      break;
    }
  }
  state_ = kFieldStart;
}

// ---------------------------------------------------------------------------
// Sniffing

bool looks_like_data(std::string_view cell) {
  cell = trim(cell);
  if (cell.empty()) return false;
  RawDate d;
  if (parse_date(cell, d)) return true;
  ParsedAmount a;
  return parse_amount(cell, DecimalMark::unknown, a);
}

namespace {

struct CountingSink : RecordSink {
  std::vector<uint32_t> counts;  // field counts of non-blank records
  int64_t end_byte = 0;          // file offset just past the last counted record's last field
  size_t limit;
  explicit CountingSink(size_t limit) : limit(limit) {}
  void on_record(const Record& r) override {
    if (counts.size() >= limit) return;
    if (r.size == 1 && trim(r.field(0)).empty()) return;
    counts.push_back(r.size);
    end_byte = r.field_byte(r.size - 1) + int64_t(r.field(r.size - 1).size());
  }
};

struct Candidate {
  Dialect dialect;
  uint32_t modal = 0;
  size_t agree = 0;  // records with the modal count
  size_t total = 0;
  bool failed = false;
  TokenError error;  // why it failed
  std::vector<uint32_t> counts;
  int64_t counted_bytes = 0;  // the sample's bytes up to the end of the last counted record
};

// Title lines above the header (one field each) are left out of the vote when what follows
// them has a shape of its own, so a short export with a long preamble still sniffs right.
constexpr size_t kMaxLeadingTitles = 30;

Candidate try_dialect(const Dialect& d, std::string_view sample, bool at_eof, uint64_t first_line = 1,
                      int64_t first_byte = 0) {
  Candidate c;
  c.dialect = d;
  Tokenizer t(d, first_line, first_byte);
  CountingSink sink(1000);
  t.feed(sample.data(), sample.size(), sink);
  if (at_eof) t.finish(sink);
  // An unterminated quote says nothing against the delimiter (at the end of a cut sample
  // it is only the cut; at the end of the file the main pass reports it, with its line).
  // Other quote errors rule the reading out.
  if (t.error() && t.error().code != "unterminated_quote") {
    c.failed = true;
    c.error = t.error();
  }
  size_t lead = 0;
  while (lead < sink.counts.size() && sink.counts[lead] == 1) ++lead;
  if (lead > kMaxLeadingTitles || sink.counts.size() - lead < 2) lead = 0;
  std::map<uint32_t, size_t> freq;
  for (size_t i = lead; i < sink.counts.size(); ++i) ++freq[sink.counts[i]];
  for (auto& [n, f] : freq)
    if (f > c.agree || (f == c.agree && n > c.modal)) c.modal = n, c.agree = f;
  c.total = sink.counts.size() - lead;
  c.counts = std::move(sink.counts);
  c.counted_bytes = sink.end_byte - first_byte;
  return c;
}

// Share of the sample's non-blank lines that contain byte `b`, in percent.
size_t percent_of_lines_with(std::string_view s, char b) {
  size_t lines = 0, with = 0;
  bool nonblank = false, has = false;
  for (size_t i = 0; i <= s.size(); ++i) {
    char c = i < s.size() ? s[i] : '\n';
    if (c == '\n' || c == '\r') {
      if (nonblank) ++lines, with += has;
      nonblank = has = false;
    } else {
      nonblank |= c != ' ' && c != '\t';
      has |= c == b;
    }
  }
  return lines ? with * 100 / lines : 0;
}

std::string delimiter_name(const Dialect& d) {
  if (d.whitespace) return "whitespace";
  if (!d.has_delimiter) return "none";
  if (d.delimiter == kFullwidthSep) return "\xEF\xBC\x8C";
  switch (d.delimiter) {
    case '\t': return "tab";
    default: return std::string(1, d.delimiter);
  }
}

// "sep=;" as Excel writes it on the first line.
bool parse_sep_line(std::string_view s, char& delim, size_t& line_bytes) {
  size_t eol = s.find_first_of("\r\n");
  std::string_view line = s.substr(0, eol);
  if (line.size() < 5 || line.size() > 6) return false;
  std::string low(line.substr(0, 4));
  for (char& ch : low) ch = char(std::tolower(uint8_t(ch)));
  if (low != "sep=") return false;
  if (line.size() == 6 && line[5] != '"' && line[5] != ' ') return false;
  delim = line[4];
  line_bytes = eol == std::string_view::npos ? s.size() : eol;
  if (line_bytes < s.size() && s[line_bytes] == '\r') ++line_bytes;
  if (line_bytes < s.size() && s[line_bytes] == '\n') ++line_bytes;
  return true;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(uint8_t(a[i])) != std::tolower(uint8_t(b[i]))) return false;
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals_ascii(s.substr(0, prefix.size()), prefix);
}

// For the helpers Rows::on_record calls on every row (inlined there, as before they were shared).
#define CUSTLENS_ALWAYS_INLINE inline __attribute__((always_inline))

// Allocation-free: it runs on the first value of every row.
CUSTLENS_ALWAYS_INLINE bool is_summary_word(std::string_view cell) {
  cell = trim(cell);
  // Fast reject: every word below starts with t/T/s/S/g/G or a CJK lead byte of 合总小總.
  if (cell.empty() || cell.size() > 40) return false;
  unsigned char c0 = uint8_t(cell[0]);
  if (!(c0 == 't' || c0 == 'T' || c0 == 's' || c0 == 'S' || c0 == 'g' || c0 == 'G' || c0 == 0xE5 ||
        c0 == 0xE6 || c0 == 0xE7))
    return false;
  // "Total: 1,234" in one cell (Google Ads footers)
  if (istarts_with(cell, "total:") || istarts_with(cell, "合计:") || istarts_with(cell, "合计：")) return true;
  while (!cell.empty() && (cell.back() == ':' || cell.back() == ' ')) cell.remove_suffix(1);
  if (cell.size() >= 3 && cell.substr(cell.size() - 3) == "\xEF\xBC\x9A") cell.remove_suffix(3);  // ：
  static const char* const kWords[] = {"合计", "总计", "小计", "合計", "總計", "total", "totals",
                                       "grand total", "subtotal", "sum"};
  for (const char* w : kWords)
    if (iequals_ascii(cell, w)) return true;
  return false;
}

std::string join_counts(const std::vector<uint32_t>& counts) {
  std::vector<uint32_t> seen;
  for (uint32_t c : counts)
    if (std::find(seen.begin(), seen.end(), c) == seen.end()) seen.push_back(c);
  std::string s;
  for (size_t i = 0; i < seen.size() && i < 6; ++i) s += (i ? "/" : "") + std::to_string(seen[i]);
  return s;
}

// Blank: nothing but spaces, tabs and U+FEFF (a stray byte-order mark), and no quoted field
// (an empty "" is a value). A row of data leaves at its first byte.
CUSTLENS_ALWAYS_INLINE bool is_blank(const Record& rec) {
  const char* s = rec.data;
  const char* const e = s + rec.bytes().size();
  for (; s < e; ++s) {
    char ch = *s;
    if (ch == ' ' || ch == '\t' || (rec.sep && ch == rec.sep_char)) continue;
    if (ch == '\xEF' && e - s >= 3 && s[1] == '\xBB' && s[2] == '\xBF') {
      s += 2;
      continue;
    }
    return false;
  }
  for (uint32_t i = 0; i < rec.size; ++i)
    if (rec.quoted(i)) return false;
  return true;
}

// A record whose first non-empty field is a summary word (合计, Total: …).
CUSTLENS_ALWAYS_INLINE bool is_summary_record(const Record& rec) {
  uint32_t first = 0;
  while (first < rec.size && trim(rec.field(first)).empty()) ++first;
  return first < rec.size && is_summary_word(rec.field(first));
}

// Fields up to the last non-empty one.
uint32_t filled_fields(const Record& rec) {
  uint32_t n = rec.size;
  while (n && rec.field(n - 1).empty()) --n;
  return n;
}

// A line above the header that holds at most one value: a title (`订单导出 2024-08-20`,
// `#支付宝业务明细查询`), also when padded with delimiters to the table's width
// (`微信支付账单明细,,,,`) as long as its one value does not read as data.
bool is_title(const Record& rec, uint32_t width) {
  if (width < 2) return false;
  uint32_t nonempty = 0, first = 0;
  for (uint32_t i = 0; i < rec.size && nonempty < 2; ++i)
    if (!trim(rec.field(i)).empty()) {
      if (!nonempty) first = i;
      ++nonempty;
    }
  if (nonempty > 1) return false;
  if (rec.size < width) return true;
  return first == 0 && !looks_like_data(rec.field(0));
}

// What a record up to the header is. Rows and Lookahead both judge by this.
enum class Lead : uint8_t { preamble, blank, title, header, data };

struct HeaderRule {
  uint32_t width = 1;        // the sniffed width
  int header_opt = -1;       // -1 detect, 0 no header, 1 header
  uint64_t header_line = 0;  // the header's line when the user named it (0: detected)

  Lead classify(const Record& rec, bool blank) const {
    if (header_line && rec.line < header_line) return Lead::preamble;  // above the header the user named
    if (!header_line) {
      if (blank) return Lead::blank;
      if (is_title(rec, width)) return Lead::title;
    }
    bool has_header = header_opt == 1 || header_line;
    if (header_opt == -1 && !header_line) {
      has_header = true;
      for (uint32_t i = 0; i < rec.size && has_header; ++i) has_header = !looks_like_data(rec.field(i));
    }
    return has_header ? Lead::header : Lead::data;
  }
};

// The rows of the first kSniffBytes, read before Rows delivers the header (they are buffered
// for the sniff anyway, and are the same bytes at every chunking): how far the data rows there
// fill their fields. That decides whether unnamed columns at the end of the header (`a,b,c,`)
// are kept, and whether the header the sink gets already has the overflow column.
struct Lookahead : RecordSink {
  HeaderRule rule;
  bool header_done = false;
  uint64_t data_rows = 0;
  uint32_t filled = 0;       // the most fields up to a row's last non-empty one
  uint32_t filled_late = 0;  // the same past the first 3 data rows (ragged there is an error)
  uint32_t first_filled = 0;           // over the first 3 data rows: the most filled fields,
  uint32_t first_size = uint32_t(-1);  // and the fewest fields

  explicit Lookahead(const HeaderRule& r) : rule(r) {}
  void on_record(const Record& rec) override {
    bool blank = is_blank(rec);
    if (!header_done) {
      Lead k = rule.classify(rec, blank);
      if (k != Lead::header && k != Lead::data) return;
      header_done = true;
      if (k == Lead::header) return;
    }
    if (blank || is_summary_record(rec)) return;
    uint32_t f = filled_fields(rec);
    filled = std::max(filled, f);
    if (data_rows >= 3) {
      filled_late = std::max(filled_late, f);
    } else {
      first_filled = std::max(first_filled, f);
      first_size = std::min(first_size, rec.size);
    }
    ++data_rows;
  }
};

// How the overflow column writes a row's extra fields: joined by the file's delimiter, each
// quoted as RFC 4180 does when it holds the delimiter, a quote or a line break.
struct OverflowFormat {
  char delimiter = ',';
  std::string sep = ",";  // what is written between two fields ("，" for the fullwidth comma)
  char quote = '"';       // 0: no quoting (whitespace-aligned text, the fullwidth comma)
};

}  // namespace

// ---------------------------------------------------------------------------
// Rows: the record layer (header, preamble, blank and summary lines, ragged rows)

class CsvReader::Rows : public RecordSink {
 public:
  // `joiner`: the byte between fields in the text a row's hash is taken of (the delimiter).
  Rows(CsvReader& r, const HeaderRule& rule, char joiner, OverflowFormat overflow, const Lookahead& look)
      : r_(r),
        rule_(rule),
        width_(rule.width),
        named_width_(rule.width),
        joiner_(joiner),
        overflow_format_(std::move(overflow)),
        look_filled_(look.filled),
        look_filled_late_(look.filled_late),
        look_first_filled_(look.first_filled),
        look_first_size_(look.first_size) {}

  void on_record(const Record& rec) override {
    CsvStats& st = r_.stats_;
    if (!rec.ascii) {
      check_utf8(rec);
      if (std::memchr(rec.data, 0, rec.bytes().size())) {
        uint64_t n = uint64_t(std::count(rec.data, rec.data + rec.bytes().size(), '\0'));
        st.nul_bytes.add(rec.line, n);
      }
    }
    bool blank = is_blank(rec);
    if (!header_done_ && header_record(rec, blank)) return;
    // Everything from here on is a record after the header.
    ++st.records_read;
    if (blank) {
      st.blank_lines.add(rec.line);
      return;
    }
    if (is_summary_record(rec)) {
      st.summary_lines.add(rec.line);
      return;
    }
    if (rec.size != width_ || irregular_) {
      irregular_row(rec);
    } else {
      std::string_view* f = fields_.data();
      for (uint32_t i = 0, b = 0; i < width_; ++i) {  // rec.field(i), without its test for i = 0
        uint32_t e = rec.ends[i];
        f[i] = std::string_view(rec.data + b, e - b);
        b = e + rec.sep;
      }
    }
    ++st.rows;
    ++data_rows_;
    r_.sink_.on_row(rec.line, fields_.data(), row_hash(rec));
  }

  void finish() {
    CsvStats& st = r_.stats_;
    if (!header_done_) {
      if (pre_header_blank_ == 0 && st.preamble_lines.count == 0)
        throw InputError("empty_file", "File is empty: no header and no data rows");
      throw InputError("empty_file", "File is empty: no header and no data rows (only " +
                                         std::to_string(pre_header_blank_ + st.preamble_lines.count) +
                                         " blank or title lines)");
    }
    // Pre-header blank and title lines are records too: read = used + rejected + skipped.
    st.records_read += pre_header_blank_ + st.preamble_lines.count;
    uint64_t ragged = st.padded_rows.count + st.overflow_rows.count;
    if (ragged && ragged * 100 > data_rows_) {
      Tally all = st.padded_rows;
      all.merge(st.overflow_rows);
      std::sort(all.lines.begin(), all.lines.end());
      throw InputError("ragged_rows",
                       "Line " + std::to_string(first_ragged_line_) + ": expected " + std::to_string(width_) +
                           " fields, found " + std::to_string(first_ragged_size_) + ". " +
                           std::to_string(ragged) + " of " + std::to_string(data_rows_) + " rows do not have " +
                           std::to_string(width_) + " fields (" + describe_lines(all) +
                           "), more than 1%: the delimiter or quoting guess is wrong, or rows are broken. "
                           "Choose the delimiter, or fix the file",
                       first_ragged_line_, std::min(first_ragged_size_, width_) + 1);
    }
  }

 private:
  // The records up to the header (titles, blank lines, the header itself): true when `rec`
  // was one of them. Out of line of on_record, which runs for every row (and was 40% larger).
  CUSTLENS_NOINLINE bool header_record(const Record& rec, bool blank) {
    CsvStats& st = r_.stats_;
    Lead kind = rule_.classify(rec, blank);
    switch (kind) {
      case Lead::preamble:
      case Lead::title:
        st.preamble_lines.add(rec.line);
        return true;
      case Lead::blank:
        ++pre_header_blank_;
        st.blank_lines.add(rec.line);
        return true;
      case Lead::header:
      case Lead::data:
        break;
    }
    header_done_ = true;
    bool has_header = kind == Lead::header;
    st.has_header = has_header;
    st.header_source = rule_.header_line ? "option (line " + std::to_string(rule_.header_line) + ")"
                                         : rule_.header_opt == -1 ? "detected" : "option";
    if (has_header) {
      set_columns(rec);
      return true;
    }
    std::vector<std::string> cols;  // no header: the record is data, under made-up names
    for (uint32_t i = 0; i < width_; ++i) cols.push_back("column_" + std::to_string(i + 1));
    deliver_header(std::move(cols), false);
    return false;
  }

  // The columns go to the sink, with the overflow column when a row of the first 64 KiB
  // past the first 3 data rows has values past the last column (and those 3 rows, which
  // refuse the file when ragged, are not).
  void deliver_header(std::vector<std::string> cols, bool has_header) {
    CsvStats& st = r_.stats_;
    st.columns = std::move(cols);
    fields_.assign(width_, std::string_view());
    bool start_ragged = look_first_filled_ > width_ || look_first_size_ < named_width_;
    if (look_filled_late_ > width_ && !start_ragged) add_overflow_column();
    r_.sink_.on_header(st.columns, has_header);
    header_delivered_ = true;
  }

  // One column more, named `overflow` (`overflow_1` … when the header has that name), for the
  // extra fields of rows longer than the header; empty on the other rows.
  CUSTLENS_NOINLINE void add_overflow_column() {
    CsvStats& st = r_.stats_;
    std::string name(kOverflowColumn);
    for (int k = 1; std::find(st.columns.begin(), st.columns.end(), name) != st.columns.end(); ++k)
      name = std::string(kOverflowColumn) + "_" + std::to_string(k);
    st.overflow_column = name;
    st.columns.push_back(name);
    fields_.resize(width_ + 1);
    if (header_delivered_) r_.sink_.on_column_added(st.columns);
  }

  // Fills fields_ for a row whose field count is not the width, any row under kept unnamed
  // columns, and the row after an overflow row (its overflow value is cleared): padded, its
  // extra fields kept in the overflow column, or its empty trailing fields dropped.
  CUSTLENS_NOINLINE void irregular_row(const Record& rec) {
    CsvStats& st = r_.stats_;
    uint32_t n = rec.size;
    std::string_view overflow;
    if (n > width_) {
      bool extras_empty = true;
      for (uint32_t i = width_; i < n && extras_empty; ++i) extras_empty = rec.field(i).empty();
      if (!extras_empty) {
        note_ragged(rec, st.overflow_rows);
        if (st.overflow_column.empty()) add_overflow_column();
        overflow = join_extras(rec);
      } else if (!dropped_trailing_) {  // `1,2,3,` under `a,b,c`: a trailing delimiter
        st.trailing_delimiter_rows.add(rec.line);
      }
      n = width_;
    } else if (n < named_width_) {
      // (A row that stops before kept unnamed columns is not ragged: the header named no more.)
      note_ragged(rec, st.padded_rows);
    }
    if (unnamed_kept_)
      for (uint32_t i = named_width_; i < n; ++i)
        if (!rec.field(i).empty()) {
          st.unnamed_column_values.add(rec.line);
          break;
        }
    for (uint32_t i = 0; i < width_; ++i) fields_[i] = i < n ? rec.field(i) : std::string_view();
    if (!st.overflow_column.empty()) fields_[width_] = overflow;
    irregular_ = unnamed_kept_ || !overflow.empty();  // the next row clears the overflow value
  }

  // The fields past the width, as the overflow column holds them.
  std::string_view join_extras(const Record& rec) {
    const OverflowFormat& f = overflow_format_;
    const char specials[] = {f.delimiter, f.quote, '\r', '\n'};
    overflow_.clear();
    for (uint32_t i = width_; i < rec.size; ++i) {
      if (i > width_) overflow_ += f.sep;
      std::string_view v = rec.field(i);
      if (!f.quote || v.find_first_of(std::string_view(specials, sizeof specials)) == std::string_view::npos) {
        overflow_.append(v);
        continue;
      }
      overflow_ += f.quote;
      for (char c : v) {
        if (c == f.quote) overflow_ += c;
        overflow_ += c;
      }
      overflow_ += f.quote;
    }
    return overflow_;
  }

  CUSTLENS_NOINLINE void note_ragged(const Record& rec, Tally& t) {
    // The first data rows decide the table's shape: ragged there means a wrong guess.
    if (data_rows_ < 3) {
      throw InputError("ragged_rows",
                       "Line " + std::to_string(rec.line) + ": expected " + std::to_string(width_) +
                           " fields, found " + std::to_string(rec.size) + ". Field counts vary (" +
                           join_counts(r_.sniffed_counts_) +
                           ") near the start: is the delimiter right, or are there unquoted "
                           "thousands separators (1,234.50)?",
                       rec.line, std::min(rec.size, width_) + 1);
    }
    if (!first_ragged_line_) first_ragged_line_ = rec.line, first_ragged_size_ = rec.size;
    t.add(rec.line);
  }

  void set_columns(const Record& rec) {
    CsvStats& st = r_.stats_;
    std::vector<std::string> cols;
    for (uint32_t i = 0; i < rec.size; ++i) cols.emplace_back(trim(rec.field(i)));
    // A trailing delimiter on the header (`a,b,c,`) makes unnamed columns. Those the rows of the
    // first 64 KiB have values under are kept, with generated names; the others are dropped.
    uint32_t named = uint32_t(cols.size());
    while (named > 1 && cols[named - 1].empty()) --named;
    uint32_t keep = std::min(uint32_t(cols.size()), std::max(named, look_filled_));
    dropped_trailing_ = uint32_t(cols.size()) - keep;
    cols.resize(keep);
    if (dropped_trailing_)
      st.header_notices.push_back({"unnamed_trailing_column",
                                   (dropped_trailing_ == 1
                                        ? std::string("1 unnamed column at the end of the header (a trailing "
                                                      "delimiter) dropped: the first rows have no values under it")
                                        : std::to_string(dropped_trailing_) +
                                              " unnamed columns at the end of the header (trailing "
                                              "delimiters) dropped: the first rows have no values under them") +
                                       "; a later value there counts as an extra field (overflow_rows)",
                                   dropped_trailing_, {rec.line}});
    std::unordered_set<std::string> used;
    uint64_t renamed = 0;
    for (size_t i = 0; i < cols.size(); ++i) {
      std::string base = cols[i].empty() ? "column_" + std::to_string(i + 1) : cols[i];
      std::string name = base;
      for (int k = 1; used.count(name); ++k) name = base + "_" + std::to_string(k);
      if (i >= named) {
        st.unnamed_columns.push_back(name);  // its own warning (unnamed_columns_kept)
      } else if (name != cols[i]) {
        ++renamed;
      }
      used.insert(name);
      cols[i] = name;
    }
    if (renamed)
      st.header_notices.push_back({"renamed_columns",
                                   std::to_string(renamed) +
                                       (renamed == 1 ? " empty or duplicate column name made unique"
                                                     : " empty or duplicate column names made unique"),
                                   renamed, {rec.line}});
    width_ = keep;
    named_width_ = named;
    unnamed_kept_ = keep > named;
    irregular_ = unnamed_kept_;
    deliver_header(std::move(cols), true);
  }

  CUSTLENS_NOINLINE void check_utf8(const Record& rec) {
    std::string_view all = rec.bytes();
    size_t bad = all.size();
    if (rec.sep) {  // in place: the delimiters between fields are there, so no character spans two
      bad = utf8_invalid_at(all.data(), all.size());
    } else {  // copied fields abut: a lead byte ending one and a continuation starting the next
      for (uint32_t i = 0; i < rec.size && bad == all.size(); ++i) {  // are not one character
        std::string_view fv = rec.field(i);
        size_t b = utf8_invalid_at(fv.data(), fv.size());
        if (b != fv.size()) bad = rec.start(i) + b;
      }
    }
    if (bad == all.size()) return;
    uint32_t f = 0;
    while (f + 1 < rec.size && rec.ends[f] <= bad) ++f;
    size_t start = rec.start(f);
    std::string_view before(rec.data + start, bad - start);
    uint64_t line = rec.field_line(f);
    for (size_t i = 0; i < before.size(); ++i)
      if (before[i] == '\n' || (before[i] == '\r' && (i + 1 >= before.size() || before[i + 1] != '\n'))) ++line;
    // Inside a quoted field each content quote was written twice, after the opening one.
    int64_t byte = rec.field_byte(f) + int64_t(bad - start);
    if (rec.quoted(f)) byte += 1 + int64_t(std::count(before.begin(), before.end(), '"'));
    std::string where = line == rec.line ? "Line " + std::to_string(line)
                                         : "Record starting at line " + std::to_string(rec.line) +
                                               ", line " + std::to_string(line);
    throw InputError("invalid_utf8",
                     where + ", column " + std::to_string(f + 1) + ": invalid UTF-8 at byte " +
                         std::to_string(byte) +
                         ". The file is not valid UTF-8." + r_.not_utf8_hint_,
                     rec.line, f + 1, byte);
  }

  // The record's content as one hash, the same whichever form the record came in (so a
  // duplicate line is found however the file was chunked): the fields joined by the
  // delimiter. When a field holds the delimiter itself (quoted), where each field ends in
  // that joined text is hashed too; otherwise the joined text alone fixes the fields (an
  // in-place record's bytes are that text, so its hash is one pass over them).
  uint64_t row_hash(const Record& rec) {
    if (rec.sep) return hash_bytes(rec.data, rec.bytes().size());
    joined_.clear();
    joined_ends_.clear();
    bool joiner_inside = false;
    for (uint32_t i = 0; i < rec.size; ++i) {
      if (i) joined_.push_back(joiner_);
      std::string_view f = rec.field(i);
      joiner_inside = joiner_inside || f.find(joiner_) != std::string_view::npos;
      joined_.append(f);
      joined_ends_.push_back(uint32_t(joined_.size()));
    }
    uint64_t h = hash_bytes(joined_.data(), joined_.size());
    if (joiner_inside)
      h ^= hash_bytes(reinterpret_cast<const char*>(joined_ends_.data()), rec.size * sizeof(uint32_t), 0x51ED27);
    return h;
  }

  CsvReader& r_;
  HeaderRule rule_;
  uint32_t width_;        // fields a row has (the header's, kept unnamed columns included)
  uint32_t named_width_;  // of them, up to the header's last named column
  char joiner_;
  OverflowFormat overflow_format_;
  uint32_t look_filled_, look_filled_late_, look_first_filled_, look_first_size_;  // Lookahead's answers
  std::string joined_;
  std::vector<uint32_t> joined_ends_;
  std::string overflow_;
  bool header_done_ = false;
  bool header_delivered_ = false;
  bool unnamed_kept_ = false;
  bool irregular_ = false;  // every row takes irregular_row (kept unnamed columns, or after an overflow row)
  uint32_t dropped_trailing_ = 0;
  uint64_t pre_header_blank_ = 0;
  uint64_t data_rows_ = 0;
  uint64_t first_ragged_line_ = 0;
  uint32_t first_ragged_size_ = 0;
  std::vector<std::string_view> fields_;
};

// The lines the fullwidth comma splits, for its warning: in front of Rows, only in such files.
class CsvReader::FullwidthLines : public RecordSink {
 public:
  FullwidthLines(Tally& lines, RecordSink& next) : lines_(lines), next_(next) {}
  void on_record(const Record& r) override {
    if (r.size > 1) lines_.add(r.line);
    next_.on_record(r);
  }

 private:
  Tally& lines_;
  RecordSink& next_;
};

// ---------------------------------------------------------------------------
// CsvReader

CsvReader::CsvReader(const CsvOptions& opt, RowSink& sink) : opt_(opt), sink_(sink) {}

CsvReader::~CsvReader() {
  delete tok_;
  delete rows_;
}

// Bytes through the decoder, UTF-8 to the tokenizer. Byte offsets in later messages then
// count the UTF-8 text; lines and columns are the file's.
void CsvReader::feed_decoded(const char* p, size_t n, bool last) {
  decoded_.clear();
  if (n) dec_->decode(p, n, decoded_);
  if (last) dec_->finish(decoded_);
  to_tokenizer(decoded_.data(), decoded_.size());  // the text before a bad byte first
  check_decoder();
}

void CsvReader::to_tokenizer(const char* p, size_t n) {
  if (fullwidth_) {
    // "，" is EF BC 8C: a chunk may end inside it, so up to two bytes wait for the next.
    fw_text_.assign(fw_pending_);
    fw_text_.append(p, n);
    size_t keep = 0;
    size_t len = fw_text_.size();
    if (len >= 1 && uint8_t(fw_text_[len - 1]) == 0xEF) keep = 1;
    else if (len >= 2 && uint8_t(fw_text_[len - 2]) == 0xEF && uint8_t(fw_text_[len - 1]) == 0xBC) keep = 2;
    fw_pending_.assign(fw_text_, len - keep, keep);
    fw_text_.resize(len - keep);
    fw_text_ = map_fullwidth(fw_text_);
    tok_->feed(fw_text_.data(), fw_text_.size(), *records_);
  } else {
    tok_->feed(p, n, *records_);
  }
  check_token_error();
}

void CsvReader::check_decoder() {
  if (!dec_ || !dec_->failed()) return;
  const char* name = encoding_name(dec_->encoding());
  throw InputError("invalid_encoding",
                   "Line " + std::to_string(dec_->error_line()) + ": bytes that are not valid " + name +
                       " at byte " + std::to_string(dec_->error_byte()) + "." + not_utf8_hint_,
                   dec_->error_line(), 0, dec_->error_byte());
}

void CsvReader::check_token_error() {
  const TokenError& e = tok_->error();
  if (e) throw InputError(e.code, e.message, e.line, e.column, e.byte);
}

namespace {

// Files that are not text at all: say what they are instead of reading garbage.
void refuse_binary(std::string_view s) {
  auto starts = [&](const char* magic, size_t n) { return s.size() >= n && std::memcmp(s.data(), magic, n) == 0; };
  if (starts("PK\x03\x04", 4))
    throw InputError("not_csv", "This is an Excel workbook (xlsx) or a zip file, not CSV. Save it as \"CSV UTF-8\"", 1, 0, 0);
  if (starts("\xD0\xCF\x11\xE0", 4))
    throw InputError("not_csv", "This is an old Excel workbook (xls), not CSV. Save it as \"CSV UTF-8\"", 1, 0, 0);
  if (starts("%PDF", 4)) throw InputError("not_csv", "This is a PDF document, not CSV", 1, 0, 0);
  if (starts("\x1F\x8B", 2))
    throw InputError("not_csv", "This file is gzip-compressed: decompress it first (the CLI and the Node API read .csv.gz)", 1, 0, 0);
}

// The first lines of the decoded text, for the user to check the encoding by eye.
std::vector<std::string> preview_lines(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty() && out.size() < 5) {
    size_t eol = text.find_first_of("\r\n");
    std::string_view line = text.substr(0, eol);
    if (eol == std::string_view::npos && text.size() >= 200) line = text.substr(0, 200);
    if (!trim(line).empty()) {
      size_t cut = std::min<size_t>(line.size(), 200);
      while (cut < line.size() && cut > 0 && (uint8_t(line[cut]) & 0xC0) == 0x80) --cut;  // whole characters
      out.emplace_back(line.substr(0, cut));
    }
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
  return out;
}

}  // namespace

void CsvReader::start(bool at_eof) {
  started_ = true;
  // The encoding first: decoding comes before splitting (a GB18030 character may hold the
  // byte of `|` or `\`). UTF-8 files are read as they are, validated record by record; any
  // other encoding, and UTF-8 with replace_invalid, goes through a Decoder to UTF-8.
  if (!(sample_.size() >= 3 && std::memcmp(sample_.data(), "\xEF\xBB\xBF", 3) == 0)) refuse_binary(sample_);
  Encoding enc = Encoding::utf8;
  bool chosen = opt_.encoding != "auto";
  if (chosen) {
    if (!parse_encoding_option(opt_.encoding, enc))
      throw InputError("unsupported_encoding",
                       "Encoding \"" + opt_.encoding +
                           "\" is not supported: choose utf-8, gb18030 (also for GBK), utf-16le, utf-16be, "
                           "windows-1252 or latin1. Shift_JIS and Big5 files must be saved as \"CSV UTF-8\"");
    stats_.encoding_source = "option";
    not_utf8_hint_ = " Choose the file's encoding, or replace invalid bytes with U+FFFD";
  } else {
    // On the first kSniffBytes exactly, so every chunking decides the same.
    Detection det = detect_encoding(std::string_view(sample_).substr(0, kSniffBytes), at_eof && sample_.size() <= kSniffBytes);
    if (det.ok) {
      enc = det.encoding;
      stats_.encoding_source = det.how;
      not_utf8_hint_ = " Choose the file's encoding, or replace invalid bytes with U+FFFD";
    } else {  // read as UTF-8: the first bad byte stops the load with its line and column
      stats_.encoding_source = "not UTF-8";
      not_utf8_hint_ =
          " It does not read as Chinese text in GB18030 either: choose the file's encoding (windows-1252 "
          "for older European Excel files), or replace invalid bytes with U+FFFD. Shift_JIS and Big5 are "
          "not supported: save the file as \"CSV UTF-8\"";
    }
  }
  // The file's own BOM, said in format.encoding (a decoder drops it from the text).
  auto starts = [&](const char* b, size_t n) { return sample_.size() >= n && std::memcmp(sample_.data(), b, n) == 0; };
  bool bom = ((enc == Encoding::utf8 || enc == Encoding::utf8_bom) && starts("\xEF\xBB\xBF", 3)) ||
             (enc == Encoding::utf16le && starts("\xFF\xFE", 2)) || (enc == Encoding::utf16be && starts("\xFE\xFF", 2)) ||
             (enc == Encoding::gb18030 && starts("\x84\x31\x95\x33", 4));
  if ((enc != Encoding::utf8 && enc != Encoding::utf8_bom) || opt_.replace_invalid) {
    dec_ = std::make_unique<Decoder>(enc, opt_.replace_invalid);
    std::string text;
    dec_->decode(sample_.data(), sample_.size(), text);
    if (at_eof) dec_->finish(text);
    check_decoder();
    sample_.swap(text);
  }
  std::string_view s(sample_);
  int64_t skip = 0;
  uint64_t first_line = 1;
  // The BOM (a decoder drops it itself), and any more after it: tools that add one to a file
  // that has one write it twice. A file of BOMs alone is empty.
  while (s.size() >= size_t(skip) + 3 && std::memcmp(s.data() + skip, "\xEF\xBB\xBF", 3) == 0) {
    bom = true;
    skip += 3;
  }
  stats_.encoding = std::string(encoding_name(enc == Encoding::utf8_bom ? Encoding::utf8 : enc));
  if (bom) stats_.encoding += " (BOM)";
  else if (chosen && enc != Encoding::utf8) stats_.encoding += " (chosen)";
  else if (enc != Encoding::utf8 && enc != Encoding::utf8_bom) stats_.encoding += " (detected)";
  std::string_view body = s.substr(size_t(skip));
  stats_.preview = preview_lines(body.substr(0, 8192));

  auto dialect = [&] {  // the quoting choices hold for every candidate
    Dialect x;
    x.lenient_quotes = opt_.lenient_quotes;
    x.backslash_escape = opt_.backslash_escape;
    return x;
  };
  Dialect d = dialect();
  char sep = 0;
  size_t sep_bytes = 0;
  if (parse_sep_line(body, sep, sep_bytes)) {
    d.delimiter = sep;
    stats_.delimiter_source = "sep= line";
    stats_.preamble_lines.add(1);
    skip += int64_t(sep_bytes);
    body = body.substr(sep_bytes);
    first_line = 2;
  }
  if (opt_.delimiter >= 0) {
    if (opt_.delimiter == ' ') {
      d.whitespace = true;
    } else {
      d.delimiter = char(opt_.delimiter);
    }
    stats_.delimiter_source = "option";
  }
  // Sniff on the first kSniffBytes of the file, on whole lines only unless that is the whole
  // file: the same bytes whatever the chunking (start(false) runs once the sample holds at
  // least kSniffBytes, start(true) only for a smaller file).
  std::string_view probe = body.substr(0, kSniffBytes > size_t(skip) ? kSniffBytes - size_t(skip) : 0);
  if (!at_eof) {
    size_t cut = probe.find_last_of("\r\n");
    probe = cut == std::string_view::npos ? probe : probe.substr(0, cut + 1);
  }
  // Candidates are compared on the first 16 KiB of whole lines: enough records, little work.
  std::string_view head = probe;
  if (head.size() > 16 * 1024) {
    size_t cut = head.find_last_of("\r\n", 16 * 1024);
    if (cut != std::string_view::npos) head = head.substr(0, cut + 1);
  }
  // A first line longer than the sample (10,000+ columns): its start is all there is to
  // sniff, read as if it ended there (the header's own field count sets the width later).
  bool head_is_all = (head.size() == probe.size() && at_eof) || head.find_first_of("\r\n") == std::string_view::npos;
  Candidate best;
  if (stats_.delimiter_source.empty()) {
    Candidate broken;  // the delimiter whose quoting broke furthest into the file
    for (char c : {',', ';', '\t', '|'}) {
      Dialect t = dialect();
      t.delimiter = c;
      Candidate cand = try_dialect(t, head, head_is_all, first_line, skip);
      if (cand.failed) {
        if (cand.error.code != "unterminated_quote" && percent_of_lines_with(head, c) >= 50 &&
            (!broken.failed || cand.error.byte > broken.error.byte))
          broken = cand;
        continue;
      }
      if (cand.modal < 2) continue;
      if (cand.agree > best.agree || (cand.agree == best.agree && cand.modal > best.modal)) best = cand;
    }
    if (best.modal < 2 && broken.failed) {
      // Every line has this delimiter but its quoting is broken (unescaped quotes, `\"`):
      // say where, instead of reading the file as one column or as blank-separated text.
      stats_.delimiter_name = delimiter_name(broken.dialect);
      stats_.delimiter_source = "detected";
      const TokenError& e = broken.error;
      throw InputError(e.code, e.message + " (reading the file as \"" + stats_.delimiter_name + "\"-separated)",
                       e.line, e.column, e.byte);
    }
    if (best.modal < 2 && fullwidth_comma_lines(head)) {
      fullwidth_ = true;
      stats_.fullwidth_comma = true;
      Dialect f = dialect();
      f.delimiter = kFullwidthSep;
      f.quote = kNoQuote;  // a hand-made file: quotes are text
      best = try_dialect(f, map_fullwidth(head), head_is_all, first_line, skip);
    }
    if (best.modal < 2) {
      // Whitespace-aligned text (fixed-width exports): consistent columns split on blanks.
      Dialect w = dialect();
      w.whitespace = true;
      Candidate cand = try_dialect(w, head, head_is_all);
      if (!cand.failed && cand.modal >= 2 && cand.agree * 100 >= cand.total * 95) {
        best = cand;
      } else {
        best = Candidate();
        best.dialect = dialect();
        best.dialect.has_delimiter = false;
        best.modal = 1;
      }
    }
    d = best.dialect;
    stats_.delimiter_source = "detected";
  } else {
    best = try_dialect(d, probe, at_eof);
    if (best.modal == 0) best.modal = 1;
  }
  sniffed_counts_.assign(best.counts.begin(), best.counts.begin() + std::min<size_t>(50, best.counts.size()));
  stats_.delimiter_name = delimiter_name(d);
  uint32_t width = std::max<uint32_t>(1, best.modal);
  if (opt_.size_hint && best.counted_bytes > 0 && !best.counts.empty()) {
    // Rows in the file ≈ its size / the bytes per record of the records counted (the first
    // 16 KiB, or at most 1,000 records, not the whole probe); capped: a hint is a hint.
    double per_row = double(best.counted_bytes) / double(best.counts.size());
    sink_.on_size_estimate(std::min<uint64_t>(uint64_t(double(opt_.size_hint) / per_row * 1.05) + 16, uint64_t(1) << 28));
  }
  // Before the header is delivered, the rows of the probe (the same bytes at every chunking)
  // say which unnamed trailing columns have values and whether rows have extra fields.
  HeaderRule rule;
  rule.width = width;
  rule.header_opt = opt_.header;
  rule.header_line = opt_.header_line;
  Lookahead look(rule);
  {
    Tokenizer t(d, first_line, skip, opt_.limits);
    std::string mapped = fullwidth_ ? map_fullwidth(probe) : std::string();
    std::string_view text = fullwidth_ ? std::string_view(mapped) : probe;
    t.feed(text.data(), text.size(), look);
    if (at_eof && probe.size() == body.size()) t.finish(look);
  }
  OverflowFormat overflow;
  overflow.delimiter = d.delimiter;
  if (fullwidth_) {
    overflow.sep = std::string(kFullwidthComma);
    overflow.quote = 0;
  } else if (d.whitespace) {
    overflow.sep = " ";
    overflow.quote = 0;
  } else {
    overflow.sep = std::string(1, d.delimiter);
    overflow.quote = d.quote;
  }
  tok_ = new Tokenizer(d, first_line, skip, opt_.limits);
  rows_ = new Rows(*this, rule, d.has_delimiter && !d.whitespace ? d.delimiter : '\t', std::move(overflow), look);
  records_ = rows_;
  if (fullwidth_) {
    fw_lines_ = std::make_unique<FullwidthLines>(stats_.fullwidth_lines, *rows_);
    records_ = fw_lines_.get();
  }
  to_tokenizer(sample_.data() + skip, sample_.size() - size_t(skip));
  sample_.clear();
  sample_.shrink_to_fit();
}

void CsvReader::feed(const char* p, size_t n) {
  try {
    if (!started_) {
      // Exactly kSniffBytes are buffered, whatever the chunking: the sniff and the lookahead
      // see the same bytes, and a large first chunk is not copied.
      size_t take = std::min(n, kSniffBytes - sample_.size());
      sample_.append(p, take);
      if (sample_.size() < kSniffBytes) return;
      start(false);
      p += take;
      n -= take;
      if (!n) return;
    }
    if (dec_) {
      feed_decoded(p, n, false);
    } else {
      to_tokenizer(p, n);
    }
  } catch (const InputError&) {
    sync_stats();  // the report shows what was read up to the error
    throw;
  }
}

void CsvReader::finish() {
  try {
    if (!started_) {
      std::string_view s(sample_);
      bool only_boms = s.size() % 3 == 0;
      for (size_t i = 0; i < s.size() && only_boms; i += 3) only_boms = std::memcmp(s.data() + i, "\xEF\xBB\xBF", 3) == 0;
      if (only_boms) throw InputError("empty_file", "File is empty: no header and no data rows");
      start(true);
    } else if (dec_) {
      feed_decoded(nullptr, 0, true);
    }
    tok_->finish(*records_);
    check_token_error();
    sync_stats();
    rows_->finish();
  } catch (const InputError&) {
    sync_stats();
    throw;
  }
}

void CsvReader::sync_stats() {
  if (!tok_) return;
  for (int k = 0; k < kLineEndingKinds; ++k) {
    stats_.line_endings[k] = tok_->line_endings(LineEnding(k));
    stats_.line_ending_lines[k] = tok_->line_ending_lines(LineEnding(k));
  }
  stats_.stray_quotes = tok_->stray_quotes();
  stats_.unescaped_quotes = tok_->unescaped_quotes();
  if (dec_) {
    stats_.replaced_bytes = Tally();
    stats_.replaced_bytes.count = dec_->replaced();
    stats_.replaced_bytes.lines.assign(dec_->replaced_lines().begin(), dec_->replaced_lines().end());
  }
}

namespace {

// "1 blank line" / "3 blank lines"
std::string counted(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::vector<Notice> CsvReader::notices() const {
  std::vector<Notice> out = stats_.header_notices;
  auto add = [&](const char* code, const Tally& t, const std::string& what) {
    if (t) out.push_back({code, what + " (" + describe_lines(t) + ")", t.count, t.lines});
  };
  const CsvStats& st = stats_;
  uint64_t n;
  n = st.blank_lines.count;
  add("blank_lines", st.blank_lines, counted(n, "blank line skipped", "blank lines skipped"));
  n = st.preamble_lines.count;
  add("preamble_lines", st.preamble_lines,
      counted(n, "line before the header skipped (a title or sep= line)",
              "lines before the header skipped (titles or a sep= line)"));
  n = st.summary_lines.count;
  add("summary_lines", st.summary_lines,
      counted(n, "total/summary line skipped, not counted as data", "total/summary lines skipped, not counted as data"));
  n = st.padded_rows.count;
  add("padded_rows", st.padded_rows,
      counted(n, "row had fewer fields than the header and was padded with empty values",
              "rows had fewer fields than the header and were padded with empty values"));
  n = st.overflow_rows.count;
  add("overflow_rows", st.overflow_rows,
      counted(n, "row had more fields than the header; its extra fields are kept in the column \"",
              "rows had more fields than the header; their extra fields are kept in the column \"") +
          st.overflow_column + "\"");
  if (!st.unnamed_columns.empty()) {
    std::string names;
    for (const auto& c : st.unnamed_columns) names += (names.empty() ? "" : ", ") + c;
    const Tally& t = st.unnamed_column_values;
    out.push_back({"unnamed_columns_kept",
                   (st.unnamed_columns.size() == 1
                        ? std::string("1 unnamed column at the end of the header (a trailing delimiter) has values: named ")
                        : std::to_string(st.unnamed_columns.size()) +
                              " unnamed columns at the end of the header (trailing delimiters) have values: named ") +
                       names + "; " + counted(t.count, "row has", "rows have") + " a value there" +
                       (t ? " (" + describe_lines(t) + ")" : std::string()),
                   t.count, t.lines});
  }
  n = st.trailing_delimiter_rows.count;
  add("trailing_delimiter_rows", st.trailing_delimiter_rows,
      counted(n, "row ends with a trailing delimiter; the empty field after the last column was dropped",
              "rows end with a trailing delimiter; the empty field after the last column was dropped"));
  n = st.nul_bytes.count;
  add("nul_bytes", st.nul_bytes, counted(n, "NUL byte kept inside a value", "NUL bytes kept inside values"));
  n = st.stray_quotes.count;
  add("stray_quotes", st.stray_quotes,
      counted(n, "row had a quote inside an unquoted field, kept literally",
              "rows had quotes inside unquoted fields, kept literally"));
  if (st.fullwidth_comma)
    out.push_back({"fullwidth_comma_delimiter",
                   "fullwidth comma \"\xEF\xBC\x8C\" used as the delimiter: it separates the fields on every line (" +
                       counted(st.fullwidth_lines.count, "line", "lines") + ": " + describe_lines(st.fullwidth_lines) + ")",
                   st.fullwidth_lines.count, st.fullwidth_lines.lines});
  n = st.replaced_bytes.count;
  add("replaced_invalid_bytes", st.replaced_bytes,
      counted(n, "invalid byte sequence replaced with U+FFFD (\xEF\xBF\xBD)", "invalid byte sequences replaced with U+FFFD (\xEF\xBF\xBD)"));
  n = st.unescaped_quotes.count;
  add("unescaped_quotes", st.unescaped_quotes,
      counted(n, "row had unescaped quotes inside a quoted field, kept as text (lenient quotes)",
              "rows had unescaped quotes inside quoted fields, kept as text (lenient quotes)"));
  int kinds = 0;
  for (uint64_t c : st.line_endings) kinds += c != 0;
  if (st.line_endings[kCRCRLF]) {
    Tally t;
    t.count = st.line_endings[kCRCRLF];
    t.lines = st.line_ending_lines[kCRCRLF];
    out.push_back({"double_cr_line_endings",
                   counted(t.count, "double-CR line ending", "double-CR line endings") +
                       " (CR CR LF, a CRLF file converted twice) read as one line break each (at the end of " +
                       describe_lines(t) + ")",
                   t.count, t.lines});
  } else if (kinds > 1) {
    // The counts per kind; count and lines are those of the kinds other than the most common
    // one (ties: the first in the order LF, CRLF, CR), the lines they end.
    static const char* const names[] = {"LF", "CRLF", "CR", "CR CR LF"};
    int major = 0;
    for (int k = 1; k < kLineEndingKinds; ++k)
      if (st.line_endings[k] > st.line_endings[major]) major = k;
    std::string msg = "mixed line endings:", others;
    Tally t;
    for (int k = 0; k < kLineEndingKinds; ++k) {
      if (!st.line_endings[k]) continue;
      msg += std::string(" ") + std::to_string(st.line_endings[k]) + " " + names[k];
      if (k == major) continue;
      others += std::string(others.empty() ? "" : ", ") + names[k];
      t.count += st.line_endings[k];
      t.lines.insert(t.lines.end(), st.line_ending_lines[k].begin(), st.line_ending_lines[k].end());
    }
    std::sort(t.lines.begin(), t.lines.end());
    if (t.lines.size() > Tally::kMaxExamples) t.lines.resize(Tally::kMaxExamples);
    msg += "; the " + others + " ones end " + describe_lines(t);
    out.push_back({"mixed_line_endings", msg, t.count, t.lines});
  }
  return out;
}

}  // namespace custlens
