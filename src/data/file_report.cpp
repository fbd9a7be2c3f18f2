#include "data/file_report.h"

#include "error.h"

namespace custlens {

std::string column_label(const std::vector<std::string>& columns, int c) {
  return c >= 0 ? "column " + std::to_string(c + 1) + " \"" + columns[size_t(c)] + "\"" : "";
}

void add_invisible_ids_warning(FileReport& report, const Tally& lines) {
  if (!lines) return;
  report.warnings.push_back({"invisible_characters_in_ids",
                             std::to_string(lines.count) +
                                 " customer id(s) contain invisible characters (bidi controls, zero-width "
                                 "characters, soft hyphens): kept in the id, ignored when matching customers (" +
                                 describe_lines(lines) + ")",
                             lines.count, lines.lines});
}

void add_reader_skips(FileReport& report, const CsvStats& csv) {
  auto skip = [&](const char* kind, const Tally& t) {
    if (!t) return;
    report.skipped[kind].merge(t);
    report.rows_skipped += t.count;
  };
  skip("blank line", csv.blank_lines);
  skip("line before the header (title, sep=)", csv.preamble_lines);
  skip("total/summary line", csv.summary_lines);
}

void check_accounting(const FileReport& r) {
  if (r.rows_read != r.rows_used + r.rows_rejected + r.rows_skipped)
    throw InputError("internal_accounting",
                     "Row accounting failed for " + r.name + ": read " + std::to_string(r.rows_read) + " != used " +
                         std::to_string(r.rows_used) + " + rejected " + std::to_string(r.rows_rejected) +
                         " + skipped " + std::to_string(r.rows_skipped));
}

void finish_per_customer_report(FileReport& report, const CsvReader& reader, uint64_t staged_rows, uint64_t rejected,
                                const Tally& dup_in_file, const Tally& dup_earlier, uint64_t differing) {
  const CsvStats& cs = reader.stats();
  report.csv = cs;
  report.csv_notices = reader.notices();
  add_reader_skips(report, cs);
  auto skip = [&](const char* kind, const Tally& t) {
    if (!t) return;
    report.skipped[kind].merge(t);
    report.rows_skipped += t.count;
  };
  skip("duplicate customer id (an earlier row of the file has it; the first row is kept)", dup_in_file);
  skip("customer id already loaded from an earlier file (the first row is kept)", dup_earlier);
  report.rows_read = cs.records_read;
  report.rows_used = staged_rows - rejected - dup_in_file.count - dup_earlier.count;
  check_accounting(report);
  if (dup_in_file || dup_earlier) {
    Tally all = dup_in_file;
    all.merge(dup_earlier);
    report.warnings.push_back({"duplicate_customers",
                               std::to_string(all.count) + " row(s) repeat a customer id already seen (" +
                                   describe_lines(all) + "); the first row of each customer is kept" +
                                   (differing ? " (" + std::to_string(differing) + " of them differ from it)" : ""),
                               all.count, all.lines});
  }
}

}  // namespace custlens
