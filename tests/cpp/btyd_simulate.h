// A seeded simulator of BG/NBD customers (and Gamma-Gamma spends) for the model tests.
// The distributions are coded here on top of std::mt19937_64's raw output, so the draws
// are the same with every standard library.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace custlens::test {

class Draws {
 public:
  explicit Draws(uint64_t seed) : gen_(seed) {}

  /// Uniform on (0, 1): 53 random bits, never 0 or 1.
  double uniform() { return (static_cast<double>(gen_() >> 11) + 0.5) * 0x1.0p-53; }
  double exponential(double rate) { return -std::log(uniform()) / rate; }
  double normal() {  // Box-Muller, one of the pair
    return std::sqrt(-2 * std::log(uniform())) * std::cos(6.283185307179586 * uniform());
  }
  /// Gamma(shape, rate) by Marsaglia & Tsang; shape < 1 through Gamma(shape + 1) U^(1/shape).
  double gamma(double shape, double rate) {
    if (shape < 1) return gamma(shape + 1, rate) * std::pow(uniform(), 1 / shape);
    const double d = shape - 1.0 / 3, c = 1 / std::sqrt(9 * d);
    for (;;) {
      double z = normal(), v = 1 + c * z;
      if (v <= 0) continue;
      v = v * v * v;
      double u = uniform();
      if (std::log(u) < 0.5 * z * z + d - d * v + d * std::log(v)) return d * v / rate;
    }
  }
  double beta(double a, double b) {
    double g = gamma(a, 1), h = gamma(b, 1);
    return g / (g + h);
  }

 private:
  std::mt19937_64 gen_;
};

/// Customers as the models see them: (x, t_x, T) and, for repeat buyers, mean repeat spend m.
struct SimulatedCustomers {
  std::vector<double> x, t_x, T, m;
};

struct BgNbdTruth {
  double r, alpha, a, b;
};
struct SpendTruth {
  double p = 0, q = 0, gamma = 0;  ///< p = 0: no spends simulated
};

/// n BG/NBD customers: λ ~ Gamma(r, rate alpha), p ~ Beta(a, b); purchases form a Poisson(λ)
/// process from the first purchase at time 0, and after each repeat purchase the customer
/// dies with probability p. T is uniform on [T_min, T_max]; with `whole_units`, T is a whole
/// number and times are floored to whole units (several purchases in one unit count once,
/// as a BTYD summary built from purchase days does).
inline SimulatedCustomers simulate_bg_nbd(size_t n, const BgNbdTruth& truth, double T_min, double T_max, uint64_t seed,
                                          bool whole_units = false, const SpendTruth& spend = {}) {
  Draws draw(seed);
  SimulatedCustomers c;
  c.x.reserve(n);
  c.t_x.reserve(n);
  c.T.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    double lambda = draw.gamma(truth.r, truth.alpha), p = draw.beta(truth.a, truth.b);
    double T = T_min + (T_max - T_min) * draw.uniform();
    if (whole_units) T = std::floor(T);
    double t = 0, t_x = 0, last_unit = 0, x = 0;
    for (;;) {
      t += draw.exponential(lambda);
      if (t > T) break;
      if (whole_units) {
        double unit = std::floor(t);
        if (unit > last_unit) {
          x += 1;
          t_x = last_unit = unit;
        }
      } else {
        x += 1;
        t_x = t;
      }
      if (draw.uniform() < p) break;
    }
    c.x.push_back(x);
    c.t_x.push_back(t_x);
    c.T.push_back(T);
    if (spend.p > 0) {
      // ν ~ Gamma(q, rate γ); each spend ~ Gamma(p, rate ν); the mean of x of them.
      double m = 0;
      if (x > 0) {
        double nu = draw.gamma(spend.q, spend.gamma);
        m = draw.gamma(spend.p * x, nu) / x;
      }
      c.m.push_back(m);
    }
  }
  return c;
}

}  // namespace custlens::test
