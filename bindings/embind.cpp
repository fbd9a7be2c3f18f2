// The WebAssembly boundary: one class, JSON strings in and out, typed-array views for the
// big per-customer columns. Nothing here catches or decides; Engine (src/api) does.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cstring>
#include <string>

#include "api/engine.h"

using custlens::Engine;
using emscripten::val;

namespace {

// Bytes arrive in the wasm heap (the JS client copies each chunk into a malloc'd buffer),
// so no std::string copy of the data is made.
std::string feed_ptr(Engine& e, uintptr_t ptr, size_t size) {
  return e.feed(reinterpret_cast<const char*>(ptr), size);
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

// Customer ids joined by '\n' (ids never contain a line break after trimming... they can
// inside quotes, so the separator is the unit separator U+001F instead).
std::string customer_ids(const Engine& e) {
  const custlens::Analysis* a = e.last_analysis();
  if (!a) return "";
  std::string out;
  const auto& c = a->customers;
  for (size_t i = 0; i < c.size(); ++i) {
    if (i) out += '\x1f';
    out += e.orders().customer_name(c.ids[i]);
  }
  return out;
}

}  // namespace

EMSCRIPTEN_BINDINGS(custlens) {
  emscripten::class_<Engine>("Engine")
      .constructor<>()
      .function("beginLoad", &Engine::begin_load)
      .function("feed", &feed_ptr)
      .function("endLoad", &Engine::end_load)
      .function("abortLoad", &Engine::abort_load)
      .function("analyze", &Engine::analyze)
      .function("customersJson", &Engine::customers_json)
      .function("customerColumn", &customer_column)
      .function("customerIds", &customer_ids)
      .function("customersCsv", &Engine::customers_csv)
      .function("reset", &Engine::reset);
  emscripten::function("version", emscripten::optional_override([]() { return std::string(Engine::version()); }));
}
