// Decoders follow the WHATWG Encoding Standard's decoder algorithms, rewritten to work on a
// whole span at a time: a sequence is checked in place, ASCII moves eight bytes at a time,
// and output is written through a pointer into room reserved once per block. A sequence
// cut by the end of a span is carried over (at most 3 bytes) and completed first thing in
// the next decode(), so every split gives the same output.
#include "io/encoding.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "io/utf8.h"

namespace custlens {

namespace {

#include "io/gb18030_data.inc"

constexpr uint64_t kHighBits = 0x8080808080808080ULL;
constexpr size_t kBlock = 64 * 1024;  // input bytes per reservation of output room
constexpr char kReplacement[] = "\xEF\xBF\xBD";

inline bool all_ascii8(const uint8_t* s, uint64_t& word) {
  std::memcpy(&word, s, 8);
  return !(word & kHighBits);
}

// Copies the ASCII byte s[i] and the whole ASCII words after it (most of any export) to w,
// up to `end`; returns where writing goes on.
inline char* copy_ascii(const uint8_t* s, size_t& i, size_t end, char* w) {
  *w++ = char(s[i++]);
  uint64_t word;
  while (i + 8 <= end && all_ascii8(s + i, word)) {
    std::memcpy(w, &word, 8);
    w += 8;
    i += 8;
  }
  return w;
}

inline char* put_utf8(char* w, uint32_t cp) {
  if (cp < 0x80) {
    *w++ = char(cp);
  } else if (cp < 0x800) {
    *w++ = char(0xC0 | (cp >> 6));
    *w++ = char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *w++ = char(0xE0 | (cp >> 12));
    *w++ = char(0x80 | ((cp >> 6) & 0x3F));
    *w++ = char(0x80 | (cp & 0x3F));
  } else {
    *w++ = char(0xF0 | (cp >> 18));
    *w++ = char(0x80 | ((cp >> 12) & 0x3F));
    *w++ = char(0x80 | ((cp >> 6) & 0x3F));
    *w++ = char(0x80 | (cp & 0x3F));
  }
  return w;
}

inline char* put_replacement(char* w) {
  std::memcpy(w, kReplacement, 3);
  return w + 3;
}

// windows-1252 bytes 0x80–0x9F (the Standard's index; 0xA0–0xFF are U+00A0–U+00FF).
constexpr uint16_t kWindows1252High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

// Index gb18030 ranges code point (null = 0xFFFFFFFF) for a four-byte pointer.
inline uint32_t gb18030_four_byte(uint32_t pointer) {
  if (pointer <= 39419) {
    const uint16_t* end = kGb18030RangePointers + std::size(kGb18030RangePointers);
    const uint16_t* r = std::upper_bound(kGb18030RangePointers, end, uint16_t(pointer)) - 1;
    return kGb18030RangeCodePoints[r - kGb18030RangePointers] + (pointer - *r);
  }
  if (pointer >= 189000 && pointer <= 1237575) return 0x10000 + (pointer - 189000);
  return 0xFFFFFFFF;
}

inline uint32_t gb18030_two_byte(uint8_t lead, uint8_t trail) {
  return kGb18030TwoByte[(lead - 0x81) * 190 + (trail - (trail < 0x7F ? 0x40 : 0x41))];
}

inline bool gb18030_trail(uint8_t b) { return b >= 0x40 && b <= 0xFE && b != 0x7F; }

// Physical line breaks in [b, e): CRLF, LF and a lone CR each end one line. prev_cr
// carries a CR at the end of one piece to the LF that may start the next.
uint64_t count_breaks(const char* b, const char* e, bool& prev_cr) {
  uint64_t n = 0;
  const auto* s = reinterpret_cast<const uint8_t*>(b);
  const auto* end = reinterpret_cast<const uint8_t*>(e);
  while (s < end) {
    if (end - s >= 8) {
      uint64_t w;
      std::memcpy(&w, s, 8);
      // No byte below 0x0E in these eight: no CR, no LF (the test is exact for "none").
      if (!((w - 0x0E0E0E0E0E0E0E0EULL) & ~w & kHighBits)) {
        prev_cr = false;
        s += 8;
        continue;
      }
    }
    uint8_t c = *s++;
    if (c == '\n') {
      if (!prev_cr) ++n;
      prev_cr = false;
    } else if (c == '\r') {
      ++n;
      prev_cr = true;
    } else {
      prev_cr = false;
    }
  }
  return n;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

const char* encoding_name(Encoding e) {
  switch (e) {
    case Encoding::utf8: return "UTF-8";
    case Encoding::utf8_bom: return "UTF-8 (BOM)";
    case Encoding::utf16le: return "UTF-16LE";
    case Encoding::utf16be: return "UTF-16BE";
    case Encoding::gb18030: return "GB18030";
    case Encoding::windows1252: return "windows-1252";
    case Encoding::latin1: return "ISO-8859-1";
  }
  return "?";
}

bool parse_encoding_option(std::string_view option, Encoding& out) {
  struct Label {
    const char* label;
    Encoding encoding;
  };
  static constexpr Label kLabels[] = {
      {"utf-8", Encoding::utf8},         {"utf8", Encoding::utf8},
      {"utf-16le", Encoding::utf16le},   {"utf-16be", Encoding::utf16be},
      {"utf-16", Encoding::utf16le},     {"gb18030", Encoding::gb18030},
      {"gbk", Encoding::gb18030},        {"gb2312", Encoding::gb18030},
      {"cp936", Encoding::gb18030},      {"windows-1252", Encoding::windows1252},
      {"cp1252", Encoding::windows1252}, {"latin1", Encoding::latin1},
      {"iso-8859-1", Encoding::latin1},
  };
  for (const Label& l : kLabels)
    if (iequals(option, l.label)) {
      out = l.encoding;
      return true;
    }
  return false;
}

// ---------------------------------------------------------------------------------------
// Decoder

Decoder::Decoder(Encoding e, bool replace) : enc_(e), replace_(replace) {}

uint64_t Decoder::line_at(const std::string& out, size_t out_end) {
  breaks_ += count_breaks(out.data() + counted_to_, out.data() + out_end, prev_cr_);
  counted_to_ = out_end;
  return breaks_ + 1;
}

bool Decoder::bad(size_t at, const std::string& out, size_t out_end) {
  uint64_t line = line_at(out, out_end);
  if (!replace_) {
    failed_ = true;
    error_byte_ = int64_t(consumed_ + at);
    error_line_ = line;
    return false;
  }
  ++replaced_;
  if (replaced_lines_.size() < kMaxReplacedLines && (replaced_lines_.empty() || replaced_lines_.back() != line))
    replaced_lines_.push_back(line);
  return true;
}

size_t Decoder::run(const uint8_t* s, size_t n, std::string& out, bool final) {
  switch (enc_) {
    case Encoding::utf8:
    case Encoding::utf8_bom: return run_utf8(s, n, out, final);
    case Encoding::utf16le:
    case Encoding::utf16be: return run_utf16(s, n, out, final);
    case Encoding::gb18030: return run_gb18030(s, n, out, final);
    case Encoding::windows1252:
    case Encoding::latin1: return run_single_byte(s, n, out);
  }
  return n;
}

void Decoder::decode(const char* p, size_t n, std::string& out) {
  if (failed_ || n == 0) return;
  const auto* s = reinterpret_cast<const uint8_t*>(p);
  counted_to_ = out.size();
  size_t i = 0;
  if (pending_len_) {
    // Finish the carried sequence on a copy with the next few bytes. Three bytes at most
    // stay undecided at the end of a span, so with four more the copy always gets past
    // the carried bytes, and the rest of the chunk is decoded in place.
    uint8_t tmp[8];
    size_t k = std::min<size_t>(n, 4), m = pending_len_ + k;
    std::memcpy(tmp, pending_, pending_len_);
    std::memcpy(tmp + pending_len_, s, k);
    size_t used = run(tmp, m, out, false);
    if (failed_) return;
    consumed_ += used;
    if (k == n) {
      pending_len_ = m - used;
      std::memmove(pending_, tmp + used, pending_len_);
      line_at(out, out.size());
      return;
    }
    i = used - pending_len_;
    pending_len_ = 0;
  }
  size_t used = run(s + i, n - i, out, false);
  if (failed_) return;
  consumed_ += used;
  pending_len_ = n - i - used;
  std::memcpy(pending_, s + i + used, pending_len_);
  line_at(out, out.size());
}

void Decoder::finish(std::string& out) {
  if (failed_ || !pending_len_) return;
  counted_to_ = out.size();
  size_t used = run(pending_, pending_len_, out, true);
  consumed_ += used;
  pending_len_ = 0;
}

// UTF-8: valid text is copied as it is, a valid run at a time. A bad sequence is its
// maximal subpart: the lead and the continuation bytes that were still possible.
size_t Decoder::run_utf8(const uint8_t* s, size_t n, std::string& out, bool final) {
  size_t i = 0, start = 0;
  if (consumed_ == 0 && n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) i = start = 3;
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      uint64_t w;
      while (i + 8 <= n && all_ascii8(s + i, w)) i += 8;
      continue;
    }
    size_t len = 0;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    size_t k = 1;  // bytes of the sequence that are still possible
    if (len && i + 1 < n && s[i + 1] >= lo && s[i + 1] <= hi) {
      k = 2;
      while (k < len && i + k < n && (s[i + k] & 0xC0) == 0x80) ++k;
    }
    if (k == len) {
      i += len;
      continue;
    }
    if (len && i + k == n && !final) break;  // cut by the end of the span
    out.append(reinterpret_cast<const char*>(s + start), i - start);
    if (!bad(i, out, out.size())) return i;
    out.append(kReplacement, 3);
    i += k;
    start = i;
  }
  out.append(reinterpret_cast<const char*>(s + start), i - start);
  return i;
}

size_t Decoder::run_utf16(const uint8_t* s, size_t n, std::string& out, bool final) {
  const bool le = enc_ == Encoding::utf16le;
  auto unit = [&](size_t at) -> uint32_t {
    return le ? uint32_t(s[at]) | uint32_t(s[at + 1]) << 8 : uint32_t(s[at]) << 8 | s[at + 1];
  };
  size_t i = 0;
  if (consumed_ == 0 && n >= 2 && unit(0) == 0xFEFF) i = 2;
  while (i < n) {
    // Two input bytes give at most three output bytes (a pair: four for four).
    size_t block_end = std::min(n, i + kBlock);
    size_t base = out.size();
    out.resize(base + (block_end - i) / 2 * 3 + 8);
    char* w = &out[base];
    auto written = [&] { return size_t(w - out.data()); };
    bool stop = false;
    while (i < block_end) {
      if (i + 2 > n) {  // an odd byte at the end
        if (!final) {
          stop = true;
          break;
        }
        if (!bad(i, out, written())) {
          out.resize(written());
          return i;
        }
        w = put_replacement(w);
        i = n;
        break;
      }
      uint32_t u = unit(i);
      if (u < 0x80) {
        *w++ = char(u);
        i += 2;
        continue;
      }
      if (u < 0xD800 || u > 0xDFFF) {
        w = put_utf8(w, u);
        i += 2;
        continue;
      }
      if (u <= 0xDBFF && i + 4 <= n) {
        uint32_t u2 = unit(i + 2);
        if (u2 >= 0xDC00 && u2 <= 0xDFFF) {
          w = put_utf8(w, 0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00));
          i += 4;
          continue;
        }
      } else if (u <= 0xDBFF && !final) {  // a lead surrogate cut by the end of the span
        stop = true;
        break;
      }
      // A lone surrogate (the unit after a lone lead is decoded on its own), or a lead
      // surrogate with nothing or a single byte after it at the very end.
      if (!bad(i, out, written())) {
        out.resize(written());
        return i;
      }
      w = put_replacement(w);
      i = (u <= 0xDBFF && i + 4 > n) ? n : i + 2;
    }
    out.resize(written());
    if (stop) return i;
  }
  return i;
}

// GB18030 as the Standard's gb18030 decoder: on a bad sequence the bytes it "restores" to
// the stream (an ASCII trail, the 0x30–0x39 and following bytes of a broken four-byte
// sequence) are decoded again, so only the lead is consumed.
size_t Decoder::run_gb18030(const uint8_t* s, size_t n, std::string& out, bool final) {
  size_t i = 0;
  while (i < n) {
    // Each input byte gives at most three output bytes (0x80 → €, a bad byte → U+FFFD).
    size_t block_end = std::min(n, i + kBlock);
    size_t base = out.size();
    out.resize(base + (block_end - i + 4) * 3);
    char* w = &out[base];
    bool stop = false;
    while (i < block_end) {
      uint8_t c = s[i];
      if (c < 0x80) {
        w = copy_ascii(s, i, block_end, w);
        continue;
      }
      size_t take = 1;  // bytes a bad sequence consumes
      if (c == 0x80) {
        w = put_utf8(w, 0x20AC);
        ++i;
        continue;
      }
      if (c != 0xFF) {
        size_t left = n - i;
        if (left >= 2) {
          uint8_t b = s[i + 1];
          if (b >= 0x30 && b <= 0x39) {
            if (left >= 3 && s[i + 2] >= 0x81 && s[i + 2] <= 0xFE) {
              if (left >= 4 && s[i + 3] >= 0x30 && s[i + 3] <= 0x39) {
                uint32_t pointer =
                    (c - 0x81) * 12600u + (b - 0x30) * 1260u + (s[i + 2] - 0x81) * 10u + (s[i + 3] - 0x30);
                uint32_t cp = gb18030_four_byte(pointer);
                if (cp != 0xFFFFFFFF) {
                  if (!(cp == 0xFEFF && consumed_ + i == 0)) w = put_utf8(w, cp);  // BOM
                  i += 4;
                  continue;
                }
                take = 4;
              } else if (left < 4) {
                take = 0;  // cut by the end
              }
            } else if (left < 3) {
              take = 0;
            }
          } else if (gb18030_trail(b)) {
            w = put_utf8(w, gb18030_two_byte(c, b));
            i += 2;
            continue;
          } else if (b >= 0x80) {
            take = 2;  // 0xFF: not ASCII, so not given back
          }
        } else {
          take = 0;
        }
      }
      if (take == 0) {  // an incomplete sequence at the end
        if (!final) {
          stop = true;
          break;
        }
        take = n - i;
      }
      if (!bad(i, out, size_t(w - out.data()))) {
        out.resize(size_t(w - out.data()));
        return i;
      }
      w = put_replacement(w);
      i += take;
    }
    out.resize(size_t(w - out.data()));
    if (stop) return i;
  }
  return i;
}

size_t Decoder::run_single_byte(const uint8_t* s, size_t n, std::string& out) {
  const bool cp1252 = enc_ == Encoding::windows1252;
  size_t i = 0;
  while (i < n) {
    size_t block_end = std::min(n, i + kBlock);
    size_t base = out.size();
    out.resize(base + (block_end - i) * 3);
    char* w = &out[base];
    while (i < block_end) {
      uint8_t c = s[i];
      if (c < 0x80) {
        w = copy_ascii(s, i, block_end, w);
        continue;
      }
      w = put_utf8(w, cp1252 && c < 0xA0 ? kWindows1252High[c - 0x80] : c);
      ++i;
    }
    out.resize(size_t(w - out.data()));
  }
  return n;
}

// ---------------------------------------------------------------------------------------
// Detection

namespace {


// What a strict GB18030 reading of the sample looks like. GB18030 takes nearly any bytes
// (Shift_JIS, Big5 and broken UTF-8 decode "successfully"), so validity alone says little;
// these counts say whether the text is Chinese as people write it.
struct Gb18030Evidence {
  bool valid = true;
  uint64_t characters = 0;     // non-ASCII characters
  uint64_t two_byte = 0;       // two-byte characters (the rest: four-byte and 0x80 = €)
  uint64_t gb2312 = 0;         // two-byte, in the GB2312 area (A1–F7 × A1–FE), not private use
  uint64_t hanzi = 0;          //   of which hanzi (lead B0–F7)
  uint64_t level1 = 0;         //   of which GB2312 level 1, the 3,755 common hanzi (B0–D7)
  uint64_t four_byte = 0;      // four-byte sequences (no other encoding makes this pattern)
  uint64_t private_use = 0;    // user-defined areas: U+E000–U+F8FF, planes 15–16
  uint64_t controls = 0;       // C0 controls but TAB, LF, CR; DEL
  uint64_t runs = 0;           // runs of non-ASCII characters
  uint64_t glued = 0;          // runs of one character touching an ASCII letter (é in "José")
  uint64_t bytes = 0;

  // Thresholds (tuned on the corpus, see tests/cpp/test_encoding.cpp):
  static constexpr double kMinGb2312Share = 0.80;  // of two-byte characters
  static constexpr double kMinLevel1Share = 0.50;  // of GB2312 hanzi
  static constexpr double kMaxGluedShare = 0.25;   // of runs
  static constexpr uint64_t kPrivateUsePer = 100;  // at most 1 per 100 characters
  static constexpr uint64_t kControlPer = 1000;    // at most 1 per 1,000 bytes
  static constexpr uint64_t kMinFourByte = 8;

  bool chinese_text() const {
    return valid && two_byte > 0 && gb2312 >= kMinGb2312Share * double(two_byte) &&
           level1 >= kMinLevel1Share * double(hanzi) && glued <= kMaxGluedShare * double(runs) &&
           private_use * kPrivateUsePer <= characters && controls * kControlPer <= bytes;
  }
  bool four_byte_structure() const { return valid && four_byte >= kMinFourByte; }

  std::string describe() const {
    if (!valid) return "not valid GB18030";
    return std::to_string(characters) + " non-ASCII characters: " + std::to_string(two_byte) + " two-byte (" +
           std::to_string(gb2312) + " GB2312, " + std::to_string(hanzi) + " hanzi, " + std::to_string(level1) +
           " level 1), " + std::to_string(four_byte) + " four-byte, " + std::to_string(private_use) +
           " private-use; " + std::to_string(controls) + " control bytes; " + std::to_string(glued) + " of " +
           std::to_string(runs) + " runs glued to Latin letters";
  }
};

inline bool ascii_letter(uint8_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

Gb18030Evidence gb18030_evidence(const uint8_t* s, size_t n, bool at_eof) {
  Gb18030Evidence ev;
  ev.bytes = n;
  size_t i = 0;
  uint64_t run = 0;
  bool letter_before = false;
  auto end_run = [&](bool letter_after) {
    if (!run) return;
    ++ev.runs;
    if (run == 1 && (letter_before || letter_after)) ++ev.glued;
    run = 0;
  };
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) {
      end_run(ascii_letter(c));
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) ++ev.controls;
      letter_before = ascii_letter(c);
      ++i;
      continue;
    }
    uint32_t cp;
    size_t len;
    if (c == 0x80) {
      cp = 0x20AC;
      len = 1;
    } else if (c == 0xFF) {
      ev.valid = false;
      return ev;
    } else {
      if (i + 1 >= n) break;
      uint8_t b = s[i + 1];
      if (b >= 0x30 && b <= 0x39) {
        if (i + 3 >= n) {
          bool cut = i + 2 >= n || (s[i + 2] >= 0x81 && s[i + 2] <= 0xFE);
          if (cut) break;
          ev.valid = false;
          return ev;
        }
        uint8_t c3 = s[i + 2], d = s[i + 3];
        if (c3 < 0x81 || c3 > 0xFE || d < 0x30 || d > 0x39) {
          ev.valid = false;
          return ev;
        }
        cp = gb18030_four_byte((c - 0x81) * 12600u + (b - 0x30) * 1260u + (c3 - 0x81) * 10u + (d - 0x30));
        if (cp == 0xFFFFFFFF) {
          ev.valid = false;
          return ev;
        }
        len = 4;
        ++ev.four_byte;
      } else if (gb18030_trail(b)) {
        cp = gb18030_two_byte(c, b);
        len = 2;
        ++ev.two_byte;
      } else {
        ev.valid = false;
        return ev;
      }
    }
    ++ev.characters;
    ++run;
    bool private_use = (cp >= 0xE000 && cp <= 0xF8FF) || cp >= 0xF0000;
    if (private_use) {
      ++ev.private_use;
    } else if (len == 2 && c >= 0xA1 && c <= 0xF7 && s[i + 1] >= 0xA1) {
      ++ev.gb2312;
      if (c >= 0xB0) {
        ++ev.hanzi;
        if (c <= 0xD7) ++ev.level1;
      }
    }
    i += len;
  }
  // Stopped by a sequence cut at the end of the sample: bad only at EOF.
  if (i < n && at_eof) ev.valid = false;
  end_run(false);
  return ev;
}

}  // namespace

Detection detect_encoding(std::string_view sample, bool at_eof) {
  Detection d;
  const auto* s = reinterpret_cast<const uint8_t*>(sample.data());
  size_t n = sample.size();
  auto starts = [&](const char* bom, size_t len) { return n >= len && std::memcmp(s, bom, len) == 0; };
  auto found = [&](Encoding e, size_t bom, const char* how) {
    d.ok = true;
    d.encoding = e;
    d.bom_bytes = bom;
    d.how = how;
    return d;
  };
  if (n == 0) return found(Encoding::utf8, 0, "empty");
  if (starts("\xEF\xBB\xBF", 3)) return found(Encoding::utf8_bom, 3, "BOM");
  if (starts("\xFF\xFE", 2)) return found(Encoding::utf16le, 2, "BOM");
  if (starts("\xFE\xFF", 2)) return found(Encoding::utf16be, 2, "BOM");
  if (starts("\x84\x31\x95\x33", 4)) return found(Encoding::gb18030, 4, "BOM");

  size_t bad_at = utf8_invalid_at(reinterpret_cast<const char*>(s), n, /*cut_ok=*/!at_eof);
  if (bad_at == n) return found(Encoding::utf8, 0, "valid UTF-8");

  Gb18030Evidence ev = gb18030_evidence(s, n, at_eof);
  d.gb18030_evidence = ev.describe();
  if (ev.chinese_text()) return found(Encoding::gb18030, 0, "detected: not UTF-8, reads as Chinese text in GB18030");
  if (ev.four_byte_structure()) return found(Encoding::gb18030, 0, "detected: not UTF-8, GB18030 four-byte sequences");

  bool prev_cr = false;
  d.line = 1 + count_breaks(sample.data(), sample.data() + bad_at, prev_cr);
  d.byte = int64_t(bad_at);
  d.reason = "Line " + std::to_string(d.line) + " is not valid UTF-8 (byte " + std::to_string(bad_at) +
             "), and it does not read as Chinese text in GB18030: choose the file's encoding "
             "(windows-1252 for older European Excel files)";
  return d;
}

}  // namespace custlens
