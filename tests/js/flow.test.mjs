// The customer flow (metrics.md section 3) through the npm package on the real data sets:
// monthly S, E, N, retained, reactivated, lost and the cohort matrix equal an independent
// pandas recomputation (tests/reference/flow_reference.py) exactly, and the identity
// |E| − |S| = new_in_base + reactivated − lost holds on every period, at every granularity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEngine, LIFECYCLE_STAGES } from '../../bindings/js/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shared = `${root}../shared/data/`;
const reference = (name) => JSON.parse(readFileSync(`${root}tests/reference/${name}`, 'utf8'));

const COUNTS = ['customers_start', 'customers_end', 'new_customers', 'new_in_base', 'retained', 'reactivated', 'lost'];

function checkIdentity(r) {
  const s = r.flow.series;
  assert.equal(s.customers_start.points.length, r.period.periods.length);
  s.customers_start.points.forEach((pt, i) => {
    const v = (id) => s[id].points[i].value;
    assert.equal(v('customers_end') - v('customers_start'), v('new_in_base') + v('reactivated') - v('lost'),
      `identity fails in ${pt.period}`);
    assert.equal(v('customers_start'), v('retained') + v('lost'), `S = retained + lost fails in ${pt.period}`);
  });
}

function checkAgainstReference(r, ref) {
  assert.equal(r.period.first_date, ref.first_date);
  assert.equal(r.period.as_of, ref.as_of);
  const s = r.flow.series;
  assert.equal(s.customers_start.points.length, ref.monthly.length);
  ref.monthly.forEach((m, i) => {
    for (const id of COUNTS) assert.equal(s[id].points[i].value, m[id], `${id} ${m.period}`);
    assert.equal(s.retention_rate.points[i].period, m.period);
    assert.equal(s.retention_rate.points[i].value, m.retention_rate, `retention_rate ${m.period}`);
    assert.equal(s.churn_rate.points[i].value, m.churn_rate, `churn_rate ${m.period}`);
    assert.equal(s.retention_rate.points[i].partial, m.partial);
    assert.equal(s.retention_rate.points[i].warm_up, m.warm_up);
  });
  const c = r.cohorts.acquisition;
  assert.deepEqual(c.months, ref.cohorts.months);
  assert.deepEqual(c.size, ref.cohorts.size);
  assert.deepEqual(c.active, ref.cohorts.active);
  // Money is summed exactly in the engine: the double is the decimal's nearest double.
  assert.deepEqual(c.revenue, ref.cohorts.revenue.map((row) => row.map(Number)));
  c.share.forEach((row, i) => row.forEach((v, k) =>
    assert.equal(v, ref.cohorts.size[i] ? ref.cohorts.active[i][k] / ref.cohorts.size[i] : null)));
  const lapsed = r.metrics.lapsed_customer_share;
  assert.equal(lapsed.inputs.lapsed_customers, ref.lapsed_customers);
  assert.equal(lapsed.inputs.customers_seen, ref.customers);
  assert.equal(r.flow.lifecycle.stages[0].customers, ref.lapsed_customers);
}

async function analyzeAll(engine) {
  const reports = {};
  for (const period of ['month', 'quarter', 'year']) {
    reports[period] = engine.analyze({ period });
    checkIdentity(reports[period]);
  }
  return reports;
}

test('Online Retail: the monthly flow and cohorts equal the pandas recomputation; identity on every period', async () => {
  const engine = await createEngine();
  await engine.load('orders', createReadStream(`${shared}online-retail-dataset.csv.gz`), { name: 'online-retail-dataset.csv.gz' });
  const reports = await analyzeAll(engine);
  checkAgainstReference(reports.month, reference('flow_online_retail.json'));
  // The whole range and a year's flow agree with the monthly one at the ends.
  const m = reports.month;
  const last = m.flow.series.customers_end.points.at(-1).value;
  assert.equal(m.metrics.customers_end.value, last);
  assert.equal(reports.quarter.flow.series.customers_end.points.at(-1).value, last);
  // Lifecycle: one label per customer, counts as in the report (of the last analyze()).
  engine.analyze();
  const c = engine.customers();
  assert.equal(c.lifecycle.length, c.count);
  const counts = Object.fromEntries(LIFECYCLE_STAGES.map((s) => [s, 0]));
  for (const s of c.lifecycle) counts[s]++;
  assert.deepEqual(m.flow.lifecycle.stages.map((s) => s.customers), LIFECYCLE_STAGES.map((s) => counts[s]));
  engine.close();
});

test('CDNOW_master: the monthly flow and cohorts equal the pandas recomputation; identity on every period', async () => {
  const engine = await createEngine();
  await engine.load('orders', createReadStream(`${shared}CDNOW_master.txt.gz`), { name: 'CDNOW_master.txt.gz' });
  const reports = await analyzeAll(engine);
  const r = reports.month;
  checkAgainstReference(r, reference('flow_cdnow_master.json'));
  // 18 months of data: the year before as_of starts 1997-06-30, 180 days after 1997-01-01.
  assert.equal(typeof r.metrics.annual_churn_rate.value, 'number');
  assert.equal(r.metrics.avg_customer_lifespan.value, 1 / r.metrics.annual_churn_rate.value);
  // Quarter cohorts cover the same customers as the monthly ones.
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  assert.equal(sum(r.cohorts.acquisition_quarter.size), sum(r.cohorts.acquisition.size));
  engine.close();
});
