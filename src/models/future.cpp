#include "models/future.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <unordered_map>

#include "data/btyd_summary.h"
#include "error.h"
#include "io/values.h"

namespace custlens {

using models::Model;

const char* time_unit_name(TimeUnit u) {
  switch (u) {
    case TimeUnit::days: return "days";
    case TimeUnit::weeks: return "weeks";
    case TimeUnit::months: return "months";
  }
  return "weeks";
}

double time_unit_days(TimeUnit u) {
  switch (u) {
    case TimeUnit::days: return 1;
    case TimeUnit::weeks: return 7;
    case TimeUnit::months: return kMonthDays;
  }
  return 7;
}

namespace {

constexpr double kScale = double(kAmountScale);

const char* model_name(Model m) {
  switch (m) {
    case Model::bg_nbd: return "BG/NBD";
    case Model::mbg_nbd: return "MBG/NBD";
    case Model::pareto_nbd: return "Pareto/NBD";
  }
  return "BG/NBD";
}
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// E[Y(t) | alive at T, x]: the expected purchases in the next t units of a customer known to
// be alive. Every model's conditional expectation is P(alive) times this, so value at risk
// ((1 − P(alive)) × the value if alive) needs no division by a tiny P(alive).
double expected_if_alive(Model m, const std::vector<double>& p, double t, double x, double T) {
  if (t <= 0) return 0;
  const double r = p[0], alpha = p[1];
  if (m == Model::pareto_nbd) {
    const double s = p[2], beta = p[3];
    const double scale = (r + x) * (beta + T) / (alpha + T);
    if (std::fabs(s - 1) < 1e-9) return scale * std::log1p(t / (beta + T));
    // (1 − ((β+T)/(β+T+t))^(s−1)) / (s − 1), computed without cancellation.
    return scale * -std::expm1(-(s - 1) * std::log1p(t / (beta + T))) / (s - 1);
  }
  const double a = p[2], b = p[3];
  const double z = t / (alpha + T + t);
  const double lead = std::pow((alpha + T) / (alpha + T + t), r + x);
  if (m == Model::bg_nbd)
    return (a + b + x - 1) / (a - 1) * (1 - lead * models::hyp2f1(r + x, b + x, a + b + x - 1, z));
  return (a + b + x) / (a - 1) * (1 - lead * models::hyp2f1(r + x, b + x + 1, a + b + x, z));  // MBG/NBD
}

// The discount factors and month ends of clv_predicted, in the model's unit.
struct Horizon {
  std::vector<double> t;         // t[m] = m months in units, m = 0..H
  std::vector<double> discount;  // 1 / (1 + d)^m
};
Horizon horizon(const PredictOptions& o) {
  Horizon h;
  const double month = kMonthDays / time_unit_days(o.unit);
  for (int m = 0; m <= o.horizon_months; ++m) {
    h.t.push_back(m * month);
    h.discount.push_back(std::pow(1 + o.monthly_discount, -m));
  }
  return h;
}

// Per (x, T): the discounted purchases Σ_m (E(m) − E(m−1)) / (1 + d)^m and E(H) of a
// customer alive at T. They do not depend on t_x, so a million customers need them only
// for their distinct (x, T) pairs.
struct AliveValue {
  double discounted = 0, purchases = 0;
};
class AliveCache {
 public:
  AliveCache(Model m, const std::vector<double>& params, const Horizon& h) : m_(m), params_(params), h_(h) {}
  const AliveValue& get(double x, double T) {
    Key k{x, T};
    auto it = cache_.find(k);
    if (it != cache_.end()) return it->second;
    AliveValue v;
    double prev = 0;
    for (size_t i = 1; i < h_.t.size(); ++i) {
      double e = expected_if_alive(m_, params_, h_.t[i], x, T);
      v.discounted += (e - prev) * h_.discount[i];
      prev = e;
    }
    v.purchases = prev;
    return cache_.emplace(k, v).first->second;
  }

 private:
  struct Key {
    double x, T;
    bool operator==(const Key& o) const { return x == o.x && T == o.T; }
  };
  struct Hash {
    size_t operator()(const Key& k) const {
      // Whole-number doubles have all-zero low bits, and size_t is 32 bits in wasm: mix
      // every bit into the low half (splitmix64's finaliser), or every key collides.
      uint64_t a, b;
      std::memcpy(&a, &k.x, 8);
      std::memcpy(&b, &k.T, 8);
      uint64_t h = a ^ (b * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull);
      h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
      h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
      return size_t(h ^ (h >> 31) ^ (h >> 32));
    }
  };
  Model m_;
  const std::vector<double>& params_;
  const Horizon& h_;
  std::unordered_map<Key, AliveValue, Hash> cache_;
};

std::vector<std::string> fit_failures(const models::Fit& f) {
  std::vector<std::string> w = f.warnings;
  if (w.empty()) w.push_back("the fit did not give usable parameters");
  return w;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : "; ") + x;
  return s;
}

double weighted_median(std::vector<std::pair<double, double>> vw) {
  if (vw.empty()) return kNaN;
  if (std::all_of(vw.begin(), vw.end(), [](const auto& p) { return p.second == 1; })) {
    // Unweighted (every customer row): a selection, not a sort of a million values.
    const size_t n = vw.size(), mid = n / 2;
    auto less = [](const auto& a, const auto& b) { return a.first < b.first; };
    std::nth_element(vw.begin(), vw.begin() + long(mid), vw.end(), less);
    double hi = vw[mid].first;
    if (n % 2) return hi;
    return (std::max_element(vw.begin(), vw.begin() + long(mid), less)->first + hi) / 2;
  }
  std::sort(vw.begin(), vw.end());
  double total = 0;
  for (auto& p : vw) total += p.second;
  double acc = 0;
  for (size_t i = 0; i < vw.size(); ++i) {
    acc += vw[i].second;
    if (acc > total / 2) return vw[i].first;
    if (acc == total / 2 && i + 1 < vw.size()) return (vw[i].first + vw[i + 1].first) / 2;
  }
  return vw.back().first;
}

Histogram fixed_histogram(const std::vector<double>& v, const std::vector<double>& w, std::vector<double> edges) {
  Histogram h;
  h.edges = std::move(edges);
  h.counts.assign(h.edges.size() - 1, 0);
  // Bins of one width (all but perhaps the last) are found by a division, checked against
  // the edges so rounding never puts a value on the wrong side of one.
  const size_t nb = h.counts.size();
  const double e0 = h.edges[0], step = nb >= 2 ? h.edges[1] - h.edges[0] : 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) continue;
    size_t b;
    double guess = step > 0 ? std::floor((v[i] - e0) / step) : -1;
    if (guess >= 0 && guess < double(nb)) {
      b = size_t(guess);
      while (b > 0 && v[i] < h.edges[b]) --b;
      while (b + 1 < nb && v[i] >= h.edges[b + 1]) ++b;
    } else {
      b = size_t(std::upper_bound(h.edges.begin(), h.edges.end(), v[i]) - h.edges.begin());
      b = b == 0 ? 0 : std::min(b - 1, nb - 1);
    }
    h.counts[b] += w.empty() ? 1 : uint64_t(std::llround(w[i]));
  }
  return h;
}

// Round bin width (1, 2, 2.5 or 5 × 10^k) for about `bins` bins up to `top`.
double nice_step(double top, int bins) {
  if (!(top > 0)) return 1;
  double raw = top / bins, p = std::pow(10, std::floor(std::log10(raw)));
  for (double f : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (f * p >= raw) return f * p;
  return 10 * p;
}

// The CLV histogram: 0 up to the 99th percentile in round steps; the last bin takes the
// rest, and negative values (returns larger than purchases cannot give one, but a margin
// can) the first.
Histogram clv_histogram(const std::vector<double>& clv, const std::vector<double>& w) {
  std::vector<double> sorted;
  for (double v : clv)
    if (std::isfinite(v)) sorted.push_back(v);
  if (sorted.empty()) return {};
  size_t k = size_t(0.99 * double(sorted.size() - 1));
  std::nth_element(sorted.begin(), sorted.begin() + long(k), sorted.end());
  double top = sorted[k], step = nice_step(top, 20);
  std::vector<double> edges;
  for (double e = 0; e < top + step / 2 && edges.size() < 40; e += step) edges.push_back(e);
  if (edges.size() < 2) edges.push_back(step);
  double mx = *std::max_element(clv.begin(), clv.end(), [](double a, double b) {
    return !std::isfinite(a) || (std::isfinite(b) && a < b);
  });
  if (mx > edges.back()) edges.push_back(mx);
  return fixed_histogram(clv, w, edges);
}

std::vector<uint32_t> top_rows(const std::vector<double>& v, size_t n) {
  std::vector<uint32_t> idx;
  for (uint32_t i = 0; i < v.size(); ++i)
    if (std::isfinite(v[i]) && v[i] > 0) idx.push_back(i);
  n = std::min(n, idx.size());
  std::partial_sort(idx.begin(), idx.begin() + long(n), idx.end(), [&](uint32_t a, uint32_t b) {
    return v[a] != v[b] ? v[a] > v[b] : a < b;
  });
  idx.resize(n);
  return idx;
}

// The spend model and the per-row expected order values. `x` and `m` per row; `w` weights
// (empty: 1 each).
void fit_spend(FutureValue& f, const std::vector<double>& x, const std::vector<double>& m, const std::vector<double>& w) {
  models::SpendData sd = models::spend_data(x.data(), m.data(), x.size(), w.empty() ? nullptr : w.data());
  f.spend_customers = uint64_t(std::llround(sd.customers));
  double all = w.empty() ? double(x.size()) : std::accumulate(w.begin(), w.end(), 0.0);
  f.spend_left_out = uint64_t(std::llround(all - sd.customers));
  const size_t n = x.size();
  f.expected_order_value.assign(n, kNaN);
  if (sd.customers < 10) {
    f.spend_reason = "the spend model needs at least 10 repeat buyers with a positive mean repeat spend; the data have " +
                     std::to_string(f.spend_customers);
    return;
  }
  f.spend_fit = models::fit_gamma_gamma(sd);
  if (!f.spend_fit.ok) {
    f.spend_reason = "the Gamma-Gamma fit failed: " + join(fit_failures(f.spend_fit));
    return;
  }
  const double p = f.spend_fit.params[0], q = f.spend_fit.params[1], g = f.spend_fit.params[2];
  if (q <= 1) {
    f.spend_reason = "the Gamma-Gamma fit gives q = " + std::to_string(q) +
                     " <= 1: the spend per order has no finite mean, so no order value can be predicted";
    return;
  }
  f.spend_fitted = true;
  f.population_mean_spend = p * g / (q - 1);
  for (size_t i = 0; i < n; ++i)
    f.expected_order_value[i] = (x[i] > 0 && m[i] > 0) ? models::expected_order_value(f.spend_fit.params, x[i], m[i])
                                                         : f.population_mean_spend;
}

// P(alive), expected purchases over the horizon, clv_predicted and value at risk per row.
void predict_rows(FutureValue& f, const std::vector<double>& x, const std::vector<double>& t_x,
                  const std::vector<double>& T) {
  const size_t n = x.size();
  const PredictOptions& o = f.options;
  f.p_alive.assign(n, kNaN);
  f.expected_purchases.assign(n, kNaN);
  f.clv.assign(n, kNaN);
  f.value_at_risk.assign(n, kNaN);
  if (!f.fit.ok) return;
  Horizon h = horizon(o);
  AliveCache cache(o.model, f.fit.params, h);
  for (size_t i = 0; i < n; ++i) {
    double p = models::p_alive(o.model, f.fit.params, x[i], t_x[i], T[i]);
    const AliveValue& v = cache.get(x[i], T[i]);
    f.p_alive[i] = p;
    f.expected_purchases[i] = p * v.purchases;
    if (f.spend_fitted) {
      double if_alive = v.discounted * f.expected_order_value[i] * o.margin;
      f.clv[i] = p * if_alive;
      f.value_at_risk[i] = (1 - p) * if_alive;
    }
  }
}

void add_metrics(FutureValue& f) {
  const PredictOptions& o = f.options;
  const std::vector<double>& w = f.weight;
  auto weight = [&](size_t i) { return w.empty() ? 1.0 : w[i]; };
  auto summarise = [&](const std::vector<double>& v, double& total, double& customers,
                       std::vector<std::pair<double, double>>* keep) {
    total = 0, customers = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      if (!std::isfinite(v[i])) continue;
      total += v[i] * weight(i), customers += weight(i);
      if (keep) keep->push_back({v[i], weight(i)});
    }
  };
  const std::string model = models::model_id(o.model);
  const std::string no_fit = "the " + model + " fit gave no usable parameters: " + join(fit_failures(f.fit));
  double total, customers;
  {
    Metric m{"clv_predicted", std::nullopt, "currency",
             "per customer: Σ over months m = 1..H of (E[X(m)] − E[X(m−1)]) × expected order value (Gamma-Gamma) × "
             "margin / (1 + d)^m; value = mean per customer",
             {}, ""};
    std::vector<std::pair<double, double>> values;
    summarise(f.clv, total, customers, &values);
    if (!f.fit.ok) m.reason = no_fit;
    else if (!f.spend_fitted) m.reason = f.spend_reason;
    else if (customers == 0) m.reason = "no customers";
    else {
      m.value = total / customers;
      m.inputs = {{"mean", total / customers},
                  {"median", weighted_median(std::move(values))},
                  {"total", total},
                  {"customers", customers},
                  {"horizon_months", double(o.horizon_months)},
                  {"margin", o.margin},
                  {"monthly_discount_rate", o.monthly_discount},
                  {"customers_given_population_mean_spend", double(f.spend_left_out)},
                  {"population_mean_spend", f.population_mean_spend}};
    }
    f.metrics.push_back(std::move(m));
  }
  {
    Metric m{"expected_purchases", std::nullopt, "count",
             "Σ over customers of E[X(H) | x, t_x, T]: purchases expected in the next H months (value = total)", {}, ""};
    summarise(f.expected_purchases, total, customers, nullptr);
    if (!f.fit.ok) m.reason = no_fit;
    else if (customers == 0) m.reason = "no customers";
    else {
      m.value = total;
      m.inputs = {{"total", total}, {"per_customer", total / customers}, {"customers", customers},
                  {"horizon_months", double(o.horizon_months)}};
    }
    f.metrics.push_back(std::move(m));
  }
  {
    Metric m{"p_alive", std::nullopt, "ratio",
             "mean over customers of P(alive | x, t_x, T): the chance the customer still buys", {}, ""};
    summarise(f.p_alive, total, customers, nullptr);
    if (!f.fit.ok) m.reason = no_fit;
    else if (customers == 0) m.reason = "no customers";
    else {
      m.value = total / customers;
      m.inputs = {{"expected_alive_customers", total}, {"customers", customers}};
    }
    f.metrics.push_back(std::move(m));
  }
  {
    Metric m{"value_at_risk", std::nullopt, "currency",
             "Σ over customers of (1 − P(alive)) × clv_predicted / P(alive): the value of customers who may have "
             "left, had they stayed",
             {}, ""};
    summarise(f.value_at_risk, total, customers, nullptr);
    if (!f.fit.ok) m.reason = no_fit;
    else if (!f.spend_fitted) m.reason = f.spend_reason;
    else {
      m.value = total;
      m.inputs = {{"customers", customers}};
    }
    f.metrics.push_back(std::move(m));
  }
  {
    Metric m{"expected_order_value", std::nullopt, "currency",
             "Gamma-Gamma: p (γ + m x) / (p x + q − 1) per repeat buyer; the population mean p γ / (q − 1) for the "
             "rest (value = the population mean)",
             {}, ""};
    if (!f.spend_fitted) m.reason = f.spend_reason;
    else {
      m.value = f.population_mean_spend;
      m.inputs = {{"p", f.spend_fit.params[0]}, {"q", f.spend_fit.params[1]}, {"gamma", f.spend_fit.params[2]},
                  {"repeat_buyers_fitted", double(f.spend_customers)},
                  {"customers_given_population_mean", double(f.spend_left_out)}};
    }
    f.metrics.push_back(std::move(m));
  }
  f.clv_histogram = clv_histogram(f.clv, w);
  f.p_alive_histogram = fixed_histogram(f.p_alive, w, {0, .1, .2, .3, .4, .5, .6, .7, .8, .9, 1});
  const size_t top = size_t(std::max(0, o.top));
  f.top_customers = top_rows(f.clv, top);
  f.top_at_risk = top_rows(f.value_at_risk, top);
}

void check_options(const PredictOptions& o) {
  if (o.horizon_months < 1 || o.horizon_months > 600)
    throw InputError("bad_options", "horizonMonths must be a whole number of months from 1 to 600");
  if (!(o.margin > 0) || o.margin > 1) throw InputError("bad_options", "margin must be above 0 and at most 1");
  if (!(o.monthly_discount >= 0) || o.monthly_discount >= 1)
    throw InputError("bad_options", "discountRate must be a monthly rate from 0 to below 1 (0.01 = 1% a month)");
}

// The spend model's m: the mean net value of the repeat purchase days up to `end`, returns
// dated after the first purchase day taken off. btyd_monetary counts purchases only (the
// spec's BTYD summary), so an order cancelled the day it was placed (Online Retail's
// 80,995-unit order) would count as a huge spend; netted, it is no spend at all, and a
// customer whose net repeat value is <= 0 is left out of the fit (metrics.md section 2).
double net_repeat_value(const CustomerColumns& cc, size_t i, int32_t end, uint64_t& netted) {
  const int32_t* d = cc.purchase_days.data() + cc.day_start[i];
  const int64_t* u = cc.purchase_day_units.data() + cc.day_start[i];
  const size_t k = size_t(std::upper_bound(d, d + (cc.day_start[i + 1] - cc.day_start[i]), end) - d);
  if (k < 2) return 0;
  int64_t units = 0;
  for (size_t j = 1; j < k; ++j) units += u[j];
  bool any = false;
  for (uint32_t j = cc.return_start[i]; j < cc.return_start[i + 1]; ++j)
    if (cc.return_days[j] > d[0] && cc.return_days[j] <= end) units += cc.return_units[j], any = true;
  netted += any;
  return double(units) / kScale / double(k - 1);
}

// ---- the holdout check ----

// The verdict's thresholds (docs/models.md): enough data, then how close the holdout is.
constexpr double kMinHoldoutDays = 28, kMinCalibrationDays = 56;
constexpr uint64_t kMinRepeatBuyers = 30;
constexpr double kMinActual = 20;
constexpr double kTrustBias = 0.10, kTrustBucketError = 0.20;

void holdout_check(FutureValue& f, const Analysis& a) {
  HoldoutCheck& h = f.holdout;
  const PredictOptions& o = f.options;
  const CustomerColumns& cc = a.customers;
  const double u = time_unit_days(o.unit);
  if (o.split == PredictOptions::Split::none) {
    h.reason = "no calibration split was asked for (calibrationEnd: none)";
    return;
  }
  const int32_t c = o.split == PredictOptions::Split::day ? o.calibration_end
                                                          : a.first_date + (a.as_of - a.first_date) / 2;
  h.calibration_end = c, h.holdout_end = a.as_of;
  if (c < a.first_date || c >= a.as_of) {
    h.reason = "the calibration end " + format_day(c) + " must lie from the first date " + format_day(a.first_date) +
               " to the day before as_of " + format_day(a.as_of);
    return;
  }
  h.holdout_length = double(a.as_of - c) / u;
  const size_t n = cc.size();
  std::vector<double> x, t_x, T, actual, cal_m;
  std::vector<uint32_t> rows;
  // Repeat purchase days of the cohort per calendar day, for the tracking chart.
  std::vector<uint32_t> repeats_on(size_t(a.as_of - a.first_date + 1), 0);
  std::vector<uint32_t> first_on(size_t(c - a.first_date + 1), 0);
  for (size_t i = 0; i < n; ++i) {
    const int32_t* d = cc.purchase_days.data() + cc.day_start[i];
    const size_t k = cc.day_start[i + 1] - cc.day_start[i];
    if (d[0] > c) continue;
    size_t in_cal = size_t(std::upper_bound(d, d + k, c) - d);
    rows.push_back(uint32_t(i));
    x.push_back(double(in_cal - 1));
    t_x.push_back(double(d[in_cal - 1] - d[0]) / u);
    T.push_back(double(c - d[0]) / u);
    actual.push_back(double(k - in_cal));
    const int64_t* units = cc.purchase_day_units.data() + cc.day_start[i];
    int64_t repeat = 0;
    for (size_t j = 1; j < in_cal; ++j) repeat += units[j];
    cal_m.push_back(in_cal > 1 ? double(repeat) / kScale / double(in_cal - 1) : 0.0);
    ++first_on[size_t(d[0] - a.first_date)];
    for (size_t j = 1; j < k; ++j) ++repeats_on[size_t(d[j] - a.first_date)];
    if (in_cal > 1) ++h.calibration_repeat_buyers;
  }
  h.customers = rows.size();
  h.done = true;
  auto not_enough = [&](const std::string& why) {
    h.verdict = "not_enough_data";
    h.verdict_reason = why;
  };
  if (h.customers == 0) {
    h.done = false;
    h.reason = "no customer made a first purchase by the calibration end " + format_day(c);
    return;
  }
  h.fit = models::fit(o.model, models::compress(x.data(), t_x.data(), T.data(), x.size()));
  f.holdout_actual.assign(n, kNaN);
  f.holdout_predicted.assign(n, kNaN);
  for (auto* col : {&f.cal_frequency, &f.cal_t_x, &f.cal_T, &f.cal_monetary}) col->assign(n, kNaN);
  for (size_t j = 0; j < rows.size(); ++j) {
    f.cal_frequency[rows[j]] = x[j], f.cal_t_x[rows[j]] = t_x[j], f.cal_T[rows[j]] = T[j];
    f.cal_monetary[rows[j]] = cal_m[j], f.holdout_actual[rows[j]] = actual[j];
  }
  if (!h.fit.ok) {
    not_enough("the model could not be fitted on the calibration period: " + join(fit_failures(h.fit)));
    return;
  }
  // Predictions per customer, per frequency bucket and in total.
  const size_t kBuckets = 8;
  std::vector<double> bucket_actual(kBuckets, 0), bucket_predicted(kBuckets, 0);
  std::vector<uint64_t> bucket_n(kBuckets, 0);
  Horizon one;  // the holdout as a one-step horizon, undiscounted
  one.t = {0, h.holdout_length};
  one.discount = {1, 1};
  AliveCache cache(o.model, h.fit.params, one);
  double abs_error = 0;
  for (size_t j = 0; j < rows.size(); ++j) {
    double p = models::p_alive(o.model, h.fit.params, x[j], t_x[j], T[j]);
    double pred = p * cache.get(x[j], T[j]).purchases;
    f.holdout_predicted[rows[j]] = pred;
    h.actual += actual[j], h.predicted += pred;
    abs_error += std::fabs(pred - actual[j]);
    size_t b = std::min(size_t(x[j]), kBuckets - 1);
    ++bucket_n[b], bucket_actual[b] += actual[j], bucket_predicted[b] += pred;
  }
  h.mae = abs_error / double(rows.size());
  double bucket_error = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    if (!bucket_n[b]) continue;
    HoldoutCheck::Bucket bk;
    bk.label = b + 1 < kBuckets ? std::to_string(b) : std::to_string(b) + "+";
    bk.customers = bucket_n[b];
    bk.actual_mean = bucket_actual[b] / double(bucket_n[b]);
    bk.predicted_mean = bucket_predicted[b] / double(bucket_n[b]);
    bucket_error += std::fabs(bucket_predicted[b] - bucket_actual[b]);
    h.by_frequency.push_back(bk);
  }
  // Tracking: cumulative repeat purchases, actual and expected from each first purchase day.
  const int32_t span = a.as_of - a.first_date + 1;
  h.step_days = span < 56 ? 1 : 7;
  std::vector<std::pair<int32_t, uint32_t>> firsts;  // (day, customers)
  for (size_t d = 0; d < first_on.size(); ++d)
    if (first_on[d]) firsts.push_back({a.first_date + int32_t(d), first_on[d]});
  double cumulative = 0;
  int32_t counted_to = a.first_date - 1;
  for (int32_t e = a.first_date + h.step_days - 1;; e += h.step_days) {
    e = std::min(e, a.as_of);
    for (int32_t d = counted_to + 1; d <= e; ++d) cumulative += repeats_on[size_t(d - a.first_date)];
    counted_to = e;
    double expected = 0;
    for (auto& [day, count] : firsts) {
      if (day > e) break;
      expected += count * models::expected_purchases_new(o.model, h.fit.params, double(e - day) / u);
    }
    h.step_end.push_back(e);
    h.cumulative_actual.push_back(cumulative);
    h.cumulative_predicted.push_back(expected);
    if (e == a.as_of) break;
  }
  // The verdict.
  if (h.actual > 0) h.bias = (h.predicted - h.actual) / h.actual;
  const double holdout_days = a.as_of - c, calibration_days = c - a.first_date + 1;
  char buf[400];
  if (holdout_days < kMinHoldoutDays) {
    std::snprintf(buf, sizeof buf, "the holdout is %.0f days; the check needs at least %.0f", holdout_days,
                  kMinHoldoutDays);
    return not_enough(buf);
  }
  if (calibration_days < kMinCalibrationDays) {
    std::snprintf(buf, sizeof buf, "the calibration period is %.0f days; the check needs at least %.0f",
                  calibration_days, kMinCalibrationDays);
    return not_enough(buf);
  }
  if (h.calibration_repeat_buyers < kMinRepeatBuyers) {
    std::snprintf(buf, sizeof buf, "%llu customers bought again during calibration; the check needs at least %llu",
                  (unsigned long long)h.calibration_repeat_buyers, (unsigned long long)kMinRepeatBuyers);
    return not_enough(buf);
  }
  if (h.actual < kMinActual) {
    std::snprintf(buf, sizeof buf, "%.0f repeat purchases in the holdout; the check needs at least %.0f", h.actual,
                  kMinActual);
    return not_enough(buf);
  }
  const double relative_bucket_error = bucket_error / h.actual;
  const bool trust = std::fabs(h.bias) <= kTrustBias && relative_bucket_error <= kTrustBucketError;
  // A fit that did not converge is not trusted, whatever its numbers.
  h.verdict = trust && h.fit.converged ? "trustworthy" : "rough";
  std::snprintf(buf, sizeof buf,
                "holdout repeat purchases: %.0f predicted against %.0f actual (%+.1f%%); by calibration frequency the "
                "predictions are off by %.1f%% of the actual in all (trustworthy needs within %.0f%% and %.0f%%)",
                h.predicted, h.actual, 100 * h.bias, 100 * relative_bucket_error, 100 * kTrustBias,
                100 * kTrustBucketError);
  h.verdict_reason = buf;
  if (!h.fit.converged) h.verdict_reason += ". The calibration fit did not converge";
  if (!h.fit.warnings.empty()) h.verdict_reason += ". The calibration fit is suspect: " + join(h.fit.warnings);
}

// ---- does the model fit? ----

// The tests and thresholds of docs/models.md, "Does the model fit?".
constexpr double kStoppedGaps = 3;          // stopped: recency over this many of the customer's own gaps ...
constexpr double kMaxStoppedPAlive = 0.9;   // ... and a fit that gives them a mean P(alive) above this contradicts the data
constexpr double kMinStopped = 30;          // (with at least this many such customers)
constexpr double kMaxHoldoutError = 0.5;    // holdout purchases predicted more than 50% off: does not fit
constexpr double kMinVerdictCustomers = 100;

// Repeat buyers who have clearly stopped (StoppedBuyers), from summaries in the model's unit
// (u days each).
void find_stopped(StoppedBuyers& s, const std::vector<double>& x, const std::vector<double>& t_x,
                  const std::vector<double>& T, const std::vector<double>& w, double u) {
  for (size_t i = 0; i < x.size(); ++i) {
    if (!(x[i] >= 1)) continue;
    const double recency = (T[i] - t_x[i]) * u, gap = t_x[i] * u / x[i];
    if (!(recency > s.lapse_days && recency > kStoppedGaps * gap)) continue;
    const double wi = w.empty() ? 1.0 : w[i];
    s.x.push_back(x[i]), s.t_x.push_back(t_x[i]), s.T.push_back(T[i]), s.w.push_back(wi);
    s.customers += wi;
  }
}

double stopped_p_alive(Model m, const models::Fit& fit, const StoppedBuyers& s) {
  double sum = 0;
  for (size_t i = 0; i < s.x.size(); ++i) sum += s.w[i] * models::p_alive(m, fit.params, s.x[i], s.t_x[i], s.T[i]);
  return s.customers > 0 ? sum / s.customers : kNaN;
}

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * v);
  return buf;
}

// Whether a fit holds; the reason when it does not.
std::string why_not(Model m, const models::Fit& fit, const StoppedBuyers& s) {
  if (!fit.ok) return "it could not be fitted (" + join(fit_failures(fit)) + ")";
  if (fit.extreme) return "a parameter ran to the edge of its range (" + join(fit.warnings) + ")";
  if (!fit.converged) return "the fit did not converge (" + join(fit_failures(fit)) + ")";
  if (s.customers >= kMinStopped) {
    const double p = stopped_p_alive(m, fit, s);
    if (p > kMaxStoppedPAlive) {
      char buf[300];
      std::snprintf(buf, sizeof buf,
                    "it gives the %.0f repeat buyers who have clearly stopped buying (no purchase for more than %.0f "
                    "days and more than %.0f of their own usual gaps) a mean P(alive) of %s: it sees no one leave",
                    s.customers, s.lapse_days, kStoppedGaps, percent(p).c_str());
      return buf;
    }
  }
  return "";
}

// Fits the requested model; when it does not hold, retries it from more starting points and
// then tries the other models, in a fixed order. The first that holds gives the predictions;
// when none does, the requested one does, with the verdict does_not_fit.
// The fits take most of a predict(): the models tried share `[0, share)` of the progress.
void choose_model(FutureValue& f, const Progress& progress, double share) {
  const Model requested = f.options.model;
  f.requested_model = requested;
  std::vector<Model> order{requested};
  for (Model m : {Model::bg_nbd, Model::pareto_nbd, Model::mbg_nbd})
    if (m != requested) order.push_back(m);
  for (Model m : order) {
    if (progress) progress("fit", models::model_id(m), share * double(f.attempts.size()) / double(order.size()));
    FitAttempt at;
    at.model = m;
    at.fit = models::fit(m, f.data_summary);
    at.reason = why_not(m, at.fit, f.stopped);
    if (!at.reason.empty() && at.fit.ok && !at.fit.converged && !at.fit.extreme && !at.fit.exhausted) {
      models::FitOptions more;
      more.starts = 8;  // starts that disagreed: look wider before giving up on the model
      models::Fit again = models::fit(m, f.data_summary, more);
      if (again.ok && again.log_likelihood >= at.fit.log_likelihood) {
        again.evaluations += at.fit.evaluations;
        at.fit = std::move(again);
        at.reason = why_not(m, at.fit, f.stopped);
      }
    }
    at.holds = at.reason.empty();
    f.attempts.push_back(std::move(at));
    if (f.attempts.back().holds) break;
  }
  const FitAttempt* use = &f.attempts.front();
  for (const auto& at : f.attempts)
    if (at.holds) use = &at;
  f.options.model = use->model;
  f.fit = use->fit;
  if (f.fit.ok && f.stopped.customers > 0) f.stopped.mean_p_alive = stopped_p_alive(use->model, f.fit, f.stopped);
}

// future.verdict: the fit behind the predictions, after the holdout check (when there is one).
void decide_verdict(FutureValue& f) {
  const FitAttempt& first = f.attempts.front();
  const bool holds = f.attempts.back().holds;
  std::string tried;
  for (const auto& at : f.attempts)
    if (!at.holds) tried += std::string(tried.empty() ? "" : "; ") + model_name(at.model) + ": " + at.reason;
  double repeat_buyers = 0;
  for (size_t i = 0; i < f.data_summary.size(); ++i)
    if (f.data_summary.x[i] > 0) repeat_buyers += f.data_summary.weight[i];
  if (!holds && repeat_buyers < kMinRepeatBuyers) {  // too few to tell whether any model fits
    char buf[160];
    std::snprintf(buf, sizeof buf, "%.0f customer(s) bought more than once; judging a model needs at least %llu. ",
                  repeat_buyers, (unsigned long long)kMinRepeatBuyers);
    f.verdict = "not_enough_data";
    f.verdict_reason = buf + tried;
    return;
  }
  if (!holds) {
    f.verdict = "does_not_fit";
    f.verdict_reason = "No model fits these data, so its numbers are not predictions. " + tried;
    return;
  }
  const HoldoutCheck& h = f.holdout;
  const std::string switched =
      f.attempts.size() > 1 ? std::string(model_name(first.model)) + " does not fit these data (" + first.reason + "); " +
                                  model_name(f.options.model) + " does and gives the predictions. "
                            : "";
  if (h.done && h.fit.ok && h.actual > 0 && h.verdict != "not_enough_data" && std::fabs(h.bias) > kMaxHoldoutError) {
    f.verdict = "does_not_fit";
    f.verdict_reason = switched + "Fitted on the calibration period, the model predicts the holdout's repeat purchases " +
                       percent(std::fabs(h.bias)) + (h.bias > 0 ? " too high" : " too low") +
                       " (does_not_fit beyond " + percent(kMaxHoldoutError) + "): " + h.verdict_reason;
    return;
  }
  if (h.done) {
    f.verdict = h.verdict;
    f.verdict_reason = switched + "Holdout check: " + h.verdict_reason;
    return;
  }
  if (f.data_summary.customers < kMinVerdictCustomers) {
    f.verdict = "not_enough_data";
    f.verdict_reason = switched + "fewer than 100 customers, and no holdout check (" + h.reason + ")";
    return;
  }
  f.verdict = "rough";
  f.verdict_reason = switched +
                     "The fit holds on all the data (it converged, its parameters are inside their range and P(alive) "
                     "agrees with who stopped buying), but without a holdout check its predictions are untested: " +
                     h.reason;
}

// ---- the churn risk score ----

void churn_risk(FutureValue& f, const Analysis& a) {
  const CustomerColumns& cc = a.customers;
  const size_t n = cc.size();
  const bool model = f.fit.ok && f.verdict != "does_not_fit";
  const int32_t lapse = a.options.lapse_days;
  f.risk_parts = {
      {"model", model ? 0.5 : 0.0, "1 − P(alive) from the " + std::string(model_name(f.options.model)) + " model",
       model ? "" : f.fit.ok ? "the model does not fit these data (future.verdict)" : "the model could not be fitted"},
      {"rhythm", model ? 0.3 : 0.6,
       "recency against the customer's own rhythm: (recency_days / mean days between purchase days − 1) / 2, "
       "clipped to 0..1 (0 while on rhythm, 1 at three gaps late); one-time buyers: recency_days / lapse_days, "
       "clipped",
       ""},
      {"decline", model ? 0.2 : 0.4,
       "frequency decline between the two halves of the customer's history (first purchase to as_of): "
       "(purchase days in the first half − in the second) / in the first half, clipped to 0..1",
       ""},
      {"complaints", 0.0, "complaints per customer", "needs a tickets table"},
  };
  const double w_model = f.risk_parts[0].weight, w_rhythm = f.risk_parts[1].weight, w_decline = f.risk_parts[2].weight;
  f.churn_risk.assign(n, 0);
  f.risk_model.assign(n, kNaN);
  f.risk_rhythm.assign(n, 0);
  f.risk_decline.assign(n, 0);
  std::vector<double> score(n);
  for (size_t i = 0; i < n; ++i) {
    const int32_t* d = cc.purchase_days.data() + cc.day_start[i];
    const size_t k = cc.day_start[i + 1] - cc.day_start[i];
    const double recency = cc.recency_days[i];
    double rhythm;
    if (k >= 2) {
      double gap = double(d[k - 1] - d[0]) / double(k - 1);
      rhythm = (recency / gap - 1) / 2;
    } else {
      rhythm = recency / lapse;
    }
    rhythm = std::clamp(rhythm, 0.0, 1.0);
    // Halves of [first, as_of]: the first is [first, mid), the second [mid, as_of].
    const int32_t mid = d[0] + (a.as_of - d[0] + 1) / 2;
    size_t first_half = size_t(std::lower_bound(d, d + k, mid) - d), second_half = k - first_half;
    double decline = first_half ? std::clamp((double(first_half) - double(second_half)) / double(first_half), 0.0, 1.0)
                                : 0.0;
    double s = w_rhythm * rhythm + w_decline * decline;
    if (model) {
      f.risk_model[i] = 1 - f.p_alive[i];
      s += w_model * f.risk_model[i];
    }
    f.risk_rhythm[i] = rhythm, f.risk_decline[i] = decline;
    f.churn_risk[i] = uint8_t(std::lround(100 * std::clamp(s, 0.0, 1.0)));
    score[i] = f.churn_risk[i];
  }
  f.churn_risk_histogram = fixed_histogram(score, {}, {0, 20, 40, 60, 80, 100.5});
  f.churn_risk_histogram.edges.back() = 100;
  Metric m{"churn_risk", std::nullopt, "score",
           "mean over customers of the churn risk score 0-100 = 100 × Σ weight × part (parts and weights in "
           "future.churn_risk)",
           {}, ""};
  if (n) {
    double sum = std::accumulate(score.begin(), score.end(), 0.0);
    uint64_t high = 0;
    for (double s : score) high += s >= 60;
    m.value = sum / double(n);
    m.inputs = {{"customers", double(n)}, {"customers_scoring_60_or_more", double(high)}};
  } else {
    m.reason = "no customers";
  }
  f.metrics.push_back(std::move(m));
}

void add_fit_warnings(FutureValue& f) {
  const std::string name = model_name(f.options.model);
  if (!f.fit.ok)
    f.warnings.push_back({"model_fit_failed", "The " + name + " model could not be fitted: " + join(fit_failures(f.fit)),
                          0, {}});
  else if (f.verdict == "does_not_fit")
    f.warnings.push_back({"model_does_not_fit", f.verdict_reason, 0, {}});
  else if (!f.fit.converged || !f.fit.warnings.empty())
    f.warnings.push_back({"model_fit_suspect", "The " + name + " fit is suspect: " + join(fit_failures(f.fit)), 0, {}});
}

}  // namespace

FutureValue predict(const Analysis& a, const PredictOptions& o, const Progress& progress) {
  check_options(o);
  FutureValue f;
  f.source = "orders";
  f.options = o;
  f.as_of = a.as_of;
  const CustomerColumns& cc = a.customers;
  const size_t n = cc.size();
  if (!a.has_customers || n == 0)
    throw InputError("no_customers", a.has_customers ? "No customer has a purchase: there is nothing to predict"
                                                     : "The models need a customer column (customer_id) in the orders");
  const double u = time_unit_days(o.unit);
  std::vector<double> x(n), t_x(n), T(n), m(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = cc.btyd_frequency[i];
    t_x[i] = cc.t_x[i] / u;
    T[i] = cc.T[i] / u;
    m[i] = net_repeat_value(cc, i, a.as_of, f.spend_returns_netted);
  }
  f.data_summary = models::compress(x.data(), t_x.data(), T.data(), n);
  f.stopped.lapse_days = a.options.lapse_days;
  find_stopped(f.stopped, x, t_x, T, {}, u);
  choose_model(f, progress, 0.5);
  if (progress) progress("spend", "", 0.5);
  fit_spend(f, x, m, {});
  f.t_x = t_x, f.T = T;
  if (progress) progress("predict", "", 0.6);
  predict_rows(f, x, t_x, T);
  add_metrics(f);
  if (progress && o.split != PredictOptions::Split::none) progress("holdout", models::model_id(f.options.model), 0.7);
  holdout_check(f, a);
  // The holdout tests the calibration fit; the predictions come from the fit on all the
  // data. When that one did not converge, the predictions are not to be trusted either.
  HoldoutCheck& h = f.holdout;
  if (h.done && f.fit.ok && !f.fit.converged && h.verdict == "trustworthy") {
    h.verdict = "rough";
    h.verdict_reason += ". But the fit on all the data, which gives the predictions, did not converge: " +
                        join(fit_failures(f.fit));
  }
  decide_verdict(f);
  churn_risk(f, a);
  add_fit_warnings(f);
  return f;
}

FutureValue predict(const BtydSummaryTable& t, const PredictOptions& o, const Progress& progress) {
  check_options(o);
  FutureValue f;
  f.source = "btyd_summary";
  f.options = o;
  const size_t n = t.size();
  if (n == 0) throw InputError("no_customers", "The btyd_summary table has no rows");
  const double scale = time_unit_days(o.summary_unit) / time_unit_days(o.unit);
  std::vector<double> t_x(n), T(n);
  for (size_t i = 0; i < n; ++i) t_x[i] = t.t_x[i] * scale, T[i] = t.T[i] * scale;
  f.weight = t.weight;
  f.data_summary = models::compress(t.frequency.data(), t_x.data(), T.data(), n, t.weight.data());
  find_stopped(f.stopped, t.frequency, t_x, T, t.weight, time_unit_days(o.unit));
  choose_model(f, progress, 0.8);
  if (progress) progress("spend", "", 0.8);
  if (t.any_monetary_column) {
    std::vector<double> m(t.monetary);
    for (double& v : m)
      if (!std::isfinite(v)) v = 0;  // unknown: left out of the spend fit, given the population mean
    fit_spend(f, t.frequency, m, f.weight);
  } else {
    f.expected_order_value.assign(n, kNaN);
    f.spend_reason = "the btyd_summary table has no btyd_monetary column";
  }
  if (progress) progress("predict", "", 0.9);
  predict_rows(f, t.frequency, t_x, T);
  add_metrics(f);
  f.holdout.reason = "a btyd_summary table has no purchase dates to split: the holdout check needs the orders";
  decide_verdict(f);
  add_fit_warnings(f);
  return f;
}

}  // namespace custlens
