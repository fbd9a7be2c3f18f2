// The engine facade: the few entry points the boundary exposes. JSON in, JSON out; the
// only place that catches. Every call returns {"ok": true, ...} or
// {"ok": false, "error": {"code", "message", "table", "file", "line", "column", "byte"}}.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "api/histories.h"
#include "data/btyd_summary.h"
#include "data/customers.h"
#include "data/orders.h"
#include "metrics/analysis.h"
#include "models/future.h"

namespace custlens {

class Engine {
 public:
  Engine();
  ~Engine();

  /// Starts loading one file into `table` ("orders", "customers" or "btyd_summary"), or
  /// "auto": the file's header is scored against every table (io/columns.h classify_columns)
  /// once the reader has seen it, and the file loads into the table that fits (the file
  /// report's `classification` says which and why). Options (all optional):
  /// {"name": "file.csv", "mapping": {"customer_id": "CustomerID"}, "delimiter": ";",
  ///  "header": true, "encoding": "utf-8", "dateOrder": "dmy", "decimalMark": "comma",
  ///  "amountIsNet": false}
  std::string begin_load(const std::string& table, const std::string& options_json);
  /// Feeds the next chunk of the file's bytes (any size).
  std::string feed(const char* data, size_t size);
  /// Ends the file; returns {"ok": true, "file": {...data quality of this file...}}.
  std::string end_load();
  /// Drops a load in progress (its rows are removed). `error_json`, when the caller gives
  /// the error that stopped the file ({"code", "message", "line", "column"}: the JS client's
  /// gzip errors), lists the file in data_quality.refused as the engine's own failures are.
  std::string abort_load(const std::string& error_json = "");
  /// Computes the report. Options: {"period": "month"|"quarter"|"year",
  /// "asOf": "YYYY-MM-DD", "lapseDays": 180, "excludeStatuses": [], "includeStatuses": []}.
  std::string analyze(const std::string& options_json);
  /// Fits the repeat-purchase and spend models and predicts (models/future.h); returns
  /// {"ok": true, "future": {...}}. Options: {"model": "bg_nbd"|"mbg_nbd"|"pareto_nbd",
  /// "timeUnit": "days"|"weeks"|"months", "horizonMonths": 12, "margin": 1,
  /// "discountRate": 0.01, "calibrationEnd": "auto"|"none"|"YYYY-MM-DD", "top": 25,
  /// "source": "orders"|"btyd_summary"}. The orders source needs analyze() (or
  /// load_histories()) first. `progress`, when set, hears where the fits are.
  std::string predict(const std::string& options_json, const Progress& progress = {});
  /// The customers' purchase histories of the last analysis (api/histories.h): what
  /// predict() needs, for an engine elsewhere to fit the models on. Failures (no analysis)
  /// are the usual error JSON, told apart by its `{` (the histories start with `CLHIST`).
  std::string histories();
  /// Replaces everything this engine holds with histories from histories(): predict() then
  /// fits and predicts on them as on the analysis they came from; analyze() needs files.
  std::string load_histories(const char* data, size_t size);
  /// The per-row predictions of the last predict() as JSON columns.
  std::string predictions_json() const;
  /// The per-customer table of the last analysis as JSON columns.
  std::string customers_json() const;
  /// The same table as CSV text, safe to open in a spreadsheet (api/export.h). Failures
  /// (no analysis yet) are the usual error JSON, told apart by its `{`: the CSV starts
  /// with its header, `customer_id,...`.
  std::string customers_csv();
  /// Removes every loaded table.
  std::string reset();

  /// The last analysis (for typed-array access from the binding), or null.
  const Analysis* last_analysis() const { return last_ ? &*last_ : nullptr; }
  const FutureValue* last_future() const { return future_ ? &*future_ : nullptr; }
  /// The id of row `i` of the last predict() (a customer, or a btyd_summary row).
  std::string prediction_row_id(uint32_t i) const;
  const OrdersTable& orders() const { return orders_; }
  const CustomersTable& customers_table() const { return customers_; }

  static const char* version();

 private:
  template <class F>
  std::string guarded(F&& f);

  OrdersTable orders_;
  std::unique_ptr<OrdersLoader> loader_;
  CustomersTable customers_;                          // the "customers" table (data/customers.h)
  std::unique_ptr<CustomersLoader> customers_loader_;  // set instead of loader_ while one loads
  BtydSummaryTable summaries_;                        // the "btyd_summary" table (t_x, T in days)
  std::unique_ptr<BtydSummaryLoader> summary_loader_;
  TimeUnit summary_unit_ = TimeUnit::weeks;           // of the file being loaded
  bool summary_unit_given_ = false;
  std::optional<FutureValue> future_;
  std::string loading_table_, loading_file_;
  std::optional<Analysis> last_;
  std::optional<Histories> histories_;  // load_histories(): instead of files and last_
  /// Files that failed to load since the last reset() (data_quality.refused): each stands on
  /// its own, the others are analysed. A later good load of the same table and name drops it.
  struct Refused {
    std::string name, table, reason, code;
    uint64_t line = 0;
    uint32_t column = 0;
  };
  std::vector<Refused> refused_;
  void refuse(const std::string& error_json);

  // load("auto"): the bytes are read by a probe reader, and kept, until it has the header;
  // then the file goes to the table that fits, from its first byte.
  struct HeaderProbe : RowSink {
    bool seen = false, has_header = false;
    std::vector<std::string> columns;
    void on_header(const std::vector<std::string>& c, bool h) override { columns = c, has_header = h, seen = true; }
    void on_row(uint64_t, const std::string_view*, uint64_t) override {}
  };
  std::unique_ptr<HeaderProbe> probe_sink_;
  std::unique_ptr<CsvReader> probe_;
  std::string probe_bytes_;
  std::string auto_options_;
  std::optional<Classification> classification_;  // of the file loading, when it was "auto"
  uint64_t auto_loaded_ = 0;
  void begin_table(const std::string& table, const std::string& name, const std::string& options_json);
  void classify_and_begin();
  bool failed_ = false;  // the last guarded call threw
};

}  // namespace custlens
