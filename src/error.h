// The one error type the engine throws. api/ is the only place that catches it and
// turns it into {ok: false, error: {...}} for the boundary.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace custlens {

/// A failure the user can act on: bad input, a missing column, an impossible option.
/// `line` and `column` are 1-based (0 = not applicable); `byte` is a 0-based file offset
/// (-1 = not applicable).
class InputError : public std::runtime_error {
 public:
  InputError(std::string code, const std::string& message, uint64_t line = 0, uint32_t column = 0,
             int64_t byte = -1)
      : std::runtime_error(printable(message)), code(std::move(code)), line(line), column(column), byte(byte) {}

  std::string code;    ///< stable machine-readable id, e.g. "unterminated_quote"
  std::string table;   ///< filled in by the engine ("orders")
  std::string file;    ///< filled in by the engine (the file's name as given)
  uint64_t line;
  uint32_t column;
  int64_t byte;

 private:
  // what() is a C string: a NUL byte quoted from the data (a column name) would cut the
  // message short, so it is shown as U+2400 SYMBOL FOR NULL.
  static std::string printable(const std::string& m) {
    std::string out;
    out.reserve(m.size());
    for (char c : m) {
      if (c == '\0') out += "\xE2\x90\x80";
      else out += c;
    }
    return out;
  }
};

}  // namespace custlens
