// What the Catch2 test files share: reading test files, and driving the Engine facade the
// way the boundary does (JSON options in, bytes fed in chunks, JSON out).
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "api/engine.h"

namespace custlens::test {

/// The bytes of a file (the test fails when it cannot be read).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  INFO("reading " << path);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
/// A file of ../shared (corpus, data), and one of this project (tests/data/…).
inline std::string shared_file(const std::string& rel) { return slurp(std::string(CUSTLENS_SHARED_DIR) + "/" + rel); }
inline std::string project_file(const std::string& rel) { return slurp(std::string(CUSTLENS_SOURCE_DIR) + "/" + rel); }
/// A gzipped file of ../shared, through gzip -dc (the native tests have no zlib); the test
/// fails when it cannot be read.
inline std::string shared_gz(const std::string& rel) {
  const std::string path = std::string(CUSTLENS_SHARED_DIR) + "/" + rel;
  FILE* p = popen(("gzip -dc '" + path + "'").c_str(), "r");
  INFO("gzip -dc " << path);
  REQUIRE(p);
  std::string out;
  char buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  REQUIRE(pclose(p) == 0);
  REQUIRE(!out.empty());
  return out;
}

/// One engine, loaded and analysed as the JS client does it.
struct EngineRun {
  Engine engine;
  nlohmann::json files = nlohmann::json::array();  ///< the reports of the files that loaded

  /// Loads `csv` into `table`, fed in chunks of `chunk` bytes; the file report or the error.
  nlohmann::json load(const std::string& csv, const nlohmann::json& options = nlohmann::json::object(),
                      size_t chunk = 4096, const std::string& table = "orders") {
    nlohmann::json r = nlohmann::json::parse(engine.begin_load(table, options.dump()));
    if (!r["ok"]) return r;
    for (size_t off = 0; off < csv.size(); off += chunk) {
      r = nlohmann::json::parse(engine.feed(csv.data() + off, std::min(chunk, csv.size() - off)));
      if (!r["ok"]) return r;
    }
    r = nlohmann::json::parse(engine.end_load());
    if (r["ok"]) files.push_back(r["file"]);
    return r;
  }
  nlohmann::json analyze(const nlohmann::json& options = nlohmann::json::object()) {
    return nlohmann::json::parse(engine.analyze(options.dump()));
  }
  nlohmann::json customers() { return nlohmann::json::parse(engine.customers_json()); }
};

}  // namespace custlens::test
