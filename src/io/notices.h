// Counted warnings: every recovery the reader or the order rules make is a Notice with a
// count and the first few line numbers it covers, so nothing is dropped silently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace custlens {

/// A counted event with example line numbers (the first kMaxExamples).
struct Tally {
  static constexpr size_t kMaxExamples = 10;
  uint64_t count = 0;
  std::vector<uint64_t> lines;

  void add(uint64_t line, uint64_t n = 1) {
    count += n;
    if (lines.size() < kMaxExamples && line) lines.push_back(line);
  }
  void merge(const Tally& o) {
    count += o.count;
    for (uint64_t l : o.lines)
      if (lines.size() < kMaxExamples) lines.push_back(l);
  }
  explicit operator bool() const { return count != 0; }
};

/// A warning shown to the user: what happened, how often, where.
struct Notice {
  std::string code;     ///< stable id, e.g. "blank_lines"
  std::string message;  ///< one sentence a shop owner understands
  uint64_t count = 0;
  std::vector<uint64_t> lines;
};

/// "lines 3, 7, 12 …" for messages.
std::string describe_lines(const Tally& t);

}  // namespace custlens
