// The whole engine on arbitrary bytes: begin_load / feed / end_load / analyze through the
// Engine facade, as the boundary calls it. Exercises the order rules, date-order and
// decimal-mark resolution, duplicate detection and every metric.
//
// Findings: a sanitizer report; an exception escaping the facade; an error whose code says
// the engine itself is wrong ("internal", "internal_accounting"); a report breaking
// read = used + rejected + skipped; a chunked load answering differently from a whole one.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/engine.h"
#include "fuzz_util.h"

namespace {

namespace fuzz = custlens::fuzz;
using nlohmann::json;

// Option sets picked by the input's last byte; most inputs get the defaults.
const char* const kLoadOptions[] = {
    R"({"name":"f.csv"})",
    R"({"name":"f.csv","dateOrder":"dmy"})",
    R"({"name":"f.csv","dateOrder":"mdy","decimalMark":"comma"})",
    R"({"name":"f.csv","header":false})",
    R"({"name":"f.csv","amountIsNet":true,"decimalMark":"dot"})",
};
const char* const kAnalyzeOptions[] = {
    R"({})",
    R"({"period":"quarter","lapseDays":30})",
    R"({"period":"year","asOf":"2011-12-31","excludeStatuses":["cancelled"]})",
};

json parse_reply(const std::string& s, const char* call) {
  json j = json::parse(s, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok")) fuzz::fail("reply is not a JSON object with ok", std::string(call) + ": " + s);
  if (!j["ok"].get<bool>()) {
    const json& e = j["error"];
    const std::string code = e.value("code", "");
    if (code.empty() || code.rfind("internal", 0) == 0 || code == "bad_options")
      fuzz::fail("engine error that is the engine's fault", std::string(call) + ": " + s);
  }
  return j;
}

void check_file_report(const json& f, const std::string& raw) {
  const uint64_t read = f["rows_read"], used = f["rows_used"], rejected = f["rows_rejected"], skipped = f["rows_skipped"];
  if (read != used + rejected + skipped) fuzz::fail("rows_read != rows_used + rows_rejected + rows_skipped", raw);
}

// Loads the bytes cut at `cuts`, then analyzes; returns every reply, in order.
std::string run(const uint8_t* data, size_t n, const std::vector<size_t>& cuts, const char* load_opt,
                const char* analyze_opt, bool exports, bool overlap) {
  custlens::Engine engine;
  std::string log;
  std::string r = engine.begin_load("orders", load_opt);
  parse_reply(r, "begin_load");
  log += r + "\n";
  const char* p = reinterpret_cast<const char*>(data);
  size_t at = 0;
  bool ok = true;
  auto feed = [&](size_t len) {
    if (!ok) return;
    std::string fr = engine.feed(p + at, len);
    at += len;
    if (!parse_reply(fr, "feed")["ok"]) {
      ok = false;
      log += fr + "\n";  // the error; what came before it differs between chunkings only in "ok"s
    }
  };
  for (size_t c : cuts) feed(c - at);
  feed(n - at);
  if (ok) {
    r = engine.end_load();
    json j = parse_reply(r, "end_load");
    log += r + "\n";
    ok = j["ok"];
    if (ok) check_file_report(j["file"], r);
  }
  if (ok && overlap) {
    // The same bytes again as a second export: every row overlaps the first file's (input-rules.md,
    // "Overlapping exports"), and the sums of both must stay within the money limit or fail cleanly.
    parse_reply(engine.begin_load("orders", load_opt), "begin_load (second file)");
    json j = parse_reply(engine.feed(p, n), "feed (second file)");
    if (j["ok"]) {
      r = engine.end_load();
      j = parse_reply(r, "end_load (second file)");
      log += r + "\n";
      if (j["ok"]) check_file_report(j["file"], r);
    } else {
      log += j.dump() + "\n";
    }
  }
  if (!ok) {
    // The failed file left nothing behind: analyze must say so, not crash.
    r = engine.analyze(analyze_opt);
    json j = parse_reply(r, "analyze after a failed load");
    if (j["ok"]) fuzz::fail("analyze succeeded with no file loaded", r);
    return log;
  }
  r = engine.analyze(analyze_opt);
  json a = parse_reply(r, "analyze");
  log += r + "\n";
  if (a["ok"]) {
    const json& dq = a["data_quality"]["tables"]["orders"];
    check_file_report(dq, r);
    if (exports) {
      parse_reply(engine.customers_json(), "customers_json");
      std::string csv = engine.customers_csv();
      if (!csv.empty() && csv[0] == '{') parse_reply(csv, "customers_csv");
    }
  }
  return log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t pick = size ? data[size - 1] : 0;
  const char* load_opt = pick % 8 < 5 ? kLoadOptions[pick % 8] : kLoadOptions[0];
  const char* analyze_opt = kAnalyzeOptions[(pick / 8) % 3];
  const bool overlap = (pick / 24) % 2 == 1;  // loaded twice, as two overlapping exports
  const std::string whole = run(data, size, {}, load_opt, analyze_opt, false, overlap);
  const std::vector<size_t> cuts = fuzz::cuts_for(data, size);
  const std::string chunked = run(data, size, cuts, load_opt, analyze_opt, true, overlap);
  if (chunked != whole) {
    std::string where;
    for (size_t c : cuts) where += std::to_string(c) + " ";
    fuzz::fail("chunked load differs from the whole-file load",
               std::string("options ") + load_opt + " " + analyze_opt + "\ncuts: " + where + "\n--- whole\n" + whole +
                   "--- chunked\n" + chunked);
  }
  return 0;
}
