// The JSON of predict(): the fitted models, the future-value metrics, their distributions,
// the ranked lists, the churn risk score's parts and the holdout check.
#include <cmath>

#include "api/report.h"
#include "io/notices.h"
#include "io/values.h"

namespace custlens {

using json = nlohmann::ordered_json;

namespace {

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json fit_json(const models::Fit& f, const char* model) {
  json params = json::object(), se = json::object();
  for (size_t i = 0; i < f.names.size() && i < f.params.size(); ++i) {
    params[f.names[i]] = number(f.params[i]);
    se[f.names[i]] = i < f.se.size() ? number(f.se[i]) : json(nullptr);
  }
  return {{"model", model},
          {"ok", f.ok},
          {"converged", f.converged},
          {"params", params},
          {"standard_errors", se},
          {"log_likelihood", f.ok ? number(f.log_likelihood) : json(nullptr)},
          {"iterations", f.iterations},
          {"evaluations", f.evaluations},
          {"starts", f.starts},
          {"warnings", f.warnings}};
}

// What happened to the calibration split, in words.
std::string calibration_end_source(const FutureValue& f) {
  if (f.source != "orders") return "none: " + f.holdout.reason;
  switch (f.options.split) {
    case PredictOptions::Split::automatic:
      return f.holdout.done ? "automatic: the middle day of the data" : "automatic, but no split: " + f.holdout.reason;
    case PredictOptions::Split::day: return f.holdout.done ? "option" : "option, but no split: " + f.holdout.reason;
    case PredictOptions::Split::none: return "none: calibrationEnd is \"none\"";
  }
  return "none";
}

json histogram_json(const Histogram& h) { return {{"edges", h.edges}, {"counts", h.counts}}; }

json values_or_null(const std::vector<double>& v) {
  json out = json::array();
  for (double x : v) out.push_back(number(x));
  return out;
}

}  // namespace

json future_json(const FutureValue& f, const std::function<std::string(uint32_t)>& row_id,
                 const std::function<void(json&, uint32_t)>& row_details) {
  const PredictOptions& o = f.options;
  const char* model = models::model_id(o.model);
  json j;
  j["source"] = f.source;
  j["model"] = model;
  j["model_requested"] = models::model_id(f.requested_model);
  j["verdict"] = f.verdict;
  j["verdict_reason"] = f.verdict_reason;
  j["time_unit"] = time_unit_name(o.unit);
  j["as_of"] = f.source == "orders" ? json(format_day(f.as_of)) : json(nullptr);
  j["options"] = {{"horizon_months", o.horizon_months},
                  {"margin", o.margin},
                  {"margin_source", o.margin_given ? "option" : "default: revenue CLV (no margin given)"},
                  {"monthly_discount_rate", o.monthly_discount},
                  {"calibration_end", f.holdout.done || f.holdout.calibration_end ? json(format_day(f.holdout.calibration_end)) : json(nullptr)},
                  {"calibration_end_source", calibration_end_source(f)}};
  json fit = fit_json(f.fit, model);
  fit["customers"] = f.data_summary.customers;
  fit["distinct_histories"] = f.data_summary.size();
  j["fit"] = fit;
  // Every model tried, in order: the requested one, then those tried when it did not hold.
  j["fit_attempts"] = json::array();
  for (const FitAttempt& at : f.attempts)
    j["fit_attempts"].push_back({{"model", models::model_id(at.model)},
                                 {"holds", at.holds},
                                 {"reason", at.holds ? json(nullptr) : json(at.reason)},
                                 {"log_likelihood", at.fit.ok ? number(at.fit.log_likelihood) : json(nullptr)},
                                 {"evaluations", at.fit.evaluations}});
  j["stopped_buyers"] = {{"rule", "repeat buyers with no purchase for more than lapse_days and more than 3 of their own "
                                  "mean gaps between purchase days"},
                         {"lapse_days", f.stopped.lapse_days},
                         {"customers", f.stopped.customers},
                         {"mean_p_alive", number(f.stopped.mean_p_alive)}};
  if (f.spend_fitted || !f.spend_fit.params.empty()) {
    json s = fit_json(f.spend_fit, "gamma_gamma");
    s["customers"] = f.spend_customers;
    s["customers_given_population_mean"] = f.spend_left_out;
    if (f.source == "orders") s["customers_with_returns_netted"] = f.spend_returns_netted;
    s["population_mean_spend"] = f.spend_fitted ? json(f.population_mean_spend) : json(nullptr);
    if (!f.spend_fitted) s["reason"] = f.spend_reason;
    j["spend_model"] = s;
  } else {
    j["spend_model"] = {{"model", "gamma_gamma"}, {"ok", false}, {"reason", f.spend_reason}};
  }
  json metrics = json::object();
  for (const Metric& m : f.metrics) metrics[m.id] = metric_json(m);
  j["metrics"] = metrics;
  j["distributions"] = {{"clv_predicted", histogram_json(f.clv_histogram)},
                        {"p_alive", histogram_json(f.p_alive_histogram)},
                        {"churn_risk", f.churn_risk.empty() ? json(nullptr) : histogram_json(f.churn_risk_histogram)}};
  auto row = [&](uint32_t i) {
    json r = {{"customer_id", row_id(i)},
              {"clv_predicted", number(f.clv[i])},
              {"p_alive", number(f.p_alive[i])},
              {"expected_purchases", number(f.expected_purchases[i])},
              {"expected_order_value", number(f.expected_order_value[i])},
              {"value_at_risk", number(f.value_at_risk[i])}};
    if (!f.churn_risk.empty()) r["churn_risk"] = f.churn_risk[i];
    row_details(r, i);
    return r;
  };
  j["top_customers"] = json::array();
  for (uint32_t i : f.top_customers) j["top_customers"].push_back(row(i));
  j["value_at_risk"] = json::array();
  for (uint32_t i : f.top_at_risk) j["value_at_risk"].push_back(row(i));
  if (!f.risk_parts.empty()) {
    json parts = json::array();
    for (const RiskPart& p : f.risk_parts) {
      json e = {{"id", p.id}, {"weight", p.weight}, {"formula", p.formula}};
      if (!p.reason.empty()) e["reason"] = p.reason;
      parts.push_back(e);
    }
    j["churn_risk"] = {{"formula", "round(100 × Σ weight × part), each part in 0..1"}, {"parts", parts}};
  } else {
    j["churn_risk"] = nullptr;
  }
  const HoldoutCheck& h = f.holdout;
  if (!h.done) {
    j["holdout"] = {{"done", false}, {"reason", h.reason}};
  } else {
    json buckets = json::array();
    for (const auto& b : h.by_frequency)
      buckets.push_back({{"calibration_frequency", b.label}, {"customers", b.customers},
                         {"actual_mean", b.actual_mean}, {"predicted_mean", b.predicted_mean}});
    json days = json::array();
    for (int32_t d : h.step_end) days.push_back(format_day(d));
    j["holdout"] = {{"done", true},
                    {"calibration_end", format_day(h.calibration_end)},
                    {"holdout_end", format_day(h.holdout_end)},
                    {"holdout_length", h.holdout_length},
                    {"customers", h.customers},
                    {"calibration_repeat_buyers", h.calibration_repeat_buyers},
                    {"fit", fit_json(h.fit, model)},
                    {"actual", h.actual},
                    {"predicted", h.fit.ok ? json(h.predicted) : json(nullptr)},
                    {"mae", h.fit.ok ? json(h.mae) : json(nullptr)},
                    {"bias", h.fit.ok && h.actual > 0 ? json(h.bias) : json(nullptr)},
                    {"by_frequency", buckets},
                    {"over_time", {{"step_days", h.step_days},
                                   {"dates", days},
                                   {"cumulative_actual", h.cumulative_actual},
                                   {"cumulative_predicted", values_or_null(h.cumulative_predicted)}}},
                    {"verdict", h.verdict},
                    {"verdict_reason", h.verdict_reason}};
  }
  j["warnings"] = json::array();
  for (const Notice& n : f.warnings)
    j["warnings"].push_back({{"code", n.code}, {"message", n.message}, {"count", n.count}, {"lines", n.lines}});
  return j;
}

}  // namespace custlens
