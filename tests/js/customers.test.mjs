// The customers table through the npm package and the CLI: IBM's Telco churn file read as
// shipped (.gz), and the figures of metrics.md section 3 (churned_share 1,869 / 7,043).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createEngine, CustlensError } from '../../bindings/js/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const telco = `${root}../shared/data/Telco-Customer-Churn.csv.gz`;
const cli = `${root}bin/custlens.js`;

test('Telco: churned_share = 1,869 / 7,043 = 26.5%, and what cannot be computed without dates', async () => {
  const engine = await createEngine();
  const file = await engine.load('customers', createReadStream(telco), { name: 'Telco-Customer-Churn.csv.gz' });
  assert.equal(file.rows_read, 7043);
  assert.equal(file.rows_used, 7043);
  assert.equal(file.rows_rejected, 0);
  assert.equal(file.rows_skipped, 0);
  const mapped = Object.fromEntries(file.mapping.map((m) => [m.field, m.column]));
  assert.deepEqual(mapped, {
    customer_id: 'customerID', churned: 'Churn', tenure_months: 'tenure',
    monthly_charges: 'MonthlyCharges', total_charges: 'TotalCharges',
  });
  const r = engine.analyze();
  const share = r.metrics.churned_share;
  assert.equal(share.inputs.churned_customers, 1869);
  assert.equal(share.inputs.customers, 7043);
  assert.equal(share.value, 1869 / 7043);
  assert.equal(share.value.toFixed(3), '0.265');
  assert.equal(share.unit, 'ratio');
  for (const id of ['retention_rate', 'churn_rate', 'customers_start', 'customers_end', 'new_customers',
    'customer_growth_rate', 'net_customer_additions', 'annual_churn_rate', 'avg_customer_lifespan']) {
    assert.equal(r.metrics[id].value, null, id);
    assert.match(r.metrics[id].reason, /needs signup and end dates/, id);
  }
  const dq = r.data_quality.tables.customers;
  assert.equal(dq.rows_read, 7043);
  assert.equal(dq.customers.count, 7043);
  assert.deepEqual(dq.customers.churned, { yes: 1869, no: 5174, unknown: 0 });
  assert.equal(dq.customers.with_total_charges, 7032); // 11 blanks (" "), exactly the tenure-0 rows
  assert.equal(dq.customers.with_tenure, 7043);
  assert.equal(dq.customers.subscription_dates, false);
  engine.close();
});

test('customers: errors name the table, file and line', async () => {
  const engine = await createEngine();
  await assert.rejects(engine.load('customers', 'customer_id,signup_date\nc1,05/01/2024\n', { name: 'c.csv' }),
    (e) => e instanceof CustlensError && e.code === 'ambiguous_dates' && e.table === 'customers' && e.file === 'c.csv' && e.line === 2);
  const f = await engine.load('customers', 'customer_id,signup_date\nc1,05/01/2024\n', { name: 'c.csv', dateOrder: 'dmy' });
  assert.equal(f.rows_used, 1);
  assert.equal(f.format.date_order, 'dmy');
  engine.close();
});

test('CLI: --customers-file alone gives churned_share; --customers-map maps its columns', () => {
  const r = spawnSync('node', [cli, 'analyze', '--customers-file', telco], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.metrics.churned_share.value, 1869 / 7043);
  assert.equal(rep.data_quality.tables.customers.files[0].name, 'Telco-Customer-Churn.csv.gz');

  const dir = mkdtempSync(`${tmpdir()}/custlens-`);
  const f = `${dir}/members.csv`;
  writeFileSync(f, 'who,left\nann,yes\nbob,no\n');
  const m = spawnSync('node', [cli, 'analyze', '--customers-file', f, '--customers-map', 'who=customer_id',
    '--customers-map', 'left=churned'], { encoding: 'utf8' });
  assert.equal(m.status, 0, m.stderr);
  assert.equal(JSON.parse(m.stdout).metrics.churned_share.value, 0.5);
  const bad = spawnSync('node', [cli, 'analyze', '--customers-file', f], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /customers file members\.csv.*No customer id column/);
});
