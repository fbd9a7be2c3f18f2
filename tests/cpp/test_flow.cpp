// The customer base, retention, churn and lifecycle stages of metrics.md section 3, through
// the Engine facade (JSON in, JSON out), plus the flow module's own interval rules.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "api/engine.h"
#include "io/values.h"
#include "metrics/flow.h"

using nlohmann::json;

namespace {

struct Run {
  custlens::Engine engine;
  json load(const std::string& csv) {
    json r = json::parse(engine.begin_load("orders", "{}"));
    if (!r["ok"]) return r;
    r = json::parse(engine.feed(csv.data(), csv.size()));
    if (!r["ok"]) return r;
    return json::parse(engine.end_load());
  }
  json analyze(const json& options = json::object()) { return json::parse(engine.analyze(options.dump())); }
  json customers() { return json::parse(engine.customers_json()); }
};

int32_t day(int y, int m, int d) { return custlens::days_from_civil(y, m, d); }

// The flow series point of `id` for period `period`.
const json& point(const json& r, const char* id, const std::string& period) {
  for (const json& p : r["flow"]["series"][id]["points"])
    if (p["period"] == period) return p;
  FAIL("no point " << id << " " << period);
  static json none;
  return none;
}
double value(const json& r, const char* id, const std::string& period) {
  return point(r, id, period)["value"].get<double>();
}

// The identity on every period, and S = retained + lost, E = retained + new_in_base + reactivated.
void check_identity(const json& r) {
  const json& s = r["flow"]["series"];
  size_t n = s["customers_start"]["points"].size();
  REQUIRE(n == r["period"]["periods"].size());
  for (size_t p = 0; p < n; ++p) {
    auto v = [&](const char* id) { return s[id]["points"][p]["value"].get<double>(); };
    INFO("period " << s["customers_start"]["points"][p]["period"]);
    CHECK(v("customers_end") - v("customers_start") == v("new_in_base") + v("reactivated") - v("lost"));
    CHECK(v("customers_start") == v("retained") + v("lost"));
    CHECK(v("net_customer_additions") == v("customers_end") - v("customers_start"));
  }
}

std::string stage_of(const json& cols, const std::string& id) {
  const json& c = cols["columns"];
  for (size_t i = 0; i < c["customer_id"].size(); ++i)
    if (c["customer_id"][i] == id) return c["lifecycle"][i];
  return "";
}

}  // namespace

TEST_CASE("seed example: 1000 at start, 900 at end, 200 new, no reactivations -> retention 70%", "[flow]") {
  // June 2024 with the default lapse window (180 days): 300 customers bought on 2023-12-20
  // (in the base at the end of May 31, out of it by June 30), 700 on 2024-05-15 (in
  // throughout), 200 new ones in June.
  std::string csv = "customer_id,order_date,amount\n";
  for (int i = 0; i < 300; ++i) csv += "lost" + std::to_string(i) + ",2023-12-20,10\n";
  for (int i = 0; i < 700; ++i) csv += "kept" + std::to_string(i) + ",2024-05-15,10\n";
  for (int i = 0; i < 200; ++i) csv += "new" + std::to_string(i) + ",2024-06-10,10\n";
  Run run;
  REQUIRE(run.load(csv)["ok"]);
  json r = run.analyze({{"asOf", "2024-06-30"}});
  REQUIRE(r["ok"]);
  CHECK(value(r, "customers_start", "2024-06") == 1000);
  CHECK(value(r, "customers_end", "2024-06") == 900);
  CHECK(value(r, "new_customers", "2024-06") == 200);
  CHECK(value(r, "reactivated", "2024-06") == 0);
  CHECK(value(r, "retained", "2024-06") == 700);
  CHECK(value(r, "lost", "2024-06") == 300);
  CHECK(value(r, "retention_rate", "2024-06") == Approx(0.70));
  CHECK(value(r, "churn_rate", "2024-06") == Approx(0.30));
  CHECK(value(r, "customer_growth_rate", "2024-06") == Approx(-0.10));
  CHECK(value(r, "net_customer_additions", "2024-06") == -100);
  const json& in = point(r, "retention_rate", "2024-06")["inputs"];
  CHECK(in["textbook_retention_rate"].get<double>() == Approx(0.70));  // (E − N) / S = (900 − 200) / 1000
  CHECK(point(r, "churn_rate", "2024-06")["inputs"]["textbook_churn_rate"].get<double>() == Approx(0.10));
  // June starts 163 days after the first date (2023-12-20), within the lapse window: warm-up.
  CHECK(point(r, "retention_rate", "2024-06")["warm_up"] == true);
  check_identity(r);
}

TEST_CASE("reactivation: retention differs from the textbook (E - N) / S", "[flow]") {
  // lapse 30: a lapses in February and is back in March; b is lost in March; c is new.
  Run run;
  REQUIRE(run.load("customer_id,order_date,amount\n"
                   "a,2024-01-05,10\nb,2024-01-10,10\nb,2024-02-05,10\na,2024-03-20,10\nc,2024-03-02,10\n")["ok"]);
  json r = run.analyze({{"lapseDays", 30}, {"asOf", "2024-03-31"}});
  REQUIRE(r["ok"]);
  // January: partial (starts at the first date), no one at its start.
  const json& jan = point(r, "retention_rate", "2024-01");
  CHECK(jan["value"].is_null());
  CHECK(jan["reason"] == "no customers at period start");
  CHECK(jan["partial"] == true);
  CHECK(jan["warm_up"] == true);
  CHECK(value(r, "customers_end", "2024-01") == 2);
  CHECK(value(r, "new_in_base", "2024-01") == 2);
  // February: a lapses (last purchase Jan 5, out from Feb 4), b stays (Feb 5).
  CHECK(value(r, "customers_start", "2024-02") == 2);
  CHECK(value(r, "customers_end", "2024-02") == 1);
  CHECK(value(r, "retained", "2024-02") == 1);
  CHECK(value(r, "lost", "2024-02") == 1);
  CHECK(point(r, "lost", "2024-02")["warm_up"] == true);  // Feb 1 is 27 days after Jan 5
  // March: S = {b}, E = {a, c}, N = {c}: a is reactivated, b lost.
  CHECK(value(r, "customers_start", "2024-03") == 1);
  CHECK(value(r, "customers_end", "2024-03") == 2);
  CHECK(value(r, "new_customers", "2024-03") == 1);
  CHECK(value(r, "reactivated", "2024-03") == 1);
  CHECK(value(r, "lost", "2024-03") == 1);
  CHECK(value(r, "retention_rate", "2024-03") == 0);
  CHECK(value(r, "churn_rate", "2024-03") == 1);
  CHECK(point(r, "retention_rate", "2024-03")["inputs"]["textbook_retention_rate"] == 1.0);  // (2 − 1) / 1
  CHECK(point(r, "retention_rate", "2024-03")["warm_up"] == false);
  check_identity(r);
  // Whole range: S = base(first date − 1) is empty.
  CHECK(r["metrics"]["customers_start"]["value"] == 0.0);
  CHECK(r["metrics"]["customers_end"]["value"] == 2.0);
  CHECK(r["metrics"]["new_customers"]["value"] == 3.0);
  CHECK(r["metrics"]["retention_rate"]["value"].is_null());
  CHECK(r["metrics"]["retention_rate"]["reason"] == "no customers at period start");
  CHECK(r["metrics"]["lapsed_customer_share"]["value"].get<double>() == Approx(1.0 / 3));
  // Lifecycle at 2024-03-31: a reactivated (75 days after Jan 5), b lapsed, c new.
  json c = run.customers();
  CHECK(stage_of(c, "a") == "reactivated");
  CHECK(stage_of(c, "b") == "lapsed");
  CHECK(stage_of(c, "c") == "new");
  // Quarter cohorts: all three start in 2024-Q1.
  const json& q = r["cohorts"]["acquisition_quarter"];
  CHECK(q["quarters"] == json::array({"2024-Q1"}));
  CHECK(q["size"] == json::array({3}));
  CHECK(q["share"][0][0] == 1.0);
  CHECK(q["revenue_per_customer"][0][0] == 50.0 / 3);
  CHECK(r["cohorts"]["acquisition"]["share"][0] == json::array({1.0, 0.5, 0.5}));
}

TEST_CASE("lapse window boundary: recency_days == lapse_days is lapsed", "[flow]") {
  Run run;
  REQUIRE(run.load("customer_id,order_date,amount\nx,2024-01-01,10\ny,2024-01-02,10\n")["ok"]);
  json r = run.analyze({{"asOf", "2024-06-29"}});  // 180 days after 2024-01-01
  REQUIRE(r["ok"]);
  CHECK(r["metrics"]["customers_end"]["value"] == 1.0);
  CHECK(r["metrics"]["lapsed_customer_share"]["value"] == 0.5);
  json c = run.customers();
  CHECK(stage_of(c, "x") == "lapsed");
  CHECK(stage_of(c, "y") == "at_risk");  // recency 179 > 90
  CHECK(value(r, "lost", "2024-06") == 1);
  // A purchase on the day the window would close keeps the customer in the base.
  custlens::CustomerBase base;
  int32_t days[] = {day(2024, 1, 1), day(2024, 1, 31)};
  base.add_purchase_days(days, 2, 30);
  REQUIRE(base.end(0) - base.begin(0) == 1);
  CHECK(base.in_base(0, day(2024, 2, 29)));  // recency 29 from Jan 31
  CHECK_FALSE(base.in_base(0, day(2024, 3, 1)));  // recency 30 == lapse_days
}

TEST_CASE("lifecycle precedence: lapsed, new, reactivated, at_risk, active", "[flow][lifecycle]") {
  Run run;
  REQUIRE(run.load("customer_id,order_date,amount\n"
                   // >= 3 purchase days, median gap 10, recency 71 > 20: at_risk
                   "risk3,2024-10-01,1\nrisk3,2024-10-11,1\nrisk3,2024-10-21,1\n"
                   // new wins over at_risk (median gap 1, recency 28)
                   "new3,2024-12-01,1\nnew3,2024-12-02,1\nnew3,2024-12-03,1\n"
                   // reactivated wins over at_risk (gaps 1, 1, 333: median 1, recency 29)
                   "react,2024-01-01,1\nreact,2024-01-02,1\nreact,2024-01-03,1\nreact,2024-12-02,1\n"
                   // 1 purchase day: recency 91 > 90 at_risk; 90 is not
                   "one91,2024-10-01,1\none90,2024-10-02,1\n"
                   // even number of gaps (10, 30): 2 × median = 40; recency 30 active, 51 at_risk
                   "even30,2024-10-22,1\neven30,2024-11-01,1\neven30,2024-12-01,1\n"
                   "even51,2024-10-01,1\neven51,2024-10-11,1\neven51,2024-11-10,1\n"
                   // lapsed wins over everything: 3 days, recency 193
                   "gone,2024-06-01,1\ngone,2024-06-11,1\ngone,2024-06-21,1\n"
                   // a second purchase 180 days later is not "more than lapse_days": not reactivated
                   "back180,2024-06-05,1\nback180,2024-12-02,1\n")["ok"]);
  json r = run.analyze({{"asOf", "2024-12-31"}});
  REQUIRE(r["ok"]);
  json c = run.customers();
  CHECK(stage_of(c, "risk3") == "at_risk");
  CHECK(stage_of(c, "new3") == "new");
  CHECK(stage_of(c, "react") == "reactivated");
  CHECK(stage_of(c, "one91") == "at_risk");
  CHECK(stage_of(c, "one90") == "active");
  CHECK(stage_of(c, "even30") == "active");
  CHECK(stage_of(c, "even51") == "at_risk");
  CHECK(stage_of(c, "gone") == "lapsed");
  CHECK(stage_of(c, "back180") == "active");
  json stages = r["flow"]["lifecycle"]["stages"];
  CHECK(stages == json::parse(R"([{"stage":"lapsed","customers":1},{"stage":"new","customers":1},
    {"stage":"reactivated","customers":1},{"stage":"at_risk","customers":3},{"stage":"active","customers":3}])"));
  check_identity(r);
}

TEST_CASE("annual churn and lifespan need a year plus a lapse window of history", "[flow]") {
  // lapse 30; history from 2023-01-01; as_of 2024-03-31, so as_of − 365 = 2023-04-01 (2024 is a
  // leap year), 90 days after the first date (>= 30). p and q bought in March 2023; p buys
  // again in March 2024, q does not.
  Run run;
  REQUIRE(run.load("customer_id,order_date,amount\n"
                   "p,2023-01-01,1\np,2023-03-20,1\nq,2023-03-25,1\np,2024-03-20,1\nr,2024-03-01,1\n")["ok"]);
  json r = run.analyze({{"asOf", "2024-03-31"}, {"lapseDays", 30}});
  REQUIRE(r["ok"]);
  const json& m = r["metrics"]["annual_churn_rate"];
  REQUIRE(m["value"].is_number());
  // base(2023-04-01) = {p, q}; base(2024-03-31) = {p, r}: p is in both (not lost), q lost.
  CHECK(m["inputs"]["customers_start"] == 2.0);
  CHECK(m["inputs"]["lost"] == 1.0);
  CHECK(m["value"] == 0.5);
  CHECK(r["metrics"]["avg_customer_lifespan"]["value"] == 2.0);
  CHECK(r["metrics"]["avg_customer_lifespan"]["unit"] == "years");
  // Too little history for the default window: null with the reason.
  json r2 = run.analyze({{"asOf", "2024-03-31"}});
  CHECK(r2["metrics"]["annual_churn_rate"]["value"].is_null());
  CHECK(r2["metrics"]["annual_churn_rate"]["reason"].get<std::string>().find("lapse_days") != std::string::npos);
  CHECK(r2["metrics"]["avg_customer_lifespan"]["value"].is_null());
}

TEST_CASE("no customer column: the flow metrics are null with the reason", "[flow]") {
  Run run;
  REQUIRE(run.load("order_date,amount\n2024-01-01,10\n2024-02-01,5\n")["ok"]);
  json r = run.analyze();
  REQUIRE(r["ok"]);
  CHECK_FALSE(r.contains("flow"));
  CHECK(r["metrics"]["retention_rate"]["value"].is_null());
  CHECK(r["metrics"]["retention_rate"]["reason"] == "needs a customer column (customer_id)");
  CHECK(r["metrics"]["lapsed_customer_share"]["reason"] == "needs a customer column (customer_id)");
}

TEST_CASE("flow module: subscription intervals, touching stays, the identity", "[flow]") {
  using custlens::BaseInterval;
  custlens::CustomerBase base;
  base.add_subscription(day(2024, 1, 10), day(2024, 3, 1));  // in base up to Feb 29: lost in March
  base.add_subscription(day(2024, 2, 1));                    // open
  BaseInterval two[] = {{day(2024, 1, 5), day(2024, 1, 20)}, {day(2024, 2, 10), day(2024, 4, 1)}};
  base.add(day(2024, 1, 5), two, 2);  // out at the end of January, back in February
  BaseInterval touching[] = {{day(2024, 1, 1), day(2024, 2, 1)}, {day(2024, 2, 1), day(2024, 5, 1)}};
  base.add(day(2024, 1, 1), touching, 2);
  CHECK(base.end(3) - base.begin(3) == 1);  // merged
  BaseInterval bad[] = {{day(2024, 1, 1), day(2024, 2, 1)}};
  CHECK_THROWS(base.add(day(2024, 1, 2), bad, 1));  // starts before the acquisition day
  // Periods: January, February, March 2024.
  std::vector<int32_t> b{day(2023, 12, 31), day(2024, 1, 31), day(2024, 2, 29), day(2024, 3, 31)};
  auto f = custlens::customer_flow(base, b);
  REQUIRE(f.size() == 3);
  // January: N = {0, 2, 3}; E = {0, 3} (2 out since Jan 20).
  CHECK(f[0].acquired == 3);
  CHECK(f[0].end == 2);
  CHECK(f[0].new_in_base == 2);
  // February: S = {0, 3}, E = {0, 1, 2, 3}: 1 new, 2 reactivated.
  CHECK(f[1].start == 2);
  CHECK(f[1].end == 4);
  CHECK(f[1].retained == 2);
  CHECK(f[1].new_in_base == 1);
  CHECK(f[1].reactivated == 1);
  // March: customer 0 ended on Mar 1: lost; 1, 2, 3 stay.
  CHECK(f[2].start == 4);
  CHECK(f[2].lost == 1);
  CHECK(f[2].end == 3);
  // A last boundary ~3,000 years on: boundaries spanning over 2^20 days are found by binary
  // search instead of a table of days; the first three periods count the same.
  std::vector<int32_t> far = b;
  far.push_back(day(5000, 1, 1));
  REQUIRE(far.back() - far.front() > (1 << 20));
  auto g = custlens::customer_flow(base, far);
  REQUIRE(g.size() == 4);
  for (size_t p = 0; p < 3; ++p) {
    INFO("period " << p);
    CHECK(g[p].start == f[p].start);
    CHECK(g[p].end == f[p].end);
    CHECK(g[p].acquired == f[p].acquired);
    CHECK(g[p].new_in_base == f[p].new_in_base);
    CHECK(g[p].reactivated == f[p].reactivated);
    CHECK(g[p].lost == f[p].lost);
    CHECK(g[p].retained == f[p].retained);
  }
  CHECK(g[3].start == 3);
  CHECK(g[3].end == 1);  // only customer 1's subscription is open
  CHECK(g[3].lost == 2);
  auto snap = custlens::base_snapshot(base, day(2024, 4, 15));
  CHECK(snap.seen == 4);
  CHECK(snap.out_of_base == 2);  // 0 ended, 2 ended Apr 1
}
