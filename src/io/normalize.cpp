#include "io/normalize.h"

#include <algorithm>
#include <vector>

namespace custlens {

namespace {

struct OrderRange {
  uint32_t first;
  uint16_t count;
  uint8_t rank;  // canonical ordering class, as a rank (only the order matters)
};
struct ComposePair16 {
  uint16_t first, second, composite;
};
struct ComposePair32 {
  uint32_t first, second, composite;
};

#include "io/normalize_data.inc"

// Hangul syllables are (de)composed by arithmetic (Unicode §3.12), not by table.
constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kSCount = 11172;
// A byte that is not UTF-8 travels through as this plus the byte (a starter with no mapping).
constexpr uint32_t kRawByte = 0x110000;

uint8_t rank_of(uint32_t cp) {
  if (cp < 0x300) return 0;
  const OrderRange* e = kOrder + sizeof kOrder / sizeof kOrder[0];
  const OrderRange* r = std::upper_bound(kOrder, e, cp, [](uint32_t c, const OrderRange& o) { return c < o.first; });
  if (r == kOrder) return 0;
  --r;
  return cp < r->first + r->count ? r->rank : 0;
}

uint32_t compose(uint32_t a, uint32_t b) {
  if (a <= 0xFFFF && b <= 0xFFFF) {
    const ComposePair16* e = kCompose16 + sizeof kCompose16 / sizeof kCompose16[0];
    const ComposePair16* p = std::lower_bound(kCompose16, e, std::make_pair(a, b), [](const ComposePair16& x, const auto& k) {
      return x.first != k.first ? x.first < k.first : x.second < k.second;
    });
    return p != e && p->first == a && p->second == b ? p->composite : 0;
  }
  for (const ComposePair32& p : kCompose32)
    if (p.first == a && p.second == b) return p.composite;
  return 0;
}

// Decodes one UTF-8 sequence at s[i]; a byte that does not start a valid one is returned as
// kRawByte + byte, length 1.
uint32_t decode(std::string_view s, size_t& i) {
  const uint8_t b0 = uint8_t(s[i]);
  auto cont = [&](size_t k) { return i + k < s.size() && (uint8_t(s[i + k]) & 0xC0) == 0x80; };
  uint32_t cp;
  size_t n;
  if (b0 < 0x80) {
    cp = b0, n = 1;
  } else if (b0 >= 0xC2 && b0 < 0xE0 && cont(1)) {
    cp = (b0 & 0x1Fu) << 6 | (uint8_t(s[i + 1]) & 0x3Fu), n = 2;
  } else if (b0 >= 0xE0 && b0 < 0xF0 && cont(1) && cont(2)) {
    cp = (b0 & 0x0Fu) << 12 | (uint8_t(s[i + 1]) & 0x3Fu) << 6 | (uint8_t(s[i + 2]) & 0x3Fu), n = 3;
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kRawByte + b0, n = 1;
  } else if (b0 >= 0xF0 && b0 < 0xF5 && cont(1) && cont(2) && cont(3)) {
    cp = (b0 & 0x07u) << 18 | (uint8_t(s[i + 1]) & 0x3Fu) << 12 | (uint8_t(s[i + 2]) & 0x3Fu) << 6 |
         (uint8_t(s[i + 3]) & 0x3Fu),
    n = 4;
    if (cp < 0x10000 || cp > 0x10FFFF) cp = kRawByte + b0, n = 1;
  } else {
    cp = kRawByte + b0, n = 1;
  }
  i += n;
  return cp;
}

void encode(uint32_t cp, std::string& out) {
  if (cp >= kRawByte) {
    out += char(cp - kRawByte);
  } else if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | cp >> 6);
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | cp >> 12);
    out += char(0x80 | (cp >> 6 & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | cp >> 18);
    out += char(0x80 | (cp >> 12 & 0x3F));
    out += char(0x80 | (cp >> 6 & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// Code points being normalised: on the stack for ids of up to 128 (all real ids), no global
// scratch (Emscripten without threads has no thread_local).
class CodePoints {
 public:
  void push_back(uint32_t c) {
    if (n_ == kInline && heap_.empty()) heap_.assign(inline_, inline_ + kInline);
    if (heap_.empty()) {
      inline_[n_++] = c;
    } else {
      heap_.push_back(c);
      ++n_;
    }
  }
  uint32_t* data() { return heap_.empty() ? inline_ : heap_.data(); }
  size_t size() const { return n_; }

 private:
  static constexpr size_t kInline = 128;
  uint32_t inline_[kInline];
  size_t n_ = 0;
  std::vector<uint32_t> heap_;
};

// Appends the full compatibility decomposition of cp.
void decompose(uint32_t cp, CodePoints& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    uint32_t i = cp - kSBase, t = i % kTCount;
    out.push_back(kLBase + i / (kVCount * kTCount));
    out.push_back(kVBase + i % (kVCount * kTCount) / kTCount);
    if (t) out.push_back(kTBase + t);
    return;
  }
  if (cp >= 0xA0 && cp <= 0xFFFF) {
    const uint16_t* e = kDecompCp + sizeof kDecompCp / sizeof kDecompCp[0];
    const uint16_t* p = std::lower_bound(kDecompCp, e, uint16_t(cp));
    if (p != e && *p == cp) {
      size_t k = size_t(p - kDecompCp);
      for (uint16_t j = kDecompAt[k]; j < kDecompAt[k + 1]; ++j) {
        uint32_t u = kDecompUtf16[j];
        if (u >= 0xD800 && u <= 0xDBFF) u = 0x10000 + ((u - 0xD800) << 10) + (kDecompUtf16[++j] - 0xDC00);
        out.push_back(u);
      }
      return;
    }
  }
  out.push_back(cp);
}

}  // namespace

bool is_invisible_format_char(uint32_t cp) {
  return cp == 0xAD || cp == 0x61C || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
         cp == 0x2060 || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

std::string_view normalize_key_into(std::string_view s, std::string& buf, bool* invisible) {
  CodePoints points;
  bool dropped = false;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = decode(s, i);
    if (is_invisible_format_char(cp)) {
      dropped = true;
      continue;
    }
    decompose(cp, points);
  }
  if (invisible) *invisible = dropped;
  uint32_t* cps = points.data();
  const size_t count = points.size();
  // Canonical order: a stable insertion sort of each run of non-starters by class.
  for (size_t i = 1; i < count; ++i) {
    uint32_t c = cps[i];
    uint8_t k = rank_of(c);
    if (!k) continue;
    size_t j = i;
    while (j > 0 && rank_of(cps[j - 1]) > k) cps[j] = cps[j - 1], --j;
    cps[j] = c;
  }
  // Composition: a character joins the last starter unless something between them blocks it
  // (a starter, or a mark of the same or a higher class).
  size_t out = 0, starter = SIZE_MAX;
  uint8_t last = 0;
  for (size_t i = 0; i < count; ++i) {
    const uint32_t c = cps[i];
    const uint8_t k = rank_of(c);
    const bool adjacent = starter != SIZE_MAX && out - 1 == starter;
    if (starter != SIZE_MAX && (adjacent || (last != 0 && last < k))) {
      const uint32_t a = cps[starter];
      uint32_t comp = 0;
      if (adjacent && a >= kLBase && a < kLBase + kLCount && c >= kVBase && c < kVBase + kVCount)
        comp = kSBase + ((a - kLBase) * kVCount + (c - kVBase)) * kTCount;
      else if (adjacent && a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && c > kTBase &&
               c < kTBase + kTCount)
        comp = a + (c - kTBase);
      else if (a < kRawByte && c < kRawByte)
        comp = compose(a, c);
      if (comp) {
        cps[starter] = comp;
        continue;
      }
    }
    if (k == 0) starter = out;
    last = k;
    cps[out++] = c;
  }
  buf.clear();
  for (size_t i = 0; i < out; ++i) encode(cps[i], buf);
  if (buf == s) return s;
  return buf;
}

std::string normalize_key(std::string_view s) {
  std::string buf;
  return std::string(normalize_key(s, buf));
}

}  // namespace custlens
