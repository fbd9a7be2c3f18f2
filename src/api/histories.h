// The customers' purchase histories of an analysis as bytes, and back: what the models need
// and nothing else, so they can be fitted apart from the files (the page's models worker,
// docs/architecture.md). Another engine of the same version reads them; the format is not a
// public file format (docs/report-schema.md, "histories()").
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "metrics/analysis.h"

namespace custlens {

/// The purchase histories of `a`'s customers (each one's purchase days with their net value,
/// its returns, its order count and total spend) with their ids (`name(i)` of row i), and the
/// analysis's first date, as_of and lapse window.
std::string encode_histories(const Analysis& a, const std::function<std::string_view(uint32_t)>& name);

/// Histories read back: an Analysis whose customer columns hold what predict() reads (ids are
/// the rows' own numbers, 0..n−1), and the ids' text.
struct Histories {
  Analysis analysis;
  std::string names;                 ///< the ids, back to back
  std::vector<uint64_t> name_end;    ///< row i's id is names[name_end[i−1], name_end[i])
  std::string_view name(uint32_t i) const {
    const uint64_t b = i ? name_end[i - 1] : 0;
    return std::string_view(names).substr(b, name_end[i] - b);
  }
};

/// Throws InputError "bad_histories" when the bytes are not histories of this version, or
/// are cut short or inconsistent (a day out of order, a count that does not add up).
Histories decode_histories(const char* data, size_t size);

}  // namespace custlens
