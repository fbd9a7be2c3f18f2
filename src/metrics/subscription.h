// Subscription businesses (metrics.md section 3): what the customers table gives on its own.
// The base at the end of day t is {signup_day <= t < end_day}; subscription_spans() hands
// those intervals to the flow machinery (metrics/flow), which computes S, E, N, retained,
// lost per period for orders and subscriptions alike. subscription_metrics() gives the
// snapshot share (churned_share) and, when the table has no dates, says which flow metrics
// cannot be computed and why.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "data/customers.h"
#include "metrics/analysis.h"  // Metric
#include "metrics/flow.h"      // CustomerBase, kOpenEnd

namespace custlens {

/// Each customer's time in the subscription base, as a half-open interval of days:
/// in base(t) exactly when start[i] <= t < end[i]; start[i] is also the acquisition day
/// (the customer is in N of the period containing it). One interval per customer, in
/// customer order. Example: signup 2024-01-10, end 2024-03-01 -> in base at the end of
/// 2024-01-10 … 2024-02-29, lost in March; no end date -> end = kOpenEnd.
struct SubscriptionSpans {
  std::vector<uint32_t> customer;  ///< index in CustomersTable (increasing)
  std::vector<int32_t> start;      ///< signup day
  std::vector<int32_t> end;        ///< end day (first day out of the base), or kOpenEnd
  uint64_t without_signup = 0;     ///< customers left out: no signup date (cannot be placed)
  uint64_t churned_without_end = 0;  ///< left out: marked churned, but no end date says when
  int32_t first_day = kNoDay;      ///< earliest signup or end day (kNoDay when no span)
  int32_t last_day = kNoDay;       ///< latest signup or end day: the default as_of for subscriptions
  size_t size() const { return customer.size(); }
};

/// The intervals of every customer that has a signup date (see SubscriptionSpans for who is
/// left out). Empty unless t.has_subscription_dates().
SubscriptionSpans subscription_spans(const CustomersTable& t);

/// The same intervals as a CustomerBase for customer_flow() / analyze(): customer k of the
/// base is spans.customer[k] of the table (add_subscription(start, end) each, in order).
CustomerBase subscription_base(const SubscriptionSpans& spans);

/// churned_share (value, or null with a reason) and, when the customers table cannot place
/// customers in time (no signup or end dates) and no orders are loaded, the flow metrics
/// (retention_rate, churn_rate, customers_start/end, new_customers, customer_growth_rate,
/// net_customer_additions, annual_churn_rate, avg_customer_lifespan, lapsed_customer_share)
/// as null with the reason. With dates, those are the flow module's.
std::vector<Metric> subscription_metrics(const CustomersTable& t, bool orders_loaded);

}  // namespace custlens
