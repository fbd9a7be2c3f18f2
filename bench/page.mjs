// The page with a large file, in headless Chromium (docs/benchmarks.md, "The page with a
// large file"): the file is dropped in (setInputFiles), then the times until the indicators
// show (body[data-ready]) and until the models show (body[data-models-ready]), and, while the
// models fit, how long the customer CSV download takes to start: download_csv_ready_s from the
// click until the page has the CSV as a Blob and clicks its link, download_start_s until the
// browser reports the download (it reads the Blob first).
//
// usage: node bench/page.mjs FILE.csv [--reps 3] [--model bg_nbd] [--site DIR]
// Builds the site into a temporary folder unless --site is given. Prints one JSON line per rep.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../scripts/serve.mjs';
import { cliArgs } from './args.mjs';

const { file, opt } = cliArgs('node bench/page.mjs FILE.csv [--reps 3] [--model bg_nbd] [--site DIR]');
const reps = Number(opt('--reps', 3));
const model = opt('--model', 'bg_nbd');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let site = opt('--site', null);
const temporary = !site;
if (temporary) {
  site = mkdtempSync(join(tmpdir(), 'custlens-bench-site-'));
  execFileSync(process.execPath, [join(root, 'scripts', 'build-site.mjs'), site], { stdio: 'ignore' });
}
const server = await serve(site, 0, '127.0.0.1');
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
});
const s = (ms) => Number((ms / 1000).toFixed(3));

for (let rep = 1; rep <= reps; ++rep) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(base);
  await page.waitForFunction(() => document.body.dataset.ready && document.body.dataset.modelsReady, null, { timeout: 120_000 });
  if (model !== 'bg_nbd') {
    const m = await page.evaluate(() => document.body.dataset.modelsReady);
    await page.locator('#future-model').selectOption(model);
    await page.locator('#future-apply').click();
    await page.waitForFunction((p) => document.body.dataset.modelsReady !== p, m, { timeout: 120_000 });
  }
  const before = await page.evaluate(() => ({ ready: document.body.dataset.ready, models: document.body.dataset.modelsReady }));
  const t0 = Date.now();
  await page.locator('#files').setInputFiles(file);
  await page.waitForFunction((p) => document.body.dataset.ready !== p && document.body.getAttribute('aria-busy') === 'false',
    before.ready, { timeout: 1_800_000, polling: 20 });
  const ready = Date.now() - t0;
  // The download while the models fit.
  const fitting = await page.evaluate(() => document.getElementById('future-section').classList.contains('fitting'));
  // When the page has the CSV as a Blob and clicks its link (performance.now() in the page),
  // and when the browser starts the download.
  await page.evaluate(() => {
    window.__linkAt = null;
    new MutationObserver((list) => {
      for (const m of list) for (const n of m.addedNodes) if (n.tagName === 'A' && n.download) window.__linkAt ??= performance.now();
    }).observe(document.body, { childList: true });
    window.__clickAt = null;
    document.getElementById('download').addEventListener('click', () => { window.__clickAt = performance.now(); }, { capture: true, once: true });
  });
  const t1 = Date.now();
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 600_000 }), page.locator('#download').click()]);
  const downloadStart = Date.now() - t1;
  const blobReady = await page.evaluate(() => window.__linkAt - window.__clickAt);
  const stillFitting = await page.evaluate(() => document.getElementById('future-section').classList.contains('fitting'));
  await download.delete();
  await page.waitForFunction((p) => document.body.dataset.modelsReady !== p, before.models, { timeout: 1_800_000, polling: 20 });
  const models = Date.now() - t0;
  const verdict = await page.locator('#future-verdict').getAttribute('data-verdict');
  console.log(JSON.stringify({
    rep, file, model, ready_s: s(ready), models_s: s(models), download_csv_ready_s: s(blobReady), download_start_s: s(downloadStart),
    fitting_at_download: fitting, fitting_after_download: stillFitting, verdict,
  }));
  await context.close();
}
await browser.close();
server.close();
if (temporary) rmSync(site, { recursive: true, force: true });
