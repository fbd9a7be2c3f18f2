// The command line: same numbers as the API, one clear line on stderr for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../../bindings/js/index.js';
import { readFileSync } from 'node:fs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = `${root}bin/custlens.js`;
const data = `${root}../shared/data/`;
const run = (...args) => spawnSync('node', [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });

test('CLI and Node API give the same numbers on Online Retail', async () => {
  const out = JSON.parse(execFileSync('node', [cli, 'analyze', '--orders', `${data}online-retail-dataset.csv.gz`],
    { maxBuffer: 1 << 28, encoding: 'utf8' }));
  const engine = await createEngine();
  await engine.load('orders', readFileSync(`${data}online-retail-dataset.csv.gz`), { name: 'online-retail-dataset.csv.gz' });
  const api = engine.analyze();
  for (const id of ['revenue', 'orders', 'customers', 'aov', 'repeat_purchase_rate', 'customer_aov', 'purchase_frequency']) {
    assert.equal(out.metrics[id].value, api.metrics[id].value, id);
  }
  assert.deepEqual(out.data_quality, api.data_quality);
  engine.close();
});

test('CLI options: --period, --as-of, --map, --date-order, --delimiter', () => {
  const dir = mkdtempSync(`${tmpdir()}/custlens-`);
  const f = `${dir}/shop.csv`;
  writeFileSync(f, 'buyer;day;total\nann;05/01/2024;10,50\nbob;06/01/2024;20,00\nann;25/02/2024;5,25\n');
  const r = run('analyze', '--orders', f, '--map', 'buyer=customer_id', '--map', 'day=order_date', '--map', 'total=amount',
    '--period', 'quarter', '--delimiter', ';');
  assert.equal(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.metrics.revenue.value, 35.75);
  assert.equal(rep.period.granularity, 'quarter');
  assert.equal(rep.data_quality.tables.orders.files[0].format.date_order, 'dmy');
  const a = JSON.parse(run('analyze', '--orders', f, '--map', 'buyer=customer_id', '--map', 'day=order_date',
    '--map', 'total=amount', '--as-of', '2024-01-31').stdout);
  assert.equal(a.metrics.orders.value, 2);
});

test('CLI: bad input exits non-zero with one clear line on stderr', () => {
  const dir = mkdtempSync(`${tmpdir()}/custlens-`);
  const f = `${dir}/bad.csv`;
  writeFileSync(f, 'customer_id,order_date,amount\na,2024-01-01,10\nb,"2024-01-02,20\n');
  const r = run('analyze', '--orders', f);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^custlens: orders file bad\.csv, line 3, column 2: Unterminated quoted field/);
  const missing = run('analyze', '--orders', `${dir}/nope.csv`);
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr, `custlens: ${dir}/nope.csv: no such file\n`);
  const usage = run('analyze');
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--orders FILE is required/);
});

test('CLI --file: each file goes to the table its header names; --table decides for the next --file', () => {
  const dir = mkdtempSync(`${tmpdir()}/custlens-file-`);
  writeFileSync(`${dir}/orders.csv`, 'order_id,customer_id,order_date,amount\n1,a,2024-01-05,10\n2,b,2024-02-05,5.5\n');
  writeFileSync(`${dir}/crm.csv`, 'customer_id,signup_date,end_date\na,2023-01-01,\nb,2023-02-01,2024-03-01\n');
  writeFileSync(`${dir}/desk.csv`, 'CaseID,ActivityID,CompleteTimestamp\n1,2,2024-01-01 10:00\n');
  const r = run('analyze', '--file', `${dir}/crm.csv`, '--file', `${dir}/orders.csv`, '--file', `${dir}/desk.csv`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^custlens: refused file desk\.csv: The columns \(CaseID, ActivityID, CompleteTimestamp\) match no table .*\[unrecognised_file\]\n$/);
  const report = JSON.parse(r.stdout);
  assert.equal(report.metrics.revenue.value, 15.5);
  const orders = report.data_quality.tables.orders.files[0].classification;
  assert.deepEqual([orders.table, orders.profile, orders.score], ['orders', null, 1]);
  assert.equal(report.data_quality.tables.customers.files[0].classification.table, 'customers');
  assert.deepEqual(report.data_quality.refused.map((f) => [f.name, f.reason_code]), [['desk.csv', 'unrecognised_file']]);
  // --table: the caller's choice, no score; for the next --file only.
  const chosen = JSON.parse(run('analyze', '--table', 'orders', '--file', `${dir}/orders.csv`, '--file', `${dir}/crm.csv`).stdout);
  assert.deepEqual(chosen.data_quality.tables.orders.files[0].classification.score, null);
  assert.equal(chosen.data_quality.tables.customers.files[0].classification.score, 1);
  // A summary file alone is for the models (as --btyd-summary).
  writeFileSync(`${dir}/summary.csv`, 'ID,x,t_x,T\n' + Array.from({ length: 60 }, (_, i) => `${i},${i % 4},${i % 4 ? 10 + (i % 7) : 0},${30 + (i % 9)}`).join('\n') + '\n');
  const s = JSON.parse(run('analyze', '--file', `${dir}/summary.csv`).stdout);
  assert.equal(s.future.source, 'btyd_summary');
  assert.equal(s.data_quality.tables.btyd_summary.files[0].classification.table, 'btyd_summary');
  // Usage: an unknown table, and a --table with no --file after it.
  assert.equal(run('analyze', '--table', 'tickets', '--file', `${dir}/desk.csv`).status, 2);
  const dangling = run('analyze', '--file', `${dir}/orders.csv`, '--table', 'orders');
  assert.equal(dangling.status, 2);
  assert.match(dangling.stderr, /--table orders has no --file after it/);
});
