// The WebAssembly boundary: one class, JSON strings in, JSON as UTF-8 bytes out, typed-array
// views for the big per-customer columns. Nothing here catches or decides; Engine (src/api) does.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cstring>
#include <string>

#include "api/engine.h"
#include "blocks.h"
#include "bytes.h"

using custlens::Engine;
using emscripten::val;

namespace {

// Results leave as UTF-8 bytes: a view of `held`, which the JS side decodes at once
// (TextDecoder). Returned as std::string, Embind walks every byte twice in JS, looking for NULs,
// before it decodes, in code too cold to be optimised: tens of milliseconds for a 110 KB report,
// more for the ids of a million customers. The bytes live until the next call.
val utf8_view(std::string text) {
  static std::string held;
  held = std::move(text);
  return val(emscripten::typed_memory_view(held.size(), reinterpret_cast<const uint8_t*>(held.data())));
}

// Bytes arrive in the wasm heap (the JS client copies each chunk into a malloc'd buffer),
// so no std::string copy of the data is made.
val feed_ptr(Engine& e, uintptr_t ptr, size_t size) {
  return utf8_view(e.feed(reinterpret_cast<const char*>(ptr), size));
}

// Histories from another engine's histories(), copied into the wasm heap by the JS side.
val load_histories_ptr(Engine& e, uintptr_t ptr, size_t size) {
  return utf8_view(e.load_histories(reinterpret_cast<const char*>(ptr), size));
}

// predict() telling `progress` (a JS function, or undefined) where the fits are.
val predict_with_progress(Engine& e, const std::string& options, val progress) {
  custlens::Progress report;
  if (progress.typeOf().as<std::string>() == "function")
    report = [&progress](const char* step, const char* model, double done) {
      progress(std::string(step), std::string(model), done);
    };
  return utf8_view(e.predict(options, report));
}

// A view of one numeric per-customer column; the JS side copies it (.slice()) at once,
// before any other call can move the heap.
val customer_column(const Engine& e, const std::string& name) {
  const custlens::Analysis* a = e.last_analysis();
  if (!a) return val::null();
  const auto& c = a->customers;
  auto view = [](const auto& v) { return val(emscripten::typed_memory_view(v.size(), v.data())); };
  if (name == "first_purchase") return view(c.first_purchase);
  if (name == "last_purchase") return view(c.last_purchase);
  if (name == "orders") return view(c.orders);
  if (name == "total_spend") return view(c.total_spend);
  if (name == "mean_order_value") return view(c.mean_order_value);
  if (name == "repeat_spend") return view(c.repeat_spend);
  if (name == "recency_days") return view(c.recency_days);
  if (name == "r_score") return view(c.r_score);
  if (name == "f_score") return view(c.f_score);
  if (name == "m_score") return view(c.m_score);
  if (name == "segment") return view(c.segment);
  if (name == "btyd_frequency") return view(c.btyd_frequency);
  if (name == "t_x") return view(c.t_x);
  if (name == "T") return view(c.T);
  if (name == "btyd_monetary") return view(c.btyd_monetary);
  if (name == "cohort") return view(c.cohort);
  if (name == "lifecycle") return view(c.lifecycle);
  return val::null();
}

// A view of one per-row column of the last predict() (NaN where a value is not defined);
// null when there is no prediction or no such column.
val prediction_column(const Engine& e, const std::string& name) {
  const custlens::FutureValue* f = e.last_future();
  if (!f) return val::null();
  auto view = [](const auto& v) { return v.empty() ? val::null() : val(emscripten::typed_memory_view(v.size(), v.data())); };
  if (name == "p_alive") return view(f->p_alive);
  if (name == "expected_purchases") return view(f->expected_purchases);
  if (name == "expected_order_value") return view(f->expected_order_value);
  if (name == "clv_predicted") return view(f->clv);
  if (name == "value_at_risk") return view(f->value_at_risk);
  if (name == "churn_risk") return view(f->churn_risk);
  if (name == "churn_risk_model") return view(f->risk_model);
  if (name == "churn_risk_rhythm") return view(f->risk_rhythm);
  if (name == "churn_risk_decline") return view(f->risk_decline);
  if (name == "t_x") return view(f->t_x);
  if (name == "T") return view(f->T);
  if (name == "frequency_cal") return view(f->cal_frequency);
  if (name == "t_x_cal") return view(f->cal_t_x);
  if (name == "T_cal") return view(f->cal_T);
  if (name == "monetary_cal") return view(f->cal_monetary);
  if (name == "frequency_holdout") return view(f->holdout_actual);
  if (name == "predicted_holdout") return view(f->holdout_predicted);
  return val::null();
}

// The row ids of the last predict(), joined by U+001F like customer_id_bytes(), as UTF-8.
val prediction_id_bytes(const Engine& e) {
  const custlens::FutureValue* f = e.last_future();
  if (!f) return val::null();
  std::string out;
  for (uint32_t i = 0; i < f->p_alive.size(); ++i) {
    if (i) out += '\x1f';
    out += e.prediction_row_id(i);
  }
  return utf8_view(std::move(out));
}

// Customer ids joined by the unit separator U+001F (ids can hold line breaks inside quotes),
// as UTF-8 bytes; the JS side decodes them only when the ids are read.
val customer_id_bytes(const Engine& e) {
  const custlens::Analysis* a = e.last_analysis();
  if (!a) return val::null();
  const auto& c = a->customers;
  const custlens::OrdersTable& t = e.orders();
  size_t bytes = c.size();
  custlens::for_blocks(0, c.size(), [&](size_t b, size_t end) CUSTLENS_NOINLINE {
    for (size_t i = b; i < end; ++i) bytes += t.customer_name(c.ids[i]).size();
  });
  std::string out(bytes ? bytes - 1 : 0, '\0');
  char* w = out.data();
  custlens::for_blocks(0, c.size(), [&](size_t b, size_t end) CUSTLENS_NOINLINE {
    for (size_t i = b; i < end; ++i) {
      if (i) *w++ = '\x1f';
      std::string_view id = t.customer_name(c.ids[i]);
      custlens::copy_short(w, id.data(), id.size());
      w += id.size();
    }
  });
  return utf8_view(std::move(out));
}

}  // namespace

EMSCRIPTEN_BINDINGS(custlens) {
  using emscripten::optional_override;
  emscripten::class_<Engine>("Engine")
      .constructor<>()
      .function("beginLoad", optional_override([](Engine& e, const std::string& table, const std::string& options) {
                  return utf8_view(e.begin_load(table, options));
                }))
      .function("feed", &feed_ptr)
      .function("endLoad", optional_override([](Engine& e) { return utf8_view(e.end_load()); }))
      .function("abortLoad", optional_override([](Engine& e, const std::string& error) { return utf8_view(e.abort_load(error)); }))
      .function("analyze", optional_override([](Engine& e, const std::string& options) { return utf8_view(e.analyze(options)); }))
      .function("customersJson", optional_override([](const Engine& e) { return utf8_view(e.customers_json()); }))
      .function("customerColumn", &customer_column)
      .function("customerIdBytes", &customer_id_bytes)
      .function("customersCsv", optional_override([](Engine& e) { return utf8_view(e.customers_csv()); }))
      .function("predict", &predict_with_progress)
      .function("histories", optional_override([](Engine& e) { return utf8_view(e.histories()); }))
      .function("loadHistories", &load_histories_ptr)
      .function("predictionColumn", &prediction_column)
      .function("predictionIdBytes", &prediction_id_bytes)
      .function("reset", optional_override([](Engine& e) { return utf8_view(e.reset()); }));
  emscripten::function("version", emscripten::optional_override([]() { return std::string(Engine::version()); }));
}
