// histories() and loadHistories() through the package: the page fits the models in a worker
// of their own on the customers' purchase histories, never on the files. Whatever predict()
// gives on an analysis, it gives on its histories in another engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEngine, CustlensError } from '../../bindings/js/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shared = `${root}../shared/data/`;

test('Online Retail: the models apart give the same verdict, fits and per-customer predictions', async () => {
  const here = await createEngine();
  await here.load('orders', createReadStream(`${shared}online-retail-dataset.csv.gz`), { name: 'online-retail.csv.gz' });
  here.analyze();
  const bytes = here.histories();
  assert.ok(bytes instanceof Uint8Array);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), 'CLHIST01');
  const options = { model: 'bg_nbd', calibrationEnd: 'auto', top: 10 };
  const want = here.predict(options);
  const wantRows = here.predictions();

  const apart = await createEngine();
  apart.loadHistories(bytes.buffer);  // an ArrayBuffer, as a worker receives it
  const got = apart.predict(options);
  assert.deepEqual(got, want);
  assert.equal(got.verdict, 'does_not_fit');
  assert.equal(got.fit.customers, 4339);
  const rows = apart.predictions();
  assert.deepEqual(rows.customer_id, wantRows.customer_id);
  assert.deepEqual(rows.p_alive, wantRows.p_alive);
  assert.deepEqual(rows.churn_risk, wantRows.churn_risk);
  // An engine of histories analyses nothing: it has no files.
  assert.throws(() => apart.analyze(), (e) => e instanceof CustlensError && e.code === 'no_orders');
  here.close();
  apart.close();
});

test('predict() reports its steps to onProgress; a callback that throws is rethrown after, the engine intact', async () => {
  const e = await createEngine();
  await e.load('orders', createReadStream(`${shared}CDNOW_sample.txt.gz`), { name: 'cdnow.txt.gz', mapping: { customer_id: '2' } });
  e.analyze({ asOf: '1998-06-30' });
  const steps = [];
  const f = e.predict({ calibrationEnd: '1997-09-30', onProgress: (p) => steps.push(p) });
  assert.deepEqual(steps.map((s) => [s.step, s.model]),
    [['fit', 'bg_nbd'], ['spend', null], ['predict', null], ['holdout', 'bg_nbd']]);
  assert.deepEqual(steps.map((s) => s.done), [0, 0.5, 0.6, 0.7]);
  assert.equal(f.holdout.done, true);
  assert.throws(() => e.predict({ onProgress: () => { throw new Error('from the callback'); } }), /from the callback/);
  // A callback that calls back into the engine mid-fit is refused (busy), not obeyed.
  assert.throws(() => e.predict({ onProgress: () => e.reset() }), (err) => err instanceof CustlensError && err.code === 'busy');
  // The next predict() is the first one's.
  assert.deepEqual(e.predict({ calibrationEnd: '1997-09-30' }), f);
  e.close();
});

test('histories: none before an analysis, and bytes that are not histories are refused', async () => {
  const e = await createEngine();
  assert.throws(() => e.histories(), (err) => err.code === 'no_analysis');
  for (const bad of [new Uint8Array(0), new TextEncoder().encode('order_id,amount\n1,2\n'), new Uint8Array(64)])
    assert.throws(() => e.loadHistories(bad), (err) => err instanceof CustlensError && err.code === 'bad_histories');
  assert.throws(() => e.loadHistories(42), TypeError);
  e.close();
});
