// Customer and order ids: Excel damage (bad-input.md row 33) and Unicode hazards (row 34),
// through the Engine facade as the boundary uses it, plus the matching key itself.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "api/engine.h"
#include "data/arena.h"
#include "data/interner.h"
#include "io/normalize.h"
#include "support.h"

using nlohmann::json;

namespace {

struct Run : custlens::test::EngineRun {
  std::vector<std::string> customer_ids() {
    analyze();
    return customers()["columns"]["customer_id"].get<std::vector<std::string>>();
  }
};

double metric(const json& report, const char* id) { return report["metrics"][id]["value"].get<double>(); }

// The file warning with this code (null when absent); `nth` picks among several.
json warning(const json& load_result, const std::string& code, size_t nth = 0) {
  for (const json& w : load_result["file"]["warnings"])
    if (w["code"] == code && nth-- == 0) return w;
  return nullptr;
}

const std::string kEAcute = "\xC3\xA9";            // é, precomposed (U+00E9)
const std::string kEPlusAcute = "e\xCC\x81";       // e + U+0301
const std::string kZwsp = "\xE2\x80\x8B";          // U+200B zero-width space
const std::string kRlo = "\xE2\x80\xAE";           // U+202E right-to-left override
const std::string kFullC001 = "\xEF\xBC\xA3\xEF\xBC\x90\xEF\xBC\x90\xEF\xBC\x91";  // Ｃ００１

}  // namespace

// ---- row 33: Excel damage --------------------------------------------------------------------

TEST_CASE("bad-input row 33: ids in scientific notation stay text and are warned with their lines", "[ids]") {
  Run run;
  json r = run.load("order_id,customer_id,order_date,amount\n"
                    "1.23457E+17,4.5E+06,2024-01-05,10.00\n"
                    "1.23457E+17,C2,2024-01-06,20.00\n"
                    "536365,C3,2024-01-07,30.00\n"
                    "12E4,1E+15,2024-01-08,40.00\n");
  REQUIRE(r["ok"]);
  json o = warning(r, "ids_in_scientific_notation", 0), c = warning(r, "ids_in_scientific_notation", 1);
  REQUIRE(o.is_object());
  REQUIRE(c.is_object());
  CHECK(o["message"] == "column order_id has 2 value(s) in scientific notation (lines 2, 3): Excel may have cut "
                        "digits; export the column as text");
  CHECK(o["lines"] == json({2, 3}));
  CHECK(c["count"] == 2);
  CHECK(c["lines"] == json({2, 5}));  // `12E4` is not Excel's format; `1E+15` is
  // Kept as text, so the two cut ids are one order (what the file says, damage included).
  CHECK(metric(run.analyze(), "orders") == 3);
  CHECK(run.customer_ids() == std::vector<std::string>{"4.5E+06", "C3", "1E+15"});
}

TEST_CASE("bad-input row 33: scientific notation with a decimal comma is recognised", "[ids]") {
  Run run;
  json r = run.load("order_id;customer_id;order_date;amount\n1,23457E+17;c1;2024-01-05;10\n");
  REQUIRE(r["ok"]);
  CHECK(warning(r, "ids_in_scientific_notation")["lines"] == json({2}));
}

TEST_CASE("bad-input row 33: ordinary ids give no scientific-notation warning", "[ids]") {
  Run run;
  json r = run.load("order_id,customer_id,order_date,amount\n"
                    "536365,17850,2024-01-05,10\nC81243354,E12,2024-01-06,10\n2E+1,1.5E3,2024-01-07,10\n");
  REQUIRE(r["ok"]);
  CHECK(warning(r, "ids_in_scientific_notation").is_null());
  CHECK(warning(r, "id_text_markers").is_null());
}

TEST_CASE("bad-input row 33: Excel's text marker ' is removed and counted", "[ids]") {
  Run run;
  json r = run.load("order_id,customer_id,order_date,amount\n"
                    "A1,'0012,2024-01-05,10.00\n"
                    "'A2,'0012,2024-01-06,20.00\n"
                    "A3,0012,2024-01-07,30.00\n");
  REQUIRE(r["ok"]);
  json w = warning(r, "id_text_markers");
  REQUIRE(w.is_object());
  CHECK(w["count"] == 3);  // ids, not rows: line 3 has two
  CHECK(w["lines"] == json({2, 3}));
  CHECK(w["message"] == "3 id(s) had Excel's text marker ' removed (lines 2, 3); the ids are read without it");
  json a = run.analyze();
  CHECK(metric(a, "customers") == 1);
  CHECK(run.customer_ids() == std::vector<std::string>{"0012"});
}

TEST_CASE("bad-input row 33: the =\"…\" wrapper is named as the marker it is", "[ids]") {
  Run run;
  json r = run.load("order_id,customer_id,order_date,amount\nA1,\"=\"\"0012\"\"\",2024-01-05,10.00\n");
  REQUIRE(r["ok"]);
  CHECK(warning(r, "id_text_markers")["message"] ==
        "1 id(s) had Excel's text marker =\"…\" removed (line 2); the ids are read without it");
}

// ---- row 34: Unicode hazards -----------------------------------------------------------------

TEST_CASE("bad-input row 34: José precomposed and decomposed is one customer named as first written", "[ids]") {
  for (bool precomposed_first : {true, false}) {
    const std::string a = "Jos" + (precomposed_first ? kEAcute : kEPlusAcute);
    const std::string b = "Jos" + (precomposed_first ? kEPlusAcute : kEAcute);
    Run run;
    json r = run.load("customer_id,order_date,amount\n" + a + ",2024-01-05,10\n" + b + ",2024-02-05,20\n" + b +
                      ",2024-03-05,20\n" + a + ",2024-04-05,20\n");
    REQUIRE(r["ok"]);
    json w = warning(r, "customer_ids_merged");
    REQUIRE(w.is_object());
    CHECK(w["count"] == 1);  // one other spelling, however often it occurs
    CHECK(w["lines"] == json({3}));
    CHECK(w["message"] == "1 customer id(s) were merged with another written differently (Unicode "
                          "normalisation): line 3; the customer keeps the spelling seen first");
    json rep = run.analyze();
    CHECK(metric(rep, "customers") == 1);
    CHECK(metric(rep, "orders") == 4);
    CHECK(run.customer_ids() == std::vector<std::string>{a});  // byte-exact, first seen
  }
}

TEST_CASE("bad-input row 34: fullwidth digits and letters, and ligatures, match their plain forms", "[ids]") {
  Run run;
  json r = run.load("customer_id,order_date,amount\n" + kFullC001 +
                    ",2024-01-05,10\nC001,2024-01-06,10\n"
                    "\xEF\xAC\x81n,2024-01-07,10\nfin,2024-01-08,10\nC002,2024-01-09,10\n");
  REQUIRE(r["ok"]);
  CHECK(warning(r, "customer_ids_merged")["lines"] == json({3, 5}));
  CHECK(metric(run.analyze(), "customers") == 3);
  CHECK(run.customer_ids() == std::vector<std::string>{kFullC001, "\xEF\xAC\x81n", "C002"});
}

TEST_CASE("bad-input row 34: bidi controls and zero-width characters stay in the id and are ignored for matching",
          "[ids]") {
  Run run;
  json r = run.load("customer_id,order_date,amount\n"
                    "C001,2024-01-05,10\n"
                    "C001" + kZwsp + ",2024-01-06,10\n" +
                    kRlo + "C001,2024-01-07,10\n" +
                    kZwsp + ",2024-01-08,10\n"  // nothing visible: a guest, like an empty id
                    "C002,2024-01-09,10\n");
  REQUIRE(r["ok"]);
  json inv = warning(r, "invisible_characters_in_ids");
  REQUIRE(inv.is_object());
  CHECK(inv["count"] == 3);
  CHECK(inv["lines"] == json({3, 4, 5}));
  CHECK(warning(r, "customer_ids_merged")["count"] == 2);
  json rep = run.analyze();
  CHECK(metric(rep, "customers") == 2);
  CHECK(run.customer_ids() == std::vector<std::string>{"C001", "C002"});
  // Written first with the control, the customer keeps it (the UI shows it visibly).
  Run run2;
  REQUIRE(run2.load("customer_id,order_date,amount\n" + kRlo + "C001,2024-01-05,10\nC001,2024-01-06,10\n")["ok"]);
  CHECK(run2.customer_ids() == std::vector<std::string>{kRlo + "C001"});
}

TEST_CASE("bad-input row 34: spellings merge across files, and a failed file leaves no key behind", "[ids]") {
  Run run;
  REQUIRE(run.load("customer_id,order_date,amount\nJos" + kEPlusAcute + ",2024-01-05,10\n")["ok"]);
  json r = run.load("customer_id,order_date,amount\nJos" + kEAcute + ",2024-02-05,10\n");
  REQUIRE(r["ok"]);
  CHECK(warning(r, "customer_ids_merged")["lines"] == json({2}));
  CHECK(run.customer_ids() == std::vector<std::string>{"Jos" + kEPlusAcute});

  // A file that fails after grouping its customers: its new customer and key are rolled back.
  json bad = run.load("customer_id,order_date,amount\nR" + kEPlusAcute + "my,13/01/2024,10\nX,01/13/2024,10\n");
  REQUIRE_FALSE(bad["ok"]);
  json ok = run.load("customer_id,order_date,amount\nR" + kEAcute + "my,2024-03-05,10\n");
  REQUIRE(ok["ok"]);
  CHECK(warning(ok, "customer_ids_merged").is_null());
  CHECK(run.customer_ids() == std::vector<std::string>{"Jos" + kEPlusAcute, "R" + kEAcute + "my"});
}

TEST_CASE("bad-input row 34: ids that are already their own key give no warning", "[ids]") {
  Run run;
  json r = run.load("customer_id,order_date,amount\n张三,2024-01-05,10\n张三,2024-01-06,10\nJos" + kEAcute +
                    ",2024-01-07,10\n");
  REQUIRE(r["ok"]);
  CHECK(warning(r, "customer_ids_merged").is_null());
  CHECK(warning(r, "invisible_characters_in_ids").is_null());
  CHECK(metric(run.analyze(), "customers") == 2);
}

TEST_CASE("bad-input row 34: the matching key (normalize_key)", "[ids]") {
  using custlens::normalize_key;
  std::string buf;
  const std::string ascii = "C81243354-and-a-long-ascii-tail";
  CHECK(normalize_key(ascii, buf).data() == ascii.data());  // ASCII: the input itself
  const std::string nfc = "Jos" + kEAcute;
  CHECK(normalize_key(nfc, buf).data() == nfc.data());  // already a key: no copy either
  CHECK(normalize_key("Jos" + kEPlusAcute) == nfc);
  CHECK(normalize_key(kFullC001) == "C001");
  CHECK(normalize_key("\xEF\xAC\x81") == "fi");                    // ﬁ
  CHECK(normalize_key("\xE2\x85\xAB") == "XII");                   // Ⅻ
  CHECK(normalize_key("\xEF\xBD\xB6\xEF\xBE\x9E") == "\xE3\x82\xAC");  // halfwidth ｶﾞ -> ガ
  CHECK(normalize_key("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8") == "\xEA\xB0\x81");  // jamo -> 각
  CHECK(normalize_key("e\xCC\xA3\xCC\x82") == "\xE1\xBB\x87");     // e + dot below + circumflex -> ệ
  CHECK(normalize_key("e\xCC\x82\xCC\xA3") == "\xE1\xBB\x87");     // marks in the other order too
  bool invisible = false;
  CHECK(std::string(normalize_key("a" + kZwsp + "b" + kRlo, buf, &invisible)) == "ab");
  CHECK(invisible);
  CHECK(normalize_key("\xFF" "a") == "\xFF" "a");  // bytes that are not UTF-8 pass through
}

TEST_CASE("ByteArena: offsets stay valid across blocks, for texts longer than a block, and after truncate", "[ids]") {
  using custlens::ByteArena;
  ByteArena a;
  std::vector<std::pair<uint64_t, std::string>> kept;
  size_t misplaced = 0;
  auto add = [&](const std::string& s) {
    // The offset a text gets is size() unless it starts a new block.
    size_t end = a.size();
    uint64_t at = a.append_sized(s);
    misplaced += !(at == end || at % ByteArena::kBlock == 0);
    kept.emplace_back(at, s);
  };
  auto unreadable = [&] {
    size_t bad = 0;
    for (const auto& [at, s] : kept) bad += a.view_sized(at) != s;
    return bad;
  };
  // 8-byte ids take 9 bytes with their length and fill a block to within 8 bytes; the next
  // one starts the second block.
  const size_t per_block = ByteArena::kBlock / 9;
  for (size_t i = 0; i < per_block + 10; ++i) add("C" + std::to_string(1000000 + i));
  CHECK(kept[per_block].first == ByteArena::kBlock);
  CHECK(kept[per_block - 1].first == (per_block - 1) * 9);
  const size_t mark = a.size();
  // Longer than a block: a block of its own (three positions with its length), and the text
  // after it starts a block again.
  std::string big(ByteArena::kBlock * 2 + 3, 'x');
  big[0] = 'a', big.back() = 'z';
  add(big);
  add("after");
  CHECK(kept[kept.size() - 2].first == 2 * ByteArena::kBlock);
  CHECK(kept.back().first == 5 * ByteArena::kBlock);
  CHECK(unreadable() == 0);
  CHECK(a.view_sized(a.append_sized("")).empty());
  // Rolled back to the mark (a failed file), the arena goes on with the next block.
  a.truncate(mark);
  kept.resize(per_block + 10);
  add("again");
  CHECK(kept.back().first == 2 * ByteArena::kBlock);
  CHECK(unreadable() == 0);
  CHECK(misplaced == 0);
  // Lengths of every size of length field: empty, short, 254, 255 and more bytes (a longer
  // length field), and one longer than a block.
  std::vector<std::pair<uint64_t, std::string>> sized;
  for (size_t n : {size_t(0), size_t(1), size_t(9), size_t(254), size_t(255), size_t(256), size_t(70000),
                   ByteArena::kBlock + 7, size_t(3)})
    sized.emplace_back(0, std::string(n, char('a' + n % 26)));
  for (auto& [at, text] : sized) at = a.append_sized(text);
  size_t bad = 0;
  for (const auto& [at, text] : sized) bad += a.view_sized(at) != text;
  CHECK(bad == 0);
  CHECK(unreadable() == 0);
}

TEST_CASE("Interner: short values from the recent cache get the same ids as from the table", "[ids]") {
  custlens::Interner in;
  const std::vector<std::string> texts = {"", "online", "store", "mobile", "a", "ab", "abcdefgh", "abcdefghi",
                                          "abcdefghj", "0123456789abcdef", "0123456789abcdeg", "x123456789abcdef",
                                          "a longer value than sixteen bytes", "a longer value than sixteen bytez"};
  std::vector<uint32_t> ids;
  for (const auto& t : texts) ids.push_back(in.intern(t));
  for (size_t i = 0; i < ids.size(); ++i) CHECK(ids[i] == i);  // all distinct, in order
  for (int round = 0; round < 3; ++round)
    for (size_t i = texts.size(); i-- > 0;) CHECK(in.intern(texts[i]) == ids[i]);
  // A rolled-back id is not served from the cache: the text gets a new id.
  in.truncate(2);
  CHECK(in.intern("mobile") == 2);
  CHECK(in.intern("store") == 3);
  CHECK(in.intern("online") == 1);
  CHECK(in.get(2) == "mobile");
  CHECK(in.size() == 4);
}
