// Streaming CSV reader: bytes in, chunk by chunk, records out.
//
// Two layers. `Tokenizer` is the byte state machine (RFC 4180 plus the line endings and
// whitespace-aligned text real exports use); its state survives any split of the input, so
// every chunking gives the same records. `CsvReader` sits on top: it buffers the first
// 64 KiB to sniff the dialect (delimiter, `sep=` line, header or not, preamble), then
// turns records into rows of a fixed width, counting every line it skips or repairs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "error.h"
#include "io/encoding.h"
#include "io/notices.h"

namespace custlens {

/// How fields are separated.
struct Dialect {
  bool has_delimiter = true;  ///< false: one column per line
  char delimiter = ',';
  bool whitespace = false;  ///< fields separated by runs of blanks, no quoting (CDNOW_master.txt)
  char quote = '"';
  /// A quote inside a quoted field that neither doubles nor closes it is kept as text (and
  /// counted) instead of being an error (bad-input row 17, opt-in).
  bool lenient_quotes = false;
  /// Inside quoted fields a backslash makes the next character text: `\"` a quote, `\\` a
  /// backslash, `\,` a comma (MySQL/PHP exports, row 19, opt-in).
  bool backslash_escape = false;
};

/// One record as the tokenizer produced it. Field i spans data[start(i), ends[i]).
///
/// Two forms. A record with quotes or line breaks inside, or split across chunks, is copied
/// field after field into the tokenizer's buffer (sep = 0) with each field's line, byte and
/// quoting. A plain record (one line, no quote, whole in one chunk: nearly every row of an
/// export) is read in place (sep = 1): data is the line itself, delimiters included, and
/// field i starts one byte after field i-1 ends; the per-field arrays are null, every field
/// being on `line`, unquoted, at byte + start(i).
struct Record {
  const char* data = nullptr;
  const uint32_t* ends = nullptr;
  const uint64_t* field_lines = nullptr;  ///< physical line where each field starts (null: all on `line`)
  const int64_t* field_bytes = nullptr;   ///< file offset of each field's first byte (null: byte + start)
  const uint8_t* field_quoted = nullptr;  ///< null: none quoted
  uint32_t size = 0;
  uint64_t line = 0;  ///< physical line where the record starts (1-based)
  int64_t byte = 0;   ///< file offset of data[0] (in-place records)
  uint32_t sep = 0;   ///< bytes between fields in data: 0 copied, 1 in place
  char sep_char = 0;  ///< the delimiter, for in-place records
  bool ascii = false; ///< known to hold only ASCII and no NUL (nothing to validate)

  uint32_t start(uint32_t i) const { return i ? ends[i - 1] + sep : 0; }
  std::string_view field(uint32_t i) const {
    uint32_t b = start(i);
    return {data + b, ends[i] - b};
  }
  /// Every field's bytes, with the delimiters between them when in place.
  std::string_view bytes() const { return {data, size ? ends[size - 1] : 0}; }
  uint64_t field_line(uint32_t i) const { return field_lines ? field_lines[i] : line; }
  int64_t field_byte(uint32_t i) const { return field_bytes ? field_bytes[i] : byte + int64_t(start(i)); }
  bool quoted(uint32_t i) const { return field_quoted && field_quoted[i]; }
};

enum LineEnding : uint8_t { kLF = 0, kCRLF, kCR, kCRCRLF, kLineEndingKinds };

/// Receives complete records from the tokenizer.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void on_record(const Record& r) = 0;
};

/// How big one record may get. A record past a limit is an error, never truncated; the limits
/// also bound the tokenizer's memory, whatever the bytes (a line of 200 MB of commas stops at
/// the field limit, after about 100 KB).
struct TokenLimits {
  static constexpr size_t kMaxRecordBytes = size_t(64) << 20;
  static constexpr uint32_t kMaxFields = 100000;
  /// Every byte of the record from its first field's first byte on: field bytes, delimiters,
  /// quotes and the line breaks inside quoted fields (`field_too_long`).
  size_t max_record_bytes = kMaxRecordBytes;
  /// Fields in one record (`too_many_fields`). Spreadsheets stop at 16,384 to 18,278 columns.
  uint32_t max_fields = kMaxFields;
};

/// A syntax error found by the tokenizer; it stops at the first one.
struct TokenError {
  std::string code;
  std::string message;
  uint64_t line = 0;
  uint32_t column = 0;
  int64_t byte = -1;
  explicit operator bool() const { return !code.empty(); }
};

/// The byte state machine. Never throws: the first syntax error is kept in error().
class Tokenizer {
 public:
  /// The longest record accepted by default; longer ones are an error, never truncated.
  static constexpr size_t kMaxRecordBytes = TokenLimits::kMaxRecordBytes;
  static constexpr uint32_t kMaxFields = TokenLimits::kMaxFields;

  explicit Tokenizer(const Dialect& d, uint64_t first_line = 1, int64_t first_byte = 0,
                     const TokenLimits& limits = TokenLimits());

  /// Feeds bytes (any split of the input); calls sink.on_record for each record completed.
  /// Stops at the first syntax error, and when a record passes a limit (TokenLimits).
  void feed(const char* p, size_t n, RecordSink& sink);
  /// End of input: flushes the last record, reports an unterminated quote.
  void finish(RecordSink& sink);

  const TokenError& error() const { return error_; }
  uint64_t line_endings(LineEnding k) const { return endings_[k]; }
  /// The first lines (at most Tally::kMaxExamples) that end with a line break of kind k.
  const std::vector<uint64_t>& line_ending_lines(LineEnding k) const { return ending_lines_[k]; }
  /// Records with a quote inside an unquoted field (one count per record, at its first line).
  const Tally& stray_quotes() const { return stray_quotes_; }
  /// Records where lenient quotes kept an unescaped quote as text (one count per record).
  const Tally& unescaped_quotes() const { return unescaped_quotes_; }
  uint64_t line() const { return line_; }

 private:
  enum State : uint8_t { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted, kBackslashInQuoted, kWsSkip, kAfterCR, kAfterCRCR };

  // Reads a plain line from p (delimiter offsets into plain_ends_) up to its first line break
  // or quote, or to end; NUL and non-ASCII bytes clear `ascii`.
  const char* scan_plain(const char* p, const char* end, bool& ascii);
  void start_field(int64_t byte, bool quoted);
  void end_field();
  void end_record(RecordSink& sink);
  void fail(const char* code, std::string message, uint64_t line, uint32_t column, int64_t byte);
  void too_long();
  // Where a span of the current record may run to: `end`, or the byte that takes the record
  // past max_record_bytes (so a chunk without a line break is never copied whole).
  const char* span_limit(const char* p, const char* end, int64_t p_offset) const {
    int64_t room = record_byte_ + int64_t(max_record_) + 1 - p_offset;
    return end - p > room ? p + std::max<int64_t>(room, 0) : end;
  }
  void count_ending(LineEnding k) {
    if (endings_[k]++ < Tally::kMaxExamples) note_ending_line(k);
  }
  void note_ending_line(LineEnding k);  // out of line: the first few lines of each kind only

  Dialect d_;
  State state_ = kFieldStart;
  bool field_open_ = false;
  bool quoted_cr_ = false;  // a CR inside quotes: a following LF is the same line break
  uint64_t line_;
  uint64_t record_line_ = 0;
  int64_t record_byte_ = 0;  // file offset of the current record's first byte
  int64_t base_;  // file offset of the current chunk's first byte
  size_t max_record_;
  uint32_t max_fields_;
  size_t plain_window_;  // longest record read in place: within both limits by construction
  uint8_t special_[256];
  uint8_t quoted_special_[256];
  // The record's field bytes. A plain growable buffer: appends are a bounds check and a
  // memcpy (std::string's append costs a call and branches per field, on every field).
  struct Buffer {
    std::vector<char> bytes = std::vector<char>(4096);
    size_t len = 0;
    size_t cap = size_t(-1);  // it never needs more (the record limit + 1): growth stops there
    void append(const char* p, size_t n) {
      if (len + n > bytes.size()) bytes.resize(std::max(std::min(bytes.size() * 2, cap), len + n));
      std::memcpy(bytes.data() + len, p, n);
      len += n;
    }
    void push(char c) {
      if (len == bytes.size()) bytes.resize(std::max(std::min(bytes.size() * 2, cap), len + 1));
      bytes[len++] = c;
    }
    size_t size() const { return len; }
    const char* data() const { return bytes.data(); }
    void clear() { len = 0; }
  };
  Buffer buf_;
  std::vector<uint32_t> ends_;
  std::vector<uint64_t> field_lines_;
  std::vector<int64_t> field_bytes_;
  std::vector<uint8_t> field_quoted_;
  std::vector<uint32_t> plain_ends_;  // field ends of an in-place record
  bool plain_ok_ = false;             // in-place records possible (a delimiter, not whitespace)
  uint8_t plain_special_[256];        // special_ plus NUL and bytes >= 0x80 (noted, not stops)
  uint64_t endings_[kLineEndingKinds] = {};
  std::vector<uint64_t> ending_lines_[kLineEndingKinds];
  Tally stray_quotes_;
  uint64_t stray_record_ = 0;  // the last record counted in stray_quotes_
  Tally unescaped_quotes_;
  uint64_t unescaped_record_ = 0;  // the last record counted in unescaped_quotes_
  TokenError error_;
};

/// Options for reading one file. Defaults sniff everything.
struct CsvOptions {
  int delimiter = -1;  ///< -1 sniff; otherwise the byte; ' ' means whitespace-aligned
  int header = -1;     ///< -1 detect, 0 no header row, 1 header row
  std::string encoding = "auto";  ///< "auto" (detect) or a name parse_encoding_option() knows
  bool replace_invalid = false;   ///< bytes invalid in the encoding become U+FFFD (counted), not an error
  bool lenient_quotes = false;    ///< Dialect::lenient_quotes
  bool backslash_escape = false;  ///< Dialect::backslash_escape
  uint64_t header_line = 0;       ///< the header's physical line (1-based); 0: detect. Lines above it are skipped
  uint64_t size_hint = 0;  ///< the file's size in bytes when known (0: unknown), to size tables once
  TokenLimits limits;      ///< record limits (the defaults; tests make them small)
};

/// Receives the header once, then rows of exactly columns.size() fields (the latest list:
/// on_column_added may add the overflow column after the header).
class RowSink {
 public:
  virtual ~RowSink() = default;
  /// About how many rows the file holds (from size_hint and the sniffed sample), before the
  /// header; 0 when unknown. Lets the sink size its tables once instead of growing them.
  virtual void on_size_estimate(uint64_t /*rows*/) {}
  virtual void on_header(const std::vector<std::string>& columns, bool has_header) = 0;
  /// A column added after the header: the reader's `overflow` column (the extra fields of rows
  /// longer than the header), when the first such row comes after the first 64 KiB, which the
  /// reader looks at before it delivers the header (an overflow row there puts the column in
  /// on_header's list). `columns` is the whole new list; the rows that follow have
  /// columns.size() fields, the earlier ones had none there. A sink that ignores this reads
  /// its own columns as before.
  virtual void on_column_added(const std::vector<std::string>& /*columns*/) {}
  /// `row_hash` identifies the record's exact content (duplicate-line detection).
  virtual void on_row(uint64_t line, const std::string_view* fields, uint64_t row_hash) = 0;
};

/// What the reader saw and did, for the data-quality report.
struct CsvStats {
  uint64_t records_read = 0;  ///< every record after the header (blank, preamble and summary included)
  uint64_t rows = 0;          ///< rows handed to the sink
  Tally blank_lines;
  Tally preamble_lines;       ///< lines before the header (titles, `sep=`)
  Tally summary_lines;        ///< totals/footer lines (合计, Total:)
  Tally padded_rows;          ///< fewer fields than the header: padded with empty values
  Tally overflow_rows;        ///< more fields than the header: extras kept in the overflow column
  std::string overflow_column;  ///< the overflow column's name ("overflow" unless taken); empty: none
  Tally trailing_delimiter_rows;  ///< one or more empty fields past the header's last column (`1,2,3,`): dropped
  Tally nul_bytes;
  Tally stray_quotes;         ///< records with quotes inside unquoted fields (one each)
  Tally unescaped_quotes;     ///< records with quotes kept as text by lenient quotes
  bool fullwidth_comma = false;  ///< the delimiter is "，" (U+FF0C), used on every line
  Tally fullwidth_lines;      ///< the lines "，" split (fullwidth_comma)
  uint64_t line_endings[kLineEndingKinds] = {};
  std::vector<uint64_t> line_ending_lines[kLineEndingKinds];  ///< the first lines of each kind
  /// Unnamed columns at the end of the header (a trailing delimiter) kept because rows have
  /// values under them: their generated names, and the rows with a value there.
  std::vector<std::string> unnamed_columns;
  Tally unnamed_column_values;
  std::string encoding;       ///< "UTF-8", "UTF-8 (BOM)", "GB18030 (detected)", "UTF-16LE (BOM)", "windows-1252 (chosen)"
  std::string encoding_source;  ///< how it was decided: "valid UTF-8", "BOM", "detected: …", "option"
  Tally replaced_bytes;       ///< invalid sequences replaced by U+FFFD (replace_invalid)
  std::vector<std::string> preview;  ///< the first lines as decoded (at most 5, 200 bytes each)
  std::string delimiter_name; ///< ",", ";", "tab", "|", "whitespace", "none"
  std::string delimiter_source;  ///< "detected", "sep= line", "option"
  bool has_header = false;
  std::string header_source;  ///< "detected" or "option"
  std::vector<std::string> columns;
  std::vector<Notice> header_notices;  ///< renamed or dropped columns
};

class CsvReader {
 public:
  /// Bytes buffered before the dialect is sniffed.
  static constexpr size_t kSniffBytes = 64 * 1024;

  CsvReader(const CsvOptions& opt, RowSink& sink);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  /// Feeds the next chunk (any size, any split point). Throws InputError.
  void feed(const char* p, size_t n);
  /// End of file. Throws InputError (empty file, unterminated quote, ragged file).
  void finish();

  const CsvStats& stats() const { return stats_; }
  /// Warnings as shown to the user, built from the stats.
  std::vector<Notice> notices() const;

 private:
  class Rows;
  class FullwidthLines;
  void start(bool at_eof);
  void check_token_error();
  void check_decoder();
  void feed_decoded(const char* p, size_t n, bool last);
  void to_tokenizer(const char* p, size_t n);
  void sync_stats();

  CsvOptions opt_;
  RowSink& sink_;
  CsvStats stats_;
  std::string sample_;
  bool started_ = false;
  std::vector<uint32_t> sniffed_counts_;  // field counts of the first records, for messages
  Tokenizer* tok_ = nullptr;
  Rows* rows_ = nullptr;
  RecordSink* records_ = nullptr;  // what the tokenizer feeds: rows_, or FullwidthLines in front of it
  std::unique_ptr<FullwidthLines> fw_lines_;
  std::unique_ptr<Decoder> dec_;  // files that are not UTF-8, or replace_invalid: bytes -> UTF-8 first
  std::string decoded_;
  std::string not_utf8_hint_;     // what to tell the user when a byte is not UTF-8
  // Hand-made Chinese files may separate fields with the fullwidth comma "，" (U+FF0C) on
  // every line (bad-input row 28): it is mapped to one byte the tokenizer splits on.
  bool fullwidth_ = false;
  std::string fw_text_, fw_pending_;
};

/// True when a cell reads as a number or a date (used to tell a header row from data).
bool looks_like_data(std::string_view cell);

}  // namespace custlens
