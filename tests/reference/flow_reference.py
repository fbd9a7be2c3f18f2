#!/usr/bin/python3
"""Customer flow by hand (pandas): metrics.md section 3 on Online Retail and CDNOW_master.

An independent recomputation of the engine's monthly customer flow and acquisition-cohort
matrix, straight from the spec's set definitions (no intervals, no difference arrays):

- base(t) = customers with a purchase on a day d, t - lapse_days < d <= t (lapse 180);
- month p = [a, b], a = max(month start, first date), b = min(month end, as_of);
  S = base(a - 1), E = base(b), N = customers whose first purchase is in [a, b];
- retained = S & E, lost = S - E, reactivated = E - S - N, new_in_base = N & E;
- cohort = month of the first purchase; active[c][k] = cohort customers with >= 1 purchase
  in month c + k; revenue[c][k] = net of all their orders (purchases and returns) dated in
  month c + k (k >= 0), as an exact decimal string.

The orders (lines -> orders, purchase / return, guests) come from spec_reference.py, the
pandas reference of sections 1 and 2; it imports nothing from the engine.

    /usr/bin/python3 tests/reference/flow_reference.py            # writes flow_online_retail.json, flow_cdnow_master.json
    /usr/bin/python3 tests/reference/flow_reference.py cdnow_master --stdout
"""
import json
import os
import sys

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spec_reference as ref  # noqa: E402

LAPSE_DAYS = 180
DAY = pd.Timedelta(days=1)


def flow(lines, lapse_days=LAPSE_DAYS):
    orders = ref.build_orders(lines)
    first_date, as_of = lines["day"].min(), lines["day"].max()
    ident = orders[~orders["is_guest"]]
    purchases = ident[ident["is_purchase"]][["customer", "day"]].drop_duplicates()
    first_purchase = purchases.groupby("customer")["day"].min()

    def base(t):
        d = purchases["day"]
        return set(purchases.loc[(d > t - lapse_days * DAY) & (d <= t), "customer"])

    months = pd.period_range(first_date.to_period("M"), as_of.to_period("M"), freq="M")
    out = []
    for m in months:
        a = max(m.start_time.normalize(), first_date)
        b = min(m.end_time.normalize(), as_of)
        S, E = base(a - DAY), base(b)
        N = set(first_purchase[(first_purchase >= a) & (first_purchase <= b)].index)
        row = {
            "period": str(m),
            "a": ref.iso(a),
            "b": ref.iso(b),
            "partial": bool(a != m.start_time.normalize() or b != m.end_time.normalize()),
            "warm_up": bool((a - first_date).days < lapse_days),
            "customers_start": len(S),
            "customers_end": len(E),
            "new_customers": len(N),
            "new_in_base": len(N & E),
            "retained": len(S & E),
            "reactivated": len(E - S - N),
            "lost": len(S - E),
        }
        assert row["customers_end"] - row["customers_start"] == row["new_in_base"] + row["reactivated"] - row["lost"]
        row["retention_rate"] = ref.ratio(row["retained"], row["customers_start"])
        row["churn_rate"] = ref.ratio(row["lost"], row["customers_start"])
        out.append(row)

    # The acquisition-cohort matrix, by month.
    cohort_of = first_purchase.dt.to_period("M")
    ident = ident[ident["customer"].isin(cohort_of.index)].copy()
    ident["cohort"] = ident["customer"].map(cohort_of)
    ident["m"] = ident["day"].dt.to_period("M")
    ident["k"] = (ident["m"] - ident["cohort"]).apply(lambda x: x.n)
    cells = ident[ident["k"] >= 0]
    active = cells[cells["is_purchase"]].groupby(["cohort", "k"])["customer"].nunique()
    revenue = cells.groupby(["cohort", "k"])["net"].sum()
    size = cohort_of.value_counts()
    cohorts = {"months": [str(m) for m in months], "size": [], "active": [], "revenue": []}
    for i, c in enumerate(months):
        cohorts["size"].append(int(size.get(c, 0)))
        ks = range(len(months) - i)
        cohorts["active"].append([int(active.get((c, k), 0)) for k in ks])
        cohorts["revenue"].append([ref.money(int(revenue.get((c, k), 0))) for k in ks])

    lapsed = int(((as_of - purchases.groupby("customer")["day"].max()).dt.days >= lapse_days).sum())
    return {
        "first_date": ref.iso(first_date),
        "as_of": ref.iso(as_of),
        "lapse_days": lapse_days,
        "customers": int(len(first_purchase)),
        "lapsed_customers": lapsed,
        "monthly": out,
        "cohorts": cohorts,
    }


def do(name):
    if name == "online_retail":
        lines, _, _ = ref.load_online_retail(os.path.join(ref.DATA_DIR, "online-retail-dataset.csv.gz"))
        src = "online-retail-dataset.csv.gz"
    else:
        lines, _, _ = ref.load_cdnow_master(os.path.join(ref.DATA_DIR, "CDNOW_master.txt.gz"))
        src = "CDNOW_master.txt.gz"
    res = {"source": src, "spec": "/work/shared/spec/metrics.md section 3 (customer base, flow, cohort_retention)"}
    res.update(flow(lines))
    return res


def main(argv):
    names = [a for a in argv if not a.startswith("--")] or ["online_retail", "cdnow_master"]
    for name in names:
        res = do(name)
        text = json.dumps(res, indent=1, ensure_ascii=False) + "\n"
        if "--stdout" in argv:
            sys.stdout.write(text)
        else:
            with open(os.path.join(ref.OUT_DIR, f"flow_{name}.json"), "w") as f:
                f.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
