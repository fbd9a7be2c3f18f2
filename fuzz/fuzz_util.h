// Helpers shared by the fuzz targets: how an input is cut into chunks, and how a finding
// is reported. Header-only; see docs/fuzzing.md.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace custlens::fuzz {

/// splitmix64: a tiny deterministic generator, so a crash input replays the same cuts.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

/// Chunk boundaries (ascending offsets, excluding 0 and n) for an input of n bytes.
///
/// The input itself is never consumed: the whole of it is the file, so corpus files stay
/// meaningful seeds. Only the *cuts* come from its first 8 bytes (and its length): the
/// fuzzer mutating those bytes explores other chunkings. Sizes are drawn from the sizes
/// the tests use (1, 2, 3, 7, 42, 4096) plus random ones, so a multi-byte character, a
/// CR LF, a doubled quote or the 64 KiB sniff window can all fall across a cut.
inline std::vector<size_t> cuts_for(const uint8_t* data, size_t n) {
  uint64_t seed = n;
  for (size_t i = 0; i < n && i < 8; ++i) seed = seed * 131 + data[i];
  Rng rng{seed};
  const uint64_t mode = rng.next() % 4;
  static const size_t kSizes[] = {1, 2, 3, 7, 42, 4096};
  std::vector<size_t> cuts;
  size_t at = 0;
  const size_t fixed = kSizes[rng.next() % 6];
  while (true) {
    size_t step;
    switch (mode) {
      case 0: step = fixed; break;                         // one size throughout, like the tests
      case 1: step = kSizes[rng.next() % 6]; break;        // a mix of the tests' sizes
      case 2: step = 1 + rng.next() % 17; break;           // many small uneven pieces
      default: step = 1 + rng.next() % (n / 2 + 1); break; // a few large uneven pieces
    }
    at += step;
    if (at >= n) break;
    cuts.push_back(at);
  }
  return cuts;
}

/// A finding that is not a sanitizer report (a broken invariant): print and abort, so
/// libFuzzer saves the input as a crash.
[[noreturn]] inline void fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "\n== custlens fuzz invariant broken: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace custlens::fuzz
