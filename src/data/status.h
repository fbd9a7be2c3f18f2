// Order status words: which statuses mean the order never became a sale (or was fully
// refunded). A data table, shown to the user, who can move any status either way.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace custlens {

struct StatusRule {
  const char* word;  ///< compared after normalize_status()
  bool excluded;     ///< true: no purchase, no revenue
};

/// The built-in table (English platform slugs and Chinese marketplace wording).
const std::vector<StatusRule>& status_rules();

/// Lower-case, trimmed, spaces/underscores/hyphens removed ("Partially Refunded" ==
/// "partially_refunded").
std::string normalize_status(std::string_view s);

/// Classification of one status text: known (and whether excluded) or unknown.
struct StatusClass {
  bool known = false;
  bool excluded = false;
};
StatusClass classify_status(std::string_view status);

}  // namespace custlens
