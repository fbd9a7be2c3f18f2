// future.verdict through the package (docs/models.md, "Does the model fit?"): a model that
// sees no one leave is said not to fit, its P(alive) stays out of the churn risk score, and
// the published CDNOW sample keeps its fit and its rough holdout verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../../bindings/js/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shared = `${root}../shared/data/`;

test('Online Retail: no model fits (they see no one leave), and the report says so', async () => {
  const engine = await createEngine();
  await engine.load('orders', createReadStream(`${shared}online-retail-dataset.csv.gz`), { name: 'online-retail.csv.gz' });
  const r = engine.analyze();
  const lapsed = r.metrics.lapsed_customer_share.value;
  assert.ok(lapsed > 0.15, `lapsed share ${lapsed}`);
  const future = engine.predict();
  assert.equal(future.verdict, 'does_not_fit');
  assert.equal(future.model_requested, 'bg_nbd');
  // BG/NBD, then Pareto/NBD and MBG/NBD were tried; none holds.
  assert.deepEqual(future.fit_attempts.map((a) => a.model), ['bg_nbd', 'pareto_nbd', 'mbg_nbd']);
  assert.ok(future.fit_attempts.every((a) => !a.holds && a.reason.length > 20));
  assert.match(future.fit_attempts[0].reason, /clearly stopped buying .* mean P\(alive\) of 9\d\.\d%/);
  assert.ok(future.stopped_buyers.customers >= 100);
  assert.ok(future.stopped_buyers.mean_p_alive > 0.9);
  assert.match(future.verdict_reason, /^No model fits these data/);
  assert.ok(future.warnings.some((w) => w.code === 'model_does_not_fit'));
  // The churn risk score does not lean on a P(alive) that contradicts the data.
  const model = future.churn_risk.parts.find((p) => p.id === 'model');
  assert.equal(model.weight, 0);
  assert.match(model.reason, /does not fit/);
  const sum = future.churn_risk.parts.reduce((s, p) => s + p.weight, 0);
  assert.ok(Math.abs(sum - 1) < 1e-12);
});
