// Hashing bytes: the one hash the reader (row hashes) and the tables (id indexes) share. It
// lives here, below both layers, so src/io includes nothing from src/data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "bytes.h"

namespace custlens {

/// 64-bit hash of bytes: 8 bytes a step, 64-bit multiplies only (wasm32 has no fast
/// 128-bit multiply), murmur3's finaliser at the end.
inline uint64_t hash_bytes(const char* p, size_t n, uint64_t seed = 0x9E3779B97F4A7C15ULL) {
  uint64_t h = seed ^ (uint64_t(n) * 0xA0761D6478BD642FULL);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t tail = load_short(p, n);
  h = (h ^ tail ^ (uint64_t(n) << 56)) * 0x9E3779B97F4A7C15ULL;
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDULL;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace custlens
