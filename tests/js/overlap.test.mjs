// Several exports of one shop through the package (input-rules.md §11, "Overlapping
// exports"): UCI Online Retail cut into two overlapping exports, the second with its columns
// in another order, gives the whole file's numbers in either load order; and errors that
// happen while a file loads name it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createEngine, CustlensError } from '../../bindings/js/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shared = `${root}../shared/data/`;
const reference = (name) => JSON.parse(readFileSync(`${root}tests/reference/${name}`, 'utf8'));
const close = (a, b, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} != ${b}`);

// The fields of a CSV line (quotes around fields with commas; no line breaks inside).
function fields(line) {
  const out = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; ++i) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') cur += '"', ++i;
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') out.push(cur), cur = '';
    else cur += c;
  }
  out.push(cur);
  return out;
}
const quote = (v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

test('Online Retail as two overlapping exports, columns reordered: the whole file\'s numbers', async () => {
  const ref = reference('online_retail.json').whole_range;
  const lines = gunzipSync(readFileSync(`${shared}online-retail-dataset.csv.gz`)).toString('utf8').split(/\r?\n/);
  const header = lines[0];
  const rows = lines.slice(1).filter((l) => l.length);
  // Export A: December 2010 to June 2011; export B: May to December 2011 (two months overlap).
  const month = (l) => {
    const [m, , y] = fields(l)[4].split(' ')[0].split('/');
    return Number(y) * 12 + Number(m);
  };
  const a = rows.filter((l) => month(l) <= 2011 * 12 + 6);
  const bRows = rows.filter((l) => month(l) >= 2011 * 12 + 5);
  assert.ok(a.length + bRows.length > rows.length + 50000, 'the exports overlap');
  // B's columns in another order, as another download's layout would be.
  const order = [6, 4, 0, 5, 3, 1, 2, 7];
  const names = fields(header);
  const b = [order.map((i) => names[i]).join(','),
    ...bRows.map((l) => { const f = fields(l); return order.map((i) => quote(f[i])).join(','); })].join('\n');
  const aText = [header, ...a].join('\n');
  const wholeEngine = await createEngine();
  const whole = await wholeEngine.load('orders', new TextEncoder().encode([header, ...rows].join('\n')), { name: 'all.csv' });
  for (const aFirst of [true, false]) {
    const engine = await createEngine();
    const files = [];
    for (const [text, name] of aFirst ? [[aText, 'a.csv'], [b, 'b.csv']] : [[b, 'b.csv'], [aText, 'a.csv']])
      files.push(await engine.load('orders', new TextEncoder().encode(text), { name }));
    const r = engine.analyze();
    close(r.metrics.revenue.value, Number(ref.revenue));
    assert.equal(r.metrics.orders.value, ref.purchases);
    assert.equal(r.metrics.customers.value, ref.customers);
    close(r.metrics.repeat_purchase_rate.value, ref.repeat_purchase_rate);
    const dq = r.data_quality.tables.orders;
    assert.equal(dq.rows_read, a.length + bRows.length);
    // Each row is used once, as in the whole file: the overlap's rows are skipped in the
    // export loaded second.
    assert.equal(dq.rows_used, whole.rows_used);
    for (const f of dq.files) assert.equal(f.rows_read, f.rows_used + f.rows_rejected + f.rows_skipped);
    const second = dq.files[1];
    const overlap = second.skipped.find((s) => s.reason.startsWith('overlap duplicate'));
    assert.ok(overlap && overlap.count > 50000, JSON.stringify(second.skipped));
    assert.equal(second.orders_replacing.count, 0);  // nothing changed between the downloads
    engine.close?.();
  }
});

test('an out-of-memory error while loading names the file', async () => {
  const engine = await createEngine();
  // A size hint of a terabyte makes the loader size its columns for 2^28 rows, past the
  // 4 GiB the wasm memory can grow to.
  await assert.rejects(
    engine.load('orders', 'customer_id,order_date,amount\na,2024-01-01,1\n', { name: 'huge.csv', sizeHint: 1e12 }),
    (e) => e instanceof CustlensError && e.code === 'out_of_memory' && e.file === 'huge.csv' && e.table === 'orders' &&
      /huge\.csv/.test(e.message));
  // The engine still works afterwards.
  const f = await engine.load('orders', 'customer_id,order_date,amount\na,2024-01-01,1\n', { name: 'small.csv' });
  assert.equal(f.rows_used, 1);
});
