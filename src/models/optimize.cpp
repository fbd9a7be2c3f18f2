#include "models/optimize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace custlens::models::detail {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

double max_abs(const std::vector<double>& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::fabs(v));
  return m;
}

bool all_finite(const std::vector<double>& a) {
  for (double v : a)
    if (!std::isfinite(v)) return false;
  return true;
}

std::vector<double> identity(size_t n, double scale) {
  std::vector<double> h(n * n, 0.0);
  for (size_t i = 0; i < n; ++i) h[i * n + i] = scale;
  return h;
}

}  // namespace

MinimizeResult bfgs(const Objective& f, std::vector<double> x0, const MinimizeOptions& o) {
  const size_t n = x0.size();
  MinimizeResult r;
  r.x = std::move(x0);
  r.gradient.assign(n, 0.0);
  r.f = f(r.x, &r.gradient);
  r.evaluations = 1;
  if (!std::isfinite(r.f) || !all_finite(r.gradient)) {
    r.stop = "the objective is not finite at the starting point";
    return r;
  }
  bool warm = o.inverse_hessian.size() == n * n;
  std::vector<double> H = warm ? o.inverse_hessian : identity(n, 1.0);
  bool scaled = warm;  // a cold start rescales the identity after the first step (Nocedal-Wright 6.20)
  bool fresh = true;   // H is the (scaled) identity: a failed line search is then final
  // Steps are in log-parameter space: a step of more than ~e^5 in one go is never useful and
  // risks overflow in the objective.
  constexpr double kMaxStep = 5.0;
  std::vector<double> d(n), xn(n), gn(n), s(n), y(n), Hy(n);
  int small_progress = 0;
  std::vector<double> history;  // f after each step
  for (r.iterations = 0; r.iterations < o.max_iterations; ++r.iterations) {
    if (max_abs(r.gradient) <= o.gradient_tolerance) {
      r.converged = true;
      r.stop = "gradient below tolerance";
      break;
    }
    for (size_t i = 0; i < n; ++i) {
      d[i] = 0;
      for (size_t j = 0; j < n; ++j) d[i] -= H[i * n + j] * r.gradient[j];
    }
    double slope = dot(r.gradient, d);
    if (!(slope < 0)) {  // H lost positive definiteness: restart from steepest descent
      H = identity(n, 1.0 / std::max(1.0, max_abs(r.gradient)));
      scaled = true;
      fresh = true;
      for (size_t i = 0; i < n; ++i) d[i] = -H[i * n + i] * r.gradient[i];
      slope = dot(r.gradient, d);
    }
    double longest = max_abs(d);
    if (longest > kMaxStep) {
      for (double& v : d) v *= kMaxStep / longest;
      slope *= kMaxStep / longest;
    }
    // Backtracking line search (Armijo), with quadratic interpolation of the step.
    double step = 1.0, fn = 0;
    bool found = false;
    for (int k = 0; k < 40; ++k) {
      for (size_t i = 0; i < n; ++i) xn[i] = r.x[i] + step * d[i];
      fn = f(xn, &gn);
      ++r.evaluations;
      // Armijo, or (near the optimum, where f is flat to rounding) a smaller gradient.
      const double noise = 8 * std::numeric_limits<double>::epsilon() * std::max(1.0, std::fabs(r.f));
      if (std::isfinite(fn) && all_finite(gn) &&
          (fn <= r.f + 1e-4 * step * slope || (fn <= r.f + noise && max_abs(gn) < max_abs(r.gradient)))) {
        found = true;
        break;
      }
      double next = 0.5 * step;
      if (std::isfinite(fn)) {
        double q = -slope * step * step / (2.0 * (fn - r.f - slope * step));
        if (std::isfinite(q)) next = std::min(0.5 * step, std::max(0.1 * step, q));
      }
      step = next;
    }
    if (!found) {
      if (max_abs(r.gradient) <= o.accept_tolerance) {
        r.stop = "no further progress";
        r.converged = true;
        break;
      }
      if (!fresh) {  // retry once from steepest descent before giving up
        H = identity(n, 1.0 / std::max(1.0, max_abs(r.gradient)));
        fresh = true;
        continue;
      }
      r.stop = "line search failed";
      r.converged = false;
      break;
    }
    for (size_t i = 0; i < n; ++i) {
      s[i] = xn[i] - r.x[i];
      y[i] = gn[i] - r.gradient[i];
    }
    double change = r.f - fn;
    r.x = xn;
    r.gradient = gn;
    r.f = fn;
    if (o.stop_if && o.stop_if(r.x)) {
      r.stop = "left the region of interest";
      ++r.iterations;
      break;
    }
    double sy = dot(s, y);
    if (sy > 1e-300 && std::isfinite(sy)) {
      if (!scaled) {
        double yy = dot(y, y);
        if (yy > 0) H = identity(n, sy / yy);
        scaled = true;
      }
      for (size_t i = 0; i < n; ++i) {
        Hy[i] = 0;
        for (size_t j = 0; j < n; ++j) Hy[i] += H[i * n + j] * y[j];
      }
      double yHy = dot(y, Hy), rho = 1.0 / sy;
      for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < n; ++j)
          H[i * n + j] += rho * ((1.0 + rho * yHy) * s[i] * s[j] - Hy[i] * s[j] - s[i] * Hy[j]);
      fresh = false;
    }
    // Ten steps in a row that change f by less than its rounding: nothing more to gain.
    small_progress = change <= 4 * std::numeric_limits<double>::epsilon() * std::max(1.0, std::fabs(r.f))
                         ? small_progress + 1
                         : 0;
    // Or a slow drift (a ridge towards a bound): under 1e-10 relative in 20 steps.
    history.push_back(r.f);
    const bool drifting = history.size() > 20 &&
                          history[history.size() - 21] - r.f <= 1e-10 * std::max(1.0, std::fabs(r.f));
    if (small_progress >= 10 || drifting) {
      r.stop = "no further progress";
      r.converged = max_abs(r.gradient) <= o.accept_tolerance;
      ++r.iterations;
      break;
    }
  }
  if (r.stop.empty()) {
    r.converged = max_abs(r.gradient) <= o.gradient_tolerance;
    r.stop = r.converged ? "gradient below tolerance" : "iteration limit reached";
  }
  r.inverse_hessian = H;
  return r;
}

MinimizeResult nelder_mead(const Objective& f, std::vector<double> x0, double step, int max_evaluations,
                           double f_tolerance) {
  const size_t n = x0.size();
  MinimizeResult r;
  std::vector<std::vector<double>> p(n + 1, x0);
  std::vector<double> fv(n + 1);
  auto eval = [&](const std::vector<double>& x) {
    ++r.evaluations;
    double v = f(x, nullptr);
    return std::isfinite(v) ? v : std::numeric_limits<double>::infinity();
  };
  for (size_t i = 0; i < n; ++i) p[i + 1][i] += step;
  for (size_t i = 0; i <= n; ++i) fv[i] = eval(p[i]);
  std::vector<size_t> order(n + 1);
  std::vector<double> c(n), xr(n), xe(n), xc(n);
  while (r.evaluations < max_evaluations) {
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return fv[a] < fv[b]; });
    size_t best = order[0], worst = order[n], second = order[n - 1];
    if (std::fabs(fv[worst] - fv[best]) <= f_tolerance * std::max(1.0, std::fabs(fv[best]))) {
      r.converged = true;
      break;
    }
    ++r.iterations;
    std::fill(c.begin(), c.end(), 0.0);
    for (size_t i = 0; i <= n; ++i)
      if (i != worst)
        for (size_t j = 0; j < n; ++j) c[j] += p[i][j] / n;
    for (size_t j = 0; j < n; ++j) xr[j] = c[j] + (c[j] - p[worst][j]);
    double fr = eval(xr);
    if (fr < fv[best]) {
      for (size_t j = 0; j < n; ++j) xe[j] = c[j] + 2 * (c[j] - p[worst][j]);
      double fe = eval(xe);
      if (fe < fr) { p[worst] = xe; fv[worst] = fe; } else { p[worst] = xr; fv[worst] = fr; }
    } else if (fr < fv[second]) {
      p[worst] = xr;
      fv[worst] = fr;
    } else {
      bool outside = fr < fv[worst];
      for (size_t j = 0; j < n; ++j)
        xc[j] = outside ? c[j] + 0.5 * (xr[j] - c[j]) : c[j] + 0.5 * (p[worst][j] - c[j]);
      double fc = eval(xc);
      if (fc < std::min(fr, fv[worst])) {
        p[worst] = xc;
        fv[worst] = fc;
      } else {  // shrink towards the best
        for (size_t i = 0; i <= n; ++i) {
          if (i == best) continue;
          for (size_t j = 0; j < n; ++j) p[i][j] = p[best][j] + 0.5 * (p[i][j] - p[best][j]);
          fv[i] = eval(p[i]);
        }
      }
    }
  }
  size_t best = static_cast<size_t>(std::min_element(fv.begin(), fv.end()) - fv.begin());
  r.x = p[best];
  r.f = fv[best];
  r.stop = r.converged ? "simplex collapsed" : "evaluation limit reached";
  return r;
}

std::vector<double> numeric_gradient(const Objective& f, const std::vector<double>& x, double h, int* evaluations) {
  std::vector<double> g(x.size()), xp = x;
  for (size_t i = 0; i < x.size(); ++i) {
    double hi = h * std::max(1.0, std::fabs(x[i]));
    xp[i] = x[i] + hi;
    double fp = f(xp, nullptr);
    xp[i] = x[i] - hi;
    double fm = f(xp, nullptr);
    xp[i] = x[i];
    g[i] = (fp - fm) / (2 * hi);
  }
  if (evaluations) *evaluations += static_cast<int>(2 * x.size());
  return g;
}

std::vector<double> numeric_hessian(const Objective& f, const std::vector<double>& x, double h, bool has_gradient,
                                    int* evaluations) {
  const size_t n = x.size();
  std::vector<double> H(n * n, 0.0), hs(n);
  for (size_t i = 0; i < n; ++i) hs[i] = h * std::max(std::fabs(x[i]), 1e-300);
  int evals = 0;
  if (has_gradient) {
    std::vector<double> xp = x, gp(n), gm(n);
    for (size_t j = 0; j < n; ++j) {
      xp[j] = x[j] + hs[j];
      f(xp, &gp);
      xp[j] = x[j] - hs[j];
      f(xp, &gm);
      xp[j] = x[j];
      evals += 2;
      for (size_t i = 0; i < n; ++i) H[i * n + j] = (gp[i] - gm[i]) / (2 * hs[j]);
    }
    for (size_t i = 0; i < n; ++i)
      for (size_t j = i + 1; j < n; ++j) H[i * n + j] = H[j * n + i] = 0.5 * (H[i * n + j] + H[j * n + i]);
  } else {
    std::vector<double> xp = x;
    double f0 = f(x, nullptr);
    ++evals;
    for (size_t i = 0; i < n; ++i) {
      xp[i] = x[i] + hs[i];
      double fp = f(xp, nullptr);
      xp[i] = x[i] - hs[i];
      double fm = f(xp, nullptr);
      xp[i] = x[i];
      evals += 2;
      H[i * n + i] = (fp - 2 * f0 + fm) / (hs[i] * hs[i]);
      for (size_t j = 0; j < i; ++j) {
        double v[4];
        int k = 0;
        for (int si : {1, -1})
          for (int sj : {1, -1}) {
            xp[i] = x[i] + si * hs[i];
            xp[j] = x[j] + sj * hs[j];
            v[k++] = f(xp, nullptr);
          }
        xp[i] = x[i];
        xp[j] = x[j];
        evals += 4;
        H[i * n + j] = H[j * n + i] = (v[0] - v[1] - v[2] + v[3]) / (4 * hs[i] * hs[j]);
      }
    }
  }
  if (evaluations) *evaluations += evals;
  return H;
}

bool invert_spd(const std::vector<double>& a, size_t n, std::vector<double>* inverse) {
  std::vector<double> L(n * n, 0.0);
  for (size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (size_t k = 0; k < j; ++k) d -= L[j * n + k] * L[j * n + k];
    if (!(d > 0) || !std::isfinite(d)) return false;
    L[j * n + j] = std::sqrt(d);
    for (size_t i = j + 1; i < n; ++i) {
      double v = a[i * n + j];
      for (size_t k = 0; k < j; ++k) v -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = v / L[j * n + j];
    }
  }
  // inverse = L^-T L^-1, column by column.
  inverse->assign(n * n, 0.0);
  std::vector<double> e(n), z(n);
  for (size_t c = 0; c < n; ++c) {
    std::fill(e.begin(), e.end(), 0.0);
    e[c] = 1;
    for (size_t i = 0; i < n; ++i) {  // L z = e
      double v = e[i];
      for (size_t k = 0; k < i; ++k) v -= L[i * n + k] * z[k];
      z[i] = v / L[i * n + i];
    }
    for (size_t i = n; i-- > 0;) {  // L^T w = z
      double v = z[i];
      for (size_t k = i + 1; k < n; ++k) v -= L[k * n + i] * (*inverse)[k * n + c];
      (*inverse)[i * n + c] = v / L[i * n + i];
    }
  }
  return true;
}

}  // namespace custlens::models::detail

namespace custlens::models::detail {

namespace {

/// Cholesky factor of a (row-major n×n) into L; false when not positive definite.
bool cholesky(const std::vector<double>& a, size_t n, std::vector<double>* L) {
  L->assign(n * n, 0.0);
  for (size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (size_t k = 0; k < j; ++k) d -= (*L)[j * n + k] * (*L)[j * n + k];
    if (!(d > 0) || !std::isfinite(d)) return false;
    (*L)[j * n + j] = std::sqrt(d);
    for (size_t i = j + 1; i < n; ++i) {
      double v = a[i * n + j];
      for (size_t k = 0; k < j; ++k) v -= (*L)[i * n + k] * (*L)[j * n + k];
      (*L)[i * n + j] = v / (*L)[j * n + j];
    }
  }
  return true;
}

/// Solves L Lᵀ x = b.
std::vector<double> cholesky_solve(const std::vector<double>& L, size_t n, const std::vector<double>& b) {
  std::vector<double> z(n), x(n);
  for (size_t i = 0; i < n; ++i) {
    double v = b[i];
    for (size_t k = 0; k < i; ++k) v -= L[i * n + k] * z[k];
    z[i] = v / L[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {
    double v = z[i];
    for (size_t k = i + 1; k < n; ++k) v -= L[k * n + i] * x[k];
    x[i] = v / L[i * n + i];
  }
  return x;
}

double largest(const std::vector<double>& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::fabs(v));
  return m;
}

}  // namespace

MinimizeResult newton(const HessianObjective& f, std::vector<double> x0, const MinimizeOptions& o) {
  const size_t n = x0.size();
  MinimizeResult r;
  r.x = std::move(x0);
  r.f = f(r.x, &r.gradient, &r.hessian);
  r.evaluations = 1;
  auto finite = [](const std::vector<double>& v) {
    for (double e : v)
      if (!std::isfinite(e)) return false;
    return true;
  };
  if (!std::isfinite(r.f) || !finite(r.gradient) || !finite(r.hessian)) {
    r.stop = "the objective is not finite at the starting point";
    return r;
  }
  std::vector<double> L, xn(n), gn, hn, shifted;
  for (r.iterations = 0; r.iterations < o.max_iterations; ++r.iterations) {
    if (largest(r.gradient) <= o.gradient_tolerance) {
      r.converged = true;
      r.stop = "gradient below tolerance";
      break;
    }
    // Levenberg-style shift until positive definite.
    double mu = 0, diag = 0;
    for (size_t i = 0; i < n; ++i) diag = std::max(diag, std::fabs(r.hessian[i * n + i]));
    shifted = r.hessian;
    while (!cholesky(shifted, n, &L)) {
      mu = mu == 0 ? 1e-8 * std::max(diag, 1e-12) : mu * 10;
      if (mu > 1e12 * std::max(diag, 1.0)) break;
      shifted = r.hessian;
      for (size_t i = 0; i < n; ++i) shifted[i * n + i] += mu;
    }
    std::vector<double> neg(n);
    for (size_t i = 0; i < n; ++i) neg[i] = -r.gradient[i];
    std::vector<double> d = cholesky_solve(L, n, neg);
    double slope = 0;
    for (size_t i = 0; i < n; ++i) slope += d[i] * r.gradient[i];
    if (!(slope < 0) || !finite(d)) {
      r.stop = "no descent direction";
      break;
    }
    const double noise = 8 * std::numeric_limits<double>::epsilon() * std::max(1.0, std::fabs(r.f));
    // The Newton decrement: a full step would lower f by about −slope / 2. Below the rounding
    // of f (a sum over many customers) no step can be told apart: the optimum is reached as
    // precisely as f can say, once the gradient is small. (Without this, half-steps chased
    // gradient noise: 129 iterations and 3,000 evaluations of the Gamma-Gamma polish on 131k
    // repeat buyers, where 2 suffice.)
    // (With hundreds of thousands of customers the gradient's own rounding can exceed the
    // tolerance while a step could lower f by only 1e-12 of itself: that is the optimum too.)
    if (-slope / 2 <= std::max(noise, 1e-12 * std::max(1.0, std::fabs(r.f))) &&
        largest(r.gradient) <= o.accept_tolerance) {
      r.converged = true;
      r.stop = "gradient below tolerance";
      break;
    }
    double longest = largest(d);
    if (longest > 5) {
      for (double& v : d) v *= 5 / longest;
      slope *= 5 / longest;
    }
    double step = 1, fn = 0;
    bool found = false;
    for (int k = 0; k < 40; ++k) {
      for (size_t i = 0; i < n; ++i) xn[i] = r.x[i] + step * d[i];
      fn = f(xn, &gn, &hn);
      ++r.evaluations;
      if (std::isfinite(fn) && finite(gn) && finite(hn) &&
          (fn <= r.f + 1e-4 * step * slope || (fn <= r.f + noise && largest(gn) < largest(r.gradient)))) {
        found = true;
        break;
      }
      step *= 0.5;
    }
    if (!found) {
      r.converged = largest(r.gradient) <= o.accept_tolerance;
      r.stop = "no further progress";
      break;
    }
    r.x = xn;
    r.f = fn;
    r.gradient = gn;
    r.hessian = hn;
    if (o.stop_if && o.stop_if(r.x)) {
      r.stop = "left the region of interest";
      ++r.iterations;
      break;
    }
  }
  if (r.stop.empty()) {
    r.converged = largest(r.gradient) <= o.gradient_tolerance;
    r.stop = r.converged ? "gradient below tolerance" : "iteration limit reached";
  }
  if (!invert_spd(r.hessian, n, &r.inverse_hessian)) r.inverse_hessian.clear();
  return r;
}

}  // namespace custlens::models::detail
