#include "metrics/flow.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "blocks.h"

namespace custlens {

void CustomerBase::reserve(size_t customers, size_t intervals) {
  acquired_.reserve(customers);
  offset_.reserve(customers + 1);
  intervals_.reserve(intervals);
}

void CustomerBase::add(int32_t acquired, const BaseInterval* iv, size_t n) {
  // Checked before anything is stored, so a refused customer leaves the base as it was.
  for (size_t i = 0; i < n; ++i) {
    if (iv[i].start >= iv[i].end || iv[i].start < acquired)
      throw std::logic_error("customer base: an interval is empty or starts before the acquisition day");
    if (i && iv[i].start < iv[i - 1].end) throw std::logic_error("customer base: intervals overlap or are not sorted");
  }
  acquired_.push_back(acquired);
  for (size_t i = 0; i < n; ++i) {
    const BaseInterval& x = iv[i];
    if (offset_.back() != intervals_.size()) {
      BaseInterval& last = intervals_.back();
      if (x.start == last.end) {  // touching: one stay in the base
        last.end = x.end;
        continue;
      }
    }
    intervals_.push_back(x);
  }
  offset_.push_back(uint32_t(intervals_.size()));
}

void CustomerBase::add_purchase_days(const int32_t* days, size_t n, int32_t lapse_days) {
  acquired_.push_back(n ? days[0] : 0);
  for (size_t i = 0; i < n; ++i) {
    int32_t d = days[i], e = d + lapse_days;
    // A purchase while still in the base (d <= the current end) extends the stay.
    if (offset_.back() != intervals_.size() && d <= intervals_.back().end) {
      intervals_.back().end = std::max(intervals_.back().end, e);
      continue;
    }
    intervals_.push_back({d, e});
  }
  offset_.push_back(uint32_t(intervals_.size()));
}

void CustomerBase::add_subscription(int32_t signup, int32_t end) {
  BaseInterval iv{signup, end};
  add(signup, &iv, end > signup ? 1 : 0);
}

bool CustomerBase::in_base(size_t c, int32_t t) const {
  const BaseInterval *b = begin(c), *e = end(c);
  // The last interval starting on or before t.
  const BaseInterval* it = std::upper_bound(b, e, t, [](int32_t day, const BaseInterval& x) { return day < x.start; });
  return it != b && t < (it - 1)->end;
}

namespace {

// The first k with B[k] >= day, for ascending boundaries B: from a table of the days between
// the first and the last boundary when they span at most kMaxDays (a few years of periods:
// customer_flow asks for every stay's two ends, and a binary search per end cost most of
// it), else by binary search.
class BoundaryIndex {
 public:
  explicit BoundaryIndex(const std::vector<int32_t>& b) : b_(b) {
    const int64_t span = int64_t(b.back()) - int64_t(b.front());
    if (span > kMaxDays) return;
    by_day_.resize(size_t(span) + 1);
    size_t k = 0;
    for (int64_t d = 0; d <= span; ++d) {
      while (int64_t(b[k]) - int64_t(b.front()) < d) ++k;
      by_day_[size_t(d)] = uint32_t(k);
    }
  }
  size_t operator()(int32_t day) const {
    if (day <= b_.front()) return 0;
    if (day > b_.back()) return b_.size();
    if (!by_day_.empty()) return by_day_[size_t(int64_t(day) - int64_t(b_.front()))];
    return size_t(std::lower_bound(b_.begin(), b_.end(), day) - b_.begin());
  }

 private:
  static constexpr int64_t kMaxDays = int64_t(1) << 20;
  const std::vector<int32_t>& b_;
  std::vector<uint32_t> by_day_;
};

}  // namespace

std::vector<FlowCounts> customer_flow(const CustomerBase& base, const std::vector<int32_t>& B) {
  const size_t nb = B.size();
  if (nb < 2) return {};
  const size_t np = nb - 1;
  // Boundary k is covered by a stay [s, e) iff s <= B_k < e: k in [first B_k >= s, first B_k >= e).
  const BoundaryIndex index(B);
  // Difference arrays over boundaries (in base) and periods (retained); counts per period.
  std::vector<int64_t> cover(nb + 1, 0), retained(np + 1, 0);
  std::vector<FlowCounts> out(np);
  for_blocks(0, base.size(), [&](size_t cb, size_t ce) CUSTLENS_NOINLINE {
    for (size_t c = cb; c < ce; ++c) {
      size_t ka = index(base.acquired(c));  // acquired in period ka − 1 when 1 <= ka <= np
      bool acquired_here = ka >= 1 && ka <= np;
      if (acquired_here) ++out[ka - 1].acquired;
      // The customer's covered boundaries as runs [k1, k2); stays that cover no boundary
      // (within one period) vanish, and runs that meet are one run: the customer is in the
      // base at every boundary of it, whichever stay covers it.
      size_t run_lo = 0, run_hi = 0;
      bool open = false;
      auto close = [&] {
        if (!open || run_lo == run_hi) return;
        ++cover[run_lo], --cover[run_hi];
        if (run_hi - run_lo >= 2) ++retained[run_lo], --retained[run_hi - 1];  // periods [k1, k2 − 1)
        // Enters the base in period k1 − 1 (at its end, not at its start) ...
        if (run_lo >= 1) {
          if (acquired_here && run_lo == ka) ++out[run_lo - 1].new_in_base;
          else ++out[run_lo - 1].reactivated;
        }
        // ... and leaves it in period k2 − 1.
        if (run_hi <= np) ++out[run_hi - 1].lost;
      };
      for (const BaseInterval* iv = base.begin(c); iv != base.end(c); ++iv) {
        size_t k1 = index(iv->start), k2 = iv->end == kOpenEnd ? nb : index(iv->end);
        if (k1 == k2) continue;
        if (open && k1 == run_hi) {
          run_hi = k2;
        } else {
          close();
          run_lo = k1, run_hi = k2, open = true;
        }
      }
      close();
    }
  });
  int64_t cov = 0, ret = 0;
  std::vector<int64_t> in_base(nb);
  for (size_t k = 0; k < nb; ++k) in_base[k] = cov += cover[k];
  for (size_t i = 0; i < np; ++i) {
    FlowCounts& f = out[i];
    ret += retained[i];
    f.start = uint64_t(in_base[i]);
    f.end = uint64_t(in_base[i + 1]);
    f.retained = uint64_t(ret);
    // Independent counts, so the identity is a real check: lost and reactivated came from
    // the runs' ends, retained from their insides, S and E from coverage.
    if (f.retained + f.lost != f.start || f.retained + f.new_in_base + f.reactivated != f.end ||
        int64_t(f.end) - int64_t(f.start) != int64_t(f.new_in_base + f.reactivated) - int64_t(f.lost))
      throw std::logic_error("customer flow: |E| - |S| = new_in_base + reactivated - lost fails for period " +
                             std::to_string(i) + " (S " + std::to_string(f.start) + ", E " + std::to_string(f.end) +
                             ", new_in_base " + std::to_string(f.new_in_base) + ", reactivated " +
                             std::to_string(f.reactivated) + ", lost " + std::to_string(f.lost) + ")");
  }
  return out;
}

BaseSnapshot base_snapshot(const CustomerBase& base, int32_t day) {
  BaseSnapshot s;
  for_blocks(0, base.size(), [&](size_t cb, size_t ce) CUSTLENS_NOINLINE {
    for (size_t c = cb; c < ce; ++c) {
      if (base.acquired(c) > day) continue;
      ++s.seen;
      s.out_of_base += !base.in_base(c, day);
    }
  });
  return s;
}

}  // namespace custlens
