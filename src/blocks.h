// Passes that run once per call, split into calls over blocks of items.
//
// V8 (Node, Chromium) starts every WebAssembly function in its baseline compiler (Liftoff) and
// puts optimised code (TurboFan) in place only for a later *call*: it has no on-stack
// replacement for WebAssembly. A loop over a million rows in a function entered once per file
// (the loader's end-of-file passes, analyze()) therefore runs baseline code to its end, 3-4
// times slower (measured: analyze()'s order passes). Run over blocks, the loop's function is
// entered again and again, and every block after the first few runs optimised code. Natively it
// costs one call per block.
//
//   for_blocks(0, n, [&](size_t b, size_t e) CUSTLENS_NOINLINE {
//     const uint32_t* order = t.line_order.data();  // raw pointers once per block
//     for (size_t i = b; i < e; ++i) ...
//   });
//
// The reverse matters as much: a function entered once must not spend its own tier-up budget.
// V8 charges each turn of a loop by the size of the loop's code, and in wasm a loop whose body
// makes objects with destructors (strings, vectors, JSON) can span most of its function; a few
// dozen turns then make V8 compile the whole function with TurboFan in the background
// (analyze() took 80-100 ms of compile) for a function that never runs again. Such loops go
// into small functions of their own (make_periods, size_customer_rows, add_breakdowns,
// series_points in report.cpp). `node --trace-wasm-compilation-times` lists every TurboFan
// compile; a `--profiling-funcs` build names the functions.
//
// The block function must stay a function of its own: inlined into its caller, it would be
// entered once again. CUSTLENS_NOINLINE keeps the compiler from inlining it, and for_blocks
// calls it from two places because Binaryen (wasm-opt, at link) inlines a function that has a
// single call site unless it is larger than the limit CMakeLists.txt sets (and a block
// function can be smaller).
#pragma once

#include <algorithm>
#include <cstddef>

#define CUSTLENS_NOINLINE __attribute__((noinline))

namespace custlens {

/// Items per call: the first blocks run baseline code while V8 compiles the block function in
/// the background; small blocks switch sooner, and a call per 4,096 items costs nothing.
constexpr size_t kBlockItems = 4096;

/// Calls f(b, e) for consecutive ranges [b, e) covering [begin, end).
template <class F>
void for_blocks(size_t begin, size_t end, F&& f) {
  if (begin >= end) return;
  f(begin, std::min(end, begin + kBlockItems));
  for (size_t b = begin + kBlockItems; b < end; b += kBlockItems) f(b, std::min(end, b + kBlockItems));
}

}  // namespace custlens
