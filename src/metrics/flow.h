// The customer base and its flow (metrics.md section 3): who is in the base on a day, and
// per period S (base at the start), E (base at the end), N (acquired in the period),
// retained, lost, reactivated and new_in_base. The base is given per customer as sorted,
// disjoint "in base" intervals, so transactional customers (a lapse window after each
// purchase day) and subscription customers (signup to end, from a customers table) go
// through the same code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace custlens {

/// Days [start, end) during which a customer is in the base (end exclusive: on day `end`
/// they are out). An open subscription has end = kOpenEnd.
struct BaseInterval {
  int32_t start = 0, end = 0;
};
constexpr int32_t kOpenEnd = std::numeric_limits<int32_t>::max();

/// Every customer's acquisition day and in-base intervals, stored flat (CSR).
///
///   CustomerBase base;
///   base.add_subscription(signup, end);            // a customers table row
///   base.add_purchase_days(days, n, lapse_days);   // an orders customer
class CustomerBase {
 public:
  /// One customer: acquired on `acquired`, in base over `n` intervals sorted by start,
  /// disjoint, each non-empty and starting on or after `acquired` (checked: a bad input
  /// is an internal error). Touching intervals ([1,5) and [5,9)) are merged.
  void add(int32_t acquired, const BaseInterval* intervals, size_t n);
  /// A transactional customer from their distinct purchase days (ascending): in base on
  /// day t iff some purchase day d has t − lapse_days < d <= t, i.e. ∪ [d, d + lapse_days).
  void add_purchase_days(const int32_t* days, size_t n, int32_t lapse_days);
  /// A subscription customer: in base from signup to the day before `end` (nullopt-like
  /// kOpenEnd when they have not ended). An end on or before signup: never in base.
  void add_subscription(int32_t signup, int32_t end = kOpenEnd);

  size_t size() const { return acquired_.size(); }
  int32_t acquired(size_t c) const { return acquired_[c]; }
  const BaseInterval* begin(size_t c) const { return intervals_.data() + offset_[c]; }
  const BaseInterval* end(size_t c) const { return intervals_.data() + offset_[c + 1]; }
  /// Whether customer c is in base(t), the base at the end of day t.
  bool in_base(size_t c, int32_t t) const;
  void reserve(size_t customers, size_t intervals);

 private:
  std::vector<int32_t> acquired_;
  std::vector<uint32_t> offset_{0};
  std::vector<BaseInterval> intervals_;
};

/// The flow of one period (B_i, B_i+1]: S = base(B_i), E = base(B_i+1), N = customers
/// acquired in the period.
struct FlowCounts {
  uint64_t start = 0;        ///< |S|
  uint64_t end = 0;          ///< |E|
  uint64_t acquired = 0;     ///< |N|
  uint64_t new_in_base = 0;  ///< |N ∩ E|
  uint64_t retained = 0;     ///< |S ∩ E|
  uint64_t reactivated = 0;  ///< |E \ S \ N|
  uint64_t lost = 0;         ///< |S \ E|
};

/// The flow over consecutive periods given by their boundaries B_0 < B_1 < ... < B_n:
/// period i covers the days (B_i, B_i+1], so for calendar periods [a, b], B_i = a − 1 and
/// B_i+1 = b. One pass over the intervals (a binary search of the boundaries per interval),
/// so linear in the intervals. Throws std::logic_error if |E| − |S| = new_in_base +
/// reactivated − lost fails for a period (it cannot, by construction: an internal error).
std::vector<FlowCounts> customer_flow(const CustomerBase& base, const std::vector<int32_t>& boundaries);

/// Customers acquired on or before `day` and the number of them not in base(day).
struct BaseSnapshot {
  uint64_t seen = 0, out_of_base = 0;
};
BaseSnapshot base_snapshot(const CustomerBase& base, int32_t day);

}  // namespace custlens
