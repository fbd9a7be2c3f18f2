// Bad-input rows through the whole engine (load options as JSON, the report's format and
// warnings), where test_csv_reader.cpp checks the reader alone.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "api/engine.h"
#include "support.h"

using nlohmann::json;

namespace {

std::string encoding_file(const std::string& name) {
  return custlens::test::project_file("tests/data/encoding/" + name);
}

// Fed in chunks of 7 bytes: multi-byte characters cross every kind of boundary.
struct Run : custlens::test::EngineRun {
  json load(const std::string& csv, const json& options = json::object()) { return EngineRun::load(csv, options, 7); }
};

json metrics(const json& report) {
  json m;
  for (auto& [id, v] : report["metrics"].items()) m[id] = v["value"];
  return m;
}

}  // namespace

TEST_CASE("bad-input row 5: a GBK shop export gives the numbers of its UTF-8 twin, with no options", "[matrix][engine]") {
  Run gbk, utf8;
  json g = gbk.load(encoding_file("cn_shop_orders.gbk.csv"));
  json u = utf8.load(encoding_file("cn_shop_orders.utf8.csv"));
  REQUIRE(g["ok"]);
  REQUIRE(u["ok"]);
  CHECK(g["file"]["format"]["encoding"] == "GB18030 (detected)");
  CHECK(g["file"]["format"]["preview"][1] == "T2024082001,张伟,2024年8月20日,\"￥1,234.50\",交易成功");
  CHECK(g["file"]["mapping"] == u["file"]["mapping"]);
  json rg = gbk.analyze(), ru = utf8.analyze();
  CHECK(metrics(rg) == metrics(ru));
  CHECK(metrics(rg)["revenue"].get<double>() == Approx(5040.9));
  CHECK(metrics(rg)["orders"] == 7);    // 交易关闭 is not a sale
  CHECK(metrics(rg)["customers"] == 4);
  CHECK(rg["period"]["first_date"] == "2024-08-20");
}

TEST_CASE("bad-input rows 3, 9, 17, 19, 24: the reading choices as load options", "[matrix][engine]") {
  const std::string head = "order_id,customer_id,order_date,amount\n";
  // Row 3: one bad byte; strict names line and column, replace counts it.
  std::string bad = head + "1,ann\xFF,2024-01-05,10\n2,bob,2024-01-06,20\n";
  Run strict;
  json e = strict.load(bad);
  REQUIRE_FALSE(e["ok"]);
  CHECK(e["error"]["code"] == "invalid_utf8");
  CHECK(e["error"]["line"] == 2);
  CHECK(e["error"]["column"] == 2);
  Run replace;
  json r = replace.load(bad, {{"invalid", "replace"}});
  REQUIRE(r["ok"]);
  bool warned = false;
  for (auto& w : r["file"]["warnings"]) warned |= w["code"] == "replaced_invalid_bytes" && w["count"] == 1;
  CHECK(warned);
  CHECK(r["file"]["rows_used"] == 2);
  // Row 9: windows-1252 on request.
  Run cp;
  json c = cp.load(head + "1,Jos\xE9,2024-01-05,\x80" "5\n", {{"encoding", "windows-1252"}});
  REQUIRE(c["ok"]);
  CHECK(c["file"]["format"]["encoding"] == "windows-1252 (chosen)");
  // Rows 17 and 19: quoting dialects.
  Run lenient;
  REQUIRE(lenient.load(head + "1,\"ann \"the\" buyer\",2024-01-05,10\n", {{"quotes", "lenient"}})["ok"]);
  Run backslash;
  REQUIRE(backslash.load(head + "1,\"O\\\"Brien\",2024-01-05,10\n", {{"escape", "backslash"}})["ok"]);
  // Row 24: the header line named by the user.
  Run header;
  json h = header.load("Export 2024\nshop: x\n" + head + "1,ann,2024-01-05,10\n", {{"headerLine", 3}});
  REQUIRE(h["ok"]);
  CHECK(h["file"]["rows_used"] == 1);
  CHECK(h["file"]["rows_skipped"] == 2);
  CHECK(h["file"]["format"]["header_source"] == "option (line 3)");
  // Wrong values are refused, not guessed.
  Run opts;
  CHECK(opts.load(head, {{"quotes", "loose"}})["error"]["code"] == "bad_options");
  CHECK(opts.load(head, {{"escape", 1}})["error"]["code"] == "bad_options");
  CHECK(opts.load(head, {{"headerLine", 0}})["error"]["code"] == "bad_options");
  CHECK(opts.load(head, {{"invalid", "drop"}})["error"]["code"] == "bad_options");
  CHECK(opts.load(head + "1,a,2024-01-05,1\n", {{"encoding", "shift_jis"}})["error"]["code"] == "unsupported_encoding");
}

TEST_CASE("bad-input row 36: an order date centuries away is rejected, not a 1,000-year cohort table", "[matrix][engine]") {
  // The fuzzer's find: rows dated 0997-05-31 and 1998-05-28 made analyze() allocate cohort
  // tables for 12,000 months. Dates outside 1970-2099 are typos; they are rejected and counted.
  Run run;
  json f = run.load("order_id,customer_id,order_date,amount\n1,a,0997-05-31,5\n2,b,1998-05-28,7\n3,c,28/05/2150,9\n"
                    "4,d,12/06/1998,3\n");
  REQUIRE(f["ok"]);
  CHECK(f["file"]["rows_used"] == 2);
  CHECK(f["file"]["rows_rejected"] == 2);
  std::vector<int> lines;
  for (auto& r : f["file"]["rejected"])
    if (r["reason"].get<std::string>().rfind("order date outside 1970-2099", 0) == 0)
      for (auto& l : r["lines"]) lines.push_back(l);
  std::sort(lines.begin(), lines.end());
  CHECK(lines == std::vector<int>{2, 4});
  json r = run.analyze();
  CHECK(r["period"]["first_date"] == "1998-05-28");
  CHECK(r["metrics"]["orders"]["value"] == 2);
}

TEST_CASE("bad-input row 36: dates a century apart give a report of bounded size", "[matrix][engine]") {
  // The fuzzer's find: cohort matrices grow with the square of the span (1,560 months from
  // 1970 to 2099: millions of cells). Only the 120 most recent cohorts are listed.
  Run run;
  REQUIRE(run.load("order_id,customer_id,order_date,amount\n1,a,1970-01-05,5\n2,b,2099-12-01,7\n3,a,2099-12-02,1\n")["ok"]);
  std::string text = run.engine.analyze("{}");
  CHECK(text.size() < 5'000'000);  // the per-month series stay: linear in the span
  json r = json::parse(text);
  const json& m = r["cohorts"]["acquisition"];
  CHECK(m["size"].size() == 120);
  CHECK(m["months"].size() == 120);
  CHECK(m["months"].back() == "2099-12");
  CHECK(m["omitted_cohorts"] == 1560 - 120);
  CHECK(m["size"].back() == 1);  // b
  CHECK(r["cohorts"]["acquisition_quarter"]["size"].size() == 120);
  CHECK(r["metrics"]["customers"]["value"] == 2);
}

namespace {

const json* warning(const json& file, const std::string& code) {
  for (const auto& w : file["warnings"])
    if (w["code"] == code) return &w;
  return nullptr;
}

void check_rows_add_up(const json& file) {
  CHECK(file["rows_read"].get<uint64_t>() ==
        file["rows_used"].get<uint64_t>() + file["rows_rejected"].get<uint64_t>() + file["rows_skipped"].get<uint64_t>());
}

}  // namespace

TEST_CASE("bad-input row 21: an orders file with a longer row loads; the extras are in format.columns' overflow", "[matrix][engine]") {
  std::string csv = "order_id,customer_id,order_date,amount\n";
  for (int k = 1; k <= 300; ++k)
    csv += std::to_string(k) + ",c" + std::to_string(k % 17) + ",2024-01-" + (k % 28 < 9 ? "0" : "") +
           std::to_string(k % 28 + 1) + "," + (k == 150 ? "1,234.50" : "12.50") + "\n";
  for (size_t chunk : {size_t(1), size_t(7), size_t(4096), csv.size()}) {
    INFO("chunk " << chunk);
    custlens::test::EngineRun run;
    json r = run.load(csv, json::object(), chunk);
    REQUIRE(r["ok"]);
    const json& f = r["file"];
    CHECK(f["format"]["columns"] == json::array({"order_id", "customer_id", "order_date", "amount", "overflow"}));
    for (const auto& m : f["mapping"]) CHECK(m["column"] != "overflow");
    const json* w = warning(f, "overflow_rows");
    REQUIRE(w);
    CHECK((*w)["count"] == 1);
    CHECK((*w)["lines"] == json::array({151}));
    CHECK(f["rows_read"] == 300);
    CHECK(f["rows_used"] == 300);
    check_rows_add_up(f);
  }
  // Without a header the overflow column is never taken for the amount by its values.
  std::string headerless;
  for (int k = 0; k < 300; ++k)
    headerless += "C" + std::to_string(k % 7) + ",2024-01-" + (k % 28 < 9 ? "0" : "") + std::to_string(k % 28 + 1) + "," +
                  (k == 100 ? "12,345.50" : std::to_string(k) + ".50") + "\n";
  Run h;
  json hr = h.load(headerless);
  REQUIRE(hr["ok"]);
  CHECK(hr["file"]["format"]["columns"].back() == "overflow");
  for (const auto& m : hr["file"]["mapping"])
    if (m["field"] == "amount") CHECK(m["column"] == "column_3");
  CHECK(hr["file"]["rows_used"] == 300);
  check_rows_add_up(hr["file"]);
}

TEST_CASE("bad-input row 22: a trailing delimiter with values under it gives a named column, not ragged rows", "[matrix][engine]") {
  std::string csv = "order_id,customer_id,order_date,amount,\n1,a,2024-01-05,10,gift\n2,b,2024-01-06,20,\n"
                    "3,a,2024-01-07,5,gift\n4,c,2024-01-08,7,\n";
  Run run;
  json r = run.load(csv);
  REQUIRE(r["ok"]);
  const json& f = r["file"];
  CHECK(f["format"]["columns"] == json::array({"order_id", "customer_id", "order_date", "amount", "column_5"}));
  const json* w = warning(f, "unnamed_columns_kept");
  REQUIRE(w);
  CHECK((*w)["count"] == 2);
  CHECK((*w)["lines"] == json::array({2, 4}));
  CHECK(f["rows_used"] == 4);
  check_rows_add_up(f);
  CHECK(run.analyze()["metrics"]["revenue"]["value"].get<double>() == Approx(42));
}

TEST_CASE("bad-input row 1: a file of BOMs is empty_file, not a missing column with an invisible name", "[matrix][engine]") {
  for (const std::string& csv : {std::string("\xEF\xBB\xBF\xEF\xBB\xBF"), std::string("\xEF\xBB\xBF\xEF\xBB\xBF\xEF\xBB\xBF\n\n"),
                                 std::string("\xEF\xBB\xBF\r\n\xEF\xBB\xBF\r\n")}) {
    Run run;
    json r = run.load(csv);
    REQUIRE_FALSE(r["ok"]);
    CHECK(r["error"]["code"] == "empty_file");
  }
}

TEST_CASE("a refused file stands on its own: data_quality.refused names it, the others are analysed", "[bad-input][refused]") {
  custlens::test::EngineRun run;
  REQUIRE(run.load("order_id,customer_id,order_date,amount\n1,a,2024-01-05,10\n", {{"name", "good.csv"}})["ok"]);
  // Cut inside a quoted field: refused at its line.
  nlohmann::json bad = run.load("order_id,customer_id,order_date,amount\n2,b,2024-01-06,\"20\n", {{"name", "cut.csv"}});
  REQUIRE(bad["ok"] == false);
  // No amount column.
  REQUIRE(run.load("id,when\n1,2024-01-01\n", {{"name", "no-amount.csv"}})["ok"] == false);
  // Options that are not valid for this file.
  REQUIRE(run.load("order_id,order_date,amount\n1,2024-01-01,5\n", {{"name", "opts.csv"}, {"dateOrder", "ydm"}})["ok"] == false);
  nlohmann::json r = run.analyze();
  REQUIRE(r["ok"] == true);
  CHECK(r["metrics"]["revenue"]["value"] == 10.0);
  const nlohmann::json& refused = r["data_quality"]["refused"];
  REQUIRE(refused.size() == 3);
  CHECK(refused[0]["name"] == "cut.csv");
  CHECK(refused[0]["table"] == "orders");
  CHECK(refused[0]["reason_code"] == bad["error"]["code"]);
  CHECK(refused[0]["reason"] == bad["error"]["message"]);
  CHECK(refused[0]["reason_params"]["line"] == bad["error"]["line"]);
  CHECK(refused[1]["name"] == "no-amount.csv");
  CHECK(refused[1]["reason_code"] == "missing_column");
  CHECK(refused[2]["name"] == "opts.csv");
  CHECK(refused[2]["reason_code"] == "bad_options");
  // Read again with other options: no longer refused.
  REQUIRE(run.load("order_id,order_date,amount\n9,2024-01-01,5\n", {{"name", "opts.csv"}})["ok"]);
  r = run.analyze();
  REQUIRE(r["data_quality"]["refused"].size() == 2);
  CHECK(r["metrics"]["revenue"]["value"] == 15.0);
  // The client's own errors (gzip) are listed through abort_load(error).
  REQUIRE(nlohmann::json::parse(run.engine.begin_load("orders", R"({"name":"x.csv.gz"})"))["ok"]);
  run.engine.abort_load(R"({"code":"gzip_truncated","message":"cut short","line":7,"column":null})");
  r = run.analyze();
  REQUIRE(r["data_quality"]["refused"].size() == 3);
  CHECK(r["data_quality"]["refused"][2]["reason_code"] == "gzip_truncated");
  CHECK(r["data_quality"]["refused"][2]["reason_params"]["line"] == 7);
  // A plain abort (no error) is not a refusal; reset() forgets them all.
  REQUIRE(nlohmann::json::parse(run.engine.begin_load("orders", R"({"name":"y.csv"})"))["ok"]);
  run.engine.abort_load();
  CHECK(run.analyze()["data_quality"]["refused"].size() == 3);
  run.engine.reset();
  REQUIRE(run.load("order_id,order_date,amount\n1,2024-01-01,5\n")["ok"]);
  CHECK(run.analyze()["data_quality"]["refused"].empty());
}

TEST_CASE("a file refused as orders and again as customers is listed once, with the last reason", "[bad-input][refused]") {
  custlens::test::EngineRun run;
  REQUIRE(run.load("order_id,customer_id,order_date,amount\n1,a,2024-01-05,10\n", {{"name", "good.csv"}})["ok"]);
  REQUIRE(run.load("note,comment\nhello,world\n", {{"name", "notes.csv"}})["ok"] == false);
  nlohmann::json as_customers = run.load("note,comment\nhello,world\n", {{"name", "notes.csv"}}, 4096, "customers");
  REQUIRE(as_customers["ok"] == false);
  const nlohmann::json refused = run.analyze()["data_quality"]["refused"];
  REQUIRE(refused.size() == 1);
  CHECK(refused[0]["table"] == "customers");
  CHECK(refused[0]["reason"] == as_customers["error"]["message"]);
}
