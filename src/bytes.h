// Short byte strings without a call: ids, dates and channel names are a few bytes, and in
// WebAssembly a variable-length memcpy or memcmp is a call (libc's byte loop, or memory.copy,
// which V8 runs out of line), as are std::string's append and compare (libc++ is compiled
// apart). Up to 16 bytes these are two overlapping loads; longer strings take the library call.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace custlens {

/// The n < 8 bytes at p as a little-endian integer (what memcpy into a zeroed uint64_t gives).
inline uint64_t load_short(const char* p, size_t n) {
  if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    return uint64_t(lo) | (uint64_t(hi) << (8 * (n - 4)));  // the overlap holds the same bytes
  }
  if (n == 0) return 0;
  return uint64_t(uint8_t(p[0])) | (uint64_t(uint8_t(p[n / 2])) << (8 * (n / 2))) |
         (uint64_t(uint8_t(p[n - 1])) << (8 * (n - 1)));
}

/// memcpy(d, s, n).
inline void copy_short(char* d, const char* s, size_t n) {
  if (n >= 8 && n <= 16) {
    uint64_t a, b;
    std::memcpy(&a, s, 8);
    std::memcpy(&b, s + n - 8, 8);
    std::memcpy(d, &a, 8);
    std::memcpy(d + n - 8, &b, 8);
  } else if (n >= 4 && n < 8) {
    uint32_t a, b;
    std::memcpy(&a, s, 4);
    std::memcpy(&b, s + n - 4, 4);
    std::memcpy(d, &a, 4);
    std::memcpy(d + n - 4, &b, 4);
  } else if (n > 16) {
    std::memcpy(d, s, n);
  } else if (n) {
    d[0] = s[0];
    d[n / 2] = s[n / 2];
    d[n - 1] = s[n - 1];
  }
}

/// memcmp(a, b, n) == 0.
inline bool same_bytes(const char* a, const char* b, size_t n) {
  if (n >= 8 && n <= 16) {
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&a1, a + n - 8, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&b1, b + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n < 8) return load_short(a, n) == load_short(b, n);
  return std::memcmp(a, b, n) == 0;
}

/// a == b.
inline bool same_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() && same_bytes(a.data(), b.data(), a.size());
}

}  // namespace custlens
