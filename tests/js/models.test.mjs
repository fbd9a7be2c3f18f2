// The models through the npm package and the CLI (docs/models.md): the published CDNOW
// figures from a btyd_summary file, the holdout check on CDNOW_master (calibrated to
// 1997-09-30, as the papers) and on Online Retail, and the same numbers from the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createEngine, CustlensError } from '../../bindings/js/index.js';
import { simulate, toCsv } from '../../bench/btyd_sim.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const data = `${root}../shared/data/`;
const cli = `${root}bin/custlens.js`;
const run = (...args) => spawnSync('node', [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
const near = (actual, expected, rel, what) =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} vs ${expected}`);

test('btyd_summary: the published BG/NBD and Gamma-Gamma fits from cdnow_customers_summary_with_transactions', async () => {
  const engine = await createEngine();
  const file = await engine.load('btyd_summary', createReadStream(`${data}cdnow_customers_summary_with_transactions.csv.gz`),
    { name: 'cdnow_customers_summary_with_transactions.csv.gz', timeUnit: 'weeks' });
  assert.equal(file.rows_used, 2357);
  assert.equal(file.time_unit, 'weeks');
  assert.equal(file.warnings.some((w) => w.code === 'time_unit_assumed'), false);
  assert.throws(() => engine.analyze(), (e) => e instanceof CustlensError && e.code === 'no_orders');
  const f = engine.predict();  // the only table: the summary source
  assert.equal(f.source, 'btyd_summary');
  assert.equal(f.time_unit, 'weeks');
  assert.equal(f.holdout.done, false);
  const p = f.fit.params;
  near(p.r, 0.2426, 0.002, 'r');
  near(p.alpha, 4.4136, 0.002, 'alpha');
  near(p.a, 0.7929, 0.002, 'a');
  near(p.b, 2.4259, 0.002, 'b');
  assert.ok(Math.abs(f.fit.log_likelihood - -9582.43) <= 0.05, `LL ${f.fit.log_likelihood}`);
  assert.equal(f.spend_model.customers, 946);
  near(f.spend_model.params.p, 6.25, 0.002, 'p');
  near(f.spend_model.params.q, 3.7446, 0.002, 'q');
  near(f.spend_model.params.gamma, 15.44, 0.002, 'gamma');
  // The first ten customers' expected spends (metrics.md section 6), within 0.1.
  const rows = engine.predictions();
  assert.equal(rows.count, 2357);
  assert.deepEqual(rows.customer_id.slice(0, 3), ['1', '2', '3']);
  const published = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17];
  published.forEach((v, i) => assert.ok(Math.abs(rows.expected_order_value[i] - v) <= 0.1, `customer ${i + 1}`));
  // The same file in days: alpha scales by 7, r, a, b do not.
  const days = engine.predict({ timeUnit: 'days' });
  near(days.fit.params.alpha, 4.4136 * 7, 0.002, 'alpha in days');
  near(days.fit.params.r, 0.2426, 0.002, 'r in days');
  engine.close();
});

test('btyd_summary without a time unit says which one it assumed', async () => {
  const engine = await createEngine();
  const file = await engine.load('btyd_summary', 'x,t_x,T\n0,0,10\n1,3,10\n');
  assert.equal(file.time_unit, 'weeks');
  assert.ok(file.warnings.some((w) => w.code === 'time_unit_assumed'));
  engine.close();
});

test('CDNOW_master calibrated to 1997-09-30: the holdout check, from the CLI and the API alike', async () => {
  const args = ['analyze', '--orders', `${data}CDNOW_master.txt.gz`, '--predict', '--calibration-end', '1997-09-30'];
  const r = run(...args);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const h = out.future.holdout;
  assert.equal(h.done, true);
  assert.equal(h.calibration_end, '1997-09-30');
  assert.equal(h.holdout_end, '1998-06-30');
  assert.equal(h.customers, 23570);  // the whole Q1 1997 cohort
  assert.equal(h.holdout_length, 39);
  assert.ok(h.fit.ok && h.fit.converged);
  // The holdout's repeat purchase days are counted, and the model's forecast is close to them.
  assert.ok(h.actual > 0 && Math.abs(h.bias) < 0.25, `bias ${h.bias}`);
  assert.ok(['trustworthy', 'rough'].includes(h.verdict), h.verdict);
  assert.match(h.verdict_reason, /predicted against/);
  const sumBuckets = h.by_frequency.reduce((s, b) => s + b.customers, 0);
  assert.equal(sumBuckets, 23570);
  assert.equal(h.over_time.dates.at(-1), '1998-06-30');
  // The API, fed the same file, gives the same numbers.
  const engine = await createEngine();
  await engine.load('orders', readFileSync(`${data}CDNOW_master.txt.gz`), { name: 'CDNOW_master.txt.gz' });
  engine.analyze();
  const f = engine.predict({ calibrationEnd: '1997-09-30' });
  assert.deepEqual(f.holdout.fit.params, h.fit.params);
  assert.equal(f.holdout.predicted, h.predicted);
  assert.equal(f.metrics.clv_predicted.value, out.future.metrics.clv_predicted.value);
  // Per customer: the holdout columns add up to the report's totals.
  const p = engine.predictions();
  let actual = 0;
  for (let i = 0; i < p.count; i++) actual += p.frequency_holdout[i];
  assert.equal(actual, h.actual);
  engine.close();
});

test('Online Retail with the automatic calibration split: a verdict with its numbers', () => {
  const r = run('analyze', '--orders', `${data}online-retail-dataset.csv.gz`, '--predict', '--model', 'mbg_nbd');
  assert.equal(r.status, 0, r.stderr);
  const f = JSON.parse(r.stdout).future;
  assert.equal(f.model, 'mbg_nbd');
  assert.match(f.options.calibration_end_source, /automatic/);
  // The middle day of 2010-12-01 … 2011-12-09.
  assert.equal(f.holdout.calibration_end, '2011-06-05');
  assert.ok(f.holdout.customers > 2000);
  assert.ok(['trustworthy', 'rough', 'not_enough_data'].includes(f.holdout.verdict));
  assert.ok(f.holdout.verdict_reason.length > 20);
  assert.ok(f.metrics.clv_predicted.value > 0);
  assert.equal(f.top_customers.length, 25);
});

test('CLI: a btyd_summary file alone gives the models and its row accounting', () => {
  const r = run('analyze', '--btyd-summary', `${data}cdnow_customers_summary.csv.gz`, '--summary-time-unit', 'weeks');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const [file] = out.data_quality.tables.btyd_summary.files;
  assert.equal(file.rows_read, 2357);
  assert.equal(file.rows_used + file.rows_rejected + file.rows_skipped, file.rows_read);
  assert.equal(file.time_unit, 'weeks');
  near(out.future.fit.params.r, 0.2426, 0.002, 'r');
  assert.match(out.future.spend_model.reason, /no btyd_monetary column/);
});

test('CLI: bad model options exit 1 with one line naming the option', () => {
  const r = run('analyze', '--orders', `${data}CDNOW_sample.txt.gz`, '--map', '2=customer_id', '--model', 'nbd');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^custlens: model must be/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const m = run('analyze', '--orders', `${data}CDNOW_sample.txt.gz`, '--margin', 'abc');
  assert.equal(m.status, 2);
  assert.match(m.stderr, /--margin takes a number/);
});

test('a simulated BG/NBD population: the fit recovers the parameters it was drawn from', async () => {
  const sim = simulate({ customers: 20000, seed: 7 });
  const engine = await createEngine();
  await engine.load('btyd_summary', toCsv(sim), { name: 'simulated.csv', timeUnit: 'days' });
  const f = engine.predict({ timeUnit: 'days' });
  assert.ok(f.fit.ok && f.fit.converged);
  const { r, alpha, a, b, sp, sq, sgamma } = sim.options;
  // Within three standard errors of the truth.
  for (const [name, truth] of [['r', r], ['alpha', alpha], ['a', a], ['b', b]]) {
    const est = f.fit.params[name], se = f.fit.standard_errors[name];
    assert.ok(Math.abs(est - truth) <= 3 * se, `${name}: ${est} ± ${se} vs ${truth}`);
  }
  for (const [name, truth] of [['p', sp], ['q', sq], ['gamma', sgamma]]) {
    const est = f.spend_model.params[name], se = f.spend_model.standard_errors[name];
    assert.ok(Math.abs(est - truth) <= 3 * se, `${name}: ${est} ± ${se} vs ${truth}`);
  }
  engine.close();
});
