#include "api/report.h"

#include "blocks.h"
#include "io/values.h"
#include "metrics/subscription.h"

namespace custlens {

using json = nlohmann::ordered_json;

namespace {

json tally_json(const std::string& reason, const Tally& t) {
  return {{"reason", reason}, {"count", t.count}, {"lines", t.lines}};
}

json notice_json(const Notice& n) {
  return {{"code", n.code}, {"message", n.message}, {"count", n.count}, {"lines", n.lines}};
}

json opt_number(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

}  // namespace

json metric_json(const Metric& m) {
  json inputs = json::object();
  for (const auto& [k, v] : m.inputs) inputs[k] = v;
  json e = {{"value", opt_number(m.value)}, {"unit", m.unit}, {"formula", m.formula}, {"inputs", inputs}};
  if (!m.value) e["reason"] = m.reason;
  return e;
}

json file_report_json(const FileReport& f) {
  json j;
  j["name"] = f.name;
  j["classification"] = {{"table", f.classification.table.empty() ? json(nullptr) : json(f.classification.table)},
                         {"profile", nullptr},
                         {"score", f.classification.score >= 0 ? json(f.classification.score) : json(nullptr)},
                         {"reason", f.classification.reason}};
  j["rows_read"] = f.rows_read;
  j["rows_used"] = f.rows_used;
  j["rows_rejected"] = f.rows_rejected;
  j["rows_skipped"] = f.rows_skipped;
  j["rejected"] = json::array();
  for (const auto& [reason, t] : f.rejected) j["rejected"].push_back(tally_json(reason, t));
  j["skipped"] = json::array();
  for (const auto& [reason, t] : f.skipped) j["skipped"].push_back(tally_json(reason, t));
  j["duplicate_lines"] = {{"count", f.duplicate_lines.count}, {"lines", f.duplicate_lines.lines}};
  const CsvStats& c = f.csv;
  j["format"] = {{"encoding", c.encoding},
                 {"encoding_source", c.encoding_source},
                 {"preview", c.preview},
                 {"delimiter", c.delimiter_name},
                 {"delimiter_source", c.delimiter_source},
                 {"header", c.has_header},
                 {"header_source", c.header_source},
                 {"columns", c.columns},
                 {"line_endings",
                  {{"lf", c.line_endings[kLF]}, {"crlf", c.line_endings[kCRLF]}, {"cr", c.line_endings[kCR]},
                   {"crcrlf", c.line_endings[kCRCRLF]}}},
                 {"date_order", f.date_order},
                 {"date_order_source", f.date_order_source},
                 {"decimal_mark", f.decimal_mark}};
  j["mapping"] = json::array();
  for (const auto& m : f.mapping) {
    if (m.index < 0 && m.source.empty()) continue;
    j["mapping"].push_back({{"field", m.field},
                            {"column", m.index >= 0 ? json(m.column) : json(nullptr)},
                            {"index", m.index >= 0 ? json(m.index + 1) : json(nullptr)},
                            {"source", m.source},
                            {"reason", m.reason}});
  }
  j["warnings"] = json::array();
  for (const auto& n : f.csv_notices) j["warnings"].push_back(notice_json(n));
  for (const auto& n : f.warnings) j["warnings"].push_back(notice_json(n));
  // Overlapping exports: what a later export replaced here, and what this one replaced.
  j["orders_replaced"] = {{"count", f.orders_replaced.count}, {"lines", f.orders_replaced.lines}, {"by", f.replaced_by}};
  j["orders_replacing"] = {{"count", f.orders_replacing}, {"files", f.replacing}};
  auto names = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& n : v) s += (s.empty() ? "" : ", ") + n;
    return s;
  };
  if (f.orders_replaced)
    j["warnings"].push_back(notice_json(
        {"orders_updated_by_later_export",
         std::to_string(f.orders_replaced.count) + " order(s) updated by a later export (" + names(f.replaced_by) +
             "): their lines here are skipped (" + describe_lines(f.orders_replaced) + ")",
         f.orders_replaced.count, f.orders_replaced.lines}));
  if (f.orders_replacing)
    j["warnings"].push_back(notice_json({"orders_update_earlier_export",
                                         std::to_string(f.orders_replacing) + " order(s) here update orders loaded from " +
                                             names(f.replacing) + ": the earlier lines of those orders are skipped",
                                         f.orders_replacing,
                                         {}}));
  return j;
}

namespace {

// A table's files and their row sums (data_quality.tables.<table>).
json files_json(const std::vector<FileReport>& files) {
  json out;
  uint64_t read = 0, used = 0, rejected = 0, skipped = 0;
  out["files"] = json::array();
  for (const auto& f : files) {
    out["files"].push_back(file_report_json(f));
    read += f.rows_read, used += f.rows_used, rejected += f.rows_rejected, skipped += f.rows_skipped;
  }
  out["rows_read"] = read;
  out["rows_used"] = used;
  out["rows_rejected"] = rejected;
  out["rows_skipped"] = skipped;
  return out;
}

}  // namespace

namespace {

// report_json() is called once per analyze(), so V8 runs it in its baseline compiler, and its
// loops over periods and cohorts can still use up the budget that sends a function to the
// optimising compiler. Written as one function (with everything inlined), that compile took
// 0.2 s of background time that a short-lived process then waits for at exit. Each part is a
// function of its own instead (CUSTLENS_NOINLINE; Binaryen keeps large single-caller functions
// since CMakeLists.txt sets its one-caller limit), and only the small per-point functions, called
// hundreds of times, are hot enough to be compiled again.

CUSTLENS_NOINLINE json orders_quality_json(const OrdersTable& t, const Analysis& a) {
  json orders = files_json(t.files);
  json statuses = json::array();
  for (const auto& s : a.statuses)
    statuses.push_back({{"status", s.status}, {"orders", s.orders}, {"rows", s.rows}, {"excluded", s.excluded},
                        {"in_status_table", s.known}});
  orders["orders"] = {{"seen", a.orders_total},
                      {"purchases", a.purchases},
                      {"returns", a.returns},
                      {"excluded_by_status", a.excluded_orders},
                      {"guest_purchases", a.guest_purchases},
                      {"guest_returns", a.guest_returns},
                      {"guest_revenue", a.guest_revenue},
                      {"zero_value_purchases", a.zero_value_purchases},
                      {"returns_without_purchase",
                       {{"customer_ids", a.returns_without_purchase_customers},
                        {"revenue", a.returns_without_purchase_revenue}}},
                      {"after_as_of", {{"orders", a.orders_after_as_of}, {"rows", a.rows_after_as_of}}},
                      {"statuses", statuses}};
  orders["warnings"] = json::array();
  for (const auto& n : a.warnings) orders["warnings"].push_back(notice_json(n));
  return orders;
}

CUSTLENS_NOINLINE json period_json(const Analysis& a) {
  json periods = json::array();
  for (const auto& p : a.periods)
    periods.push_back({{"id", p.label}, {"start", format_day(p.start)}, {"end", format_day(p.end)}, {"partial", p.partial}});
  const char* gran = a.options.period == Granularity::month ? "month" : a.options.period == Granularity::quarter ? "quarter" : "year";
  return {{"granularity", gran},
          {"first_date", format_day(a.first_date)},
          {"as_of", format_day(a.as_of)},
          {"as_of_source", a.as_of_source},
          {"lapse_days", a.options.lapse_days},
          {"periods", periods}};
}

CUSTLENS_NOINLINE json metrics_json(const Analysis& a) {
  json metrics = json::object();
  for (const auto& m : a.metrics) metrics[m.id] = metric_json(m);
  return metrics;
}

CUSTLENS_NOINLINE json series_point_json(const Analysis& a, const Series& s, size_t p) {
  json pt = {{"period", a.periods[p].label}, {"value", opt_number(s.values[p])}, {"partial", a.periods[p].partial}};
  if (!s.values[p]) pt["reason"] = s.reasons[p];
  return pt;
}

// A series' points. (Out of line, as flow_points: the per-period loop inside the per-series
// loop made the caller's loop span all of it in wasm, and V8 compiled the once-run caller.)
CUSTLENS_NOINLINE json series_points(const Analysis& a, const Series& s) {
  json pts = json::array();
  for (size_t p = 0; p < s.values.size(); ++p) pts.push_back(series_point_json(a, s, p));
  return pts;
}

CUSTLENS_NOINLINE json series_json(const Analysis& a) {
  json series = json::object();
  for (const auto& s : a.series) {
    json pts = series_points(a, s);
    series[s.id] = {{"unit", s.unit}, {"points", pts}};
    if (!s.formula.empty()) series[s.id]["formula"] = s.formula;
  }
  return series;
}

// The textbook formulas beside ours, so a hand computation reconciles (retention and churn
// points only; out of line, which keeps flow_point_json small).
CUSTLENS_NOINLINE json flow_point_inputs(const FlowCounts& f, bool retention) {
  const double S = double(f.start), E = double(f.end), N = double(f.acquired);
  if (retention)
    return {{"retained", double(f.retained)}, {"customers_start", S}, {"customers_end", E},
            {"new_customers", N}, {"new_in_base", double(f.new_in_base)},
            {"reactivated", double(f.reactivated)},
            {"textbook_retention_rate", S ? json((E - N) / S) : json(nullptr)}};
  return {{"lost", double(f.lost)}, {"customers_start", S}, {"customers_end", E},
          {"textbook_churn_rate", S ? json((S - E) / S) : json(nullptr)}};
}

CUSTLENS_NOINLINE json flow_point_json(const Analysis& a, const Series& s, size_t p) {
  json pt = {{"period", a.periods[p].label},
             {"value", opt_number(s.values[p])},
             {"partial", a.periods[p].partial},
             {"warm_up", bool(a.flow_warm_up[p])}};
  if (!s.values[p]) pt["reason"] = s.reasons[p];
  if (s.id == "retention_rate" || s.id == "churn_rate") pt["inputs"] = flow_point_inputs(a.flow[p], s.id == "retention_rate");
  return pt;
}

CUSTLENS_NOINLINE json flow_points(const Analysis& a, const Series& s) {
  json pts = json::array();
  for (size_t p = 0; p < s.values.size(); ++p) pts.push_back(flow_point_json(a, s, p));
  return pts;
}

CUSTLENS_NOINLINE json flow_json(const Analysis& a) {
  json fs = json::object();
  for (const auto& s : a.flow_series) {
    json pts = flow_points(a, s);
    fs[s.id] = {{"unit", s.unit}, {"formula", s.formula}, {"points", pts}};
  }
  json stages = json::array();
  for (int k = 0; k < 5; ++k) stages.push_back({{"stage", kLifecycleNames[k]}, {"customers", a.lifecycle_counts[k]}});
  const FlowCounts& w = a.flow_range;
  return {
      {"base", a.flow_base},
      {"lapse_days", a.options.lapse_days},
      {"definition", a.flow_base == "transactional"
                         ? "in base(t) iff a purchase on a day d with t − lapse_days < d <= t; for a period [a, b]: "
                           "S = base(a − 1), E = base(b), N = first purchase in [a, b]"
                         : "in base(t) iff signup_date <= t and (no end_date or end_date > t); for a period [a, b]: "
                           "S = base(a − 1), E = base(b), N = signup in [a, b]"},
      {"whole_range",
       {{"start", format_day(a.first_date)}, {"end", format_day(a.as_of)}, {"warm_up", a.flow_range_warm_up},
        {"customers_start", w.start}, {"customers_end", w.end}, {"new_customers", w.acquired},
        {"new_in_base", w.new_in_base}, {"retained", w.retained}, {"reactivated", w.reactivated}, {"lost", w.lost}}},
      {"series", fs},
      {"lifecycle",
       {{"as_of", format_day(a.as_of)},
        {"stages", stages},
        {"rules", "first that applies: lapsed (recency_days >= lapse_days); new (first purchase in the last "
                  "period); reactivated (last purchase in the last period, more than lapse_days after the "
                  "purchase day before it); at_risk (>= 3 purchase days: recency_days > 2 × median gap between "
                  "purchase days; 1-2 purchase days: recency_days > lapse_days / 2); active"},
        {"p_alive", "not used: no repeat-purchase model ran"}}}};
}

// A cohort matrix's cells divided by their cohort's size (shares, revenue per customer).
template <class Cells>
CUSTLENS_NOINLINE json per_size_json(const Cells& cells, const std::vector<uint64_t>& size) {
  json out = json::array();
  for (size_t i = 0; i < cells.size(); ++i) {
    json row = json::array();
    for (const auto& v : cells[i]) row.push_back(size[i] ? json(double(v) / double(size[i])) : json(nullptr));
    out.push_back(row);
  }
  return out;
}

// Cohort matrices grow with the square of the span: a file whose dates run over decades
// would make a report of millions of cells. Only the most recent kMaxCohorts cohorts are
// written (each row holds every period after its acquisition); the others are counted.
constexpr size_t kMaxCohorts = 120;

template <class Active, class Revenue>
CUSTLENS_NOINLINE json cohort_matrix_json(const char* labels_key, const json& labels, const std::vector<uint64_t>& size,
                                          const Active& active, const Revenue& revenue, const char* definition) {
  const size_t from = size.size() > kMaxCohorts ? size.size() - kMaxCohorts : 0;
  std::vector<uint64_t> shown_size(size.begin() + std::ptrdiff_t(from), size.end());
  json shown_labels = json::array();
  for (size_t i = from; i < labels.size(); ++i) shown_labels.push_back(labels[i]);
  Active shown_active(active.begin() + std::ptrdiff_t(from), active.end());
  Revenue shown_revenue(revenue.begin() + std::ptrdiff_t(from), revenue.end());
  json m = {{labels_key, shown_labels},
            {"size", shown_size},
            {"active", shown_active},
            {"revenue", shown_revenue},
            {"share", per_size_json(shown_active, shown_size)},
            {"revenue_per_customer", per_size_json(shown_revenue, shown_size)},
            {"definition", definition}};
  if (from) {
    m["omitted_cohorts"] = from;
    m["note"] = "only the " + std::to_string(kMaxCohorts) + " most recent cohorts are listed; " +
                std::to_string(from) + " earlier ones are left out (their customers still count everywhere else)";
  }
  return m;
}

CUSTLENS_NOINLINE json cohorts_json(const Analysis& a, const json& months) {
  json quarters = json::array();
  for (size_t i = 0; i < a.quarter_cohort_size.size(); ++i) {
    int32_t q = a.quarter0 + int32_t(i);
    quarters.push_back(std::to_string(q / 4) + "-Q" + std::to_string(q % 4 + 1));
  }
  return {{"acquisition",
           cohort_matrix_json("months", months, a.cohort_size, a.cohort_active, a.cohort_revenue,
                              "cohort = month of first purchase; active[i][k] = customers of cohort i with >= 1 "
                              "purchase in month i + k; revenue[i][k] = their net revenue in that month; share = "
                              "active / size; revenue_per_customer = revenue / size")},
          {"acquisition_quarter",
           cohort_matrix_json("quarters", quarters, a.quarter_cohort_size, a.quarter_cohort_active,
                              a.quarter_cohort_revenue,
                              "cohort = quarter of first purchase; active[i][k] = customers of cohort i with >= 1 "
                              "purchase in quarter i + k; revenue[i][k] = their net revenue in that quarter; share = "
                              "active / size; revenue_per_customer = revenue / size")}};
}

CUSTLENS_NOINLINE json segments_json(const Analysis& a) {
  json segs = json::array();
  for (const auto& s : a.segments) segs.push_back({{"segment", s.name}, {"customers", s.customers}, {"revenue", s.revenue}});
  json grid = json::array();
  for (int rr = 5; rr >= 1; --rr) {
    json row = json::array();
    for (int fm = 1; fm <= 5; ++fm) row.push_back(kSegmentNames[kSegmentGrid[rr - 1][fm - 1]]);
    grid.push_back({{"r", rr}, {"fm", row}});
  }
  return {{"rfm",
           {{"segments", segs},
            {"grid", grid},
            {"score_levels", {{"r", a.score_levels[0]}, {"f", a.score_levels[1]}, {"m", a.score_levels[2]}}},
            {"scoring", "score = 1 + floor(5 (w + t/2) / n): w customers strictly worse, t equal (self "
                        "included); FM = floor((F + M) / 2)"}}}};
}

CUSTLENS_NOINLINE json breakdown_json(const std::vector<Analysis::ChannelRow>& rows) {
  json out = json::array();
  for (const auto& c : rows)
    out.push_back({{"value", c.channel.empty() ? json(nullptr) : json(c.channel)},
                   {"orders", c.orders},
                   {"returns", c.returns},
                   {"revenue", c.revenue}});
  return out;
}

}  // namespace

json report_json(const OrdersTable& t, const Analysis& a, const char* engine_version) {
  json r;
  r["schema"] = kReportSchema;
  r["engine"] = {{"name", "custlens"}, {"version", engine_version}};
  // Data quality: per table, the files and their sum.
  r["data_quality"] = {{"tables", {{"orders", orders_quality_json(t, a)}}}};
  if (a.empty) {
    r["period"] = nullptr;
    r["metrics"] = json::object();
    r["series"] = json::object();
    r["segments"] = json::object();
    r["data_quality"]["empty"] = "no usable order rows: nothing to compute";
    return r;
  }
  r["period"] = period_json(a);
  r["metrics"] = metrics_json(a);
  r["series"] = series_json(a);
  if (!a.flow.empty()) r["flow"] = flow_json(a);
  if (a.has_customers) {
    json months = json::array();
    for (size_t i = 0; i < a.monthly_active.size(); ++i) months.push_back(month_label(a.month0 + int32_t(i)));
    r["monthly_active_customers"] = {{"months", months}, {"values", a.monthly_active}};
    r["cohorts"] = cohorts_json(a, months);
    r["segments"] = segments_json(a);
  } else {
    r["segments"] = json::object();
  }
  json breakdowns = json::object();
  if (!a.channels.empty()) breakdowns["channel"] = breakdown_json(a.channels);
  bool any_currency = false;
  for (const auto& c : a.currencies) any_currency |= !c.channel.empty();
  if (any_currency) breakdowns["currency"] = breakdown_json(a.currencies);
  if (!breakdowns.empty()) r["breakdowns"] = breakdowns;
  return r;
}

json customer_columns_json(const OrdersTable& t, const CustomerColumns& c) {
  json ids = json::array(), first = json::array(), last = json::array(), segment = json::array(),
       lifecycle = json::array();
  for (size_t i = 0; i < c.size(); ++i) {
    lifecycle.push_back(i < c.lifecycle.size() ? json(kLifecycleNames[c.lifecycle[i]]) : json(nullptr));
    ids.push_back(std::string(t.customer_name(c.ids[i])));
    first.push_back(format_day(c.first_purchase[i]));
    last.push_back(format_day(c.last_purchase[i]));
    segment.push_back(kSegmentNames[c.segment[i]]);
  }
  json cohort = json::array();
  for (int32_t m : c.cohort) cohort.push_back(month_label(m));
  return {{"count", c.size()},
          {"columns",
           {{"customer_id", ids},
            {"first_purchase", first},
            {"last_purchase", last},
            {"orders", c.orders},
            {"total_spend", c.total_spend},
            {"mean_order_value", c.mean_order_value},
            {"recency_days", c.recency_days},
            {"r_score", c.r_score},
            {"f_score", c.f_score},
            {"m_score", c.m_score},
            {"segment", segment},
            {"btyd_frequency", c.btyd_frequency},
            {"t_x", c.t_x},
            {"T", c.T},
            {"btyd_monetary", c.btyd_monetary},
            {"repeat_spend", c.repeat_spend},
            {"cohort", cohort},
            {"lifecycle", lifecycle}}}};
}

// ---- the customers table (data/customers.h, metrics/subscription.h) -------------------------

void add_customers_report(json& r, const CustomersTable& c, bool orders_loaded) {
  json q = files_json(c.files);
  uint64_t yes = 0, no = 0, signup = 0, end = 0, tenure = 0, monthly = 0, total = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    yes += c.churned[i] == uint8_t(Churned::yes), no += c.churned[i] == uint8_t(Churned::no);
    signup += c.signup_day[i] != kNoDay, end += c.end_day[i] != kNoDay, tenure += c.tenure_months[i] >= 0;
    monthly += c.monthly_charges[i] != kNoValue, total += c.total_charges[i] != kNoValue;
  }
  auto known = [](bool column, uint64_t n) { return column ? json(n) : json(nullptr); };
  q["customers"] = {{"count", c.size()},
                    {"churned", c.any_churned_column ? json{{"yes", yes}, {"no", no}, {"unknown", c.size() - yes - no}}
                                                     : json(nullptr)},
                    {"with_signup_date", known(c.any_signup_column, signup)},
                    {"with_end_date", known(c.any_end_column, end)},
                    {"with_tenure", known(c.any_tenure_column, tenure)},
                    {"with_monthly_charges", known(c.any_monthly_column, monthly)},
                    {"with_total_charges", known(c.any_total_column, total)},
                    {"subscription_dates", c.has_subscription_dates()}};
  r["data_quality"]["tables"]["customers"] = q;
  if (!orders_loaded && r["data_quality"].contains("empty"))
    r["data_quality"]["empty"] = "no orders loaded: only the customers table's metrics are computed";
  if (!r.contains("metrics") || !r["metrics"].is_object()) r["metrics"] = json::object();
  for (const Metric& m : subscription_metrics(c, orders_loaded)) {
    if (r["metrics"].contains(m.id)) continue;  // the flow module's value wins
    r["metrics"][m.id] = metric_json(m);
  }
}

}  // namespace custlens
