// UTF-8 validation with an ASCII fast path (most export bytes are ASCII).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace custlens {

/// Offset of the first byte that does not start or continue a valid UTF-8 sequence
/// (overlongs, surrogates and code points above U+10FFFF are invalid), or n when all
/// of [p, p + n) is valid. With `cut_ok`, a valid start of a sequence cut by the end of the
/// input (a sample of a longer file) counts as valid.
inline size_t utf8_invalid_at(const char* p, size_t n, bool cut_ok = false) {
  const auto* s = reinterpret_cast<const uint8_t*>(p);
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      if (!(w & 0x8080808080808080ULL)) {
        i += 8;
        continue;
      }
    }
    uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
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
    } else {
      return i;
    }
    for (size_t k = 1; k < len; ++k) {
      if (i + k == n) return cut_ok ? n : i;
      uint8_t b = s[i + k];
      if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) return i;
    }
    i += len;
  }
  return n;
}

}  // namespace custlens
