// Several exports of one shop loaded together (input-rules.md, "Overlapping exports"): rows
// counted once, later exports replacing earlier ones, refunds subtracted once, and money sums
// that never overflow.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "support.h"

using nlohmann::json;

namespace {

using Run = custlens::test::EngineRun;

double metric(const json& report, const char* id) { return report["metrics"][id]["value"].get<double>(); }

// The lines of a skipped (or rejected) reason of a file report; empty when the reason is absent.
std::vector<uint64_t> lines_of(const json& file, const char* bucket, const std::string& reason) {
  for (const auto& t : file[bucket])
    if (t["reason"] == reason) return t["lines"].get<std::vector<uint64_t>>();
  return {};
}
uint64_t count_of(const json& file, const char* bucket, const std::string& reason) {
  for (const auto& t : file[bucket])
    if (t["reason"] == reason) return t["count"];
  return 0;
}
const json& dq_file(const json& report, size_t i) { return report["data_quality"]["tables"]["orders"]["files"][i]; }
bool accounted(const json& f) {
  return f["rows_read"] == f["rows_used"].get<uint64_t>() + f["rows_rejected"].get<uint64_t>() +
                               f["rows_skipped"].get<uint64_t>();
}

const char* kReplaced = "replaced by a later export";
const char* kOverlap = "overlap duplicate (same line in an earlier file)";

// January's export, downloaded on 31 January: order 2 (two lines) is paid, not yet shipped.
const std::string kJan =
    "order_id,customer_id,order_date,amount,status\n"
    "1,a,2024-01-05,10.00,paid\n"
    "2,b,2024-01-30,20.00,paid\n"
    "2,b,2024-01-30,5.00,\n"
    "4,d,2024-01-31,40.00,paid\n";
// February's export, with its columns in another order: order 2 has shipped, order 4 was
// cancelled after the first download, order 1 is the same (paid), order 3 is new.
const std::string kFeb =
    "status,amount,order_date,customer_id,order_id\n"
    "paid,10.00,2024-01-05,a,1\n"
    "shipped,20.00,2024-01-30,b,2\n"
    ",5.00,2024-01-30,b,2\n"
    "cancelled,40.00,2024-01-31,d,4\n"
    "paid,30.00,2024-02-03,c,3\n";

}  // namespace

TEST_CASE("overlapping exports whose statuses moved on: the later export's lines replace the earlier's", "[overlap]") {
  for (bool jan_first : {true, false}) {
    INFO("January loaded " << (jan_first ? "first" : "second"));
    Run run;
    REQUIRE(run.load(jan_first ? kJan : kFeb, {{"name", jan_first ? "jan.csv" : "feb.csv"}})["ok"]);
    REQUIRE(run.load(jan_first ? kFeb : kJan, {{"name", jan_first ? "feb.csv" : "jan.csv"}})["ok"]);
    json r = run.analyze();
    // 10 (order 1) + 25 (order 2, shipped) + 30 (order 3); order 4 cancelled in the later export.
    CHECK(metric(r, "revenue") == Approx(65.0));
    CHECK(metric(r, "orders") == 3);
    CHECK(r["metrics"]["orders"]["inputs"]["excluded_by_status"] == 1);
    const json& jan = dq_file(r, jan_first ? 0 : 1);
    const json& feb = dq_file(r, jan_first ? 1 : 0);
    CHECK(jan["name"] == "jan.csv");
    CHECK(accounted(jan));
    CHECK(accounted(feb));
    CHECK(jan["rows_read"] == 4);
    CHECK(feb["rows_read"] == 5);
    // Order 1 says the same in both: February's line is the overlap duplicate when it comes
    // second, January's when January comes second.
    if (jan_first) {
      CHECK(lines_of(jan, "skipped", kReplaced) == std::vector<uint64_t>{3, 4, 5});
      CHECK(lines_of(feb, "skipped", kOverlap) == std::vector<uint64_t>{2});
      CHECK(jan["rows_used"] == 1);
      CHECK(feb["rows_used"] == 4);
    } else {
      CHECK(lines_of(jan, "skipped", kReplaced) == std::vector<uint64_t>{3, 4, 5});
      CHECK(lines_of(jan, "skipped", kOverlap) == std::vector<uint64_t>{2});
      CHECK(jan["rows_used"] == 0);
      CHECK(feb["rows_used"] == 5);
    }
    CHECK(jan["orders_replaced"]["count"] == 2);
    CHECK(jan["orders_replaced"]["lines"] == json::array({3, 5}));
    CHECK(jan["orders_replaced"]["by"] == json::array({"feb.csv"}));
    CHECK(feb["orders_replacing"]["count"] == 2);
    CHECK(feb["orders_replacing"]["files"] == json::array({"jan.csv"}));
    bool warned = false;
    for (const auto& w : jan["warnings"])
      if (w["code"] == "orders_updated_by_later_export") {
        warned = true;
        CHECK(w["count"] == 2);
        CHECK(w["message"].get<std::string>().find("2 order(s) updated by a later export (feb.csv)") == 0);
      }
    CHECK(warned);
    CHECK(r["data_quality"]["tables"]["orders"]["rows_read"] == 9);
  }
}

TEST_CASE("a later export that lists fewer lines of an order replaces them all", "[overlap]") {
  // Shopify fills the order's status on its first line only: a changed status leaves the
  // other lines byte-identical, yet they are lines of the replaced order.
  Run run;
  REQUIRE(run.load("order_id,customer_id,order_date,amount,status\n7,a,2024-03-01,30,paid\n7,a,2024-03-01,20,\n")["ok"]);
  REQUIRE(run.load("order_id,customer_id,order_date,amount,status\n7,a,2024-03-01,30,refunded\n7,a,2024-03-01,20,\n"
                   "8,b,2024-03-02,5,paid\n")["ok"]);
  json r = run.analyze();
  CHECK(metric(r, "orders") == 1);
  CHECK(metric(r, "revenue") == Approx(5.0));  // order 7 refunded in the later export
  CHECK(lines_of(dq_file(r, 0), "skipped", kReplaced) == std::vector<uint64_t>{2, 3});
  CHECK(dq_file(r, 1)["rows_used"] == 3);
}

TEST_CASE("identical rows with reordered columns are one row, with or without an order id, refunds included", "[overlap]") {
  {
    Run run;  // no order id column: each row is an order, matched by all it says
    REQUIRE(run.load("customer_id,order_date,amount\na,2024-01-01,10\nb,2024-01-02,20\nb,2024-01-02,-5\n")["ok"]);
    json f = run.load("amount,customer_id,order_date\n20,b,2024-01-02\n-5,b,2024-01-02\n30,c,2024-01-03\n");
    REQUIRE(f["ok"]);
    CHECK(f["file"]["rows_used"] == 1);
    CHECK(lines_of(f["file"], "skipped", kOverlap) == std::vector<uint64_t>{2, 3});
    json r = run.analyze();
    CHECK(metric(r, "revenue") == Approx(10 + 20 - 5 + 30));
    CHECK(r["metrics"]["customers"]["value"] == 3);
  }
  {
    Run run;  // each earlier row matches one: a third equal purchase, only in the later export, counts
    REQUIRE(run.load("customer_id,order_date,amount\na,2024-01-01,10\na,2024-01-01,10\n")["ok"]);
    json f = run.load("customer_id,order_date,amount\na,2024-01-01,10\na,2024-01-01,10\na,2024-01-01,10\n");
    REQUIRE(f["ok"]);
    CHECK(lines_of(f["file"], "skipped", kOverlap) == std::vector<uint64_t>{2, 3});
    CHECK(f["file"]["rows_used"] == 1);
    CHECK(metric(run.analyze(), "revenue") == Approx(30.0));
  }
  {
    Run run;  // order ids, a refund row in both exports, amounts written differently
    REQUIRE(run.load("order_id,customer_id,order_date,amount\n1,a,2024-01-01,10\n2,b,2024-01-02,20\n2,b,2024-01-09,-5\n")["ok"]);
    json f = run.load("customer_id;amount;order_id;order_date\nb;20,00;2;2024-01-02\nb;-5,00;2;2024-01-09\n"
                      "c;30,00;3;2024-01-10\nb;-2,00;2;2024-01-10\n");
    REQUIRE(f["ok"]);
    CHECK(lines_of(f["file"], "skipped", kOverlap) == std::vector<uint64_t>{2, 3});
    CHECK(f["file"]["rows_used"] == 2);  // order 3, and a second refund of order 2 that joins it
    json r = run.analyze();
    CHECK(metric(r, "revenue") == Approx(10 + 20 - 5 + 30 - 2));
    CHECK(metric(r, "orders") == 3);
  }
  {
    Run run;  // the same bad row in both exports is counted once, as an overlap duplicate
    REQUIRE(run.load("order_id,customer_id,order_date,amount\n1,a,2024-01-01,10\n2,b,not a date,20\n")["ok"]);
    json f = run.load("order_id,customer_id,order_date,amount\n2,b,not a date,20\n3,c,2024-01-03,30\n");
    REQUIRE(f["ok"]);
    CHECK(f["file"]["rows_rejected"] == 0);
    CHECK(lines_of(f["file"], "skipped", kOverlap) == std::vector<uint64_t>{2});
  }
}

TEST_CASE("a refund file repeating each order line with a refunded amount reduces its order once", "[overlap][refunds]") {
  const std::string orders =
      "order_id,customer_id,order_date,amount\n"
      "1,a,2024-01-01,30.00\n1,a,2024-01-01,20.00\n2,b,2024-01-02,40.00\n3,c,2024-01-03,25.00\n";
  // The refund export: every line of the orders, the order's refunded amount on its first line.
  const std::string refunds =
      "order_id,customer_id,order_date,amount,refunded_amount\n"
      "1,a,2024-01-01,30.00,15.00\n1,a,2024-01-01,20.00,\n2,b,2024-01-02,40.00,40.00\n3,c,2024-01-03,25.00,0\n";
  // Only the refunded orders, in an export whose newest order is older than the orders file's.
  const std::string partial =
      "order_id,customer_id,order_date,amount,refunded_amount\n1,a,2024-01-01,30.00,15.00\n1,a,2024-01-01,20.00,\n";
  for (const std::string* refund_file : {&refunds, &partial})
    for (bool orders_first : {true, false}) {
      INFO((refund_file == &refunds ? "full" : "partial") << " refund file, orders " << (orders_first ? "first" : "second"));
      Run run;
      REQUIRE(run.load(orders_first ? orders : *refund_file)["ok"]);
      REQUIRE(run.load(orders_first ? *refund_file : orders)["ok"]);
      json r = run.analyze();
      const double net = refund_file == &refunds ? 50 - 15 + 40 - 40 + 25 : 50 - 15 + 40 + 25;
      CHECK(metric(r, "revenue") == Approx(net));
      CHECK(r["data_quality"]["tables"]["orders"]["rows_used"] == 4);  // each order line once
      for (size_t i = 0; i < 2; ++i) CHECK(accounted(dq_file(r, i)));
    }
  {
    Run run;  // the latest refund stated wins: a later export raises order 1's refund to 20
    REQUIRE(run.load(refunds)["ok"]);
    REQUIRE(run.load("order_id,customer_id,order_date,amount,refunded_amount\n1,a,2024-01-01,30.00,20.00\n"
                     "1,a,2024-01-01,20.00,\n4,d,2024-01-05,5,\n")["ok"]);
    CHECK(metric(run.analyze(), "revenue") == Approx(50 - 20 + 0 + 25 + 5));
  }
}

TEST_CASE("money sums past 2^63 / 10^4 are refused before they could overflow", "[overlap][money]") {
  {
    Run run;  // each amount is inside the 9 × 10^14 limit; their sum is not
    json f = run.load("order_id,customer_id,order_date,amount\n1,a,2024-01-01,900000000000000\n"
                      "2,a,2024-01-02,900000000000000\n",
                      {{"name", "big.csv"}});
    REQUIRE_FALSE(f["ok"]);
    CHECK(f["error"]["code"] == "too_large");
    CHECK(f["error"]["file"] == "big.csv");
    CHECK(f["error"]["line"] == 3);
    CHECK(f["error"]["column"] == 4);
    // Nothing of the file stays, and a file within the limit still loads after it.
    json g = run.load("order_id,customer_id,order_date,amount\n1,a,2024-01-01,900000000000000\n"
                      "2,b,2024-01-02,-22337203685.4775\n");
    REQUIRE(g["ok"]);
    json r = run.analyze();
    CHECK(metric(r, "revenue") == Approx(900000000000000.0 - 22337203685.4775));
    CHECK(metric(r, "revenue") > 0);
  }
  {
    Run run;  // the limit spans files: the second file's first line would pass it
    REQUIRE(run.load("customer_id,order_date,amount\na,2024-01-01,500000000000000\n")["ok"]);
    json f = run.load("customer_id,order_date,amount\nb,2024-01-02,500000000000000\n");
    REQUIRE_FALSE(f["ok"]);
    CHECK(f["error"]["code"] == "too_large");
    CHECK(f["error"]["line"] == 2);
    CHECK(metric(run.analyze(), "revenue") == Approx(500000000000000.0));
  }
  {
    Run run;  // refunds count towards the limit too
    json f = run.load("customer_id,order_date,amount,refunded_amount\na,2024-01-01,500000000000000,500000000000000\n");
    REQUIRE_FALSE(f["ok"]);
    CHECK(f["error"]["code"] == "too_large");
  }
  {
    Run run;  // quantity × unit price past 9 × 10^14 is a rejected cell, not a wrapped number
    json f = run.load("customer_id,order_date,quantity,unit_price\na,2024-01-01,1000000,1000000000000\nb,2024-01-02,2,3.5\n");
    REQUIRE(f["ok"]);
    CHECK(f["file"]["rows_rejected"] == 1);
    CHECK(count_of(f["file"], "rejected", "quantity × unit price over 9 × 10^14 (column 4 \"unit_price\")") == 1);
    CHECK(metric(run.analyze(), "revenue") == Approx(7.0));
  }
  {
    Run run;  // nine amounts of 10^14 sum exactly to 9 × 10^14
    std::string csv = "customer_id,order_date,amount\n";
    for (int i = 0; i < 9; ++i) csv += "a,2024-01-0" + std::to_string(i + 1) + ",100000000000000.0001\n";
    REQUIRE(run.load(csv)["ok"]);
    json r = run.analyze();
    CHECK(metric(r, "revenue") == Approx(900000000000000.0009));
    CHECK(r["metrics"]["revenue"]["value"].get<double>() > 0);
  }
}

TEST_CASE("ambiguous dates among unambiguous ones are left out by line; a column of them asks for the order", "[overlap][dates]") {
  // mixed_dates.csv's shape: four ISO dates and one 03/10/2024.
  Run run;
  json f = run.load("customer_id,order_date,amount\na,2024-03-08,1\nb,2024-03-09,2\nc,03/10/2024,4\nd,2024-03-11,8\n"
                    "e,2024-03-12,16\n");
  REQUIRE(f["ok"]);
  CHECK(f["file"]["rows_used"] == 4);
  CHECK(lines_of(f["file"], "rejected", "order date could be day/month or month/day (column 2 \"order_date\")") ==
        std::vector<uint64_t>{4});
  bool warned = false;
  for (const auto& w : f["file"]["warnings"])
    if (w["code"] == "ambiguous_dates") {
      warned = true;
      CHECK(w["lines"] == json::array({4}));
      CHECK(w["message"].get<std::string>().find("1 date(s) in column 2 \"order_date\" could be day/month or "
                                                 "month/day (line 4); the other 4 dates do not settle it") == 0);
    }
  CHECK(warned);
  CHECK(metric(run.analyze(), "revenue") == Approx(27.0));
  // Half or more ambiguous: the file asks for the order, and says how many.
  Run run2;
  json g = run2.load("customer_id,order_date,amount\na,2024-03-08,1\nb,03/10/2024,2\nc,04/10/2024,4\n");
  REQUIRE_FALSE(g["ok"]);
  CHECK(g["error"]["code"] == "ambiguous_dates");
  CHECK(g["error"]["line"] == 3);
  CHECK(g["error"]["message"].get<std::string>().find("2 of the 3 dates in column 2 \"order_date\" could be") == 0);
}

TEST_CASE("an error message quoting a huge column name is cut at 4 KiB on a character boundary", "[overlap][errors]") {
  // 40,000 two-byte characters in one column name: the missing_column message lists the names.
  std::string name;
  for (int i = 0; i < 40000; ++i) name += "\xC3\xA9";  // é
  Run run;
  json f = run.load("x" + name + ",amount\n1,2\n", {{"name", "wide.csv"}});
  REQUIRE_FALSE(f["ok"]);
  CHECK(f["error"]["code"] == "missing_column");
  CHECK(f["error"]["file"] == "wide.csv");
  const std::string m = f["error"]["message"];
  CHECK(m.size() <= 4096 + 3);
  REQUIRE(m.size() > 3);
  CHECK(m.substr(m.size() - 3) == "\xE2\x80\xA6");  // …
  // Every character before the ellipsis is whole: é is C3 A9, so the cut never leaves a C3.
  const std::string body = m.substr(0, m.size() - 3);
  CHECK(static_cast<unsigned char>(body.back()) != 0xC3);
  CHECK(m.find("\xEF\xBF\xBD") == std::string::npos);  // no U+FFFD from a cut character
}
