// Matching keys for customer ids: values are kept byte-exact, but two ids that a reader cannot
// tell apart (precomposed `è` and `e` + U+0300, fullwidth `Ｃ００１` and `C001`, `ﬁ` and `fi`, an
// id with a zero-width space pasted in) get the same key. No ICU: the tables come from
// scripts/gen-normalize.mjs (src/io/normalize_data.inc).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace custlens {

/// True when every byte is below 0x80 (8 bytes a step: this runs on every customer id).
inline bool is_ascii(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t acc = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    acc |= w;
  }
  for (; n; ++p, --n) acc |= uint8_t(*p);
  return (acc & 0x8080808080808080ULL) == 0;
}

/// Bidi controls (U+061C, U+200E-200F, U+202A-202E, U+2066-2069), zero-width characters
/// (U+200B-200D, U+2060, U+FEFF) and the soft hyphen U+00AD: invisible in the value, dropped
/// from the key.
bool is_invisible_format_char(uint32_t cp);

/// The matching key of `s` (UTF-8): invisible format characters dropped, then NFKC (the
/// compatibility mappings of the BMP; composition and canonical order in all planes). Returns
/// `s` itself when it is already its own key, which is always so for ASCII (no work, no
/// allocation: this is on the load path of every row); else the key, written into `buf`.
/// `*invisible` (if given) is set when a character was dropped. Bytes that are not UTF-8 are
/// kept as they are. Example: normalize_key("Ｃ００１", buf) == "C001".
std::string_view normalize_key_into(std::string_view s, std::string& buf, bool* invisible = nullptr);

inline std::string_view normalize_key(std::string_view s, std::string& buf, bool* invisible = nullptr) {
  if (is_ascii(s)) {
    if (invisible) *invisible = false;
    return s;
  }
  return normalize_key_into(s, buf, invisible);
}

/// normalize_key as a new string (tests, one-off use). Example: normalize_key("e\u0301") == "é".
std::string normalize_key(std::string_view s);

}  // namespace custlens
