// Column detection: which header is which field, from a data table of English and
// Chinese synonyms, or (for files without a header) from what the values look like.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace custlens {

/// One field a table can have, with the header names that mean it.
struct FieldSpec {
  const char* field;  ///< spec id: "customer_id", "order_date", ...
  bool required;      ///< required unless an alternative is mapped (amount | quantity × unit_price)
  std::vector<const char*> synonyms;  ///< compared after normalize_header()
};

/// The fields of a table kind ("orders"), in the order they claim columns.
const std::vector<FieldSpec>& table_fields(const std::string& table);

/// Lower-case ASCII, fullwidth folded, spaces, underscores, hyphens, dots, slashes and
/// brackets removed: "Customer ID" == "customer_id" == "CustomerID"; "（元）" suffixes go.
std::string normalize_header(std::string_view header);

/// The column the CSV reader adds for the extra fields of rows longer than the header
/// (`overflow_1` … when a header already has the name; a headerless file's columns are
/// `column_N`, so there it is always this). Headerless files never map it from its values.
inline constexpr std::string_view kOverflowColumn = "overflow";

/// Where a field was found and why.
struct ColumnChoice {
  std::string field;
  int index = -1;       ///< 0-based column, -1 = not mapped
  std::string column;   ///< the header (or column_N)
  std::string source;   ///< "header", "values", "option"
  std::string reason;   ///< e.g. "header \"CustomerID\" matches synonym \"customerid\""
};

/// A user override: field -> column (by header name, or 1-based position "2").
struct MappingOverride {
  std::string field;
  std::string column;  ///< header name, or a 1-based position; "" unmaps the field
};

/// Chooses a column for every field of `table`. Overrides win; then header synonyms
/// (when has_header); then, for headerless files, the value shapes in `sample_rows`.
/// Throws InputError for an override naming an unknown field or column.
std::vector<ColumnChoice> choose_columns(const std::string& table,
                                         const std::vector<std::string>& columns, bool has_header,
                                         const std::vector<std::vector<std::string>>& sample_rows,
                                         const std::vector<MappingOverride>& overrides);

/// Which table a file is, from its header (load("auto"), the CLI's --file, the page's drop).
struct Classification {
  std::string table;  ///< "orders", "customers" or "btyd_summary"; "" when no table fits
  double score = 0;   ///< the share of the file's columns the table's fields claim, 0..1
  std::string reason; ///< in words: what each table found
};

/// Scores the header against every table kind: a kind fits when its required fields are all
/// named (orders: order_date and amount, or quantity and unit_price; customers: customer_id;
/// btyd_summary: btyd_frequency, t_x and T), and the fitting kind whose fields claim the most
/// columns wins (orders, then customers, then btyd_summary on a tie). A file without a header
/// is orders (its columns are judged by their values). `overrides` (the mapping) count as
/// named fields of the kinds that have them.
Classification classify_columns(const std::vector<std::string>& columns, bool has_header,
                                 const std::vector<MappingOverride>& overrides = {});

}  // namespace custlens
