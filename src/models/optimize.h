// Small unconstrained minimisers for the model fits (a handful of parameters, an objective
// that is expensive per call): BFGS with analytic or finite-difference gradients, Nelder-Mead
// as the fallback, and the finite-difference helpers behind standard errors.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace custlens::models::detail {

/// f(x), and its gradient into *grad when grad is not null. +infinity (or NaN) means "outside
/// the domain": the line search backs off.
using Objective = std::function<double(const std::vector<double>& x, std::vector<double>* grad)>;

struct MinimizeOptions {
  int max_iterations = 500;
  double gradient_tolerance = 1e-8;        ///< stop when max |gradient| is below this
  double accept_tolerance = 1e-6;          ///< when no more progress can be made, converged if below this
  std::vector<double> inverse_hessian;     ///< row-major n×n warm start; empty: scaled identity
  /// Checked after every step: true stops the run (e.g. parameters running off to a bound).
  std::function<bool(const std::vector<double>& x)> stop_if;
};

struct MinimizeResult {
  std::vector<double> x, gradient;
  std::vector<double> inverse_hessian;  ///< BFGS's final approximation (row-major)
  std::vector<double> hessian;          ///< newton: the last exact Hessian (row-major)
  double f = 0;
  int iterations = 0;
  int evaluations = 0;
  bool converged = false;  ///< the gradient test passed (not just "no more progress")
  std::string stop;        ///< why it stopped, for warnings
};

MinimizeResult bfgs(const Objective& f, std::vector<double> x0, const MinimizeOptions& o = {});

/// f(x) with gradient and Hessian (row-major), both requested together or not at all.
using HessianObjective =
    std::function<double(const std::vector<double>& x, std::vector<double>* grad, std::vector<double>* hess)>;

/// Newton's method with a backtracking line search (the Hessian shifted towards the
/// identity when it is not positive definite). For polishing from a good start: one
/// evaluation per iteration near the optimum. `inverse_hessian` of the result is that of
/// the last Hessian when positive definite, `hessian` the last Hessian itself.
MinimizeResult newton(const HessianObjective& f, std::vector<double> x0, const MinimizeOptions& o = {});

/// Derivative-free fallback; `gradient` of the result is left empty.
MinimizeResult nelder_mead(const Objective& f, std::vector<double> x0, double step, int max_evaluations,
                           double f_tolerance = 1e-13);

/// Central-difference gradient of a value-only objective (step h relative to max(1,|x_i|)).
std::vector<double> numeric_gradient(const Objective& f, const std::vector<double>& x, double h, int* evaluations);

/// Hessian (row-major) by central differences: of the analytic gradient when `has_gradient`,
/// else of the values. Symmetrised. Steps are h·max(|x_i|, tiny).
std::vector<double> numeric_hessian(const Objective& f, const std::vector<double>& x, double h, bool has_gradient,
                                    int* evaluations);

/// Inverse of a symmetric positive-definite matrix by Cholesky; false when not PD.
bool invert_spd(const std::vector<double>& a, size_t n, std::vector<double>* inverse);

}  // namespace custlens::models::detail
