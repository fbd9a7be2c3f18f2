// The benchmark workload (../shared/bench/WORKLOAD.md) through the npm package, the way the
// browser build runs it: the CSV's bytes are read and fed to engine.load() in 1 MiB chunks,
// then analyze() and customers() give every number. Prints ONE JSON line (WORKLOAD.md §5,
// same key order) with timing in "_meta", and a one-line summary on stderr.
//
// usage: node bench/workload.mjs FILE.csv [--read stream|file|blob] [--chunk BYTES]
//   --read stream  (default) fs.createReadStream with 1 MiB reads, passed to load() as an
//                  async iterable of chunks (what a browser's File.stream() gives)
//   --read file    fs.readFile of the whole file, then load(bytes) (sliced into chunks)
//   --read blob    fs.openAsBlob(FILE).stream(): a real web ReadableStream, like File.stream()
//   --chunk BYTES  chunk size for reads and feeding (default 1 MiB)
//
// Phases (_meta.phases): setup_s = package import + wasm read/compile/instantiate + engine;
// load_s = file read + parse into the engine (load() until it resolves); compute_s =
// analyze() + customers() + assembling the result. _meta.compute_detail splits compute_s.
const T0 = performance.now();

const fs = await import('node:fs');
const path = await import('node:path');
const { createEngine } = await import('../bindings/js/index.js');

const { cliArgs } = await import('./args.mjs');
const { file, opt } = cliArgs('node bench/workload.mjs FILE.csv [--read stream|file|blob] [--chunk BYTES]');
const readMode = opt('--read', 'stream');
const chunkSize = Number(opt('--chunk', 1 << 20));

const engine = await createEngine();
const Tsetup = performance.now();

// ---- load: bytes in, in chunks, as the page does ----
let input;
if (readMode === 'stream') {
  input = fs.createReadStream(file, { highWaterMark: chunkSize });
} else if (readMode === 'file') {
  input = await fs.promises.readFile(file);
} else if (readMode === 'blob') {
  input = (await fs.openAsBlob(file)).stream();
} else {
  process.stderr.write(`unknown --read ${readMode} (stream, file, blob)\n`);
  process.exit(2);
}
// The page passes a dropped File, whose size is known; a stream does not say it, so pass it.
const fileReport = await engine.load('orders', input, { name: path.basename(file), chunkSize, sizeHint: fs.statSync(file).size });
const Tload = performance.now();

// ---- compute: the report and the per-customer table ----
const report = engine.analyze();
const Tanalyze = performance.now();
const c = engine.customers();
const Tcustomers = performance.now();

const metric = (id) => {
  const m = report.metrics[id];
  if (!m) throw new Error(`report has no metric ${id}`);
  return m;
};
const cents = (x) => Math.round(x * 100);

// Headline numbers.
const dq = report.data_quality.tables.orders;
const revenue = metric('revenue');
const ordersM = metric('orders');
const rpr = metric('repeat_purchase_rate');
const orders = ordersM.value;
const grossCents = cents(revenue.inputs.purchases_revenue);
const refundCents = cents(revenue.inputs.returns_revenue);

// Monthly actives and cohorts (months from month(first_date) to month(as_of)).
const mac = report.monthly_active_customers.values.slice();
const acq = report.cohorts.acquisition;
const sizes = acq.size.slice();
const active = acq.active.map((row) => row.slice());
const M = sizes.length;
const pooled = (k) => {
  let a = 0, s = 0;
  for (let i = 0; i + k < M; i++) { a += active[i][k]; s += sizes[i]; }
  return s > 0 ? a / s : 0;
};

// Channels, keys in byte order.
const enc = new TextEncoder();
const byteCmp = (x, y) => Buffer.compare(enc.encode(x), enc.encode(y));
const chRows = (report.breakdowns?.channel ?? []).map((r) => ({
  key: r.value ?? '', orders: r.orders, net_cents: cents(r.revenue),
}));
chRows.sort((x, y) => byteCmp(x.key, y.key));
const channels = {};
for (const r of chRows) channels[r.key] = { orders: r.orders, net_cents: r.net_cents };

// RFM / BTYD checksums over the per-customer table.
let sumRecency = 0, sumT = 0, sumFreq = 0, maxFreq = 0, freq0 = 0, sumFxR = 0;
let sumSpendCents = 0, sumRepeatCents = 0, sumMonetary = 0;
{
  const { recency_days: rec, T, btyd_frequency: fr, total_spend: ts, repeat_spend: rs, btyd_monetary: mon } = c;
  for (let i = 0; i < c.count; i++) {
    const f = fr[i], r = rec[i];
    sumRecency += r;
    sumT += T[i];
    sumFreq += f;
    if (f > maxFreq) maxFreq = f;
    if (f === 0) freq0++;
    sumFxR += f * r;
    sumSpendCents += Math.round(ts[i] * 100);
    sumRepeatCents += Math.round(rs[i] * 100);
    sumMonetary += mon[i];
  }
}

const result = {
  rows: dq.rows_read,
  orders,
  refunds: ordersM.inputs.returns,
  customers: metric('customers').value,
  first_date: report.period.first_date,
  as_of: report.period.as_of,
  gross_cents: grossCents,
  refund_cents: refundCents,
  net_cents: grossCents + refundCents,
  aov: metric('aov').value,
  repeat_customers: rpr.inputs.repeat_customers,
  repeat_purchase_rate: rpr.value,
  ret_m1: pooled(1),
  ret_m3: pooled(3),
  ret_m12: pooled(12),
  channels,
  rfm: {
    sum_recency: sumRecency,
    sum_T: sumT,
    sum_frequency: sumFreq,
    max_frequency: maxFreq,
    customers_freq0: freq0,
    sum_freq_x_recency: sumFxR,
    sum_total_spend_cents: sumSpendCents,
    sum_repeat_cents: sumRepeatCents,
    sum_monetary: sumMonetary,
  },
  month0: report.monthly_active_customers.months[0],
  mac,
  cohort_sizes: sizes,
  cohort_active: active,
};
const T1 = performance.now();

const s = (a, b) => (b - a) / 1000;
result._meta = {
  peer: 'custlens',
  engine: `custlens ${engine.version} wasm`,
  threads: 1,
  wall_s: s(T0, T1),
  phases: { setup_s: s(T0, Tsetup), load_s: s(Tsetup, Tload), compute_s: s(Tload, T1) },
  compute_detail: { analyze_s: s(Tload, Tanalyze), customers_s: s(Tanalyze, Tcustomers), assemble_s: s(Tcustomers, T1) },
  read: readMode,
  chunk_bytes: chunkSize,
  rows_rejected: fileReport.rows_rejected,
};
process.stdout.write(JSON.stringify(result) + '\n');
const ph = Object.entries({ ...result._meta.phases, ...result._meta.compute_detail })
  .map(([k, v]) => `${k}=${v.toFixed(3)}`).join(' ');
process.stderr.write(`peer=custlens wall_s=${result._meta.wall_s.toFixed(3)} ${ph}\n`);
// No engine.close(): the process ends here and frees everything. (close() would first copy out
// the customers() columns this script never read, for a caller that still holds the table.)
