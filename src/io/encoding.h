// Text encodings of CSV files: detection, and streaming decoders to UTF-8.
//
// The CSV reader decodes first and splits after: a GB18030 character may hold the bytes of
// `|` (0x7C) or `\` (0x5C) as its second byte, so splitting raw bytes would cut 252
// characters in two (bad-input row 6). Every decoder follows the WHATWG Encoding Standard
// (https://encoding.spec.whatwg.org/), the decoders browsers use, so the page and the
// engine agree on every byte; the GB18030 tables come from scripts/gen-gb18030.mjs.
//
//   Detection d = detect_encoding(first_64k, at_eof);  // BOM, UTF-8, or GB18030 by evidence
//   if (!d.ok) throw InputError("invalid_encoding", d.reason, d.line, 0, d.byte);
//   Decoder dec(d.encoding, /*replace=*/false);       // fed from byte 0: it drops the BOM
//   for each chunk: dec.decode(chunk.data(), chunk.size(), utf8); stop if dec.failed()
//   dec.finish(utf8);  // then failed(), error_byte(), error_line(), replaced() …
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace custlens {

enum class Encoding : uint8_t { utf8, utf8_bom, utf16le, utf16be, gb18030, windows1252, latin1 };

/// Display name: "UTF-8", "UTF-8 (BOM)", "UTF-16LE", "UTF-16BE", "GB18030", "windows-1252",
/// "ISO-8859-1".
const char* encoding_name(Encoding e);

/// Reads a user's encoding option (case-insensitive): "utf-8", "utf8", "utf-16le",
/// "utf-16be", "utf-16" (= LE, what Windows writes), "gb18030", "gbk", "gb2312", "cp936"
/// (GBK and GB2312 are subsets: decoded as GB18030), "windows-1252", "cp1252", "latin1",
/// "iso-8859-1". False for anything else (e.g. "auto", which the caller handles).
bool parse_encoding_option(std::string_view option, Encoding& out);

/// What detect_encoding() found.
struct Detection {
  bool ok = false;
  Encoding encoding = Encoding::utf8;
  size_t bom_bytes = 0;  ///< BOM length at the start (informational: the Decoder drops it itself)
  /// How it was decided: "empty", "BOM", "valid UTF-8", "detected: not UTF-8, reads as
  /// Chinese text in GB18030" or "detected: not UTF-8, GB18030 four-byte sequences".
  std::string how;
  /// When !ok: a message for the user, and where the first non-UTF-8 byte is.
  std::string reason;
  uint64_t line = 0;  ///< 1-based physical line (CRLF, LF and lone CR each end a line)
  int64_t byte = -1;  ///< 0-based offset in the sample (= in the file)
  /// The GB18030 evidence (counts) behind the decision, for logs and tests; empty when
  /// GB18030 was not tried.
  std::string gb18030_evidence;
};

/// Finds the encoding of a file from its first bytes, in this order: a BOM (UTF-8, UTF-16LE,
/// UTF-16BE, GB18030); strict UTF-8 over the whole sample; strict GB18030 over the whole
/// sample *and* evidence that it is GB18030 (the text reads as common Chinese, or it holds
/// four-byte sequences, which no other encoding produces). Otherwise !ok: Latin-1 and
/// windows-1252 are never guessed (only chosen by the user), and Shift_JIS, Big5 or binary
/// junk end here. A multi-byte sequence cut by the end of the sample is fine unless at_eof.
Detection detect_encoding(std::string_view sample, bool at_eof);

/// Streaming decoder to UTF-8. Any split of the input gives the same output as one call
/// with all of it. A BOM of the decoder's own encoding at byte 0 (EF BB BF for UTF-8,
/// FF FE / FE FF for UTF-16, 84 31 95 33 for GB18030) is dropped, so feed the file from its
/// first byte: error offsets are then file offsets.
///
/// Invalid input, strict (replace = false): decoding stops before the first bad sequence
/// (everything before it has been written), failed() turns true and error_byte() /
/// error_line() say where it starts. With replace = true every bad sequence becomes one
/// U+FFFD (the Standard's rules: for UTF-8 one per maximal subpart) and is counted, with the
/// first lines it was on. A sequence cut by the end of the input is bad (finish()).
class Decoder {
 public:
  static constexpr size_t kMaxReplacedLines = 10;

  Decoder(Encoding e, bool replace);

  /// Decodes p[0, n), appending UTF-8 to out. Nothing happens once failed().
  void decode(const char* p, size_t n, std::string& out);
  /// Ends the input: a sequence left incomplete is invalid.
  void finish(std::string& out);

  Encoding encoding() const { return enc_; }
  bool failed() const { return failed_; }
  /// File offset of the first byte of the bad sequence (-1: none).
  int64_t error_byte() const { return error_byte_; }
  /// Physical line of that byte, 1-based, counted in the input (0: none).
  uint64_t error_line() const { return error_line_; }
  /// Bad sequences replaced by U+FFFD (replace mode).
  uint64_t replaced() const { return replaced_; }
  /// The distinct lines of the first kMaxReplacedLines replacements, ascending.
  const std::vector<uint64_t>& replaced_lines() const { return replaced_lines_; }
  /// Bytes consumed so far (those of an incomplete sequence at the end excepted).
  uint64_t bytes_decoded() const { return consumed_; }

 private:
  size_t run(const uint8_t* s, size_t n, std::string& out, bool final);
  size_t run_utf8(const uint8_t* s, size_t n, std::string& out, bool final);
  size_t run_utf16(const uint8_t* s, size_t n, std::string& out, bool final);
  size_t run_gb18030(const uint8_t* s, size_t n, std::string& out, bool final);
  size_t run_single_byte(const uint8_t* s, size_t n, std::string& out);
  /// A bad sequence at offset `at` of the current span; out[0, out_end) is the text before
  /// it. False when decoding must stop (strict mode); else the caller writes U+FFFD.
  bool bad(size_t at, const std::string& out, size_t out_end);
  /// 1-based line at out[out_end], counting the output not counted yet.
  uint64_t line_at(const std::string& out, size_t out_end);

  Encoding enc_;
  bool replace_;
  bool failed_ = false;
  uint8_t pending_[4] = {};  // an incomplete sequence carried to the next decode()
  size_t pending_len_ = 0;
  uint64_t consumed_ = 0;    // file offset of the current span's first byte
  // Line counting runs over the UTF-8 written: CR and LF come out as themselves in every
  // encoding, and no multi-byte character holds their bytes.
  size_t counted_to_ = 0;    // out[0, counted_to_) of this decode() call is counted
  uint64_t breaks_ = 0;
  bool prev_cr_ = false;
  int64_t error_byte_ = -1;
  uint64_t error_line_ = 0;
  uint64_t replaced_ = 0;
  std::vector<uint64_t> replaced_lines_;
};

}  // namespace custlens
