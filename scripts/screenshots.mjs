// Screenshots of the sample page (its top, the customer-flow and the future-value sections) in
// English and Chinese for docs/screenshots/ (look at them
// after a change to the page). Needs the built site: node scripts/build-site.mjs first.
// usage: node scripts/screenshots.mjs [OUT_DIR]
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ?? join(root, 'docs', 'screenshots');
mkdirSync(out, { recursive: true });
const server = await serve(join(root, 'build', 'site'), 0, '127.0.0.1');
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
for (const [locale, name] of [['en-US', 'page-en.png'], ['zh-CN', 'page-zh.png']]) {
  const page = await browser.newPage({ locale, viewport: { width: 1280, height: 1500 } });
  await page.goto(base);
  // The analysis, then the models (their own worker): both on the page.
  await page.waitForFunction(() => document.body.dataset.ready && document.body.dataset.modelsReady, null, { timeout: 60_000 });
  await page.locator('.card[data-metric="aov"]').focus(); // shows a formula, as hover would
  await page.screenshot({ path: join(out, name) });
  console.log(join(out, name));
  const flow = name.replace('page-', 'flow-');
  await page.locator('#flow-section').screenshot({ path: join(out, flow) });
  console.log(join(out, flow));
  // Future value, with the model fit opened (parameters, log-likelihood).
  const future = name.replace('page-', 'future-');
  await page.locator('#future-fit summary').click();
  await page.locator('#future-section').screenshot({ path: join(out, future) });
  console.log(join(out, future));
  await page.close();
}
await browser.close();
server.close();
