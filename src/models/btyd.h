// The repeat-purchase ("buy till you die") models of metrics.md section 6: BG/NBD (Fader,
// Hardie & Lee 2005), MBG/NBD (Batislam, Denizel & Filiztekin 2007), Pareto/NBD (Schmittlein,
// Morrison & Colombo 1987, in Fader & Hardie's 2005 note) and Gamma-Gamma (Fader, Hardie &
// Lee 2005; Hardie's note 025). Plain numbers in, plain numbers out: no tables, no JSON.
//
// Time is in whatever unit the caller chose (days, weeks, months): x = btyd_frequency
// (repeat purchase days), t_x = first to last purchase, T = first purchase to the end of
// calibration, all in that unit. Parameters come out in that unit too (alpha, beta scale
// with it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace custlens::models {

/// Customers compressed to their distinct (x, t_x, T) tuples, each with a weight (how many
/// customers share it): a million customers fit at the cost of the distinct tuples.
/// Sorted by (x, t_x, T); t_x is 0 where x is 0.
struct BtydData {
  std::vector<double> x, t_x, T, weight;
  double customers = 0;  ///< sum of the weights
  size_t size() const { return x.size(); }
};

/// Builds BtydData from per-customer columns. `weight` may be null (every customer counts 1).
/// Throws std::invalid_argument on a negative or non-finite value, x not an integer, or
/// t_x > T (beyond rounding: t_x is clipped to T when within 1e-9 relative).
BtydData compress(const double* x, const double* t_x, const double* T, size_t n,
                  const double* weight = nullptr);

enum class Model : uint8_t { bg_nbd, mbg_nbd, pareto_nbd };
const char* model_id(Model m);  ///< "bg_nbd", "mbg_nbd", "pareto_nbd"

/// The outcome of a maximum-likelihood fit. `params` in the order of `names`:
/// BG/NBD and MBG/NBD: r, alpha, a, b. Pareto/NBD: r, alpha, s, beta. Gamma-Gamma: p, q, gamma.
struct Fit {
  std::vector<std::string> names;
  std::vector<double> params;
  std::vector<double> se;       ///< standard errors from the observed information (inverse
                                ///< of the Hessian of −LL at the optimum); empty when the
                                ///< Hessian is not positive definite (said in `warnings`)
  double log_likelihood = 0;    ///< at params, summed over customers (weights included)
  int iterations = 0;           ///< of the run that gave params
  int evaluations = 0;          ///< log-likelihood evaluations, all runs
  int starts = 0;               ///< starting points tried
  bool converged = false;       ///< gradient small and the best starts agree
  bool ok = false;              ///< params are finite and usable; false: do not use them
  bool extreme = false;         ///< a parameter beyond 10^4 times its natural scale (or below
                                ///< 10^-4 of it): the data hardly identify it
  bool exhausted = false;       ///< stopped at the evaluation budget (kMaxEvaluations): the
                                ///< likelihood shows no clear optimum
  std::vector<std::string> warnings;  ///< suspect fit, parameter at a bound, starts disagree...
};

/// Log-likelihood of one model at `params`, summed over the data with weights. Stable in
/// log space (lgamma, log1p/exp of differences); −infinity outside the parameter space.
double log_likelihood(Model m, const std::vector<double>& params, const BtydData& d);

struct FitOptions {
  double penalizer = 0;   ///< L2 penalty on the parameters (0: plain MLE, as the papers)
  int max_iterations = 500;
  int starts = 3;         ///< at least this many starting points; more when they disagree
};

/// Maximum-likelihood fit of a BTYD model on the data. Never returns garbage silently: a fit
/// that does not converge, lands on a bound or whose starts disagree says so in `warnings`
/// (and `ok` is false when nothing usable came out).
Fit fit(Model m, const BtydData& d, const FitOptions& o = {});

/// The three functions below throw std::invalid_argument on a wrong parameter count,
/// parameters <= 0, t < 0 or an impossible history (x not a whole number, t_x > T).
/// P(alive | x, t_x, T): the probability that a customer with this history is still active at T.
double p_alive(Model m, const std::vector<double>& params, double x, double t_x, double T);

/// E[Y(t) | x, t_x, T]: expected purchases in the next t time units after T.
double expected_purchases(Model m, const std::vector<double>& params, double t, double x, double t_x, double T);

/// E[X(t)]: expected purchases of a new customer in the first t time units after the first
/// purchase (the first purchase not counted).
double expected_purchases_new(Model m, const std::vector<double>& params, double t);

/// Gauss hypergeometric function 2F1(a, b; c; z) for 0 <= z < 1 (the only range the models
/// need; z < 0 works too), by its power series with a transformation near z = 1. Sets *ok
/// false, and returns NaN, when it cannot reach full precision (about 1e-10 relative).
double hyp2f1(double a, double b, double c, double z, bool* ok = nullptr);

// ---- Gamma-Gamma: the spend model ----

/// Repeat buyers' (x, mean repeat spend m) with weights; customers with x = 0 or m <= 0 are
/// not in it (the caller gives them the population mean, and says so).
struct SpendData {
  std::vector<double> x, m, weight;
  double customers = 0;
  size_t size() const { return x.size(); }
};
SpendData spend_data(const double* x, const double* m, size_t n, const double* weight = nullptr);

double gamma_gamma_log_likelihood(const std::vector<double>& params, const SpendData& d);
Fit fit_gamma_gamma(const SpendData& d, const FitOptions& o = {});
/// E[M | x, m] = p (gamma + m x) / (p x + q − 1): the expected value of a future order.
/// With x = 0: the population mean p gamma / (q − 1). Needs q > 1. Throws std::invalid_argument
/// on bad parameters, and for x = 0 when q <= 1.
double expected_order_value(const std::vector<double>& params, double x, double m);

namespace detail {
/// The analytic derivatives behind the Pareto/NBD fit, for tests: ln J(t) of one (x, t), with
/// its gradient and Hessian (row-major 4×4) in (r, alpha, s, beta); ok false when the
/// hypergeometric function lost precision.
double pareto_log_J_derivatives(const double* th, double x, double t, double* grad, double* hess, bool* ok);
/// The Pareto/NBD log-likelihood of d with its gradient and Hessian (row-major 4×4).
double pareto_log_likelihood_derivatives(const BtydData& d, const double* th, double* grad, double* hess);
}  // namespace detail

}  // namespace custlens::models
