// histories() / load_histories(): the models fitted apart from the files (the page's models
// worker) give what they give on the analysis itself, and bad bytes are refused by name.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "support.h"

using nlohmann::json;
using custlens::Engine;
using custlens::test::EngineRun;

namespace {

// Three customers: a repeat buyer with a return, a one-time buyer, an id with a comma and
// non-ASCII text; one guest row (no customer).
const char* kOrders =
    "order_id,customer_id,order_date,amount\n"
    "1,a,2024-01-05,100\n"
    "2,a,2024-02-10,50\n"
    "3,a,2024-02-10,25\n"
    "4,a,2024-03-01,-20\n"
    "5,\"b, Zoë\",2024-01-20,80\n"
    "6,c,2024-01-02,10\n"
    "7,c,2024-04-15,30\n"
    "8,c,2024-06-30,40\n"
    "9,,2024-05-01,60\n";

json parse(const std::string& s) { return json::parse(s); }

// The histories of kOrders as of 2024-07-01.
std::string small_histories() {
  EngineRun run;
  REQUIRE(run.load(kOrders)["ok"]);
  REQUIRE(run.analyze({{"asOf", "2024-07-01"}})["ok"]);
  return run.engine.histories();
}

}  // namespace

TEST_CASE("histories round-trip: the models on them equal the models on the analysis", "[histories]") {
  EngineRun run;
  REQUIRE(run.load(kOrders)["ok"]);
  REQUIRE(run.analyze({{"asOf", "2024-07-01"}})["ok"]);
  const std::string bytes = run.engine.histories();
  REQUIRE(bytes.rfind("CLHIST01", 0) == 0);
  const json options = {{"calibrationEnd", "none"}, {"top", 3}};
  json here = parse(run.engine.predict(options.dump()));

  Engine apart;
  REQUIRE(parse(apart.load_histories(bytes.data(), bytes.size()))["ok"]);
  json there = parse(apart.predict(options.dump()));
  CHECK(there == here);
  CHECK(parse(apart.predictions_json()) == parse(run.engine.predictions_json()));
  // The ids came along, text and all.
  json ids = parse(apart.predictions_json())["customer_id"];
  CHECK(ids == json::array({"a", "b, Zoë", "c"}));
  // ... and the details of the top lists: a's orders, spend (returns netted) and last purchase.
  for (const json& r : there["future"]["top_customers"])
    if (r["customer_id"] == "a") {
      CHECK(r["orders"] == 3);
      CHECK(r["total_spend"] == 155.0);
      CHECK(r["last_purchase"] == "2024-02-10");
      CHECK(r["recency_days"] == 142);
    }
  // Histories of histories are the same bytes.
  CHECK(apart.histories() == bytes);
  // An engine of histories has no files to analyze.
  json a = parse(apart.analyze("{}"));
  CHECK(a["error"]["code"] == "no_orders");
  // A file loaded afterwards replaces them.
  EngineRun again;
  REQUIRE(parse(again.engine.load_histories(bytes.data(), bytes.size()))["ok"]);
  REQUIRE(again.load("order_id,customer_id,order_date,amount\n1,z,2024-01-01,5\n")["ok"]);
  REQUIRE(again.analyze()["ok"]);
  CHECK(parse(again.engine.predict(options.dump()))["future"]["fit"]["customers"] == 1);
  CHECK(parse(again.engine.customers_json())["columns"]["customer_id"] == json::array({"z"}));
}

TEST_CASE("histories with the holdout split: the calibration check is the same apart", "[histories]") {
  // The CDNOW sample as the page predicts it (automatic split): every number equal.
  const std::string text = custlens::test::shared_gz("data/CDNOW_sample.txt.gz");
  EngineRun run;
  REQUIRE(run.load(text, {{"mapping", {{"customer_id", "2"}}}}, 1 << 20)["ok"]);
  REQUIRE(run.analyze({{"asOf", "1998-06-30"}})["ok"]);
  const std::string bytes = run.engine.histories();
  const json options = {{"calibrationEnd", "1997-09-30"}, {"top", 5}};
  json here = parse(run.engine.predict(options.dump()));
  Engine apart;
  REQUIRE(parse(apart.load_histories(bytes.data(), bytes.size()))["ok"]);
  json there = parse(apart.predict(options.dump()));
  CHECK(here["future"]["holdout"]["done"] == true);
  CHECK(here["future"]["fit"]["customers"] == 2357);
  CHECK(there == here);
  CHECK(parse(apart.predictions_json()) == parse(run.engine.predictions_json()));
}

TEST_CASE("predict() says where it is", "[histories]") {
  EngineRun run;
  REQUIRE(run.load(kOrders)["ok"]);
  REQUIRE(run.analyze({{"asOf", "2024-07-01"}})["ok"]);
  std::vector<std::string> steps;
  double last = -1;
  bool rising = true;
  run.engine.predict(R"({"calibrationEnd":"auto"})", [&](const char* step, const char* model, double done) {
    steps.push_back(std::string(step) + (*model ? ":" + std::string(model) : ""));
    rising = rising && done >= last && done < 1;
    last = done;
  });
  CHECK(rising);
  REQUIRE(steps.size() >= 4);
  CHECK(steps.front() == "fit:bg_nbd");
  CHECK(std::find(steps.begin(), steps.end(), "spend") != steps.end());
  CHECK(std::find(steps.begin(), steps.end(), "predict") != steps.end());
  CHECK(steps.back().rfind("holdout:", 0) == 0);
}

TEST_CASE("bad histories are refused with bad_histories, and the engine keeps what it had", "[histories]") {
  const std::string good = small_histories();

  Engine e;
  REQUIRE(parse(e.load_histories(good.data(), good.size()))["ok"]);
  auto refused = [&](std::string bytes, const char* why) {
    INFO(why);
    json r = parse(e.load_histories(bytes.data(), bytes.size()));
    CHECK(r["ok"] == false);
    CHECK(r["error"]["code"] == "bad_histories");
    return r["error"]["message"].get<std::string>();
  };
  refused("", "empty");
  refused("order_id,customer_id\n1,2\n", "a CSV file");
  refused(good.substr(0, good.size() - 1), "cut short by one byte");
  refused(good + "x", "a byte too many");
  std::string other = good;
  other[7] = '2';  // another format version
  CHECK(refused(other, "version 2").find("CLHIST01") != std::string::npos);
  // Header: first_date (offset 8), as_of (12), lapse_days (16), flags (20), customers (24),
  // days (32); then day_start (n + 1 uint32).
  std::string swapped = good;
  int32_t first, as_of;
  std::memcpy(&first, good.data() + 8, 4);
  std::memcpy(&as_of, good.data() + 12, 4);
  std::memcpy(swapped.data() + 8, &as_of, 4);
  std::memcpy(swapped.data() + 12, &first, 4);
  refused(swapped, "first date after as_of");
  std::string days = good;
  uint32_t wrong = 99;
  std::memcpy(days.data() + 56 + 4, &wrong, 4);  // customer 1's day count
  refused(days, "purchase days that do not add up");
  // Purchase days of customer 1 out of order: swap its first two days (after day_start's 4 entries).
  std::string order = good;
  const size_t day0 = 56 + 4 * 4;
  std::memcpy(order.data() + day0, good.data() + day0 + 4, 4);
  std::memcpy(order.data() + day0 + 4, good.data() + day0, 4);
  CHECK(refused(order, "days out of order").find("customer 1") != std::string::npos);
  // The good histories still stand.
  CHECK(parse(e.predict(R"({"calibrationEnd":"none"})"))["ok"] == true);
}

TEST_CASE("histories need an analysis, and keep the reason the models cannot run", "[histories]") {
  Engine e;
  json r = parse(e.histories());
  CHECK(r["error"]["code"] == "no_analysis");
  // Orders without a customer column: the histories say so, and predict() apart says why.
  EngineRun run;
  REQUIRE(run.load("order_id,order_date,amount\n1,2024-01-01,5\n2,2024-01-02,6\n")["ok"]);
  REQUIRE(run.analyze()["ok"]);
  std::string bytes = run.engine.histories();
  json here = parse(run.engine.predict("{}"));
  REQUIRE(parse(e.load_histories(bytes.data(), bytes.size()))["ok"]);
  json there = parse(e.predict("{}"));
  CHECK(there["error"]["code"] == "no_customers");
  CHECK(there["error"]["message"] == here["error"]["message"]);
}

TEST_CASE("histories whose days or amounts could not come from an analysis are refused", "[histories]") {
  const std::string good = small_histories();
  Engine e;
  auto code = [&](const std::string& bytes) { return parse(e.load_histories(bytes.data(), bytes.size()))["error"]["code"]; };
  std::string far = good;
  const int32_t before_1970 = -1, huge = INT32_MAX;  // as_of 5.9 million years on
  std::memcpy(far.data() + 8, &before_1970, 4);  // first_date 1969-12-31
  CHECK(code(far) == "bad_histories");
  far = good;
  std::memcpy(far.data() + 12, &huge, 4);  // as_of far in the future
  CHECK(code(far) == "bad_histories");
  // A purchase day worth INT64_MAX units beside another: the sum would not be exact.
  std::string rich = good;
  uint64_t days;
  std::memcpy(&days, good.data() + 32, 8);
  const size_t units = 56 + 4 * 4 + 4 * size_t(days);  // after day_start (n + 1 = 4) and the days
  const int64_t max = INT64_MAX;
  std::memcpy(rich.data() + units, &max, 8);
  CHECK(code(rich) == "bad_histories");
  CHECK(parse(e.load_histories(good.data(), good.size()))["ok"] == true);
}

TEST_CASE("histories of an analysis as of a far date, or with no customer, give what the analysis gives", "[histories]") {
  for (const char* as_of : {"2150-01-01", "2023-01-01"}) {  // long after the orders; before every order
    INFO("asOf " << as_of);
    EngineRun run;
    REQUIRE(run.load(kOrders)["ok"]);
    REQUIRE(run.analyze({{"asOf", as_of}})["ok"]);
    const std::string bytes = run.engine.histories();
    Engine apart;
    REQUIRE(parse(apart.load_histories(bytes.data(), bytes.size()))["ok"]);
    json here = parse(run.engine.predict(R"({"calibrationEnd":"none"})"));
    json there = parse(apart.predict(R"({"calibrationEnd":"none"})"));
    CHECK(there == here);
  }
}

TEST_CASE("a fit that finds no optimum stops at its evaluation budget", "[histories][models]") {
  // 40 customers that suit no model (fuzz/seeds/histories): Pareto/NBD used to wander a flat
  // ridge for 7,630 evaluations.
  const std::string bytes = custlens::test::project_file("fuzz/seeds/histories/forty-customers");
  Engine e;
  REQUIRE(parse(e.load_histories(bytes.data(), bytes.size()))["ok"]);
  json f = parse(e.predict(R"({"model":"pareto_nbd","calibrationEnd":"none"})"))["future"];
  CHECK(f["verdict"] == "does_not_fit");
  const json& pareto = f["fit_attempts"][0];
  CHECK(pareto["model"] == "pareto_nbd");
  CHECK(pareto["evaluations"].get<int>() <= 401);
  CHECK(pareto["reason"].get<std::string>().find("stopped after 400 evaluations") != std::string::npos);
}
