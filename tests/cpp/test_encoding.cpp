// Tests for src/io/encoding: detection and the streaming decoders (bad-input rows 2–10 of
// shared/spec/bad-input.md; corpus files in shared/corpus/weird/).
//
// Test files of our own are in tests/data/encoding/, written by scripts/gen-gb18030.mjs
// (`node scripts/gen-gb18030.mjs` rewrites them byte for byte): a GBK shop export and a
// `|`-delimited file of the 126 + 126 characters with trail byte 0x7C / 0x5C, each with its
// UTF-8 text as decoded by Node's TextDecoder. Everything else is built in memory here.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "io/encoding.h"

using namespace custlens;

#include "support.h"

namespace {

using custlens::test::slurp;
std::string weird(const std::string& name) { return slurp(std::string(CUSTLENS_SHARED_DIR) + "/corpus/weird/" + name); }
std::string own(const std::string& name) { return slurp(std::string(CUSTLENS_SOURCE_DIR) + "/tests/data/encoding/" + name); }

const std::string kFFFD = "\xEF\xBF\xBD";

struct Decoded {
  std::string text;
  bool failed = false;
  int64_t byte = -1;
  uint64_t line = 0;
  uint64_t replaced = 0;
  std::vector<uint64_t> lines;
  bool operator==(const Decoded& o) const {
    return text == o.text && failed == o.failed && byte == o.byte && line == o.line && replaced == o.replaced &&
           lines == o.lines;
  }
};

std::ostream& operator<<(std::ostream& os, const Decoded& d) {
  os << "{text " << d.text.size() << " bytes, failed " << d.failed << ", byte " << d.byte << ", line " << d.line
     << ", replaced " << d.replaced << "}";
  return os;
}

Decoded finish(Decoder& dec, std::string& out) {
  dec.finish(out);
  Decoded d;
  d.text = out;
  d.failed = dec.failed();
  d.byte = dec.error_byte();
  d.line = dec.error_line();
  d.replaced = dec.replaced();
  d.lines = dec.replaced_lines();
  return d;
}

// Decodes the input cut at the given offsets (ascending).
Decoded decode_cuts(Encoding e, const std::string& in, bool replace, std::vector<size_t> cuts) {
  Decoder dec(e, replace);
  std::string out;
  size_t from = 0;
  cuts.push_back(in.size());
  for (size_t c : cuts) {
    dec.decode(in.data() + from, c - from, out);
    from = c;
  }
  return finish(dec, out);
}

Decoded decode_all(Encoding e, const std::string& in, bool replace = false) { return decode_cuts(e, in, replace, {}); }

Decoded decode_chunked(Encoding e, const std::string& in, bool replace, size_t chunk) {
  Decoder dec(e, replace);
  std::string out;
  for (size_t i = 0; i < in.size(); i += chunk) {
    // The caller may empty its buffer between calls: keep only what came out.
    std::string piece;
    dec.decode(in.data() + i, std::min(chunk, in.size() - i), piece);
    out += piece;
  }
  return finish(dec, out);
}

// The rule of rows 7 and 36: every split point (and every pair of them on tiny inputs) and
// the usual chunk sizes give what one call gives.
void check_every_split(Encoding e, const std::string& in, bool replace) {
  INFO("encoding " << encoding_name(e) << ", replace " << replace << ", " << in.size() << " bytes");
  Decoded whole = decode_all(e, in, replace);
  for (size_t k = 0; k <= in.size(); ++k) {
    INFO("split at " << k);
    REQUIRE(decode_cuts(e, in, replace, {k}) == whole);
  }
  if (in.size() <= 48)
    for (size_t a = 0; a <= in.size(); ++a)
      for (size_t b = a; b <= in.size(); ++b) {
        INFO("splits at " << a << " and " << b);
        REQUIRE(decode_cuts(e, in, replace, {a, b}) == whole);
      }
  for (size_t chunk : {1, 2, 3, 7, 42, 4096}) {
    INFO("chunk " << chunk);
    REQUIRE(decode_chunked(e, in, replace, chunk) == whole);
  }
}

size_t count_code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xF0 | (cp >> 18));
    s += char(0x80 | ((cp >> 12) & 0x3F));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

// GBK encoder for building test input: every two-byte sequence decoded once, the first
// sequence of a character wins (as in the Standard's encoder).
const std::map<std::string, std::string>& gbk_encoder() {
  static const std::map<std::string, std::string> table = [] {
    std::string all;
    for (int lead = 0x81; lead <= 0xFE; ++lead)
      for (int trail = 0x40; trail <= 0xFE; ++trail)
        if (trail != 0x7F) {
          all += char(lead);
          all += char(trail);
        }
    Decoded d = decode_all(Encoding::gb18030, all);
    REQUIRE(!d.failed);
    std::map<std::string, std::string> m;
    size_t at = 0;
    for (size_t i = 0; i < all.size(); i += 2) {
      size_t len = 1;
      while (at + len < d.text.size() && (uint8_t(d.text[at + len]) & 0xC0) == 0x80) ++len;
      m.emplace(d.text.substr(at, len), all.substr(i, 2));
      at += len;
    }
    REQUIRE(at == d.text.size());
    return m;
  }();
  return table;
}

std::string to_gbk(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    size_t len = 1;
    while (i + len < text.size() && (uint8_t(text[i + len]) & 0xC0) == 0x80) ++len;
    std::string ch = text.substr(i, len);
    if (len == 1) {
      out += ch;
    } else {
      auto it = gbk_encoder().find(ch);
      REQUIRE(it != gbk_encoder().end());
      out += it->second;
    }
    i += len;
  }
  return out;
}

}  // namespace

TEST_CASE("encoding names and the encoding option", "[encoding]") {
  CHECK(std::string(encoding_name(Encoding::utf8)) == "UTF-8");
  CHECK(std::string(encoding_name(Encoding::utf8_bom)) == "UTF-8 (BOM)");
  CHECK(std::string(encoding_name(Encoding::utf16le)) == "UTF-16LE");
  CHECK(std::string(encoding_name(Encoding::utf16be)) == "UTF-16BE");
  CHECK(std::string(encoding_name(Encoding::gb18030)) == "GB18030");
  CHECK(std::string(encoding_name(Encoding::windows1252)) == "windows-1252");
  CHECK(std::string(encoding_name(Encoding::latin1)) == "ISO-8859-1");
  const std::pair<const char*, Encoding> labels[] = {
      {"utf-8", Encoding::utf8},         {"UTF8", Encoding::utf8},           {"gb18030", Encoding::gb18030},
      {"GBK", Encoding::gb18030},        {"gb2312", Encoding::gb18030},      {"utf-16le", Encoding::utf16le},
      {"UTF-16BE", Encoding::utf16be},   {"utf-16", Encoding::utf16le},      {"Windows-1252", Encoding::windows1252},
      {"cp1252", Encoding::windows1252}, {"latin1", Encoding::latin1},       {"ISO-8859-1", Encoding::latin1}};
  for (auto& [label, want] : labels) {
    Encoding got = Encoding::utf8_bom;
    INFO(label);
    CHECK(parse_encoding_option(label, got));
    CHECK(got == want);
  }
  Encoding e;
  CHECK_FALSE(parse_encoding_option("auto", e));
  CHECK_FALSE(parse_encoding_option("shift_jis", e));
  CHECK_FALSE(parse_encoding_option("", e));
}

TEST_CASE("row 2: a UTF-8 BOM is detected and dropped", "[encoding]") {
  std::string f = weird("utf8bom.csv");
  Detection d = detect_encoding(f, true);
  CHECK(d.ok);
  CHECK(d.encoding == Encoding::utf8_bom);
  CHECK(d.bom_bytes == 3);
  CHECK(d.how == "BOM");
  CHECK(decode_all(d.encoding, f).text == "id,name\r\n1,Mark\r\n2,Hannes\r\n");
  CHECK(decode_all(Encoding::utf8, f).text == "id,name\r\n1,Mark\r\n2,Hannes\r\n");
  check_every_split(Encoding::utf8_bom, f, false);
  // Only at byte 0: later, U+FEFF is text.
  CHECK(decode_all(Encoding::utf8, "a\xEF\xBB\xBF").text == "a\xEF\xBB\xBF");
}

TEST_CASE("row 3: one bad UTF-8 sequence is an error at its line and byte, or one U+FFFD", "[encoding]") {
  std::string f = weird("invalid_utf.csv");  // 042|42|\xE2\x82(
  Detection d = detect_encoding(f, true);
  CHECK_FALSE(d.ok);
  CHECK(d.line == 1);
  CHECK(d.byte == 7);
  CHECK(d.reason.find("Line 1 is not valid UTF-8 (byte 7)") == 0);
  CHECK(d.reason.find("GB18030") != std::string::npos);

  Decoded strict = decode_all(Encoding::utf8, f);
  CHECK(strict.failed);
  CHECK(strict.byte == 7);
  CHECK(strict.line == 1);
  CHECK(strict.text == "042|42|");  // everything before the bad sequence

  Decoded replaced = decode_all(Encoding::utf8, f, true);
  CHECK_FALSE(replaced.failed);
  CHECK(replaced.text == "042|42|" + kFFFD + "(\n");  // E2 82 is one maximal subpart
  CHECK(replaced.replaced == 1);
  CHECK(replaced.lines == std::vector<uint64_t>{1});
  check_every_split(Encoding::utf8, f, false);
  check_every_split(Encoding::utf8, f, true);
}

TEST_CASE("row 4: bad bytes inside a quoted field spanning lines are reported at their own line", "[encoding]") {
  // Line 11 opens a quoted field that runs to line 13; \xFF\xFF is on line 12. The decoder
  // knows physical lines; the record's start line (11) is the CSV reader's to add.
  std::string f = weird("invalid_utf_quoted_nl.csv");
  Decoded strict = decode_all(Encoding::utf8, f);
  CHECK(strict.failed);
  CHECK(strict.byte == 216);
  CHECK(strict.line == 12);
  Decoded replaced = decode_all(Encoding::utf8, f, true);
  CHECK(replaced.replaced == 2);
  CHECK(replaced.lines == std::vector<uint64_t>{12});
  for (size_t chunk : {1, 2, 3, 7, 42, 198, 4096}) {
    CHECK(decode_chunked(Encoding::utf8, f, false, chunk) == strict);
    CHECK(decode_chunked(Encoding::utf8, f, true, chunk) == replaced);
  }
  Detection d = detect_encoding(f, true);
  CHECK_FALSE(d.ok);
  CHECK(d.line == 12);
  CHECK(d.byte == 216);
}

TEST_CASE("row 5: test_gb18030.csv (the whole code page) is detected as GB18030 and decodes", "[encoding]") {
  std::string f = weird("test_gb18030.csv");
  for (size_t sample : {size_t(4096), size_t(64 * 1024), f.size()}) {
    INFO("sample " << sample);
    Detection d = detect_encoding(std::string_view(f).substr(0, sample), sample == f.size());
    CHECK(d.ok);
    CHECK(d.encoding == Encoding::gb18030);
    CHECK(d.how == "detected: not UTF-8, GB18030 four-byte sequences");
  }
  Decoded strict = decode_all(Encoding::gb18030, f);
  CHECK_FALSE(strict.failed);
  CHECK(count_code_points(strict.text) == 61724);
  CHECK(count_of(strict.text, kFFFD) == 0);
  Decoded replaced = decode_all(Encoding::gb18030, f, true);
  CHECK(replaced.replaced == 0);
  CHECK(replaced.text == strict.text);
  // Its 6,794 four-byte sequences (all in the BMP) decode: the first is 0x81308130 = U+0080.
  CHECK(strict.text.find("\x7F\n" + utf8(0x80) + "\n") != std::string::npos);
  for (size_t chunk : {1, 2, 3, 7, 42, 4096, 65537})
    CHECK(decode_chunked(Encoding::gb18030, f, false, chunk) == strict);
}

TEST_CASE("row 5: a GBK shop export with Chinese headers is detected and decodes exactly", "[encoding]") {
  std::string f = own("gbk_shop_export.csv");
  std::string want = own("gbk_shop_export.utf8.csv");
  Detection d = detect_encoding(f, true);
  INFO(d.gb18030_evidence);
  CHECK(d.ok);
  CHECK(d.encoding == Encoding::gb18030);
  CHECK(d.how == "detected: not UTF-8, reads as Chinese text in GB18030");
  CHECK(d.bom_bytes == 0);
  Decoded got = decode_all(Encoding::gb18030, f);
  CHECK_FALSE(got.failed);
  CHECK(got.text == want);
  check_every_split(Encoding::gb18030, f, false);
  // The test's own encoder agrees with the generator's.
  CHECK(to_gbk(want) == f);
  // The same text in UTF-8 is UTF-8; only the header line in GBK is enough evidence.
  CHECK(detect_encoding(want, true).how == "valid UTF-8");
  Detection header = detect_encoding(to_gbk("订单编号,下单时间,客户姓名\r\n"), true);
  CHECK(header.ok);
  CHECK(header.encoding == Encoding::gb18030);
  // A sample cut inside a character is fine unless it is the whole file.
  size_t cut = f.find("\r\n") + 2;  // just after the lead byte of the first name on line 2
  while (uint8_t(f[cut]) < 0x81) ++cut;
  ++cut;
  CHECK(detect_encoding(std::string_view(f).substr(0, cut), false).encoding == Encoding::gb18030);
  CHECK_FALSE(detect_encoding(std::string_view(f).substr(0, cut), true).ok);
}

TEST_CASE("row 5/10: Shift_JIS and broken UTF-8 do not pass for GB18030", "[encoding]") {
  for (const char* name : {"shift_jis.csv", "invalid_utf.csv"}) {
    std::string f = weird(name);
    Detection d = detect_encoding(f, true);
    INFO(name << ": " << d.gb18030_evidence);
    CHECK_FALSE(d.ok);
    CHECK(d.line == 1);
    CHECK(d.reason.find("Line 1 is not valid UTF-8") == 0);
    CHECK(d.reason.find("does not read as Chinese text in GB18030") != std::string::npos);
  }
  // Shift_JIS is strictly valid GB18030 (which is why plausibility is needed) ...
  CHECK_FALSE(decode_all(Encoding::gb18030, weird("shift_jis.csv")).failed);
  // ... and so is UTF-8 Latin text with one stray byte that makes GB2312 hanzi out of é, ü,
  // ö: each such "hanzi" stands alone between Latin letters.
  Detection latin = detect_encoding("name\nM\xC3\xBCller\nJ\xC3\xB6rg\nRen\xC3\xA9\nx\xB0\xA1y\n", true);
  INFO(latin.gb18030_evidence);
  CHECK_FALSE(latin.ok);
  CHECK(latin.line == 5);
  // Binary junk.
  std::string junk;
  uint32_t x = 12345;
  for (int i = 0; i < 4096; ++i) junk += char((x = x * 1103515245u + 12345u) >> 24);
  CHECK_FALSE(detect_encoding(junk, true).ok);
}

TEST_CASE("row 6: the 126 + 126 GB18030 characters with trail byte | or \\ round-trip", "[encoding]") {
  for (char trail : {'|', '\\'}) {
    std::set<std::string> seen;
    for (int lead = 0x81; lead <= 0xFE; ++lead) {
      std::string bytes{char(lead), trail};
      Decoded d = decode_all(Encoding::gb18030, bytes);
      INFO("lead " << lead << " trail " << trail);
      REQUIRE_FALSE(d.failed);
      CHECK(count_code_points(d.text) == 1);
      CHECK(d.text.find(trail) == std::string::npos);
      CHECK(d.text != kFFFD);
      CHECK(to_gbk(d.text) == bytes);
      seen.insert(d.text);
    }
    CHECK(seen.size() == 126);
  }
  // The generated `|` file: decode first, split after, and every row has 3 fields.
  std::string f = own("gb18030_pipe.csv");
  Decoded d = decode_all(Encoding::gb18030, f);
  CHECK(d.text == own("gb18030_pipe.utf8.csv"));
  std::istringstream lines(d.text);
  std::string line;
  size_t rows = 0;
  while (std::getline(lines, line)) {
    CHECK(std::count(line.begin(), line.end(), '|') == 2);
    ++rows;
  }
  CHECK(rows == 1 + 126 + 126);
  check_every_split(Encoding::gb18030, f.substr(0, 300), false);
}

TEST_CASE("row 7: characters across chunk boundaries decode as in one piece", "[encoding]") {
  // Two-byte and four-byte GB18030 (U+0080, U+E7C7 at pointer 7457, U+FFFF, U+10000,
  // U+10FFFF), 0x80 = €, a BOM, CR LF, and bad sequences the Standard gives back bytes for.
  std::string gb = to_gbk("订单,张伟\r\n") + "\x81\x30\x81\x30|\x81\x35\xF4\x37|\x84\x31\xA4\x39|" +
                   "\x90\x30\x81\x30|\xE3\x32\x9A\x35\r\x80\n";
  Decoded d = decode_all(Encoding::gb18030, gb);
  CHECK_FALSE(d.failed);
  CHECK(d.text == "订单,张伟\r\n" + utf8(0x80) + "|" + utf8(0xE7C7) + "|" + utf8(0xFFFF) + "|" + utf8(0x10000) + "|" +
                      utf8(0x10FFFF) + "\r€\n");
  check_every_split(Encoding::gb18030, gb, false);
  check_every_split(Encoding::gb18030, "\x84\x31\x95\x33" + gb, false);  // with the GB18030 BOM
  CHECK(decode_all(Encoding::gb18030, "\x84\x31\x95\x33" "a").text == "a");
  std::string gb_bad = gb + "\x81\x30\x41|\x81\x30\x81\x41|\x81\x7F|\x81\xFF|\xFF|\x84\x31\xA5\x30|\x81\x30\x81";
  check_every_split(Encoding::gb18030, gb_bad, true);
  check_every_split(Encoding::gb18030, gb_bad, false);

  std::string u8 = "\xEF\xBB\xBF" "a,\xC3\xA9\n\xE4\xB8\xAD\xE6\x96\x87,\xF0\x9F\x98\x80\r\nx";
  CHECK(decode_all(Encoding::utf8, u8).text == "a,é\n中文,😀\r\nx");
  check_every_split(Encoding::utf8, u8, false);
  std::string u8_bad = u8 + "\xF0\x80\x80|\xED\xA0\x80|\xC0\xAF|\xF4\x90|\xE2\x82" "(|\xF0\x9F\x98";
  check_every_split(Encoding::utf8, u8_bad, true);
  check_every_split(Encoding::utf8, u8_bad, false);

  // UTF-16 with a BOM, a surrogate pair (U+1F600), CR LF; then lone surrogates and an odd
  // byte at the end.
  std::string le("\xFF\xFE" "a\0,\0\xE9\0\x2D\x4E\x3D\xD8\x00\xDE\r\0\n\0", 18);
  CHECK(decode_all(Encoding::utf16le, le).text == "a,é中😀\r\n");
  check_every_split(Encoding::utf16le, le, false);
  std::string be("\xFE\xFF\0a\0,\0\xE9\x4E\x2D\xD8\x3D\xDE\x00\0\r\0\n", 18);
  CHECK(decode_all(Encoding::utf16be, be).text == "a,é中😀\r\n");
  check_every_split(Encoding::utf16be, be, false);
  std::string le_bad = le + std::string("\x00\xDEx\0\x3D\xD8y\0\x3D\xD8", 10);
  CHECK(decode_all(Encoding::utf16le, le_bad, true).text == "a,é中😀\r\n" + kFFFD + "x" + kFFFD + "y" + kFFFD);
  check_every_split(Encoding::utf16le, le_bad, true);
  check_every_split(Encoding::utf16le, le_bad, false);
  check_every_split(Encoding::utf16le, le + "z", true);  // an odd byte at the end

  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes += char(b);
  check_every_split(Encoding::windows1252, all_bytes, false);
  check_every_split(Encoding::latin1, all_bytes, false);
}

TEST_CASE("row 7: large inputs, sequences across the decoder's 64 KiB blocks", "[encoding]") {
  // Odd-length lines put every kind of sequence at every offset of the internal blocks.
  std::string gb, u16, u8;
  std::string line = to_gbk("张伟,") + "\x81\x30\x81\x30" + to_gbk("北京市朝阳区") + "\x90\x30\x81\x30,12\r\n";
  std::string line8 = "张伟,\xC2\x80北京市朝阳区\xF0\x90\x80\x80,12\r\n";
  while (gb.size() < 300000) {
    gb += line;
    u8 += line8;
    gb += 'x';  // shifts the next line by one byte
    u8 += 'x';
  }
  for (unsigned char c : u8) {  // UTF-16LE of a Latin-1 reading: every unit is one byte + 0
    u16 += char(c);
    u16 += '\0';
  }
  Decoded g = decode_all(Encoding::gb18030, gb);
  CHECK(g.text == u8);
  Decoded v = decode_all(Encoding::utf8, u8);
  CHECK(v.text == u8);
  Decoded w = decode_all(Encoding::utf16le, u16);
  CHECK_FALSE(w.failed);
  for (size_t chunk : {1, 3, 7, 4096, 65535, 65537, 100000}) {
    INFO("chunk " << chunk);
    CHECK(decode_chunked(Encoding::gb18030, gb, false, chunk) == g);
    CHECK(decode_chunked(Encoding::utf8, u8, false, chunk) == v);
    CHECK(decode_chunked(Encoding::utf16le, u16, false, chunk) == w);
  }
  // The error position is the same at every chunk size, deep into the file.
  std::string gb_bad = gb;
  size_t at = gb.find("\r\n", 200000) + 3;  // the lead byte of 张 after "\r\nx"
  REQUIRE(gb.compare(at, 2, to_gbk("张")) == 0);
  gb_bad[at] = '\xFF';
  Decoded e = decode_all(Encoding::gb18030, gb_bad);
  CHECK(e.failed);
  CHECK(e.byte == int64_t(at));
  CHECK(e.line == 1 + uint64_t(std::count(gb_bad.begin(), gb_bad.begin() + at, '\n')));
  for (size_t chunk : {1, 7, 4096, 65537}) CHECK(decode_chunked(Encoding::gb18030, gb_bad, false, chunk) == e);
}

TEST_CASE("row 8: utf16.csv (UTF-16LE with BOM) is detected and decodes", "[encoding]") {
  std::string f = weird("utf16.csv");
  Detection d = detect_encoding(f, true);
  CHECK(d.ok);
  CHECK(d.encoding == Encoding::utf16le);
  CHECK(d.bom_bytes == 2);
  CHECK(d.how == "BOM");
  Decoded got = decode_all(d.encoding, f);
  CHECK_FALSE(got.failed);
  CHECK(got.text.rfind("name,age\r\nJosé Álvarez,30\r\nMüller,25\r\n", 0) == 0);
  CHECK(std::count(got.text.begin(), got.text.end(), '\n') == 21);  // header + 20 rows
  check_every_split(Encoding::utf16le, f, false);
}

TEST_CASE("row 9: latin1.csv is not UTF-8 (line 2) and decodes as windows-1252", "[encoding]") {
  std::string f = weird("latin1.csv");
  Detection d = detect_encoding(f, true);
  INFO(d.gb18030_evidence);
  CHECK_FALSE(d.ok);
  CHECK(d.line == 2);
  CHECK(d.reason.find("Line 2 is not valid UTF-8") == 0);
  Decoded got = decode_all(Encoding::windows1252, f);
  CHECK_FALSE(got.failed);
  CHECK(got.text.rfind("name,age\r\nJosé Álvarez,30\r\nMüller,25\r\nFrançois Dupont,45\r\n", 0) == 0);
  CHECK(std::count(got.text.begin(), got.text.end(), '\n') == 13);  // header + 12 rows
  CHECK(count_of(got.text, kFFFD) == 0);
  CHECK(decode_all(Encoding::latin1, f).text == got.text);  // no byte 0x80–0x9F in it
  check_every_split(Encoding::windows1252, f, false);
  // 0x80 is the euro sign in windows-1252, U+0080 in ISO-8859-1.
  CHECK(decode_all(Encoding::windows1252, "\x80" "5,\x93x\x94,\x81").text == "€5,“x”," + utf8(0x81));
  CHECK(decode_all(Encoding::latin1, "\x80\xFF").text == utf8(0x80) + utf8(0xFF));
}

TEST_CASE("replace mode: one U+FFFD per bad sequence, counted with the lines", "[encoding]") {
  // Lines end in CRLF, lone CR and LF; bad bytes on lines 2 (twice), 4 and 5.
  std::string in = "ok\r\nb\xFF" "ad\xC3 twice\rok\nbad \xE2\x82\n\xF5\r\n";
  Decoded d = decode_all(Encoding::utf8, in, true);
  CHECK(d.replaced == 4);
  CHECK(d.lines == std::vector<uint64_t>{2, 4, 5});
  CHECK(d.text == "ok\r\nb" + kFFFD + "ad" + kFFFD + " twice\rok\nbad " + kFFFD + "\n" + kFFFD + "\r\n");
  check_every_split(Encoding::utf8, in, true);
  // More lines than kept: the count goes on, the examples stop.
  std::string many;
  for (int i = 0; i < 25; ++i) many += "x\xFFy\n";
  Decoded m = decode_all(Encoding::utf8, many, true);
  CHECK(m.replaced == 25);
  CHECK(m.lines.size() == Decoder::kMaxReplacedLines);
  CHECK(m.lines.front() == 1);
  CHECK(m.lines.back() == Decoder::kMaxReplacedLines);
  // GB18030 and UTF-16 count the same way.
  Decoded g = decode_all(Encoding::gb18030, "a\r\n\r\xFF\n\x81", true);
  CHECK(g.replaced == 2);
  CHECK(g.lines == std::vector<uint64_t>{3, 4});
  Decoded u = decode_all(Encoding::utf16le, std::string("a\0\r\0\0\xDC\n\0", 8), true);
  CHECK(u.replaced == 1);
  CHECK(u.lines == std::vector<uint64_t>{2});
}

TEST_CASE("strict mode: the error's byte is a file offset, its line counted in the input", "[encoding]") {
  // UTF-16: the BOM counts in the offset; a lone trail surrogate on line 3.
  std::string le("\xFF\xFE" "a\0\r\0\n\0b\0\r\0c\0\x00\xDC", 16);
  Decoded u = decode_all(Encoding::utf16le, le);
  CHECK(u.failed);
  CHECK(u.byte == 14);
  CHECK(u.line == 3);
  CHECK(u.text == "a\r\nb\rc");
  // GB18030: the offset of the lead byte; lone CR, CRLF and LF each end one line.
  std::string gb = "a\rb\r\nc\n" + to_gbk("中") + "\x81\x30\x41";
  Decoded g = decode_all(Encoding::gb18030, gb);
  CHECK(g.failed);
  CHECK(g.byte == 9);
  CHECK(g.line == 4);
  CHECK(g.text == "a\rb\r\nc\n中");
  // A CR at the end of one chunk and the LF at the start of the next are one line break.
  std::string crlf = "a\r\nb\r\n\xFF";
  for (size_t k = 0; k <= crlf.size(); ++k) {
    Decoded c = decode_cuts(Encoding::utf8, crlf, false, {k});
    CHECK(c.line == 3);
    CHECK(c.byte == 6);
  }
  // Nothing more is decoded after the error.
  Decoder dec(Encoding::utf8, false);
  std::string out;
  dec.decode("ab\xFF", 3, out);
  dec.decode("cd", 2, out);
  CHECK(out == "ab");
  CHECK(dec.error_byte() == 2);
}

TEST_CASE("a sequence cut by the end of the file is invalid", "[encoding]") {
  struct Case {
    Encoding e;
    std::string in;
    int64_t byte;
  };
  const Case cases[] = {{Encoding::utf8, "ab\xE4\xB8", 2},
                        {Encoding::gb18030, "ab\x81", 2},
                        {Encoding::gb18030, "ab\x81\x30", 2},
                        {Encoding::gb18030, "ab\x81\x30\x81", 2},
                        {Encoding::utf16le, std::string("a\0b", 3), 2},
                        {Encoding::utf16le, std::string("a\0\x3D\xD8", 4), 2},
                        {Encoding::utf16le, std::string("a\0\x3D\xD8\0", 5), 2}};
  for (const Case& c : cases) {
    INFO(encoding_name(c.e) << " " << c.in.size());
    Decoded strict = decode_all(c.e, c.in);
    CHECK(strict.failed);
    CHECK(strict.byte == c.byte);
    Decoded replaced = decode_all(c.e, c.in, true);
    CHECK(replaced.replaced == 1);
    CHECK(replaced.text.substr(replaced.text.size() - 3) == kFFFD);
    check_every_split(c.e, c.in, true);
  }
}

TEST_CASE("GB18030 follows the Encoding Standard on bad sequences", "[encoding]") {
  auto gb = [](const std::string& in) { return decode_all(Encoding::gb18030, in, true).text; };
  CHECK(gb("\x81\x30\x41") == kFFFD + "0A");                   // bytes after the lead given back
  CHECK(gb("\x81\x30\x81\x41") == kFFFD + "0" + utf8(0x4E04));  // ... and decoded again
  CHECK(gb("\x81\x7F") == kFFFD + "\x7F");
  CHECK(gb("\x81\xFF" "a") == kFFFD + "a");                      // a non-ASCII trail is not given back
  CHECK(gb("\xFF" "a") == kFFFD + "a");
  CHECK(gb("\x84\x31\xA5\x30" "a") == kFFFD + "a");              // pointer 39420: no code point
  CHECK(gb("\xE3\x32\x9A\x36" "a") == kFFFD + "a");              // past U+10FFFF
  CHECK(gb("\x80") == "€");
  CHECK(gb("\xA3\xA0") == utf8(0x3000));
  CHECK(gb("\xA6\xD9") == utf8(0xFE10));                          // GB18030-2022 mapping
  CHECK(gb("\xA8\xBC") == utf8(0x1E3F));
  CHECK(gb("\x84\x31\xA4\x37") == kFFFD);  // a real U+FFFD character, not a replacement ...
  CHECK(decode_all(Encoding::gb18030, "\x84\x31\xA4\x37", true).replaced == 0);  // ... so not counted
}

TEST_CASE("detection: empty, ASCII, a UTF-8 sample cut inside a character", "[encoding]") {
  CHECK(detect_encoding("", true).ok);
  CHECK(detect_encoding("", true).how == "empty");
  Detection a = detect_encoding("id,name\n1,x\n", true);
  CHECK(a.ok);
  CHECK(a.encoding == Encoding::utf8);
  CHECK(a.how == "valid UTF-8");
  std::string cut = "id,name\n1,\xE4\xB8";
  CHECK(detect_encoding(cut, false).ok);
  Detection eof = detect_encoding(cut, true);
  CHECK_FALSE(eof.ok);
  CHECK(eof.line == 2);
  CHECK(eof.byte == 10);
  CHECK(detect_encoding("\xFE\xFF\0a", true).encoding == Encoding::utf16be);
  CHECK(detect_encoding("\x84\x31\x95\x33" "a", true).encoding == Encoding::gb18030);
}

TEST_CASE("random bytes: every split gives the whole-input result, in every encoding", "[encoding]") {
  // Bytes chosen to hit sequence boundaries: leads, 0x30–0x39, trails, surrogate halves,
  // CR, LF, 0x80, 0xFF.
  const uint8_t alphabet[] = {'a', ',', '\r', '\n', '0', '5', 0x39, 0x40, 0x7F, 0x80, 0x81, 0x84, 0x90, 0x95,
                              0xA1, 0xB0, 0xBF, 0xC3, 0xD8, 0xDC, 0xE2, 0xE3, 0xED, 0xF0, 0xF4, 0xFE, 0xFF, 0x00};
  uint32_t x = 2024;
  auto next = [&] { return (x = x * 1103515245u + 12345u) >> 16; };
  for (int round = 0; round < 150; ++round) {
    std::string in;
    size_t len = next() % 24;
    for (size_t i = 0; i < len; ++i) in += char(alphabet[next() % sizeof(alphabet)]);
    for (Encoding e : {Encoding::utf8, Encoding::utf16le, Encoding::utf16be, Encoding::gb18030, Encoding::windows1252})
      for (bool replace : {false, true}) check_every_split(e, in, replace);
  }
}
