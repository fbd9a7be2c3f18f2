// The order rules of metrics.md section 1 and the value metrics of section 2, through the
// Engine facade exactly as the boundary uses it (JSON in, JSON out).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>
#include <string>

#include "api/engine.h"
#include "support.h"
#include "data/interner.h"
#include "metrics/analysis.h"

using nlohmann::json;

namespace {

using Run = custlens::test::EngineRun;

double metric(const json& report, const char* id) { return report["metrics"][id]["value"].get<double>(); }

const json& orders_dq(const json& report) { return report["data_quality"]["tables"]["orders"]; }

// Finds a customer's row in the customers() columns.
json customer_row(const json& cols, const std::string& id) {
  const json& c = cols["columns"];
  for (size_t i = 0; i < c["customer_id"].size(); ++i)
    if (c["customer_id"][i] == id) {
      json row;
      for (auto& [k, v] : c.items()) row[k] = v[i];
      return row;
    }
  return nullptr;
}

}  // namespace

TEST_CASE("an order of +10 and -10 is a return, not a purchase", "[orders]") {
  Run run;
  REQUIRE(run.load("order_id,customer_id,order_date,amount\n"
                   "A1,c1,2024-01-05,10.00\n"
                   "A1,c1,2024-01-06,-10.00\n"
                   "A2,c1,2024-01-07,25.00\n")["ok"]);
  json r = run.analyze();
  CHECK(metric(r, "orders") == 1);
  CHECK(metric(r, "revenue") == Approx(25.0));
  CHECK(orders_dq(r)["orders"]["returns"] == 1);
  CHECK(orders_dq(r)["orders"]["purchases"] == 1);
}

TEST_CASE("a zero-value order without negative lines is a purchase (free item)", "[orders]") {
  Run run;
  REQUIRE(run.load("customer_id,order_date,amount\nc1,2024-01-05,0.00\nc1,2024-02-05,12.50\n")["ok"]);
  json r = run.analyze();
  CHECK(metric(r, "orders") == 2);
  CHECK(metric(r, "customers") == 1);
  CHECK(metric(r, "repeat_purchase_rate") == Approx(1.0));
  CHECK(orders_dq(r)["orders"]["zero_value_purchases"] == 1);
}

TEST_CASE("a zero net with a negative quantity is a return (stock adjustment)", "[orders]") {
  Run run;
  REQUIRE(run.load("InvoiceNo,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
                   "536414,-56,12/1/2010 11:52,0,\n"
                   "536415,2,12/1/2010 11:57,1.25,17850\n"
                   "C536416,-1,12/13/2010 12:00,1.25,17850\n")["ok"]);
  json r = run.analyze();
  CHECK(metric(r, "orders") == 1);
  CHECK(orders_dq(r)["orders"]["returns"] == 2);
  CHECK(metric(r, "revenue") == Approx(2.5 - 1.25));
  CHECK(r["data_quality"]["tables"]["orders"]["files"][0]["format"]["date_order"] == "mdy");
}

TEST_CASE("quantity x unit price is exact for 3-decimal prices", "[orders]") {
  Run run;
  REQUIRE(run.load("order_id,customer_id,order_date,quantity,unit_price\n"
                   "1,a,2024-03-01,3,0.001\n1,a,2024-03-01,7,1.005\n2,b,2024-03-02,1000000,0.123\n")["ok"]);
  json r = run.analyze();
  CHECK(r["metrics"]["revenue"]["value"].get<double>() == Approx(0.003 + 7.035 + 123000.0).epsilon(1e-12));
  CHECK(metric(r, "orders") == 2);
}

TEST_CASE("lines group by order_id; order-level fields come from the first line", "[orders]") {
  // Shopify-style: Total and Financial Status only on the first line of the order.
  Run run;
  REQUIRE(run.load("Name,Email,Financial Status,Total,Refunded Amount,Created at,Lineitem quantity,Lineitem price\n"
                   "#1001,ann@x.com,paid,30.00,,2024-04-01 10:00:00 +0100,1,10.00\n"
                   "#1001,,,,,2024-04-01 10:00:00 +0100,2,10.00\n"
                   "#1002,bob@x.com,partially_refunded,50.00,20.00,2024-04-02 11:00:00 +0100,1,50.00\n"
                   "#1003,ann@x.com,voided,15.00,,2024-04-03 12:00:00 +0100,1,15.00\n"
                   "#1004,bob@x.com,refunded,40.00,40.00,2024-04-04 09:00:00 +0100,1,40.00\n")["ok"]);
  json r = run.analyze();
  // #1001 = 30 (from the first line only), #1002 = 50 - 20; #1003 and #1004 excluded by status.
  CHECK(metric(r, "revenue") == Approx(60.0));
  CHECK(metric(r, "orders") == 2);
  CHECK(orders_dq(r)["orders"]["excluded_by_status"] == 2);
  CHECK(metric(r, "customers") == 2);
  json mapping = run.files[0]["mapping"];
  auto field_column = [&](const char* field) {
    for (auto& m : mapping)
      if (m["field"] == field) return m["column"].get<std::string>();
    return std::string();
  };
  CHECK(field_column("order_id") == "Name");  // the Shopify profile: its order id is "Name"
  CHECK(run.files[0]["rows_rejected"] == 0);      // the second line of #1001 has no Total: not rejected
  CHECK(field_column("customer_id") == "Email");
  CHECK(field_column("amount") == "Total");
  CHECK(field_column("refunded_amount") == "Refunded Amount");
  CHECK(field_column("status") == "Financial Status");
}

TEST_CASE("a refund is never subtracted twice when the amount is already net", "[orders]") {
  Run run;
  REQUIRE(run.load("order_id,customer_id,order_date,amount,refunded_amount\n1,a,2024-01-01,80.00,20.00\n",
                   {{"amountIsNet", true}})["ok"]);
  CHECK(metric(run.analyze(), "revenue") == Approx(80.0));
  Run gross;
  REQUIRE(gross.load("order_id,customer_id,order_date,amount,refunded_amount\n1,a,2024-01-01,80.00,20.00\n")["ok"]);
  CHECK(metric(gross.analyze(), "revenue") == Approx(60.0));
}

TEST_CASE("guest orders count in order metrics, not in customer metrics", "[orders]") {
  Run run;
  REQUIRE(run.load("order_id,customer_id,order_date,amount\n1,a,2024-01-01,10\n2,,2024-01-02,30\n3,a,2024-01-03,20\n")["ok"]);
  json r = run.analyze();
  CHECK(metric(r, "orders") == 3);
  CHECK(metric(r, "revenue") == Approx(60.0));
  CHECK(metric(r, "aov") == Approx(20.0));
  CHECK(metric(r, "customers") == 1);
  CHECK(metric(r, "customer_aov") == Approx(15.0));
  CHECK(orders_dq(r)["orders"]["guest_purchases"] == 1);
  CHECK(orders_dq(r)["orders"]["guest_revenue"].get<double>() == Approx(30.0));
}

TEST_CASE("a file without a customer column gives order metrics and null customer metrics", "[orders]") {
  Run run;
  REQUIRE(run.load("order_date,amount\n2024-01-01,10\n2024-01-02,30\n")["ok"]);
  json r = run.analyze();
  CHECK(metric(r, "orders") == 2);
  CHECK(r["metrics"]["customers"]["value"].is_null());
  CHECK(r["metrics"]["customers"]["reason"].get<std::string>().find("customer column") != std::string::npos);
  CHECK(r["metrics"]["repeat_purchase_rate"]["value"].is_null());
}

TEST_CASE("repeat purchase rate: 300 of 1000 customers bought again = 30%", "[orders][spec]") {
  std::string csv = "customer_id,order_date,amount\n";
  for (int c = 0; c < 1000; ++c) {
    csv += "c" + std::to_string(c) + ",2024-01-10,20\n";
    if (c < 300) csv += "c" + std::to_string(c) + ",2024-03-10,20\n";
  }
  Run run;
  REQUIRE(run.load(csv)["ok"]);
  json r = run.analyze();
  CHECK(metric(r, "repeat_purchase_rate") == Approx(0.30));
  CHECK(r["metrics"]["repeat_purchase_rate"]["inputs"]["repeat_customers"] == 300);
  CHECK(r["metrics"]["repeat_purchase_rate"]["inputs"]["customers"] == 1000);
}

TEST_CASE("BTYD summary: the spec's three customers", "[orders][spec]") {
  Run run;
  REQUIRE(run.load("customer_id,order_date,amount\n1,2015-02-01,10\n1,2015-02-06,20\n2,2015-01-01,5\n"
                   "3,2015-01-01,10\n3,2015-01-02,30\n3,2015-01-05,50\n")["ok"]);
  json r = run.analyze({{"asOf", "2015-02-07"}});
  json cols = run.customers();
  auto check = [&](const char* id, int f, int tx, int T, double monetary) {
    json row = customer_row(cols, id);
    REQUIRE(!row.is_null());
    CHECK(row["btyd_frequency"] == f);
    CHECK(row["t_x"] == tx);
    CHECK(row["T"] == T);
    CHECK(row["btyd_monetary"].get<double>() == Approx(monetary));
  };
  check("1", 1, 5, 6, 20.0);
  check("2", 0, 0, 37, 0.0);
  check("3", 2, 4, 37, 40.0);
}

TEST_CASE("same-day orders are one BTYD transaction but two orders", "[orders]") {
  Run run;
  REQUIRE(run.load("order_id,customer_id,order_date,amount\n1,a,2024-01-01,10\n2,a,2024-01-01,15\n3,a,2024-01-04,7\n")["ok"]);
  run.analyze();
  json row = customer_row(run.customers(), "a");
  CHECK(row["orders"] == 3);
  CHECK(row["btyd_frequency"] == 1);
  CHECK(row["btyd_monetary"].get<double>() == Approx(7.0));
  CHECK(row["total_spend"].get<double>() == Approx(32.0));
  CHECK(row["mean_order_value"].get<double>() == Approx(32.0 / 3));
}

TEST_CASE("RFM mid-rank scores: the spec's worked examples", "[rfm][spec]") {
  using custlens::rfm_score;
  // Three distinct values -> 1, 3, 5.
  CHECK(rfm_score(0, 1, 3) == 1);
  CHECK(rfm_score(1, 1, 3) == 3);
  CHECK(rfm_score(2, 1, 3) == 5);
  // All equal -> 3.
  CHECK(rfm_score(0, 7, 7) == 3);
  // M = 50, 50, 80, 80, 80 -> 2, 2, 4, 4, 4.
  CHECK(rfm_score(0, 2, 5) == 2);
  CHECK(rfm_score(2, 3, 5) == 4);
}

TEST_CASE("RFM scores through the engine: M = 50, 50, 80, 80, 80", "[rfm][spec]") {
  Run run;
  REQUIRE(run.load("customer_id,order_date,amount\na,2024-01-01,50\nb,2024-01-01,50\nc,2024-01-01,80\n"
                   "d,2024-01-01,80\ne,2024-01-01,80\n")["ok"]);
  json r = run.analyze();
  json cols = run.customers();
  CHECK(customer_row(cols, "a")["m_score"] == 2);
  CHECK(customer_row(cols, "b")["m_score"] == 2);
  CHECK(customer_row(cols, "e")["m_score"] == 4);
  // Everyone bought once on the same day: R and F all equal -> 3.
  CHECK(customer_row(cols, "a")["r_score"] == 3);
  CHECK(customer_row(cols, "a")["f_score"] == 3);
  // R = 3, FM = floor((3 + 2) / 2) = 2 -> Need Attention; FM = floor((3 + 4) / 2) = 3 -> Loyal Customers.
  CHECK(customer_row(cols, "a")["segment"] == "Need Attention");
  CHECK(customer_row(cols, "e")["segment"] == "Loyal Customers");
  CHECK(r["segments"]["rfm"]["score_levels"]["f"] == 1);
}

TEST_CASE("RFM segment grid follows the spec's table", "[rfm][spec]") {
  using custlens::kSegmentGrid;
  using custlens::kSegmentNames;
  auto seg = [](int r, int fm) { return std::string(kSegmentNames[kSegmentGrid[r - 1][fm - 1]]); };
  CHECK(seg(5, 1) == "New Customers");
  CHECK(seg(5, 4) == "Champions");
  CHECK(seg(4, 1) == "Promising");
  CHECK(seg(3, 1) == "About to Sleep");
  CHECK(seg(3, 2) == "Need Attention");
  CHECK(seg(2, 5) == "Can't Lose Them");
  CHECK(seg(2, 2) == "At Risk");
  CHECK(seg(1, 1) == "Lost");
  CHECK(seg(1, 2) == "Hibernating");
  CHECK(seg(1, 4) == "Can't Lose Them");
}

TEST_CASE("row accounting: read = used + rejected + skipped, with reasons and lines", "[orders][accounting]") {
  Run run;
  json f = run.load("order_id,customer_id,order_date,amount\n"
                    "1,a,2024-01-01,10\n"     // line 2: used
                    "2,b,not a date,10\n"     // line 3: rejected (date unreadable)
                    "\n"                      // line 4: skipped (blank)
                    "3,c,2024-01-02,\n"       // line 5: rejected (amount missing)
                    "4,d,2024-02-30,5\n"      // line 6: rejected (not a calendar date)
                    "5,e,2024-01-03,abc\n"    // line 7: rejected (amount unreadable)
                    "6,f,2024-01-04,7\n"      // line 8: used
                    "6,f,2024-01-04,7\n");    // line 9: used (exact duplicate, kept and counted)
  REQUIRE(f["ok"]);
  json file = f["file"];
  CHECK(file["rows_read"] == 8);
  CHECK(file["rows_used"] == 3);
  CHECK(file["rows_rejected"] == 4);
  CHECK(file["rows_skipped"] == 1);
  CHECK(file["duplicate_lines"]["count"] == 1);
  CHECK(file["duplicate_lines"]["lines"] == json::array({9}));
  std::map<std::string, json> rejected;
  for (auto& t : file["rejected"]) rejected[t["reason"]] = t["lines"];
  CHECK(rejected.size() == 4);
  bool found_date = false;
  for (auto& [reason, lines] : rejected)
    if (reason.rfind("order date unreadable", 0) == 0) {
      found_date = true;
      CHECK(lines == json::array({3}));
    }
  CHECK(found_date);
  json r = run.analyze();
  CHECK(metric(r, "orders") == 2);  // order 6 has two identical lines: one order of 14
  CHECK(metric(r, "revenue") == Approx(24.0));
}

TEST_CASE("overlapping exports: a line already loaded from an earlier file is skipped", "[orders][accounting]") {
  Run run;
  REQUIRE(run.load("order_id,customer_id,order_date,amount\n1,a,2024-01-01,10\n2,b,2024-01-02,20\n",
                   {{"name", "jan.csv"}})["ok"]);
  json f = run.load("order_id,customer_id,order_date,amount\n2,b,2024-01-02,20\n3,c,2024-02-01,30\n2,b,2024-02-03,-5\n",
                    {{"name", "feb.csv"}});
  REQUIRE(f["ok"]);
  CHECK(f["file"]["rows_read"] == 3);
  CHECK(f["file"]["rows_skipped"] == 1);
  CHECK(f["file"]["rows_used"] == 2);
  json r = run.analyze();
  // Order 2's later refund line joins it: 20 - 5 = 15.
  CHECK(metric(r, "revenue") == Approx(10 + 15 + 30));
  CHECK(metric(r, "orders") == 3);
  CHECK(orders_dq(r)["rows_read"] == 5);
  CHECK(orders_dq(r)["files"].size() == 2);
}

TEST_CASE("rows after a chosen as_of are ignored and counted", "[orders][accounting]") {
  Run run;
  REQUIRE(run.load("customer_id,order_date,amount\na,2024-01-01,10\na,2024-02-01,10\nb,2024-03-01,10\n")["ok"]);
  json r = run.analyze({{"asOf", "2024-02-15"}});
  CHECK(metric(r, "orders") == 2);
  CHECK(metric(r, "customers") == 1);
  CHECK(orders_dq(r)["orders"]["after_as_of"]["rows"] == 1);
  CHECK(r["period"]["as_of"] == "2024-02-15");
  CHECK(r["period"]["as_of_source"] == "option");
}

TEST_CASE("day/month order is inferred from the whole column and said", "[orders][dates]") {
  std::string csv = "customer_id,order_date,amount\n";
  for (int i = 0; i < 50; ++i) csv += "a,1/2/2024,1\n";
  csv += "b,25/2/2024,1\n";  // the first unambiguous value, far down the column
  Run run;
  json f = run.load(csv);
  REQUIRE(f["ok"]);
  CHECK(f["file"]["format"]["date_order"] == "dmy");
  CHECK(f["file"]["format"]["date_order_source"].get<std::string>().find("line 52") != std::string::npos);
  json r = run.analyze();
  CHECK(r["period"]["first_date"] == "2024-02-01");
}

TEST_CASE("contradicting day/month dates are an error naming the lines", "[orders][dates]") {
  Run run;
  json f = run.load("customer_id,order_date,amount\na,13/1/2024,1\nb,1/13/2024,1\n");
  REQUIRE_FALSE(f["ok"]);
  CHECK(f["error"]["code"] == "contradictory_dates");
  CHECK(f["error"]["message"].get<std::string>().find("line 2") != std::string::npos);
  CHECK(f["error"]["message"].get<std::string>().find("line 3") != std::string::npos);
  // The failed file left nothing behind; with the order chosen, it loads (line 3 then is invalid).
  json g = run.load("customer_id,order_date,amount\na,13/1/2024,1\nb,1/13/2024,1\n", {{"dateOrder", "dmy"}});
  REQUIRE(g["ok"]);
  CHECK(g["file"]["rows_used"] == 1);
  CHECK(g["file"]["rows_rejected"] == 1);
}

TEST_CASE("a column of only ambiguous dates asks for the order", "[orders][dates]") {
  Run run;
  json f = run.load("customer_id,order_date,amount\na,03/10/2024,1\n");
  REQUIRE_FALSE(f["ok"]);
  CHECK(f["error"]["code"] == "ambiguous_dates");
  CHECK(f["error"]["line"] == 2);
  REQUIRE(run.load("customer_id,order_date,amount\na,03/10/2024,1\n", {{"dateOrder", "mdy"}})["ok"]);
  CHECK(run.analyze()["period"]["first_date"] == "2024-03-10");
}

TEST_CASE("a missing required column is an error that says how to map it", "[orders]") {
  Run run;
  json f = run.load("customer_id,when,amount\na,2024-01-01,1\n");
  REQUIRE_FALSE(f["ok"]);
  CHECK(f["error"]["code"] == "missing_column");
  CHECK(f["error"]["file"] == "orders#1");
  json g = run.load("customer_id,when,amount\na,2024-01-01,1\n", {{"mapping", {{"order_date", "when"}}}});
  REQUIRE(g["ok"]);
  CHECK(metric(run.analyze(), "orders") == 1);
}

TEST_CASE("Chinese headers map by synonym", "[orders]") {
  Run run;
  json f = run.load("订单号,买家会员名,下单时间,实付金额,订单状态\n"
                    "T1,小王,2024年8月20日,\"¥1,234.50\",交易成功\n"
                    "T2,小李,2024/8/21 下午2:03,\"1,000.00元\",交易关闭\n");
  REQUIRE(f["ok"]);
  json r = run.analyze();
  CHECK(metric(r, "orders") == 1);
  CHECK(metric(r, "revenue") == Approx(1234.5));
  CHECK(orders_dq(r)["orders"]["excluded_by_status"] == 1);
  // Unquoted, the thousands separator splits the field: an error that says so, not a guess.
  json bad = run.load("订单号,买家会员名,下单时间,实付金额\nT1,小王,2024年8月20日,¥1,234.50\n");
  REQUIRE_FALSE(bad["ok"]);
  CHECK(bad["error"]["code"] == "ragged_rows");
  CHECK(bad["error"]["line"] == 2);
  CHECK(bad["error"]["message"].get<std::string>().find("thousands separators") != std::string::npos);
}

TEST_CASE("a headerless file is mapped by its values (CDNOW_sample layout)", "[orders]") {
  Run run;
  json f = run.load(" 00001 0001 19970101  1  11.77\r\n 00002 0002 19970112  1  12.00\r\n"
                    " 00002 0002 19970112  5  77.00\r\n 00003 0003 19970102  2  20.76\r\n");
  REQUIRE(f["ok"]);
  CHECK(f["file"]["format"]["header"] == false);
  CHECK(f["file"]["format"]["delimiter"] == "whitespace");
  json r = run.analyze();
  CHECK(metric(r, "customers") == 3);
  CHECK(metric(r, "revenue") == Approx(121.53));
  CHECK(r["period"]["first_date"] == "1997-01-01");
}

TEST_CASE("periods are calendar months clipped to the data, partial ones flagged", "[orders][series]") {
  Run run;
  REQUIRE(run.load("customer_id,order_date,amount\na,2024-01-15,10\nb,2024-02-01,20\na,2024-02-10,30\n"
                   "a,2024-02-11,5\nc,2024-03-05,40\n")["ok"]);
  json r = run.analyze();
  json periods = r["period"]["periods"];
  REQUIRE(periods.size() == 3);
  CHECK(periods[0]["start"] == "2024-01-15");
  CHECK(periods[0]["partial"] == true);
  CHECK(periods[1]["partial"] == false);
  CHECK(periods[2]["end"] == "2024-03-05");
  CHECK(periods[2]["partial"] == true);
  json rev = r["series"]["revenue"]["points"];
  CHECK(rev[1]["value"].get<double>() == Approx(55.0));
  json ret = r["series"]["returning_customer_share"]["points"];
  CHECK(ret[1]["value"].get<double>() == Approx(0.5));  // a had bought in January; b is new
  json rpr = r["series"]["repeat_purchase_rate"]["points"];
  CHECK(rpr[1]["value"].get<double>() == Approx(0.5));  // a bought twice in February
  json q = run.analyze({{"period", "quarter"}});
  CHECK(q["period"]["periods"].size() == 1);
  CHECK(q["period"]["periods"][0]["id"] == "2024-Q1");
}

TEST_CASE("purchase frequency is null when the data span fewer than 90 days", "[orders][spec]") {
  Run run;
  REQUIRE(run.load("customer_id,order_date,amount\na,2024-01-01,10\na,2024-02-01,10\n")["ok"]);
  json r = run.analyze();
  CHECK(r["metrics"]["purchase_frequency"]["value"].is_null());
  Run year;
  REQUIRE(year.load("customer_id,order_date,amount\na,2023-01-01,10\na,2023-07-01,10\nb,2023-12-31,10\n")["ok"]);
  // 3 purchases / 2 customers / (365 / 365.25) years.
  CHECK(metric(year.analyze(), "purchase_frequency") == Approx(1.5 * 365.25 / 365));
}

TEST_CASE("monthly actives and the acquisition cohort matrix", "[orders][cohorts]") {
  Run run;
  REQUIRE(run.load("customer_id,order_date,amount\na,2024-01-05,10\na,2024-01-20,10\nb,2024-01-09,10\n"
                   "a,2024-03-01,10\nc,2024-02-02,10\nb,2024-02-03,-4\nc,2024-03-03,10\n")["ok"]);
  json r = run.analyze();
  CHECK(r["monthly_active_customers"]["values"] == json::array({2, 1, 2}));  // b's return is not activity
  json co = r["cohorts"]["acquisition"];
  CHECK(co["size"] == json::array({2, 1, 0}));
  CHECK(co["active"][0] == json::array({2, 0, 1}));
  CHECK(co["active"][1] == json::array({1, 1}));
  CHECK(co["revenue"][0][1].get<double>() == Approx(-4.0));
}

TEST_CASE("channel breakdown: purchases and net revenue per channel", "[orders]") {
  Run run;
  REQUIRE(run.load("order_id,customer_id,order_date,amount,channel\n1,a,2024-01-01,10,web\n2,b,2024-01-02,-3,web\n"
                   "3,c,2024-01-03,7,store\n")["ok"]);
  json ch = run.analyze()["breakdowns"]["channel"];
  REQUIRE(ch.size() == 2);
  CHECK(ch[0]["value"] == "store");
  CHECK(ch[1]["value"] == "web");
  CHECK(ch[1]["orders"] == 1);
  CHECK(ch[1]["returns"] == 1);
  CHECK(ch[1]["revenue"].get<double>() == Approx(7.0));
}

TEST_CASE("results are identical whatever the chunk size", "[orders][chunks]") {
  std::string csv = "\xEF\xBB\xBF订单号,客户ID,订单日期,金额\r\n";
  for (int i = 0; i < 300; ++i)
    csv += "T" + std::to_string(i) + ",客户" + std::to_string(i % 37) + ",2024-0" + std::to_string(1 + i % 9) + "-1" +
           std::to_string(i % 10) + ",\"" + std::to_string(1000 + i) + ".5\"\r\n";
  std::string reference;
  for (size_t chunk : {size_t(1), size_t(2), size_t(3), size_t(7), size_t(42), size_t(4096), csv.size()}) {
    Run run;
    REQUIRE(run.load(csv, json::object(), chunk)["ok"]);
    json r = run.analyze();
    r.erase("engine");
    std::string s = r.dump();
    if (reference.empty()) reference = s;
    CHECK(s == reference);
  }
}

TEST_CASE("bad options are errors, not guesses", "[orders]") {
  Run run;
  REQUIRE(run.load("customer_id,order_date,amount\na,2024-01-01,10\n")["ok"]);
  CHECK(run.analyze({{"period", "week"}})["error"]["code"] == "bad_options");
  CHECK(run.analyze({{"asOf", "yesterday"}})["error"]["code"] == "bad_options");
  CHECK(run.analyze({{"lapseDays", 0}})["error"]["code"] == "bad_options");
  json f = json::parse(run.engine.begin_load("surveys", "{}"));  // no such table (yet)
  CHECK(f["error"]["code"] == "unknown_table");
}

TEST_CASE("money in several currencies is never summed", "[orders][currency]") {
  Run run;
  REQUIRE(run.load("order_id,customer_id,order_date,amount\n1,a,2024-01-01,¥100.00\n2,b,2024-01-02,$20.00\n"
                   "3,a,2024-01-03,RMB 50\n")["ok"]);
  json r = run.analyze();
  CHECK(r["metrics"]["revenue"]["value"].is_null());
  CHECK(r["metrics"]["revenue"]["reason"].get<std::string>().find("several currencies") != std::string::npos);
  CHECK(r["metrics"]["aov"]["value"].is_null());
  CHECK(metric(r, "orders") == 3);  // counts are not money: still given
  json cur = r["breakdowns"]["currency"];
  REQUIRE(cur.size() == 2);
  CHECK(cur[0]["value"] == "CNY");
  CHECK(cur[0]["revenue"].get<double>() == Approx(150.0));
  CHECK(cur[1]["value"] == "USD");
  CHECK(cur[1]["orders"] == 1);
  // One currency, written several ways (¥, 元, RMB, a currency column), is one currency.
  Run one;
  REQUIRE(one.load("order_id,customer_id,order_date,amount,currency\n1,a,2024-01-01,100,rmb\n2,b,2024-01-02,¥20,\n"
                   "3,a,2024-01-03,50元,CNY\n")["ok"]);
  json s = one.analyze();
  CHECK(metric(s, "revenue") == Approx(170.0));
  CHECK(s["breakdowns"]["currency"].size() == 1);
}

TEST_CASE("rows without an order id are orders of their own, beside rows with one", "[orders]") {
  Run run;
  REQUIRE(run.load("order_id,customer_id,order_date,amount\nA,c1,2024-01-01,10\n,c2,2024-01-02,20\nB,c3,2024-01-03,30\n"
                   "A,c1,2024-01-04,5\n")["ok"]);
  json r = run.analyze();
  CHECK(metric(r, "orders") == 3);
  CHECK(metric(r, "customers") == 3);
  CHECK(metric(r, "revenue") == Approx(65.0));
  CHECK(orders_dq(r)["orders"]["after_as_of"]["orders"] == 0);
  // A file without an order id column, then one with: X1 is a new order, not the first file's first.
  Run two;
  REQUIRE(two.load("customer_id,order_date,amount\nc1,2024-01-01,10\nc2,2024-01-02,20\n")["ok"]);
  REQUIRE(two.load("order_id,customer_id,order_date,amount\nX1,c3,2024-01-03,30\n")["ok"]);
  json s = two.analyze();
  CHECK(metric(s, "orders") == 3);
  CHECK(metric(s, "customers") == 3);
}

TEST_CASE("a failed load leaves no trace, not even which columns the table has", "[orders]") {
  Run run;
  REQUIRE_FALSE(run.load("order_id,customer_id,order_date,amount,channel\n1,a,2024-01-01,\"10\n")["ok"]);
  REQUIRE(run.load("order_date,amount\n2024-01-01,10\n")["ok"]);
  json r = run.analyze();
  CHECK(r["metrics"]["customers"]["value"].is_null());
  CHECK_FALSE(r.contains("breakdowns"));
  // A bad analyze option afterwards names no file.
  json bad = run.analyze({{"period", "week"}});
  CHECK(bad["error"]["file"].is_null());
}

TEST_CASE("as_of before the first order: every row is after it, and counted", "[orders][accounting]") {
  Run run;
  REQUIRE(run.load("customer_id,order_date,amount\na,2024-01-05,10\nb,2024-01-06,10\n")["ok"]);
  json r = run.analyze({{"asOf", "2023-12-31"}});
  CHECK(r["period"].is_null());
  CHECK(orders_dq(r)["orders"]["after_as_of"]["rows"] == 2);
  CHECK(orders_dq(r)["orders"]["after_as_of"]["orders"] == 2);
}

TEST_CASE("options of the wrong type are refused", "[orders]") {
  Run run;
  REQUIRE(run.load("customer_id,order_date,amount\na,2024-01-01,10\n")["ok"]);
  CHECK(run.analyze({{"asOf", 5}})["error"]["code"] == "bad_options");
  CHECK(run.analyze({{"period", true}})["error"]["code"] == "bad_options");
  CHECK(run.load("x\n", {{"header", "yes"}})["error"]["code"] == "bad_options");
  CHECK(run.load("customer_id,order_date,amount\nb,2024-01-02,10\n", {{"encoding", "UTF-8"}})["ok"]);
}

TEST_CASE("1,234-only amounts are not guessed", "[orders]") {
  Run run;
  json f = run.load("customer_id,order_date,amount\na,2024-01-01,\"1,234\"\nb,2024-01-02,\"2,500\"\n");
  REQUIRE_FALSE(f["ok"]);
  CHECK(f["error"]["code"] == "ambiguous_amounts");
  REQUIRE(run.load("customer_id,order_date,amount\na,2024-01-01,\"1,234\"\nb,2024-01-02,\"2,500\"\n",
                   {{"decimalMark", "dot"}})["ok"]);
  CHECK(metric(run.analyze(), "revenue") == Approx(3734.0));
}

TEST_CASE("unit prices give decimal-mark evidence like amounts do", "[orders]") {
  Run run;
  REQUIRE(run.load("customer_id,order_date,quantity,unit_price\na,2024-01-01,1,2.50\nb,2024-01-02,2,1.234\n")["ok"]);
  CHECK(metric(run.analyze(), "revenue") == Approx(2.5 + 2.468));
}

TEST_CASE("refunded amounts follow the file's decimal mark", "[orders]") {
  Run run;
  REQUIRE(run.load("order_id;customer_id;order_date;amount;refunded_amount\n1;a;2024-01-01;12,50;1,234\n"
                   "2;b;2024-01-02;20,00;\n")["ok"]);
  CHECK(metric(run.analyze(), "revenue") == Approx(12.5 - 1.234 + 20.0));
}

TEST_CASE("a quantity and a price column make the amount (Etsy's order items)", "[orders]") {
  Run run;
  REQUIRE(run.load("Sale Date,Item Name,Buyer,Quantity,Price,Order ID\n2024-05-01,Mug,ann,2,12.50,9001\n")["ok"]);
  CHECK(metric(run.analyze(), "revenue") == Approx(25.0));
}

TEST_CASE("error messages keep going past a NUL byte in a column name", "[orders]") {
  Run run;
  json f = run.load(std::string("a\0b,c\n1,2\n", 10));
  REQUIRE_FALSE(f["ok"]);
  CHECK(f["error"]["message"].get<std::string>().find("\xE2\x90\x80") != std::string::npos);
  CHECK(f["error"]["message"].get<std::string>().find("order_date") != std::string::npos);
}

TEST_CASE("a file that fails after its ids were matched leaves no ids behind", "[orders]") {
  Run run;
  REQUIRE(run.load("order_id,customer_id,order_date,amount\nK1,ann,2024-01-05,10\n")["ok"]);
  // Joins K1 and adds a customer, then fails on contradicting dates when the file ends.
  json bad = run.load("order_id,customer_id,order_date,amount\nK1,ann,13/1/2024,-2\nK2,zoe,1/13/2024,5\n");
  REQUIRE_FALSE(bad["ok"]);
  REQUIRE(run.load("order_id,customer_id,order_date,amount\nK1,ann,2024-01-20,-3\nK3,bob,2024-01-21,4\n")["ok"]);
  json r = run.analyze();
  CHECK(metric(r, "orders") == 2);
  CHECK(metric(r, "customers") == 2);
  CHECK(metric(r, "revenue") == Approx(10 - 3 + 4));
  json ids = run.customers()["columns"]["customer_id"];
  CHECK(ids == json::array({"ann", "bob"}));
}

TEST_CASE("a size hint only sizes the tables: results are the same with any hint", "[orders]") {
  std::string csv = "order_id,customer_id,order_date,amount\n";
  for (int i = 0; i < 500; ++i) csv += std::to_string(i % 300) + ",c" + std::to_string(i % 41) + ",2024-03-0" + std::to_string(1 + i % 9) + ",1" + std::to_string(i % 7) + ".25\n";
  std::string reference;
  for (int64_t hint : {int64_t(0), int64_t(10), int64_t(csv.size()), int64_t(1) << 40}) {
    Run run;
    REQUIRE(run.load(csv, {{"sizeHint", hint}})["ok"]);
    json r = run.analyze();
    std::string s = r["metrics"].dump() + r["cohorts"].dump();
    if (reference.empty()) reference = s;
    CHECK(s == reference);
  }
  Run bad;
  CHECK(bad.load(csv, {{"sizeHint", -5}})["error"]["code"] == "bad_options");
}

TEST_CASE("duplicate lines are found whether order ids rise or not", "[orders][accounting]") {
  const std::string head = "order_id,customer_id,order_date,amount\n";
  const std::string rising = head +
                             "1,a,2024-01-01,10\n"  // line 2
                             "1,a,2024-01-01,10\n"  // line 3: repeats line 2, same order
                             "2,b,bad,5\n"          // line 4: rejected
                             "3,c,2024-01-02,7\n"   // line 5
                             "2,b,bad,5\n"          // line 6: rejected, repeats line 4
                             "4,d,2024-01-03,8\n";  // line 7
  Run a;
  json f = a.load(rising);
  REQUIRE(f["ok"]);
  CHECK(f["file"]["duplicate_lines"]["lines"] == json::array({3, 6}));
  CHECK(f["file"]["rows_used"] == 4);
  CHECK(metric(a.analyze(), "orders") == 3);

  // Ids that stop rising (order 1 again, far from its first lines): every row is compared.
  Run b;
  f = b.load(rising + "5,e,2024-01-04,9\n1,a,2024-01-01,10\n");
  REQUIRE(f["ok"]);
  CHECK(f["file"]["duplicate_lines"]["lines"] == json::array({3, 6, 9}));
  json r = b.analyze();
  CHECK(metric(r, "orders") == 4);  // line 9 joins order 1
  CHECK(metric(r, "revenue") == Approx(30 + 7 + 8 + 9));

  // An order of 70 lines whose last line repeats its first: past 64 lines, checked globally.
  std::string big = head + "1,a,2024-01-01,10\n";
  for (int i = 0; i < 68; ++i) big += "1,a,2024-01-01," + std::to_string(11 + i) + "\n";
  big += "1,a,2024-01-01,10\n2,b,2024-01-02,5\n";
  Run c;
  f = c.load(big);
  REQUIRE(f["ok"]);
  CHECK(f["file"]["duplicate_lines"]["lines"] == json::array({71}));
}

TEST_CASE("id keys: short ids are exact and ordered, others hashed", "[orders][ids]") {
  uint64_t c1, c2, c3;
  uint64_t k1 = custlens::id_key("536365", 6, c1);
  uint64_t k2 = custlens::id_key("536366", 6, c2);
  uint64_t k3 = custlens::id_key("C536379", 7, c3);
  CHECK(custlens::id_key_exact(k1));
  CHECK(k1 != k2);
  CHECK(c1 < c2);  // same length: byte order
  CHECK(c2 < c3);  // longer: later
  uint64_t c9, c10;
  CHECK(custlens::id_key_exact(custlens::id_key("C81243354", 9, c9)));
  CHECK_FALSE(custlens::id_key_exact(custlens::id_key("C812433540", 10, c10)));  // 10 characters
  CHECK(c10 == 0);
  uint64_t ce;
  CHECK_FALSE(custlens::id_key_exact(custlens::id_key("a@b.cn", 6, ce)));  // '@' and '.'
  // Every 2-character id of the alphabet gets its own key.
  const std::string abc = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
  std::set<uint64_t> keys;
  uint64_t last = 0;
  for (char x : abc)
    for (char y : abc) {
      char id[2] = {x, y};
      uint64_t code;
      keys.insert(custlens::id_key(id, 2, code));
      CHECK(code > last);
      last = code;
    }
  CHECK(keys.size() == abc.size() * abc.size());
}

TEST_CASE("a column one file lacks reads as zeros beside a file that has it, in either order", "[orders]") {
  // OrdersTable keeps the status, refund, currency and file columns empty while all zeros.
  const std::string plain = "order_id,customer_id,order_date,amount\n1,a,2024-01-01,10\n2,b,2024-01-02,20\n";
  const std::string with_status = "order_id,customer_id,order_date,amount,status,refunded_amount\n"
                                  "3,a,2024-01-05,30,cancelled,0\n4,b,2024-01-06,40,paid,15\n";
  for (bool plain_first : {true, false}) {
    Run run;
    REQUIRE(run.load(plain_first ? plain : with_status)["ok"]);
    REQUIRE(run.load(plain_first ? with_status : plain)["ok"]);
    json r = run.analyze();
    CHECK(metric(r, "revenue") == Approx(10 + 20 + 40 - 15));
    CHECK(metric(r, "orders") == 3);
    CHECK(r["metrics"]["orders"]["inputs"]["excluded_by_status"] == 1);
  }
  // Net amounts in one file only: its refund is not subtracted again, the other file's is.
  const std::string net = "order_id,customer_id,order_date,amount,refunded_amount\n5,c,2024-01-07,80,20\n";
  const std::string gross = "order_id,customer_id,order_date,amount,refunded_amount\n6,d,2024-01-08,50,5\n";
  for (bool net_first : {true, false}) {
    Run run;
    REQUIRE(run.load(plain)["ok"]);
    REQUIRE(run.load(net_first ? net : gross, net_first ? json{{"amountIsNet", true}} : json::object())["ok"]);
    REQUIRE(run.load(net_first ? gross : net, net_first ? json::object() : json{{"amountIsNet", true}})["ok"]);
    CHECK(metric(run.analyze(), "revenue") == Approx(10 + 20 + 80 + 50 - 5));
  }
  // A currency first stated on a later row: the rows before it are "not stated".
  Run run;
  REQUIRE(run.load("order_id,customer_id,order_date,amount\n1,a,2024-01-01,10\n2,b,2024-01-02,¥20\n3,a,2024-01-03,5\n")["ok"]);
  json cur = run.analyze()["breakdowns"]["currency"];
  INFO(cur.dump());
  REQUIRE(cur.size() == 2);
  CHECK(cur[0]["value"].is_null());
  CHECK(cur[0]["revenue"].get<double>() == Approx(15.0));
  CHECK(cur[1]["value"] == "CNY");
  CHECK(cur[1]["revenue"].get<double>() == Approx(20.0));
}

TEST_CASE("orders of one line, then lines joining an order: in the file, far apart, and from a later file", "[orders]") {
  // OrdersTable keeps no line -> order column while every order has one line.
  auto spend = [](Run& run, const std::string& id) {
    return customer_row(run.customers(), id)["total_spend"].get<double>();
  };
  {
    Run run;  // the fourth line joins the third's order
    REQUIRE(run.load("order_id,customer_id,order_date,amount\n1,a,2024-01-01,10\n2,b,2024-01-02,20\n"
                     "2,b,2024-01-02,5\n3,a,2024-01-03,7\n")["ok"]);
    json r = run.analyze();
    CHECK(metric(r, "orders") == 3);
    CHECK(metric(r, "revenue") == Approx(42.0));
    CHECK(spend(run, "a") == Approx(17.0));
    CHECK(spend(run, "b") == Approx(25.0));
  }
  {
    Run run;  // ids that do not rise: order 5's second line comes after order 3
    REQUIRE(run.load("order_id,customer_id,order_date,amount\n5,a,2024-01-01,10\n3,b,2024-01-02,20\n"
                     "5,a,2024-01-01,2\n")["ok"]);
    json r = run.analyze();
    CHECK(metric(r, "orders") == 2);
    CHECK(spend(run, "a") == Approx(12.0));
  }
  {
    Run run;  // a later file's refund row joins order 1 of the first file
    REQUIRE(run.load("order_id,customer_id,order_date,amount\n1,a,2024-01-01,10\n2,b,2024-01-02,20\n3,a,2024-01-03,7\n")["ok"]);
    REQUIRE(run.load("order_id,customer_id,order_date,amount\n1,a,2024-01-01,-4\n4,c,2024-01-04,9\n")["ok"]);
    json r = run.analyze();
    CHECK(metric(r, "orders") == 4);
    CHECK(metric(r, "revenue") == Approx(42.0));
    CHECK(spend(run, "a") == Approx(13.0));
    CHECK(spend(run, "c") == Approx(9.0));
  }
}

TEST_CASE("a file whose every row is rejected loads, counts every row, and gives no orders", "[orders][accounting]") {
  // (The fuzzer's engine-every-row-rejected: grouping the customers of no orders.)
  Run run;
  json f = run.load("order_id,customer_id,order_date,amount\n1,a,2024-08-02,¥2\x15" "8.16\n2,b,2024-08-03,¥!0.00\n");
  INFO(f.dump());
  REQUIRE(f["ok"]);
  CHECK(run.files[0]["rows_read"] == 2);
  CHECK(run.files[0]["rows_rejected"] == 2);
  CHECK(run.files[0]["rows_used"] == 0);
  json r = run.analyze();
  INFO(r.dump().substr(0, 400));
  CHECK(r["metrics"]["orders"]["value"].is_null());
}
