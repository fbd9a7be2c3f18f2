// loadHistories() on arbitrary bytes (mutations of real histories, fuzz/seeds/histories):
// what the page's models worker does with what the engine's worker sends it.
//
// Findings: a sanitizer report; an exception escaping the facade; an error whose code says the
// engine itself is wrong ("internal"); histories that load but do not write back to the same
// bytes; predict() on loaded histories failing for a reason that is the engine's fault.
#include <cstdint>
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "api/engine.h"
#include "fuzz_util.h"

namespace {

namespace fuzz = custlens::fuzz;
using nlohmann::json;

json reply(const std::string& s, const char* call) {
  json j = json::parse(s, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok")) fuzz::fail("reply is not a JSON object with ok", std::string(call) + ": " + s);
  if (!j["ok"].get<bool>()) {
    const std::string code = j["error"].value("code", "");
    if (code.empty() || code.rfind("internal", 0) == 0 || code == "bad_options")
      fuzz::fail("engine error that is the engine's fault", std::string(call) + ": " + s);
  }
  return j;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  custlens::Engine e;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  json loaded = reply(e.load_histories(bytes.data(), bytes.size()), "load_histories");
  if (!loaded["ok"].get<bool>()) {
    if (loaded["error"]["code"] != "bad_histories") fuzz::fail("refused with another code than bad_histories", loaded.dump());
    return 0;
  }
  if (e.histories() != bytes) fuzz::fail("histories() does not give back the bytes loaded");
  // The models only on small histories: a fit on data that suit no model runs to its
  // evaluation budget (about a second natively; more under the sanitizers).
  uint64_t customers = 0;
  std::memcpy(&customers, bytes.data() + 24, sizeof customers);
  if (customers > 12) return 0;
  for (const char* options : {R"({"calibrationEnd":"none","top":3})", R"({"calibrationEnd":"auto","top":3})"}) {
    json p = reply(e.predict(options), "predict");
    if (p["ok"].get<bool>()) reply(e.predictions_json(), "predictions");
  }
  return 0;
}
