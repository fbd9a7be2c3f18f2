// The repeat-purchase models of metrics.md section 6 against their published figures:
// BG/NBD, MBG/NBD and Pareto/NBD on the CDNOW sample, Gamma-Gamma on its repeat buyers;
// plus compression, the hypergeometric function, units, weights, degenerate data and
// parameter recovery on simulated customers.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <cstdio>
#include <ctime>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "btyd_simulate.h"
#include "models/btyd.h"
#include "models/optimize.h"

using custlens::models::BtydData;
using custlens::models::Fit;
using custlens::models::Model;
namespace models = custlens::models;

namespace {

/// The rows of a gzipped CSV of numbers (header skipped), parsed here independently of the
/// engine's reader.
std::vector<std::vector<double>> read_numbers(const std::string& name) {
  std::string path = std::string(CUSTLENS_SHARED_DIR) + "/data/" + name;
  FILE* f = popen(("gzip -dc '" + path + "'").c_str(), "r");
  REQUIRE(f != nullptr);
  std::vector<std::vector<double>> rows;
  std::string line;
  bool header = true;
  char buf[4096];
  while (fgets(buf, sizeof buf, f)) {
    line = buf;
    if (header) {
      header = false;
      continue;
    }
    std::vector<double> row;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  pclose(f);
  return rows;
}

struct Cdnow {
  std::vector<double> x, t_x, T;
};

const Cdnow& cdnow() {
  static const Cdnow data = [] {
    Cdnow c;
    for (const auto& r : read_numbers("cdnow_customers_summary.csv.gz")) {
      c.x.push_back(r.at(1));
      c.t_x.push_back(r.at(2));
      c.T.push_back(r.at(3));
    }
    return c;
  }();
  return data;
}

BtydData cdnow_data(double unit = 1) {
  const Cdnow& c = cdnow();
  std::vector<double> tx = c.t_x, T = c.T;
  for (auto& v : tx) v *= unit;
  for (auto& v : T) v *= unit;
  return models::compress(c.x.data(), tx.data(), T.data(), c.x.size());
}

struct Spends {
  std::vector<double> x, m;
};

const Spends& cdnow_spends() {
  static const Spends data = [] {
    Spends s;
    for (const auto& r : read_numbers("cdnow_customers_summary_with_transactions.csv.gz")) {
      s.x.push_back(r.at(1));
      s.m.push_back(r.at(4));
    }
    return s;
  }();
  return data;
}

bool near_rel(double got, double want, double rel) { return std::fabs(got - want) <= rel * std::fabs(want); }

// metrics.md section 6 tolerances.
constexpr double kParamRel = 0.002, kLogLikAbs = 0.05, kPurchRel = 0.001, kPurchAbs = 0.002, kSpendAbs = 0.1;

bool purchases_match(double got, double want) {
  return near_rel(got, want, kPurchRel) || std::fabs(got - want) <= kPurchAbs;
}

void check_params(const Fit& f, const std::vector<double>& published) {
  INFO("fitted: " << f.params.at(0) << ", " << f.params.at(1) << ", " << f.params.at(2)
                  << (f.params.size() > 3 ? ", " + std::to_string(f.params[3]) : std::string()));
  REQUIRE(f.params.size() == published.size());
  for (size_t i = 0; i < published.size(); ++i) {
    INFO(f.names[i] << " = " << f.params[i] << ", published " << published[i]);
    CHECK(near_rel(f.params[i], published[i], kParamRel));
  }
}

void check_clean(const Fit& f) {
  INFO("warnings: " << (f.warnings.empty() ? "" : f.warnings.front()));
  CHECK(f.ok);
  CHECK(f.converged);
  CHECK(f.warnings.empty());
  CHECK(f.se.size() == f.params.size());
}

const std::vector<double> kBgPublished = {0.2426, 4.4136, 0.7929, 2.4259};
const std::vector<double> kParetoPublished = {0.5532, 10.576, 0.6062, 11.672};
const std::vector<double> kMbgPublished = {0.525, 6.183, 0.891, 1.614};
const std::vector<double> kGgPublished = {6.25, 3.74, 15.44};

}  // namespace

// ---------------------------------------------------------------------------- compress ----

TEST_CASE("compress: distinct (x, t_x, T) tuples, sorted, with weights", "[models]") {
  std::vector<double> x = {2, 0, 2, 1, 0, 2}, tx = {5, 0, 5, 3, 0, 4}, T = {10, 8, 10, 9, 8, 10};
  BtydData d = models::compress(x.data(), tx.data(), T.data(), x.size());
  REQUIRE(d.size() == 4);
  CHECK(d.customers == 6);
  CHECK(d.x == std::vector<double>{0, 1, 2, 2});
  CHECK(d.t_x == std::vector<double>{0, 3, 4, 5});
  CHECK(d.T == std::vector<double>{8, 9, 10, 10});
  CHECK(d.weight == std::vector<double>{2, 1, 1, 2});

  std::vector<double> w = {1.5, 2, 0, 1, 0.5, 3};
  BtydData dw = models::compress(x.data(), tx.data(), T.data(), x.size(), w.data());
  CHECK(dw.customers == 8);
  CHECK(dw.weight == std::vector<double>{2.5, 1, 3, 1.5});  // a zero weight drops the row
}

TEST_CASE("compress: the whole-number (radix) path equals the general path", "[models]") {
  auto c = custlens::test::simulate_bg_nbd(5000, {0.3, 30, 0.8, 2.5}, 100, 400, 7, true);
  BtydData whole = models::compress(c.x.data(), c.t_x.data(), c.T.data(), c.x.size());
  // A tiny offset on T forces the general path; undo it afterwards.
  std::vector<double> T2 = c.T;
  for (auto& v : T2) v += 0.25;
  BtydData general = models::compress(c.x.data(), c.t_x.data(), T2.data(), c.x.size());
  REQUIRE(whole.size() == general.size());
  CHECK(whole.customers == 5000);
  for (size_t i = 0; i < whole.size(); ++i) {
    CHECK(whole.x[i] == general.x[i]);
    CHECK(whole.t_x[i] == general.t_x[i]);
    CHECK(whole.T[i] + 0.25 == general.T[i]);
    CHECK(whole.weight[i] == general.weight[i]);
  }
  for (size_t i = 1; i < whole.size(); ++i) {
    bool ordered = whole.x[i - 1] < whole.x[i] ||
                   (whole.x[i - 1] == whole.x[i] && (whole.t_x[i - 1] < whole.t_x[i] ||
                                                     (whole.t_x[i - 1] == whole.t_x[i] && whole.T[i - 1] < whole.T[i])));
    CHECK(ordered);
  }
}

TEST_CASE("compress: weeks and months made of whole days take the radix path and give the same tuples", "[models]") {
  auto c = custlens::test::simulate_bg_nbd(5000, {0.3, 30, 0.8, 2.5}, 100, 400, 11, true);
  BtydData days = models::compress(c.x.data(), c.t_x.data(), c.T.data(), c.x.size());
  for (double unit : {7.0, 365.25 / 12}) {
    INFO("unit " << unit);
    std::vector<double> t_x(c.t_x), T(c.T);
    for (auto& v : t_x) v /= unit;
    for (auto& v : T) v /= unit;
    BtydData scaled = models::compress(c.x.data(), t_x.data(), T.data(), c.x.size());
    REQUIRE(scaled.size() == days.size());
    for (size_t i = 0; i < days.size(); ++i) {
      CHECK(scaled.x[i] == days.x[i]);
      CHECK(scaled.t_x[i] == days.t_x[i] / unit);  // bit for bit: the value the caller made
      CHECK(scaled.T[i] == days.T[i] / unit);
      CHECK(scaled.weight[i] == days.weight[i]);
    }
  }
}

TEST_CASE("compress: invalid customers are refused, rounding is forgiven", "[models]") {
  auto one = [](double x, double tx, double T, double w = 1) {
    return models::compress(&x, &tx, &T, 1, &w);
  };
  CHECK_THROWS_AS(one(-1, 0, 5), std::invalid_argument);
  CHECK_THROWS_AS(one(1.5, 2, 5), std::invalid_argument);
  CHECK_THROWS_AS(one(1, 6, 5), std::invalid_argument);
  CHECK_THROWS_AS(one(1, -1, 5), std::invalid_argument);
  CHECK_THROWS_AS(one(1, 2, NAN), std::invalid_argument);
  CHECK_THROWS_AS(one(1, 2, INFINITY), std::invalid_argument);
  CHECK_THROWS_AS(one(1, 2, 5, -1), std::invalid_argument);
  BtydData d = one(1, 5 * (1 + 1e-12), 5);  // t_x a hair above T: clipped
  CHECK(d.t_x[0] == 5);
  d = one(0, 3, 5);  // no repeat purchase: t_x is 0 by convention
  CHECK(d.t_x[0] == 0);
}

// ----------------------------------------------------------------------------- hyp2f1 ----

namespace {
/// Reference: the plain series in long double, enough terms for z <= 0.99.
double series_reference(double a, double b, double c, double z) {
  long double term = 1, sum = 1;
  for (int n = 0; n < 200000; ++n) {
    term *= (static_cast<long double>(a) + n) * (b + n) / ((c + n) * (n + 1.0L)) * z;
    sum += term;
    if (std::fabs(static_cast<double>(term)) < 1e-22 * std::fabs(static_cast<double>(sum)) && n > 10) break;
  }
  return static_cast<double>(sum);
}
}  // namespace

TEST_CASE("hyp2f1 matches closed forms, up to z = 0.999", "[models]") {
  for (double z : {0.0, 1e-8, 0.1, 0.5, 0.75, 0.76, 0.9, 0.99, 0.999}) {
    bool ok = false;
    double want = z == 0 ? 1 : -std::log1p(-z) / z;  // 2F1(1,1;2;z): c − a − b = 0, an integer
    double got = models::hyp2f1(1, 1, 2, z, &ok);
    INFO("2F1(1,1;2;" << z << ") = " << got << ", want " << want);
    CHECK(ok);
    CHECK(near_rel(got, want, 1e-12));
    for (double a : {0.3, 2.5, 17.0}) {
      double b = 1.7;
      double v = models::hyp2f1(a, b, b, z, &ok);  // (1 − z)^−a
      INFO("2F1(" << a << "," << b << ";" << b << ";" << z << ")");
      CHECK(ok);
      CHECK(near_rel(v, std::pow(1 - z, -a), 1e-11));
    }
    double s = std::sqrt(z);  // 2F1(½,½;3/2;z²) = asin(z)/z, c − a − b = ½
    double v = models::hyp2f1(0.5, 0.5, 1.5, z, &ok);
    CHECK(ok);
    CHECK(near_rel(v, z == 0 ? 1 : std::asin(s) / s, 1e-12));
  }
}

TEST_CASE("hyp2f1 agrees with the plain series for the models' parameter shapes", "[models]") {
  // BG/NBD: 2F1(r+x, b+x; a+b+x−1; z); Pareto/NBD: 2F1(r+s+x, s+1; r+s+x+1; z); near-integer
  // c − a − b too.
  const double shapes[][3] = {{0.2426, 2.4259, 2.2188}, {2.2426, 4.4259, 4.2188}, {50.24, 52.43, 52.22},
                              {0.5532 + 0.6062, 1.6062, 2.1594}, {26.16, 1.6062, 27.16}, {1.2, 2.3, 4.5000004},
                              {0.5, 1.5, 3.0}, {3.3, 0.7, 1.9}};
  for (const auto& s : shapes)
    for (double z : {0.05, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99}) {
      bool ok = false;
      double got = models::hyp2f1(s[0], s[1], s[2], z, &ok);
      double want = series_reference(s[0], s[1], s[2], z);
      INFO("2F1(" << s[0] << "," << s[1] << ";" << s[2] << ";" << z << ") = " << got << ", series " << want);
      CHECK(ok);
      CHECK(near_rel(got, want, 1e-9));
    }
}

TEST_CASE("hyp2f1 says when it cannot answer", "[models]") {
  bool ok = true;
  CHECK(std::isnan(models::hyp2f1(1, 1, 2, 1.0, &ok)));
  CHECK_FALSE(ok);
  ok = true;
  CHECK(std::isnan(models::hyp2f1(1, 1, -2, 0.5, &ok)));  // c a pole
  CHECK_FALSE(ok);
  ok = false;
  CHECK(near_rel(models::hyp2f1(1, 1, 2, -0.5, &ok), std::log(1.5) / 0.5, 1e-12));  // z < 0 works too
  CHECK(ok);
}

// ----------------------------------------------------------------------------- BG/NBD ----

TEST_CASE("BG/NBD on CDNOW (weeks): r 0.2426, alpha 4.4136, a 0.7929, b 2.4259, LL -9582.43", "[models]") {
  BtydData d = cdnow_data();
  CHECK(d.customers == 2357);
  Fit f = models::fit(Model::bg_nbd, d);
  check_clean(f);
  check_params(f, kBgPublished);
  CHECK(f.names == std::vector<std::string>{"r", "alpha", "a", "b"});
  CHECK(std::fabs(f.log_likelihood - (-9582.43)) <= kLogLikAbs);
  CHECK(std::fabs(models::log_likelihood(Model::bg_nbd, kBgPublished, d) - (-9582.43)) <= kLogLikAbs);
  CHECK(f.starts >= 3);
  for (size_t i = 0; i < 4; ++i) CHECK((f.se[i] > 0 && f.se[i] < f.params[i]));
}

TEST_CASE("BG/NBD expectations: E[X(39)|2, 30.43, 38.86] = 1.226 and the unconditional curve", "[models]") {
  Fit f = models::fit(Model::bg_nbd, cdnow_data());
  for (const auto& params : {kBgPublished, f.params}) {
    CHECK(purchases_match(models::expected_purchases(Model::bg_nbd, params, 39, 2, 30.43, 38.86), 1.226));
    const double t[] = {0.1429, 1, 3, 31.8571, 32, 78};
    const double want[] = {0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576};
    for (int i = 0; i < 6; ++i) {
      double got = models::expected_purchases_new(Model::bg_nbd, params, t[i]);
      INFO("E[X(" << t[i] << ")] = " << got);
      CHECK(purchases_match(got, want[i]));
    }
  }
  CHECK(models::expected_purchases(Model::bg_nbd, kBgPublished, 0, 2, 30.43, 38.86) == 0);
}

TEST_CASE("P(alive): BG/NBD gives one-time buyers 1, MBG/NBD does not", "[models]") {
  CHECK(models::p_alive(Model::bg_nbd, kBgPublished, 0, 0, 38.86) == 1.0);
  double mbg = models::p_alive(Model::mbg_nbd, kMbgPublished, 0, 0, 38.86);
  CHECK(mbg < 1.0);
  CHECK(mbg > 0.0);
  // A customer who bought often and recently is more likely alive than one who stopped long ago.
  for (Model m : {Model::bg_nbd, Model::mbg_nbd, Model::pareto_nbd}) {
    const auto& p = m == Model::pareto_nbd ? kParetoPublished : m == Model::mbg_nbd ? kMbgPublished : kBgPublished;
    double recent = models::p_alive(m, p, 5, 38, 38.86), gone = models::p_alive(m, p, 5, 5, 38.86);
    INFO(models::model_id(m) << ": " << recent << " vs " << gone);
    CHECK(recent > gone);
    CHECK(recent <= 1.0);
    CHECK(gone > 0.0);
    CHECK(models::p_alive(m, p, 3, 20, 20) > models::p_alive(m, p, 3, 19, 20));
  }
  // The first CDNOW customer, by hand: 1 / (1 + 0.7929/3.4259 · (43.2736/34.8436)^2.2426).
  CHECK(models::p_alive(Model::bg_nbd, kBgPublished, 2, 30.43, 38.86) == Approx(0.7266).epsilon(1e-3));
}

TEST_CASE("MBG/NBD on CDNOW: r 0.525, alpha 6.183, a 0.891, b 1.614", "[models]") {
  Fit f = models::fit(Model::mbg_nbd, cdnow_data());
  check_clean(f);
  check_params(f, kMbgPublished);
  // Its expectations are of the same size as BG/NBD's on these data.
  double bg = models::expected_purchases(Model::bg_nbd, kBgPublished, 39, 2, 30.43, 38.86);
  double mbg = models::expected_purchases(Model::mbg_nbd, f.params, 39, 2, 30.43, 38.86);
  CHECK(std::fabs(mbg - bg) < 0.1);
  CHECK(std::fabs(models::expected_purchases_new(Model::mbg_nbd, f.params, 78) -
                  models::expected_purchases_new(Model::bg_nbd, kBgPublished, 78)) < 0.15);
}

TEST_CASE("Pareto/NBD on CDNOW: r 0.5532, alpha 10.576, s 0.6062, beta 11.672, LL -9594.98", "[models]") {
  BtydData d = cdnow_data();
  Fit f = models::fit(Model::pareto_nbd, d);
  check_clean(f);
  check_params(f, kParetoPublished);
  CHECK(f.names == std::vector<std::string>{"r", "alpha", "s", "beta"});
  CHECK(std::fabs(f.log_likelihood - (-9594.98)) <= kLogLikAbs);
  CHECK(std::fabs(models::log_likelihood(Model::pareto_nbd, kParetoPublished, d) - (-9594.98)) <= kLogLikAbs);
  for (const auto& params : {kParetoPublished, f.params})
    CHECK(purchases_match(models::expected_purchases(Model::pareto_nbd, params, 52, 26, 30.86, 31), 25.46));
}

TEST_CASE("Pareto/NBD expectations are continuous through s = 1", "[models]") {
  std::vector<double> p = {0.55, 10.6, 1.0, 11.7}, lo = p, hi = p;
  lo[2] = 1 - 1e-7;
  hi[2] = 1 + 1e-7;
  double at = models::expected_purchases(Model::pareto_nbd, p, 52, 4, 20, 31);
  CHECK(at == Approx(models::expected_purchases(Model::pareto_nbd, lo, 52, 4, 20, 31)).epsilon(1e-5));
  CHECK(at == Approx(models::expected_purchases(Model::pareto_nbd, hi, 52, 4, 20, 31)).epsilon(1e-5));
  double n = models::expected_purchases_new(Model::pareto_nbd, p, 52);
  CHECK(n == Approx(models::expected_purchases_new(Model::pareto_nbd, lo, 52)).epsilon(1e-5));
  // Likewise BG/NBD through a = 1.
  std::vector<double> b = {0.24, 4.4, 1.0, 2.4}, b_lo = b;
  b_lo[2] = 1 - 1e-4;
  CHECK(models::expected_purchases(Model::bg_nbd, b, 39, 2, 30, 38) ==
        Approx(models::expected_purchases(Model::bg_nbd, b_lo, 39, 2, 30, 38)).epsilon(1e-3));
  CHECK(std::isfinite(models::expected_purchases_new(Model::bg_nbd, b, 39)));
}

// ------------------------------------------------------- Pareto/NBD: analytic derivatives ----

namespace {

/// Five-point central differences of f along parameter i, step h: f' with error O(h^4).
template <class F>
double five_point(F f, std::vector<double> p, size_t i, double h) {
  const double x = p[i];
  double v[4];
  const double off[4] = {-2, -1, 1, 2};
  for (int k = 0; k < 4; ++k) {
    p[i] = x + off[k] * h;
    v[k] = f(p);
  }
  return (v[0] - 8 * v[1] + 8 * v[2] - v[3]) / (12 * h);
}

/// Pareto/NBD customers: purchase rate λ ~ Gamma(r, rate alpha), dropout rate μ ~ Gamma(s,
/// rate beta), a lifetime ~ Exp(μ) from the first purchase, Poisson(λ) purchases while alive,
/// T uniform on [T_min, T_max]; whole units as simulate_bg_nbd (purchase days).
custlens::test::SimulatedCustomers simulate_pareto_nbd(size_t n, const std::vector<double>& truth, double T_min,
                                                       double T_max, uint64_t seed) {
  custlens::test::Draws draw(seed);
  custlens::test::SimulatedCustomers c;
  for (size_t i = 0; i < n; ++i) {
    const double lambda = draw.gamma(truth[0], truth[1]), mu = draw.gamma(truth[2], truth[3]);
    const double T = std::floor(T_min + (T_max - T_min) * draw.uniform());
    const double end = std::min(T, draw.exponential(mu));
    double t = 0, t_x = 0, x = 0;
    for (;;) {
      t += draw.exponential(lambda);
      if (t > end) break;
      if (std::floor(t) > t_x) {
        x += 1;
        t_x = std::floor(t);
      }
    }
    c.x.push_back(x);
    c.t_x.push_back(t_x);
    c.T.push_back(T);
  }
  return c;
}

}  // namespace

TEST_CASE("Pareto/NBD: ln J's analytic gradient and Hessian match central differences", "[models]") {
  // J(t) = ∫_t^∞ (α+u)^−(r+x) (β+u)^−(s+1) du = (m+t)^−b/b · 2F1(b, q; b+1; z), m = max(α, β),
  // z = |α−β|/(m+t). Its F comes from the series (z <= 0.75), from the connection formula
  // (α and β far apart, t small: z > 0.75), and from the series again where that formula
  // does not serve (an exponent q near an integer, large x). Each way has its own derivatives.
  struct Point {
    std::vector<double> p;
    double grad_tol, hess_tol;
  };
  const std::vector<Point> points = {
      {{0.5532, 10.576, 0.6062, 11.672}, 1e-7, 1e-6},     // CDNOW's fit: α < β, close
      {{0.5532, 11.672, 0.6062, 10.576}, 1e-7, 1e-6},     // α > β
      {{0.55, 10, 0.61, 10}, 1e-7, 1e-6},                 // α = β: z = 0 at every t
      {{2.5, 3, 1.7, 3 * (1 + 1e-9)}, 1e-7, 1e-6},        // α ≈ β
      {{0.3, 1, 0.54, 50}, 1e-7, 1e-6},                   // α << β: z up to 0.98
      {{0.3, 50, 0.54, 1}, 1e-7, 1e-6},                   // α >> β
      {{1.2, 300, 0.2, 2}, 1e-7, 1e-6},                   // z up to 0.99
      {{0.05, 0.2, 2.3, 40}, 1e-7, 1e-6},                 // small r and alpha
      {{0.5, 40, 1.0005, 1}, 1e-7, 1e-6},                 // q = s + 1 near 2, z > 0.75
      {{1.0005, 1, 0.5, 40}, 1e-7, 1e-6},                 // q = r + x near an integer, z > 0.75
      // z = 0.999 and q near an integer: central differences of log_hyp2f1 (the last resort).
      {{0.5, 1000, 1.0005, 1}, 1e-6, 1e-2}};
  for (const auto& pt : points)
    for (double x : {0.0, 1.0, 4.0, 30.0, 100.0})
      for (double t : {0.0, 1 / 7.0, 3.0, 30.0, 150.0}) {
        const auto& p = pt.p;
        INFO("r, alpha, s, beta = " << p[0] << ", " << p[1] << ", " << p[2] << ", " << p[3] << "; x = " << x
                                    << ", t = " << t);
        double g[4], H[16];
        bool ok = false;
        const double v = models::detail::pareto_log_J_derivatives(p.data(), x, t, g, H, &ok);
        CHECK(ok);
        // The value is the hypergeometric form the likelihood has always used.
        const double m = std::max(p[1], p[3]), b = p[0] + p[2] + x, q = p[1] >= p[3] ? p[2] + 1 : p[0] + x;
        const double F = models::hyp2f1(b, q, b + 1, (m - std::min(p[1], p[3])) / (m + t));
        CHECK(v == Approx(std::log(F) - b * std::log(m + t) - std::log(b)).epsilon(1e-12));
        for (size_t i = 0; i < 4; ++i) {
          const double h = 1e-3 * p[i];
          auto value = [&](const std::vector<double>& th) {
            double gg[4], hh[16];
            bool o;
            return models::detail::pareto_log_J_derivatives(th.data(), x, t, gg, hh, &o);
          };
          INFO("d/d" << i << ": " << g[i]);
          CHECK(std::fabs(five_point(value, p, i, h) - g[i]) <= pt.grad_tol * (1 + std::fabs(g[i])));
          for (size_t j = 0; j < 4; ++j) {
            auto gradient_j = [&](const std::vector<double>& th) {
              double gg[4], hh[16];
              bool o;
              models::detail::pareto_log_J_derivatives(th.data(), x, t, gg, hh, &o);
              return gg[j];
            };
            INFO("d2/d" << i << "d" << j << ": " << H[i * 4 + j]);
            CHECK(std::fabs(five_point(gradient_j, p, i, h) - H[i * 4 + j]) <= pt.hess_tol * (1 + std::fabs(H[i * 4 + j])));
            CHECK(H[i * 4 + j] == H[j * 4 + i]);
          }
        }
      }
}

TEST_CASE("Pareto/NBD: the log-likelihood's analytic gradient and Hessian match central differences", "[models]") {
  // CDNOW, and a handful of customers with x = 0, t_x = T and t_x just below T.
  std::vector<double> x = {0, 0, 1, 3, 3, 7, 2, 5}, tx = {0, 0, 5, 10, 20, 30.5, 31, 37.9}, T = {10, 38, 20, 20, 38, 38, 31, 38};
  const BtydData few = models::compress(x.data(), tx.data(), T.data(), x.size());
  const BtydData cd = cdnow_data();
  for (const BtydData* d : {&cd, &few})
    for (const auto& p : std::vector<std::vector<double>>{kParetoPublished,
                                                          {0.5532, 11.672, 0.6062, 10.576},
                                                          {0.3, 1, 0.54, 50},
                                                          {0.3, 50, 0.54, 1},
                                                          {0.55, 10, 0.61, 10}}) {
      INFO((d == &cd ? "CDNOW" : "few") << " at " << p[0] << ", " << p[1] << ", " << p[2] << ", " << p[3]);
      double g[4], H[16];
      const double ll = models::detail::pareto_log_likelihood_derivatives(*d, p.data(), g, H);
      CHECK(ll == Approx(models::log_likelihood(Model::pareto_nbd, p, *d)).epsilon(1e-12));
      // Differences of a sum over N customers carry about N·1e-16/h of rounding.
      const double noise = 1e-9 * d->customers;
      for (size_t i = 0; i < 4; ++i) {
        const double h = 1e-3 * p[i];
        auto value = [&](const std::vector<double>& th) { return models::log_likelihood(Model::pareto_nbd, th, *d); };
        INFO("d/d" << i << ": " << g[i]);
        CHECK(std::fabs(five_point(value, p, i, h) - g[i]) <= 1e-7 * std::fabs(g[i]) + noise / p[i]);
        for (size_t j = 0; j < 4; ++j) {
          auto gradient_j = [&](const std::vector<double>& th) {
            double gg[4], hh[16];
            models::detail::pareto_log_likelihood_derivatives(*d, th.data(), gg, hh);
            return gg[j];
          };
          INFO("d2/d" << i << "d" << j << ": " << H[i * 4 + j]);
          CHECK(std::fabs(five_point(gradient_j, p, i, h) - H[i * 4 + j]) <=
                1e-6 * std::fabs(H[i * 4 + j]) + noise / (p[i] * p[j]));
        }
      }
    }
}

TEST_CASE("Pareto/NBD fits with Newton on its analytic Hessian: CDNOW in a few dozen evaluations", "[models]") {
  // Before, central differences (8 evaluations per gradient) and BFGS: 400-odd evaluations.
  Fit f = models::fit(Model::pareto_nbd, cdnow_data());
  check_clean(f);
  INFO("evaluations " << f.evaluations);
  CHECK(f.evaluations < 100);
}

TEST_CASE("Pareto/NBD recovers its parameters from simulated customers with alpha << beta", "[models]") {
  // In days: about one purchase a month, lifetimes of a year or two. z = (β−α)/(β+t) is above
  // 0.75 for t up to 10 weeks: much of the likelihood goes through the connection formula.
  const std::vector<double> truth = {0.6, 20, 0.8, 600};
  auto c = simulate_pareto_nbd(20000, truth, 180, 546, 7);
  BtydData d = models::compress(c.x.data(), c.t_x.data(), c.T.data(), c.x.size());
  Fit f = models::fit(Model::pareto_nbd, d);
  check_clean(f);
  for (size_t i = 0; i < 4; ++i) {
    INFO(f.names[i] << " = " << f.params[i] << " ± " << f.se[i] << ", true " << truth[i]);
    CHECK(std::fabs(f.params[i] - truth[i]) < 4 * f.se[i]);
  }
  INFO("evaluations " << f.evaluations);
  CHECK(f.evaluations < 150);
}

TEST_CASE("Pareto/NBD on large data: the subsample-then-Newton fit lands on the full data's optimum", "[models]") {
  const std::vector<double> truth = {0.4, 25, 0.7, 300};
  auto c = simulate_pareto_nbd(150000, truth, 180, 546, 99);
  BtydData d = models::compress(c.x.data(), c.t_x.data(), c.T.data(), c.x.size());
  REQUIRE(d.size() > 30000);
  Fit f = models::fit(Model::pareto_nbd, d);
  check_clean(f);
  INFO("evaluations " << f.evaluations);
  CHECK(f.evaluations < 150);
  for (size_t i = 0; i < 4; ++i)
    for (double sign : {-1.0, 1.0}) {
      auto p = f.params;
      p[i] += sign * 0.1 * f.se[i];
      CHECK(models::log_likelihood(Model::pareto_nbd, p, d) < f.log_likelihood);
    }
}

// --------------------------------------------------------------------------- Gamma-Gamma ----

TEST_CASE("Gamma-Gamma on CDNOW's 946 repeat buyers: p 6.25, q 3.74, gamma 15.44, LL -4055.92", "[models]") {
  const Spends& s = cdnow_spends();
  models::SpendData d = models::spend_data(s.x.data(), s.m.data(), s.x.size());
  CHECK(d.customers == 946);
  Fit f = models::fit_gamma_gamma(d);
  check_clean(f);
  check_params(f, kGgPublished);
  CHECK(f.params[1] == Approx(3.7446).epsilon(2e-4));  // the careful refit of metrics.md
  CHECK(f.names == std::vector<std::string>{"p", "q", "gamma"});
  CHECK(std::fabs(f.log_likelihood - (-4055.92)) <= kLogLikAbs);
  CHECK(std::fabs(models::gamma_gamma_log_likelihood(kGgPublished, d) - (-4055.92)) <= kLogLikAbs);
  const double want[] = {24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17};
  for (int i = 0; i < 10; ++i) {
    double got = models::expected_order_value(f.params, s.x[i], s.m[i]);
    INFO("customer " << i + 1 << ": " << got << ", published " << want[i]);
    CHECK(std::fabs(got - want[i]) <= kSpendAbs);
    CHECK(std::fabs(models::expected_order_value(kGgPublished, s.x[i], s.m[i]) - want[i]) <= kSpendAbs);
  }
}

TEST_CASE("Gamma-Gamma: spend_data keeps repeat buyers with a positive spend", "[models]") {
  std::vector<double> x = {0, 1, 2, 1, 3, 1}, m = {0, 10, 20, -5, 0, 10};
  models::SpendData d = models::spend_data(x.data(), m.data(), x.size());
  CHECK(d.customers == 3);
  CHECK(d.x == std::vector<double>{1, 2});
  CHECK(d.m == std::vector<double>{10, 20});
  CHECK(d.weight == std::vector<double>{2, 1});
  double bad = NAN;
  CHECK_THROWS_AS(models::spend_data(&bad, m.data(), 1), std::invalid_argument);
  CHECK_THROWS_AS(models::expected_order_value({1, 0.8, 10}, 0, 0), std::invalid_argument);
}

TEST_CASE("Gamma-Gamma with q <= 1 (no finite mean) is not ok", "[models]") {
  // Spends so heavy-tailed that the fitted q falls below 1.
  auto c = custlens::test::simulate_bg_nbd(20000, {0.5, 4, 0.8, 2.4}, 20, 40, 11, false, {2, 0.6, 5});
  models::SpendData d = models::spend_data(c.x.data(), c.m.data(), c.x.size());
  Fit f = models::fit_gamma_gamma(d);
  INFO("q = " << (f.params.size() > 1 ? f.params[1] : -1));
  REQUIRE(f.params.size() == 3);
  CHECK(f.params[1] < 1);
  CHECK_FALSE(f.ok);
  CHECK_FALSE(f.warnings.empty());
}

// ------------------------------------------------------------- units, weights, edge cases ----

TEST_CASE("units: CDNOW in days gives alpha x 7, the same r, a, b, and LL shifted by sum(x) ln 7", "[models]") {
  Fit weeks = models::fit(Model::bg_nbd, cdnow_data());
  Fit days = models::fit(Model::bg_nbd, cdnow_data(7));
  Fit months = models::fit(Model::bg_nbd, cdnow_data(7 / 30.4375));
  check_clean(days);
  check_clean(months);
  for (size_t i = 0; i < 4; ++i) {
    double scale = i == 1 ? 7 : 1, mscale = i == 1 ? 7 / 30.4375 : 1;
    CHECK(near_rel(days.params[i], weeks.params[i] * scale, 1e-5));
    CHECK(near_rel(months.params[i], weeks.params[i] * mscale, 1e-5));
  }
  // Each of the x repeat purchases contributes a density per unit of time.
  double sum_x = std::accumulate(cdnow().x.begin(), cdnow().x.end(), 0.0);
  CHECK(days.log_likelihood == Approx(weeks.log_likelihood - sum_x * std::log(7.0)).epsilon(1e-9));
  Fit pareto_days = models::fit(Model::pareto_nbd, cdnow_data(7));
  CHECK(near_rel(pareto_days.params[0], kParetoPublished[0], kParamRel));
  CHECK(near_rel(pareto_days.params[1], kParetoPublished[1] * 7, kParamRel));
}

TEST_CASE("weights: fitting compressed data equals fitting the raw rows", "[models]") {
  const Cdnow& c = cdnow();
  BtydData raw;  // one tuple per customer, unsorted, weight 1
  raw.x = c.x;
  raw.t_x = c.t_x;
  raw.T = c.T;
  raw.weight.assign(c.x.size(), 1.0);
  raw.customers = static_cast<double>(c.x.size());
  BtydData packed = cdnow_data();
  CHECK(packed.size() < raw.size());
  for (Model m : {Model::bg_nbd, Model::mbg_nbd}) {
    Fit a = models::fit(m, packed), b = models::fit(m, raw);
    CHECK(a.log_likelihood == Approx(b.log_likelihood).epsilon(1e-10));
    for (size_t i = 0; i < 4; ++i) CHECK(near_rel(a.params[i], b.params[i], 1e-5));
  }
  CHECK(models::log_likelihood(Model::pareto_nbd, kParetoPublished, packed) ==
        Approx(models::log_likelihood(Model::pareto_nbd, kParetoPublished, raw)).epsilon(1e-12));
  // Doubling every weight doubles the log-likelihood and leaves the parameters.
  BtydData twice = packed;
  for (auto& w : twice.weight) w *= 2;
  twice.customers *= 2;
  Fit a = models::fit(Model::bg_nbd, packed), b = models::fit(Model::bg_nbd, twice);
  CHECK(b.log_likelihood == Approx(2 * a.log_likelihood).epsilon(1e-10));
  for (size_t i = 0; i < 4; ++i) {
    CHECK(near_rel(a.params[i], b.params[i], 1e-5));
    CHECK(near_rel(b.se[i] * std::sqrt(2.0), a.se[i], 1e-4));
  }
}

TEST_CASE("standard errors match a finite-difference Hessian of log_likelihood", "[models]") {
  BtydData d = cdnow_data();
  for (Model m : {Model::bg_nbd, Model::mbg_nbd, Model::pareto_nbd}) {
    Fit f = models::fit(m, d);
    INFO(models::model_id(m));
    REQUIRE(f.se.size() == 4);
    // Diagonal of the Hessian by central differences; SE^2 >= 1/H_ii (Cramér-Rao on the
    // diagonal) with equality only without correlation: compare 1/H_ii instead, exactly.
    for (size_t i = 0; i < 4; ++i) {
      auto p = f.params;
      double h = 1e-4 * p[i];
      p[i] = f.params[i] + h;
      double up = models::log_likelihood(m, p, d);
      p[i] = f.params[i] - h;
      double down = models::log_likelihood(m, p, d);
      double Hii = -(up - 2 * f.log_likelihood + down) / (h * h);
      CHECK(f.se[i] * f.se[i] >= 1 / Hii * (1 - 1e-3));
    }
  }
  // Gamma-Gamma: the same standard errors as central differences of its log-likelihood give.
  const Spends& s = cdnow_spends();
  models::SpendData sd = models::spend_data(s.x.data(), s.m.data(), s.x.size());
  Fit g = models::fit_gamma_gamma(sd);
  double H[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double hi = 1e-4 * g.params[i], hj = 1e-4 * g.params[j], v[4];
      int k = 0;
      for (int si : {1, -1})
        for (int sj : {1, -1}) {
          auto p = g.params;
          p[i] += si * hi;
          p[j] += sj * hj;
          v[k++] = models::gamma_gamma_log_likelihood(p, sd);
        }
      H[i][j] = -(v[0] - v[1] - v[2] + v[3]) / (4 * hi * hj);
    }
  // Invert the 3x3 by cofactors.
  double det = H[0][0] * (H[1][1] * H[2][2] - H[1][2] * H[2][1]) - H[0][1] * (H[1][0] * H[2][2] - H[1][2] * H[2][0]) +
               H[0][2] * (H[1][0] * H[2][1] - H[1][1] * H[2][0]);
  double inv00 = (H[1][1] * H[2][2] - H[1][2] * H[2][1]) / det;
  double inv11 = (H[0][0] * H[2][2] - H[0][2] * H[2][0]) / det;
  double inv22 = (H[0][0] * H[1][1] - H[0][1] * H[1][0]) / det;
  CHECK(g.se[0] == Approx(std::sqrt(inv00)).epsilon(1e-3));
  CHECK(g.se[1] == Approx(std::sqrt(inv11)).epsilon(1e-3));
  CHECK(g.se[2] == Approx(std::sqrt(inv22)).epsilon(1e-3));
}

TEST_CASE("degenerate data: ok=false or a warning, never NaN parameters with ok", "[models]") {
  std::vector<double> x = {0, 0, 0, 0}, tx = {0, 0, 0, 0}, T = {5, 10, 20, 30};
  BtydData none = models::compress(x.data(), tx.data(), T.data(), x.size());
  for (Model m : {Model::bg_nbd, Model::mbg_nbd, Model::pareto_nbd}) {
    Fit f = models::fit(m, none);
    CHECK_FALSE(f.ok);
    CHECK_FALSE(f.warnings.empty());
  }
  Fit empty = models::fit(Model::bg_nbd, BtydData{});
  CHECK_FALSE(empty.ok);
  CHECK_FALSE(empty.warnings.empty());

  std::vector<double> x3 = {0, 2, 1}, tx3 = {0, 8, 3}, T3 = {10, 12, 9};
  BtydData three = models::compress(x3.data(), tx3.data(), T3.data(), 3);
  for (Model m : {Model::bg_nbd, Model::mbg_nbd, Model::pareto_nbd}) {
    Fit f = models::fit(m, three);
    INFO(models::model_id(m));
    CHECK(f.warnings.size() >= 1);
    if (f.ok)
      for (double v : f.params) CHECK(std::isfinite(v));
  }
  Fit g = models::fit_gamma_gamma(models::SpendData{});
  CHECK_FALSE(g.ok);
  CHECK_THROWS_AS(models::log_likelihood(Model::bg_nbd, {1, 2, 3}, three), std::invalid_argument);
  CHECK(models::log_likelihood(Model::bg_nbd, {1, -2, 3, 4}, three) == -INFINITY);
  CHECK_THROWS_AS(models::p_alive(Model::bg_nbd, kBgPublished, 1, 5, 4), std::invalid_argument);
}

// ------------------------------------------------------------------- simulated customers ----

TEST_CASE("BG/NBD recovers its parameters from 20,000 simulated customers", "[models]") {
  const custlens::test::BgNbdTruth truth{0.24, 4.4, 0.79, 2.43};
  auto c = custlens::test::simulate_bg_nbd(20000, truth, 27, 39, 2024, false, {6.25, 3.74, 15.44});
  BtydData d = models::compress(c.x.data(), c.t_x.data(), c.T.data(), c.x.size());
  Fit f = models::fit(Model::bg_nbd, d);
  check_clean(f);
  const double want[] = {truth.r, truth.alpha, truth.a, truth.b};
  for (size_t i = 0; i < 4; ++i) {
    INFO(f.names[i] << " = " << f.params[i] << " ± " << f.se[i] << ", true " << want[i]);
    CHECK(std::fabs(f.params[i] - want[i]) < 4 * f.se[i]);
  }
  models::SpendData s = models::spend_data(c.x.data(), c.m.data(), c.x.size());
  Fit g = models::fit_gamma_gamma(s);
  check_clean(g);
  const double gwant[] = {6.25, 3.74, 15.44};
  for (size_t i = 0; i < 3; ++i) {
    INFO(g.names[i] << " = " << g.params[i] << " ± " << g.se[i] << ", true " << gwant[i]);
    CHECK(std::fabs(g.params[i] - gwant[i]) < 4 * g.se[i]);
  }
}

TEST_CASE("large data: the subsample-then-polish fit lands on the full data's optimum", "[models]") {
  // 150,000 customers in days: more than 30,000 distinct tuples, so the multi-start search
  // runs on a subsample and Newton polishes on everything.
  auto c = custlens::test::simulate_bg_nbd(150000, {0.25, 31, 0.8, 2.4}, 180, 546, 99, true, {6, 3.7, 15});
  BtydData d = models::compress(c.x.data(), c.t_x.data(), c.T.data(), c.x.size());
  REQUIRE(d.size() > 30000);
  for (Model m : {Model::bg_nbd, Model::mbg_nbd}) {
    Fit f = models::fit(m, d);
    INFO(models::model_id(m));
    check_clean(f);
    // A maximum: moving any parameter by a tenth of its standard error lowers the LL.
    for (size_t i = 0; i < 4; ++i)
      for (double sign : {-1.0, 1.0}) {
        auto p = f.params;
        p[i] += sign * 0.1 * f.se[i];
        CHECK(models::log_likelihood(m, p, d) < f.log_likelihood);
      }
  }
  models::SpendData s = models::spend_data(c.x.data(), c.m.data(), c.x.size());
  REQUIRE(s.size() > 30000);
  Fit g = models::fit_gamma_gamma(s);
  check_clean(g);
  // The polish on the full data stops once a Newton step can no longer lower the sum (its
  // decrement below the sum's rounding): a handful of evaluations there, not thousands.
  CHECK(g.evaluations < 150);
  for (size_t i = 0; i < 3; ++i)
    for (double sign : {-1.0, 1.0}) {
      auto p = g.params;
      p[i] += sign * 0.1 * g.se[i];
      CHECK(models::gamma_gamma_log_likelihood(p, s) < g.log_likelihood);
    }
}

TEST_CASE("bench: BG/NBD + Gamma-Gamma on 1,000,000 simulated customers", "[.bench]") {
  // CPU time (std::clock): the machine this runs on is often shared, wall time says little.
  struct clock {
    using time_point = double;
    static double now() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }
  };
  auto c = custlens::test::simulate_bg_nbd(1000000, {0.25, 31, 0.8, 2.4}, 180, 546, 42, true, {6, 3.7, 15});
  auto t0 = clock::now();
  BtydData d = models::compress(c.x.data(), c.t_x.data(), c.T.data(), c.x.size());
  auto t1 = clock::now();
  Fit f = models::fit(Model::bg_nbd, d);
  auto t2 = clock::now();
  models::SpendData s = models::spend_data(c.x.data(), c.m.data(), c.x.size());
  auto t3 = clock::now();
  Fit g = models::fit_gamma_gamma(s);
  auto t4 = clock::now();
  auto ms = [](double a, double b) { return 1000 * (b - a); };
  std::printf("tuples %zu, spend rows %zu\n", d.size(), s.size());
  std::printf("compress %.1f ms, BG/NBD fit %.1f ms (%d evaluations), spend_data %.1f ms, "
              "Gamma-Gamma fit %.1f ms (%d evaluations); total %.1f ms\n",
              ms(t0, t1), ms(t1, t2), f.evaluations, ms(t2, t3), ms(t3, t4), g.evaluations, ms(t0, t4));
  CHECK(f.ok);
  CHECK(g.ok);
}

namespace {
// f(u) = 4.6 + Σ (u_i − 1)² / 2, whose computed gradient carries error(u_i, i): what a sum
// over many customers does to its own derivatives.
custlens::models::detail::HessianObjective quadratic_with_gradient_error(std::function<double(double, size_t)> error) {
  return [error](const std::vector<double>& u, std::vector<double>* g, std::vector<double>* h) {
    double v = 4.6;
    for (double x : u) v += 0.5 * (x - 1) * (x - 1);
    if (g) {
      g->resize(u.size());
      for (size_t i = 0; i < u.size(); ++i) (*g)[i] = (u[i] - 1) + error(u[i], i);
    }
    if (h) {
      h->assign(u.size() * u.size(), 0.0);
      for (size_t i = 0; i < u.size(); ++i) (*h)[i * u.size() + i] = 1;
    }
    return v;
  };
}
}  // namespace

TEST_CASE("Newton stops at the optimum when its gradient is down to the rounding of a large sum", "[models]") {
  // A log-likelihood summed over a hundred thousand customers is exact to about 1e-15 of
  // its value; its gradient carries noise of about 1e-8, as large as the gradient tolerance.
  // Such noise here: a step that lowers f by less than its rounding cannot be told from none.
  // Before, Newton kept halving steps to chase it (3,000 evaluations of the Gamma-Gamma polish
  // on 131k repeat buyers); now it stops after the steps that count.
  auto f = quadratic_with_gradient_error([](double x, size_t i) { return 3e-8 * std::sin(1e9 * x + double(i)); });
  custlens::models::detail::MinimizeOptions o;
  auto r = custlens::models::detail::newton(f, {3, -2, 0.5}, o);
  CHECK(r.converged);
  CHECK(r.evaluations < 10);
  for (double x : r.x) CHECK(x == Approx(1).margin(1e-6));
}

TEST_CASE("Newton stops when a step could lower f by only 1e-12 of itself, though the gradient's rounding stays", "[models]") {
  // With hundreds of thousands of customers the gradient's sums round too: here it carries
  // 3.3e-7 that f does not have, at f's minimum. A full Newton step raises f by more than f's
  // rounding, so it is refused, and ever smaller steps crawl towards where the gradient is 0.
  // The Gamma-Gamma polish on gen_orders' 5M rows (656k repeat buyers) did that for 500
  // iterations, then fell back to a full multi-start: 17,917 evaluations in all.
  auto f = quadratic_with_gradient_error([](double, size_t) { return 3.3e-7; });
  custlens::models::detail::MinimizeOptions o;
  auto r = custlens::models::detail::newton(f, {1, 1}, o);
  CHECK(r.converged);
  CHECK(r.evaluations < 5);
  for (double x : r.x) CHECK(x == Approx(1).margin(1e-6));
}
