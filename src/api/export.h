// CSV exports of engine tables, safe to open in a spreadsheet (shared/spec/bad-input.md
// §5.1 and row 37). Like the JSON codec, only api/ writes these.
#pragma once

#include <string>
#include <string_view>

#include "data/orders.h"
#include "metrics/analysis.h"

namespace custlens {

/// Appends user text as one CSV cell: always quoted, embedded quotes doubled (RFC 4180
/// §2.6–2.7), and a `'` in front when the text starts with `=` `+` `-` `@` TAB CR LF or NUL,
/// which spreadsheets would run as a formula (OWASP CSV Injection, ASVS 5.0 V1.2.10).
/// Example: `=1+2";=1+2` is written `"'=1+2"";=1+2"`.
void append_csv_text(std::string& out, std::string_view text);

/// Appends an amount held as a double of whole 1/kAmountScale units (or a mean of them):
/// from those units, with 2 to 4 decimals and no float noise (0.3 → `0.30`, -12.5 → `-12.50`).
void append_csv_money(std::string& out, double value);

/// The per-customer table as CSV: a header, then one CRLF-ended row per customer, columns
/// in the order of docs/report-schema.md "customersCsv()". UTF-8, no BOM.
std::string customers_csv(const OrdersTable& t, const CustomerColumns& c);

}  // namespace custlens
