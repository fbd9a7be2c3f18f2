// The JSON codec of the report (docs/report-schema.md). Only api/ knows JSON.
#pragma once

#include <nlohmann/json.hpp>

#include "data/orders.h"
#include "metrics/analysis.h"

namespace custlens {

/// Schema version written in every report.
constexpr const char* kReportSchema = "custlens.report/1";

nlohmann::ordered_json file_report_json(const FileReport& f);
nlohmann::ordered_json report_json(const OrdersTable& t, const Analysis& a, const char* engine_version);
nlohmann::ordered_json customer_columns_json(const OrdersTable& t, const CustomerColumns& c);

}  // namespace custlens
