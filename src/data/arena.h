// A byte arena for millions of short strings (order and customer ids), appended once per row.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "bytes.h"

namespace custlens {

/// Texts appended at the end, each with its length, read back by offset; appends are inline
/// (copy_short), unlike std::string's. The bytes live in blocks of kBlock that are never moved
/// or copied: a growing single buffer would copy everything at each doubling and touch twice
/// the memory, and in wasm every fresh page is a page fault. An offset is a position in the
/// sequence of blocks (block × kBlock + offset in it); a text that does not fit the rest of a
/// block starts the next one, and a text longer than kBlock has a block of its own that takes
/// up as many positions as it needs.
class ByteArena {
 public:
  static constexpr int kShift = 20;
  static constexpr size_t kBlock = size_t(1) << kShift;

  /// The end of the last string: no string starts before it (a mark for truncate()).
  size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }
  /// Appends s with its length in front (one byte below 255, else 255 and four bytes), so
  /// that its offset alone finds it again (view_sized): no length column beside the offsets.
  /// Returns the offset: size(), unless s starts a new block.
  uint64_t append_sized(std::string_view s) {
    const size_t n = s.size(), head = n < 255 ? 1 : 5;
    if (room_ < head + n) next_block(head + n);
    if (head == 1) {
      cur_[0] = char(n);
    } else {
      const uint32_t n32 = uint32_t(n);
      cur_[0] = char(255);
      std::memcpy(cur_ + 1, &n32, 4);
    }
    copy_short(cur_ + head, s.data(), n);
    cur_ += head + n;
    room_ -= head + n;
    len_ += head + n;
    return len_ - head - n;
  }
  std::string_view view_sized(uint64_t at) const {
    const char* p = blocks_[size_t(at >> kShift)].get() + (at & (kBlock - 1));
    if (uint8_t(p[0]) < 255) return {p + 1, uint8_t(p[0])};
    uint32_t n;
    std::memcpy(&n, p + 1, 4);
    return {p + 5, n};
  }
  /// Forgets everything from offset n on (n an earlier size()).
  void truncate(size_t n) {
    if (n >= len_) return;
    len_ = n;
    blocks_.resize((n + kBlock - 1) >> kShift);
    cur_ = nullptr;
    room_ = 0;  // the next append starts a new block
  }
  void release() {
    std::vector<std::unique_ptr<char[]>>().swap(blocks_);
    cur_ = nullptr;
    len_ = room_ = 0;
  }

 private:
  // A block at the next block boundary with room for n bytes: kBlock, or n alone when n is
  // longer (its one string fills it, and empty slots stand for the further positions it
  // takes, so that every offset's block is blocks_[offset / kBlock]). Out of line: the
  // append stays small enough to inline into the per-row code.
  __attribute__((noinline)) void next_block(size_t n) {
    const size_t b = (len_ + kBlock - 1) >> kShift;
    blocks_.resize(b);
    const size_t cap = std::max(n, kBlock);
    cur_ = new char[cap];
    blocks_.emplace_back(cur_);
    blocks_.resize(b + ((cap + kBlock - 1) >> kShift));
    len_ = b << kShift;
    room_ = cap;
  }
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* cur_ = nullptr;
  size_t len_ = 0, room_ = 0;
};

/// An allocator whose value-less construct() leaves the bytes as they are: a vector's
/// resize(n) then costs no pass zero-filling the new elements, for columns sized ahead and
/// written by index (OrdersLoader). Elements are otherwise a std::vector's.
template <class T>
struct UninitAlloc : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = UninitAlloc<U>;
  };
  UninitAlloc() = default;
  template <class U>
  UninitAlloc(const UninitAlloc<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
template <class T, class U>
bool operator==(const UninitAlloc<T>&, const UninitAlloc<U>&) { return true; }
template <class T, class U>
bool operator!=(const UninitAlloc<T>&, const UninitAlloc<U>&) { return false; }

/// A column of plain values: resize() leaves new elements unset (see UninitAlloc).
template <class T>
using Column = std::vector<T, UninitAlloc<T>>;

}  // namespace custlens
