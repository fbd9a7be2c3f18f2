// classify_columns: which table a file is, from its header alone (load "auto").
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "io/columns.h"
#include "support.h"

using custlens::classify_columns;
using custlens::Classification;

namespace {

Classification of(const std::vector<std::string>& header) { return classify_columns(header, true); }

}  // namespace

TEST_CASE("real headers: orders, customers and summaries are told apart", "[classify]") {
  // UCI Online Retail: 6 of its 8 columns are orders fields (StockCode and Country are not).
  Classification retail = of({"InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
                              "CustomerID", "Country"});
  CHECK(retail.table == "orders");
  CHECK(retail.score == Approx(6.0 / 8));
  CHECK(retail.reason.rfind("orders: 6 of 8 columns (order_id, customer_id, order_date, quantity, unit_price, product)", 0) == 0);
  // CDNOW master, as its header names it.
  CHECK(of({"customer_id", "date", "number_of_cds", "dollar_value"}).table == "orders");
  // IBM Telco: no order date, a customer id, tenure, charges and churn.
  Classification telco = of({"customerID", "gender", "SeniorCitizen", "Partner", "Dependents", "tenure",
                             "PhoneService", "MultipleLines", "InternetService", "OnlineSecurity", "OnlineBackup",
                             "DeviceProtection", "TechSupport", "StreamingTV", "StreamingMovies", "Contract",
                             "PaperlessBilling", "PaymentMethod", "MonthlyCharges", "TotalCharges", "Churn"});
  CHECK(telco.table == "customers");
  CHECK(telco.score == Approx(5.0 / 21));
  CHECK(telco.reason.find("orders: no order_date, amount") != std::string::npos);
  // lifetimes' summaries and Fader-Hardie's donations.
  CHECK(of({"ID", "x", "t_x", "T", "zbar"}).table == "btyd_summary");
  CHECK(of({"ID", "x", "t_x", "T", "zbar"}).score == 1.0);
  CHECK(of({"ID", "frequency", "recency", "T"}).table == "btyd_summary");
  CHECK(of({"frequency", "recency", "periods", "weights"}).table == "btyd_summary");
  // A help-desk activity log is none of them (yet): the reason says what each lacks.
  Classification desk = of({"CaseID", "ActivityID", "CompleteTimestamp"});
  CHECK(desk.table.empty());
  CHECK(desk.reason == "orders: no order_date, amount; customers: no customer_id; btyd_summary: no btyd_frequency, t_x, T");
}

TEST_CASE("classification: ties, quantity × price, no header, and the mapping", "[classify]") {
  // Quantity and unit price stand in for the amount.
  CHECK(of({"订单号", "下单时间", "数量", "单价"}).table == "orders");
  // Orders also have a customer column: orders claim more columns than customers do.
  CHECK(of({"customer_id", "order_date", "amount"}).table == "orders");
  CHECK(of({"customer_id", "order_date", "amount"}).score == 1.0);
  // A file without a header is read as orders.
  Classification none = classify_columns({"column_1", "column_2"}, false);
  CHECK(none.table == "orders");
  CHECK(none.reason.find("no header") != std::string::npos);
  // The mapping names the fields the header does not.
  CHECK(classify_columns({"a", "b", "c"}, true, {{"order_date", "a"}, {"amount", "c"}}).table == "orders");
  CHECK(classify_columns({"a", "b", "c"}, true, {{"customer_id", "b"}}).table == "customers");
  // The reader's overflow column is not one of the file's columns.
  CHECK(of({"customer_id", "order_date", "amount", "overflow"}).score == 1.0);
}

// ---- load("auto") through the engine ----

TEST_CASE("load auto: each real file goes to its table, whatever the chunking, as if the table was named", "[classify]") {
  struct Case {
    const char* file;
    const char* table;
  };
  for (const Case& c : {Case{"data/online-retail-dataset.csv.gz", "orders"}, Case{"data/Telco-Customer-Churn.csv.gz", "customers"},
                        Case{"data/cdnow_customers_summary_with_transactions.csv.gz", "btyd_summary"}}) {
    const std::string csv = custlens::test::shared_gz(c.file);
    custlens::test::EngineRun named;
    nlohmann::json want = named.load(csv, {{"name", "f.csv"}}, 1 << 20, c.table);
    REQUIRE(want["ok"]);
    for (size_t chunk : {size_t(1000), size_t(1) << 16, size_t(1) << 20, csv.size()}) {
      INFO(c.file << " in chunks of " << chunk);
      custlens::test::EngineRun run;
      nlohmann::json got = run.load(csv, {{"name", "f.csv"}}, chunk, "auto");
      REQUIRE(got["ok"]);
      const nlohmann::json& cl = got["file"]["classification"];
      CHECK(cl["table"] == c.table);
      CHECK(cl["profile"].is_null());
      CHECK(cl["score"].get<double>() > 0);
      CHECK(cl["reason"].get<std::string>().find(std::string(c.table) + ": ") != std::string::npos);
      // Everything else is the named load's report.
      nlohmann::json a = got["file"], b = want["file"];
      a.erase("classification"), b.erase("classification");
      CHECK(a == b);
    }
    CHECK(want["file"]["classification"]["score"].is_null());
    CHECK(want["file"]["classification"]["table"] == c.table);
  }
}

TEST_CASE("load auto: a file no table fits is refused with what each table lacks; tiny and empty files", "[classify]") {
  custlens::test::EngineRun run;
  nlohmann::json r = run.load(custlens::test::shared_gz("data/helpdesk.csv.gz"), {{"name", "helpdesk.csv"}}, 1 << 16, "auto");
  REQUIRE(r["ok"] == false);
  CHECK(r["error"]["code"] == "unrecognised_file");
  CHECK(r["error"]["file"] == "helpdesk.csv");
  CHECK(r["error"]["message"].get<std::string>().find("CaseID, ActivityID, CompleteTimestamp") != std::string::npos);
  CHECK(r["error"]["message"].get<std::string>().find("customers: no customer_id") != std::string::npos);
  // A file smaller than the reader's first look is classified when it ends.
  nlohmann::json small = run.load("order_id,customer_id,order_date,amount\n1,a,2024-01-05,10\n", {{"name", "s.csv"}}, 7, "auto");
  REQUIRE(small["ok"]);
  CHECK(small["file"]["classification"]["table"] == "orders");
  CHECK(small["file"]["classification"]["score"] == 1.0);
  CHECK(run.load("", {{"name", "e.csv"}}, 7, "auto")["error"]["code"] == "empty_file");
  // The mapping decides for headers no synonym knows.
  nlohmann::json mapped = run.load("a,b,c\nx,2024-01-05,10\n", {{"name", "m.csv"}, {"mapping", {{"order_date", "b"}, {"amount", "c"}}}},
                                   4096, "auto");
  REQUIRE(mapped["ok"]);
  CHECK(mapped["file"]["classification"]["table"] == "orders");
  nlohmann::json report = run.analyze();
  CHECK(report["metrics"]["revenue"]["value"] == 20.0);
  CHECK(report["data_quality"]["refused"].size() == 2);  // helpdesk.csv and e.csv
}

TEST_CASE("load auto: a mapping with fields of several tables; each table takes its own", "[classify]") {
  custlens::test::EngineRun run;
  const nlohmann::json mapping = {{"mapping", {{"order_date", "when"}, {"amount", "paid"}, {"signup_date", "joined"}}}};
  nlohmann::json orders = run.load("buyer,when,paid\na,2024-01-05,10\n", mapping, 4096, "auto");
  REQUIRE(orders["ok"]);
  CHECK(orders["file"]["classification"]["table"] == "orders");
  nlohmann::json customers = run.load("customer_id,joined\na,2023-05-01\n", mapping, 4096, "auto");
  REQUIRE(customers["ok"]);
  CHECK(customers["file"]["classification"]["table"] == "customers");
  bool signup = false;
  for (const auto& m : customers["file"]["mapping"]) signup |= m["field"] == "signup_date" && m["source"] == "option";
  CHECK(signup);
}
