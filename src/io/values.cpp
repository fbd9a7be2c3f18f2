// Value parsers: dates, amounts and identifiers as real exports write them.
// Everything works on byte views with stack state only: these run once per cell.
#include "io/values.h"

#include <array>
#include <cstddef>

#include "blocks.h"

namespace custlens {
namespace {

// ---- UTF-8 reading ----------------------------------------------------------

// One UTF-8 code point at s[i] (i < s.size()); its byte length goes to n.
// Malformed bytes read as U+FFFD of length 1, so callers simply fail on them.
inline uint32_t decode(std::string_view s, size_t i, size_t& n) {
  const auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i + k])); };
  const uint32_t b0 = b(0);
  if (b0 < 0x80) {
    n = 1;
    return b0;
  }
  const size_t left = s.size() - i;
  const auto cont = [&](size_t k) { return k < left && (b(k) & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF && cont(1)) {
    n = 2;
    return ((b0 & 0x1F) << 6) | (b(1) & 0x3F);
  }
  if (b0 >= 0xE0 && b0 <= 0xEF && cont(1) && cont(2)) {
    const uint32_t c = ((b0 & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    if (c >= 0x800) {
      n = 3;
      return c;
    }
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    const uint32_t c = ((b0 & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    if (c >= 0x10000 && c <= 0x10FFFF) {
      n = 4;
      return c;
    }
  }
  n = 1;
  return 0xFFFD;
}

// Folds the look-alikes that Chinese and European exports write onto ASCII:
// fullwidth forms (１，２．－（）), the Unicode minus, and the no-break/thin spaces.
inline uint32_t fold(uint32_t c) {
  if (c >= 0xFF01 && c <= 0xFF5E) return c - 0xFEE0;
  switch (c) {
    case 0x00A0:  // no-break space
    case 0x2007:  // figure space
    case 0x2009:  // thin space
    case 0x202F:  // narrow no-break space
    case 0x3000:  // ideographic space
      return ' ';
    case 0x2212:  // minus sign
      return '-';
    default:
      return c;
  }
}

inline bool is_digit(uint32_t c) { return c - '0' < 10u; }
inline bool is_ascii_digit(char c) { return static_cast<unsigned>(c - '0') < 10u; }
constexpr char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// A read position over a cell, seeing folded code points.
struct Cursor {
  std::string_view s;
  size_t i = 0;

  bool done() const { return i >= s.size(); }
  // Folded code point at the position (0 at the end); byte length in n.
  uint32_t peek(size_t& n) const {
    if (i >= s.size()) {
      n = 0;
      return 0;
    }
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {  // ASCII needs no decoding
      n = 1;
      return b0;
    }
    return fold(decode(s, i, n));
  }
  uint32_t peek() const {
    size_t n;
    return peek(n);
  }
  bool eat(uint32_t c) {
    size_t n;
    if (c != 0 && peek(n) == c) {
      i += n;
      return true;
    }
    return false;
  }
  // Skips spaces (any folded kind) and tabs; returns how many.
  int spaces() {
    int k = 0;
    for (;;) {
      size_t n;
      const uint32_t c = peek(n);
      if (c != ' ' && c != '\t') return k;
      i += n;
      ++k;
    }
  }
  // Reads a run of digits; returns its length. `v` holds the value of the first
  // 18 digits (callers reject longer runs where the value matters).
  int digits(int64_t& v) {
    int k = 0;
    v = 0;
    for (;;) {
      size_t n;
      const uint32_t c = peek(n);
      if (!is_digit(c)) return k;
      if (k < 18) v = v * 10 + static_cast<int64_t>(c - '0');
      ++k;
      i += n;
    }
  }
  // Reads 1 or 2 digits (month, day, hour); false for none or more.
  bool digits12(int64_t& v) {
    const int k = digits(v);
    return k == 1 || k == 2;
  }
  // Matches the longest word of `table` at the position (ASCII case-insensitive,
  // other bytes exact) and moves past it. Returns its index or -1. `first` holds
  // the bytes a word can start with, so a digit costs one lookup.
  template <class Word, size_t N>
  int word(const Word (&table)[N], const std::array<bool, 256>& first) {
    if (done() || !first[static_cast<unsigned char>(lower(s[i]))]) return -1;
    int best = -1;
    size_t best_len = 0;
    for (size_t w = 0; w < N; ++w) {
      const std::string_view t = table[w].text;
      if (t.size() <= best_len || s.size() - i < t.size()) continue;
      size_t k = 0;
      while (k < t.size() && lower(s[i + k]) == lower(t[k])) ++k;
      if (k == t.size()) {
        best = static_cast<int>(w);
        best_len = t.size();
      }
    }
    i += best_len;
    return best;
  }
};

// ---- tables -------------------------------------------------------------------

// The (lowercased) first bytes of a table's words, for Cursor::word.
template <class Word, size_t N>
constexpr std::array<bool, 256> first_bytes(const Word (&table)[N]) {
  std::array<bool, 256> out{};
  for (size_t w = 0; w < N; ++w) out[static_cast<unsigned char>(lower(table[w].text[0]))] = true;
  return out;
}

struct CurrencyWord {
  std::string_view text;
  Currency currency;
};

// Symbols and codes written before or after an amount. ¥ is read as CNY: the
// exports in scope are Chinese; Japanese amounts say 円 or JPY.
constexpr CurrencyWord kCurrencyWords[] = {
    {"¥", Currency::CNY},      {"￥", Currency::CNY},     {"元", Currency::CNY},
    {"RMB", Currency::CNY},    {"CNY", Currency::CNY},    {"人民币", Currency::CNY},
    {"$", Currency::USD},      {"＄", Currency::USD},     {"US$", Currency::USD},
    {"USD", Currency::USD},    {"美元", Currency::USD},   {"€", Currency::EUR},
    {"EUR", Currency::EUR},    {"欧元", Currency::EUR},   {"£", Currency::GBP},
    {"￡", Currency::GBP},     {"GBP", Currency::GBP},    {"英镑", Currency::GBP},
    {"円", Currency::JPY},     {"JPY", Currency::JPY},    {"日元", Currency::JPY},
    {"HK$", Currency::HKD},    {"HKD", Currency::HKD},    {"港币", Currency::HKD},
    {"港元", Currency::HKD},   {"NT$", Currency::TWD},    {"TWD", Currency::TWD},
    {"NTD", Currency::TWD},    {"新台币", Currency::TWD}, {"台币", Currency::TWD},
};

constexpr auto kCurrencyFirst = first_bytes(kCurrencyWords);

enum class Half : uint8_t { none, am, pm };

struct HalfWord {
  std::string_view text;
  Half half;
};

// Morning/afternoon words, before (Chinese, Japanese) or after (English) the time.
constexpr HalfWord kHalfWords[] = {
    {"上午", Half::am}, {"下午", Half::pm}, {"凌晨", Half::am}, {"早上", Half::am},
    {"晚上", Half::pm}, {"午前", Half::am}, {"午後", Half::pm}, {"am", Half::am},
    {"pm", Half::pm},   {"a.m.", Half::am}, {"p.m.", Half::pm},
};

struct ZoneWord {
  std::string_view text;
};

// Zone names that may precede an offset; the zone itself is ignored (civil time).
constexpr auto kHalfFirst = first_bytes(kHalfWords);

constexpr ZoneWord kZoneWords[] = {{"Z"}, {"UTC"}, {"GMT"}};
constexpr auto kZoneFirst = first_bytes(kZoneWords);

constexpr uint32_t kYear = 0x5E74;   // 年
constexpr uint32_t kMonth = 0x6708;  // 月
constexpr uint32_t kDay = 0x65E5;    // 日
constexpr uint32_t kHao = 0x53F7;    // 号 (spoken day suffix)
constexpr uint32_t kHour = 0x65F6;   // 时
constexpr uint32_t kDian = 0x70B9;   // 点
constexpr uint32_t kMinute = 0x5206; // 分
constexpr uint32_t kSecond = 0x79D2; // 秒

// Excel's 1900 date system: serial 25569 is 1970-01-01.
constexpr int64_t kExcelEpoch = 25569;
constexpr int64_t kSerialMin = 20000;
constexpr int64_t kSerialMax = 80000;

constexpr uint64_t kPow10[] = {1ull,
                               10ull,
                               100ull,
                               1000ull,
                               10000ull,
                               100000ull,
                               1000000ull,
                               10000000ull,
                               100000000ull,
                               1000000000ull,
                               10000000000ull,
                               100000000000ull,
                               1000000000000ull,
                               10000000000000ull,
                               100000000000000ull,
                               1000000000000000ull,
                               10000000000000000ull,
                               100000000000000000ull,
                               1000000000000000000ull,
                               10000000000000000000ull};

constexpr int kScaleDigits = 4;
static_assert(kPow10[kScaleDigits] == static_cast<uint64_t>(kAmountScale), "scale digits");
// |value| above 9e14 is rejected: units then stay far enough from int64's limit.
constexpr uint64_t kMaxUnits = uint64_t(kMaxAmountUnits);

// ---- dates --------------------------------------------------------------------

inline int two(std::string_view s, size_t i) { return (s[i] - '0') * 10 + (s[i + 1] - '0'); }

// "2023-07-14" and "2023-07-14 12:34:56" / "...T12:34:56", the bulk of real columns.
bool fast_date(std::string_view s, RawDate& out) {
  if (s.size() != 10 && s.size() != 19) return false;
  static constexpr char kPat[] = "dddd-dd-dd?dd:dd:dd";
  for (size_t k = 0; k < s.size(); ++k) {
    const char p = kPat[k];
    if (p == 'd') {
      if (!is_ascii_digit(s[k])) return false;
    } else if (p == '?') {
      if (s[k] != ' ' && s[k] != 'T') return false;
    } else if (s[k] != p) {
      return false;
    }
  }
  int32_t seconds = -1;
  if (s.size() == 19) {
    const int h = two(s, 11), m = two(s, 14), sec = two(s, 17);
    if (h > 23 || m > 59 || sec > 60) return false;
    seconds = h * 3600 + m * 60 + (sec > 59 ? 59 : sec);
  }
  out = RawDate{};
  out.shape = DateShape::ymd;
  out.year = two(s, 0) * 100 + two(s, 2);
  out.first = static_cast<uint8_t>(two(s, 5));
  out.second = static_cast<uint8_t>(two(s, 8));
  out.seconds = seconds;
  return true;
}

// The rest of the cell after the date: nothing, or a time of day with optional
// AM/PM word and zone. `cjk` allows the time to follow 日 without a space.
bool parse_time_tail(Cursor& c, bool cjk, int32_t& seconds) {
  seconds = -1;
  const int sp = c.spaces();
  if (c.done()) return true;
  if (sp == 0 && !c.eat('T') && !c.eat('t') && !cjk) return false;

  int hi = c.word(kHalfWords, kHalfFirst);
  if (hi >= 0) c.spaces();
  int64_t h = 0, m = 0, sec = 0;
  if (!c.digits12(h)) return false;
  if (c.eat(':')) {
    if (c.digits(m) != 2) return false;
    if (c.eat(':')) {
      if (c.digits(sec) != 2) return false;
      const size_t mark = c.i;
      int64_t frac;
      if ((c.eat('.') || c.eat(',')) && c.digits(frac) == 0) c.i = mark;  // fraction ignored
    }
  } else if (c.eat(kHour) || c.eat(kDian)) {  // 14时03分05秒, 2点30分
    const int nm = c.digits(m);
    if (nm > 2) return false;
    if (nm > 0) {
      c.eat(kMinute);
      const int ns = c.digits(sec);
      if (ns > 2) return false;
      if (ns > 0) c.eat(kSecond);
    }
  } else {
    return false;
  }

  c.spaces();
  if (hi < 0) {
    hi = c.word(kHalfWords, kHalfFirst);
    c.spaces();
  }
  // Zone: Z, UTC, GMT, each optionally followed by an offset, or a bare offset.
  c.word(kZoneWords, kZoneFirst);
  const uint32_t sign = c.peek();
  if (sign == '+' || sign == '-') {  // +0400, +04:00, -5
    c.eat(sign);
    int64_t off;
    const int k = c.digits(off);
    if (k != 1 && k != 2 && k != 4) return false;
    if (k <= 2 && c.eat(':') && c.digits(off) != 2) return false;
  }
  c.spaces();
  if (!c.done()) return false;

  if (h > 23 || m > 59 || sec > 60) return false;
  if (sec == 60) sec = 59;  // leap second: keep the row, on the same minute
  if (hi >= 0) {
    const Half half = kHalfWords[hi].half;
    if (h > 12) {
      if (half == Half::am) return false;  // "14:00 AM" contradicts itself
    } else if (h == 12) {
      if (half == Half::am) h = 0;
    } else if (half == Half::pm) {
      h += 12;
    }
  }
  seconds = static_cast<int32_t>(h * 3600 + m * 60 + sec);
  return true;
}

// A plain integer 20000..80000, with an optional fraction of a day.
bool parse_serial(Cursor& c, int64_t serial, RawDate& out) {
  int32_t secs = -1;
  if (c.eat('.')) {
    int64_t frac;
    const int k = c.digits(frac);
    if (k == 0) return false;
    // digits() keeps the first 18; the first 9 are plenty at second resolution.
    int used = k < 18 ? k : 18;
    for (; used > 9; --used) frac /= 10;
    const int64_t den = static_cast<int64_t>(kPow10[used]);
    secs = static_cast<int32_t>((frac * 86400 + den / 2) / den);
    if (secs == 86400) {  // rounds up into the next day
      secs = 0;
      ++serial;
    }
  }
  c.spaces();
  if (!c.done()) return false;
  int32_t y, m, d;
  civil_from_days(static_cast<int32_t>(serial - kExcelEpoch), y, m, d);
  out = RawDate{};
  out.shape = DateShape::ymd;
  out.year = y;
  out.first = static_cast<uint8_t>(m);
  out.second = static_cast<uint8_t>(d);
  out.seconds = secs;
  return true;
}

// ---- amounts ------------------------------------------------------------------

// The digits of an amount split at its separators, before deciding which
// separator (if any) is the decimal mark.
struct Body {
  static constexpr int kMaxDigits = 64;
  static constexpr int kMaxGroups = 24;
  char dig[kMaxDigits];
  uint8_t glen[kMaxGroups];     // digits in each group
  char sep[kMaxGroups];         // sep[k] separates group k and k + 1: , . ' or space
  int ndig = 0;
  int ngroups = 0;
  int exp = 0;
  bool has_exp = false;
};

// Reads digits into the current (last) group.
bool read_group(Cursor& c, Body& b) {
  for (;;) {
    size_t n;
    const uint32_t ch = c.peek(n);
    if (!is_digit(ch)) return true;
    if (b.ndig == Body::kMaxDigits || b.glen[b.ngroups - 1] == 255) return false;
    b.dig[b.ndig++] = static_cast<char>(ch);
    ++b.glen[b.ngroups - 1];
    c.i += n;
  }
}

// digits ((, | . | ' | space) digits)* [e[+-]digits]; a separator counts only
// when a digit follows it, so "12 元" and "12.-" end the number before the space.
bool scan_body(Cursor& c, Body& b) {
  b.ngroups = 1;
  b.glen[0] = 0;
  if (!read_group(c, b)) return false;
  for (;;) {
    size_t n;
    const uint32_t ch = c.peek(n);
    if (ch != ',' && ch != '.' && ch != ' ' && ch != '\'') break;
    const size_t at = c.i;
    c.i += n;
    if (!is_digit(c.peek())) {
      c.i = at;
      break;
    }
    if (b.ngroups == Body::kMaxGroups) return false;
    b.sep[b.ngroups - 1] = static_cast<char>(ch);
    b.glen[b.ngroups++] = 0;
    if (!read_group(c, b)) return false;
  }
  if (b.ndig == 0) return false;
  // A leading empty group is only ".5" / ",5".
  if (b.glen[0] == 0 && (b.ngroups != 2 || (b.sep[0] != '.' && b.sep[0] != ','))) return false;

  const uint32_t e = c.peek();
  if (e == 'e' || e == 'E') {
    const size_t at = c.i;
    ++c.i;
    bool neg = false;
    if (c.eat('-'))
      neg = true;
    else
      c.eat('+');
    int64_t v;
    const int k = c.digits(v);
    if (k == 0) {
      c.i = at;  // "12EUR": the E starts a currency code
    } else {
      if (k > 3) return false;
      b.has_exp = true;
      b.exp = static_cast<int>(neg ? -v : v);
    }
  }
  return true;
}

// Value × 10^4 of the body when group separator `dec` (-1: none) is the decimal
// mark, from the digits alone: exact, rounded half away from zero past 4 decimals.
bool body_units(const Body& b, int dec, uint64_t& units, bool& rounded) {
  int int_digits = 0;
  for (int g = 0; g < b.ngroups && (dec < 0 || g <= dec); ++g) int_digits += b.glen[g];
  // dig[0, keep) are the digits down to 10^-4 once the exponent moves the point.
  const int keep = int_digits + b.exp + kScaleDigits;
  uint64_t u = 0;
  for (int j = 0; j < b.ndig && j < keep; ++j) {
    const auto d = static_cast<uint64_t>(b.dig[j] - '0');
    if (u > (kMaxUnits - d) / 10) return false;
    u = u * 10 + d;
  }
  for (int j = b.ndig; j < keep && u != 0; ++j) {  // exponent past the last digit
    if (u > kMaxUnits / 10) return false;
    u *= 10;
  }
  rounded = false;
  if (keep < b.ndig) {
    // The first dropped digit decides; a point left of every digit drops them all.
    const int first = keep < 0 ? 0 : keep;
    for (int j = first; j < b.ndig; ++j) rounded |= b.dig[j] != '0';
    if (keep >= 0 && b.dig[keep] >= '5') {
      if (u == kMaxUnits) return false;
      ++u;
    }
  }
  units = u;
  return true;
}

// ASCII "-123.45" / "35.33" / "12": the shape of most amount columns.
bool fast_amount(std::string_view s, ParsedAmount& out) {
  size_t i = 0;
  const size_t n = s.size();
  const bool neg = n > 0 && s[0] == '-';
  i += neg;
  const size_t start = i;
  int64_t v = 0;
  for (; i < n && is_ascii_digit(s[i]); ++i) {
    if (i - start == 14) return false;  // long numbers take the checked path
    v = v * 10 + (s[i] - '0');
  }
  const size_t nint = i - start;
  if (nint == 0) return false;
  int64_t frac = 0;
  size_t nf = 0;
  if (i < n) {
    if (s[i] != '.') return false;
    const size_t f0 = ++i;
    for (; i < n && is_ascii_digit(s[i]); ++i) {
      if (i - f0 == 4) return false;
      frac = frac * 10 + (s[i] - '0');
    }
    nf = i - f0;
    // Three decimals may be a thousands group ("1.234"): the general path decides.
    if (i != n || nf == 0 || nf == 3 || nf > 4) return false;
  }
  int64_t units = v * kAmountScale + frac * static_cast<int64_t>(kPow10[kScaleDigits - nf]);
  if (neg) units = -units;
  out.units = out.alt_units = units;
  out.evidence = nf > 0 ? DecimalMark::dot : DecimalMark::unknown;
  return true;
}

// The characters between a cell's edges and its number: currency, sign, parentheses.
struct Affixes {
  Currency currency = Currency::none;
  bool neg = false;
  bool signed_ = false;  // a sign or parentheses already seen: at most one
  bool paren = false;    // an open parenthesis waiting for its ')'
};

void read_prefix(Cursor& c, Affixes& a) {
  c.spaces();
  for (int round = 0; round < 3; ++round) {
    const uint32_t ch = c.peek();
    if (!a.signed_ && (ch == '-' || ch == '+' || ch == '(')) {
      a.signed_ = true;
      a.neg = ch != '+';
      a.paren = ch == '(';
      c.eat(ch);
    } else if (a.currency == Currency::none) {
      const int w = c.word(kCurrencyWords, kCurrencyFirst);
      if (w < 0) return;
      a.currency = kCurrencyWords[w].currency;
    } else {
      return;
    }
    c.spaces();
  }
}

bool read_suffix(Cursor& c, Affixes& a) {
  c.spaces();
  bool suffix_currency = false;
  for (int round = 0; round < 3 && !c.done(); ++round) {
    const uint32_t ch = c.peek();
    if (!a.signed_ && ch == '-') {  // trailing minus: "12.00-"
      a.signed_ = a.neg = true;
      c.eat(ch);
    } else if (a.paren && ch == ')') {
      a.paren = false;
      c.eat(ch);
    } else if (!suffix_currency) {
      const int w = c.word(kCurrencyWords, kCurrencyFirst);
      if (w < 0) return false;
      const Currency cur = kCurrencyWords[w].currency;
      // "¥12元" says CNY twice; "$12 EUR" is a contradiction.
      if (a.currency != Currency::none && a.currency != cur) return false;
      a.currency = cur;
      suffix_currency = true;
    } else {
      return false;
    }
    c.spaces();
  }
  return c.done() && !a.paren;
}

}  // namespace

// ---- civil days -------------------------------------------------------------------

int32_t days_from_civil(int32_t y, int32_t m, int32_t d) {
  // int64 inside so extreme years do not overflow signed arithmetic.
  const int64_t yy = static_cast<int64_t>(y) - (m <= 2);
  const int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  const int64_t yoe = yy - era * 400;                                   // [0, 399]
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return static_cast<int32_t>(era * 146097 + doe - 719468);
}

void civil_from_days(int32_t day, int32_t& y, int32_t& m, int32_t& d) {
  const int64_t z = static_cast<int64_t>(day) + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;                                       // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  d = static_cast<int32_t>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int32_t>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int32_t>(yoe + era * 400 + (m <= 2));
}

std::string format_day(int32_t day) {
  int32_t y, m, d;
  civil_from_days(day, y, m, d);
  std::string out;
  out.reserve(12);
  int64_t year = y;
  if (year < 0) {
    out.push_back('-');
    year = -year;
  }
  char buf[12];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + year % 10);
    year /= 10;
  } while (year > 0);
  for (int k = n; k < 4; ++k) out.push_back('0');
  while (n > 0) out.push_back(buf[--n]);
  const char md[] = {'-', static_cast<char>('0' + m / 10), static_cast<char>('0' + m % 10),
                     '-', static_cast<char>('0' + d / 10), static_cast<char>('0' + d % 10)};
  out.append(md, sizeof md);
  return out;
}

bool valid_civil(int32_t y, int32_t m, int32_t d) {
  static constexpr int8_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap);
}

// ---- dates ----------------------------------------------------------------------

bool parse_date(std::string_view cell, RawDate& out) {
  const std::string_view s = clean_id(cell);
  if (fast_date(s, out)) return true;

  Cursor c{s};
  c.spaces();
  int64_t a;
  const int na = c.digits(a);
  RawDate r;
  bool cjk = false;
  if (na == 8 && (c.done() || c.peek() == ' ')) {
    // 20240820 / 19970101 (CDNOW). An 8-digit ID with no month/day shape is not a date.
    const int64_t mo = a / 100 % 100, dd = a % 100;
    if (mo < 1 || mo > 12 || dd < 1 || dd > 31) return false;
    r.shape = DateShape::ymd;
    r.year = static_cast<int32_t>(a / 10000);
    r.first = static_cast<uint8_t>(mo);
    r.second = static_cast<uint8_t>(dd);
  } else if (na == 5) {
    if (a < kSerialMin || a > kSerialMax) return false;
    return parse_serial(c, a, out);
  } else if (na == 4) {
    // 2024-08-20, 2024/8/20, 2024.8.20, 2024年8月20日
    size_t n;
    const uint32_t sep = c.peek(n);
    if (sep != '-' && sep != '/' && sep != '.' && sep != kYear) return false;
    c.i += n;
    cjk = sep == kYear;
    int64_t mo, dd;
    if (!c.digits12(mo) || !c.eat(cjk ? kMonth : sep) || !c.digits12(dd)) return false;
    if (cjk && !c.eat(kDay)) c.eat(kHao);
    r.shape = DateShape::ymd;
    r.year = static_cast<int32_t>(a);
    r.first = static_cast<uint8_t>(mo);
    r.second = static_cast<uint8_t>(dd);
  } else if (na == 1 || na == 2) {
    // 12/1/2010, 20.08.2024, 8-20-2024: order decided per column.
    size_t n;
    const uint32_t sep = c.peek(n);
    if (sep != '-' && sep != '/' && sep != '.') return false;
    c.i += n;
    int64_t b, y;
    // Two-digit years are refused, not guessed.
    if (!c.digits12(b) || !c.eat(sep) || c.digits(y) != 4) return false;
    r.shape = DateShape::day_month;
    r.year = static_cast<int32_t>(y);
    r.first = static_cast<uint8_t>(a);
    r.second = static_cast<uint8_t>(b);
  } else {
    return false;
  }
  if (!parse_time_tail(c, cjk, r.seconds)) return false;
  out = r;
  return true;
}

bool resolve_date(const RawDate& d, DateOrder order, int32_t& day) {
  int32_t month, dom;
  if (d.shape == DateShape::ymd) {
    month = d.first;
    dom = d.second;
  } else if (order == DateOrder::dmy) {
    dom = d.first;
    month = d.second;
  } else if (order == DateOrder::mdy) {
    month = d.first;
    dom = d.second;
  } else {
    return false;  // the column's order is not known: the caller flags the cell
  }
  if (!valid_civil(d.year, month, dom)) return false;
  day = days_from_civil(d.year, month, dom);
  return true;
}

// ---- amounts ----------------------------------------------------------------------

const char* currency_code(Currency c) {
  switch (c) {
    case Currency::none: return "";
    case Currency::CNY: return "CNY";
    case Currency::USD: return "USD";
    case Currency::EUR: return "EUR";
    case Currency::GBP: return "GBP";
    case Currency::JPY: return "JPY";
    case Currency::HKD: return "HKD";
    case Currency::TWD: return "TWD";
    case Currency::other: return "XXX";  // ISO 4217's code for "no specific currency"
  }
  return "";
}

namespace {
// Every form but the plain decimal of fast_amount. (Out of line: the plain form is what almost
// every cell is, and a small parse_amount is compiled sooner by V8's optimising tier.)
CUSTLENS_NOINLINE bool parse_amount_general(const std::string_view s, DecimalMark mark, ParsedAmount& out) {
  Cursor c{s};
  Affixes a;
  read_prefix(c, a);
  Body b;
  if (!scan_body(c, b)) return false;
  if (!read_suffix(c, a)) return false;

  // Which separator is the decimal mark.
  const int nsep = b.ngroups - 1;
  int ncomma = 0, ndot = 0, last_mark = -1;
  for (int k = 0; k < nsep; ++k) {
    if (b.sep[k] == ',' || b.sep[k] == '.') {
      ncomma += b.sep[k] == ',';
      ndot += b.sep[k] == '.';
      last_mark = k;
    }
  }
  int dec = -1;
  bool ambiguous = false;
  DecimalMark evidence = DecimalMark::unknown;
  if (ncomma > 0 && ndot > 0) {
    // 1,234.50 / 1.234,50: the last mark is the decimal one and must be unique.
    const char k = b.sep[last_mark];
    if ((k == ',' ? ncomma : ndot) != 1) return false;
    dec = last_mark;
    evidence = k == ',' ? DecimalMark::comma : DecimalMark::dot;
  } else if (ncomma + ndot == 1) {
    const char k = b.sep[last_mark];
    dec = last_mark;
    // "1,234" could be either; not when other grouping, an exponent, a leading
    // zero or a long first group shows the mark can only be decimal.
    ambiguous = !b.has_exp && nsep == 1 && b.glen[1] == 3 && b.glen[0] >= 1 && b.glen[0] <= 3 &&
                b.dig[0] != '0';
    if (!ambiguous) evidence = k == ',' ? DecimalMark::comma : DecimalMark::dot;
  } else if (ncomma + ndot > 1) {
    // 1,234,567 / 1.234.567: repeated marks can only be thousands separators.
    evidence = ncomma > 0 ? DecimalMark::dot : DecimalMark::comma;
  }
  if (dec >= 0 && dec != nsep - 1) return false;  // no grouping after the decimals
  const int nthousands = nsep - (dec >= 0 ? 1 : 0);
  for (int k = 0; k < nthousands; ++k)
    if (b.glen[k + 1] != 3) return false;
  if (nthousands > 0 && (b.glen[0] < 1 || b.glen[0] > 3)) return false;

  int primary = dec, other = dec;
  if (ambiguous) {
    // The column's mark decides; unknown reads '.' as decimal and ',' as thousands.
    const char decimal_char = mark == DecimalMark::comma ? ',' : '.';
    primary = b.sep[dec] == decimal_char ? dec : -1;
    other = primary >= 0 ? -1 : dec;
  }
  uint64_t units, alt;
  bool rounded, alt_rounded;
  if (!body_units(b, primary, units, rounded)) return false;
  if (other == primary) {
    alt = units;
  } else if (!body_units(b, other, alt, alt_rounded)) {
    return false;
  }
  const int64_t sign = a.neg ? -1 : 1;
  out.units = sign * static_cast<int64_t>(units);
  out.alt_units = sign * static_cast<int64_t>(alt);
  out.currency = a.currency;
  out.ambiguous = ambiguous;
  out.evidence = evidence;
  out.rounded = rounded;
  return true;
}
}  // namespace

bool parse_amount(std::string_view cell, DecimalMark mark, ParsedAmount& out) {
  out = ParsedAmount{};
  const std::string_view s = clean_id(cell);
  if (fast_amount(s, out)) return true;
  return parse_amount_general(s, mark, out);
}

// ---- identifiers ------------------------------------------------------------------

std::string_view detail::clean_id_wrapped(std::string_view cell) {
  std::string_view s = trim(cell);
  // Each wrapper once, in either order ('="0012" or ="'0012"), trimming again
  // inside because the tab exports add sits inside the marker as often as outside.
  bool unwrapped = false, marked = false;
  for (;;) {
    if (!unwrapped && s.size() >= 3 && s[0] == '=' && s[1] == '"' && s.back() == '"') {
      s = trim(s.substr(2, s.size() - 3));
      unwrapped = true;
    } else if (!marked && !s.empty() && (s[0] == '\'' || s[0] == '`')) {
      s = trim(s.substr(1));
      marked = true;
    } else {
      return s;
    }
  }
}

}  // namespace custlens
