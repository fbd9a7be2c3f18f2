// End-to-end: the real page in headless Chromium (Debian's chromium, driven by
// playwright-core). Across the whole run: no console error, no CSP violation, no request to
// any other origin, and user text shown as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';
import { createEngine } from '../../bindings/js/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shared = join(root, '..', 'shared');
const ONLINE_RETAIL = join(shared, 'data', 'online-retail-dataset.csv.gz');
const POISONED = join(shared, 'corpus', 'weird', 'poisoned-sample.csv');
const site = mkdtempSync(join(tmpdir(), 'custlens-site-'));
const work = mkdtempSync(join(tmpdir(), 'custlens-e2e-'));

let server, base, browser, context, page;
const foreign = [];
const consoleErrors = [];
const dialogs = [];

// The CLI's report for the same file: what the page's cards must show.
function cli(file, ...extra) {
  return JSON.parse(execFileSync(process.execPath, [join(root, 'bin', 'custlens.js'), 'analyze', '--orders', file, ...extra],
    { maxBuffer: 1 << 26 }).toString());
}

// The package in Node on the same file with the page's options: what the Future value
// section must show (the page sends these, web/app.js predictOptions()).
const PAGE_ANALYZE = { period: 'month', lapseDays: 180, includeStatuses: [], excludeStatuses: [] };
const PAGE_PREDICT = { model: 'bg_nbd', horizonMonths: 12, discountRate: 0.01, calibrationEnd: 'auto', top: 10 };
async function packageFuture(file, predictOptions) {
  const engine = await createEngine();
  try {
    await engine.load('orders', readFileSync(file), { name: basename(file) });
    const report = engine.analyze(PAGE_ANALYZE);
    return { report, future: engine.predict({ ...PAGE_PREDICT, ...predictOptions }) };
  } finally {
    engine.close();
  }
}

const future = (selector) => page.locator(`#future-section ${selector}`);
async function futureCard(id) {
  return future(`.card[data-metric="${id}"]`).getAttribute('data-value');
}
async function shownParams(fit = 'model') {
  return page.$$eval(`#future-fit table[data-fit="${fit}"] tr[data-param]`,
    (rows) => Object.fromEntries(rows.map((r) => [r.dataset.param, r.dataset.value === '' ? null : Number(r.dataset.value)])));
}
// A models-only rerun: only data-models-ready changes, and the page is never busy meanwhile.
async function applyFuture({ model, horizon, margin, discount } = {}) {
  const ready = await readyStamp();
  const stamp = await modelsStamp();
  if (model) await page.locator('#future-model').selectOption(model);
  if (horizon !== undefined) await page.locator('#future-horizon').fill(String(horizon));
  if (margin !== undefined) await page.locator('#future-margin').fill(String(margin));
  if (discount !== undefined) await page.locator('#future-discount').fill(String(discount));
  await page.locator('#future-apply').click();
  assert.equal(await page.evaluate(() => document.body.getAttribute('aria-busy')), 'false');
  await waitModels(stamp);
  assert.equal(await readyStamp(), ready);
}

async function cardValue(id) {
  return page.locator(`.card[data-metric="${id}"]`).getAttribute('data-value');
}

async function waitReady(previous) {
  await page.waitForFunction((p) => document.body.dataset.ready && document.body.dataset.ready !== p &&
    document.body.getAttribute('aria-busy') === 'false', previous ?? '', { timeout: 120_000 });
}
const readyStamp = () => page.evaluate(() => document.body.dataset.ready ?? '');

// The models come after the analysis, from their own worker: tests that read them wait for
// data-models-ready to change (with the models, their failure, or why they did not run).
async function waitModels(previous, p = page) {
  await p.waitForFunction((prev) => (document.body.dataset.modelsReady ?? '') !== prev &&
    !document.getElementById('future-section').classList.contains('fitting'), previous ?? '', { timeout: 120_000 });
}
const modelsStamp = (p = page) => p.evaluate(() => document.body.dataset.modelsReady ?? '');

before(async () => {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-site.mjs'), site], { stdio: 'ignore' });
  server = await serve(site, 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  context = await browser.newContext({ locale: 'en-US', acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  context.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith('blob:') && !u.startsWith('data:')) foreign.push(u);
  });
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss();
  });
  await page.goto(base);
  await waitReady();
  await waitModels();
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('opens on the labelled sample, with the numbers the CLI gives for it', async () => {
  assert.ok(await page.locator('#sample-banner').isVisible());
  assert.match(await page.locator('#sample-banner').textContent(), /Sample data/);
  const want = cli(join(site, 'sample', 'orders.csv'));
  for (const id of ['revenue', 'orders', 'customers', 'aov', 'repeat_purchase_rate'])
    assert.equal(Number(await cardValue(id)), want.metrics[id].value, id);
  // The messy rows of the sample are accounted for on the page.
  const quality = await page.locator('#quality').textContent();
  assert.match(quality, /order date is not a calendar date/);
  assert.match(quality, /total\/summary line/);
  // A card explains itself on keyboard focus.
  await page.locator('.card[data-metric="aov"]').focus();
  assert.ok(await page.locator('#metric-aov-detail').isVisible());
  assert.match(await page.locator('#metric-aov-detail').textContent(), /revenue \/ orders/);
  // A null metric shows its reason.
  assert.match(await page.locator('#metric-returning_customer_share-detail').textContent(), /defined per period/);
});

test('customer flow: charts, a formula on focus, and the lapse window recomputes in place', async () => {
  assert.ok(await page.locator('#flow-section').isVisible());
  const sample = join(site, 'sample', 'orders.csv');
  const want = cli(sample, '--lapse-days', '90');
  const rows = await page.locator('#flow-table tbody tr').count();
  assert.equal(rows, 24);  // 2023-01 … 2024-12
  const cell = page.locator('#flow-table tbody tr').nth(12).locator('td.rate .explained').first();
  await cell.focus();
  assert.match(await cell.locator('.detail').textContent(), /retained.*customers start|customers_start|retained/i);
  const stamp = await readyStamp();
  await page.locator('#lapse-days').fill('90');
  await page.locator('#flow-apply').click();
  await waitReady(stamp);
  assert.equal(Number(await cardValue('lapsed_customer_share')), want.metrics.lapsed_customer_share.value);
  const stages = await page.locator('#lifecycle-table').textContent();
  assert.match(stages, /Lapsed/);
  // Back to the default window for the tests that follow (whose models refit for it).
  const again = await readyStamp();
  const models = await modelsStamp();
  await page.locator('#lapse-days').fill('180');
  await page.locator('#flow-apply').click();
  await waitReady(again);
  await waitModels(models);
});

test('future value: the sample\'s model, verdict, charts and numbers equal the package\'s', async () => {
  const sample = join(site, 'sample', 'orders.csv');
  const want = await packageFuture(sample);
  const f = want.future;
  assert.ok(await page.locator('#future-section').isVisible());
  assert.ok(await page.locator('#future-error').isHidden());
  // The model and its verdict.
  const verdict = page.locator('#future-verdict');
  assert.equal(await verdict.getAttribute('data-model'), 'bg_nbd');
  assert.match(await page.locator('#future-model-name').textContent(), /BG\/NBD/);
  assert.ok(f.holdout.done, 'the sample has a holdout check');
  assert.equal(await verdict.getAttribute('data-verdict'), f.holdout.verdict);
  const words = { trustworthy: 'trustworthy', rough: 'rough', not_enough_data: 'not enough data' };
  assert.ok((await verdict.textContent()).includes(words[f.holdout.verdict]));
  assert.ok((await verdict.textContent()).includes(f.holdout.verdict_reason));
  // The fit's parameters, as the package fits them.
  await page.locator('#future-fit summary').click();
  assert.deepEqual(await shownParams(), f.fit.params);
  assert.match(await page.locator('#future-fit').textContent(), /Log-likelihood/);
  await page.locator('#future-fit summary').click();
  // The cards, clv_simple of the report beside clv_predicted.
  for (const id of ['clv_predicted', 'expected_purchases', 'p_alive', 'value_at_risk', 'expected_order_value', 'churn_risk'])
    assert.equal(Number(await futureCard(id)), f.metrics[id].value, id);
  assert.equal(Number(await futureCard('clv_simple')), want.report.metrics.clv_simple.value);
  assert.ok(f.metrics.clv_predicted.value > 0);
  const clv = future('.card[data-metric="clv_predicted"]');
  await clv.focus();
  const detail = await page.locator('#future-clv_predicted-detail').textContent();
  assert.match(detail, /Formula: per customer: Σ over months/);
  assert.match(detail, /median = /);
  assert.match(detail, /total = /);
  assert.match(await page.locator('#future-clv_simple-detail').textContent(), /cac omitted/);
  // Non-empty charts, each with its data as a table.
  for (const id of ['chart-future-clv', 'chart-future-palive', 'chart-future-time', 'chart-future-frequency', 'chart-future-churn']) {
    assert.ok(await page.locator(`#${id}`).getAttribute('aria-label'), id);
    assert.ok(await page.locator(`#${id} svg path`).count() > 10, `${id} draws something`);
  }
  assert.equal(await page.locator('#future-clv-table tbody tr').count(), f.distributions.clv_predicted.counts.length);
  assert.equal(await page.locator('#future-palive-table tbody tr').count(), 10);
  assert.equal(await page.locator('#future-time-table tbody tr').count(), f.holdout.over_time.dates.length);
  assert.equal(await page.locator('#future-frequency-table tbody tr').count(), f.holdout.by_frequency.length);
  assert.match(await page.locator('#future-holdout').textContent(), /Actual repeat purchases/);
  assert.equal(Number(await page.locator('#future-holdout strong[data-value]').first().getAttribute('data-value')), f.holdout.actual);
  // The ranked lists.
  const top = page.locator('#future-top tbody tr');
  assert.equal(await top.count(), f.top_customers.length);
  assert.equal(await top.first().getAttribute('data-customer'), f.top_customers[0].customer_id);
  assert.equal(Number(await top.first().locator('td[data-value]').first().getAttribute('data-value')), f.top_customers[0].clv_predicted);
  const risk = page.locator('#future-risk tbody tr');
  assert.equal(await risk.count(), f.value_at_risk.length);
  assert.equal(await risk.first().getAttribute('data-customer'), f.value_at_risk[0].customer_id);
  // The churn risk parts and their weights.
  for (const p of f.churn_risk.parts)
    assert.equal(Number(await page.locator(`#future-churn-parts tr[data-part="${p.id}"]`).getAttribute('data-weight')), p.weight, p.id);
  // The customer table has the predictions, sortable: by predicted CLV its first row is the top customer.
  const head = page.locator('#customer-table thead button', { hasText: 'Predicted CLV' });
  await head.click();
  assert.equal(await page.locator('#customer-table th[aria-sort="descending"]').textContent(), 'Predicted CLV ▼');
  assert.equal(await page.locator('#customer-table tbody tr').first().locator('td').first().textContent(), f.top_customers[0].customer_id);
  await page.locator('#customer-table thead button', { hasText: 'Total spend' }).click();
});

test('future value: a longer horizon, a margin and a discount rate change the predicted CLV as the package does', async () => {
  const sample = join(site, 'sample', 'orders.csv');
  const twelve = Number(await futureCard('clv_predicted'));
  const revenue = await cardValue('revenue');
  const want = await packageFuture(sample, { horizonMonths: 24 });
  await applyFuture({ horizon: 24 });
  const twentyFour = Number(await futureCard('clv_predicted'));
  assert.equal(twentyFour, want.future.metrics.clv_predicted.value);
  assert.ok(twentyFour > twelve, `${twentyFour} > ${twelve}`);
  assert.match(await future('#future-clv-title').textContent(), /next 24 months/);
  assert.equal(await cardValue('revenue'), revenue, 'the analysis stands');
  assert.match(await page.locator('#status').textContent(), /rows read/);
  const margin = await packageFuture(sample, { horizonMonths: 24, margin: 0.3, discountRate: 0.02 });
  assert.equal(margin.future.options.margin, 0.3);
  await applyFuture({ margin: 30, discount: 2 });
  assert.equal(Number(await futureCard('clv_predicted')), margin.future.metrics.clv_predicted.value);
  // Back to the defaults for the tests that follow.
  await applyFuture({ horizon: 12, margin: 100, discount: 1 });
  assert.equal(Number(await futureCard('clv_predicted')), twelve);
});

test('future value: Pareto/NBD applied re-runs only the model; it does not fit the sample, so BG/NBD predicts and the banner says why', async () => {
  const sample = join(site, 'sample', 'orders.csv');
  const want = await packageFuture(sample, { model: 'pareto_nbd' });
  // On the sample Pareto/NBD runs off to the edge of its range (docs/models.md): the engine
  // tries BG/NBD, which holds (future.fit_attempts).
  assert.equal(want.future.model_requested, 'pareto_nbd');
  assert.deepEqual(want.future.fit_attempts.map((a) => [a.model, a.holds]), [['pareto_nbd', false], ['bg_nbd', true]]);
  const revenue = await cardValue('revenue');
  await applyFuture({ model: 'pareto_nbd' });
  assert.equal(await page.locator('#future-verdict').getAttribute('data-model'), want.future.model);
  assert.match(await page.locator('#future-model-name').textContent(), /BG\/NBD/);
  assert.match(await page.locator('#future-verdict .verdict-reason').textContent(), /^Pareto\/NBD does not fit these data \(/);
  assert.deepEqual(await shownParams(), want.future.fit.params);
  assert.equal(Number(await futureCard('clv_predicted')), want.future.metrics.clv_predicted.value);
  assert.equal(await page.locator('#future-verdict').getAttribute('data-verdict'), want.future.verdict);
  assert.equal(await cardValue('revenue'), revenue, 'the analysis stands');
  // Back to BG/NBD for the tests that follow.
  await applyFuture({ model: 'bg_nbd' });
  assert.equal(await page.locator('#future-verdict').getAttribute('data-model'), 'bg_nbd');
});

// A models worker whose every fit first holds its thread for 6 s, as a long fit on a large
// file does: the real worker (models.js?real), its message handler wrapped.
const HELD_MODELS = `import './models.js?real';
const handler = self.onmessage;
self.onmessage = (ev) => { const end = Date.now() + 6000; while (Date.now() < end); handler(ev); };
`;

test('the models fit in their own worker: the analysis is ready and usable meanwhile; a fit reports progress, stops, and refits after a re-analysis', async () => {
  const ctx = await browser.newContext({ locale: 'en-US', acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const errors = [];
  ctx.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith('blob:') && !u.startsWith('data:')) foreign.push(u);
  });
  await ctx.route((u) => u.pathname.endsWith('/models.js') && !u.search,
    (r) => r.fulfill({ contentType: 'text/javascript', body: HELD_MODELS }));
  const p = await ctx.newPage();
  p.on('pageerror', (e) => errors.push(e.message));
  p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const want = await packageFuture(join(site, 'sample', 'orders.csv'));
  await p.goto(base);
  await p.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60_000 });
  // The analysis shows, the page is not busy; the models are on their way, in their section.
  const body = () => p.evaluate(() => ({ busy: document.body.getAttribute('aria-busy'), models: document.body.dataset.modelsReady ?? '',
    section: document.getElementById('future-section').getAttribute('aria-busy') }));
  assert.deepEqual(await body(), { busy: 'false', models: '', section: 'true' });
  assert.equal(Number(await p.locator('.card[data-metric="revenue"]').getAttribute('data-value')), want.report.metrics.revenue.value);
  assert.ok(await p.locator('#future-progress-box').isVisible());
  assert.equal(await p.locator('#future-progress-text').textContent(), 'Fitting the models…');
  await p.evaluate(() => {
    window.__steps = [];
    const t = document.getElementById('future-progress-text');
    new MutationObserver(() => window.__steps.push(t.textContent)).observe(t, { childList: true, characterData: true, subtree: true });
  });
  // The customer download does not wait for the fit (the models have a thread of their own).
  const t0 = Date.now();
  const [download] = await Promise.all([p.waitForEvent('download'), p.locator('#download').click()]);
  const waited = Date.now() - t0;
  assert.ok(waited < 1000, `download started after ${waited} ms`);
  assert.match(readFileSync(await download.path(), 'utf8'), /^customer_id,/);
  assert.ok(await p.locator('#future-progress-box').isVisible(), 'still fitting');
  // Stopped: the analysis stands, the section says so, and no models result is announced.
  await p.locator('#future-cancel').click();
  assert.ok(await p.locator('#future-progress-box').isHidden());
  assert.ok(await p.locator('#future-cancelled').isVisible());
  assert.deepEqual(await body(), { busy: 'false', models: '', section: 'false' });
  // Apply fits again, in a new worker given the histories again; the steps were shown.
  await p.locator('#future-apply').click();
  assert.equal(await p.evaluate(() => document.body.getAttribute('aria-busy')), 'false');
  await waitModels('', p);
  assert.ok(await p.locator('#future-cancelled').isHidden());
  assert.equal(await p.locator('#future-verdict').getAttribute('data-verdict'), want.future.verdict);
  assert.equal(Number(await p.locator('#future-section .card[data-metric="clv_predicted"]').getAttribute('data-value')),
    want.future.metrics.clv_predicted.value);
  const steps = await p.evaluate(() => window.__steps);
  assert.ok(steps.includes('Fitting BG/NBD on every customer…'), steps.join(' | '));
  assert.ok(steps.includes('Predicting each customer…'), steps.join(' | '));
  assert.ok(steps.some((t) => /^Checking BG\/NBD against the held-back half/.test(t)), steps.join(' | '));
  // A re-analysis during a fit stops it and fits once more after: one models result.
  const ready = await p.evaluate(() => document.body.dataset.ready);
  const models = await modelsStamp(p);
  await p.evaluate(() => {
    window.__modelResults = 0;
    new MutationObserver(() => { window.__modelResults++; }).observe(document.body, { attributeFilter: ['data-models-ready'] });
  });
  await p.locator('#future-apply').click();
  await p.locator('input[name=period][value=quarter]').check();
  await p.waitForFunction((r) => document.body.dataset.ready !== r && document.body.getAttribute('aria-busy') === 'false', ready);
  await waitModels(models, p);
  // The stopped fit never reports: after another hold's length there is still one result.
  await p.waitForTimeout(6500);
  assert.equal(await p.evaluate(() => window.__modelResults), 1);
  assert.equal(await p.locator('#future-verdict').getAttribute('data-verdict'), want.future.verdict);
  // The customer table has the new predictions as columns.
  assert.match(await p.locator('#customer-table thead').textContent(), /P\(alive\)/);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('future value: orders without customer ids say why in the section, and the rest of the page works', async () => {
  const file = join(work, 'no-customers.csv');
  writeFileSync(file, 'order_id,order_date,amount\n1,2024-01-05,10\n2,2024-02-06,20\n3,2024-03-07,30\n');
  const stamp = await readyStamp();
  const models = await modelsStamp();
  await page.locator('#files').setInputFiles(file);
  await waitReady(stamp);
  assert.equal(Number(await cardValue('revenue')), 60);
  await waitModels(models);
  assert.ok(await page.locator('#future-error').isVisible());
  assert.match(await page.locator('#future-error').textContent(), /No prediction: .*customer/);
  assert.ok(await page.locator('#future-body').isHidden());
  assert.ok(await page.locator('#error').isHidden());
  // Customers, but none bought twice: no model, and the section says why rather than draw nothing.
  const once = join(work, 'one-time-buyers.csv');
  writeFileSync(once, 'order_id,customer_id,order_date,amount\n1,a,2024-01-05,10\n2,b,2024-01-06,20\n3,c,2024-03-07,30\n');
  const again = await readyStamp();
  const modelsAgain = await modelsStamp();
  await page.locator('#files').setInputFiles(once);
  await waitReady(again);
  await waitModels(modelsAgain);
  assert.ok(await page.locator('#future-error').isHidden());
  assert.match(await page.locator('#future-verdict').getAttribute('data-verdict'), /^(not_enough_data|none)$/);
  assert.equal(await futureCard('clv_predicted'), '');
  assert.match(await page.locator('#future-clv_predicted-detail').textContent(), /repeat purchase/);
  assert.ok(await page.locator('#chart-future-clv').isHidden());
  assert.ok(await page.locator('#chart-future-time').isHidden());
});

test('Online Retail (.csv.gz) dropped in: revenue, orders and customers equal the CLI', async () => {
  const want = cli(ONLINE_RETAIL);
  const stamp = await readyStamp();
  const models = await modelsStamp();
  await page.locator('#files').setInputFiles(ONLINE_RETAIL);
  await waitReady(stamp);
  assert.ok(await page.locator('#sample-banner').isHidden());
  for (const id of ['revenue', 'orders', 'customers'])
    assert.equal(Number(await cardValue(id)), want.metrics[id].value, id);
  assert.equal(Number(await cardValue('customers')), 4339);
  assert.match(await page.locator('#status').textContent(), /online-retail-dataset\.csv\.gz: 541,909 rows read/);
  // The guest share is shown: 2,190 purchases without a customer id.
  assert.match(await page.locator('#guest-share').textContent(), /2,190/);
  // No model fits Online Retail (docs/models.md): the banner says so, the model's numbers stay
  // closed behind that warning, and the churn risk score does without P(alive).
  await waitModels(models);
  assert.equal(await page.locator('#future-verdict').getAttribute('data-verdict'), 'does_not_fit');
  assert.match(await page.locator('#future-verdict').textContent(), /does not fit these data.*No model fits these data/s);
  for (const id of ['future-model-numbers', 'future-model-lists']) {
    assert.equal(await page.locator(`#${id}`).evaluate((d) => d.open), false, id);
    assert.match(await page.locator(`#${id} > summary`).textContent(), /not predictions/);
  }
  assert.ok(await page.locator('#future-cards').isHidden());
  assert.match(await page.locator('#future-churn-parts').textContent(), /does not fit/);
  await page.locator('#future-model-numbers > summary').click();
  assert.ok(await page.locator('#future-cards').isVisible(), 'shown when asked');
});

test('a changed column mapping re-reads the file and changes the numbers', async () => {
  const want = cli(ONLINE_RETAIL, '--map', 'Country=customer_id');
  const stamp = await readyStamp();
  await page.locator('#map-0-customer_id').selectOption({ label: 'Country' });
  await waitReady(stamp);
  const customers = Number(await cardValue('customers'));
  assert.equal(customers, want.metrics.customers.value);
  assert.ok(customers < 100, `customers are countries now: ${customers}`);
});

test('the period switch recomputes the series', async () => {
  const stamp = await readyStamp();
  await page.locator('input[name=period][value=quarter]').check();
  await waitReady(stamp);
  assert.match(await page.locator('#series-title').textContent(), /Revenue by Quarter/);
  assert.match(await page.locator('#series-table').textContent(), /2011-Q1/);
});

test('the language switch shows the page in Chinese, numbers formatted for it', async () => {
  await page.locator('#lang').selectOption('zh-CN');
  assert.equal(await page.locator('#kpis-title').textContent(), '指标');
  assert.equal(await page.locator('.card[data-metric="revenue"] .name').textContent(), '收入');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
  await page.locator('#lang').selectOption('en');
  assert.equal(await page.locator('#kpis-title').textContent(), 'Indicators');
});

test('a GBK export from a Chinese shop: detected, previewed, and the numbers of its UTF-8 twin', async () => {
  const gbk = join(root, 'tests', 'data', 'encoding', 'cn_shop_orders.gbk.csv');
  const want = cli(join(root, 'tests', 'data', 'encoding', 'cn_shop_orders.utf8.csv'));
  const stamp = await readyStamp();
  await page.locator('#files').setInputFiles(gbk);
  await waitReady(stamp);
  for (const id of ['revenue', 'orders', 'customers'])
    assert.equal(Number(await cardValue(id)), want.metrics[id].value, id);
  assert.match(await page.locator('#status').textContent(), /GB18030 \(detected\)/);
  const reading = await page.locator('#reading').textContent();
  assert.match(reading, /GB18030 \(detected\)/);
  assert.ok(reading.includes('T2024082001,张伟,2024年8月20日'), 'the decoded preview');
  assert.ok((await page.locator('#customer-table').textContent()).includes('张伟'));
});

test('the Telco churn export is read as a customers table: churned share 26.5%, and what needs dates says so', async () => {
  const telco = join(shared, 'data', 'Telco-Customer-Churn.csv.gz');
  const stamp = await readyStamp();
  await page.locator('#files').setInputFiles(telco);
  await waitReady(stamp);
  assert.equal(Number(await cardValue('churned_share')), 1869 / 7043);
  assert.match(await page.locator('.card[data-metric="churned_share"] .value').textContent(), /26\.5%/);
  assert.match(await page.locator('#metric-retention_rate-detail').textContent(), /needs signup and end dates/);
  // Its header says so: the reading block gives the classification's reasons.
  assert.match(await page.locator('#reading').textContent(),
    /Table: customers \(CRM, subscriptions\) \(orders: no order_date, amount; customers: 5 of 21 columns \(customer_id, /);
});

test('user text is shown as text: XSS payloads, bidi controls; the download escapes formulas', async () => {
  const evil = join(work, 'evil.csv');
  writeFileSync(evil, [
    'order_id,customer_id,order_date,amount',
    '1,<img src=x onerror=alert(1)>,2024-01-05,10',
    '2,</script><script>alert(2)</script>,2024-01-06,20',
    '3,javascript:alert(3),2024-01-07,30',
    '4,"=HYPERLINK(""http://x?""&A1,""a"")",2024-01-08,40',
    '5,abc\u202Edef,2024-01-09,50',
    '',
  ].join('\n'));
  const stamp = await readyStamp();
  await page.locator('#files').setInputFiles(evil);
  await waitReady(stamp);
  const table = page.locator('#customer-table');
  const text = await table.textContent();
  assert.ok(text.includes('<img src=x onerror=alert(1)>'));
  assert.ok(text.includes('</script><script>alert(2)</script>'));
  assert.ok(text.includes('javascript:alert(3)'));
  assert.ok(text.includes('abc<U+202E>def'), 'the bidi override is made visible');
  assert.equal(await table.locator('img, script, a').count(), 0);
  assert.deepEqual(dialogs, []);

  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
  const csv = readFileSync(await download.path(), 'utf8');
  const lines = csv.trimEnd().split('\r\n');
  assert.equal(lines.length, 1 + 5);
  assert.match(lines[0], /^customer_id,first_purchase,last_purchase,orders,total_spend/);
  assert.ok(lines.some((l) => l.startsWith('"\'=HYPERLINK(""http://x?""&A1,""a"")",')), 'formula cell prefixed');
  assert.ok(lines.some((l) => l.startsWith('"<img src=x onerror=alert(1)>",')));
});

test('a drop with a file that cannot be read: that file is named with its reason, the others are analysed', async () => {
  const good = join(work, 'drop-good.csv');
  writeFileSync(good, 'order_id,customer_id,order_date,amount\n1,a,2024-01-05,10\n2,b,2024-02-06,32.5\n');
  const workbook = join(work, 'drop-book.csv');  // an Excel workbook renamed .csv
  writeFileSync(workbook, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(200, 7)]));
  const noAmount = join(work, 'drop-no-amount.csv');
  writeFileSync(noAmount, 'note,comment\nhello,world\n');
  const stamp = await readyStamp();
  await page.locator('#files').setInputFiles([workbook, good, noAmount]);
  await waitReady(stamp);
  assert.equal(Number(await cardValue('revenue')), 42.5);
  assert.match(await page.locator('#status').textContent(), /drop-good\.csv/);
  const error = await page.locator('#error').textContent();
  assert.match(error, /Could not read drop-book\.csv: This is an Excel workbook/);
  assert.match(error, /Could not read drop-no-amount\.csv: .*/);
  assert.equal(error.split('\n').length, 2);
  assert.equal(await page.locator('#reading [data-refused]').count(), 2);
});

test('a file the reader refuses can be read again with other options (backslash escapes)', async () => {
  const file = join(work, 'mysql-export.csv');
  writeFileSync(file, 'order_id,customer_id,order_date,amount\n1,"O\\"Brien",2024-01-05,10\n2,"Lee",2024-01-06,20\n');
  await page.locator('#files').setInputFiles(file);
  await page.waitForFunction(() => !document.getElementById('error').hidden, null, { timeout: 30_000 });
  assert.match(await page.locator('#error').textContent(), /mysql-export\.csv.*line 2/);
  const stamp = await readyStamp();
  await page.locator('#opt-0-escape').selectOption('backslash');
  await page.locator('#read-again').click();
  await waitReady(stamp);
  assert.equal(Number(await cardValue('customers')), 2);
  assert.ok((await page.locator('#customer-table').textContent()).includes('O"Brien'));
  assert.equal(await page.locator('#opt-0-escape').inputValue(), 'backslash');
});

test('the poisoned __proto__ header is data: an error that names it, no prototype changed', async () => {
  const stamp = await readyStamp();
  await page.locator('#files').setInputFiles(POISONED);
  await page.waitForFunction(() => !document.getElementById('error').hidden, null, { timeout: 30_000 });
  assert.match(await page.locator('#error').textContent(), /__proto__, toString, valueOf, __proto___1/);
  assert.equal(await page.evaluate(() => Object.keys(Object.prototype).length), 0);
  // The previous analysis is still shown, and the next file loads normally.
  assert.equal(await readyStamp(), stamp);
  await page.locator('#files').setInputFiles(join(site, 'sample', 'orders.csv'));
  await waitReady(stamp);
  assert.ok(await page.locator('#error').isHidden());
});

test('cancel stops a load and keeps the previous analysis', async () => {
  const before = await cardValue('revenue');
  await page.locator('#files').setInputFiles(ONLINE_RETAIL);
  await page.locator('#cancel').click();
  await page.waitForFunction(() => document.body.getAttribute('aria-busy') === 'false');
  assert.match(await page.locator('#status').textContent(), /Cancelled/);
  assert.equal(await cardValue('revenue'), before);
  // The page still works after a cancel.
  const stamp = await readyStamp();
  await page.locator('input[name=period][value=month]').check();
  await waitReady(stamp);
});

test('every corpus file (bad-input row 39): an analysis or an error naming the file, never a hang', async () => {
  const files = [];
  for (const dir of ['csv-spectrum/csvs', 'weird'])
    for (const f of readdirSync(join(shared, 'corpus', dir)).sort())
      if (f.endsWith('.csv')) files.push(join(shared, 'corpus', dir, f));
  assert.ok(files.length >= 40, `corpus files: ${files.length}`);
  let analysed = 0, refused = 0;
  for (const file of files) {
    const stamp = await readyStamp();
    await page.locator('#files').setInputFiles(file);
    await page.waitForFunction((p) => document.body.getAttribute('aria-busy') === 'false' &&
      (document.body.dataset.ready !== p || !document.getElementById('error').hidden), stamp, { timeout: 30_000 });
    if (await page.locator('#error').isVisible()) {
      refused++;
      assert.ok((await page.locator('#error').textContent()).includes(basename(file)), file);
    } else {
      analysed++;
      assert.ok((await page.locator('#status').textContent()).includes(basename(file)), file);
    }
  }
  // The corpus files are CSV conformance cases, not order exports: most lack an order date or
  // an amount column, and are refused with that said; none may hang or break the page.
  assert.equal(analysed + refused, files.length);
  const stamp = await readyStamp();
  await page.locator('#files').setInputFiles(join(site, 'sample', 'orders.csv'));
  await waitReady(stamp);
});

test('the whole run: nothing sent elsewhere, no CSP violation, no console error', async () => {
  assert.deepEqual(foreign, []);
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
  assert.deepEqual(consoleErrors, []);
});

test('accessibility: axe-core finds no serious or critical violation, in either language', async () => {
  // axe is injected as a script, which the page's own policy (rightly) forbids: a separate
  // context without CSP runs it.
  const ctx = await browser.newContext({ bypassCSP: true, locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
  const p = await ctx.newPage();
  await p.goto(base);
  await p.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60_000 });
  await waitModels('', p);
  await p.addScriptTag({ path: join(root, 'node_modules', 'axe-core', 'axe.min.js') });
  // The Future value section, its details opened, is checked with the rest.
  assert.ok(await p.locator('#future-section').isVisible());
  assert.ok(await p.locator('#future-cards .card').count() > 0);
  await p.evaluate(() => document.querySelectorAll('#future-section details').forEach((d) => { d.open = true; }));
  for (const lang of ['zh-CN', 'en']) {
    await p.locator('#lang').selectOption(lang);
    const res = await p.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
    assert.deepEqual(bad, [], lang);
  }
  await ctx.close();
});

test('the data sets the test needs are there', () => {
  assert.ok(existsSync(ONLINE_RETAIL));
  assert.ok(existsSync(POISONED));
});
