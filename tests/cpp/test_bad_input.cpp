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
