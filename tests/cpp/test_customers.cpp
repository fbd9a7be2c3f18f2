// The customers table (metrics.md section 1) and what it gives alone (section 3:
// churned_share, and the flow metrics that need dates), through the Engine facade.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <string>

#include "api/engine.h"
#include "data/customers.h"
#include "metrics/subscription.h"

using nlohmann::json;
using custlens::Churned;
using custlens::kNoDay;
using custlens::kNoValue;

namespace {

struct Run {
  custlens::Engine engine;

  json load(const std::string& table, const std::string& csv, const json& options = json::object(),
            size_t chunk = 7) {
    json r = json::parse(engine.begin_load(table, options.dump()));
    if (!r["ok"]) return r;
    for (size_t off = 0; off < csv.size(); off += chunk) {
      r = json::parse(engine.feed(csv.data() + off, std::min(chunk, csv.size() - off)));
      if (!r["ok"]) return r;
    }
    return json::parse(engine.end_load());
  }
  json customers(const std::string& csv, const json& options = json::object(), size_t chunk = 7) {
    return load("customers", csv, options, chunk);
  }
  json analyze(const json& options = json::object()) { return json::parse(engine.analyze(options.dump())); }
  const custlens::CustomersTable& table() const { return engine.customers_table(); }
};

int32_t day(int y, int m, int d) { return custlens::days_from_civil(y, m, d); }

// The reasons in a file report's rejected (or skipped) list, as reason -> lines.
std::map<std::string, json> reasons(const json& list) {
  std::map<std::string, json> out;
  for (const auto& r : list) out[r["reason"].get<std::string>()] = r["lines"];
  return out;
}

bool has_warning(const json& file, const std::string& code) {
  for (const auto& w : file["warnings"])
    if (w["code"] == code) return true;
  return false;
}

void check_accounting(const json& f) {
  CHECK(f["rows_read"].get<uint64_t>() ==
        f["rows_used"].get<uint64_t>() + f["rows_rejected"].get<uint64_t>() + f["rows_skipped"].get<uint64_t>());
}

}  // namespace

TEST_CASE("a Telco-shaped snapshot: id, tenure, charges, Churn Yes/No", "[customers]") {
  Run run;
  json r = run.customers(
      "customerID,gender,SeniorCitizen,tenure,MonthlyCharges,TotalCharges,Churn\n"
      "7590-VHVEG,Female,0,1,29.85,29.85,No\n"
      "5575-GNVDE,Male,0,34,56.95,1889.5,No\n"
      "3668-QPYBK,Male,0,2,53.85,108.15,Yes\n"
      "4472-LVYGI,Female,0,0,52.55, ,No\n");
  REQUIRE(r["ok"]);
  const json& f = r["file"];
  CHECK(f["rows_read"] == 4);
  CHECK(f["rows_used"] == 4);
  check_accounting(f);
  std::map<std::string, std::string> mapping;
  for (const auto& m : f["mapping"]) mapping[m["field"]] = m["column"].is_null() ? "" : m["column"].get<std::string>();
  CHECK(mapping["customer_id"] == "customerID");
  CHECK(mapping["churned"] == "Churn");
  CHECK(mapping["tenure_months"] == "tenure");
  CHECK(mapping["monthly_charges"] == "MonthlyCharges");
  CHECK(mapping["total_charges"] == "TotalCharges");
  CHECK(mapping.count("signup_date") == 0);  // not in the file: not listed

  const auto& t = run.table();
  REQUIRE(t.size() == 4);
  CHECK(t.name(2) == "3668-QPYBK");
  CHECK(t.churned[2] == uint8_t(Churned::yes));
  CHECK(t.churned[0] == uint8_t(Churned::no));
  CHECK(t.tenure_months[1] == 34);
  CHECK(t.monthly_charges[1] == 569500);
  CHECK(t.total_charges[1] == 18895000);
  CHECK(t.total_charges[3] == kNoValue);  // Telco's " " for tenure 0: blank, not an error
  CHECK(t.signup_day[0] == kNoDay);
  CHECK_FALSE(t.has_subscription_dates());

  json rep = run.analyze();
  REQUIRE(rep["ok"]);
  const json& share = rep["metrics"]["churned_share"];
  CHECK(share["value"].get<double>() == Approx(0.25));
  CHECK(share["unit"] == "ratio");
  CHECK(share["inputs"]["churned_customers"] == 1);
  CHECK(share["inputs"]["customers"] == 4);
  for (const char* id : {"retention_rate", "churn_rate", "customers_start", "customers_end", "new_customers",
                         "net_customer_additions", "customer_growth_rate", "annual_churn_rate"}) {
    INFO(id);
    CHECK(rep["metrics"][id]["value"].is_null());
    CHECK(rep["metrics"][id]["reason"].get<std::string>().find("needs signup and end dates") != std::string::npos);
  }
  const json& dq = rep["data_quality"]["tables"]["customers"];
  CHECK(dq["rows_read"] == 4);
  CHECK(dq["rows_used"] == 4);
  CHECK(dq["customers"]["count"] == 4);
  CHECK(dq["customers"]["churned"]["yes"] == 1);
  CHECK(dq["customers"]["with_total_charges"] == 3);
  CHECK(dq["customers"]["with_signup_date"].is_null());  // no such column
  CHECK(dq["files"][0]["name"] == "customers#1");
}

TEST_CASE("Chinese headers: 会员编号, 注册时间, 流失日期, 是否流失 (是/否)", "[customers]") {
  Run run;
  json r = run.customers(
      "会员编号,注册时间,流失日期,是否流失\n"
      "M001,2024年1月5日,,否\n"
      "M002,2024-02-10,2024-05-01,是\n"
      "M003,2024/3/1,2024/3/20,是\n");
  REQUIRE(r["ok"]);
  check_accounting(r["file"]);
  const auto& t = run.table();
  REQUIRE(t.size() == 3);
  CHECK(t.signup_day[0] == day(2024, 1, 5));
  CHECK(t.end_day[0] == kNoDay);
  CHECK(t.churned[0] == uint8_t(Churned::no));
  CHECK(t.end_day[1] == day(2024, 5, 1));
  CHECK(t.churned[2] == uint8_t(Churned::yes));
  CHECK(t.has_subscription_dates());

  // With dates, the flow metrics are the flow module's: no placeholder here.
  json rep = run.analyze();
  REQUIRE(rep["ok"]);
  CHECK(rep["metrics"]["churned_share"]["value"].get<double>() == Approx(2.0 / 3));
  CHECK(rep["data_quality"]["tables"]["customers"]["customers"]["subscription_dates"] == true);
}

TEST_CASE("other header spellings: 客户ID, 开户日期, cancel_date, status words", "[customers]") {
  Run run;
  REQUIRE(run.customers("客户ID,开户日期,Cancel Date,Status\nc1,2023-01-01,,active\nc2,2023-02-01,2023-06-30,cancelled\n")["ok"]);
  const auto& t = run.table();
  CHECK(t.churned[0] == uint8_t(Churned::no));
  CHECK(t.churned[1] == uint8_t(Churned::yes));
  CHECK(t.end_day[1] == day(2023, 6, 30));
}

TEST_CASE("churned booleans: Yes/No, true/false, 1/0, Y/N, 是/否; blank and unknown words are counted", "[customers]") {
  CHECK(custlens::parse_churned("Yes") == Churned::yes);
  CHECK(custlens::parse_churned(" no ") == Churned::no);
  CHECK(custlens::parse_churned("TRUE") == Churned::yes);
  CHECK(custlens::parse_churned("false") == Churned::no);
  CHECK(custlens::parse_churned("1") == Churned::yes);
  CHECK(custlens::parse_churned("0") == Churned::no);
  CHECK(custlens::parse_churned("Y") == Churned::yes);
  CHECK(custlens::parse_churned("是") == Churned::yes);
  CHECK(custlens::parse_churned("否") == Churned::no);
  CHECK(custlens::parse_churned("已流失") == Churned::yes);
  CHECK(custlens::parse_churned("maybe") == Churned::unknown);

  Run run;
  json r = run.customers("id,churned\na,yes\nb,0\nc,\nd,maybe\ne,是\n");
  REQUIRE(r["ok"]);
  CHECK(r["file"]["rows_used"] == 5);  // an unknown flag does not drop the customer
  CHECK(has_warning(r["file"], "churned_blank"));
  CHECK(has_warning(r["file"], "churned_unreadable"));
  json rep = run.analyze();
  const json& share = rep["metrics"]["churned_share"];
  CHECK(share["value"].get<double>() == Approx(2.0 / 3));  // a and e of a, b, e
  CHECK(share["inputs"]["customers"] == 3);
  CHECK(share["inputs"]["customers_flag_unknown"] == 2);
}

TEST_CASE("the day/month order comes from both date columns of the file", "[customers]") {
  Run run;
  // 05/01 alone could be either; 25/02 in the end column settles day-first for the file.
  json r = run.customers("customer_id,signup_date,end_date\nc1,05/01/2024,\nc2,06/01/2024,25/02/2024\n");
  REQUIRE(r["ok"]);
  CHECK(r["file"]["format"]["date_order"] == "dmy");
  CHECK(r["file"]["format"]["date_order_source"].get<std::string>().find("line 3") != std::string::npos);
  CHECK(run.table().signup_day[0] == day(2024, 1, 5));
  CHECK(run.table().end_day[1] == day(2024, 2, 25));
}

TEST_CASE("dates that settle nothing are an error naming the line; dateOrder resolves it", "[customers]") {
  Run run;
  json r = run.customers("customer_id,signup_date\nc1,05/01/2024\nc2,06/02/2024\n");
  REQUIRE_FALSE(r["ok"]);
  CHECK(r["error"]["code"] == "ambiguous_dates");
  CHECK(r["error"]["line"] == 2);
  CHECK(r["error"]["table"] == "customers");
  CHECK(run.table().size() == 0);  // nothing stays behind
  r = run.customers("customer_id,signup_date\nc1,05/01/2024\nc2,06/02/2024\n", {{"dateOrder", "mdy"}});
  REQUIRE(r["ok"]);
  CHECK(run.table().signup_day[1] == day(2024, 6, 2));
}

TEST_CASE("bad dates are rejected with their lines; read = used + rejected + skipped", "[customers]") {
  Run run;
  json r = run.customers(
      "customer_id,signup_date,end_date\n"
      "c1,2024-01-05,\n"
      "c2,soon,\n"           // unreadable
      "c3,2024-02-30,\n"     // not a calendar date
      "c4,2024-03-01,2024-02-01\n"  // ends before it starts
      "c5,31/04/2024,\n"     // no 31 April in day-first order (decided by line 7)
      "c6,25/12/2023,\n"
      ",2024-01-01,\n"       // no id
      "\n"
      "c7,2024-01-01,2024-01-01\n");
  REQUIRE(r["ok"]);
  const json& f = r["file"];
  CHECK(f["rows_read"] == 9);  // the blank line is read (and skipped), the header is not
  CHECK(f["rows_used"] == 3);  // c1, c6, c7
  CHECK(f["rows_rejected"] == 5);
  CHECK(f["rows_skipped"] == 1);  // the blank line
  check_accounting(f);
  auto rej = reasons(f["rejected"]);
  CHECK(rej["signup date unreadable (column 2 \"signup_date\")"] == json::array({3}));
  CHECK(rej["signup date is not a calendar date (column 2 \"signup_date\")"] == json::array({4}));
  CHECK(rej["end date before signup date (column 3 \"end_date\")"] == json::array({5}));
  CHECK(rej["signup date is not a calendar date in dmy order (column 2 \"signup_date\")"] == json::array({6}));
  CHECK(rej["customer id missing (column 1 \"customer_id\")"] == json::array({8}));
  CHECK(run.table().size() == 3);
}

TEST_CASE("the same customer twice: the first row is kept, the others skipped and counted", "[customers]") {
  Run run;
  json r = run.customers("customer_id,churned\nc1,yes\nc2,no\nc1,yes\nc1,no\n");
  REQUIRE(r["ok"]);
  const json& f = r["file"];
  CHECK(f["rows_used"] == 2);
  CHECK(f["rows_skipped"] == 2);
  check_accounting(f);
  auto sk = reasons(f["skipped"]);
  CHECK(sk["duplicate customer id (an earlier row of the file has it; the first row is kept)"] == json::array({4, 5}));
  bool found = false;
  for (const auto& w : f["warnings"])
    if (w["code"] == "duplicate_customers") {
      found = true;
      CHECK(w["count"] == 2);
      CHECK(w["message"].get<std::string>().find("1 of them differ") != std::string::npos);
    }
  CHECK(found);
  CHECK(run.table().churned[0] == uint8_t(Churned::yes));  // the first row's flag

  // A second file: customers already loaded are skipped; new ones appended.
  r = run.customers("customer_id,churned\nc2,yes\nc3,no\n", {{"name", "more.csv"}});
  REQUIRE(r["ok"]);
  CHECK(r["file"]["rows_used"] == 1);
  CHECK(reasons(r["file"]["skipped"])["customer id already loaded from an earlier file (the first row is kept)"] ==
        json::array({2}));
  CHECK(run.table().size() == 3);
  CHECK(run.table().name(2) == "c3");
  CHECK(run.table().find("c3") == 2);
  json rep = run.analyze();
  CHECK(rep["data_quality"]["tables"]["customers"]["files"].size() == 2);
  CHECK(rep["data_quality"]["tables"]["customers"]["rows_read"] == 6);
}

TEST_CASE("ids match by their normalised key: fullwidth and invisible characters", "[customers]") {
  Run run;
  json r = run.customers("customer_id\nＣ００１\nC001\nC\xE2\x80\x8B" "002\n");
  REQUIRE(r["ok"]);
  CHECK(r["file"]["rows_used"] == 2);
  CHECK(run.table().name(0) == "Ｃ００１");  // as first written
  CHECK(run.table().find("C001") == 0);
  CHECK(run.table().find("C002") == 1);
  CHECK(has_warning(r["file"], "invisible_characters_in_ids"));
}

TEST_CASE("a file that fails leaves the table as it was", "[customers]") {
  Run run;
  REQUIRE(run.customers("customer_id,signup_date\nc1,2024-01-01\n")["ok"]);
  json r = run.customers("customer_id,signup_date\nc2,13/01/2024\nc3,01/13/2024\n");
  REQUIRE_FALSE(r["ok"]);
  CHECK(r["error"]["code"] == "contradictory_dates");
  CHECK(run.table().size() == 1);
  CHECK(run.table().files.size() == 1);
  // Aborted by hand mid-file: the same.
  REQUIRE(json::parse(run.engine.begin_load("customers", "{}"))["ok"]);
  std::string part = "customer_id\nc9\n";
  REQUIRE(json::parse(run.engine.feed(part.data(), part.size()))["ok"]);
  REQUIRE(json::parse(run.engine.abort_load())["ok"]);
  CHECK(run.table().size() == 1);
  REQUIRE(run.customers("customer_id\nc2\n")["ok"]);
  CHECK(run.table().size() == 2);
}

TEST_CASE("a customers file needs a customer id column", "[customers]") {
  Run run;
  json r = run.customers("name,signup_date\nAnn,2024-01-01\n");
  REQUIRE_FALSE(r["ok"]);
  CHECK(r["error"]["code"] == "missing_column");
  r = run.customers("name,signup_date\nAnn,2024-01-01\n", {{"mapping", {{"customer_id", "name"}}}});
  REQUIRE(r["ok"]);
  CHECK(run.table().name(0) == "Ann");
  CHECK(has_warning(r["file"], "no_subscription_columns") == false);
}

TEST_CASE("unknown tables are refused; orders and customers load side by side", "[customers]") {
  Run run;
  json r = json::parse(run.engine.begin_load("surveys", "{}"));
  CHECK(r["error"]["code"] == "unknown_table");
  REQUIRE(run.load("orders", "customer_id,order_date,amount\nc1,2024-01-05,10\nc2,2024-02-05,20\n")["ok"]);
  REQUIRE(run.customers("customer_id,churned\nc1,no\nc2,yes\n")["ok"]);
  json rep = run.analyze();
  REQUIRE(rep["ok"]);
  CHECK(rep["metrics"]["revenue"]["value"] == 30);
  CHECK(rep["metrics"]["churned_share"]["value"] == 0.5);
  CHECK(rep["data_quality"]["tables"]["orders"]["rows_used"] == 2);
  CHECK(rep["data_quality"]["tables"]["customers"]["rows_used"] == 2);
  // With orders, the customer flow is transactional: no "needs dates" placeholder from here.
  if (rep["metrics"].contains("retention_rate") && rep["metrics"]["retention_rate"].contains("reason"))
    CHECK(rep["metrics"]["retention_rate"]["reason"].get<std::string>().find("needs signup and end dates") ==
          std::string::npos);
}

TEST_CASE("subscription spans: in base on [signup, end), acquired at signup", "[customers][flow]") {
  Run run;
  REQUIRE(run.customers(
              "customer_id,signup_date,end_date,churned\n"
              "a,2024-01-10,2024-03-01,yes\n"
              "b,2024-02-01,,no\n"
              "c,,2024-02-01,yes\n"   // no signup: cannot be placed
              "d,2024-01-15,,yes\n"   // churned, but when?
              "e,2024-02-05,2024-02-05,yes\n")["ok"]);
  custlens::SubscriptionSpans s = custlens::subscription_spans(run.table());
  REQUIRE(s.size() == 3);
  CHECK(s.customer == std::vector<uint32_t>{0, 1, 4});
  CHECK(s.start[0] == day(2024, 1, 10));
  CHECK(s.end[0] == day(2024, 3, 1));
  CHECK(s.end[1] == custlens::kOpenEnd);
  CHECK(s.without_signup == 1);
  CHECK(s.churned_without_end == 1);
  CHECK(s.first_day == day(2024, 1, 10));
  CHECK(s.last_day == day(2024, 3, 1));
  custlens::CustomerBase base = custlens::subscription_base(s);
  REQUIRE(base.size() == 3);
  CHECK(base.acquired(0) == day(2024, 1, 10));
  CHECK(base.in_base(0, day(2024, 2, 29)));
  CHECK_FALSE(base.in_base(0, day(2024, 3, 1)));
  CHECK(base.in_base(1, day(2030, 1, 1)));
  CHECK_FALSE(base.in_base(2, day(2024, 2, 5)));  // ended the day it started
}

// IBM's Telco file (metrics.md section 3: 1,869 / 7,043 = 26.5%), read through gzip -dc: the
// native tests have no zlib. tests/js/customers.test.mjs reads the .gz through the package.
TEST_CASE("Telco: churned_share = 1,869 / 7,043", "[customers][data]") {
  std::string path = std::string(CUSTLENS_SHARED_DIR) + "/data/Telco-Customer-Churn.csv.gz";
  FILE* p = popen(("gzip -dc '" + path + "' 2>/dev/null").c_str(), "r");
  REQUIRE(p);
  std::string csv;
  char buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) csv.append(buf, n);
  int status = pclose(p);
  if (status != 0 || csv.empty()) {
    WARN("gzip or the Telco file is not available: skipped");
    return;
  }
  Run run;
  json r = run.customers(csv, {{"name", "Telco-Customer-Churn.csv"}}, 65536);
  REQUIRE(r["ok"]);
  CHECK(r["file"]["rows_read"] == 7043);
  CHECK(r["file"]["rows_used"] == 7043);
  json rep = run.analyze();
  const json& share = rep["metrics"]["churned_share"];
  CHECK(share["inputs"]["churned_customers"] == 1869);
  CHECK(share["inputs"]["customers"] == 7043);
  CHECK(share["value"].get<double>() == 1869.0 / 7043.0);
  CHECK(rep["data_quality"]["tables"]["customers"]["customers"]["with_total_charges"] == 7032);
  CHECK(rep["metrics"]["retention_rate"]["value"].is_null());
}
