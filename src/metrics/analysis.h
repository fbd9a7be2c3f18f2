// From the orders table to every order- and customer-level number: orders classified by
// the spec's rule, per-customer aggregates (RFM, BTYD summary), per-period series,
// monthly actives and acquisition cohorts. Plain structs; api/ turns them into JSON.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/orders.h"
#include "io/notices.h"
#include "metrics/flow.h"

namespace custlens {

enum class Granularity : uint8_t { month, quarter, year };

struct AnalyzeOptions {
  Granularity period = Granularity::month;
  std::optional<int32_t> as_of;  ///< day number; default: the last order date
  int32_t lapse_days = 180;
  std::vector<std::string> exclude_statuses;  ///< statuses that never became a sale, added to the table
  std::vector<std::string> include_statuses;  ///< statuses counted as sales although the table excludes them
};

/// One number with everything needed to redo it by hand.
struct Metric {
  std::string id;
  std::optional<double> value;
  std::string unit;     ///< count, currency, ratio, multiple, score, days, hours, years
  std::string formula;  ///< in words
  std::vector<std::pair<std::string, double>> inputs;
  std::string reason;   ///< why value is null
};

struct Period {
  std::string label;  ///< "2011-03", "2011-Q1", "2011"
  int32_t start = 0, end = 0;  ///< days [a, b], clipped to the data and as_of
  bool partial = false;
};

/// A metric per period; nullopt where it cannot be computed (e.g. no orders).
struct Series {
  std::string id;
  std::string unit;
  std::vector<std::optional<double>> values;
  std::vector<std::string> reasons;  ///< per period, "" when the value is there
  std::string formula;               ///< in words; written when not empty (the flow series)
};

/// Lifecycle stages (metrics.md section 3), in the order of their precedence.
enum class Lifecycle : uint8_t { lapsed = 0, new_customer, reactivated, at_risk, active };
extern const char* const kLifecycleNames[5];  ///< "lapsed", "new", "reactivated", "at_risk", "active"

/// Per-customer columns; row i is customer `ids[i]` (an id in OrdersTable::customers).
struct CustomerColumns {
  std::vector<uint32_t> ids;
  std::vector<int32_t> first_purchase, last_purchase;  ///< day numbers
  std::vector<uint32_t> orders;
  std::vector<double> total_spend, mean_order_value, repeat_spend;
  std::vector<int32_t> recency_days;
  std::vector<uint8_t> r_score, f_score, m_score, segment;
  std::vector<uint32_t> btyd_frequency;
  std::vector<int32_t> t_x, T;
  std::vector<double> btyd_monetary;
  std::vector<int32_t> cohort;  ///< month index of the first purchase (year × 12 + month − 1)
  std::vector<uint8_t> lifecycle;  ///< Lifecycle at as_of
  /// Each customer's distinct purchase days, ascending, with the net value of the purchases
  /// made that day (× kAmountScale; returns not counted): row i's are
  /// [day_start[i], day_start[i + 1]). What the models' calibration/holdout split reads.
  std::vector<uint32_t> day_start;
  std::vector<int32_t> purchase_days;
  std::vector<int64_t> purchase_day_units;
  /// Each customer's returns (day, net value ≤ 0, × kAmountScale) in date order: row i's are
  /// [return_start[i], return_start[i + 1]). The spend model nets them out of repeat spend.
  std::vector<uint32_t> return_start;
  std::vector<int32_t> return_days;
  std::vector<int64_t> return_units;
  size_t size() const { return ids.size(); }
};

/// The RFM segment grid of metrics.md section 5: kSegmentGrid[R - 1][FM - 1].
extern const char* const kSegmentNames[11];
extern const uint8_t kSegmentGrid[5][5];

/// Mid-rank quintile score: 1 + floor(5 (w + t/2) / n).
uint8_t rfm_score(uint64_t worse, uint64_t ties, uint64_t n);

struct StatusCount {
  std::string status;
  bool excluded = false;
  bool known = false;
  uint64_t orders = 0;
  uint64_t rows = 0;
};

struct Analysis {
  int32_t first_date = 0, as_of = 0;
  std::string as_of_source;  ///< "data" or "option"
  AnalyzeOptions options;
  bool empty = false;        ///< no used rows at all
  bool has_customers = false;

  std::vector<Metric> metrics;
  std::vector<Period> periods;
  std::vector<Series> series;
  CustomerColumns customers;

  // Order accounting (used rows split further).
  uint64_t orders_total = 0, purchases = 0, returns = 0, excluded_orders = 0;
  uint64_t rows_after_as_of = 0, orders_after_as_of = 0;
  Tally rows_after_as_of_lines;
  uint64_t guest_purchases = 0, guest_returns = 0;
  double guest_revenue = 0;
  uint64_t zero_value_purchases = 0;
  uint64_t returns_without_purchase_customers = 0;  ///< ids with returns but no purchase
  double returns_without_purchase_revenue = 0;
  uint64_t partial_amount_orders = 0;
  std::vector<StatusCount> statuses;

  // Monthly actives and acquisition cohorts, months from month(first_date) to month(as_of).
  int32_t month0 = 0;
  std::vector<uint64_t> monthly_active;
  std::vector<uint64_t> cohort_size;
  std::vector<std::vector<uint64_t>> cohort_active;   ///< [i][k]
  std::vector<std::vector<double>> cohort_revenue;    ///< [i][k] net revenue of cohort i in month i + k
  // The same by quarter: cohort = quarter of the first purchase, cells by quarter i + k.
  int32_t quarter0 = 0;  ///< year × 4 + quarter − 1 of month0
  std::vector<uint64_t> quarter_cohort_size;
  std::vector<std::vector<uint64_t>> quarter_cohort_active;
  std::vector<std::vector<double>> quarter_cohort_revenue;

  // Customer flow (metrics/flow.h), when a customer column was mapped.
  std::string flow_base;                 ///< "transactional" or "subscription"
  std::vector<FlowCounts> flow;          ///< per period
  std::vector<uint8_t> flow_warm_up;     ///< per period: starts within lapse_days of first_date
  FlowCounts flow_range;                 ///< the whole range: S = base(first_date − 1), E = base(as_of)
  bool flow_range_warm_up = false;
  std::vector<Series> flow_series;       ///< customers_start ... net_customer_additions
  uint64_t lifecycle_counts[5] = {0, 0, 0, 0, 0};

  struct SegmentRow {
    std::string name;
    uint64_t customers = 0;
    double revenue = 0;
    int64_t revenue_units = 0;  ///< exact sum behind `revenue`
  };
  std::vector<SegmentRow> segments;
  uint8_t score_levels[3] = {0, 0, 0};  ///< distinct R, F, M scores in use

  struct ChannelRow {
    std::string channel;
    uint64_t orders = 0, returns = 0;
    double revenue = 0;
    int64_t revenue_units = 0;  ///< exact sum behind `revenue` (× kAmountScale)
  };
  std::vector<ChannelRow> channels;

  /// Orders by currency (a currency column, or symbols in the amounts). More than one
  /// stated currency: money is never summed across them (mixed_currencies).
  std::vector<ChannelRow> currencies;
  bool mixed_currencies = false;

  std::vector<Notice> warnings;
};

/// Runs every order and customer metric over the table. `subscription_base`, when given
/// (a customers table with signup and end dates, see CustomerBase::add_subscription), is
/// the customer base of the flow metrics instead of the lapse window over purchases.
Analysis analyze(const OrdersTable& table, const AnalyzeOptions& opt, const CustomerBase* subscription_base = nullptr);

/// Month index (year × 12 + month − 1) of a day number.
int32_t month_index(int32_t day);
/// "YYYY-MM" of a month index.
std::string month_label(int32_t month);

}  // namespace custlens
