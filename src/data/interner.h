// Interning: each distinct string gets a dense uint32 id. Strings live once in an arena;
// the hash table holds ids only. Used for the few-valued columns (statuses, channels,
// currencies); customer and order ids, with millions of values, are matched by sorting
// (data/orders.cpp) instead, which avoids a random memory access per row.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "bytes.h"
#include "hash.h"

namespace custlens {

namespace detail {
// Id characters packed by id_key, numbered in ASCII order: '-', 0-9, A-Z, '_', a-z (64).
struct IdAlphabet {
  int8_t v[256];
  constexpr IdAlphabet() : v() {
    for (int i = 0; i < 256; ++i) v[i] = -1;
    int n = 0;
    v[int('-')] = int8_t(n++);
    for (int c = '0'; c <= '9'; ++c) v[c] = int8_t(n++);
    for (int c = 'A'; c <= 'Z'; ++c) v[c] = int8_t(n++);
    v[int('_')] = int8_t(n++);
    for (int c = 'a'; c <= 'z'; ++c) v[c] = int8_t(n++);
  }
};
inline constexpr IdAlphabet kIdAlphabet{};
}  // namespace detail

/// The key customer and order ids are grouped by. An id of 1-9 characters from
/// [-0-9A-Z_a-z] (most exports' ids: `17850`, `536365`, `C81243354`) is packed exactly into
/// `code` (the length, then 6 bits a character: code order is length-then-byte order), and
/// its key is a bijection of that code, shifted left: an EVEN key names exactly one id, so
/// equal even keys need no text compare (the texts of millions of ids, read in hash order,
/// are a cache miss each). Any other id gets hash_bytes with the low bit set: equal ODD keys
/// must be confirmed by comparing the texts. `code` is 0 for those.
inline uint64_t id_key(const char* p, size_t n, uint64_t& code) {
  code = 0;
  if (n >= 1 && n <= 9) {
    uint64_t c = n;
    size_t i = 0;
    for (; i < n; ++i) {
      int v = detail::kIdAlphabet.v[uint8_t(p[i])];
      if (v < 0) break;
      c = (c << 6) | uint64_t(v);
    }
    if (i == n) {  // c < 10 * 2^54: mix it within 63 bits (odd multiplies and xor-shifts invert)
      code = c;
      constexpr uint64_t kMask = ~uint64_t(0) >> 1;
      c ^= c >> 31;
      c = (c * 0x7FB5D329728EA185ULL) & kMask;
      c ^= c >> 27;
      c = (c * 0x81DADEF4BC2DD44DULL) & kMask;
      c ^= c >> 33;
      return c << 1;
    }
  }
  return hash_bytes(p, n) | 1;
}
inline uint64_t id_key(const char* p, size_t n) {
  uint64_t code;
  return id_key(p, n, code);
}
/// True when two ids with this same key are the same id without comparing their texts.
inline bool id_key_exact(uint64_t key) { return (key & 1) == 0; }

/// A set of 64-bit hashes (open addressing): the rows of earlier files, for the overlap check.
class HashSet64 {
 public:
  /// Inserts h; returns false when it was already there.
  bool insert(uint64_t h) {
    if (h == 0) h = 1;  // 0 marks an empty slot
    if ((size_ + 1) * 2 > slots_.size()) grow();
    size_t mask = slots_.size() - 1;
    for (size_t i = size_t(h ^ (h >> 32)) & mask;; i = (i + 1) & mask) {
      if (slots_[i] == h) return false;
      if (slots_[i] == 0) {
        slots_[i] = h;
        ++size_;
        return true;
      }
    }
  }
  bool contains(uint64_t h) const {
    if (h == 0) h = 1;
    if (slots_.empty()) return false;
    size_t mask = slots_.size() - 1;
    for (size_t i = size_t(h ^ (h >> 32)) & mask;; i = (i + 1) & mask) {
      if (slots_[i] == h) return true;
      if (slots_[i] == 0) return false;
    }
  }
  size_t size() const { return size_; }

 private:
  void grow() {
    std::vector<uint64_t> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 4096 : old.size() * 2, 0);
    size_ = 0;
    for (uint64_t h : old)
      if (h) insert(h);
  }
  std::vector<uint64_t> slots_;
  size_t size_ = 0;
};

class Interner {
 public:
  static constexpr uint32_t kNone = 0xFFFFFFFFu;

  /// The id of `s`, adding it when new. Values of up to 16 bytes (a status, a channel, a
  /// currency: a few values repeated on every row) are looked up first among the last ones
  /// seen, by their bytes, which needs no hash.
  uint32_t intern(std::string_view s) {
    const size_t n = s.size();
    if (n > 16) return intern_new(s);
    uint64_t w0, w1 = 0;
    if (n >= 8) {
      std::memcpy(&w0, s.data(), 8);
      std::memcpy(&w1, s.data() + n - 8, 8);  // overlaps w0 below 16 bytes: still one per text
    } else {
      w0 = load_short(s.data(), n);
    }
    const uint64_t h = (((w0 ^ n) * 0x9E3779B97F4A7C15ULL) ^ w1) * 0xBF58476D1CE4E5B9ULL;
    Recent& r = recent_[size_t(h >> 58)];  // 64 slots: a few values rarely share one
    if (r.id != kNone && r.len == n && r.w0 == w0 && r.w1 == w1) return r.id;
    r = {w0, w1, uint32_t(n), intern_new(s)};
    return r.id;
  }

  std::string_view get(uint32_t id) const {
    uint64_t b = offsets_[id];
    uint64_t e = id + 1 < offsets_.size() ? offsets_[id + 1] : uint64_t(arena_.size());
    return {arena_.data() + b, size_t(e - b)};
  }

  size_t size() const { return offsets_.size(); }

  /// Forgets every id >= n (rolling back a file that failed to load).
  void truncate(size_t n) {
    if (n >= size()) return;
    arena_.resize(size_t(offsets_[n]));
    offsets_.resize(n);
    drop_from(n);
    for (Recent& r : recent_) r.id = kNone;
  }

  void clear() { *this = Interner(); }

 private:
  // The id of `s` from the hash table, adding it when new.
  uint32_t intern_new(std::string_view s) {
    if ((size() + 1) * 2 > slots_.size()) grow();  // at most half full: short probes
    uint32_t tag = uint32_t(hash_bytes(s.data(), s.size()));
    size_t mask = slots_.size() - 1;
    for (size_t i = tag & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.id == kNone) {
        uint32_t id = uint32_t(size());
        slot = {id, tag};
        offsets_.push_back(uint64_t(arena_.size()));
        arena_.append(s.data(), s.size());
        return id;
      }
      if (slot.tag == tag && same_text(get(slot.id), s)) return slot.id;
    }
  }

  struct Recent {  // a text of up to 16 bytes as two words (see intern) and its id
    uint64_t w0 = 0, w1 = 0;
    uint32_t len = 0, id = kNone;
  };
  Recent recent_[64];
  struct Slot {
    uint32_t id;
    uint32_t tag;  // low half of the hash: places the slot, and most mismatches end here
  };
  void grow() { rebuild(slots_.empty() ? 1024 : slots_.size() * 2); }
  // Re-places every slot from its tag alone: no string is read or hashed again.
  void rebuild(size_t n) {
    std::vector<Slot> old(n, Slot{kNone, 0});
    old.swap(slots_);
    size_t mask = n - 1;
    for (const Slot& s : old) {
      if (s.id == kNone) continue;
      size_t i = s.tag & mask;
      while (slots_[i].id != kNone) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  // After truncate(): the slots of forgotten ids are dropped, the rest re-placed.
  void drop_from(size_t n) {
    for (Slot& s : slots_)
      if (s.id != kNone && s.id >= n) s = Slot{kNone, 0};
    rebuild(slots_.size());
  }

  std::string arena_;
  std::vector<uint64_t> offsets_;
  std::vector<Slot> slots_;
};

}  // namespace custlens
