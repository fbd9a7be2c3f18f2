#include "io/columns.h"

#include <algorithm>
#include <map>

#include "error.h"
#include "io/values.h"

namespace custlens {

namespace {

// The synonym table. Each list is in order of preference: when two columns match one
// field, the one matching the earlier synonym wins (Shopify's "Total" over "Subtotal").
// Sources: ../shared/spec/metrics.md section 1 and the platform headers in exports.md.
const std::vector<FieldSpec> kOrderFields = {
    {"order_id", false,
     {"orderid", "order", "orderno", "ordernumber", "invoiceno", "invoice", "invoiceid", "invoicenumber",
      "transactionid", "receiptnumber", "订单号", "订单编号", "订单id", "主订单编号", "子订单编号",
      "交易单号", "商户单号", "交易号", "单号", "订单"}},
    {"customer_id", false,
     {"customerid", "customer", "customerno", "customernumber", "customeremail", "email", "clientid",
      "userid", "user", "buyerid", "buyer", "memberid", "accountid", "客户id", "客户编号", "客户", "会员id",
      "会员编号", "会员", "买家会员名", "买家id", "买家昵称", "用户id", "用户名", "用户", "顾客id",
      "买家"}},
    {"order_date", true,
     {"orderdate", "date", "invoicedate", "createdat", "orderedat", "purchasedate", "saledate", "transactiondate",
      "orderdatetime", "ordertime", "datetime", "timestamp", "time", "下单时间", "订单日期",
      "订单创建时间", "创建时间", "成交时间", "交易时间", "交易创建时间", "日期", "付款时间",
      "支付时间", "订单付款时间"}},
    {"amount", true,
     {"amount", "total", "ordertotal", "totalamount", "dollarvalue", "value", "revenue", "sales",
      "netsales", "grosssales", "totalprice", "paid", "paidamount", "实付金额", "实收金额",
      "支付金额", "订单金额", "买家实付金额", "买家实际支付金额", "商品总价", "订单总金额", "总金额", "金额",
      "交易金额", "收入", "销售额"}},
    {"quantity", false,
     {"quantity", "qty", "lineitemquantity", "numberofcds", "units", "itemssold", "数量", "购买数量",
      "商品数量", "件数"}},
    {"unit_price", false,
     {"unitprice", "lineitemprice", "itemprice", "priceperunit", "price", "单价", "商品单价", "成交单价"}},
    {"refunded_amount", false,
     {"refundedamount", "amountrefunded", "refund", "refundamount", "退款金额", "已退款金额", "退款"}},
    {"status", false,
     {"status", "orderstatus", "financialstatus", "paymentstatus", "state", "订单状态", "交易状态",
      "状态"}},
    {"channel", false,
     {"channel", "saleschannel", "source", "ordersource", "platform", "渠道", "销售渠道", "订单来源",
      "来源"}},
    {"product", false,
     {"product", "productname", "lineitemname", "item", "description", "sku", "stockcode", "商品名称",
      "商品", "宝贝标题", "商品标题"}},
    {"category", false, {"category", "productcategory", "producttype", "类目", "商品类目", "品类", "分类"}},
    {"cost", false, {"cost", "costprice", "cogs", "成本", "成本价"}},
    {"paid_at", false, {"paidat", "paymentdate", "paiddate", "付款时间", "支付时间"}},
    {"currency", false, {"currency", "currencycode", "币种", "货币"}},
};

// The customers table (metrics.md section 1): subscription dates and the churned flag, plus
// the attributes a churn snapshot carries (IBM's Telco file: customerID, tenure,
// MonthlyCharges, TotalCharges, Churn). A bare "id" or "status" is last in its list.
const std::vector<FieldSpec> kCustomerFields = {
    {"customer_id", true,
     {"customerid", "customer", "customerno", "customernumber", "customercode", "clientid", "client",
      "userid", "user", "memberid", "member", "accountid", "account", "subscriberid", "customeremail", "email",
      "客户id", "客户编号", "客户号", "客户代码", "客户", "会员id", "会员编号", "会员号", "会员卡号", "会员",
      "用户id", "用户编号", "用户名", "用户", "顾客id", "顾客编号", "账号", "账户", "id"}},
    {"signup_date", false,
     {"signupdate", "signup", "signedup", "signedupat", "signupat", "startdate", "start", "subscriptionstart",
      "subscriptionstartdate", "joindate", "joined", "joinedat", "joindt", "registrationdate", "registeredat",
      "registerdate", "registered", "activationdate", "activatedat", "customersince", "since", "createdat",
      "created", "createddate", "creationdate", "accountcreated", "firstdate", "注册时间", "注册日期", "开户日期",
      "开户时间", "入会时间", "入会日期", "加入时间", "加入日期", "开通时间", "开通日期", "入网时间", "入网日期",
      "签约日期", "开始日期", "创建时间", "创建日期"}},
    {"end_date", false,
     {"enddate", "end", "churndate", "churnedat", "churnedon", "canceldate", "cancellationdate", "cancelledat",
      "canceledat", "cancelledon", "canceledon", "cancelleddate", "terminationdate", "terminatedat", "endedat",
      "closedate", "closedat", "unsubscribedat", "unsubscribedate", "leftat", "leavedate", "subscriptionend",
      "subscriptionenddate", "流失日期", "流失时间", "注销日期", "注销时间", "销户日期", "销户时间", "离网日期",
      "离网时间", "退订日期", "退订时间", "取消日期", "取消时间", "结束日期", "结束时间", "停用日期"}},
    {"churned", false,
     {"churned", "churn", "ischurned", "churnflag", "churnlabel", "exited", "attrited", "cancelled", "canceled",
      "customerstatus", "subscriptionstatus", "accountstatus", "memberstatus", "status", "是否流失", "流失",
      "已流失", "流失标志", "流失标识", "是否注销", "客户状态", "会员状态", "用户状态", "账户状态", "状态"}},
    {"tenure_months", false,
     {"tenure", "tenuremonths", "tenureinmonths", "monthsascustomer", "monthsactive", "lifetimemonths",
      "在网时长", "在网月数", "入网时长", "在网时长月", "使用月数", "会员月数", "客户月数"}},
    {"monthly_charges", false,
     {"monthlycharges", "monthlycharge", "monthlyfee", "monthlyamount", "monthlyspend", "mrr", "月费",
      "月租", "月消费", "月均消费", "每月费用", "月费用"}},
    {"total_charges", false,
     {"totalcharges", "totalcharge", "totalspend", "totalspent", "totalbilled", "lifetimespend", "累计消费",
      "累计消费金额", "总消费", "总消费金额", "总费用", "累计费用"}},
};

// The btyd_summary table (metrics.md section 1): per-customer summaries people and published
// data sets already have (lifetimes' cdnow_customers_summary*.csv, donations.csv). Names
// compare after normalize_header(), so "t_x" is "tx" and "T" is "t": "x", "tx" and "t" never
// collide. "frequency" and "recency" follow lifetimes (repeat purchase days; first to last
// purchase), not RFM. "n" is T: Fader, Hardie & Shang's BG/BB data has x, t_x, n (the
// number of transaction opportunities) and "# donors" (the weight). The customer id takes
// the customers table's synonyms.
const std::vector<FieldSpec> kBtydSummaryFields = {
    {"customer_id", false, kCustomerFields[0].synonyms},
    {"btyd_frequency", true,
     {"btydfrequency", "frequency", "x", "repeatpurchases", "repeatpurchasedays", "repeattransactions",
      "repeatorders", "numrepeatpurchases", "复购次数", "重复购买次数", "回购次数", "复购天数"}},
    {"t_x", true,
     {"tx", "recency", "lifetimesrecency", "btydrecency", "firsttolastpurchase", "timeoflastpurchase",
      "首末购买间隔", "首末次购买间隔", "首次到末次购买时长"}},
    {"T", true,
     {"t", "btydt", "age", "periods", "n", "opportunities", "observationlength", "observationperiod",
      "observationtime", "customerage", "firstpurchasetoend", "观察期", "观察期长度", "观察时长", "观测期"}},
    {"btyd_monetary", false,
     {"btydmonetary", "monetaryvalue", "monetary", "zbar", "mx", "m", "meanrepeatspend", "avgrepeatspend",
      "averagerepeatspend", "meanrepeatvalue", "平均复购金额", "复购平均金额", "平均复购消费"}},
    {"weight", false,
     {"weight", "weights", "count", "customers", "numcustomers", "numberofcustomers", "donors", "numdonors",
      "numberofdonors", "权重", "人数", "客户数", "顾客数", "会员数"}},
};

// Platform exports recognised by their headers, where the generic synonyms would choose
// wrong (Shopify's order id is "Name"). Normalised header names; see exports.md.
struct Profile {
  const char* name;
  std::vector<const char*> signature;  // all present: it is this export
  std::vector<std::pair<const char*, const char*>> fields;  // field -> normalised header
};
const std::vector<Profile> kOrderProfiles = {
    {"Shopify orders export",
     {"name", "financialstatus", "lineitemquantity", "createdat"},
     {{"order_id", "name"}, {"customer_id", "email"}, {"order_date", "createdat"}, {"amount", "total"},
      {"refunded_amount", "refundedamount"}, {"status", "financialstatus"}, {"channel", "source"}}},
};

// Strips one bracketed unit suffix ("金额(元)", "Amount (USD)") after normalising.
std::string strip_unit_suffix(std::string s) {
  static const char* const kUnits[] = {"元", "rmb", "cny", "usd", "eur", "gbp", "$", "¥", "￥"};
  for (const char* u : kUnits) {
    std::string_view sv(u);
    if (s.size() > sv.size() && s.compare(s.size() - sv.size(), sv.size(), sv) == 0) {
      return s.substr(0, s.size() - sv.size());
    }
  }
  return s;
}

bool is_position(const std::string& s) {
  return !s.empty() && s.size() < 6 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

const std::vector<FieldSpec>& table_fields(const std::string& table) {
  static const std::vector<FieldSpec> kNone;
  if (table == "orders") return kOrderFields;
  if (table == "customers") return kCustomerFields;
  if (table == "btyd_summary") return kBtydSummaryFields;
  return kNone;
}

std::string normalize_header(std::string_view h) {
  std::string out;
  out.reserve(h.size());
  size_t i = 0;
  while (i < h.size()) {
    unsigned char c = uint8_t(h[i]);
    // Fullwidth ASCII (U+FF01..U+FF5E) folds to ASCII; 　 (U+3000) is a space.
    if (c == 0xEF && i + 2 < h.size() && (uint8_t(h[i + 1]) == 0xBC || uint8_t(h[i + 1]) == 0xBD)) {
      unsigned cp = ((c & 0x0F) << 12) | ((uint8_t(h[i + 1]) & 0x3F) << 6) | (uint8_t(h[i + 2]) & 0x3F);
      if (cp >= 0xFF01 && cp <= 0xFF5E) {
        c = uint8_t(cp - 0xFEE0);
        i += 3;
        goto ascii;
      }
    }
    if (c == 0xE3 && i + 2 < h.size() && uint8_t(h[i + 1]) == 0x80 && uint8_t(h[i + 2]) == 0x80) {
      i += 3;
      continue;
    }
    if (c == 0xEF && i + 2 < h.size() && uint8_t(h[i + 1]) == 0xBB && uint8_t(h[i + 2]) == 0xBF) {
      i += 3;  // a stray BOM
      continue;
    }
    if (c >= 0x80) {
      out += char(c);
      ++i;
      continue;
    }
    ++i;
  ascii:
    if (c >= 'A' && c <= 'Z') c = uint8_t(c - 'A' + 'a');
    if (c == ' ' || c == '_' || c == '-' || c == '.' || c == '/' || c == '\t' || c == '(' || c == ')' ||
        c == '[' || c == ']' || c == '#' || c == ':' || c == '`' || c == '\'' || c == '"')
      continue;
    out += char(c);
  }
  return out;
}

std::vector<ColumnChoice> choose_columns(const std::string& table, const std::vector<std::string>& columns,
                                         bool has_header,
                                         const std::vector<std::vector<std::string>>& sample_rows,
                                         const std::vector<MappingOverride>& overrides) {
  const auto& fields = table_fields(table);
  std::vector<ColumnChoice> out;
  std::vector<bool> taken(columns.size(), false);
  std::map<std::string, size_t> slot;
  for (const auto& f : fields) {
    slot[f.field] = out.size();
    ColumnChoice c;
    c.field = f.field;
    out.push_back(c);
  }
  // 1. Overrides.
  for (const auto& o : overrides) {
    auto it = slot.find(o.field);
    if (it == slot.end()) {
      std::string known;
      for (const auto& f : fields) known += std::string(known.empty() ? "" : ", ") + f.field;
      throw InputError("unknown_field", "Unknown field \"" + o.field + "\" in the mapping; " + table +
                                            " fields are: " + known);
    }
    ColumnChoice& c = out[it->second];
    c.source = "option";
    if (o.column.empty()) {
      c.reason = "unmapped by option";
      continue;
    }
    int idx = -1;
    for (size_t i = 0; i < columns.size(); ++i)
      if (columns[i] == o.column) idx = int(i);
    if (idx < 0) {
      std::string want = normalize_header(o.column);
      for (size_t i = 0; i < columns.size() && idx < 0; ++i)
        if (normalize_header(columns[i]) == want) idx = int(i);
    }
    if (idx < 0 && is_position(o.column)) {
      int pos = std::stoi(o.column);
      if (pos >= 1 && size_t(pos) <= columns.size()) idx = pos - 1;
    }
    if (idx < 0)
      throw InputError("unknown_column", "The mapping names column \"" + o.column + "\" for " + o.field +
                                             ", but the file has no such column (it has " +
                                             std::to_string(columns.size()) + " columns)");
    c.index = idx;
    c.column = columns[size_t(idx)];
    c.reason = "chosen by option";
    taken[size_t(idx)] = true;
  }
  // 2. Known platform exports, then header synonyms (fields in table order, synonyms in
  // preference order).
  if (has_header) {
    std::vector<std::string> norm;
    for (const auto& col : columns) norm.push_back(normalize_header(col));
    auto column_of = [&](const char* h) -> int {
      for (size_t i = 0; i < norm.size(); ++i)
        if (norm[i] == h) return int(i);
      return -1;
    };
    if (table == "orders")
      for (const auto& p : kOrderProfiles) {
        if (!std::all_of(p.signature.begin(), p.signature.end(), [&](const char* h) { return column_of(h) >= 0; }))
          continue;
        for (const auto& [field, header] : p.fields) {
          ColumnChoice& c = out[slot[field]];
          int i = column_of(header);
          if (!c.source.empty() || i < 0 || taken[size_t(i)]) continue;
          c.index = i;
          c.column = columns[size_t(i)];
          c.source = "header";
          c.reason = std::string(p.name) + ": \"" + columns[size_t(i)] + "\" is its " + field;
          taken[size_t(i)] = true;
        }
        break;
      }
    for (const auto& f : fields) {
      ColumnChoice& c = out[slot[f.field]];
      if (!c.source.empty()) continue;
      for (const char* syn : f.synonyms) {
        for (size_t i = 0; i < columns.size(); ++i) {
          if (taken[i]) continue;
          if (norm[i] == syn || strip_unit_suffix(norm[i]) == syn) {
            c.index = int(i);
            c.column = columns[i];
            c.source = "header";
            c.reason = "header \"" + columns[i] + "\" matches \"" + syn + "\"";
            taken[i] = true;
            break;
          }
        }
        if (c.index >= 0) break;
      }
    }
    return out;
  }
  // 3. No header: judge columns by their values (CDNOW_sample.txt: id, id, date, count, amount).
  if (table != "orders" || sample_rows.empty()) return out;
  size_t ncol = columns.size();
  // The reader's overflow column holds a few rows' extra fields (an amount cut at its
  // thousands separator, say): never a column to guess from (it can still be mapped by option).
  for (size_t i = 0; i < ncol; ++i)
    if (columns[i] == kOverflowColumn) taken[i] = true;
  std::vector<double> date_share(ncol, 0), amount_share(ncol, 0), decimal_share(ncol, 0);
  for (size_t i = 0; i < ncol; ++i) {
    size_t n = 0, dates = 0, amounts = 0, decimals = 0;
    for (const auto& row : sample_rows) {
      std::string_view v = trim(row[i]);
      if (v.empty()) continue;
      ++n;
      RawDate d;
      if (parse_date(v, d) && (v.size() >= 8)) ++dates;
      ParsedAmount a;
      if (parse_amount(v, DecimalMark::unknown, a)) {
        ++amounts;
        if (v.find('.') != std::string_view::npos || v.find(',') != std::string_view::npos) ++decimals;
      }
    }
    if (n) {
      date_share[i] = double(dates) / double(n);
      amount_share[i] = double(amounts) / double(n);
      decimal_share[i] = double(decimals) / double(n);
    }
  }
  auto pick = [&](const char* field, size_t col, const std::string& why) {
    ColumnChoice& c = out[slot[field]];
    if (!c.source.empty()) return;
    c.index = int(col);
    c.column = columns[col];
    c.source = "values";
    c.reason = why;
    taken[col] = true;
  };
  for (size_t i = 0; i < ncol; ++i)
    if (!taken[i] && date_share[i] >= 0.9) {
      pick("order_date", i, "no header; the values read as dates");
      break;
    }
  for (size_t i = ncol; i-- > 0;)
    if (!taken[i] && amount_share[i] >= 0.9 && decimal_share[i] >= 0.5) {
      pick("amount", i, "no header; the last column of decimal amounts");
      break;
    }
  for (size_t i = 0; i < ncol; ++i)
    if (!taken[i]) {
      pick("customer_id", i, "no header; the first column that is neither a date nor an amount");
      break;
    }
  return out;
}

Classification classify_columns(const std::vector<std::string>& columns, bool has_header,
                                 const std::vector<MappingOverride>& overrides) {
  Classification out;
  if (!has_header) {
    out.table = "orders";
    out.score = 0;
    out.reason = "no header: read as orders, its columns judged by their values";
    return out;
  }
  size_t data_columns = 0;
  for (const auto& c : columns) data_columns += c != kOverflowColumn;
  std::string said;
  double best = -1;
  for (const char* table : {"orders", "customers", "btyd_summary"}) {
    // Overrides naming fields this kind does not have are the other kinds' business.
    std::vector<MappingOverride> mine;
    for (const auto& o : overrides)
      for (const auto& f : table_fields(table))
        if (o.field == f.field) mine.push_back(o);
    std::vector<ColumnChoice> choice;
    try {
      choice = choose_columns(table, columns, true, {}, mine);
    } catch (const InputError&) {
      continue;  // a mapping to a column the file lacks: the load itself will say so
    }
    auto mapped = [&](const char* field) {
      for (const auto& c : choice)
        if (c.field == field) return c.index >= 0;
      return false;
    };
    std::vector<std::string> missing;
    if (std::string(table) == "orders") {
      if (!mapped("order_date")) missing.push_back("order_date");
      if (!mapped("amount") && !(mapped("quantity") && mapped("unit_price"))) missing.push_back("amount");
    } else {
      for (const auto& f : table_fields(table))
        if (f.required && !mapped(f.field)) missing.push_back(f.field);
    }
    std::string fields;
    size_t claimed = 0;
    for (const auto& c : choice)
      if (c.index >= 0) ++claimed, fields += (fields.empty() ? "" : ", ") + c.field;
    const double score = data_columns ? double(claimed) / double(data_columns) : 0;
    said += std::string(said.empty() ? "" : "; ") + table + ": ";
    if (!missing.empty()) {
      std::string m;
      for (const auto& f : missing) m += (m.empty() ? "" : ", ") + f;
      said += "no " + m;
      continue;
    }
    said += std::to_string(claimed) + " of " + std::to_string(data_columns) + " columns (" + fields + ")";
    if (score > best) best = score, out.table = table, out.score = score;
  }
  out.reason = said;
  return out;
}

}  // namespace custlens
