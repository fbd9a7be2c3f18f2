#include "api/engine.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "api/export.h"
#include "api/report.h"
#include "error.h"
#include "io/values.h"
#include "metrics/subscription.h"

namespace custlens {

using nlohmann::json;

namespace {

std::string ok(nlohmann::ordered_json j = nlohmann::ordered_json::object()) {
  j["ok"] = true;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A message quotes what the user gave (column names of up to 64 MiB, mapping texts): it is
// cut at 4 KiB, on a character boundary, with "…".
constexpr size_t kMaxMessageBytes = 4096;
std::string capped(const std::string& message) {
  if (message.size() <= kMaxMessageBytes) return message;
  size_t n = kMaxMessageBytes;
  while (n > 0 && (static_cast<unsigned char>(message[n]) & 0xC0) == 0x80) --n;  // not inside a character
  return message.substr(0, n) + "\u2026";
}

std::string fail(const std::string& code, const std::string& message, const std::string& table = "",
                 const std::string& file = "", uint64_t line = 0, uint32_t column = 0, int64_t byte = -1) {
  json e = {{"code", code}, {"message", capped(message)}};
  e["table"] = table.empty() ? json(nullptr) : json(table);
  e["file"] = file.empty() ? json(nullptr) : json(file);
  e["line"] = line ? json(line) : json(nullptr);
  e["column"] = column ? json(column) : json(nullptr);
  e["byte"] = byte >= 0 ? json(byte) : json(nullptr);
  // Never throws: a message quoting bytes that are not UTF-8 gets U+FFFD instead.
  return json{{"ok", false}, {"error", e}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

json parse_options(const std::string& s) {
  if (s.empty()) return json::object();
  json j = json::parse(s, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw InputError("bad_options", "Options must be a JSON object");
  return j;
}

// An option that is present must have the right type: a wrong one is an error, never ignored.
bool has(const json& j, const char* key, json::value_t type, const char* what) {
  if (!j.contains(key) || j[key].is_null()) return false;
  bool good = j[key].type() == type ||
              (type == json::value_t::number_integer &&
               (j[key].is_number_unsigned() || j[key].is_number_integer()));
  if (!good) throw InputError("bad_options", std::string(key) + " must be " + what);
  return true;
}

OrderLoadOptions load_options(const json& j) {
  OrderLoadOptions o;
  if (j.contains("mapping") && !j["mapping"].is_null()) {
    if (!j["mapping"].is_object())
      throw InputError("bad_options", "mapping must be an object {field: column}");
    for (auto& [field, column] : j["mapping"].items())
      o.mapping.push_back({field, column.is_null() ? "" : column.is_number() ? std::to_string(column.get<int>())
                                                                              : column.get<std::string>()});
  }
  if (has(j, "delimiter", json::value_t::string, "a string")) {
    std::string d = j["delimiter"].get<std::string>();
    if (d == "tab" || d == "\\t") d = "\t";
    if (d == "whitespace" || d == "space") d = " ";
    if (d.size() != 1) throw InputError("bad_options", "delimiter must be one character, \"tab\" or \"whitespace\"");
    o.csv.delimiter = uint8_t(d[0]);
  }
  if (has(j, "header", json::value_t::boolean, "true or false")) o.csv.header = j["header"].get<bool>() ? 1 : 0;
  if (has(j, "invalid", json::value_t::string, "\"error\" or \"replace\"")) {
    std::string v = j["invalid"];
    if (v != "error" && v != "replace") throw InputError("bad_options", "invalid must be \"error\" or \"replace\"");
    o.csv.replace_invalid = v == "replace";
  }
  if (has(j, "headerLine", json::value_t::number_integer, "a line number >= 1")) {
    if (j["headerLine"].get<int64_t>() < 1) throw InputError("bad_options", "headerLine must be a line number >= 1");
    o.csv.header_line = j["headerLine"].get<uint64_t>();
  }
  if (has(j, "quotes", json::value_t::string, "\"strict\" or \"lenient\"")) {
    std::string q = j["quotes"];
    if (q != "strict" && q != "lenient") throw InputError("bad_options", "quotes must be \"strict\" or \"lenient\"");
    o.csv.lenient_quotes = q == "lenient";
  }
  if (has(j, "escape", json::value_t::string, "\"double\" or \"backslash\"")) {
    std::string e = j["escape"];
    if (e != "double" && e != "backslash") throw InputError("bad_options", "escape must be \"double\" or \"backslash\"");
    o.csv.backslash_escape = e == "backslash";
  }
  if (has(j, "encoding", json::value_t::string, "a string")) {
    o.csv.encoding = j["encoding"].get<std::string>();
    for (char& c : o.csv.encoding) c = char(std::tolower(uint8_t(c)));
  }
  if (has(j, "dateOrder", json::value_t::string, "\"dmy\" or \"mdy\"")) {
    std::string d = j["dateOrder"];
    if (d == "dmy") o.date_order = DateOrder::dmy;
    else if (d == "mdy") o.date_order = DateOrder::mdy;
    else throw InputError("bad_options", "dateOrder must be \"dmy\" or \"mdy\"");
  }
  if (has(j, "decimalMark", json::value_t::string, "\"dot\" or \"comma\"")) {
    std::string d = j["decimalMark"];
    if (d == "dot" || d == ".") o.decimal_mark = DecimalMark::dot;
    else if (d == "comma" || d == ",") o.decimal_mark = DecimalMark::comma;
    else throw InputError("bad_options", "decimalMark must be \"dot\" or \"comma\"");
  }
  if (has(j, "amountIsNet", json::value_t::boolean, "true or false")) o.amount_is_net = j["amountIsNet"];
  if (has(j, "sizeHint", json::value_t::number_integer, "a whole number of bytes")) {
    if (j["sizeHint"].get<int64_t>() < 0) throw InputError("bad_options", "sizeHint must be a whole number of bytes");
    o.csv.size_hint = j["sizeHint"].get<uint64_t>();
  }
  return o;
}

int32_t parse_day_option(const std::string& s, const char* what) {
  RawDate r;
  int32_t day;
  if (!parse_date(s, r) || !resolve_date(r, DateOrder::unknown, day))
    throw InputError("bad_options", std::string(what) + " must be a date written YYYY-MM-DD, got \"" + s + "\"");
  return day;
}

AnalyzeOptions analyze_options(const json& j) {
  AnalyzeOptions o;
  if (has(j, "period", json::value_t::string, "month, quarter or year")) {
    std::string p = j["period"];
    if (p == "month") o.period = Granularity::month;
    else if (p == "quarter") o.period = Granularity::quarter;
    else if (p == "year") o.period = Granularity::year;
    else throw InputError("bad_options", "period must be month, quarter or year");
  }
  if (has(j, "asOf", json::value_t::string, "a date written YYYY-MM-DD")) o.as_of = parse_day_option(j["asOf"], "asOf");
  if (j.contains("lapseDays") && !j["lapseDays"].is_null()) {
    if (!j["lapseDays"].is_number_integer() || j["lapseDays"].get<int>() < 1)
      throw InputError("bad_options", "lapseDays must be a whole number of days >= 1");
    o.lapse_days = j["lapseDays"];
  }
  for (const char* key : {"excludeStatuses", "includeStatuses"}) {
    if (!j.contains(key) || j[key].is_null()) continue;
    if (!j[key].is_array()) throw InputError("bad_options", std::string(key) + " must be an array of status words");
    auto& dst = key[0] == 'e' ? o.exclude_statuses : o.include_statuses;
    for (auto& s : j[key]) dst.push_back(s.get<std::string>());
  }
  return o;
}

TimeUnit time_unit_option(const std::string& v, const char* key) {
  if (v == "days" || v == "day") return TimeUnit::days;
  if (v == "weeks" || v == "week") return TimeUnit::weeks;
  if (v == "months" || v == "month") return TimeUnit::months;
  throw InputError("bad_options", std::string(key) + " must be \"days\", \"weeks\" or \"months\"");
}

PredictOptions predict_options(const json& j, std::string& source) {
  PredictOptions o;
  if (has(j, "model", json::value_t::string, "\"bg_nbd\", \"mbg_nbd\" or \"pareto_nbd\"")) {
    std::string m = j["model"];
    if (m == "bg_nbd") o.model = models::Model::bg_nbd;
    else if (m == "mbg_nbd") o.model = models::Model::mbg_nbd;
    else if (m == "pareto_nbd") o.model = models::Model::pareto_nbd;
    else throw InputError("bad_options", "model must be \"bg_nbd\", \"mbg_nbd\" or \"pareto_nbd\"");
  }
  if (has(j, "timeUnit", json::value_t::string, "\"days\", \"weeks\" or \"months\""))
    o.unit = time_unit_option(j["timeUnit"], "timeUnit");
  if (has(j, "horizonMonths", json::value_t::number_integer, "a whole number of months")) {
    int64_t h = j["horizonMonths"].get<int64_t>();
    if (h < 1 || h > 600) throw InputError("bad_options", "horizonMonths must be a whole number of months from 1 to 600");
    o.horizon_months = int(h);
  }
  auto number = [&](const char* key) -> std::optional<double> {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    if (!j[key].is_number()) throw InputError("bad_options", std::string(key) + " must be a number");
    return j[key].get<double>();
  };
  if (auto m = number("margin")) o.margin = *m, o.margin_given = true;
  if (auto d = number("discountRate")) o.monthly_discount = *d;
  if (has(j, "top", json::value_t::number_integer, "a whole number")) {
    int64_t t = j["top"].get<int64_t>();
    if (t < 0 || t > 1000) throw InputError("bad_options", "top must be a whole number from 0 to 1000");
    o.top = int(t);
  }
  if (has(j, "calibrationEnd", json::value_t::string, "\"auto\", \"none\" or a date written YYYY-MM-DD")) {
    std::string c = j["calibrationEnd"];
    if (c == "auto") o.split = PredictOptions::Split::automatic;
    else if (c == "none") o.split = PredictOptions::Split::none;
    else o.split = PredictOptions::Split::day, o.calibration_end = parse_day_option(c, "calibrationEnd");
  }
  if (has(j, "source", json::value_t::string, "\"orders\" or \"btyd_summary\"")) {
    source = j["source"];
    if (source != "orders" && source != "btyd_summary")
      throw InputError("bad_options", "source must be \"orders\" or \"btyd_summary\"");
  }
  return o;
}

}  // namespace

Engine::Engine() = default;
Engine::~Engine() = default;

const char* Engine::version() { return "0.1.0"; }

template <class F>
std::string Engine::guarded(F&& f) {
  failed_ = true;  // until f() returns normally
  try {
    std::string r = f();
    failed_ = false;
    return r;
  } catch (const InputError& e) {
    return fail(e.code, e.what(), e.table.empty() ? loading_table_ : e.table,
                e.file.empty() ? loading_file_ : e.file, e.line, e.column, e.byte);
  } catch (const json::exception& e) {
    return fail("bad_options", std::string("Options are not valid: ") + e.what());
  } catch (const std::bad_alloc&) {
    // While a file loads, say which: the user can load fewer or smaller files.
    if (!loading_file_.empty())
      return fail("out_of_memory", "Out of memory while loading " + loading_file_ +
                                       ": the data is larger than this engine can hold",
                  loading_table_, loading_file_);
    return fail("out_of_memory", "Out of memory: the data is larger than this engine can hold");
  } catch (const std::exception& e) {
    return fail("internal", std::string("Internal error: ") + e.what());
  }
}

std::string Engine::begin_load(const std::string& table, const std::string& options_json) {
  std::string r = guarded([&] {
    if (loader_ || customers_loader_ || summary_loader_ || probe_)
      throw InputError("load_in_progress", "A load of \"" + loading_file_ + "\" is still in progress: end or abort it first");
    if (table != "orders" && table != "customers" && table != "btyd_summary" && table != "auto")
      throw InputError("unknown_table", "Unknown table \"" + table +
                                            "\": this version reads \"orders\", \"customers\" and \"btyd_summary\" "
                                            "(or \"auto\": the file's header says which)");
    json j = parse_options(options_json);
    const size_t files = table == "customers" ? customers_.files.size()
                         : table == "orders"  ? orders_.files.size()
                         : table == "auto"    ? size_t(auto_loaded_)
                                              : summaries_.files.size();
    std::string name = has(j, "name", json::value_t::string, "a string") ? j["name"].get<std::string>()
                                                                         : table + "#" + std::to_string(files + 1);
    // Errors in the options name the file they were for, and nothing stays half-begun.
    loading_table_ = table;
    loading_file_ = name;
    classification_.reset();
    if (table == "auto") {
      OrderLoadOptions o = load_options(j);  // checked now, used when the table is known
      if (j.contains("timeUnit")) time_unit_option(j["timeUnit"], "timeUnit");
      auto_options_ = options_json;
      probe_sink_ = std::make_unique<HeaderProbe>();
      probe_ = std::make_unique<CsvReader>(o.csv, *probe_sink_);
      probe_bytes_.clear();
      return ok();
    }
    begin_table(table, name, options_json);
    return ok();
  });
  if (failed_ && !loader_ && !customers_loader_ && !summary_loader_ && !probe_) {
    refuse(r);  // bad options for this file: it is refused too (a load in progress names no new file)
    loading_table_.clear(), loading_file_.clear();
  }
  return r;
}

void Engine::begin_table(const std::string& table, const std::string& name, const std::string& options_json) {
  json j = parse_options(options_json);
  OrderLoadOptions o = load_options(j);
  future_.reset();
  histories_.reset();  // files replace histories (load_histories)
  if (table == "btyd_summary") {  // the reading options, and the time unit of t_x and T
    summary_unit_given_ = has(j, "timeUnit", json::value_t::string, "\"days\", \"weeks\" or \"months\"");
    summary_unit_ = summary_unit_given_ ? time_unit_option(j["timeUnit"], "timeUnit") : TimeUnit::weeks;
    BtydSummaryLoadOptions b{std::move(o.mapping), o.csv, o.decimal_mark};
    summary_loader_ = std::make_unique<BtydSummaryLoader>(summaries_, name, std::move(b));
    return;
  }
  if (table == "customers") {  // the same reading options; amountIsNet does not apply
    CustomerLoadOptions c{std::move(o.mapping), o.csv, o.date_order, o.decimal_mark};
    customers_loader_ = std::make_unique<CustomersLoader>(customers_, name, std::move(c));
    last_.reset();
    return;
  }
  loader_ = std::make_unique<OrdersLoader>(orders_, name, std::move(o));
  last_.reset();
}

// The probe has the header: score it, start the table's loader and give it every byte so far.
void Engine::classify_and_begin() {
  json j = parse_options(auto_options_);
  std::vector<MappingOverride> mapping = load_options(j).mapping;
  Classification c = classify_columns(probe_sink_->columns, probe_sink_->has_header, mapping);
  if (c.table.empty()) {
    std::string cols;
    for (size_t i = 0; i < probe_sink_->columns.size() && i < 12; ++i)
      cols += (i ? ", " : "") + probe_sink_->columns[i];
    throw InputError("unrecognised_file",
                     "The columns (" + cols + ") match no table custlens reads: " + c.reason +
                         ". Orders need an order date and an amount, customers a customer id, btyd_summary "
                         "btyd_frequency, t_x and T: choose the table, or map the columns");
  }
  probe_.reset();
  probe_sink_.reset();
  loading_table_ = c.table;
  classification_ = c;
  // The mapping may name fields of several tables (one mapping for every file of a drop):
  // the chosen table takes its own.
  if (j.contains("mapping") && j["mapping"].is_object()) {
    json own = json::object();
    for (auto& [field, column] : j["mapping"].items())
      for (const FieldSpec& f : table_fields(c.table))
        if (field == f.field) own[field] = column;
    j["mapping"] = own;
  }
  begin_table(c.table, loading_file_, j.dump());
  std::string bytes = std::move(probe_bytes_);
  probe_bytes_.clear();
  if (loader_) loader_->feed(bytes.data(), bytes.size());
  if (customers_loader_) customers_loader_->feed(bytes.data(), bytes.size());
  if (summary_loader_) summary_loader_->feed(bytes.data(), bytes.size());
}

std::string Engine::feed(const char* data, size_t size) {
  std::string r = guarded([&] {
    if (probe_) {
      probe_bytes_.append(data, size);
      probe_->feed(data, size);
      if (probe_sink_->seen) classify_and_begin();
      return ok();
    }
    if (customers_loader_) {
      customers_loader_->feed(data, size);
      return ok();
    }
    if (summary_loader_) {
      summary_loader_->feed(data, size);
      return ok();
    }
    if (!loader_) throw InputError("no_load", "feed() without begin_load()");
    loader_->feed(data, size);
    return ok();
  });
  if (failed_) abort_load(r);  // a file that fails leaves nothing behind, and is listed as refused
  return r;
}

std::string Engine::end_load() {
  std::string r = guarded([&] {
    if (probe_) {  // a file shorter than the reader's look at its start
      probe_->finish();
      if (!probe_sink_->seen) throw InputError("empty_file", "The file has no header and no rows");
      classify_and_begin();
    }
    if (!loader_ && !customers_loader_ && !summary_loader_) throw InputError("no_load", "end_load() without begin_load()");
    nlohmann::ordered_json out;
    // How the table was chosen: by the header (auto), or by the caller.
    Classification chosen;
    if (classification_) {
      chosen = *classification_;
    } else {
      chosen.table = loading_table_;
      chosen.score = -1;
      chosen.reason = "the table was chosen when the file was loaded";
    }
    if (summary_loader_) {
      // Kept in days: files in different units can be fitted together.
      const size_t before = summaries_.size();
      FileReport f = summary_loader_->finish();
      const double days = time_unit_days(summary_unit_);
      for (size_t i = before; i < summaries_.size(); ++i) summaries_.t_x[i] *= days, summaries_.T[i] *= days;
      if (!summary_unit_given_)
        f.warnings.push_back({"time_unit_assumed",
                              "t_x and T were read as weeks (the unit of the published summaries): say timeUnit "
                              "(days, weeks or months) if the file counts in another unit",
                              0, {}});
      f.classification = chosen;
      out["file"] = file_report_json(f);
      out["file"]["time_unit"] = time_unit_name(summary_unit_);
      summaries_.files.back() = f;
    } else {
      customers_loader_ ? customers_loader_->finish() : loader_->finish();
      FileReport& f = customers_loader_ ? customers_.files.back() : orders_.files.back();
      f.classification = chosen;
      out["file"] = file_report_json(f);
    }
    if (classification_) ++auto_loaded_;
    classification_.reset();
    loader_.reset();
    customers_loader_.reset();
    summary_loader_.reset();
    // A good load of a file refused before (read again with other options, or as another
    // table) replaces it.
    refused_.erase(std::remove_if(refused_.begin(), refused_.end(), [&](const Refused& x) { return x.name == loading_file_; }),
                   refused_.end());
    loading_table_.clear();
    loading_file_.clear();
    return ok(out);
  });
  if (failed_) abort_load(r);
  return r;
}

// The failed file's error (as fail() writes it, or the client's) into data_quality.refused.
void Engine::refuse(const std::string& error_json) {
  if (loading_file_.empty()) return;
  json e = json::parse(error_json, nullptr, false);
  if (e.is_object() && e.contains("error")) e = e["error"];
  if (!e.is_object()) return;
  Refused r;
  r.name = loading_file_;
  r.table = loading_table_;
  r.code = e.value("code", std::string("internal"));
  r.reason = e.value("message", std::string());
  if (e.contains("line") && e["line"].is_number_unsigned()) r.line = e["line"].get<uint64_t>();
  if (e.contains("column") && e["column"].is_number_unsigned()) r.column = e["column"].get<uint32_t>();
  // One entry a file: the last reason (a file tried as orders, then as customers).
  refused_.erase(std::remove_if(refused_.begin(), refused_.end(), [&](const Refused& x) { return x.name == r.name; }),
                 refused_.end());
  refused_.push_back(std::move(r));
}

std::string Engine::abort_load(const std::string& error_json) {
  if (!error_json.empty()) refuse(error_json);
  if (loader_) loader_->rollback();
  if (customers_loader_) customers_loader_->rollback();
  if (summary_loader_) summary_loader_->rollback();
  probe_.reset();
  probe_sink_.reset();
  probe_bytes_.clear();
  classification_.reset();
  loader_.reset();
  customers_loader_.reset();
  summary_loader_.reset();
  loading_table_.clear();
  loading_file_.clear();
  return ok();
}

std::string Engine::analyze(const std::string& options_json) {
  return guarded([&] {
    if (loader_ || customers_loader_ || summary_loader_ || probe_)
      throw InputError("load_in_progress", "A load is still in progress: end it first");
    if (histories_)
      throw InputError("no_orders", "This engine holds customer histories only (loadHistories): predict() fits the "
                                    "models on them; analyze() needs the files");
    if (orders_.files.empty() && customers_.files.empty())
      throw InputError("no_orders", summaries_.files.empty() ? "Load an orders file (or a customers file) first"
                                                            : "A btyd_summary table alone has no orders to analyze: "
                                                              "call predict() to fit the models on it");
    future_.reset();
    AnalyzeOptions o = analyze_options(parse_options(options_json));
    // A customers table with signup and end dates is the customer base of the flow metrics
    // (subscription); otherwise the lapse window over purchases is (metrics/flow.h).
    std::optional<CustomerBase> subscription;
    if (customers_.has_subscription_dates()) subscription = subscription_base(subscription_spans(customers_));
    last_ = custlens::analyze(orders_, o, subscription ? &*subscription : nullptr);
    nlohmann::ordered_json r = report_json(orders_, *last_, version());
    if (!customers_.files.empty()) add_customers_report(r, customers_, !orders_.files.empty());
    // The files that could not be read, each with its reason; the others are analysed.
    nlohmann::ordered_json refused = nlohmann::ordered_json::array();
    for (const Refused& f : refused_)
      refused.push_back(nlohmann::ordered_json{{"name", f.name},
                         {"table", f.table},
                         {"reason", f.reason},
                         {"reason_code", f.code},
                         {"reason_params", nlohmann::ordered_json{{"line", f.line ? json(f.line) : json(nullptr)},
                                                                  {"column", f.column ? json(f.column) : json(nullptr)}}}});
    r["data_quality"]["refused"] = refused;
    r["ok"] = true;
    return r.dump(-1, ' ', false, json::error_handler_t::replace);
  });
}

std::string Engine::predict(const std::string& options_json, const Progress& progress) {
  return guarded([&] {
    if (loader_ || customers_loader_ || summary_loader_ || probe_)
      throw InputError("load_in_progress", "A load is still in progress: end it first");
    std::string source;
    PredictOptions o = predict_options(parse_options(options_json), source);
    if (source.empty()) source = last_ || histories_ || summaries_.files.empty() ? "orders" : "btyd_summary";
    future_.reset();
    // The orders' analysis, or histories loaded from one.
    const Analysis* base = histories_ ? &histories_->analysis : last_ ? &*last_ : nullptr;
    if (source == "orders") {
      if (orders_.files.empty() && !histories_)
        throw InputError("no_orders", "The models need an orders file with a customer column, or a btyd_summary file");
      if (!base) throw InputError("no_analysis", "Run analyze() first: the models use its customers");
      if (o.split == PredictOptions::Split::day && (o.calibration_end < base->first_date || o.calibration_end >= base->as_of))
        throw InputError("bad_options", "calibrationEnd must lie from the first date " + format_day(base->first_date) +
                                            " to the day before as_of " + format_day(base->as_of));
      future_ = custlens::predict(*base, o, progress);
    } else {
      if (summaries_.files.empty()) throw InputError("no_summary", "Load a btyd_summary file first");
      o.summary_unit = TimeUnit::days;  // the table keeps days (end_load converts)
      future_ = custlens::predict(summaries_, o, progress);
    }
    const FutureValue& f = *future_;
    auto details = [&](nlohmann::ordered_json& r, uint32_t i) {
      if (f.source == "orders") {
        const CustomerColumns& c = base->customers;
        r["orders"] = c.orders[i];
        r["total_spend"] = c.total_spend[i];
        r["last_purchase"] = format_day(c.last_purchase[i]);
        r["recency_days"] = c.recency_days[i];
      } else {
        r["btyd_frequency"] = summaries_.frequency[i];
        r["weight"] = summaries_.weight[i];
      }
    };
    nlohmann::ordered_json out = {{"future", future_json(f, [&](uint32_t i) { return prediction_row_id(i); }, details)}};
    return ok(out);
  });
}

std::string Engine::prediction_row_id(uint32_t i) const {
  if (!future_) return "";
  if (future_->source == "orders")
    return histories_ ? std::string(histories_->name(i)) : std::string(orders_.customer_name(last_->customers.ids[i]));
  std::string id(summaries_.name(i));
  return id.empty() ? "row " + std::to_string(i + 1) : id;
}

std::string Engine::histories() {
  if (!last_ && !histories_) return fail("no_analysis", "Run analyze() first: the histories are its customers'");
  // Guarded: two million customers' histories are a hundred megabytes.
  return guarded([&] {
    if (histories_) return encode_histories(histories_->analysis, [&](uint32_t i) { return histories_->name(i); });
    return encode_histories(*last_, [&](uint32_t i) { return orders_.customer_name(last_->customers.ids[i]); });
  });
}

std::string Engine::load_histories(const char* data, size_t size) {
  return guarded([&] {
    if (loader_ || customers_loader_ || summary_loader_ || probe_)
      throw InputError("load_in_progress", "A load is still in progress: end it first");
    Histories h = decode_histories(data, size);
    reset();
    histories_ = std::move(h);
    return ok();
  });
}

std::string Engine::predictions_json() const {
  if (!future_) return fail("no_prediction", "Run predict() first");
  const FutureValue& f = *future_;
  nlohmann::ordered_json j;
  nlohmann::ordered_json ids = nlohmann::ordered_json::array();
  for (uint32_t i = 0; i < f.p_alive.size(); ++i) ids.push_back(prediction_row_id(i));
  j["customer_id"] = ids;
  auto put = [&](const char* name, const std::vector<double>& v) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (double x : v) a.push_back(std::isfinite(x) ? nlohmann::ordered_json(x) : nlohmann::ordered_json(nullptr));
    j[name] = a;
  };
  put("p_alive", f.p_alive);
  put("expected_purchases", f.expected_purchases);
  put("expected_order_value", f.expected_order_value);
  put("clv_predicted", f.clv);
  put("value_at_risk", f.value_at_risk);
  if (!f.churn_risk.empty()) {
    j["churn_risk"] = f.churn_risk;
    put("churn_risk_model", f.risk_model);
    put("churn_risk_rhythm", f.risk_rhythm);
    put("churn_risk_decline", f.risk_decline);
  }
  if (!f.t_x.empty()) put("t_x", f.t_x), put("T", f.T);
  if (!f.holdout_actual.empty()) {
    put("frequency_cal", f.cal_frequency);
    put("t_x_cal", f.cal_t_x);
    put("T_cal", f.cal_T);
    put("monetary_cal", f.cal_monetary);
    put("frequency_holdout", f.holdout_actual);
    put("predicted_holdout", f.holdout_predicted);
  }
  j["ok"] = true;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Engine::customers_json() const {
  if (!last_) return fail("no_analysis", "Run analyze() first");
  nlohmann::ordered_json j = customer_columns_json(orders_, last_->customers);
  j["ok"] = true;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Engine::customers_csv() {
  if (!last_) return fail("no_analysis", "Run analyze() first");
  // Guarded: a million customers' text can run out of memory.
  return guarded([&] { return custlens::customers_csv(orders_, last_->customers); });
}

std::string Engine::reset() {
  abort_load();
  orders_ = OrdersTable();
  customers_ = CustomersTable();
  summaries_ = BtydSummaryTable();
  refused_.clear();
  last_.reset();
  histories_.reset();
  future_.reset();
  return ok();
}

}  // namespace custlens
