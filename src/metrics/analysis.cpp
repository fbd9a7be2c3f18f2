#include "metrics/analysis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>
#include <stdexcept>

#include "blocks.h"
#include "data/status.h"
#include "io/values.h"

namespace custlens {

const char* const kLifecycleNames[5] = {"lapsed", "new", "reactivated", "at_risk", "active"};

const char* const kSegmentNames[11] = {"Champions",      "Loyal Customers", "Potential Loyalists",
                                       "New Customers",  "Promising",       "Need Attention",
                                       "About to Sleep", "At Risk",         "Can't Lose Them",
                                       "Hibernating",    "Lost"};

// metrics.md section 5, rows R = 1..5, columns FM = 1..5 (indices into kSegmentNames).
const uint8_t kSegmentGrid[5][5] = {
    /* R=1 */ {10, 9, 7, 8, 8},
    /* R=2 */ {9, 7, 7, 7, 8},
    /* R=3 */ {6, 5, 1, 1, 1},
    /* R=4 */ {4, 2, 1, 0, 0},
    /* R=5 */ {3, 2, 1, 0, 0},
};

uint8_t rfm_score(uint64_t worse, uint64_t ties, uint64_t n) {
  // 1 + floor(5 (w + t/2) / n), in integers: floor(5 (2w + t) / 2n).
  return uint8_t(1 + (5 * (2 * worse + ties)) / (2 * n));
}

int32_t month_index(int32_t day) {
  int32_t y, m, d;
  civil_from_days(day, y, m, d);
  return y * 12 + (m - 1);
}

std::string month_label(int32_t month) {
  int32_t y = month / 12, m = month % 12 + 1;
  return std::to_string(y) + (m < 10 ? "-0" : "-") + std::to_string(m);
}

namespace {

constexpr double kScale = double(kAmountScale);

int32_t months_per(Granularity g) { return g == Granularity::month ? 1 : g == Granularity::quarter ? 3 : 12; }

// Period p's index for a month index.
int32_t period_of_month(int32_t month, Granularity g) {
  int32_t k = months_per(g);
  return month >= 0 ? month / k : -((-month + k - 1) / k);
}

std::string period_label(int32_t p, Granularity g) {
  if (g == Granularity::month) return month_label(p);
  if (g == Granularity::quarter) return std::to_string(p / 4) + "-Q" + std::to_string(p % 4 + 1);
  return std::to_string(p);
}

int32_t period_start_day(int32_t p, Granularity g) {
  int32_t m = p * months_per(g);
  return days_from_civil(m / 12, m % 12 + 1, 1);
}

std::string format_money(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::optional<double> ratio(double a, double b) {
  if (b == 0) return std::nullopt;
  return a / b;
}

// Puts the values of sorted positions rank[0..nr) (ascending, within [lo, hi)) of a[lo, hi)
// in their places: a quickselect that follows every rank, and sorts a part instead once
// `depth` partitions are used up (no quadratic worst case, unlike std::nth_element in
// libc++, which has no such limit).
void select_ranks(double* a, size_t lo, size_t hi, const size_t* rank, size_t nr, int depth) {
  while (nr && hi - lo > 1) {
    if (hi - lo <= 16 || depth-- == 0) {
      std::sort(a + lo, a + hi);
      return;
    }
    double x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
    double pivot = std::max(std::min(x, y), std::min(std::max(x, y), z));  // median of three
    // Hoare partition: [lo, j] <= pivot <= [j + 1, hi), both parts non-empty.
    size_t i = lo - 1, j = hi;
    while (true) {
      while (a[++i] < pivot) {}
      while (pivot < a[--j]) {}
      if (i >= j) break;
      std::swap(a[i], a[j]);
    }
    size_t k = 0;
    while (k < nr && rank[k] <= j) ++k;
    select_ranks(a, lo, j + 1, rank, k, depth);
    rank += k, nr -= k, lo = j + 1;
  }
}

// Scores 1..5 for values where a larger value is better. The score only grows with the
// value, so four cuts fix it: the k-th cut is the first run of equal values (in sorted
// order) scoring above k, and that run is the one at sorted position floor(k n / 5) or the
// next one. A selection finds those four values, one pass counts their runs, with no sort of
// all n values.
void score_column(const std::vector<double>& values, std::vector<uint8_t>& out) {
  size_t n = values.size();
  out.assign(n, 0);
  if (!n) return;
  size_t rank[4];
  for (uint64_t k = 1; k <= 4; ++k) rank[k - 1] = size_t(k * n / 5);
  double cut[4];
  {
    std::vector<double> a(values);
    int depth = 2;
    for (size_t m = n; m > 1; m >>= 1) depth += 2;
    select_ranks(a.data(), 0, n, rank, 4, depth);
    for (int k = 0; k < 4; ++k) cut[k] = a[rank[k]];
  }
  uint64_t below[4] = {}, equal[4] = {};
  for_blocks(0, n, [&](size_t b, size_t e) CUSTLENS_NOINLINE {
    const double* v = values.data();
    uint64_t lt[4] = {}, eq[4] = {};
    for (size_t i = b; i < e; ++i)
      for (int k = 0; k < 4; ++k) lt[k] += v[i] < cut[k], eq[k] += v[i] == cut[k];
    for (int k = 0; k < 4; ++k) below[k] += lt[k], equal[k] += eq[k];
  });
  // Above k: >= the cut value when its run scores above k, else > it (the next run does),
  // which is >= the next double up.
  for (int k = 0; k < 4; ++k)
    if (rfm_score(below[k], equal[k], n) <= k + 1) cut[k] = std::nextafter(cut[k], std::numeric_limits<double>::infinity());
  for_blocks(0, n, [&](size_t b, size_t e) CUSTLENS_NOINLINE {
    const double* v = values.data();
    uint8_t* score = out.data();
    const double c0 = cut[0], c1 = cut[1], c2 = cut[2], c3 = cut[3];
    for (size_t i = b; i < e; ++i) score[i] = uint8_t(1 + (v[i] >= c0) + (v[i] >= c1) + (v[i] >= c2) + (v[i] >= c3));
  });
}

// The same for small non-negative integers (recency in days, purchase counts): a histogram
// instead of a selection. `larger_is_better` false scores small values high (recency).
template <class T>
void score_counts(const std::vector<T>& values, bool larger_is_better, std::vector<uint8_t>& out) {
  size_t n = values.size();
  out.assign(n, 0);
  if (!n) return;
  T top = values[0];
  for_blocks(0, n, [&](size_t b, size_t e) CUSTLENS_NOINLINE {
    const T* v = values.data();
    T m = top;
    for (size_t i = b; i < e; ++i) m = std::max(m, v[i]);
    top = m;
  });
  std::vector<uint64_t> count(size_t(top) + 1, 0);
  for_blocks(0, n, [&](size_t b, size_t e) CUSTLENS_NOINLINE {
    const T* v = values.data();
    uint64_t* c = count.data();
    for (size_t i = b; i < e; ++i) ++c[size_t(v[i])];
  });
  std::vector<uint8_t> score(count.size(), 0);
  uint64_t worse = 0;
  for (size_t k = 0; k < count.size(); ++k) {
    size_t v = larger_is_better ? k : count.size() - 1 - k;
    if (count[v]) score[v] = rfm_score(worse, count[v], n);
    worse += count[v];
  }
  for_blocks(0, n, [&](size_t b, size_t e) CUSTLENS_NOINLINE {
    const T* v = values.data();
    const uint8_t* by_value = score.data();
    uint8_t* o = out.data();
    for (size_t i = b; i < e; ++i) o[i] = by_value[size_t(v[i])];
  });
}

// clv_gross and clv_simple (metrics.md section 2), from the three metrics already in the
// report: a null input makes them null, with the input's reason.
void add_clv(Analysis& a) {
  auto find = [&](const char* id) -> const Metric& {
    for (const Metric& m : a.metrics)
      if (m.id == id) return m;
    throw std::logic_error(std::string("metric ") + id + " is computed before clv_gross");
  };
  const Metric& aov = find("customer_aov");
  const Metric& frequency = find("purchase_frequency");
  const Metric& lifespan = find("avg_customer_lifespan");
  Metric gross{"clv_gross", std::nullopt, "currency", "customer_aov × purchase_frequency × avg_customer_lifespan", {}, ""};
  for (const Metric* m : {&aov, &frequency, &lifespan}) {
    if (!m->value) {
      gross.reason = m->id + " is null: " + m->reason;
      break;
    }
    gross.inputs.push_back({m->id, *m->value});
  }
  if (gross.reason.empty()) gross.value = *aov.value * *frequency.value * *lifespan.value;
  // cac needs a spend table, which this version does not read: clv_simple is clv_gross, and says so.
  Metric simple{"clv_simple", gross.value, "currency",
                "clv_gross − cac; cac omitted (it needs a spend table), so clv_simple = clv_gross", {}, gross.reason};
  if (gross.value) simple.inputs = {{"clv_gross", *gross.value}};
  a.metrics.push_back(std::move(gross));
  a.metrics.push_back(std::move(simple));
}

// The per-row customer columns and the day/return offsets (n + 1) to n rows. (Out of line, as
// the other helpers below: a loop in analyze()'s own body spans most of the function in wasm,
// and each turn spends V8's tier-up budget by the size of that span, so analyze() itself was
// compiled by TurboFan, 80-100 ms of background work, to run once.)
CUSTLENS_NOINLINE void size_customer_rows(CustomerColumns& cc, size_t n) {
  for (auto* col : {&cc.ids, &cc.orders, &cc.btyd_frequency}) col->resize(n);
  for (auto* col : {&cc.first_purchase, &cc.last_purchase, &cc.recency_days, &cc.t_x, &cc.T, &cc.cohort}) col->resize(n);
  for (auto* col : {&cc.total_spend, &cc.mean_order_value, &cc.repeat_spend, &cc.btyd_monetary}) col->resize(n);
  cc.lifecycle.resize(n);
  cc.day_start.resize(n + 1);  // day_start[0] = 0
  cc.return_start.resize(n + 1);
}

// The currency, status and channel rows that have orders, named.
CUSTLENS_NOINLINE void add_breakdowns(const OrdersTable& t, std::vector<Analysis::ChannelRow>& currency_rows,
                                      std::vector<StatusCount>& status_counts, const std::vector<uint64_t>& status_rows,
                                      std::vector<Analysis::ChannelRow>& channel_rows, Analysis& a) {
  size_t stated = 0;
  for (uint32_t c = 0; c < currency_rows.size(); ++c) {
    auto& row = currency_rows[c];
    if (!row.orders && !row.returns) continue;
    row.revenue = double(row.revenue_units) / kScale;
    row.channel = std::string(t.currencies.get(c));
    stated += !row.channel.empty();
    a.currencies.push_back(row);
  }
  a.mixed_currencies = stated > 1;
  for (uint32_t s = 0; s < status_counts.size(); ++s) {
    status_counts[s].rows = status_rows[s];
    if (status_counts[s].orders && !(s == 0 && status_counts[s].status.empty())) a.statuses.push_back(status_counts[s]);
  }
  for (size_t ch = 0; ch < channel_rows.size(); ++ch) {
    if (!channel_rows[ch].orders && !channel_rows[ch].returns) continue;
    channel_rows[ch].revenue = double(channel_rows[ch].revenue_units) / kScale;
    channel_rows[ch].channel = ch < t.channels.size() ? std::string(t.channels.get(uint32_t(ch))) : "";
    a.channels.push_back(channel_rows[ch]);
  }
  std::sort(a.channels.begin(), a.channels.end(), [](const auto& x, const auto& y) { return x.channel < y.channel; });
}

// The periods from p0 to p1 of granularity g, clipped to [first, last].
CUSTLENS_NOINLINE std::vector<Period> make_periods(int32_t p0, int32_t p1, Granularity g, int32_t first, int32_t last) {
  std::vector<Period> periods;
  for (int32_t p = p0; p <= p1; ++p) {
    Period per;
    per.label = period_label(p, g);
    int32_t cal_start = period_start_day(p, g), cal_end = period_start_day(p + 1, g) - 1;
    per.start = std::max(cal_start, first);
    per.end = std::min(cal_end, last);
    per.partial = per.start != cal_start || per.end != cal_end;
    periods.push_back(per);
  }
  return periods;
}

}  // namespace

Analysis analyze(const OrdersTable& t, const AnalyzeOptions& opt, const CustomerBase* subscription_base) {
  Analysis a;
  a.options = opt;
  const size_t nlines = t.lines(), norders = t.orders();

  // 1. Statuses: the table's words, then the user's choices.
  std::vector<uint8_t> status_excluded(t.statuses.size(), 0);
  std::vector<StatusCount> status_counts(t.statuses.size());
  for (uint32_t s = 0; s < t.statuses.size(); ++s) {
    std::string_view word = t.statuses.get(s);
    StatusClass c = classify_status(word);
    std::string norm = normalize_status(word);
    for (const auto& e : opt.exclude_statuses)
      if (normalize_status(e) == norm) c.excluded = true, c.known = true;
    for (const auto& e : opt.include_statuses)
      if (normalize_status(e) == norm) c.excluded = false, c.known = true;
    status_excluded[s] = c.excluded;
    status_counts[s].status = std::string(word);
    status_counts[s].excluded = c.excluded;
    status_counts[s].known = c.known;
  }

  // 2. Orders from their lines, in one pass that also finds the date range. Lines after
  // as_of are ignored, and counted; with no as_of option none are (as_of is the last date).
  // Per order only what the rule needs: state bits, the day and the amount sum, 13 bytes
  // (the kernel zeroes every fresh page of these arrays, so each byte counts at millions of
  // orders). Day and amount are set by the order's first line, hence not zero-filled.
  enum : uint8_t {
    kUsed = 1,              // some line not rejected
    kSeen = 2,              // some line on or before as_of
    kFirstHasAmount = 4,
    kNegative = 8,          // some line with a negative quantity or amount
    kAmountLine = 16,       // at least one line with an amount ...
    kAmountLines2 = 32,     // ... or at least two
    kLineWithoutAmount = 64,
    kRefundsApply = 128,    // the first line's file does not have net amounts
  };
  std::vector<uint8_t> state(norders, 0);
  std::unique_ptr<int32_t[]> order_day(new int32_t[norders]);
  std::unique_ptr<int64_t[]> net(new int64_t[norders]);  // × kAmountScale: the lines' sum, then net of refunds
  std::vector<uint8_t> file_refunds_apply(t.amount_is_net.size());
  for (size_t f = 0; f < file_refunds_apply.size(); ++f) file_refunds_apply[f] = !t.amount_is_net[f];
  std::vector<uint64_t> status_rows(t.statuses.size(), 0);
  const int32_t cutoff = opt.as_of ? *opt.as_of : std::numeric_limits<int32_t>::max();
  int32_t lo = std::numeric_limits<int32_t>::max(), hi = std::numeric_limits<int32_t>::min();
  for_blocks(0, nlines, [&](size_t b, size_t e) CUSTLENS_NOINLINE {
    const uint8_t* line_flags = t.line_flags.data();
    const uint32_t* line_order = t.line_order.empty() ? nullptr : t.line_order.data();  // (empty: line i, order i)
    const int32_t* line_day = t.line_day.data();
    const int64_t* line_amount = t.line_amount.data();
    const uint16_t* line_file = t.line_file.empty() ? nullptr : t.line_file.data();  // (empty: all 0)
    const uint32_t* order_status = t.order_status.empty() ? nullptr : t.order_status.data();
    const uint8_t* refunds_apply = file_refunds_apply.data();
    const size_t nfiles = file_refunds_apply.size();
    uint8_t* st = state.data();
    int32_t* days = order_day.get();
    int64_t* sums = net.get();
    uint64_t* rows = status_rows.data();
    int32_t blo = lo, bhi = hi;
    for (size_t i = b; i < e; ++i) {
      uint8_t fl = line_flags[i];
      if (fl & kLineUnused) continue;
      uint32_t o = line_order ? line_order[i] : uint32_t(i);
      int32_t day = line_day[i];
      blo = std::min(blo, day);
      bhi = std::max(bhi, day);
      uint8_t s = st[o] | kUsed;
      if (day > cutoff) {
        st[o] = s;
        ++a.rows_after_as_of;
        a.rows_after_as_of_lines.add(t.line_number[i]);
        continue;
      }
      bool has_amount = fl & kLineHasAmount;
      int64_t amount = has_amount ? line_amount[i] : 0;
      if (!(s & kSeen)) {
        uint16_t f = line_file ? line_file[i] : 0;
        s |= kSeen | (has_amount ? kFirstHasAmount | kAmountLine : 0) | ((f >= nfiles || refunds_apply[f]) ? kRefundsApply : 0);
        days[o] = day;
        sums[o] = amount;
      } else if (has_amount) {
        s |= (s & kAmountLine) ? kAmountLines2 : kAmountLine;
        sums[o] += amount;
      }
      if (!has_amount) s |= kLineWithoutAmount;
      if (fl & (kLineNegQty | kLineNegAmount)) s |= kNegative;
      st[o] = s;
      ++rows[order_status ? order_status[o] : 0];
    }
    lo = blo;
    hi = bhi;
  });
  if (lo > hi) {
    a.empty = true;
    a.as_of_source = "data";
    return a;
  }
  a.as_of = opt.as_of ? *opt.as_of : hi;
  a.as_of_source = opt.as_of ? "option" : "data";
  a.first_date = lo;
  if (a.first_date > a.as_of) {  // every row is after as_of (all counted above): nothing to compute
    a.empty = true;
    for (uint32_t o = 0; o < norders; ++o) a.orders_after_as_of += state[o] & kUsed;
    a.warnings.push_back({"rows_after_as_of",
                          "as_of " + format_day(a.as_of) + " is before the first order date " + format_day(lo) +
                              ": all " + std::to_string(a.rows_after_as_of) + " row(s) are after it",
                          a.rows_after_as_of, a.rows_after_as_of_lines.lines});
    return a;
  }

  // 3. Periods, and the month and period of each day in range (tables instead of a civil
  // conversion or division per order).
  Granularity g = opt.period;
  int32_t month_first = month_index(a.first_date), month_last = month_index(a.as_of);
  int32_t p0 = period_of_month(month_first, g), p1 = period_of_month(month_last, g);
  size_t np = size_t(p1 - p0 + 1);
  a.periods = make_periods(p0, p1, g, a.first_date, a.as_of);
  std::vector<int64_t> per_revenue(np, 0), per_id_revenue(np, 0);  // exact, × kAmountScale
  std::vector<uint64_t> per_orders(np, 0), per_id_orders(np, 0), per_customers(np, 0), per_repeat(np, 0),
      per_returning(np, 0);
  int32_t nmonths = month_last - month_first + 1;
  std::vector<uint32_t> month_of_day(size_t(a.as_of - a.first_date + 1));  // months since month_first
  for (int32_t d = a.first_date, m = month_first, next = period_start_day(m + 1, Granularity::month); d <= a.as_of;
       ++d) {
    if (d == next) next = period_start_day(++m + 1, Granularity::month);
    month_of_day[size_t(d - a.first_date)] = uint32_t(m - month_first);
  }
  std::vector<uint32_t> period_of(size_t(nmonths), 0);  // by months since month_first, from p0
  for (int32_t m = 0; m < nmonths; ++m) period_of[size_t(m)] = uint32_t(period_of_month(month_first + m, g) - p0);

  // 4. Classify each order: excluded by status, purchase, or return (metrics.md section 1,
  // "the rule"); `state` becomes the order's kind. The same pass sums statuses, currencies,
  // channels and periods, and counts each customer's orders.
  enum : uint8_t { kIgnored = 0, kPurchase, kReturn, kExcluded };
  std::vector<uint8_t>& kind = state;
  int64_t revenue_units = 0, purchase_units = 0, return_units = 0, guest_units = 0;
  std::vector<Analysis::ChannelRow> currency_rows(t.currencies.size());
  std::vector<Analysis::ChannelRow> channel_rows(t.any_channel_column ? t.channels.size() + 1 : 0);
  const uint32_t ncust_ids = uint32_t(t.customer_count());
  // Customer c's orders go to [start[c + 1], start[c + 2]) while they are placed, which
  // leaves them at [start[c], start[c + 1]) (one array, no copy of the offsets).
  std::vector<uint32_t> start(size_t(ncust_ids) + 2, 0);
  for_blocks(0, norders, [&](size_t b, size_t e) CUSTLENS_NOINLINE {
    uint8_t* kinds = kind.data();
    int64_t* sums = net.get();
    const int32_t* days = order_day.get();
    const uint32_t* order_status = t.order_status.empty() ? nullptr : t.order_status.data();  // (empty: all 0)
    const int64_t* order_refunded = t.order_refunded.empty() ? nullptr : t.order_refunded.data();
    const uint32_t* order_customer = t.order_customer.data();
    const uint32_t* order_currency = t.order_currency.empty() ? nullptr : t.order_currency.data();
    const uint32_t* order_channel = t.order_channel.data();
    const uint8_t* excluded = status_excluded.data();
    const uint32_t* month_of = month_of_day.data();
    const uint32_t* period_of_m = period_of.data();
    uint32_t* counts = start.data();
    const bool channels = t.any_channel_column;
    const uint32_t no_channel = uint32_t(t.channels.size());
    const int32_t first_date = a.first_date;
    int64_t revenue = 0, purchased = 0, returned = 0, guests = 0;
    for (size_t o = b; o < e; ++o) {
      uint8_t s = kinds[o];
      if (!(s & kSeen)) {
        a.orders_after_as_of += s & kUsed;  // (an order whose rows were all rejected is in neither)
        kinds[o] = kIgnored;
        continue;
      }
      ++a.orders_total;
      uint32_t st = order_status ? order_status[o] : 0;
      ++status_counts[st].orders;
      if (excluded[st]) {
        kinds[o] = kExcluded;
        ++a.excluded_orders;
        continue;
      }
      // Some lines carry amounts, some not: sum what is there, unless the first line alone
      // has one (an order total on the first line only, Shopify's Total).
      if ((s & kLineWithoutAmount) && !((s & kFirstHasAmount) && !(s & kAmountLines2))) ++a.partial_amount_orders;
      int64_t refunded = s & kRefundsApply && order_refunded ? order_refunded[o] : 0;
      int64_t n = sums[o] - refunded;
      sums[o] = n;
      bool purchase = n > 0 || (n == 0 && !(s & kNegative) && refunded == 0);
      kinds[o] = purchase ? kPurchase : kReturn;
      revenue += n;
      if (purchase) {
        ++a.purchases;
        purchased += n;
        if (n == 0) ++a.zero_value_purchases;
      } else {
        ++a.returns;
        returned += n;
      }
      uint32_t c = order_customer[o];
      if (c == Interner::kNone) {
        guests += n;
        purchase ? ++a.guest_purchases : ++a.guest_returns;
      } else {
        ++counts[size_t(c) + 2];
      }
      auto& cur = currency_rows[order_currency ? order_currency[o] : 0];
      (purchase ? cur.orders : cur.returns)++;
      cur.revenue_units += n;
      if (channels) {
        auto& ch = channel_rows[order_channel[o] == Interner::kNone ? no_channel : order_channel[o]];
        (purchase ? ch.orders : ch.returns)++;
        ch.revenue_units += n;
      }
      size_t p = period_of_m[month_of[size_t(days[o] - first_date)]];
      per_revenue[p] += n;
      per_orders[p] += purchase;
    }
    revenue_units += revenue;
    purchase_units += purchased;
    return_units += returned;
    guest_units += guests;
  });
  a.guest_revenue = double(guest_units) / kScale;
  add_breakdowns(t, currency_rows, status_counts, status_rows, channel_rows, a);

  // 5. Customers: orders grouped by customer (a counting sort), then each customer's
  // orders by day.
  a.has_customers = t.any_customer_column;
  for_blocks(0, ncust_ids, [&](size_t b, size_t e) CUSTLENS_NOINLINE {  // running sum (analyze() runs baseline code)
    uint32_t* counts = start.data();
    for (size_t c = b; c < e; ++c) counts[c + 2] += counts[c + 1];
  });
  // What the per-customer pass reads of each order, moved next to the customer's other
  // orders: one scattered write per order here, then only sequential reads.
  struct OrderRec {
    int32_t day;
    uint8_t purchase;
    int64_t net;
  };
  std::unique_ptr<OrderRec[]> recs(new OrderRec[start[ncust_ids + 1]]);  // every one written below
  for_blocks(0, norders, [&](size_t b, size_t e) CUSTLENS_NOINLINE {
    const uint32_t* order_customer = t.order_customer.data();
    const uint8_t* kinds = kind.data();
    const int32_t* days = order_day.get();
    const int64_t* sums = net.get();
    uint32_t* next = start.data() + 1;
    OrderRec* out = recs.get();
    for (size_t o = b; o < e; ++o) {
      uint32_t c = order_customer[o];
      if ((kinds[o] == kPurchase || kinds[o] == kReturn) && c != Interner::kNone)
        out[next[c]++] = {days[o], uint8_t(kinds[o] == kPurchase), sums[o]};
    }
  });
  // The per-order arrays are done with: their memory is reused for the customer columns below
  // (the wasm heap never shrinks, and each new page it touches is a page fault).
  std::vector<uint8_t>().swap(state);
  order_day.reset();
  net.reset();

  a.month0 = month_first;
  a.monthly_active.assign(size_t(nmonths), 0);
  a.cohort_size.assign(size_t(nmonths), 0);
  a.cohort_active.resize(size_t(nmonths));
  a.cohort_revenue.resize(size_t(nmonths));
  for (int32_t i = 0; i < nmonths; ++i) {
    a.cohort_active[size_t(i)].assign(size_t(nmonths - i), 0);
    a.cohort_revenue[size_t(i)].assign(size_t(nmonths - i), 0);
  }
  std::vector<std::vector<int64_t>> cohort_units{size_t(nmonths)};
  for (int32_t i = 0; i < nmonths; ++i) cohort_units[size_t(i)].assign(size_t(nmonths - i), 0);
  // Quarter cohorts: the same cells by quarter (whatever `period` is).
  a.quarter0 = period_of_month(month_first, Granularity::quarter);
  const int32_t nquarters = period_of_month(month_last, Granularity::quarter) - a.quarter0 + 1;
  std::vector<uint32_t> quarter_of(static_cast<size_t>(nmonths));  // by months since month_first
  for (int32_t m = 0; m < nmonths; ++m)
    quarter_of[size_t(m)] = uint32_t(period_of_month(month_first + m, Granularity::quarter) - a.quarter0);
  a.quarter_cohort_size.assign(size_t(nquarters), 0);
  a.quarter_cohort_active.resize(size_t(nquarters));
  a.quarter_cohort_revenue.resize(size_t(nquarters));
  std::vector<std::vector<int64_t>> quarter_units{size_t(nquarters)};
  for (int32_t i = 0; i < nquarters; ++i) {
    a.quarter_cohort_active[size_t(i)].assign(size_t(nquarters - i), 0);
    quarter_units[size_t(i)].assign(size_t(nquarters - i), 0);
  }
  // The transactional customer base (metrics/flow.h) and what the lifecycle stages need.
  const int32_t lapse = opt.lapse_days;
  const int32_t last_period_start = a.periods.back().start;
  CustomerBase purchase_base;
  purchase_base.reserve(ncust_ids, start[ncust_ids]);
  std::vector<int32_t> pdays, gaps;  // one customer's distinct purchase days, and gaps between them
  std::vector<int64_t> spend_units;  // per customer row, exact
  int64_t returns_only_units = 0;    // ids with returns and no purchase

  CustomerColumns& cc = a.customers;
  // At most one row per id: every column is sized for all of them, written by index and cut
  // to the rows written after the pass (a push_back per column per customer cost a fifth of
  // the pass in wasm).
  size_customer_rows(cc, ncust_ids);
  spend_units.resize(ncust_ids);
  size_t nrows = 0;
  // At most one purchase day per order: written by index, cut to size after the pass (a
  // push_back per day cost a tenth of analyze() in wasm).
  cc.purchase_days.resize(start[ncust_ids]);
  cc.purchase_day_units.resize(start[ncust_ids]);
  int32_t* purchase_day = cc.purchase_days.data();
  int64_t* purchase_day_units = cc.purchase_day_units.data();
  size_t npurchase_days = 0;
  uint64_t repeat_customers = 0, identified_purchases = 0;
  int64_t identified_spend = 0;
  for_blocks(0, ncust_ids, [&](size_t cb, size_t ce) CUSTLENS_NOINLINE {
    uint32_t *ids = cc.ids.data(), *orders = cc.orders.data(), *btyd_frequency = cc.btyd_frequency.data();
    int32_t *first_purchase = cc.first_purchase.data(), *last_purchase = cc.last_purchase.data();
    int32_t *recency_days = cc.recency_days.data(), *t_x = cc.t_x.data(), *T = cc.T.data(), *cohort = cc.cohort.data();
    double *total_spend = cc.total_spend.data(), *mean_order_value = cc.mean_order_value.data();
    double *repeat_spend = cc.repeat_spend.data(), *btyd_monetary = cc.btyd_monetary.data();
    uint8_t* lifecycle = cc.lifecycle.data();
    uint32_t *day_start = cc.day_start.data(), *return_start = cc.return_start.data();
    int64_t* spend_of = spend_units.data();
    size_t row = nrows;
    for (uint32_t c = uint32_t(cb); c < uint32_t(ce); ++c) {
      OrderRec* mine_begin = recs.get() + start[c];
      OrderRec* mine_end = recs.get() + start[size_t(c) + 1];
      if (mine_begin == mine_end) continue;
      // Orders in file order are usually in date order already; sort only when they are not.
      if (!std::is_sorted(mine_begin, mine_end, [](const OrderRec& x, const OrderRec& y) { return x.day < y.day; }))
        std::sort(mine_begin, mine_end, [](const OrderRec& x, const OrderRec& y) { return x.day < y.day; });
      struct Range {
        OrderRec *b, *e;
        OrderRec* begin() const { return b; }
        OrderRec* end() const { return e; }
      } mine{mine_begin, mine_end};
      uint32_t purchases = 0, days = 0;
      int32_t first = 0, last = 0, prev_day = std::numeric_limits<int32_t>::min();
      int64_t spend = 0, repeat = 0;
      pdays.clear();
      for (const OrderRec& r : mine) {
        spend += r.net;
        if (!r.purchase) {
          cc.return_days.push_back(r.day);
          cc.return_units.push_back(r.net);
          continue;
        }
        if (purchases == 0) first = r.day;
        last = r.day;
        ++purchases;
        if (r.day != prev_day) {
          ++days, prev_day = r.day, pdays.push_back(r.day);
          purchase_day[npurchase_days] = r.day;
          purchase_day_units[npurchase_days++] = 0;
        }
        purchase_day_units[npurchase_days - 1] += r.net;
        if (r.day > first) repeat += r.net;
      }
      if (purchases == 0) {  // returns only (of purchases made before the data starts)
        ++a.returns_without_purchase_customers;
        cc.return_days.resize(return_start[row]), cc.return_units.resize(return_start[row]);
        returns_only_units += spend;
        continue;
      }
      uint32_t ci = month_of_day[size_t(first - a.first_date)];  // the cohort, in months since month_first
      ids[row] = c;
      day_start[row + 1] = uint32_t(npurchase_days);
      return_start[row + 1] = uint32_t(cc.return_days.size());
      first_purchase[row] = first;
      last_purchase[row] = last;
      orders[row] = purchases;
      total_spend[row] = double(spend) / kScale;
      spend_of[row] = spend;
      mean_order_value[row] = double(spend) / kScale / purchases;
      repeat_spend[row] = double(repeat) / kScale;
      recency_days[row] = a.as_of - last;
      btyd_frequency[row] = days - 1;
      t_x[row] = last - first;
      T[row] = a.as_of - first;
      btyd_monetary[row] = days > 1 ? double(repeat) / kScale / (days - 1) : 0.0;
      cohort[row] = month_first + int32_t(ci);
      purchase_base.add_purchase_days(pdays.data(), pdays.size(), lapse);
      {
        // Lifecycle stage at as_of: the first rule that applies (metrics.md section 3).
        const int32_t recency = a.as_of - last;
        const size_t nd = pdays.size();
        Lifecycle stage;
        if (recency >= lapse) {
          stage = Lifecycle::lapsed;
        } else if (first >= last_period_start) {
          stage = Lifecycle::new_customer;
        } else if (last >= last_period_start && nd >= 2 && last - pdays[nd - 2] > lapse) {
          stage = Lifecycle::reactivated;  // out of the base between the two purchase days
        } else {
          bool at_risk;
          if (nd >= 3) {
            // recency > 2 × median gap, in integers: the median of an even count is the mean
            // of the middle two, so 2 × median is their sum.
            gaps.clear();
            for (size_t i = 1; i < nd; ++i) gaps.push_back(pdays[i] - pdays[i - 1]);
            size_t m = gaps.size(), mid = m / 2;
            std::nth_element(gaps.begin(), gaps.begin() + mid, gaps.end());
            int64_t twice_median = 2 * int64_t(gaps[mid]);
            if (m % 2 == 0) twice_median = int64_t(gaps[mid]) + *std::max_element(gaps.begin(), gaps.begin() + mid);
            at_risk = recency > twice_median;
          } else {
            at_risk = 2 * int64_t(recency) > lapse;  // recency > lapse_days / 2
          }
          stage = at_risk ? Lifecycle::at_risk : Lifecycle::active;
        }
        lifecycle[row] = uint8_t(stage);
        ++a.lifecycle_counts[uint8_t(stage)];
      }
      if (purchases >= 2) ++repeat_customers;
      identified_purchases += purchases;
      identified_spend += spend;

      // Months: actives, cohort cells (purchases make a customer active; revenue counts returns
      // too). Periods: customers, repeaters, returning customers, identified revenue. Days
      // ascend, so months and periods do: a customer's purchases in one period are one run.
      ++a.cohort_size[ci];
      int64_t* cohort_revenue = cohort_units[ci].data();
      uint64_t* cohort_active = a.cohort_active[ci].data();
      const uint32_t qi = quarter_of[ci];
      ++a.quarter_cohort_size[qi];
      int64_t* quarter_revenue = quarter_units[qi].data();
      uint64_t* quarter_active = a.quarter_cohort_active[qi].data();
      uint32_t last_quarter = std::numeric_limits<uint32_t>::max();
      uint32_t last_month = std::numeric_limits<uint32_t>::max(), run_period = 0, run = 0;
      auto end_run = [&] {
        per_id_orders[run_period] += run;
        ++per_customers[run_period];
        if (run >= 2) ++per_repeat[run_period];
        if (first < a.periods[run_period].start) ++per_returning[run_period];
      };
      for (const OrderRec& r : mine) {
        uint32_t m = month_of_day[size_t(r.day - a.first_date)];
        uint32_t p = period_of[m];
        per_id_revenue[p] += r.net;
        if (m >= ci) cohort_revenue[m - ci] += r.net;  // (not a return dated before the first purchase)
        const uint32_t q = quarter_of[m];
        if (q >= qi) quarter_revenue[q - qi] += r.net;
        if (!r.purchase) continue;
        if (m != last_month) {
          last_month = m;
          ++a.monthly_active[m];
          ++cohort_active[m - ci];
          if (q != last_quarter) last_quarter = q, ++quarter_active[q - qi];
        }
        if (run && p != run_period) end_run(), run = 0;
        run_period = p;
        ++run;
      }
      end_run();
      ++row;
    }
    nrows = row;
  });
  recs.reset();
  size_customer_rows(cc, nrows);
  spend_units.resize(nrows);
  cc.purchase_days.resize(npurchase_days);
  cc.purchase_day_units.resize(npurchase_days);

  a.returns_without_purchase_revenue = double(returns_only_units) / kScale;
  for (size_t i = 0; i < cohort_units.size(); ++i)
    for (size_t k = 0; k < cohort_units[i].size(); ++k) a.cohort_revenue[i][k] = double(cohort_units[i][k]) / kScale;
  for (size_t i = 0; i < quarter_units.size(); ++i) {
    a.quarter_cohort_revenue[i].resize(quarter_units[i].size());
    for (size_t k = 0; k < quarter_units[i].size(); ++k) a.quarter_cohort_revenue[i][k] = double(quarter_units[i][k]) / kScale;
  }

  // 6. RFM scores and segments.
  size_t n = cc.size();
  {
    score_counts(cc.recency_days, false, cc.r_score);  // more recent is better
    score_counts(cc.orders, true, cc.f_score);
    score_column(cc.mean_order_value, cc.m_score);
    cc.segment.resize(n);
    a.segments.resize(11);
    for (int s = 0; s < 11; ++s) a.segments[size_t(s)].name = kSegmentNames[s];
    bool level_used[3][6] = {};
    for_blocks(0, n, [&](size_t b, size_t e) CUSTLENS_NOINLINE {
      const uint8_t *r = cc.r_score.data(), *f = cc.f_score.data(), *m = cc.m_score.data();
      const int64_t* spend = spend_units.data();
      uint8_t* segment = cc.segment.data();
      for (size_t i = b; i < e; ++i) {
        int fm = (f[i] + m[i]) / 2;
        uint8_t seg = kSegmentGrid[r[i] - 1][fm - 1];
        segment[i] = seg;
        ++a.segments[seg].customers;
        a.segments[seg].revenue_units += spend[i];
        level_used[0][r[i]] = level_used[1][f[i]] = level_used[2][m[i]] = true;
      }
    });
    for (int k = 0; k < 3; ++k)
      for (int s = 1; s <= 5; ++s) a.score_levels[k] += level_used[k][s];
    for (auto& seg : a.segments) seg.revenue = double(seg.revenue_units) / kScale;
  }

  // 7. Headline metrics.
  const double revenue = double(revenue_units) / kScale;
  const double customers = double(n);
  const char* no_customers = t.any_customer_column ? "no customer has a purchase in the range"
                                                   : "needs a customer column (customer_id)";
  auto add = [&](Metric m) { a.metrics.push_back(std::move(m)); };
  add({"revenue", revenue, "currency", "sum of net order amounts over purchases and returns (guest orders included)",
       {{"purchases_revenue", double(purchase_units) / kScale},
        {"returns_revenue", double(return_units) / kScale},
        {"guest_revenue", a.guest_revenue}},
       ""});
  add({"orders", double(a.purchases), "count", "purchases: orders that are not returns and not excluded by status",
       {{"orders_seen", double(a.orders_total)},
        {"returns", double(a.returns)},
        {"excluded_by_status", double(a.excluded_orders)},
        {"guest_purchases", double(a.guest_purchases)}},
       ""});
  {
    Metric m{"customers", std::nullopt, "count", "distinct customer_ids with at least one purchase", {}, ""};
    if (t.any_customer_column) m.value = customers; else m.reason = no_customers;
    add(m);
  }
  {
    Metric m{"aov", ratio(revenue, double(a.purchases)), "currency", "revenue / orders (guest orders included)",
             {{"revenue", revenue}, {"orders", double(a.purchases)}}, ""};
    if (!m.value) m.reason = "no purchases";
    add(m);
  }
  double id_spend = double(identified_spend) / kScale;
  {
    Metric m{"customer_aov", ratio(id_spend, double(identified_purchases)), "currency",
             "net revenue of identified customers (their purchases and returns) / their purchases",
             {{"customer_revenue", id_spend}, {"customer_purchases", double(identified_purchases)}}, ""};
    if (!m.value) m.reason = no_customers;
    add(m);
  }
  {
    double years = double(a.as_of - a.first_date + 1) / 365.25;
    Metric m{"purchase_frequency", std::nullopt, "count",
             "purchases by identified customers / customers / years, years = (as_of − first date + 1) / 365.25",
             {{"customer_purchases", double(identified_purchases)}, {"customers", customers}, {"years", years}}, ""};
    if (!n) m.reason = no_customers;
    else if (a.as_of - a.first_date + 1 < 90) m.reason = "the data span fewer than 90 days; see the per-period series";
    else m.value = double(identified_purchases) / customers / years;
    add(m);
  }
  {
    Metric m{"repeat_purchase_rate", ratio(double(repeat_customers), customers), "ratio",
             "customers with >= 2 purchases / customers with >= 1 purchase",
             {{"repeat_customers", double(repeat_customers)}, {"customers", customers}}, ""};
    if (!m.value) m.reason = no_customers;
    add(m);
  }
  add({"returning_customer_share", std::nullopt, "ratio",
       "customers purchasing in the period who had purchased before it / customers purchasing in the period",
       {}, "defined per period: see series.returning_customer_share"});

  // 7b. The customer flow (metrics.md section 3): the base, per period and over the range,
  // and at as_of. Transactional unless a subscription base was given.
  {
    const bool subscription = subscription_base != nullptr;
    const CustomerBase& base = subscription ? *subscription_base : purchase_base;
    a.flow_base = subscription ? "subscription" : "transactional";
    if (t.any_customer_column || subscription) {
      std::vector<int32_t> bounds{a.first_date - 1};
      for (const Period& p : a.periods) bounds.push_back(p.end);
      a.flow = customer_flow(base, bounds);
      // Warm-up: S is cut short when the lapse window before the period's start reaches
      // before the data (a subscription base has no lapse window).
      for (const Period& p : a.periods) a.flow_warm_up.push_back(!subscription && p.start - a.first_date < lapse);
      a.flow_range = customer_flow(base, {a.first_date - 1, a.as_of})[0];
      a.flow_range_warm_up = !subscription;
    }
    const bool have = !a.flow.empty();
    const char* no_flow = "needs a customer column (customer_id)";
    const char* no_start = "no customers at period start";
    auto count_metric = [&](const char* id, const char* formula, uint64_t v) {
      Metric m{id, std::nullopt, "count", formula, {}, ""};
      if (have) m.value = double(v); else m.reason = no_flow;
      add(m);
    };
    const FlowCounts& w = a.flow_range;
    const double S = double(w.start), E = double(w.end), N = double(w.acquired);
    count_metric("customers_start", "|S|: customers in the base at the end of the day before first_date", w.start);
    count_metric("customers_end", "|E|: customers in the base at as_of", w.end);
    count_metric("new_customers", "|N|: customers whose first purchase (or signup) is in the range", w.acquired);
    count_metric("new_in_base", "|N ∩ E|: new customers still in the base at as_of", w.new_in_base);
    count_metric("retained", "|S ∩ E|", w.retained);
    count_metric("reactivated", "|E \\ S \\ N|: bought before the range, lapsed by its start, back by its end",
                 w.reactivated);
    count_metric("lost", "|S \\ E|", w.lost);
    auto rate = [&](const char* id, const char* unit, const char* formula, double num, double den,
                    std::vector<std::pair<std::string, double>> inputs) {
      Metric m{id, std::nullopt, unit, formula, std::move(inputs), ""};
      if (!have) m.reason = no_flow, m.inputs.clear();
      else if (den == 0) m.reason = no_start;
      else m.value = num / den;
      add(m);
    };
    rate("retention_rate", "ratio", "|retained| / |S| (retained = S ∩ E)", double(w.retained), S,
         {{"retained", double(w.retained)}, {"customers_start", S}, {"customers_end", E}, {"new_customers", N},
          {"reactivated", double(w.reactivated)}});
    rate("churn_rate", "ratio", "|lost| / |S| = 1 − retention_rate (lost = S \\ E)", double(w.lost), S,
         {{"lost", double(w.lost)}, {"customers_start", S}});
    rate("customer_growth_rate", "ratio", "(|E| − |S|) / |S|", E - S, S, {{"customers_end", E}, {"customers_start", S}});
    {
      Metric m{"net_customer_additions", std::nullopt, "count", "|E| − |S| = new_in_base + reactivated − lost",
               {{"customers_end", E}, {"customers_start", S}, {"new_in_base", double(w.new_in_base)},
                {"reactivated", double(w.reactivated)}, {"lost", double(w.lost)}}, ""};
      if (have) m.value = E - S; else m.reason = no_flow, m.inputs.clear();
      add(m);
    }
    // At as_of: the year ending at as_of (spec section 2), S = base(as_of − 365), E = base(as_of).
    {
      const int32_t year_start = a.as_of - 365;
      Metric m{"annual_churn_rate", std::nullopt, "ratio",
               "|lost| / |S| over the year ending at as_of: S = base(as_of − 365), E = base(as_of)", {}, ""};
      Metric life{"avg_customer_lifespan", std::nullopt, "years", "1 / annual_churn_rate", {}, ""};
      if (!have) {
        m.reason = life.reason = no_flow;
      } else {
        const int32_t history = year_start - a.first_date;
        if (!subscription && history < lapse) {
          m.reason = "needs (as_of − 365) − first date >= lapse_days (" + std::to_string(lapse) + " days); the data give " +
                     std::to_string(history) + ": base(as_of − 365) would be cut short by the start of the data";
          m.inputs = {{"days_before_year_start", double(history)}, {"lapse_days", double(lapse)}};
        } else {
          FlowCounts y = customer_flow(base, {year_start, a.as_of})[0];
          m.inputs = {{"lost", double(y.lost)}, {"customers_start", double(y.start)}, {"customers_end", double(y.end)},
                      {"new_customers", double(y.acquired)}, {"reactivated", double(y.reactivated)}};
          if (y.start == 0) m.reason = "no customers in the base a year before as_of";
          else m.value = double(y.lost) / double(y.start);
        }
        if (!m.value) life.reason = "annual_churn_rate is null: " + m.reason;
        else if (*m.value == 0) life.reason = "no customer of the base a year ago was lost: the lifespan is unbounded";
        else life.value = 1.0 / *m.value, life.inputs = {{"annual_churn_rate", *m.value}};
      }
      add(m);
      add(life);
      add_clv(a);
    }
    {
      Metric m{"lapsed_customer_share", std::nullopt, "ratio",
               "customers ever seen who are not in base(as_of) / customers ever seen", {}, ""};
      if (!have) {
        m.reason = no_flow;
      } else {
        BaseSnapshot b = base_snapshot(base, a.as_of);
        m.inputs = {{"lapsed_customers", double(b.out_of_base)}, {"customers_seen", double(b.seen)}};
        if (b.seen == 0) m.reason = no_customers;
        else m.value = double(b.out_of_base) / double(b.seen);
      }
      add(m);
    }
    if (have) {
      a.flow_series.reserve(11);  // references to the series are held while others are added
      auto fseries = [&](const char* id, const char* unit, const char* formula) -> Series& {
        a.flow_series.push_back({id, unit, std::vector<std::optional<double>>(np), std::vector<std::string>(np), formula});
        return a.flow_series.back();
      };
      struct CountCol {
        const char* id;
        const char* formula;
        uint64_t FlowCounts::*field;
      };
      static const CountCol kCounts[] = {
          {"customers_start", "|S|, S = base(a − 1)", &FlowCounts::start},
          {"customers_end", "|E|, E = base(b)", &FlowCounts::end},
          {"new_customers", "|N|: first purchase (or signup) in [a, b]", &FlowCounts::acquired},
          {"new_in_base", "|N ∩ E|", &FlowCounts::new_in_base},
          {"retained", "|S ∩ E|", &FlowCounts::retained},
          {"reactivated", "|E \\ S \\ N|", &FlowCounts::reactivated},
          {"lost", "|S \\ E|", &FlowCounts::lost},
      };
      for (const auto& col : kCounts) {
        Series& s = fseries(col.id, "count", col.formula);
        for (size_t p = 0; p < np; ++p) s.values[p] = double(a.flow[p].*(col.field));
      }
      Series& ret = fseries("retention_rate", "ratio", "|retained| / |S|");
      Series& churn = fseries("churn_rate", "ratio", "|lost| / |S|");
      Series& growth = fseries("customer_growth_rate", "ratio", "(|E| − |S|) / |S|");
      Series& net = fseries("net_customer_additions", "count", "|E| − |S| = new_in_base + reactivated − lost");
      for (size_t p = 0; p < np; ++p) {
        const FlowCounts& f = a.flow[p];
        const double s0 = double(f.start);
        net.values[p] = double(f.end) - s0;
        if (f.start == 0) {
          ret.reasons[p] = churn.reasons[p] = growth.reasons[p] = no_start;
          continue;
        }
        ret.values[p] = double(f.retained) / s0;
        churn.values[p] = double(f.lost) / s0;
        growth.values[p] = (double(f.end) - s0) / s0;
      }
    }
  }

  // 8. Series.
  auto series = [&](const char* id, const char* unit) -> Series& {
    a.series.push_back({id, unit, std::vector<std::optional<double>>(np), std::vector<std::string>(np), ""});
    return a.series.back();
  };
  {
    Series& s = series("revenue", "currency");
    for (size_t p = 0; p < np; ++p) s.values[p] = double(per_revenue[p]) / kScale;
  }
  {
    Series& s = series("orders", "count");
    for (size_t p = 0; p < np; ++p) s.values[p] = double(per_orders[p]);
  }
  {
    Series& s = series("aov", "currency");
    for (size_t p = 0; p < np; ++p)
      if (!(s.values[p] = ratio(double(per_revenue[p]) / kScale, double(per_orders[p])))) s.reasons[p] = "no purchases";
  }
  if (t.any_customer_column) {
    Series& s1 = series("customers", "count");
    for (size_t p = 0; p < np; ++p) s1.values[p] = double(per_customers[p]);
    Series& s2 = series("customer_aov", "currency");
    for (size_t p = 0; p < np; ++p)
      if (!(s2.values[p] = ratio(double(per_id_revenue[p]) / kScale, double(per_id_orders[p]))))
        s2.reasons[p] = "no customer purchases";
    Series& s3 = series("purchase_frequency", "count");
    for (size_t p = 0; p < np; ++p)
      if (!(s3.values[p] = ratio(double(per_id_orders[p]), double(per_customers[p])))) s3.reasons[p] = "no customers";
    Series& s4 = series("repeat_purchase_rate", "ratio");
    for (size_t p = 0; p < np; ++p)
      if (!(s4.values[p] = ratio(double(per_repeat[p]), double(per_customers[p])))) s4.reasons[p] = "no customers";
    Series& s5 = series("returning_customer_share", "ratio");
    for (size_t p = 0; p < np; ++p)
      if (!(s5.values[p] = ratio(double(per_returning[p]), double(per_customers[p])))) s5.reasons[p] = "no customers";
  }

  // Money in several currencies is never summed: null, with the per-currency figures instead.
  if (a.mixed_currencies) {
    std::string list;
    for (const auto& c : a.currencies)
      list += (list.empty() ? "" : ", ") + (c.channel.empty() ? std::string("not stated") : c.channel) + " " +
              std::to_string(c.orders) + " orders";
    std::string why = "amounts are in several currencies (" + list + "): see breakdowns.currency";
    static const char* const kMoneyInputs[] = {"purchases_revenue", "returns_revenue", "guest_revenue",
                                               "revenue", "customer_revenue"};
    for (auto& m : a.metrics) {
      if (m.unit == "currency" && m.value) m.value.reset(), m.reason = why;
      for (const char* k : kMoneyInputs)
        m.inputs.erase(std::remove_if(m.inputs.begin(), m.inputs.end(), [&](const auto& in) { return in.first == k; }),
                       m.inputs.end());
    }
    for (auto& sr : a.series)
      if (sr.unit == "currency")
        for (size_t p = 0; p < sr.values.size(); ++p) sr.values[p].reset(), sr.reasons[p] = why;
    a.warnings.push_back({"mixed_currencies",
                          "Amounts are in several currencies (" + list +
                              "): money metrics are given per currency only (breakdowns.currency); per-customer "
                              "spend, the M score, guest, segment, cohort and channel revenue mix currencies",
                          a.currencies.size(), {}});
  }

  if (!a.mixed_currencies && a.currencies.size() == 2 && a.currencies[0].channel.empty()) {
    const auto& unstated = a.currencies[0];
    a.warnings.push_back({"currency_not_stated",
                          std::to_string(unstated.orders + unstated.returns) + " order(s) state no currency; the others are in " +
                              a.currencies[1].channel + ": all are taken to be " + a.currencies[1].channel,
                          unstated.orders + unstated.returns, {}});
  }

  // 9. Warnings about what the rules did.
  auto warn = [&](const char* code, uint64_t count, std::string msg, std::vector<uint64_t> lines = {}) {
    if (count) a.warnings.push_back({code, std::move(msg), count, std::move(lines)});
  };
  warn("guest_orders", a.guest_purchases + a.guest_returns,
       std::to_string(a.guest_purchases) + " purchase(s) and " + std::to_string(a.guest_returns) +
           " return(s) have no customer id (guest orders): they count in revenue, orders and aov, not in "
           "customer metrics");
  warn("rows_after_as_of", a.rows_after_as_of,
       std::to_string(a.rows_after_as_of) + " row(s) dated after as_of " + format_day(a.as_of) + " are ignored",
       a.rows_after_as_of_lines.lines);
  warn("returns_without_purchase", a.returns_without_purchase_customers,
       std::to_string(a.returns_without_purchase_customers) +
           " customer id(s) have returns but no purchase in the data (returns of earlier purchases): their returns, " +
           format_money(a.returns_without_purchase_revenue) + " in all, count in revenue only");
  warn("partial_amount_orders", a.partial_amount_orders,
       std::to_string(a.partial_amount_orders) +
           " order(s) have amounts on some lines but not all: the amounts present were summed");
  warn("zero_value_purchases", a.zero_value_purchases,
       std::to_string(a.zero_value_purchases) + " purchase(s) have a net amount of 0 (free items, promotions): counted as purchases");
  for (const auto& s : a.statuses)
    if (!s.known)
      warn("unknown_status", s.orders,
           "status \"" + s.status + "\" (" + std::to_string(s.orders) +
               " orders) is not in the status table: counted as a sale; exclude it if it is not one");
  if (n && a.score_levels[1] < 5)
    warn("few_frequency_levels", 1,
         "F has only " + std::to_string(a.score_levels[1]) +
             " distinct score(s): many customers share the same number of purchases (e.g. one-time buyers), so "
             "they share a score");
  return a;
}

}  // namespace custlens
