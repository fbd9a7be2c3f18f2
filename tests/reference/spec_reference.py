#!/usr/bin/python3
"""Independent "analyst by hand" reference for custlens' order rules.

This script re-derives, in plain pandas, the figures the engine must produce for three
public data sets, following `/work/shared/spec/metrics.md` (Conventions, section 1
"Order semantics" and row accounting, section 2 Value, section 5 RFM / BTYD summary).
It deliberately shares no code with the engine: its only job is to be a second,
readable opinion that the engine's JSON can be diffed against.

Usage (Debian's Python, which has pandas 1.5.3):
    /usr/bin/python3 tests/reference/spec_reference.py            # writes all three JSONs
    /usr/bin/python3 tests/reference/spec_reference.py online_retail --stdout
    /usr/bin/python3 tests/reference/spec_reference.py cdnow_master cdnow_sample

Money is held as integer ten-thousandths (1 unit = 0.0001 currency) so that every sum
is exact; it is turned into a decimal string only when printed. Derived ratios (aov,
repeat rate, ...) are printed as floats at full precision. See README.md for the rules.
"""

import json
import os
import sys
from decimal import Decimal
from fractions import Fraction

import pandas as pd

DATA_DIR = os.environ.get("CUSTLENS_DATA_DIR", "/work/shared/data")
OUT_DIR = os.path.dirname(os.path.abspath(__file__))

# Ten-thousandths: UnitPrice has at most 3 decimals and CDNOW values 2, so every line
# amount (integer quantity x price) is an exact integer in this unit.
SCALE = 10_000
DAYS_PER_YEAR = Decimal("365.25")
MIN_SPAN_DAYS_FOR_FREQUENCY = 90

BTYD_CALIBRATION_END = pd.Timestamp("1997-09-30")


# --------------------------------------------------------------------------------------
# Exact number helpers
# --------------------------------------------------------------------------------------

def parse_money_units(s: pd.Series):
    """Decimal strings -> int64 ten-thousandths, plus a mask of unreadable values.

    Parsing the text (rather than going through float) is what keeps the sums exact:
    0.1 + 0.2 style drift over 500k lines would move the totals in the last cent.
    """
    m = s.str.strip().str.extract(r"^(?P<sign>[-+]?)(?P<whole>\d+)(?:\.(?P<frac>\d{0,4}))?$")
    bad = m["whole"].isna()
    whole = m["whole"].fillna("0").astype("int64")
    frac = m["frac"].fillna("").str.pad(4, side="right", fillchar="0").astype("int64")
    units = whole * SCALE + frac
    units = units.where(m["sign"].fillna("") != "-", -units)
    return units.astype("int64"), bad


def parse_int(s: pd.Series):
    m = s.str.strip().str.extract(r"^([-+]?\d+)$")[0]
    bad = m.isna()
    return m.fillna("0").astype("int64"), bad


def money(units) -> str:
    """Exact decimal string, at least 2 decimals, no float rounding anywhere."""
    d = Decimal(int(units)) / SCALE
    q = d.quantize(Decimal("0.01"))
    return str(q) if q == d else str(d.normalize())


def money2(units) -> str:
    """The same amount rounded half-up to cents (what a report would display)."""
    return str((Decimal(int(units)) / SCALE).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP"))


def round_half_up_2(fr: Fraction) -> Decimal:
    """Exact rational -> Decimal rounded half-up to 2 places (how the CDNOW files round)."""
    return (Decimal(fr.numerator) / Decimal(fr.denominator)).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def ratio(num, den):
    """num / den as a float, or None when the denominator is 0 (the spec's null)."""
    if den == 0:
        return None
    return float(Fraction(int(num), int(den)))


def money_ratio(num_units, den):
    """(money in units) / count, as a float in currency."""
    if den == 0:
        return None
    return float(Fraction(int(num_units), int(den) * SCALE))


def iso(ts) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m-%d")


# --------------------------------------------------------------------------------------
# Loaders. Each returns a line table with the columns
#   order_id, customer ('' = guest), day (datetime64, civil day), amount (int units),
#   qty (int or None column), line_no (1-based line in the file)
# plus the row-accounting numbers and file-specific facts.
# --------------------------------------------------------------------------------------

def _reject(df, bad_mask, reason, rejected):
    """Record rejected rows by reason with a few example line numbers (spec: 'rejected')."""
    n = int(bad_mask.sum())
    if n:
        rejected[reason] = {"count": n, "example_lines": df.loc[bad_mask, "line_no"].head(5).tolist()}
    return df[~bad_mask]


def load_online_retail(path):
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw["line_no"] = raw.index + 2  # +1 for 1-based, +1 for the header line
    facts = {}

    # "Exact duplicate lines within one file are kept and counted": a line is counted
    # when all 8 fields equal those of an earlier line (the first occurrence is not).
    facts["duplicate_lines"] = int(raw.drop(columns="line_no").duplicated(keep="first").sum())

    qty, bad_qty = parse_int(raw["Quantity"])
    price, bad_price = parse_money_units(raw["UnitPrice"])
    # M/D/YYYY H:MM, month first, no padding. Parsed by hand so that a D/M misread is
    # impossible; only the civil day is kept (order metrics never need the time).
    dm = raw["InvoiceDate"].str.extract(r"^(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})$")
    day = pd.to_datetime(
        dict(year=pd.to_numeric(dm[2]), month=pd.to_numeric(dm[0]), day=pd.to_numeric(dm[1])),
        errors="coerce",
    )
    raw["qty"] = qty
    raw["price"] = price
    raw["day"] = day
    raw["order_id"] = raw["InvoiceNo"]
    raw["customer"] = raw["CustomerID"].str.strip()

    rejected = {}
    df = _reject(raw, day.isna(), "unreadable InvoiceDate", rejected)
    df = _reject(df, bad_qty[df.index] | bad_price[df.index], "unreadable Quantity/UnitPrice", rejected)
    df = _reject(df, df["order_id"].str.strip() == "", "missing InvoiceNo", rejected)
    df = df.copy()
    # No amount column is mapped, so the spec says: line amount = quantity x unit_price.
    df["amount"] = df["qty"] * df["price"]

    facts["sum_quantity_x_unitprice_all_lines"] = money(df["amount"].sum())
    # Online Retail's "damaged"/"check" stock lines: negative quantity, no value, no buyer.
    stock_adj = (df["qty"] < 0) & (df["price"] == 0) & (df["customer"] == "")
    facts["stock_adjustment_lines"] = int(stock_adj.sum())
    facts["stock_adjustment_lines_outside_C_invoices"] = int((stock_adj & ~df["order_id"].str.startswith("C")).sum())
    facts["lines_with_empty_customer"] = int((df["customer"] == "").sum())
    facts["distinct_customer_ids_in_file"] = int(df.loc[df["customer"] != "", "customer"].nunique())

    accounting = {"read": len(raw), "skipped": 0, "rejected": rejected,
                  "rejected_total": sum(r["count"] for r in rejected.values()), "used": len(df)}
    return df[["order_id", "customer", "day", "amount", "qty", "line_no"]], accounting, facts


def _load_cdnow(path, names, customer_col, header):
    """CDNOW files: fixed width, leading space, CRLF -> split on whitespace."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, delim_whitespace=True,
                      header=0 if header else None, names=names)
    raw["line_no"] = raw.index + (2 if header else 1)
    facts = {"duplicate_lines": int(raw[names].duplicated(keep="first").sum())}

    qty, bad_qty = parse_int(raw["cds"])
    amount, bad_amount = parse_money_units(raw["value"])
    day = pd.to_datetime(raw["date"], format="%Y%m%d", errors="coerce")
    raw["qty"], raw["amount"], raw["day"] = qty, amount, day
    raw["customer"] = raw[customer_col].str.strip()
    # No order_id column: the spec makes each row its own order. Several rows of one
    # customer on one day therefore stay separate orders (they are merged only for the
    # BTYD summary, which counts purchase *days*).
    raw["order_id"] = "row" + raw["line_no"].astype(str)

    rejected = {}
    df = _reject(raw, day.isna(), "unreadable date", rejected)
    df = _reject(df, bad_amount[df.index], "unreadable dollar_value", rejected)
    df = _reject(df, bad_qty[df.index], "unreadable number_of_cds", rejected)
    facts["zero_value_lines"] = int((df["amount"] == 0).sum())
    facts["distinct_customer_days"] = int(df[["customer", "day"]].drop_duplicates().shape[0])
    accounting = {"read": len(raw), "skipped": 0, "rejected": rejected,
                  "rejected_total": sum(r["count"] for r in rejected.values()), "used": len(df)}
    return df[["order_id", "customer", "day", "amount", "qty", "line_no"]].copy(), accounting, facts


def load_cdnow_master(path):
    return _load_cdnow(path, ["customer_id", "date", "cds", "value"], "customer_id", header=True)


def load_cdnow_sample(path):
    # Column 2 (the 4-digit sample id) is the customer: the published summaries use it.
    return _load_cdnow(path, ["master_id", "sample_id", "date", "cds", "value"], "sample_id", header=False)


# --------------------------------------------------------------------------------------
# Orders: lines -> one row per order, classified purchase / return
# --------------------------------------------------------------------------------------

def build_orders(lines):
    g = lines.groupby("order_id", sort=False)
    # Order-level fields come from the order's first line in file order (spec: fields an
    # export fills on the first line are the order's). lines keeps file order, so
    # drop_duplicates(keep="first") is exactly "the first line".
    first = lines.drop_duplicates("order_id", keep="first").set_index("order_id")[["customer", "day", "line_no"]]
    orders = first.join(pd.DataFrame({
        # No refunded_amount column and the amount is line-level, so net == gross.
        "net": g["amount"].sum(),
        "lines": g.size(),
        "has_negative_line": g["amount"].min() < 0,
        "has_negative_qty": g["qty"].min() < 0,
    }))
    # THE RULE (spec section 1): purchase when net > 0, or net == 0 with no negative line,
    # no negative quantity and no refunded amount (there is none here). Everything else is
    # a return, which counts in revenue and nowhere else.
    orders["is_purchase"] = (orders["net"] > 0) | (
        (orders["net"] == 0) & ~orders["has_negative_line"] & ~orders["has_negative_qty"])
    orders["is_guest"] = orders["customer"] == ""
    orders["month"] = orders["day"].dt.strftime("%Y-%m")
    return orders


# --------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------

def per_customer_table(orders, as_of):
    """One row per customer (>= 1 purchase) with the spec's per-customer fields."""
    ident = orders[~orders["is_guest"]]
    purch = ident[ident["is_purchase"]]
    pc = purch.groupby("customer").agg(
        orders=("net", "size"),
        first_purchase=("day", "min"),
        last_purchase=("day", "max"),
        purchase_days=("day", "nunique"),
        purchase_net=("net", "sum"),
    )
    # total_spend is net: a customer's returns reduce it (spec: "total_spend (net)").
    pc["total_spend"] = ident.groupby("customer")["net"].sum().reindex(pc.index).astype("int64")
    pc["recency_days"] = (as_of - pc["last_purchase"]).dt.days
    pc["btyd_frequency"] = pc["purchase_days"] - 1
    pc["t_x_days"] = (pc["last_purchase"] - pc["first_purchase"]).dt.days
    pc["T_days"] = (as_of - pc["first_purchase"]).dt.days
    return pc


def headline(orders, first_date, as_of):
    purch = orders[orders["is_purchase"]]
    rets = orders[~orders["is_purchase"]]
    ident = orders[~orders["is_guest"]]
    ident_purch = purch[~purch["is_guest"]]
    guest = orders[orders["is_guest"]]
    pc = per_customer_table(orders, as_of)

    revenue = int(orders["net"].sum())
    n_purch = len(purch)
    n_cust = len(pc)
    span_days = (as_of - first_date).days + 1

    out = {
        "orders_distinct": len(orders),
        "purchases": n_purch,               # = the `orders` metric
        "returns": len(rets),
        "revenue": money(revenue),
        "revenue_2dp": money2(revenue),
        "revenue_of_purchases": money(purch["net"].sum()),
        "revenue_of_returns": money(rets["net"].sum()),
        "aov": money_ratio(revenue, n_purch),
        "customers": n_cust,
        # customer_aov (custlens' definition, docs/metrics.md): net spend (purchases and
        # returns) of the customers, i.e. ids with >= 1 purchase, / their purchases. Returns
        # by ids that never purchase here (returns of earlier purchases) are in revenue only.
        "customer_aov": money_ratio(pc["total_spend"].sum(), len(ident_purch)),
        "customer_aov_inputs": {
            "customer_revenue": money(pc["total_spend"].sum()),
            "purchases_identified": len(ident_purch),
            # The two other readings the spec's words allow, for comparison:
            "alt_net_of_every_order_with_a_customer_id": money(ident["net"].sum()),
            "alt_purchase_net_only_aov": money_ratio(ident_purch["net"].sum(), len(ident_purch)),
        },
        "repeat_purchase_rate": ratio((pc["orders"] >= 2).sum(), n_cust),
        "repeat_purchase_rate_inputs": {"customers_with_2plus_purchases": int((pc["orders"] >= 2).sum()),
                                        "customers_with_1plus_purchase": n_cust},
        "purchase_frequency": None,
        "purchase_frequency_inputs": {
            "purchases_identified": len(ident_purch), "customers": n_cust,
            "span_days": span_days, "years": float(Decimal(span_days) / DAYS_PER_YEAR)},
        "guest": {
            "purchases": int(purch["is_guest"].sum()),
            "returns": int(rets["is_guest"].sum()),
            "revenue": money(guest["net"].sum()),   # purchases + returns without customer
            "revenue_of_purchases": money(purch.loc[purch["is_guest"], "net"].sum()),
        },
        "customer_ids_with_returns_only": int(ident.loc[~ident["customer"].isin(pc.index), "customer"].nunique()),
        "zero_net_purchases": int((purch["net"] == 0).sum()),
        "zero_net_returns": int((rets["net"] == 0).sum()),
        "first_date": iso(first_date),
        "as_of": iso(as_of),
    }
    if span_days >= MIN_SPAN_DAYS_FOR_FREQUENCY and n_cust:
        # purchases / customers / years, years = span_days / 365.25
        out["purchase_frequency"] = float(Fraction(len(ident_purch), n_cust) * Fraction(DAYS_PER_YEAR) / span_days)
    else:
        out["purchase_frequency_reason"] = "data span fewer than 90 days" if n_cust else "no customers"

    out["rfm_sums"] = {
        "customers": n_cust,
        "recency_days": int(pc["recency_days"].sum()),
        "orders": int(pc["orders"].sum()),
        "total_spend": money(pc["total_spend"].sum()),
        "purchase_net": money(pc["purchase_net"].sum()),
        "btyd_frequency": int(pc["btyd_frequency"].sum()),
        "t_x_days": int(pc["t_x_days"].sum()),
        "T_days": int(pc["T_days"].sum()),
        "customers_with_mean_order_value_le_0": int((pc["total_spend"] <= 0).sum()),
        "one_time_buyers": int((pc["orders"] == 1).sum()),
        "customers_with_2plus_purchase_days": int((pc["purchase_days"] >= 2).sum()),
    }
    return out


def monthly(orders, first_date, as_of, months=None):
    """Calendar-month series. A month covers [max(month start, first date), min(month end, as_of)]."""
    if months is None:
        months = pd.period_range(first_date, as_of, freq="M")
    series = []
    for p in months:
        p = pd.Period(p, freq="M")
        a = max(p.start_time.normalize(), first_date)
        b = min(p.end_time.normalize(), as_of)
        o = orders[orders["month"] == str(p)]
        purch = o[o["is_purchase"]]
        ip = purch[~purch["is_guest"]]
        per_c = ip.groupby("customer").size()
        rev = int(o["net"].sum())
        series.append({
            "period": str(p), "a": iso(a), "b": iso(b),
            "partial": bool(a > p.start_time.normalize() or b < p.end_time.normalize()),
            "revenue": money(rev),
            "orders": len(purch),
            "returns": int((~o["is_purchase"]).sum()),
            "customers": len(per_c),
            "aov": money_ratio(rev, len(purch)),
            "repeat_purchase_rate": ratio((per_c >= 2).sum(), len(per_c)),
            "customers_with_2plus_purchases": int((per_c >= 2).sum()),
            # per period, not annualised (spec section 2)
            "purchase_frequency": ratio(len(ip), len(per_c)),
            "guest_purchases": int(purch["is_guest"].sum()),
            "guest_revenue": money(o.loc[o["is_guest"], "net"].sum()),
        })
    return series


def btyd_calibration(orders, cal_end, summary_path, with_tx_path=None):
    """BTYD summary at a calibration end, in weeks, checked against the published file.

    Purchases only (returns excluded); all purchases of one day are one transaction.
    """
    p = orders[orders["is_purchase"] & ~orders["is_guest"] & (orders["day"] <= cal_end)]
    days = p.groupby(["customer", "day"])["net"].sum().reset_index()
    g = days.groupby("customer")
    s = pd.DataFrame({"first": g["day"].min(), "last": g["day"].max(), "n_days": g.size()})
    s["frequency"] = s["n_days"] - 1
    # Kept as exact fractions: the published files round half-up to 2 decimals, and
    # float rounding of e.g. 22.345 would go the other way (72 zbar rows differ so).
    s["t_x"] = [Fraction(int(d), 7) for d in (s["last"] - s["first"]).dt.days]
    s["T"] = [Fraction(int(d), 7) for d in (cal_end - s["first"]).dt.days]
    # btyd_monetary: mean value of the repeat purchase days = (all days - first day) / x.
    first_day_value = days.sort_values("day", kind="stable").groupby("customer")["net"].first()
    repeat_total = g["net"].sum() - first_day_value
    s["btyd_monetary"] = [Fraction(int(t), int(x) * SCALE) if x else Fraction(0)
                          for t, x in zip(repeat_total.reindex(s.index), s["frequency"])]
    s.index = s.index.astype(int)

    pub = pd.read_csv(summary_path).set_index("ID")
    j = pub.join(s, rsuffix="_ours", how="outer")

    def eq(ours, published):
        return pd.Series([isinstance(o, Fraction) and pd.notna(v) and round_half_up_2(o) == Decimal(str(v))
                          for o, v in zip(ours, published)], index=ours.index)

    match_f = j["frequency_ours"] == j["frequency"]
    match_tx = eq(j["t_x"], j["recency"])
    match_T = eq(j["T_ours"], j["T"])
    allm = match_f & match_tx & match_T
    out = {
        "calibration_end": iso(cal_end),
        "unit": "weeks",
        "customers_ours": len(s),
        "rows_published": len(pub),
        "rows_matching_to_2dp": int(allm.sum()),
        "frequency_matches": int(match_f.sum()),
        "t_x_matches": int(match_tx.sum()),
        "T_matches": int(match_T.sum()),
        "mismatch_examples": j.loc[~allm, ["frequency", "recency", "T", "frequency_ours", "t_x", "T_ours"]]
                                .head(5).reset_index().astype(str).to_dict("records"),
        "repeat_buyers": int((s["frequency"] > 0).sum()),
        "sum_frequency": int(s["frequency"].sum()),
        "sum_t_x_weeks": float(sum(s["t_x"])),
        "sum_T_weeks": float(sum(s["T"])),
        "sum_btyd_monetary": float(sum(s["btyd_monetary"])),
    }
    if with_tx_path and os.path.exists(with_tx_path):
        w = pd.read_csv(with_tx_path).set_index("ID")
        jm = w.join(s[["btyd_monetary", "frequency"]], how="outer")
        mm = eq(jm["btyd_monetary"], jm["zbar"]) & (jm["frequency"] == jm["x"])
        out["btyd_monetary_vs_zbar_matches_to_2dp"] = int(mm.sum())
        out["rows_published_with_transactions"] = len(w)
    return out


# --------------------------------------------------------------------------------------
# Per-file drivers
# --------------------------------------------------------------------------------------

def run(lines, accounting, facts, source, months=None):
    orders = build_orders(lines)
    # first date and as_of range over the used rows (spec: row accounting)
    first_date, as_of = lines["day"].min(), lines["day"].max()
    res = {
        "source": source,
        "spec": "/work/shared/spec/metrics.md (sections: Conventions, 1, 2, 5)",
        "rows": {**accounting, "rows_after_as_of": 0},
        "facts": facts,
        "whole_range": headline(orders, first_date, as_of),
        "monthly": monthly(orders, first_date, as_of, months),
    }
    return res, orders


def do_online_retail():
    lines, acc, facts = load_online_retail(os.path.join(DATA_DIR, "online-retail-dataset.csv.gz"))
    res, orders = run(lines, acc, facts, "online-retail-dataset.csv.gz")
    rets = orders[~orders["is_purchase"]]
    purch = orders[orders["is_purchase"]]
    idx = pd.Series(orders.index, index=orders.index)
    res["facts"].update({
        "orders_with_C_prefix": int(idx.str.startswith("C").sum()),
        "returns_with_C_prefix": int(rets.index.str.startswith("C").sum()),
        "returns_with_A_prefix": int(rets.index.str.startswith("A").sum()),
        "returns_other": int((~rets.index.str.match(r"^[CA]")).sum()),
        "returns_other_all_stock_adjustment": int(
            (~rets.index.str.match(r"^[CA]") & (rets["net"] == 0) & rets["is_guest"]).sum()),
        "purchases_with_A_prefix": purch.index[purch.index.str.startswith("A")].tolist(),
        "purchases_with_a_negative_line": int(purch["has_negative_line"].sum()),
        "orders_spanning_several_days": int(lines.groupby("order_id")["day"].nunique().gt(1).sum()),
    })
    return res


def do_cdnow_master():
    lines, acc, facts = load_cdnow_master(os.path.join(DATA_DIR, "CDNOW_master.txt.gz"))
    res, _ = run(lines, acc, facts, "CDNOW_master.txt.gz",
                 months=pd.period_range("1997-01", "1998-06", freq="M"))
    return res


def do_cdnow_sample():
    lines, acc, facts = load_cdnow_sample(os.path.join(DATA_DIR, "CDNOW_sample.txt.gz"))
    res, orders = run(lines, acc, facts, "CDNOW_sample.txt.gz",
                      months=pd.period_range("1997-01", "1998-06", freq="M"))
    res["btyd_calibration"] = btyd_calibration(
        orders, BTYD_CALIBRATION_END,
        os.path.join(DATA_DIR, "cdnow_customers_summary.csv.gz"),
        os.path.join(DATA_DIR, "cdnow_customers_summary_with_transactions.csv.gz"))
    return res


JOBS = {
    "online_retail": (do_online_retail, "online_retail.json"),
    "cdnow_master": (do_cdnow_master, "cdnow_master.json"),
    "cdnow_sample": (do_cdnow_sample, "cdnow_sample.json"),
}


def main(argv):
    to_stdout = "--stdout" in argv
    names = [a for a in argv if not a.startswith("--")] or list(JOBS)
    for name in names:
        if name not in JOBS:
            sys.exit(f"unknown data set {name!r}; choose from {', '.join(JOBS)}")
        fn, out_name = JOBS[name]
        text = json.dumps(fn(), indent=2, ensure_ascii=False) + "\n"
        if to_stdout:
            sys.stdout.write(text)
        else:
            path = os.path.join(OUT_DIR, out_name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
