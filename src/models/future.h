// Future value (metrics.md sections 2, 5 and 6): a repeat-purchase model and the
// Gamma-Gamma spend model fitted on the customers' BTYD summaries, and what follows from
// them per customer — P(alive), expected purchases, expected order value, clv_predicted,
// value at risk, the churn risk score — with a calibration/holdout check of the model and
// its verdict. The summaries come from an analysis of the orders (with their purchase days,
// so the data can be split at a calibration end) or from a btyd_summary table.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/notices.h"
#include "metrics/analysis.h"
#include "models/btyd.h"

namespace custlens {

class BtydSummaryTable;

enum class TimeUnit : uint8_t { days, weeks, months };
const char* time_unit_name(TimeUnit u);  ///< "days", "weeks", "months"
double time_unit_days(TimeUnit u);       ///< 1, 7, 365.25 / 12

/// A month in days, where CLV needs one (metrics.md conventions).
constexpr double kMonthDays = 365.25 / 12;

struct PredictOptions {
  models::Model model = models::Model::bg_nbd;
  TimeUnit unit = TimeUnit::weeks;  ///< the models' time unit (the papers use weeks)
  int horizon_months = 12;          ///< H of clv_predicted
  double margin = 1;                ///< 1: revenue CLV (said so)
  bool margin_given = false;
  double monthly_discount = 0.01;   ///< d of clv_predicted
  /// The calibration end of the holdout check: a day, none, or (default) automatic: the
  /// middle day of the data, so half the span is kept back to test the model.
  enum class Split : uint8_t { automatic, day, none } split = Split::automatic;
  int32_t calibration_end = 0;      ///< with Split::day
  int top = 25;                     ///< length of the top-customer and value-at-risk lists
  /// The units of a btyd_summary table (it cannot say itself).
  TimeUnit summary_unit = TimeUnit::weeks;
};

/// A histogram: bin edges (n + 1) and counts (n).
struct Histogram {
  std::vector<double> edges;
  std::vector<uint64_t> counts;
};

/// The holdout check: fit on the calibration period, predict the holdout, compare.
struct HoldoutCheck {
  bool done = false;
  std::string reason;           ///< why it was not done
  int32_t calibration_end = 0;  ///< last day of calibration (day number)
  int32_t holdout_end = 0;      ///< as_of
  double holdout_length = 0;    ///< in the model's unit
  uint64_t customers = 0;       ///< customers whose first purchase is on or before calibration_end
  uint64_t calibration_repeat_buyers = 0;
  models::Fit fit;
  double actual = 0, predicted = 0;  ///< repeat purchases in the holdout, all cohort customers
  double mae = 0;                    ///< mean |predicted − actual| per customer
  double bias = 0;                   ///< (predicted − actual) / actual
  struct Bucket {
    std::string label;  ///< "0", "1", ..., "7+" calibration repeat purchases
    uint64_t customers = 0;
    double actual_mean = 0, predicted_mean = 0;
  };
  std::vector<Bucket> by_frequency;
  /// Cumulative repeat purchases of the cohort over time, actual vs the model's
  /// (unconditional expectation from each customer's first purchase), in steps of one week
  /// (one day when the data span fewer than 8 weeks).
  int32_t step_days = 7;
  std::vector<int32_t> step_end;  ///< day numbers
  std::vector<double> cumulative_actual, cumulative_predicted;
  std::string verdict;         ///< "trustworthy", "rough" or "not_enough_data"
  std::string verdict_reason;  ///< in words, with the numbers behind it
};

/// One part of the churn risk score.
struct RiskPart {
  std::string id;       ///< "model", "rhythm", "decline", "complaints"
  double weight = 0;    ///< share of the score (the weights in use sum to 1)
  std::string formula;  ///< in words
  std::string reason;   ///< why its weight is 0
};

/// A model tried for the predictions, and whether it holds (docs/models.md, "Does the model
/// fit?"): converged, no parameter at an extreme, and P(alive) not contradicted by the data.
struct FitAttempt {
  models::Model model = models::Model::bg_nbd;
  models::Fit fit;
  bool holds = false;
  std::string reason;  ///< why it does not hold ("" when it holds)
};

/// Repeat buyers who have clearly stopped buying: no purchase for more than lapse_days and
/// more than three of their own mean gaps between purchase days. A model that gives them a
/// high mean P(alive) sees no one leave, whatever the data show.
struct StoppedBuyers {
  double lapse_days = 180;
  double customers = 0;              ///< weighted
  double mean_p_alive = std::numeric_limits<double>::quiet_NaN();  ///< with the model in use
  std::vector<double> x, t_x, T, w;  ///< their summaries in the model's unit
};

struct FutureValue {
  std::string source;  ///< "orders" or "btyd_summary"
  PredictOptions options;  ///< options.model is the model in use (see requested_model)
  models::Model requested_model = models::Model::bg_nbd;
  std::vector<FitAttempt> attempts;  ///< the requested model first, then any tried instead
  StoppedBuyers stopped;
  /// Does the fit behind the predictions hold: "trustworthy", "rough", "not_enough_data" or
  /// "does_not_fit" (then its numbers are shown only behind that warning, and the churn risk
  /// score does not use its P(alive)).
  std::string verdict, verdict_reason;
  int32_t as_of = 0;   ///< orders only
  models::BtydData data_summary;   ///< what the model was fitted on (distinct tuples)
  models::Fit fit;                 ///< on all customers up to as_of
  bool spend_fitted = false;
  std::string spend_reason;        ///< why there is no spend model
  models::Fit spend_fit;
  uint64_t spend_customers = 0;    ///< repeat buyers in the spend fit
  uint64_t spend_left_out = 0;     ///< customers given the population mean (no repeat purchase, or m <= 0)
  uint64_t spend_returns_netted = 0;  ///< orders source: repeat buyers whose later returns were taken off m
  double population_mean_spend = 0;

  // Per customer row (the analysis's customers, or the summary table's rows).
  std::vector<double> p_alive, expected_purchases, expected_order_value, clv, value_at_risk;
  std::vector<uint8_t> churn_risk;                          ///< 0..100, orders only
  std::vector<double> risk_model, risk_rhythm, risk_decline;  ///< the parts, 0..1
  std::vector<double> t_x, T;                               ///< orders: the BTYD summary in the model's unit
  /// The calibration/holdout split (orders, NaN outside the cohort: first purchase after
  /// the calibration end): the BTYD summary at the calibration end, in the model's unit, and
  /// the repeat purchase days in the holdout (actual) and the model's prediction of them.
  std::vector<double> cal_frequency, cal_t_x, cal_T, cal_monetary;
  std::vector<double> holdout_actual, holdout_predicted;
  std::vector<double> weight;                               ///< summary rows: customers per row

  std::vector<RiskPart> risk_parts;
  std::vector<Metric> metrics;  ///< clv_predicted, expected_purchases, p_alive, value_at_risk ...
  Histogram clv_histogram, p_alive_histogram, churn_risk_histogram;
  std::vector<uint32_t> top_customers;  ///< rows, by clv descending
  std::vector<uint32_t> top_at_risk;    ///< rows, by value_at_risk descending
  HoldoutCheck holdout;
  std::vector<Notice> warnings;
};

/// Where a predict() is, for a progress bar: the step ("fit": a repeat-purchase model on all
/// the data; "spend": the Gamma-Gamma model; "predict": every customer's predictions;
/// "holdout": the calibration fit and its check), the model being fitted ("" outside "fit"
/// and "holdout"), and the share of the work done before this step, 0..1.
using Progress = std::function<void(const char* step, const char* model, double done)>;

/// Fits and predicts from an analysis of the orders (its customers and purchase days).
FutureValue predict(const Analysis& a, const PredictOptions& o, const Progress& progress = {});
/// Fits and predicts from a btyd_summary table (no holdout check, no churn risk).
FutureValue predict(const BtydSummaryTable& t, const PredictOptions& o, const Progress& progress = {});

}  // namespace custlens
