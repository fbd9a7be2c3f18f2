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

/// Bytes appended at the end, read back by offset; appends are inline (copy_short), unlike
/// std::string's.
class ByteArena {
 public:
  size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }
  const char* data() const { return bytes_.get(); }
  std::string_view view(uint64_t at, size_t n) const { return {bytes_.get() + at, n}; }
  void append(const char* p, size_t n) {
    if (capacity_ - len_ < n) grow(len_ + n);
    copy_short(bytes_.get() + len_, p, n);
    len_ += n;
  }
  void append(std::string_view s) { append(s.data(), s.size()); }
  /// Forgets everything from byte n on.
  void truncate(size_t n) {
    if (n < len_) len_ = n;
  }
  void release() {
    bytes_.reset();
    capacity_ = len_ = 0;
  }

 private:
  // Doubling, without zero-filling the new bytes as a vector's resize would.
  void grow(size_t need) {
    size_t cap = std::max<size_t>({capacity_ * 2, need, 4096});
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (len_) std::memcpy(bigger.get(), bytes_.get(), len_);
    bytes_ = std::move(bigger);
    capacity_ = cap;
  }
  std::unique_ptr<char[]> bytes_;
  size_t capacity_ = 0, len_ = 0;
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
