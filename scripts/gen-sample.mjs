// A seeded, realistic orders export for the sample analysis (no real data leaves anyone's
// shop, so the sample is made up): 2 years of a small online shop with repeat buyers,
// guest checkouts, cancelled and refunded orders, returns, three channels and a few messy
// rows (a duplicate, a blank line, an impossible date, an unreadable amount, a totals line).
// usage: node scripts/gen-sample.mjs OUT.csv [--customers N] [--seed S]
import { writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const out = args[0];
if (!out) {
  process.stderr.write('usage: node scripts/gen-sample.mjs OUT.csv [--customers N] [--seed S]\n');
  process.exit(2);
}
const opt = (name, d) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const nCustomers = opt('--customers', 2000);
let seed = opt('--seed', 42) >>> 0;

// mulberry32: small, seeded, good enough for sample data.
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const expo = (mean) => -Math.log(1 - rand()) * mean;
const pick = (xs, ws) => {
  let r = rand() * ws.reduce((a, b) => a + b, 0);
  for (let i = 0; i < xs.length; i++) if ((r -= ws[i]) < 0) return xs[i];
  return xs[xs.length - 1];
};

const start = Date.UTC(2023, 0, 1) / 86400000;
const end = Date.UTC(2024, 11, 31) / 86400000;
const iso = (d) => new Date(d * 86400000).toISOString().slice(0, 10);
const rows = [];
let orderNo = 100000;
for (let c = 1; c <= nCustomers; c++) {
  const id = `C${String(c).padStart(5, '0')}`;
  const channel = pick(['online', 'mobile', 'store'], [5, 3, 2]);
  const spend = 20 + expo(60); // the customer's typical basket
  const gapDays = 20 + expo(120); // their purchase rhythm
  const lifetime = expo(400); // how long they stay
  let day = start + Math.floor(rand() * (end - start));
  const last = Math.min(end, day + lifetime);
  while (day <= last) {
    const amount = Math.max(1, spend * (0.5 + rand())).toFixed(2);
    const status = pick(['paid', 'cancelled', 'refunded', 'pending'], [92, 4, 3, 1]);
    const no = ++orderNo;
    rows.push([no, id, iso(day), amount, status, pick([channel, 'online'], [8, 2])]);
    if (status === 'paid' && rand() < 0.03) { // a partial return a few days later
      rows.push([no, id, iso(Math.min(end, day + 3 + Math.floor(rand() * 10))), `-${(amount * 0.4).toFixed(2)}`, 'paid', channel]);
    }
    day += Math.max(1, Math.floor(expo(gapDays)));
  }
}
// Guest checkouts: no customer id.
for (let g = 0; g < nCustomers / 4; g++) {
  rows.push([++orderNo, '', iso(start + Math.floor(rand() * (end - start))), (15 + expo(40)).toFixed(2), 'paid', 'online']);
}
rows.sort((a, b) => (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : a[0] - b[0]));
const lines = ['order_id,customer_id,order_date,amount,status,channel', ...rows.map((r) => r.join(','))];
// A few messy rows, as real exports have them (each shows up in the data-quality panel):
// a big order written with a thousands separator (quoted), a line exported twice, a blank
// line, a date that does not exist, an unreadable amount, and a totals line at the end.
const at = () => 1 + Math.floor(rand() * (lines.length - 1));
lines.splice(at(), 0, `${++orderNo},C00007,2024-03-15,"1,234.50",paid,store`);
const dup = at();
lines.splice(dup, 0, lines[dup]);
lines.splice(at(), 0, '');
lines.splice(at(), 0, `${++orderNo},C00042,2024-02-30,35.00,paid,online`);
lines.splice(at(), 0, `${++orderNo},C00099,2023-06-01,n/a,paid,online`);
lines.push('Total,,,,,');
writeFileSync(out, `${lines.join('\n')}\n`);
process.stderr.write(`wrote ${rows.length} rows to ${out}\n`);
