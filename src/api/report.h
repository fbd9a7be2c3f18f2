// The JSON codec of the report (docs/report-schema.md). Only api/ knows JSON.
#pragma once

#include <nlohmann/json.hpp>

#include "data/customers.h"
#include "data/orders.h"
#include <functional>
#include <string>

#include "metrics/analysis.h"
#include "models/future.h"

namespace custlens {

/// Schema version written in every report.
constexpr const char* kReportSchema = "custlens.report/1";

nlohmann::ordered_json file_report_json(const FileReport& f);
/// {"value", "unit", "formula", "inputs"} (+ "reason" when value is null).
nlohmann::ordered_json metric_json(const Metric& m);
/// The `future` object of predict() (docs/report-schema.md). `row_id` names a customer row;
/// `row_details` adds what the source knows of it to the top lists.
nlohmann::ordered_json future_json(const FutureValue& f, const std::function<std::string(uint32_t)>& row_id,
                                   const std::function<void(nlohmann::ordered_json&, uint32_t)>& row_details);
nlohmann::ordered_json report_json(const OrdersTable& t, const Analysis& a, const char* engine_version);
nlohmann::ordered_json customer_columns_json(const OrdersTable& t, const CustomerColumns& c);
/// Adds the customers table to a report: data_quality.tables.customers (its files and a
/// summary of what it holds) and its metrics (churned_share; without dates and without
/// orders, the flow metrics as null with the reason). Metrics already in the report stay.
void add_customers_report(nlohmann::ordered_json& report, const CustomersTable& c, bool orders_loaded);

}  // namespace custlens
