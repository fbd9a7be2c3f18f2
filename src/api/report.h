// The JSON codec of the report (docs/report-schema.md). Only api/ knows JSON.
#pragma once

#include <nlohmann/json.hpp>

#include "data/customers.h"
#include "data/orders.h"
#include "metrics/analysis.h"

namespace custlens {

/// Schema version written in every report.
constexpr const char* kReportSchema = "custlens.report/1";

nlohmann::ordered_json file_report_json(const FileReport& f);
nlohmann::ordered_json report_json(const OrdersTable& t, const Analysis& a, const char* engine_version);
nlohmann::ordered_json customer_columns_json(const OrdersTable& t, const CustomerColumns& c);
/// Adds the customers table to a report: data_quality.tables.customers (its files and a
/// summary of what it holds) and its metrics (churned_share; without dates and without
/// orders, the flow metrics as null with the reason). Metrics already in the report stay.
void add_customers_report(nlohmann::ordered_json& report, const CustomersTable& c, bool orders_loaded);

}  // namespace custlens
