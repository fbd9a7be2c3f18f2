#include "metrics/subscription.h"

#include <algorithm>

namespace custlens {

SubscriptionSpans subscription_spans(const CustomersTable& t) {
  SubscriptionSpans s;
  if (!t.has_subscription_dates()) return s;
  for (uint32_t c = 0; c < t.size(); ++c) {
    if (t.signup_day[c] == kNoDay) {
      ++s.without_signup;
      continue;
    }
    if (t.end_day[c] == kNoDay && t.churned[c] == uint8_t(Churned::yes)) {
      ++s.churned_without_end;
      continue;
    }
    int32_t end = t.end_day[c] == kNoDay ? kOpenEnd : t.end_day[c];
    s.customer.push_back(c);
    s.start.push_back(t.signup_day[c]);
    s.end.push_back(end);
    int32_t hi = end == kOpenEnd ? t.signup_day[c] : end;
    s.first_day = s.first_day == kNoDay ? t.signup_day[c] : std::min(s.first_day, t.signup_day[c]);
    s.last_day = s.last_day == kNoDay ? hi : std::max(s.last_day, hi);
  }
  return s;
}

CustomerBase subscription_base(const SubscriptionSpans& spans) {
  CustomerBase base;
  base.reserve(spans.size(), spans.size());
  for (size_t k = 0; k < spans.size(); ++k) base.add_subscription(spans.start[k], spans.end[k]);
  return base;
}

std::vector<Metric> subscription_metrics(const CustomersTable& t, bool orders_loaded) {
  std::vector<Metric> out;
  uint64_t yes = 0, no = 0;
  for (uint8_t f : t.churned) yes += f == uint8_t(Churned::yes), no += f == uint8_t(Churned::no);
  Metric share{"churned_share", std::nullopt, "ratio",
               "customers marked churned / customers with a churned flag (yes or no)", {}, ""};
  share.inputs = {{"churned_customers", double(yes)},
                  {"customers", double(yes + no)},
                  {"customers_flag_unknown", double(t.size() - yes - no)}};
  if (!t.any_churned_column) {
    share.reason = "needs a churned column in the customers table (e.g. Churn: Yes/No)";
  } else if (yes + no == 0) {
    share.reason = "no customer has a churned flag (yes or no)";
  } else {
    share.value = double(yes) / double(yes + no);
  }
  out.push_back(share);

  if (t.has_subscription_dates() || orders_loaded) return out;
  std::string missing = !t.any_signup_column && !t.any_end_column ? "it has neither"
                        : !t.any_signup_column                    ? "it has no signup date column"
                                                                  : "it has no end date column";
  std::string reason = "needs signup and end dates in the customers table (" + missing + ")" +
                       (t.any_churned_column ? "; a churned flag tells who left, not when: see churned_share" : "");
  const std::pair<const char*, const char*> kFlow[] = {
      {"customers_start", "count"},      {"customers_end", "count"},
      {"new_customers", "count"},        {"retention_rate", "ratio"},
      {"churn_rate", "ratio"},           {"customer_growth_rate", "ratio"},
      {"net_customer_additions", "count"}, {"annual_churn_rate", "ratio"},
      {"avg_customer_lifespan", "years"}, {"lapsed_customer_share", "ratio"},
  };
  for (const auto& [id, unit] : kFlow) out.push_back({id, std::nullopt, unit, "customer flow per period (metrics.md section 3)", {}, reason});
  return out;
}

}  // namespace custlens
