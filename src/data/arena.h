// A byte arena for millions of short strings (order and customer ids), appended once per row.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

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

}  // namespace custlens
