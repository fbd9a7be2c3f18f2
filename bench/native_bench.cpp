// Native timing of the engine on one orders CSV: load (in 1 MiB chunks, as the page
// feeds it) and analyze. Usage: custlens_bench FILE.csv [chunk_bytes]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "api/engine.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: custlens_bench FILE.csv [chunk_bytes]\n";
    return 2;
  }
  size_t chunk = argc > 2 ? std::stoul(argv[2]) : (1u << 20);
  std::FILE* in = std::fopen(argv[1], "rb");
  if (!in) {
    std::cerr << "cannot open " << argv[1] << "\n";
    return 2;
  }
  std::vector<char> bytes;
  char buf[1 << 16];
  for (size_t got; (got = std::fread(buf, 1, sizeof buf, in)) > 0;) bytes.insert(bytes.end(), buf, buf + got);
  std::fclose(in);
  using clock = std::chrono::steady_clock;
  custlens::Engine e;
  auto t0 = clock::now();
  std::string r = e.begin_load("orders", "{\"name\":\"bench\",\"sizeHint\":" + std::to_string(bytes.size()) + "}");
  for (size_t off = 0; off < bytes.size() && r.find("\"ok\":false") == std::string::npos; off += chunk)
    r = e.feed(bytes.data() + off, std::min(chunk, bytes.size() - off));
  if (r.find("\"ok\":false") == std::string::npos) r = e.end_load();
  auto t1 = clock::now();
  if (r.find("\"ok\":false") != std::string::npos) {
    std::cerr << r << "\n";
    return 1;
  }
  std::string report = e.analyze("{}");
  auto t2 = clock::now();
  auto s = [](auto d) { return std::chrono::duration<double>(d).count(); };
  std::printf("{\"bytes\":%zu,\"load_s\":%.4f,\"analyze_s\":%.4f,\"report_bytes\":%zu}\n", bytes.size(),
              s(t1 - t0), s(t2 - t1), report.size());
  return 0;
}
