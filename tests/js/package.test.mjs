// The npm package in Node: the API on real data sets, checked against an analyst's
// pandas reference (tests/reference/*.json) and hand-computed small cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEngine, CustlensError, SEGMENT_NAMES } from '../../bindings/js/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shared = `${root}../shared/data/`;
const reference = (name) => JSON.parse(readFileSync(`${root}tests/reference/${name}`, 'utf8'));
const close = (a, b, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} != ${b}`);

test('Online Retail: the numbers an analyst gets by hand with pandas', async () => {
  const ref = reference('online_retail.json').whole_range;
  const engine = await createEngine();
  const file = await engine.load('orders', createReadStream(`${shared}online-retail-dataset.csv.gz`),
    { name: 'online-retail-dataset.csv.gz' });
  assert.equal(file.rows_read, 541909);
  assert.equal(file.rows_read, file.rows_used + file.rows_rejected + file.rows_skipped);
  assert.equal(file.duplicate_lines.count, 5268);
  assert.equal(file.format.date_order, 'mdy');
  const r = engine.analyze();
  close(r.metrics.revenue.value, Number(ref.revenue));
  assert.equal(r.metrics.orders.value, ref.purchases);
  assert.equal(r.metrics.customers.value, ref.customers);
  close(r.metrics.aov.value, ref.aov);
  close(r.metrics.repeat_purchase_rate.value, ref.repeat_purchase_rate);
  close(r.metrics.purchase_frequency.value, ref.purchase_frequency);
  close(r.metrics.customer_aov.value, ref.customer_aov);
  const dq = r.data_quality.tables.orders.orders;
  assert.equal(dq.returns, ref.returns);
  assert.equal(dq.guest_purchases, ref.guest.purchases);
  assert.equal(dq.guest_returns, ref.guest.returns);
  close(dq.guest_revenue, Number(ref.guest.revenue));
  assert.equal(dq.zero_value_purchases, ref.zero_net_purchases);
  // Returns by ids that never purchase here (of purchases before the data): revenue only.
  assert.equal(dq.returns_without_purchase.customer_ids, ref.customer_ids_with_returns_only);
  close(dq.returns_without_purchase.revenue,
    Number(ref.customer_aov_inputs.alt_net_of_every_order_with_a_customer_id) - Number(ref.customer_aov_inputs.customer_revenue));
  assert.equal(r.period.first_date, ref.first_date);
  assert.equal(r.period.as_of, ref.as_of);
  // Per month, the same as the reference.
  const monthly = reference('online_retail.json').monthly;
  const revenue = r.series.revenue.points;
  assert.equal(revenue.length, monthly.length);
  monthly.forEach((m, i) => {
    assert.equal(revenue[i].period, m.period);
    close(revenue[i].value, Number(m.revenue));
    assert.equal(r.series.orders.points[i].value, m.orders);
    assert.equal(r.series.customers.points[i].value, m.customers);
    close(r.series.repeat_purchase_rate.points[i].value, m.repeat_purchase_rate);
    assert.equal(revenue[i].partial, m.partial);
  });
  // The per-customer table sums to the reference's RFM sums.
  const c = engine.customers();
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  assert.equal(c.count, ref.customers);
  assert.equal(sum(c.recency_days), ref.rfm_sums.recency_days);
  assert.equal(sum(c.orders), ref.rfm_sums.orders);
  assert.equal(sum(c.btyd_frequency), ref.rfm_sums.btyd_frequency);
  assert.equal(sum(c.T), ref.rfm_sums.T_days);
  close(sum(c.total_spend), Number(ref.rfm_sums.total_spend), 1e-9);
  engine.close();
});

for (const [file, refName, options] of [
  ['CDNOW_master.txt.gz', 'cdnow_master.json', {}],
  ['CDNOW_sample.txt.gz', 'cdnow_sample.json', { mapping: { customer_id: 2 } }],
]) {
  test(`${file}: loads and matches the reference`, async () => {
    const ref = reference(refName).whole_range;
    const engine = await createEngine();
    const f = await engine.load('orders', readFileSync(`${shared}${file}`), { name: file, ...options });
    assert.equal(f.format.delimiter, 'whitespace');
    assert.equal(f.rows_used, ref.purchases);
    const r = engine.analyze();
    close(r.metrics.revenue.value, Number(ref.revenue));
    assert.equal(r.metrics.orders.value, ref.purchases);
    assert.equal(r.metrics.customers.value, ref.customers);
    close(r.metrics.repeat_purchase_rate.value, ref.repeat_purchase_rate);
    close(r.metrics.purchase_frequency.value, ref.purchase_frequency);
    assert.deepEqual(r.cohorts.acquisition.size.slice(0, 3), file.startsWith('CDNOW_master') ? [7846, 8476, 7248] : r.cohorts.acquisition.size.slice(0, 3));
    engine.close();
  });
}

test('CDNOW sample: BTYD summary at the calibration end equals the published summary', async () => {
  const engine = await createEngine();
  await engine.load('orders', readFileSync(`${shared}CDNOW_sample.txt.gz`), { mapping: { customer_id: 2 } });
  engine.analyze({ asOf: '1997-09-30' });
  const c = engine.customers();
  // cdnow_customers_summary.csv: ID, frequency, recency (weeks), T (weeks), from the same rules.
  const { gunzipSync } = await import('node:zlib');
  const lines = gunzipSync(readFileSync(`${shared}cdnow_customers_summary.csv.gz`)).toString().trim().split('\n').slice(1);
  const byId = new Map(c.customer_id.map((id, i) => [Number(id), i]));
  assert.equal(c.count, 2357);
  let matched = 0;
  for (const line of lines) {
    const [id, frequency, recency, T] = line.split(',').map(Number);
    const i = byId.get(id);
    if (c.btyd_frequency[i] === frequency && Math.abs(c.t_x[i] / 7 - recency) < 0.006 && Math.abs(c.T[i] / 7 - T) < 0.006) matched++;
  }
  assert.equal(matched, 2357);
  assert.equal(c.btyd_frequency.filter((f) => f > 0).length, 946); // the 946 repeat buyers of the models
  engine.close();
});

test('chunked loads give the same report, with progress', async () => {
  const bytes = readFileSync(`${shared}CDNOW_master.txt.gz`);
  const reports = [];
  for (const chunkSize of [7, 4096, 1 << 20]) {
    const engine = await createEngine();
    let calls = 0;
    await engine.load('orders', bytes, { chunkSize, onProgress: () => calls++ });
    assert.ok(calls > 0);
    const r = engine.analyze();
    reports.push(JSON.stringify(r.metrics) + JSON.stringify(r.cohorts));
    engine.close();
  }
  assert.equal(reports[0], reports[1]);
  assert.equal(reports[1], reports[2]);
});

test('bad input throws CustlensError naming file, line and column', async () => {
  const engine = await createEngine();
  await assert.rejects(
    engine.load('orders', 'customer_id,order_date,amount\na,2024-01-01,"10\n', { name: 'broken.csv' }),
    (err) => err instanceof CustlensError && err.code === 'unterminated_quote' && err.file === 'broken.csv' &&
      err.table === 'orders' && err.line === 2 && err.column === 3,
  );
  await assert.rejects(engine.load('orders', new Uint8Array(0), { name: 'empty.csv' }),
    (err) => err instanceof CustlensError && err.code === 'empty_file' && /empty/.test(err.message));
  await assert.rejects(engine.load('orders', new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]), { name: 'book.csv' }),
    (err) => err.code === 'not_csv' && /Excel/.test(err.message));
  // A failed load leaves nothing behind: the next one works.
  await engine.load('orders', 'customer_id,order_date,amount\na,2024-01-01,10\n');
  assert.equal(engine.analyze().metrics.orders.value, 1);
  engine.close();
});

test('options: mapping, asOf, period, and the types of customers()', async () => {
  const engine = await createEngine();
  await engine.load('orders', 'who,when,paid\nann,2024-01-05,10\nbob,2024-02-05,20\nann,2024-03-05,30\n',
    { mapping: { customer_id: 'who', order_date: 'when', amount: 'paid' } });
  const r = engine.analyze({ asOf: '2024-02-29', period: 'quarter' });
  assert.equal(r.metrics.orders.value, 2);
  assert.equal(r.period.periods.length, 1);
  assert.equal(r.data_quality.tables.orders.orders.after_as_of.rows, 1);
  const c = engine.customers();
  assert.ok(c.orders instanceof Uint32Array);
  assert.ok(c.total_spend instanceof Float64Array);
  assert.deepEqual(c.customer_id, ['ann', 'bob']);
  assert.deepEqual(c.first_purchase, ['2024-01-05', '2024-02-05']);
  assert.ok(c.segment.every((s) => SEGMENT_NAMES.includes(s)));
  assert.equal(r.schema, 'custlens.report/1');
  engine.close();
});

test('customers(): columns read after the next analyze(), load() or reset() are still those of its analysis', async () => {
  const engine = await createEngine();
  await engine.load('orders', 'who,when,paid\nann,2024-01-05,10\nbob,2024-02-05,20\nann,2024-03-05,30\n',
    { mapping: { customer_id: 'who', order_date: 'when', amount: 'paid' } });
  engine.analyze();
  const a = engine.customers();
  assert.deepEqual([...a.orders], [2, 1]); // read now
  engine.analyze({ asOf: '2024-02-29' }); // ann's March order is after as_of
  const b = engine.customers();
  assert.equal(a.orders, a.orders); // one copy per column
  assert.deepEqual([...a.total_spend], [40, 20]); // first read after the second analyze()
  assert.deepEqual([...a.recency_days], [0, 29]);
  assert.deepEqual(a.last_purchase, ['2024-03-05', '2024-02-05']);
  assert.deepEqual([...b.total_spend], [10, 20]);
  await engine.load('orders', 'who,when,paid\ncarl,2024-04-01,5\n',
    { mapping: { customer_id: 'who', order_date: 'when', amount: 'paid' } });
  assert.deepEqual(b.customer_id, ['ann', 'bob']); // first read after a load
  assert.deepEqual(b.last_purchase, ['2024-01-05', '2024-02-05']);
  engine.analyze();
  const c = engine.customers();
  engine.reset();
  assert.deepEqual(c.customer_id, ['ann', 'bob', 'carl']); // first read after reset()
  assert.deepEqual([...c.orders], [2, 1, 1]);
  assert.throws(() => engine.customers(), (err) => err instanceof CustlensError && err.code === 'no_analysis');
  engine.close();
});

test('customersCsv(): the customers() table as CSV, formula payloads escaped', async () => {
  const engine = await createEngine();
  assert.throws(() => engine.customersCsv(), (err) => err instanceof CustlensError && err.code === 'no_analysis');
  await engine.load('orders', 'customer_id,order_date,amount\n"=1+2"";=1+2",2024-01-05,0.10\n' +
    '"=1+2"";=1+2",2024-02-05,0.20\nann,2024-01-07,10\nann,2024-02-07,-22.5\n');
  engine.analyze({ asOf: '2024-03-31' });
  const lines = engine.customersCsv().split('\r\n');
  assert.equal(lines[0], 'customer_id,first_purchase,last_purchase,orders,total_spend,mean_order_value,' +
    'recency_days,r_score,f_score,m_score,segment,lifecycle,cohort,btyd_frequency,t_x,T,btyd_monetary,repeat_spend');
  assert.match(lines[1], /^"'=1\+2"";=1\+2",2024-01-05,2024-02-05,2,0\.30,0\.15,55,/);
  assert.match(lines[2], /^"ann",2024-01-07,2024-01-07,1,-12\.50,-12\.50,/);
  assert.equal(lines.length, 4); // header, two rows, and the empty string after the last CRLF
  assert.equal(lines[3], '');
  // The same text as UTF-8 bytes, for a download.
  const bytes = engine.customersCsvBytes();
  assert.ok(bytes instanceof Uint8Array);
  assert.equal(new TextDecoder().decode(bytes), engine.customersCsv());
  engine.reset();
  assert.throws(() => engine.customersCsvBytes(), (err) => err instanceof CustlensError && err.code === 'no_analysis');
  engine.close();
});
